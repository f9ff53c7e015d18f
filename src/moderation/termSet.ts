// A compiled group of terms. One RE2Set pass over the prompt says which terms match (linear in the prompt length,
// whatever the number of terms); only those terms are then run alone to find where they matched.
import { RE2JS, RE2Set } from 're2js';
import type { MappedText, PreparedText } from './normalize.ts';
import { compileRegexTerm, literalPattern } from './termPattern.ts';
import type { LiteralKind, TermProblem, TermSpec } from './types.ts';

export interface TermHit {
  spec: TermSpec;
  /** The matched part of the original text. */
  matchedText: string;
  /** Its range in the original text. */
  range: [number, number];
}

/** Terms of one family (literal terms over the skeleton, or regex terms over the regex forms). */
class Family {
  private readonly set: RE2Set;
  private readonly patterns: string[] = [];
  // Compiled on first use: most terms never match, and compiling each alone costs as much as the whole set.
  private readonly regexes: Array<RE2JS | undefined> = [];
  private readonly specs: TermSpec[] = [];

  constructor(private readonly flags: number) {
    this.set = new RE2Set(RE2Set.UNANCHORED, flags);
  }

  add(spec: TermSpec, pattern: string, regex?: RE2JS): void {
    this.set.add(pattern);
    this.patterns.push(pattern);
    this.regexes.push(regex);
    this.specs.push(spec);
  }

  private regex(index: number): RE2JS {
    let regex = this.regexes[index];
    if (!regex) {
      regex = RE2JS.compile(this.patterns[index]!, this.flags);
      this.regexes[index] = regex;
    }
    return regex;
  }

  get size(): number {
    return this.specs.length;
  }

  compile(): void {
    if (this.size > 0) this.set.compile();
  }

  /** For each matching term, its leftmost match in `form`. */
  hits(text: PreparedText, form: MappedText): TermHit[] {
    if (this.size === 0) return [];
    const out: TermHit[] = [];
    for (const index of this.set.match(form.text)) {
      const m = this.regex(index).matcher(form.text);
      if (!m.find()) continue;
      out.push(this.hit(text, form, index, m.start(), m.end()));
    }
    return out;
  }

  /** Every match of every term in `form` (for allowlist masking). */
  allRanges(text: PreparedText, form: MappedText): Array<[number, number]> {
    if (this.size === 0) return [];
    const out: Array<[number, number]> = [];
    for (const index of this.set.match(form.text)) {
      const m = this.regex(index).matcher(form.text);
      let from = 0;
      while (from <= form.text.length && m.find(from)) {
        out.push(this.hit(text, form, index, m.start(), m.end()).range);
        // Literal patterns consume the separator after a word; step back onto it so the next word can use it.
        from = Math.max(m.end() - 1, m.start() + 1);
      }
    }
    return out;
  }

  private hit(text: PreparedText, form: MappedText, index: number, start: number, end: number): TermHit {
    // Literal patterns include the separators around a word: report the word alone.
    let s = start;
    let e = end;
    while (s < e && (form.text[s] === ' ' || form.text[s] === '_')) s++;
    while (e > s && (form.text[e - 1] === ' ' || form.text[e - 1] === '_')) e--;
    return { spec: this.specs[index]!, matchedText: text.originalSlice(form, s, e), range: text.originalRange(form, s, e) };
  }
}

export class TermSet {
  private readonly literals = new Family(0);
  private readonly regexes = new Family(RE2JS.CASE_INSENSITIVE);
  /** Terms that could not be compiled, with the reason. */
  readonly problems: TermProblem[] = [];

  constructor(specs: readonly TermSpec[]) {
    for (const spec of specs) {
      if (spec.kind === 'regex') {
        const checked = compileRegexTerm(spec.term);
        if (checked.ok) this.regexes.add(spec, spec.term, checked.regex);
        else this.problems.push({ term: spec.term, kind: spec.kind, reason: checked.reason });
      } else {
        const lit = literalPattern(spec.term, spec.kind as LiteralKind);
        if (lit.ok) this.literals.add(spec, lit.pattern);
        else this.problems.push({ term: spec.term, kind: spec.kind, reason: lit.reason });
      }
    }
    this.literals.compile();
    this.regexes.compile();
  }

  get size(): number {
    return this.literals.size + this.regexes.size;
  }

  /** Every matching term, each with its leftmost match, ordered by position in the original text. */
  matches(text: PreparedText): TermHit[] {
    const hits = this.literals.hits(text, text.skeleton);
    if (this.regexes.size > 0) {
      const seen = new Set<TermSpec>();
      for (const form of text.regexForms) {
        for (const hit of this.regexes.hits(text, form)) {
          if (seen.has(hit.spec)) continue;
          seen.add(hit.spec);
          hits.push(hit);
        }
      }
    }
    return hits.sort((a, b) => a.range[0] - b.range[0]);
  }

  /** The leftmost match of any term, or null. */
  first(text: PreparedText): TermHit | null {
    return this.matches(text)[0] ?? null;
  }

  /** All original ranges matched by any term (used to mask allowlisted words out of a prompt). */
  ranges(text: PreparedText): Array<[number, number]> {
    const out = this.literals.allRanges(text, text.skeleton);
    if (this.regexes.size > 0) for (const form of text.regexForms) out.push(...this.regexes.allRanges(text, form));
    return out;
  }
}
