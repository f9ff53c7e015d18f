// Turns a prompt into the forms the matchers run on, keeping a map back to the original so the user can be shown
// exactly which part of their prompt matched.
//
// The "skeleton" (for word / phrase / wildcard terms) is the prompt NFKC-normalised, case-folded, stripped of
// diacritics, zero-width and control characters, with look-alike letters folded and every word separated by one of
// two separator characters:
//   ' ' (HARD) between ordinary words, and
//   '_' (SOFT) where a separator probably splits one word: between the letters of a run of single characters
//       ("n u d e", "n.u.d.e") and for punctuation squeezed between two letters with no space ("nu-de", "nu*de").
// Leetspeak digits and @/$ stay as they are in the skeleton; term patterns accept them through character classes
// (see termPattern.ts), which sidesteps the "is 1 an i or an l" ambiguity. The skeleton is padded with HARD on both
// sides so patterns can require a separator at word boundaries without anchors.
//
// Regex terms are written by people for plain text, so they run instead on the "regex forms": a light form (folded
// text with its punctuation, no leetspeak) and plain variants (soft separators joined, leetspeak decoded both ways for
// 1, runs of 3+ repeated letters collapsed to one and to two).
import { LATIN_FOLDS, SCRIPT_HOMOGLYPHS } from './homoglyphs.ts';

export const HARD = ' ';
export const SOFT = '_';

/** Text in a matching form; starts[j]/ends[j] give the original UTF-16 range that produced text[j]. */
export interface MappedText {
  text: string;
  starts: number[];
  ends: number[];
}

type UnitKind = 'letter' | 'digit' | 'symbol' | 'space' | 'hardPunct' | 'softPunct';

/** One character of the normalised stream (a code point can expand into several: "ﬁ" -> f, i). */
interface Unit {
  kind: UnitKind;
  /** Lower-case form with look-alikes from other scripts left alone. */
  plain: string;
  /** Lower-case form with Cyrillic/Greek look-alikes folded to Latin. */
  folded: string;
  homoglyph: boolean;
  latin: boolean;
  start: number;
  end: number;
}

interface Token {
  units: Unit[];
  sepBefore: Unit[];
  text: string;
  fold: boolean;
}

// Punctuation that structures a prompt ("a, b", "(masterpiece:1.2)", "and/or"): never read as splitting a word.
const HARD_PUNCT = new Set([',', ';', ':', '(', ')', '[', ']', '{', '}', '<', '>', '|', '!', '?', '"', '/', '\\', '、', '。', '«', '»', '“', '”', '„']);
const LEET: Readonly<Record<string, string>> = { '0': 'o', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };

const RE_FORMAT = /^[\p{Cf}\p{M}]$/u; // zero-width, bidi, soft hyphen, variation selectors, stray combining marks
const RE_SPACE = /^[\s\p{Cc}]$/u;
const RE_MARKS = /\p{M}/gu;
const RE_LETTER = /^\p{L}$/u;
const RE_DIGIT = /^\p{N}$/u;
const RE_LATIN = /^\p{Script=Latin}$/u;
const RE_HAS_LETTER = /\p{L}/u;

function stripMarks(s: string): string {
  return s.normalize('NFD').replace(RE_MARKS, '');
}

function lower(c: string): string {
  if (c === 'ς') return 'σ'; // full case folding of final sigma
  return stripMarks(c.toLowerCase()); // "İ".toLowerCase() is i + combining dot
}

function classify(c: string, start: number, end: number, out: Unit[]): void {
  if (RE_SPACE.test(c)) {
    out.push({ kind: 'space', plain: ' ', folded: ' ', homoglyph: false, latin: false, start, end });
  } else if (RE_LETTER.test(c)) {
    const latinFold = LATIN_FOLDS[c];
    if (latinFold !== undefined) {
      for (const f of latinFold) out.push({ kind: 'letter', plain: f, folded: f, homoglyph: false, latin: true, start, end });
      return;
    }
    const plain = lower(c);
    const look = SCRIPT_HOMOGLYPHS[c];
    out.push({ kind: 'letter', plain, folded: look ?? plain, homoglyph: look !== undefined, latin: RE_LATIN.test(c), start, end });
  } else if (RE_DIGIT.test(c)) {
    out.push({ kind: 'digit', plain: c, folded: c, homoglyph: false, latin: false, start, end });
  } else if (c === '@' || c === '$') {
    out.push({ kind: 'symbol', plain: c, folded: c, homoglyph: false, latin: false, start, end });
  } else {
    const kind = HARD_PUNCT.has(c) ? 'hardPunct' : 'softPunct';
    out.push({ kind, plain: c, folded: c, homoglyph: false, latin: false, start, end });
  }
}

