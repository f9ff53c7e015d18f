// Reading model files ahead: a worker thread reads the UNet's and VAE's files while the text encoder's session is
// created, only when they fit in free memory; a load logs what it reads ahead, and the files listed are those the
// sessions will open (the cached optimized graph once there is one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { freemem, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { filesOf, prefetch } from '../../src/pipeline/onnx/prefetch.ts';
import { createSession, sessionFiles } from '../../src/pipeline/session.ts';
import { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { ensureTestModels } from '../fixtures/models.ts';

test('prefetch reads when the files fit in free memory, and skips when they do not', async () => {
  const unet = join(await ensureTestModels(), 'tiny-sd15', 'unet', 'model.onnx');
  const files = await filesOf(unet);
  assert.ok(files.some((f) => f.path === unet));
  assert.ok(files.every((f) => !f.path.endsWith('.json')));
  const reading = prefetch(files);
  assert.equal(reading.bytes, files.reduce((a, f) => a + f.bytes, 0));
  await reading.wait();
  const skipped = prefetch(files, freemem() * 2);
  assert.equal(skipped.bytes, 0, 'no room: nothing read');
  await skipped.wait();
});

test('the files a session will read: the model and its weights, then the cached graph once written', async () => {
  const root = await ensureTestModels();
  const dir = await mkdtemp(join(tmpdir(), 'imagine-prefetch-'));
  try {
    await cp(join(root, 'tiny-sd15'), join(dir, 'm'), { recursive: true, filter: (src) => !/\.(ort|attn)-/.test(src) });
    const path = join(dir, 'm', 'unet', 'model.onnx');
    const settings = { provider: 'cpu' as const, optimizedCache: true };
    assert.deepEqual((await sessionFiles(path, settings)).map((f) => basename(f.path)), ['model.onnx']);
    await (await createSession(path, settings)).session.release();
    const cached = (await sessionFiles(path, settings)).map((f) => basename(f.path));
    assert.equal(cached.length, 2);
    assert.ok(cached.every((name) => name.startsWith('model.ort-cpu.')), cached.join(', '));
    const logs: string[] = [];
    const pipeline = await StableDiffusionPipeline.load({ modelDir: join(dir, 'm'), provider: 'cpu', attentionSlicing: 'auto', lowMemory: false, intraOpThreads: 1, graphCache: true }, (m) => logs.push(m));
    assert.ok(logs.some((m) => /MB of model files ahead while the text encoder loads/.test(m)), logs.join('\n'));
    await pipeline.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
