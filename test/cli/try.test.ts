// `npm run try`, the README's one-minute check: makes the tiny random model and generates with it, without Discord or
// a download, and says plainly that the result is noise and where real models come from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('npm run try writes a PNG from a freshly made tiny model and explains the noise', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'imagine-try-'));
  try {
    const out = join(dir, 'try.png');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/try.ts', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${out}\n`, 'stdout is generate\'s: the path written');
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 256, 256]);
    assert.match(run.stderr, /random weights/);
    assert.match(run.stderr, /noise/);
    assert.match(run.stderr, /npm run models -- fetch/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
