// Runs the test suite. Node 20's `node --test` does not expand glob patterns (that arrived in
// Node 21), so the test files are collected here and passed explicitly. Arguments narrow the run:
// `npm test -- queue storage` runs only files whose path contains one of the words.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testDir = join(root, 'test');

function collect(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...collect(path));
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const files = collect(testDir)
  .map((path) => relative(root, path))
  .filter((path) => filters.length === 0 || filters.some((word) => path.includes(word)))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ') || '(all)'}`);
  process.exit(1);
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
