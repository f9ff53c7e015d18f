// The optimized-graph cache (ORT_GRAPH_CACHE): the first load writes ONNX Runtime's optimized graph beside the model,
// later loads use it and compute exactly what the model computes; a changed source, a corrupt entry or a stale stamp
// is rebuilt, never trusted; a full pipeline run with the cache gives the same image as without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, truncate, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { createSession } from '../../src/pipeline/session.ts';
import { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { ensureTestModels } from '../fixtures/models.ts';

async function copyModel(name: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const root = await ensureTestModels();
  const dir = await mkdtemp(join(tmpdir(), 'imagine-graph-cache-'));
  await cp(join(root, name), join(dir, name), { recursive: true, filter: (src) => !/\.(ort|attn)-/.test(src) });
  return { dir: join(dir, name), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function run(session: ort.InferenceSession): Promise<Float32Array> {
  const sample = new ort.Tensor('float32', Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i)), [1, 4, 8, 8]);
  const meta = session.inputMetadata.find((m) => m.name === 'encoder_hidden_states') as unknown as { shape: readonly (number | string)[] };
  const width = Number(meta.shape[2]);
  const hidden = new ort.Tensor('float32', Float32Array.from({ length: 77 * width }, (_, i) => Math.cos(i)), [1, 77, width]);
  const timestepMeta = session.inputMetadata.find((m) => m.name === 'timestep') as unknown as { type: string; shape: readonly unknown[] };
  const timestep = timestepMeta.type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from([500n]), timestepMeta.shape.length ? [1] : []) : new ort.Tensor('float32', Float32Array.from([500]), timestepMeta.shape.length ? [1] : []);
  const out = await session.run({ sample, timestep, encoder_hidden_states: hidden });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

const cacheFiles = async (dir: string) => (await readdir(dir)).filter((n) => n.includes('.ort-')).sort();

test('first load writes the entry; the next load uses it and computes exactly the same', async () => {
  const { dir, cleanup } = await copyModel('tiny-sd15');
  try {
    const path = join(dir, 'unet', 'model.onnx');
    const logs: string[] = [];
    const plain = await createSession(path, { provider: 'cpu', intraOpThreads: 1 });
    assert.deepEqual(await cacheFiles(join(dir, 'unet')), [], 'off: nothing written');
    const first = await createSession(path, { provider: 'cpu', intraOpThreads: 1, optimizedCache: true, log: (m) => logs.push(m) });
    const files = await cacheFiles(join(dir, 'unet'));
    assert.equal(files.length, 3, `graph, data and stamp: ${files.join(', ')}`);
    assert.match(logs.join('\n'), /cache written/);
    logs.length = 0;
    const second = await createSession(path, { provider: 'cpu', intraOpThreads: 1, optimizedCache: true, log: (m) => logs.push(m) });
    assert.deepEqual(logs, [], 'loaded from the cache: nothing rebuilt');
    assert.deepEqual(await cacheFiles(join(dir, 'unet')), files);
    const expected = await run(plain.session);
    assert.deepEqual(await run(first.session), expected);
    assert.deepEqual(await run(second.session), expected);
    for (const s of [plain, first, second]) await s.session.release();
  } finally {
    await cleanup();
  }
});

test('a changed source or a corrupt entry is rebuilt, and old entries are removed', async () => {
  const { dir, cleanup } = await copyModel('tiny-sd15');
  try {
    const unet = join(dir, 'unet');
    const path = join(unet, 'model.onnx');
    const settings = { provider: 'cpu' as const, intraOpThreads: 1, optimizedCache: true };
    await (await createSession(path, settings)).session.release();
    const before = await cacheFiles(unet);
    // The source changes (a re-export): the entry no longer matches.
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    const logs: string[] = [];
    await (await createSession(path, { ...settings, log: (m) => logs.push(m) })).session.release();
    assert.match(logs.join('\n'), /cache written/);
    const after = await cacheFiles(unet);
    assert.equal(after.length, 3, 'the old entry was removed');
    assert.notDeepEqual(after, before);
    // A truncated data file (a crash mid-write, a full disk): not trusted.
    const data = after.find((n) => n.endsWith('.data'))!;
    await truncate(join(unet, data), 10);
    logs.length = 0;
    const reloaded = await createSession(path, { ...settings, log: (m) => logs.push(m) });
    assert.match(logs.join('\n'), /cache written/);
    const plain = await createSession(path, { provider: 'cpu', intraOpThreads: 1 });
    assert.deepEqual(await run(reloaded.session), await run(plain.session));
    await reloaded.session.release();
    await plain.session.release();
  } finally {
    await cleanup();
  }
});

test('a whole generation with the cache (cold, then warm) gives the same image as without it', async () => {
  const { dir, cleanup } = await copyModel('tiny-sd15');
  try {
    const request = { prompt: 'a red fox', seed: 7, steps: 3, guidance: 7.5, width: 64, height: 64, count: 1 };
    const options = { modelDir: dir, provider: 'cpu' as const, attentionSlicing: 'auto' as const, lowMemory: false, intraOpThreads: 1 };
    const images: Uint8Array[] = [];
    for (const graphCache of [false, true, true]) {
      const pipeline = await StableDiffusionPipeline.load({ ...options, graphCache });
      images.push((await pipeline.generate(request)).images[0]!.data);
      await pipeline.dispose();
    }
    assert.ok((await cacheFiles(join(dir, 'unet'))).length >= 3, 'the UNet got an entry');
    assert.ok((await cacheFiles(join(dir, 'text_encoder'))).length === 3, 'so did the text encoder');
    assert.deepEqual(images[1], images[0]);
    assert.deepEqual(images[2], images[0]);
  } finally {
    await cleanup();
  }
});
