// The arrows between src/ folders run one way. Every import of every file under src/ (type-only and dynamic imports
// included, read with TypeScript's own pre-parser) is checked against the layering the guide sets out; a file that
// leans the wrong way, or a cycle of files importing each other, fails here with the offending lines named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

interface Import {
  from: string;
  /** A path relative to src/ for our own files ("pipeline/types.ts"), else the package name. */
  to: string;
  line: number;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

export function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const from = relative(SRC, file).split(sep).join('/');
  return ts.preProcessFile(text, true, true).importedFiles.map((ref) => {
    const line = text.slice(0, ref.pos).split('\n').length;
    const target = ref.fileName.startsWith('.') ? relative(SRC, resolve(dirname(file), ref.fileName)).split(sep).join('/') : packageName(ref.fileName);
    return { from, to: target, line };
  });
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const all = sourceFiles(SRC).flatMap(importsOf);

/** Imports from files under `folder` whose target matches one of `forbidden` (a src/ folder with a slash, or a package). */
function violations(folder: string, forbidden: readonly string[], imports: readonly Import[] = all): string[] {
  return imports
    .filter((i) => i.from.startsWith(folder) && forbidden.some((f) => (f.endsWith('/') ? i.to.startsWith(f) : i.to === f)))
    .map((i) => `src/${i.from}:${i.line} imports ${i.to}`);
}

const DISCORD = ['discord.js', '@discordjs/rest', 'discord/', 'bot/', 'commands/'];
const ONNX = ['onnxruntime-node', 'onnx-proto', 'pipeline/'];
const QUEUE_SERVICES = ['bullmq', 'ioredis', 'queue/', 'jobs/', 'scale/', 'storage/', 'moderation/', 'worker/'];

test('src/discord (the Discord glue) never imports src/commands, which sit on top of it', () => {
  assert.deepEqual(violations('discord/', ['commands/']), []);
});

test('src/pipeline is pure image generation: no Discord, no queue, no jobs, no Redis', () => {
  assert.deepEqual(violations('pipeline/', [...DISCORD, ...QUEUE_SERVICES]), []);
});

test('src/queue knows nothing of ONNX or Discord', () => {
  assert.deepEqual(violations('queue/', [...ONNX, ...DISCORD, 'sharp']), []);
});

test('no two files under src/ import each other, not even through type-only imports', () => {
  const graph = new Map<string, string[]>();
  for (const i of all) if (i.to.endsWith('.ts')) graph.set(i.from, [...(graph.get(i.from) ?? []), i.to]);
  assert.deepEqual(cycles(graph), []);
});

test('the checks see what they must: a planted wrong-way import is reported with its line', () => {
  // Guards against a parser that silently finds nothing (every rule above would then pass).
  const planted: Import[] = [
    { from: 'discord/x.ts', to: 'commands/imagine.ts', line: 3 },
    { from: 'pipeline/x.ts', to: 'discord.js', line: 4 },
    { from: 'queue/x.ts', to: 'onnxruntime-node', line: 5 },
  ];
  assert.deepEqual(violations('discord/', ['commands/'], planted), ['src/discord/x.ts:3 imports commands/imagine.ts']);
  assert.deepEqual(violations('pipeline/', DISCORD, planted), ['src/pipeline/x.ts:4 imports discord.js']);
  assert.deepEqual(violations('queue/', ONNX, planted), ['src/queue/x.ts:5 imports onnxruntime-node']);
  assert.deepEqual(cycles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]])), ['a.ts -> b.ts -> c.ts -> a.ts']);
  const own = all.filter((i) => i.from === 'discord/requests.ts').map((i) => i.to);
  assert.ok(own.includes('bot/types.ts') && own.includes('pipeline/request.ts'), `type and value imports are both seen: ${own.join(', ')}`);
});

/** Each strongly connected group of files (Tarjan), shown as one loop through it. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(loopThrough(graph, new Set(group)));
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** A readable loop inside one strongly connected group, starting from its first file by name. */
function loopThrough(graph: ReadonlyMap<string, readonly string[]>, group: ReadonlySet<string>): string {
  const start = [...group].sort()[0]!;
  const path = [start];
  const seen = new Set(path);
  let at = start;
  for (;;) {
    const next = (graph.get(at) ?? []).filter((n) => group.has(n)).sort();
    const back = next.find((n) => n === start);
    if (back) return [...path, start].join(' -> ');
    const step = next.find((n) => !seen.has(n)) ?? next[0]!;
    if (seen.has(step)) return [...path, step].join(' -> ');
    path.push(step);
    seen.add(step);
    at = step;
  }
}
