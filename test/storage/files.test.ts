import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/storage/index.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'imagine-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('writes bytes, text and chunk streams, creating the directory', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'images', 'job-0.png');
  await writeFileAtomic(target, new Uint8Array([137, 80, 78, 71]));
  assert.deepEqual([...readFileSync(target)], [137, 80, 78, 71]);
  await writeFileAtomic(target, 'replaced');
  assert.equal(readFileSync(target, 'utf8'), 'replaced');
  const big = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
  async function* chunks() {
    for (let offset = 0; offset < big.length; offset += 65536) yield big.subarray(offset, offset + 65536);
  }
  await writeFileAtomic(target, chunks());
  assert.ok(Buffer.from(big).equals(readFileSync(target)));
  assert.deepEqual(readdirSync(join(dir, 'images')), ['job-0.png'], 'no temporary files left');
  assert.equal(statSync(target).mode & 0o777 & ~process.umask(), 0o644 & ~process.umask());
});

test('when the write throws midway, neither a partial target nor a temporary file remains', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'out.png');
  async function* failing() {
    yield new Uint8Array(1000).fill(1);
    throw new Error('encoder crashed');
  }
  await assert.rejects(writeFileAtomic(target, failing()), /encoder crashed/);
  assert.equal(existsSync(target), false);
  assert.deepEqual(readdirSync(dir), []);

  // An existing file is left exactly as it was.
  writeFileSync(target, 'old complete image');
  await assert.rejects(writeFileAtomic(target, failing()), /encoder crashed/);
  assert.equal(readFileSync(target, 'utf8'), 'old complete image');
  assert.deepEqual(readdirSync(dir), ['out.png']);
});

test('when the final rename fails, the temporary file is removed', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'taken');
  mkdirSync(join(target, 'child'), { recursive: true }); // a non-empty directory cannot be replaced by a file
  await assert.rejects(writeFileAtomic(target, 'data'));
  assert.deepEqual(readdirSync(dir), ['taken']);
});