/** Splits the original into normalised units, one code point at a time so every unit knows where it came from. */
function analyse(original: string): Unit[] {
  const units: Unit[] = [];
  let i = 0;
  for (const cp of original) {
    const start = i;
    const end = i + cp.length;
    i = end;
    if (RE_FORMAT.test(cp)) continue;
    // NFKC first (fullwidth, ligatures, math alphanumerics, circled letters), then NFD to drop diacritics.
    for (const c of stripMarks(cp.normalize('NFKC'))) classify(c, start, end, units);
  }
  return units;
}

function isWordUnit(u: Unit): boolean {
  return u.kind === 'letter' || u.kind === 'digit' || u.kind === 'symbol';
}

/**
 * Look-alikes are folded only in a word that also has Latin letters ("nudе" with a Cyrillic е) or that consists only
 * of look-alikes ("ηυ" ...); a Russian or Greek word with letters that have no Latin twin is left alone.
 */
function shouldFold(units: Unit[]): boolean {
  let letters = 0;
  let looks = 0;
  let latin = false;
  for (const u of units) {
    if (u.kind !== 'letter') continue;
    letters++;
    if (u.homoglyph) looks++;
    if (u.latin) latin = true;
  }
  return looks > 0 && (latin || looks === letters);
}

function tokenize(units: Unit[]): { tokens: Token[]; trailing: Unit[] } {
  const tokens: Token[] = [];
  let sep: Unit[] = [];
  let current: Unit[] | null = null;
  const finish = (): void => {
    if (!current) return;
    const fold = shouldFold(current);
    tokens.push({ units: current, sepBefore: sep, text: current.map((u) => (fold ? u.folded : u.plain)).join(''), fold });
    sep = [];
    current = null;
  };
  for (const u of units) {
    if (isWordUnit(u)) {
      current ??= [];
      current.push(u);
    } else {
      finish();
      sep.push(u);
    }
  }
  finish();
  return { tokens, trailing: sep };
}

/** For each token boundary k (between token k-1 and k), whether it is SOFT. */
function softBoundaries(tokens: Token[]): boolean[] {
  const soft = tokens.map((t, k) => k > 0 && t.sepBefore.every((u) => u.kind === 'softPunct'));
  // Runs of two or more single-character tokens, at least one a letter, are one spelled-out word ("n u d e").
  // A run never swallows a longer neighbour, so "a cat" stays two words.
  let k = 0;
  while (k < tokens.length) {
    if ([...tokens[k]!.text].length !== 1) { k++; continue; }
    let j = k;
    while (j + 1 < tokens.length && [...tokens[j + 1]!.text].length === 1) j++;
    if (j > k && tokens.slice(k, j + 1).some((t) => RE_HAS_LETTER.test(t.text))) {
      for (let m = k + 1; m <= j; m++) soft[m] = true;
    }
    k = j + 1;
  }
  return soft;
}

