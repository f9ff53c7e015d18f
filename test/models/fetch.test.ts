// fetchModel against a local hub: a complete install that verifies, --revision, checksum failures that leave nothing
// behind, and a dropped connection that the next run resumes with a Range request.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureTestModels } from '../fixtures/models.ts';
import { FetchError, fetchModel, STAGING_DIR } from '../../src/models/fetch.ts';
import { SOURCE_FILE, verifyModelFolder } from '../../src/models/verify.ts';
import { readTree, TestHub } from './hubServer.ts';

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

const exists = (p: string) => stat(p).then(() => true, () => false);

describe('models fetch', () => {
  let hub: TestHub;
  let files: Map<string, Buffer>;
  let work: string;

  before(async () => {
    files = await readTree(join(await ensureTestModels(), 'tiny-sd15'));
    hub = new TestHub({
      'test/tiny-sd15': { revisions: { main: files } },
      'test/pinned': { revisions: { 'v1.0': files } },
    });
    await hub.start();
    work = await mkdtemp(join(tmpdir(), 'models-fetch-'));
  });
  after(async () => {
    await hub.close();
    await rm(work, { recursive: true, force: true });
  });

  const base = (modelsDir: string, name: string, repo = 'test/tiny-sd15') => ({
    modelsDir,
    source: { repo },
    name,
    kind: 'model' as const,
    access: { hubUrl: hub.url },
  });

  test('a repo installs into models/<name>, and the folder verifies', async () => {
    const modelsDir = join(work, 'a');
    const result = await fetchModel({ ...base(modelsDir, 'tiny'), defaults: { sampler: 'euler', steps: 2 } });
    assert.equal(result.dir, join(modelsDir, 'tiny'));
    const report = await verifyModelFolder(result.dir);
    assert.deepEqual(report.problems, []);
    assert.ok(report.folder?.paths.previewDecoder, 'optional parts come along');
    assert.deepEqual(report.folder?.defaults, { sampler: 'euler', steps: 2 }, 'the preset defaults replace the repo imagine.json');
    assert.ok(await exists(join(result.dir, SOURCE_FILE)));
    assert.equal(await exists(join(modelsDir, STAGING_DIR, 'tiny')), false, 'the staging folder is gone');
    assert.equal((await allFiles(modelsDir)).filter((f) => f.endsWith('.partial')).length, 0);
    // every served file arrives byte-identical (imagine.json was replaced by the defaults above)
    for (const [path, bytes] of files) {
      if (path === 'imagine.json') continue;
      assert.ok(bytes.equals(await readFile(join(result.dir, path))), path);
    }
  });

  test('an existing folder is not replaced without force', async () => {
    const modelsDir = join(work, 'a');
    await assert.rejects(fetchModel(base(modelsDir, 'tiny')), (err: Error) => err instanceof FetchError && /already exists/.test(err.message));
  });

  test('--revision reaches both the listing and the file downloads', async () => {
    const modelsDir = join(work, 'rev');
    const before = hub.requests.length;
    await assert.rejects(fetchModel(base(modelsDir, 'pinned', 'test/pinned')), /Invalid rev id: main/);
    const result = await fetchModel({ ...base(modelsDir, 'pinned', 'test/pinned'), revision: 'v1.0' });
    assert.ok((await verifyModelFolder(result.dir)).ok);
    const seen = hub.requests.slice(before).filter((r) => r.url.includes('/test/pinned/') && !r.url.includes('/tree/main'));
    assert.ok(seen.some((r) => r.url.includes('/tree/v1.0')));
    const downloads = seen.filter((r) => r.url.includes('/resolve/'));
    assert.ok(downloads.length > 0);
    assert.ok(downloads.every((r) => r.url.includes('/resolve/v1.0/')), 'every file comes from the pinned revision');
  });

  test('a checksum mismatch fails and leaves neither a model folder nor partial files', async () => {
    const modelsDir = join(work, 'bad');
    hub.corrupt.add('unet/model.onnx');
    try {
      await assert.rejects(fetchModel(base(modelsDir, 'bad')), (err: Error) => err instanceof FetchError && /unet\/model\.onnx: sha256 is [0-9a-f]{64} but the hub lists/.test(err.message));
    } finally {
      hub.corrupt.delete('unet/model.onnx');
    }
    assert.equal(await exists(join(modelsDir, 'bad')), false);
    assert.equal(await exists(join(modelsDir, STAGING_DIR, 'bad')), false);
    assert.deepEqual(await allFiles(modelsDir), []);
  });

  test('a corrupted small git file fails on its git blob hash too', async () => {
    const modelsDir = join(work, 'badjson');
    hub.corrupt.add('scheduler/scheduler_config.json');
    try {
      await assert.rejects(fetchModel(base(modelsDir, 'm')), /scheduler_config\.json: git sha1 is/);
    } finally {
      hub.corrupt.delete('scheduler/scheduler_config.json');
    }
    assert.deepEqual(await allFiles(modelsDir), []);
  });

  test('an interrupted download resumes with a Range request', async () => {
    const modelsDir = join(work, 'resume');
    const big = 'text_encoder/model.onnx';
    const size = files.get(big)!.length;
    const half = Math.floor(size / 2);
    hub.dropAfter.set(big, half);
    await assert.rejects(fetchModel(base(modelsDir, 'r')), (err: Error) => err instanceof FetchError && /run the same command again to resume/.test(err.message));
    assert.equal(await exists(join(modelsDir, 'r')), false, 'nothing half-written in place');
    const partial = join(modelsDir, STAGING_DIR, 'r', big + '.partial');
    const kept = (await stat(partial)).size;
    assert.ok(kept > 0 && kept < size, `kept ${kept} of ${size} bytes`);

    const before = hub.requests.length;
    const result = await fetchModel(base(modelsDir, 'r'));
    const again = hub.requests.slice(before).filter((r) => r.url.endsWith(`/resolve/main/${big}`) && r.range !== 'bytes=0-0');
    assert.equal(again.length, 1);
    assert.equal(again[0]!.range, `bytes=${kept}-${size - 1}`, 'only the missing tail is requested');
    // files completed in the first run are not downloaded again
    const redone = hub.requests.slice(before).filter((r) => r.url.endsWith('/resolve/main/model_index.json'));
    assert.equal(redone.length, 0);
    assert.ok((await verifyModelFolder(result.dir)).ok);
    assert.equal((await stat(join(result.dir, big))).size, size);
  });

  test('a repo without an ONNX export is refused before anything is downloaded', async () => {
    const pytorch = new Map([
      ['model_index.json', Buffer.from('{}')],
      ['unet/diffusion_pytorch_model.safetensors', Buffer.alloc(100)],
    ]);
    hub.repos['test/pytorch'] = { revisions: { main: pytorch } };
    const modelsDir = join(work, 'pt');
    await assert.rejects(fetchModel(base(modelsDir, 'pt', 'test/pytorch')), /PyTorch weights only; export it: optimum-cli export onnx --model test\/pytorch --task text-to-image/);
    assert.ok(!hub.requests.some((r) => r.url.includes('/test/pytorch/resolve/')));
  });
});
