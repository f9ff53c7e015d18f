// Compiles one moderation term into an RE2 pattern over the prompt skeleton (see normalize.ts), and validates
// moderator-supplied regexes. Everything here is RE2 syntax: matching is linear-time whatever the input.
import { RE2JS } from 're2js';
import { HARD, SOFT, termWords } from './normalize.ts';
import type { LiteralKind } from './types.ts';

// Which skeleton characters can stand for a letter of a term (leetspeak). A term typed with leetspeak is read the
// same way: "n00d" is n, o, o, d. "1" may be an i or an l, so as a term character it accepts either.
const CLASS_OF: Readonly<Record<string, string>> = {
  a: '[a4@]', '4': '[a4@]', '@': '[a4@]',
  e: '[e3]', '3': '[e3]',
  i: '[i1]', l: '[l1]', '1': '[il1]',
  o: '[o0]', '0': '[o0]',
  s: '[s5$]', '5': '[s5$]', $: '[s5$]',
  t: '[t7]', '7': '[t7]',
};

const SEP = `[${HARD}${SOFT}]`;
const INNER = `${SOFT}?`; // a spelled-out or punctuated word may have a soft separator between any two letters
// Scripts written without spaces between words: a term in them matches anywhere, not as a whole word.
const RE_UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

function classOf(c: string): string {
  return CLASS_OF[c] ?? RE2JS.quote(c);
}

/**
 * A run of n copies of one letter in the term matches exactly n copies in the prompt, or any run of 3 or more that
 * is at least n long. Stretching a word out ("nuuuude") is caught, while "ass" does not match "as" and "god" does
 * not match "good".
 */
function runPattern(cls: string, n: number): string {
  const more = `(?:${INNER}${cls})`;
  if (n >= 3) return `${cls}${more}{${n - 1},}`;
  const exact = n === 1 ? cls : `${cls}${more}`;
  return `${exact}(?:${more}{${3 - n},})?`;
}

function wordPattern(word: string): string {
  const runs: Array<{ cls: string; n: number }> = [];
  for (const c of word) {
    const cls = classOf(c);
    const last = runs[runs.length - 1];
    if (last && last.cls === cls) last.n++;
    else runs.push({ cls, n: 1 });
  }
  return runs.map((r) => runPattern(r.cls, r.n)).join(INNER);
}

export type LiteralPattern = { ok: true; pattern: string } | { ok: false; reason: string };

/**
 * word / phrase: whole words, any spacing or punctuation between the words of a phrase (also none: "bloodbath").
 * prefix / suffix / substring: AutoMod's `cat*`, `*cat`, `*cat*`.
 */
export function literalPattern(term: string, kind: LiteralKind): LiteralPattern {
  const words = termWords(term);
  if (words.length === 0) return { ok: false, reason: 'the term has no letters or digits' };
  const unspaced = RE_UNSPACED_SCRIPT.test(words.join(''));
  // "c++" normalises to "c": a one-letter term would block every spelled-out word and initial.
  if (!unspaced && [...words.join('')].length < 2) return { ok: false, reason: 'the term is a single letter or digit after normalisation' };
  const body = words.map(wordPattern).join(`${SEP}?`);
  const start = !unspaced && (kind === 'word' || kind === 'phrase' || kind === 'prefix') ? SEP : '';
  const end = !unspaced && (kind === 'word' || kind === 'phrase' || kind === 'suffix') ? SEP : '';
  return { ok: true, pattern: `${start}${body}${end}` };
}

export const MAX_REGEX_LENGTH = 500;

export type RegexCheck = { ok: true; regex: RE2JS } | { ok: false; reason: string };

/**
 * Rust regex syntax that RE2 would read differently instead of refusing: nested classes and class set operations
 * (`[a-z&&[^aeiou]]`, `--`, `~~`). Returns a description, or null when the pattern has none.
 */
function rustOnlySyntax(pattern: string): string | null {
  let inClass = false;
  let classStart = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') { i++; continue; }
    if (!inClass) {
      if (c === '[') {
        inClass = true;
        classStart = i;
        if (pattern[i + 1] === '^') i++;
        if (pattern[i + 1] === ']') i++; // a leading ] is a literal
      }
      continue;
    }
    if (c === '[' && pattern[i + 1] === ':') {
      const close = pattern.indexOf(':]', i + 2);
      if (close > 0) { i = close + 1; continue; }
    }
    if (c === '[') return `nested character class at position ${i}`;
    const pair = pattern.slice(i, i + 2);
    if ((pair === '&&' || pair === '--' || pair === '~~') && i > classStart + 1) return `character class set operation "${pair}" at position ${i}`;
    if (c === ']') inClass = false;
  }
  return null;
}

const EMPTY_PROBES = ['', ' ', 'a', 'a b', 'an ordinary prompt, 4k, 1990s'];

/** True when the pattern has an empty match in some ordinary text (`x*`, `\b`, `a|`). */
function matchesEmpty(regex: RE2JS): boolean {
  return EMPTY_PROBES.some((probe) => {
    const m = regex.matcher(probe);
    for (let from = 0; from <= probe.length && m.find(from); from = Math.max(m.end(), m.start() + 1)) {
      if (m.start() === m.end()) return true;
    }
    return false;
  });
}

/** Validates and compiles a regex term (case-insensitive). Patterns that match an empty prompt are refused. */
export function compileRegexTerm(pattern: string): RegexCheck {
  if (pattern.trim().length === 0) return { ok: false, reason: 'the pattern is empty' };
  if (pattern.length > MAX_REGEX_LENGTH) return { ok: false, reason: `the pattern is longer than ${MAX_REGEX_LENGTH} characters` };
  const rust = rustOnlySyntax(pattern);
  if (rust) return { ok: false, reason: `unsupported syntax: ${rust}` };
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    return { ok: false, reason: `invalid pattern: ${(err as Error).message}` };
  }
  if (matchesEmpty(regex)) return { ok: false, reason: 'the pattern can match empty text, so it would block almost every prompt' };
  return { ok: true, regex };
}
