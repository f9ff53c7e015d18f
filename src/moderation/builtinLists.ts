// The built-in lists. Kept factual and short on purpose: each entry is there because it is unambiguous in an image
// prompt; a longer list would start blocking ordinary prompts.
//
// DEFAULT (always on, moderators cannot remove or allowlist it):
//   - terms that on their own name sexualised minors;
//   - a co-occurrence rule: any MINOR term together with any SEXUAL term in the same prompt.
// NSFW (on unless the server enabled NSFW and the channel is age-restricted): explicit sexual terms and graphic gore.
// Words that are ordinary outside a sexual context ("girl", "young", "minor", "cock", "pussy", "tits") are left out:
// the co-occurrence rule and the servers' own lists cover them with far fewer false positives.
import { termWords } from './normalize.ts';
import { TermSet } from './termSet.ts';
import type { LiteralKind, RuleSource, TermSpec } from './types.ts';

const STANDALONE_DEFAULT = [
  'loli', 'lolis', 'lolicon', 'shota', 'shotas', 'shotacon', 'jailbait', 'csam',
  'pedo', 'pedos', 'pedophile', 'pedophiles', 'pedophilia', 'paedophile', 'paedophiles', 'paedophilia',
  'child porn', 'kiddie porn', 'child pornography',
];

const MINOR_WORDS = [
  'child', 'children', 'childs', 'kid', 'kids', 'kiddie', 'kiddo', 'toddler', 'toddlers', 'infant', 'infants',
  'baby', 'babies', 'preteen', 'preteens', 'pre teen', 'tween', 'tweens', 'teen', 'teens', 'teenage', 'teenager',
  'teenagers', 'underage', 'under age', 'schoolgirl', 'schoolgirls', 'schoolboy', 'schoolboys', 'school girl',
  'school boy', 'little girl', 'little girls', 'little boy', 'little boys', 'young girl', 'young girls',
  'young boy', 'young boys', 'minors', 'prepubescent', 'elementary school', 'middle school', 'grade school',
];
// "12 year old", "12-year-old", "12yo", "12 y/o", for ages under 18 (regex forms keep digits in the light form).
const MINOR_AGE_REGEX = String.raw`(?:^|[^0-9])(?:[0-9]|1[0-7]) ?-?(?:(?:yo|y/o|yrs? ?-?old|years? ?-?old)\b|y\.o\.)`;

const SEXUAL_WORDS = [
  'nude', 'nudes', 'naked', 'nudity', 'nsfw', 'sex', 'sexy', 'sexual', 'sexualized', 'sexualised', 'porn', 'porno',
  'pornographic', 'pornography', 'erotic', 'erotica', 'lewd', 'hentai', 'topless', 'bottomless', 'nipple',
  'nipples', 'genitals', 'genitalia', 'penis', 'vagina', 'vulva', 'pussy', 'boobs', 'breasts', 'undressed',
  'undressing', 'lingerie', 'panties', 'seductive', 'orgasm', 'masturbating', 'masturbation',
  'intercourse', 'fetish', 'bdsm', 'cum', 'aroused', 'spread legs', 'no clothes', 'without clothes', 'strip tease',
  'striptease', 'xxx',
];

const NSFW_WORDS = [
  'nude', 'nudes', 'naked', 'nudity', 'nsfw', 'sex', 'sexual intercourse', 'porn', 'porno', 'pornographic',
  'pornography', 'erotic', 'erotica', 'lewd', 'hentai', 'topless', 'bottomless', 'nipple', 'nipples', 'genitals',
  'genitalia', 'penis', 'vagina', 'vulva', 'areola', 'areolas', 'undressed', 'orgasm', 'masturbating',
  'masturbation', 'intercourse', 'blowjob', 'handjob', 'fellatio', 'cunnilingus', 'cumshot', 'creampie', 'bdsm',
  'xxx', 'titties', 'boobs', 'striptease',
  'gory', 'dismembered', 'dismemberment', 'decapitated', 'decapitation', 'disemboweled', 'disembowelled',
  'mutilated', 'mutilation',
];

// Ordinary phrases that contain a listed word; masked out before the co-occurrence rule and the NSFW list run.
const BUILTIN_EXCEPTIONS = [
  'naked eye', 'naked mole rat', 'naked mole rats', 'naked flame', 'naked flames', 'naked truth',
  'nude lipstick', 'nude lips', 'nude makeup', 'nude color', 'nude colour', 'nude tones', 'nude palette',
  'nude heels', 'nude nails', 'nude colored', 'nude coloured', 'nude tone', 'nude shade', 'nude beige',
];

function specs(source: RuleSource, terms: readonly string[]): TermSpec[] {
  return terms.map((term) => ({ source, term, kind: (term.includes(' ') ? 'phrase' : 'word') satisfies LiteralKind }));
}

export interface BuiltinRules {
  /** Always blocked on their own. */
  standalone: TermSet;
  minors: TermSet;
  sexual: TermSet;
  nsfw: TermSet;
  /** Phrases masked out before `minors`/`sexual` and `nsfw` are matched. */
  exceptions: TermSet;
}

let compiled: BuiltinRules | undefined;

/** The built-in rules, compiled once per process (they never change at run time). */
export function builtinRules(): BuiltinRules {
  compiled ??= {
    standalone: new TermSet(specs('default', STANDALONE_DEFAULT)),
    minors: new TermSet([...specs('default', MINOR_WORDS), { source: 'default', kind: 'regex', term: MINOR_AGE_REGEX, label: 'age under 18' }]),
    sexual: new TermSet(specs('default', SEXUAL_WORDS)),
    nsfw: new TermSet(specs('nsfw', NSFW_WORDS)),
    exceptions: new TermSet(specs('default', BUILTIN_EXCEPTIONS)),
  };
  return compiled;
}

/** Which built-in list a term belongs to, if any (compared in normalised form, so "LOLI" and "lolí" count). */
export function builtinListOf(term: string): 'default' | 'nsfw' | null {
  const key = termWords(term).join(' ');
  if (key === '') return null;
  const has = (list: readonly string[]): boolean => list.some((t) => termWords(t).join(' ') === key);
  if (has(STANDALONE_DEFAULT) || has(MINOR_WORDS) || has(SEXUAL_WORDS)) return 'default';
  if (has(NSFW_WORDS)) return 'nsfw';
  return null;
}