class MappedBuilder {
  private readonly chars: string[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  push(text: string, start: number, end: number): void {
    for (let i = 0; i < text.length; i++) {
      this.chars.push(text[i]!);
      this.starts.push(start);
      this.ends.push(end);
    }
  }

  lastChar(): string | undefined {
    return this.chars[this.chars.length - 1];
  }

  build(): MappedText {
    return { text: this.chars.join(''), starts: this.starts, ends: this.ends };
  }
}

function buildSkeleton(tokens: Token[], length: number): MappedText {
  const soft = softBoundaries(tokens);
  const b = new MappedBuilder();
  b.push(HARD, 0, 0);
  tokens.forEach((t, k) => {
    if (k > 0) {
      const first = t.sepBefore[0];
      b.push(soft[k] ? SOFT : HARD, first?.start ?? t.units[0]!.start, first?.end ?? t.units[0]!.start);
    }
    for (const u of t.units) b.push(t.fold ? u.folded : u.plain, u.start, u.end);
  });
  b.push(HARD, length, length);
  return b.build();
}

function buildLight(tokens: Token[], trailing: Unit[]): MappedText {
  const b = new MappedBuilder();
  const pushSep = (units: Unit[]): void => {
    for (const u of units) {
      if (u.kind === 'space') {
        if (b.lastChar() !== ' ') b.push(' ', u.start, u.end);
      } else b.push(u.plain, u.start, u.end);
    }
  };
  for (const t of tokens) {
    pushSep(t.sepBefore);
    for (const u of t.units) b.push(t.fold ? u.folded : u.plain, u.start, u.end);
  }
  pushSep(trailing);
  return b.build();
}

/** Joins soft-separated pieces and decodes leetspeak (in words that have a letter; "1990" stays a number). */
function decodeLeet(skeleton: MappedText, one: 'i' | 'l'): MappedText {
  const b = new MappedBuilder();
  const { text, starts, ends } = skeleton;
  // The skeleton's padding is dropped so that ^ and $ in a moderator's regex mean the start and end of the prompt.
  let i = 0;
  while (i < text.length) {
    if (text[i] === HARD) {
      if (i > 0 && i < text.length - 1) b.push(HARD, starts[i]!, ends[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && text[j] !== HARD) j++;
    const decode = RE_HAS_LETTER.test(text.slice(i, j));
    for (let k = i; k < j; k++) {
      const c = text[k]!;
      if (c === SOFT) continue;
      const d = decode ? (c === '1' ? one : LEET[c] ?? c) : c;
      b.push(d, starts[k]!, ends[k]!);
    }
    i = j;
  }
  return b.build();
}

/** Collapses every run of 3+ identical characters to `keep` of them ("gooooore" -> "gore" / "goore"). */
function collapseRuns(m: MappedText, keep: 1 | 2): MappedText {
  const b = new MappedBuilder();
  const { text, starts, ends } = m;
  let i = 0;
  while (i < text.length) {
    let j = i;
    while (j + 1 < text.length && text[j + 1] === text[i]) j++;
    const run = j - i + 1;
    const n = run >= 3 && text[i] !== HARD ? keep : run;
    for (let k = 0; k < n; k++) b.push(text[i]!, starts[i + k]!, ends[i + k]!);
    i = j + 1;
  }
  return b.build();
}

function plainVariants(skeleton: MappedText): MappedText[] {
  const bases = [decodeLeet(skeleton, 'i')];
  if (skeleton.text.includes('1')) bases.push(decodeLeet(skeleton, 'l'));
  const out: MappedText[] = [];
  for (const base of bases) {
    out.push(base);
    if (/(.)\1\1/u.test(base.text)) out.push(collapseRuns(base, 1), collapseRuns(base, 2));
  }
  return out;
}

/** A prompt field prepared for matching. Regex forms are built only when a regex term needs them. */
export class PreparedText {
  private regexFormsCache: MappedText[] | undefined;

  private constructor(
    readonly original: string,
    readonly skeleton: MappedText,
    private readonly makeRegexForms: () => MappedText[],
  ) {}

  static from(original: string): PreparedText {
    const { tokens, trailing } = tokenize(analyse(original));
    const skeleton = buildSkeleton(tokens, original.length);
    return new PreparedText(original, skeleton, () => dedupe([buildLight(tokens, trailing), ...plainVariants(skeleton)]));
  }

  get regexForms(): MappedText[] {
    this.regexFormsCache ??= this.makeRegexForms();
    return this.regexFormsCache;
  }

  /** The original text behind [from, to) of one of this text's forms, without the separators around it. */
  originalSlice(form: MappedText, from: number, to: number): string {
    while (from < to && (form.text[from] === HARD || form.text[from] === SOFT)) from++;
    while (to > from && (form.text[to - 1] === HARD || form.text[to - 1] === SOFT)) to--;
    if (from >= to) return '';
    return this.original.slice(form.starts[from], form.ends[to - 1]);
  }

  /** The original range behind [from, to) of one of this text's forms. */
  originalRange(form: MappedText, from: number, to: number): [number, number] {
    return [form.starts[from]!, form.ends[Math.max(from, to - 1)]!];
  }

  /** A copy in which every character that came from inside one of the original ranges is blanked out (HARD). */
  masked(ranges: ReadonlyArray<readonly [number, number]>): PreparedText {
    if (ranges.length === 0) return this;
    const blank = (m: MappedText): MappedText => {
      let text = '';
      for (let j = 0; j < m.text.length; j++) {
        const start = m.starts[j]!;
        const end = m.ends[j]!;
        const inside = ranges.some(([s, e]) => start >= s && end <= e && end > start);
        text += inside ? HARD : m.text[j];
      }
      return { text, starts: m.starts, ends: m.ends };
    };
    return new PreparedText(this.original, blank(this.skeleton), () => this.regexForms.map(blank));
  }
}

function dedupe(forms: MappedText[]): MappedText[] {
  const seen = new Set<string>();
  return forms.filter((f) => !seen.has(f.text) && seen.add(f.text));
}

/** The skeleton words of a term as a moderator typed it (its own separators all count as word breaks). */
export function termWords(term: string): string[] {
  return PreparedText.from(term).skeleton.text.split(/[ _]+/u).filter((w) => w.length > 0);
}
