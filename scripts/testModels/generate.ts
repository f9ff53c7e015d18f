// Generates every test model into a root folder, idempotently: a stamp file records a hash of the generator's own
// sources (and the tokenizer fixtures they copy), so an unchanged generator costs one file read. Concurrent callers
// (test files start in parallel) serialise on a lock directory, and each folder is built beside the root and renamed
// into place, so a reader never sees a half-written model.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_MODELS, writeTestModel } from './folders.ts';

/** Bump to force regeneration when something outside the hashed files changes the output. */
export const GENERATOR_VERSION = 1;

export const DEFAULT_TEST_MODELS_ROOT = fileURLToPath(new URL('../../test/.models/', import.meta.url));
const STAMP = '.stamp';
const LOCK = '.lock';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
    .sort();
}

/** What the stamp records: generator version + hash of every input that shapes the models. */
export function generatorFingerprint(): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const inputs = [...filesUnder(here), fileURLToPath(new URL('../../src/pipeline/onnx/build.ts', import.meta.url)), ...filesUnder(fileURLToPath(new URL('../../test/fixtures/tokenizers/', import.meta.url)))];
  const hash = createHash('sha256');
  for (const f of inputs) hash.update(f.slice(f.lastIndexOf('/scripts/') + 1)).update(readFileSync(f));
  return `v${GENERATOR_VERSION} ${hash.digest('hex').slice(0, 16)} ${Object.keys(TEST_MODELS).join(',')}`;
}

function upToDate(root: string, fingerprint: string): boolean {
  try {
    return readFileSync(join(root, STAMP), 'utf8') === fingerprint && Object.keys(TEST_MODELS).every((n) => existsSync(join(root, n, 'model_index.json')));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Make sure every test model exists under root; returns true when it had to (re)generate them. */
export async function generateTestModels(root = DEFAULT_TEST_MODELS_ROOT, options: { force?: boolean } = {}): Promise<boolean> {
  const fingerprint = generatorFingerprint();
  if (!options.force && upToDate(root, fingerprint)) return false;
  mkdirSync(root, { recursive: true });
  const lock = join(root, LOCK);
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another process is generating: wait for it, and take over a lock left behind by a crashed one.
      if (!options.force && upToDate(root, fingerprint)) return false;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* lock vanished between the two calls */
      }
      await sleep(50);
    }
  }
  try {
    if (!options.force && upToDate(root, fingerprint)) return false;
    rmSync(join(root, STAMP), { force: true });
    for (const name of Object.keys(TEST_MODELS)) {
      const staging = join(root, `.${name}.tmp-${process.pid}`);
      rmSync(staging, { recursive: true, force: true });
      writeTestModel(staging, name);
      rmSync(join(root, name), { recursive: true, force: true });
      renameSync(staging, join(root, name));
    }
    writeFileSync(join(root, STAMP), fingerprint);
    return true;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
