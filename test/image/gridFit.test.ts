import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { composeGrid, encodeGridPng, gridLayout } from '../../src/pipeline/grid.ts';
import { FitUploadError, fitUpload } from '../../src/pipeline/fitUpload.ts';
import { XMP_KEYWORD, encodePng, readPngParameters, readPngText } from '../../src/pipeline/png.ts';
import type { RgbImage } from '../../src/pipeline/types.ts';
import { pixel, testImage } from './helpers.ts';

function solid(width: number, height: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { data, width, height };
}

const red = solid(32, 24, [255, 0, 0]);
const green = solid(32, 24, [0, 255, 0]);
const blue = solid(32, 24, [0, 0, 255]);
const white = solid(32, 24, [255, 255, 255]);

test('layouts: 1x2 for two images, 2x2 for three and four', () => {
  assert.deepEqual(gridLayout([red, green]), { columns: 2, rows: 1, cellWidth: 32, cellHeight: 24 });
  assert.deepEqual(gridLayout([red, green, blue]), { columns: 2, rows: 2, cellWidth: 32, cellHeight: 24 });
  assert.throws(() => gridLayout([]), /1 to 4/);
  assert.throws(() => gridLayout([red, red, red, red, red]), /1 to 4/);
});

test('two images side by side', async () => {
  const grid = await composeGrid([red, green]);
  assert.deepEqual([grid.width, grid.height], [64, 24]);
  assert.deepEqual(pixel(grid, 5, 5), [255, 0, 0]);
  assert.deepEqual(pixel(grid, 40, 20), [0, 255, 0]);
});

test('four images in reading order; three leave the last cell as background', async () => {
  const four = await composeGrid([red, green, blue, white]);
  assert.deepEqual([four.width, four.height], [64, 48]);
  assert.deepEqual([pixel(four, 1, 1), pixel(four, 33, 1), pixel(four, 1, 25), pixel(four, 33, 25)], [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]);
  const three = await composeGrid([red, green, blue], { gap: 2, background: { r: 9, g: 9, b: 9 } });
  assert.deepEqual([three.width, three.height], [2 * 32 + 3 * 2, 2 * 24 + 3 * 2]);
  assert.deepEqual(pixel(three, 0, 0), [9, 9, 9]);
  assert.deepEqual(pixel(three, 2, 2), [255, 0, 0]);
  assert.deepEqual(pixel(three, 40, 30), [9, 9, 9]);
});

test('grid PNG carries the parameters', async () => {
  const png = await encodeGridPng([red, green], { parameters: 'grid params' });
  assert.equal(readPngParameters(png), 'grid params');
  assert.equal((await sharp(png).metadata()).width, 64);
});

function noise(width: number, height: number): RgbImage {
  return { data: new Uint8Array(randomBytes(width * height * 3)), width, height };
}

test('fitUpload returns bytes untouched when they fit', async () => {
  const png = await encodePng(testImage(64, 64), { parameters: 'p' });
  const out = await fitUpload(png, png.length);
  assert.equal(out.changed, false);
  assert.ok(out.bytes.equals(png));
});

test('fitUpload first tries stronger lossless compression', async () => {
  const image = testImage(256, 256);
  const loose = await encodePng(image, { parameters: 'keep me' }, { compressionLevel: 0 });
  const tight = await encodePng(image, { parameters: 'keep me' }, { compressionLevel: 9, adaptiveFiltering: true });
  assert.ok(tight.length < loose.length * 0.8);
  const out = await fitUpload(loose, loose.length - 1);
  assert.equal(out.downscaled, false);
  assert.deepEqual([out.width, out.height], [256, 256]);
  assert.ok(out.bytes.length < loose.length);
  const { data } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
  assert.ok(data.equals(Buffer.from(image.data)), 'still lossless');
  assert.equal(readPngParameters(out.bytes), 'keep me');
});

test('fitUpload downscales step by step and keeps the text chunks', async () => {
  const png = await encodePng(noise(384, 256), { parameters: 'a prompt 🌸\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 384x256', software: 'imagine-bot' });
  const limit = Math.floor(png.length / 3);
  const out = await fitUpload(png, limit);
  assert.ok(out.bytes.length <= limit, `${out.bytes.length} > ${limit}`);
  assert.equal(out.downscaled, true);
  assert.ok(out.width < 384 && out.height < 256);
  assert.ok(Math.abs(out.width / out.height - 1.5) < 0.05, 'aspect ratio kept');
  const meta = await sharp(out.bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [out.width, out.height]);
  const text = readPngText(out.bytes);
  assert.equal(text.find((c) => c.keyword === 'parameters')?.text, readPngParameters(png));
  assert.equal(text.find((c) => c.keyword === 'parameters')?.type, 'iTXt');
  assert.ok(text.some((c) => c.keyword === XMP_KEYWORD && c.type === 'iTXt'));
  assert.equal(text.find((c) => c.keyword === 'Software')?.text, 'imagine-bot');
});

test('fitUpload gives up with a clear error when nothing fits', async () => {
  const png = await encodePng(noise(128, 128), { parameters: 'p' });
  await assert.rejects(fitUpload(png, 2 * 1024 * 1024 / 1024 / 8), (err: unknown) => {
    assert.ok(err instanceof FitUploadError);
    assert.match(err.message, /upload limit/);
    return true;
  });
});
