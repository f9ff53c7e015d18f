import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel, model, node, valueInfo, tensor } from '../../src/pipeline/onnx/build.ts';
import { externalDataFiles, loadModelFile, saveModelWithExternalData } from '../../src/pipeline/onnx/modelFile.ts';
import { prepareUnet } from '../../src/pipeline/attention/prepare.ts';
import { cachePaths } from '../../src/pipeline/attention/cache.ts';
import { buildUnetLike } from './unetLike.ts';
import type { UnetLikeSpec } from './unetLike.ts';
import { maxAbsDiff, runModel, unetLikeFeeds } from './helpers.ts';

// Wide enough that the weights dominate the file (so "weights were not copied" is measurable).
const spec: UnetLikeSpec = { form: '3d', heads: 4, headDim: 16, contextDim: 32, blocks: 1 };
const feeds = () => unetLikeFeeds(spec, 1, 6, 3);

/** Bytes of tensor data stored inside the graph file itself. */
const inlineBytes = (m: Awaited<ReturnType<typeof loadModelFile>>['model']) =>
  (m.graph?.initializer ?? []).reduce((sum, t) => sum + (t.rawData?.byteLength ?? 0), 0);

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(join(tmpdir(), 'attn-cache-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test('second call reuses the cache without rewriting; a changed model is rebuilt', () => withDir(async (dir) => {
  const path = join(dir, 'unet.onnx');
  await writeFile(path, encodeModel(buildUnetLike(spec).model));
  const first = await prepareUnet(path, 2, { provider: 'cpu' });
  assert.equal(first.fromCache, false);
  const mtime = (await stat(first.path)).mtimeMs;
  const logs: string[] = [];
  const second = await prepareUnet(path, 2, { provider: 'cpu', log: (m) => logs.push(m) });
  assert.deepEqual({ ...second, fromCache: true }, { ...first, fromCache: true });
  assert.equal(second.fromCache, true);
  assert.equal((await stat(second.path)).mtimeMs, mtime, 'cache file not rewritten');
  assert.match(logs.join('\n'), /cached/);
  // Another mode is another entry.
  assert.notEqual((await prepareUnet(path, 3, { provider: 'cpu' })).path, first.path);
  // Touching the source invalidates the entry.
  await utimes(path, new Date(), new Date(Date.now() + 5000));
  assert.equal((await prepareUnet(path, 2, { provider: 'cpu' })).fromCache, false);
  // No temp files are left behind.
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
}));

test('a corrupt cache entry is detected and rebuilt, never used', () => withDir(async (dir) => {
  const path = join(dir, 'unet.onnx');
  await writeFile(path, encodeModel(buildUnetLike(spec).model));
  const reference = await runModel(path, feeds());
  const paths = cachePaths(path, 'auto', 'cpu');
  for (const corrupt of [
    () => writeFile(paths.graph, 'not a model'),
    async () => { const { bytes } = await loadModelFile(paths.graph); bytes[bytes.length - 3]! ^= 0xff; await writeFile(paths.graph, bytes); },
    () => writeFile(paths.stamp, '{"version": 1, "trunc'),
    () => rm(paths.graph),
  ]) {
    await prepareUnet(path, 'auto', { provider: 'cpu' });
    await corrupt();
    const again = await prepareUnet(path, 'auto', { provider: 'cpu' });
    assert.equal(again.fromCache, false, 'rebuilt');
    assert.ok(maxAbsDiff(reference, await runModel(again.path, feeds())) <= 1e-4);
    assert.equal((await prepareUnet(path, 'auto', { provider: 'cpu' })).fromCache, true, 'the rebuilt entry is valid');
  }
}));

test('a graph without attention passes through untouched, with a log line', () => withDir(async (dir) => {
  const path = join(dir, 'plain.onnx');
  const plain = model({
    nodes: [node('MatMul', ['x', 'w'], ['m']), node('Softmax', ['m'], ['y'], { axis: -1 })],
    inputs: [valueInfo('x', 'float32', [2, 3])], outputs: [valueInfo('y', 'float32', [2, 3])],
    initializers: [tensor('w', 'float32', [3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1])],
  });
  await writeFile(path, encodeModel(plain));
  const logs: string[] = [];
  const r = await prepareUnet(path, 'auto', { provider: 'cpu', log: (m) => logs.push(m) });
  assert.deepEqual(r, { path, blocks: 0, applied: 'none', fromCache: false });
  assert.match(logs.join('\n'), /plain\.onnx: .*no attention pattern found; using it unchanged/);
  assert.equal((await prepareUnet(path, 'auto', { provider: 'cpu' })).path, path);
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.onnx')), ['plain.onnx'], 'no rewritten copy written');
}));

test('external weights still resolve after the rewrite and are not copied', () => withDir(async (dir) => {
  const path = join(dir, 'model.onnx');
  await saveModelWithExternalData(buildUnetLike(spec).model, path, 'model.onnx_data');
  const reference = await runModel(path, feeds());
  for (const mode of ['auto', 'max', 3] as const) {
    const r = await prepareUnet(path, mode, { provider: 'cpu' });
    assert.notEqual(r.path, path);
    const { model: rewritten } = await loadModelFile(r.path);
    assert.deepEqual(externalDataFiles(rewritten), ['model.onnx_data']);
    assert.ok(inlineBytes(rewritten) < 4096, 'graph only, weights stay outside');
    assert.ok(maxAbsDiff(reference, await runModel(r.path, feeds())) <= 1e-4, `${mode}`);
  }
}));

test('inline weights are referenced in the original file, not copied', () => withDir(async (dir) => {
  const path = join(dir, 'inline.onnx');
  await writeFile(path, encodeModel(buildUnetLike(spec).model));
  const reference = await runModel(path, feeds());
  const r = await prepareUnet(path, 'flash', { provider: 'cpu' });
  const { model: rewritten } = await loadModelFile(r.path);
  assert.deepEqual(externalDataFiles(rewritten), ['inline.onnx']);
  assert.ok(inlineBytes(rewritten) < 4096, 'weights are references, not copies');
  assert.ok((await stat(r.path)).size < (await stat(path)).size / 4);
  assert.ok(maxAbsDiff(reference, await runModel(r.path, feeds())) <= 1e-4);
}));
