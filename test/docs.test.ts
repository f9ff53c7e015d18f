// Documentation that drifted before: the .npmrc comment's README section, bench/README.md's list of parts, and the
// settings .env.example documents for the tools (invite, models) besides the bot's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8');

test('the README section .npmrc points to exists', () => {
  const section = /README "([^"]+)"/.exec(read('.npmrc'))?.[1];
  assert.ok(section, '.npmrc names a README section');
  assert.match(read('README.md'), new RegExp(`^## ${section}$`, 'm'));
});

test('bench/README.md describes every part bench/run.ts runs', () => {
  const parts = /const PARTS = \[([^\]]+)\]/.exec(read('bench/run.ts'))![1]!.match(/'([a-z]+)'/g)!.map((p) => p.slice(1, -1));
  assert.ok(parts.includes('scale'));
  const readme = read('bench/README.md');
  for (const part of parts) {
    assert.match(readme, new RegExp(`^\\| \`${part}\` \\|`, 'm'), `${part} has a row in the parts table`);
    assert.match(readme, new RegExp(`any mix of:.*\\b${part}\\b`), `${part} is in the usage line`);
  }
});

test('.env.example and the README document the tools\' settings', () => {
  const example = read('.env.example');
  const readme = read('README.md');
  for (const name of ['DISCORD_CLIENT_ID', 'HF_TOKEN', 'HF_ENDPOINT', 'LOG_FORMAT']) {
    assert.match(example, new RegExp(`^${name}=`, 'm'), `${name} in .env.example`);
    assert.match(readme, new RegExp(`\`${name}\``), `${name} in the README`);
  }
});
