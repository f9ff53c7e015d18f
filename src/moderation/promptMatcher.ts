// Checks a prompt against every rule that applies to one server. Built once per server from its terms (see
// ModerationService for the cache) and then used for every prompt.
//
// Order: the built-in default list, the built-in NSFW list, then the server's own terms (blocklist and AutoMod).
// The server's allowlist masks words out before its own terms are matched, and never weakens the built-in lists
// (which have their own few exceptions such as "naked eye", masked before the co-occurrence rule and the NSFW list).
// The built-in lists look at the positive prompt only: a negative prompt names what the user wants kept out of the
// image, and "nsfw, nude" is a common negative prompt. The server's own terms look at both fields.
import { builtinRules, type BuiltinRules } from './builtinLists.ts';
import { PreparedText } from './normalize.ts';
import { TermSet, type TermHit } from './termSet.ts';
import type { PromptField, TermProblem, TermSpec, Verdict } from './types.ts';

export interface GuildTerms {
  block: readonly TermSpec[];
  allow: readonly TermSpec[];
}

export interface PromptCheck {
  prompt: string;
  negative?: string;
  /** The server enabled NSFW and the channel is age-restricted. */
  nsfwAllowed: boolean;
}

const ALLOWED: Verdict = { allowed: true };

function blocked(hit: TermHit, field: PromptField): Verdict {
  const { spec } = hit;
  return { allowed: false, rule: { source: spec.source, term: spec.label ?? spec.term, kind: spec.kind, field }, matchedText: hit.matchedText };
}

export class PromptMatcher {
  private readonly builtin: BuiltinRules;
  private readonly block: TermSet;
  private readonly allow: TermSet;
  /** Server terms that could not be compiled (reported to moderators; the rest still apply). */
  readonly problems: TermProblem[];

  constructor(terms: GuildTerms) {
    this.builtin = builtinRules();
    this.block = new TermSet(terms.block);
    this.allow = new TermSet(terms.allow);
    this.problems = [...this.block.problems, ...this.allow.problems];
  }

  check(input: PromptCheck): Verdict {
    const prompt = PreparedText.from(input.prompt);
    const builtin = this.checkBuiltin(prompt, input.nsfwAllowed);
    if (builtin) return builtin;
    const fields: Array<[PromptField, string | undefined]> = [['prompt', input.prompt], ['negative', input.negative]];
    for (const [field, raw] of fields) {
      if (!raw || this.block.size === 0) continue;
      const text = field === 'prompt' ? prompt : PreparedText.from(raw);
      const hit = this.block.first(this.allow.size > 0 ? text.masked(this.allow.ranges(text)) : text);
      if (hit) return blocked(hit, field);
    }
    return ALLOWED;
  }

  private checkBuiltin(original: PreparedText, nsfwAllowed: boolean): Verdict | null {
    const { standalone, minors, sexual, nsfw, exceptions } = this.builtin;
    const own = standalone.first(original);
    if (own) return blocked(own, 'prompt');
    const prompt = original.masked(exceptions.ranges(original));
    const minor = minors.first(prompt);
    const sex = minor ? sexual.first(prompt) : null;
    if (minor && sex) {
      const a = minor.spec.label ?? minor.spec.term;
      const b = sex.spec.label ?? sex.spec.term;
      return {
        allowed: false,
        rule: { source: 'default', term: `${a} + ${b}`, kind: 'pair', field: 'prompt' },
        matchedText: minor.range[0] <= sex.range[0] ? `${minor.matchedText} … ${sex.matchedText}` : `${sex.matchedText} … ${minor.matchedText}`,
      };
    }
    if (!nsfwAllowed) {
      const hit = nsfw.first(prompt);
      if (hit) return blocked(hit, 'prompt');
    }
    return null;
  }
}
