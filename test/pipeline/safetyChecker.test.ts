// The safety checker's CLIP preprocessing (clipPreprocessing reads feature_extractor/preprocessor_config.json,
// clipPixels resizes the shortest edge, centre-crops, rescales and normalises). The checker here is generated
// (scripts/testModels/networks.ts: clipSafetyChecker) and judges only clip_input: it flags an image when some pixel is
// far redder than green after normalisation. So its verdict shows whether the pixels it was fed were cropped where
// CLIP crops them and normalised with the folder's own mean and std.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clipPixels, clipPreprocessing, isFlagged } from '../../src/pipeline/safetyChecker.ts';
import { createSession, releaseSession, type LoadedSession } from '../../src/pipeline/session.ts';
import type { RgbImage } from '../../src/pipeline/types.ts';
import { writeModel } from '../../scripts/testModels/graph.ts';
import { loadTestPipeline, modelDir, request } from './helpers.ts';
import { clipSafetyChecker } from '../../scripts/testModels/networks.ts';

// A processor config unlike CLIP's defaults (size 160, mean 0.5, std 0.1): red (255, 0, 0) normalises to
// (1 - 0.5) / 0.1 = 5 in red and (0 - 0.5) / 0.1 = -5 in green, a difference of 10 > 6. With CLIP's default mean and
// std it would be about 3.7, and without normalisation 1: neither is flagged.
const CONFIG = {
  crop_size: { height: 160, width: 160 },
  size: { shortest_edge: 160 },
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.1, 0.1, 0.1],
  rescale_factor: 1 / 255,
};

let dir: string;
let checker: LoadedSession;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clip-checker-'));
  writeModel(join(dir, 'model.onnx'), clipSafetyChecker());
  checker = await createSession(join(dir, 'model.onnx'), { provider: 'cpu', intraOpThreads: 1 });
});
after(async () => {
  await releaseSession(checker);
  await rm(dir, { recursive: true, force: true });
});

/** Grey image with a red band of `band` columns (or rows, when `rows`) starting at `at`. */
function withRedBand(width: number, height: number, at: number, band: number, rows = false): RgbImage {
  const data = new Uint8Array(width * height * 3).fill(128);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = rows ? y : x;
      if (p < at || p >= at + band) continue;
      data.set([255, 0, 0], (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

test('clipPreprocessing reads the folder config; CLIP defaults only where it says nothing', () => {
  const prep = clipPreprocessing(CONFIG);
  assert.deepEqual(prep, { shortestEdge: 160, crop: { width: 160, height: 160 }, mean: [0.5, 0.5, 0.5], std: [0.1, 0.1, 0.1], rescale: 1 / 255 });
  // Old CLIPFeatureExtractor configs give sizes as bare numbers.
  assert.deepEqual(clipPreprocessing({ size: 192, crop_size: 176 }).crop, { width: 176, height: 176 });
  assert.equal(clipPreprocessing({ size: 192 }).shortestEdge, 192);
  assert.equal(clipPreprocessing(undefined).shortestEdge, 224);
});

test('clipPixels: planar [3, crop, crop], normalised with the config mean and std', async () => {
  const prep = clipPreprocessing(CONFIG);
  const pixels = await clipPixels(withRedBand(64, 64, 0, 64), prep);
  assert.equal(pixels.length, 3 * 160 * 160);
  const plane = 160 * 160;
  for (const i of [0, 12345, plane - 1]) {
    assert.ok(Math.abs(pixels[i]! - 5) < 1e-5, `red plane ${pixels[i]}`);
    assert.ok(Math.abs(pixels[plane + i]! + 5) < 1e-5, `green plane ${pixels[plane + i]}`);
  }
});

test('the checker sees what CLIP would see: a red band in the centre is flagged, one the centre crop cuts off is not', async () => {
  const prep = clipPreprocessing(CONFIG);
  // 96x64 resized to 240x160, then 40 px (16 source columns) are cropped off each side.
  assert.equal(await isFlagged(checker, withRedBand(96, 64, 43, 10), prep), true, 'red in the middle');
  assert.equal(await isFlagged(checker, withRedBand(96, 64, 0, 10), prep), false, 'red band left of the crop');
  assert.equal(await isFlagged(checker, withRedBand(96, 64, 86, 10), prep), false, 'red band right of the crop');
  // Tall image: the crop cuts rows instead.
  assert.equal(await isFlagged(checker, withRedBand(64, 96, 0, 10, true), prep), false, 'red band above the crop');
  assert.equal(await isFlagged(checker, withRedBand(64, 96, 43, 10, true), prep), true, 'red band in the middle rows');
  assert.equal(await isFlagged(checker, withRedBand(64, 64, 0, 0), prep), false, 'plain grey');
});

test('the verdict depends on the normalisation: CLIP\'s default mean and std do not flag the same red', async () => {
  const red = withRedBand(96, 64, 43, 10);
  assert.equal(await isFlagged(checker, red, clipPreprocessing(CONFIG)), true);
  assert.equal(await isFlagged(checker, red, clipPreprocessing({ ...CONFIG, image_mean: undefined, image_std: undefined })), false);
});

test('the pipeline feeds the checker as its folder\'s feature_extractor config says', async () => {
  // tiny-sd15 with this checker and a config whose mean/std (red 0, green 1, std 0.1) turn almost any pixel into a
  // red-minus-green difference over 6, which CLIP's default mean and std never reach (at most about 3.7).
  const folder = join(dir, 'tiny-sd15-clip');
  await cp(await modelDir('tiny-sd15'), folder, { recursive: true });
  writeModel(join(folder, 'safety_checker/model.onnx'), clipSafetyChecker());
  const config = { ...CONFIG, image_mean: [0, 1, 0.5] };
  await writeFile(join(folder, 'feature_extractor/preprocessor_config.json'), JSON.stringify(config));
  const pipeline = await loadTestPipeline('tiny-sd15', { modelDir: folder });
  try {
    const image = (await pipeline.generate(request({ seed: 4 }))).images[0]!;
    assert.equal(await isFlagged(checker, image, clipPreprocessing(config)), true, 'this config flags the image');
    assert.equal(await isFlagged(checker, image, clipPreprocessing(undefined)), false, 'CLIP defaults would not');
    assert.equal(image.nsfw, true, 'so the pipeline used the folder config');
  } finally {
    await pipeline.dispose();
  }
});
