// Moderation matcher speed: a 1000-character prompt against a server with 500 terms (400 words, 50 phrases,
// 50 regexes) plus the built-in lists. Run: npx tsx bench/moderation.ts [prompts=300]
import { builtinRules } from '../src/moderation/builtinLists.ts';
import { PromptMatcher } from '../src/moderation/promptMatcher.ts';
import type { TermSpec } from '../src/moderation/types.ts';

// Deterministic pseudo-random numbers, so runs are comparable.
let seed = 42;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!; // index < length

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
function pseudoWord(min: number, max: number): string {
  const n = min + Math.floor(random() * (max - min + 1));
  let w = '';
  for (let i = 0; i < n; i++) w += pick([...LETTERS]);
  return w;
}

const terms: TermSpec[] = [];
for (let i = 0; i < 400; i++) terms.push({ source: 'blocklist', kind: 'word', term: pseudoWord(4, 9) });
for (let i = 0; i < 50; i++) terms.push({ source: 'blocklist', kind: 'phrase', term: `${pseudoWord(3, 7)} ${pseudoWord(3, 7)}` });
for (let i = 0; i < 50; i++) terms.push({ source: 'blocklist', kind: 'regex', term: `${pseudoWord(3, 5)}[a-z]*${pseudoWord(2, 3)}\\b` });

const VOCAB = [
  'masterpiece', 'best', 'quality', 'portrait', 'of', 'a', 'woman', 'in', 'the', 'garden', 'golden', 'hour', 'bokeh',
  'cinematic', 'lighting', '4k', '8k', 'uhd', 'f/1.8', 'detailed', 'skin', 'texture', 'oil', 'painting', 'by', 'artist',
  'castle', 'on', 'hill', 'dramatic', 'clouds', '(masterpiece:1.2)', 'trending', 'artstation', 'n.e.o.n', 'cyberpunk',
  'city', 'rain', 'reflections', 'grass', 'class', 'assassin', 'cocktail', '日本の桜', 'ｆｕｌｌｗｉｄｔｈ', 'nudе', '1990s',
];
function prompt(length: number): string {
  let p = '';
  while (p.length < length) p += `${pick(VOCAB)}${random() < 0.3 ? ', ' : ' '}`;
  return p.slice(0, length);
}

const count = Number(process.argv[2] ?? 300);
const prompts = Array.from({ length: count }, () => prompt(1000));
// One prompt really contains a term, so the run shows the matcher finds it among the 500.
const lastPrompt = prompts[count - 1];
const plantedTerm = terms[123];
if (lastPrompt === undefined || plantedTerm === undefined) throw new Error(`need a count of at least 1 (got ${count}) and at least 124 terms (got ${terms.length})`);
prompts[count - 1] = `${lastPrompt.slice(0, 990)} ${plantedTerm.term}`;

let t = performance.now();
builtinRules();
const builtinMs = performance.now() - t;

t = performance.now();
const matcher = new PromptMatcher({ block: terms, allow: [{ source: 'blocklist', kind: 'word', term: 'scunthorpe' }] });
const compileMs = performance.now() - t;
if (matcher.problems.length > 0) throw new Error(`terms refused: ${JSON.stringify(matcher.problems.slice(0, 3))}`);

t = performance.now();
matcher.check({ prompt: prompts[0]!, nsfwAllowed: true }); // count >= 1, checked above
const firstMs = performance.now() - t;

// The RE2 DFAs build their states lazily, so the first pass over new text is slower than later ones.
function pass(): { summary: string; blocked: number } {
  const times: number[] = [];
  let blocked = 0;
  for (const p of prompts) {
    const start = performance.now();
    if (!matcher.check({ prompt: p, negative: 'lowres, bad anatomy, blurry', nsfwAllowed: true }).allowed) blocked++;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  // prompts is not empty (checked above), so every index below is in range.
  const at = (q: number): string => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
  return { summary: `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${times[times.length - 1]!.toFixed(2)} ms`, blocked };
}
const cold = pass();
const warm = pass();
console.log(`terms: ${terms.length} (+ built-in lists), prompt length: 1000 chars, prompts: ${count}`);
console.log(`compile: built-in lists ${builtinMs.toFixed(1)} ms (once per process), server terms ${compileMs.toFixed(1)} ms (per server, cached)`);
console.log(`first check: ${firstMs.toFixed(1)} ms`);
console.log(`check, first pass: ${cold.summary}`);
console.log(`check, second pass: ${warm.summary}`);
console.log(`blocked: ${cold.blocked}/${count}`);
