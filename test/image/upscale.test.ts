import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { srModel } from './srModel.ts';
import { OnnxUpscaler, axisWindows, upscale } from '../../src/pipeline/upscale.ts';
import { maxAbsDiff, meanAbsDiff, testImage } from './helpers.ts';

let dir: string;
let fp32Path: string;
let fp16Path: string;
let fixedPath: string;
let upscaler: OnnxUpscaler;
const settings = { intraOpThreads: 1 };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'upscale-test-'));
  fp32Path = join(dir, 'sr32.onnx');
  fp16Path = join(dir, 'sr16.onnx');
  fixedPath = join(dir, 'srfixed.onnx');
  await writeFile(fp32Path, srModel({ io: 'float32', inputDims: [1, 3, 'height', 'width'] }));
  await writeFile(fp16Path, srModel({ io: 'float16', inputDims: ['batch', 3, 'height', 'width'] }));
  await writeFile(fixedPath, srModel({ io: 'float32', inputDims: [1, 3, 32, 32] }));
  upscaler = await OnnxUpscaler.load(fp32Path, settings);
});

after(async () => {
  await upscaler?.release();
  await rm(dir, { recursive: true, force: true });
});

test('axisWindows: cores cover the axis exactly, windows keep the overlap as context', () => {
  for (const [length, size, overlap] of [[70, 16, 4], [50, 37, 4], [100, 32, 0], [257, 64, 16], [10, 64, 16]] as const) {
    const windows = axisWindows(length, size, overlap);
    let next = 0;
    for (const w of windows) {
      assert.equal(w.coreStart, next);
      next = w.coreEnd;
      const winLen = Math.min(size, length);
      assert.ok(w.start >= 0 && w.start + winLen <= length);
      assert.ok(w.coreStart - w.start >= Math.min(overlap, w.coreStart), 'context before the core');
      assert.ok(w.start + winLen - w.coreEnd >= Math.min(overlap, length - w.coreEnd), 'context after the core');
    }
    assert.equal(next, length);
  }
  assert.throws(() => axisWindows(100, 16, 6), /core/);
});

test('the model scale is read with a probe run', () => {
  assert.equal(upscaler.scale, 2);
  assert.equal(upscaler.fixedSize, undefined);
});

test('tiled equals untiled for several tile sizes, including sizes that do not divide the image', async () => {
  const image = testImage(50, 70);
  const whole = await upscaler.run(image, { tile: 1024, overlap: 4 });
  assert.equal(whole.tiles, 1);
  assert.deepEqual([whole.image.width, whole.image.height], [100, 140]);
  for (const tile of [16, 24, 37, 64]) {
    const tiled = await upscaler.run(image, { tile, overlap: 4 });
    assert.ok(tiled.tiles > 1, `tile ${tile} should need several tiles`);
    assert.ok(maxAbsDiff(tiled.image, whole.image) <= 1, `tile ${tile}: max diff ${maxAbsDiff(tiled.image, whole.image)}`);
  }
});

test('without overlap the seams show (so the overlap above is doing the work)', async () => {
  const image = testImage(50, 70);
  const whole = await upscaler.run(image, { tile: 1024, overlap: 0 });
  const seams = await upscaler.run(image, { tile: 16, overlap: 0 });
  assert.ok(maxAbsDiff(seams.image, whole.image) > 10);
});

test('upscale(): 2x through the model, 4x = model plus Lanczos, fp16 models, fixed-size models', async () => {
  const image = testImage(40, 24);
  const two = await upscale(image, 2, { upscaler, tile: 16, overlap: 4 });
  assert.equal(two.method, 'onnx');
  assert.deepEqual([two.image.width, two.image.height], [80, 48]);
  const four = await upscale(image, 4, { modelPath: fp32Path, ...settings });
  assert.equal(four.modelScale, 2);
  assert.deepEqual([four.image.width, four.image.height], [160, 96]);

  const half = await upscale(image, 2, { modelPath: fp16Path, ...settings });
  assert.ok(maxAbsDiff(half.image, two.image) <= 2, `fp16 vs fp32: ${maxAbsDiff(half.image, two.image)}`);

  const fixed = await OnnxUpscaler.load(fixedPath, settings);
  try {
    assert.deepEqual(fixed.fixedSize, { width: 32, height: 32 });
    assert.equal(fixed.scale, 2);
    const big = testImage(50, 70);
    const viaFixed = await fixed.run(big, { overlap: 4 });
    const reference = await upscaler.run(big, { tile: 1024 });
    assert.ok(maxAbsDiff(viaFixed.image, reference.image) <= 1);
    const small = await fixed.run(testImage(20, 12), { overlap: 4 }); // padded up to 32x32, cropped back
    assert.deepEqual([small.image.width, small.image.height], [40, 24]);
  } finally {
    await fixed.release();
  }
});

test('Lanczos fallback when no model is configured', async () => {
  const image = testImage(33, 17);
  const two = await upscale(image, 2);
  assert.equal(two.method, 'lanczos');
  assert.deepEqual([two.image.width, two.image.height, two.image.data.length], [66, 34, 66 * 34 * 3]);
  const four = await upscale(image, 4);
  assert.deepEqual([four.image.width, four.image.height], [132, 68]);
  // Lanczos and the toy model agree roughly on content (both are upscales of the same picture).
  const model2 = await upscale(image, 2, { upscaler });
  assert.ok(meanAbsDiff(model2.image, two.image) < 60);
  await assert.rejects(upscale(image, 3 as 2), /2 or 4/);
});
