import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { InitImageError, loadInitImage, targetSize, type InitImageOptions } from '../../src/pipeline/initImage.ts';
import { bombPng, pixel, rawSharp, testImage } from './helpers.ts';

const base: InitImageOptions = { maxPixels: 512 * 512, multiple: 64, limitInputPixels: 40_000_000 };

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InitImageError, `expected InitImageError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('targetSize keeps the aspect ratio within the budget in multiples of 64', () => {
  assert.deepEqual(targetSize(1024, 1024, base), { width: 512, height: 512 });
  assert.deepEqual(targetSize(100, 100, base), { width: 512, height: 512 }); // small uploads are scaled up
  const wide = targetSize(1920, 1080, base);
  assert.equal(wide.width % 64, 0);
  assert.equal(wide.height % 64, 0);
  assert.ok(wide.width * wide.height <= 512 * 512);
  assert.deepEqual(wide, { width: 640, height: 384 });
  const extreme = targetSize(1, 1000, base); // short side clamps to one multiple; area still within budget
  assert.equal(extreme.width, 64);
  assert.ok(extreme.width * extreme.height <= 512 * 512);
  assert.equal(extreme.height, 4096);
  assert.deepEqual(targetSize(300, 200, { ...base, width: 768, height: 512 }), { width: 768, height: 512 });
  assert.deepEqual(targetSize(300, 200, { ...base, width: 384 }), { width: 384, height: 256 });
});

test('PNG with alpha is flattened onto white and resized to the requested size', async () => {
  // Left half opaque red, right half fully transparent (black in the colour channels).
  const w = 64, h = 32;
  const rgba = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = (y * w + x) * 4;
    if (x < w / 2) { rgba[i] = 255; rgba[i + 3] = 255; }
  }
  const png = await sharp(rgba, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer();
  const out = await loadInitImage(png, { ...base, width: 128, height: 64 });
  assert.equal(out.image.width, 128);
  assert.equal(out.image.height, 64);
  assert.equal(out.image.data.length, 128 * 64 * 3);
  assert.deepEqual(pixel(out.image, 10, 30), [255, 0, 0]);
  assert.deepEqual(pixel(out.image, 120, 30), [255, 255, 255]);
  assert.ok(out.notes.some((n) => /white/.test(n)));
});

test('JPEG with EXIF orientation 6 is rotated before sizing', async () => {
  // Stored 80x40 with a bright left column band; orientation 6 = rotate 90 deg clockwise for display -> 40x80.
  const stored = testImage(80, 40);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 10; x++) stored.data.set([250, 250, 250], (y * 80 + x) * 3);
  const jpg = await rawSharp(stored).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
  const out = await loadInitImage(jpg, base);
  assert.equal(out.source.width, 40);
  assert.equal(out.source.height, 80);
  assert.ok(out.image.height > out.image.width, `portrait expected, got ${out.image.width}x${out.image.height}`);
  assert.deepEqual({ w: out.image.width, h: out.image.height }, { w: 320, h: 704 }); // 40:80 within 512*512 budget
  // After a clockwise rotation the stored left band is at the top.
  const top = pixel(out.image, 160, 2);
  assert.ok(top.every((c) => c > 200), `top should be the bright band, got ${top}`);
  assert.ok(out.notes.some((n) => /orientation/.test(n)));
});

test('animated GIF: first frame only, and the note says so', async () => {
  const red = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
  const blue = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 0, g: 0, b: 255 } } }).png().toBuffer();
  const gif = await sharp([red, blue], { join: { animated: true } }).gif().toBuffer();
  const out = await loadInitImage(gif, { ...base, width: 64, height: 64 });
  assert.equal(out.source.frames, 2);
  assert.equal(out.image.height, 64); // not 2 frames stacked
  const [r, g, b] = pixel(out.image, 32, 32);
  assert.ok(r > 200 && g < 50 && b < 50, `expected the red first frame, got ${[r, g, b]}`);
  assert.ok(out.notes.some((n) => /first of its 2 frames/.test(n)));
});

test('WebP is accepted', async () => {
  const webp = await rawSharp(testImage(96, 64)).webp({ lossless: true }).toBuffer();
  const out = await loadInitImage(webp, base);
  assert.equal(out.source.format, 'webp');
  assert.ok(out.image.width * out.image.height <= base.maxPixels);
  assert.deepEqual([out.image.width, out.image.height], [576, 384]);
});

test('a 1x1 image is scaled up to the budget', async () => {
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
  const out = await loadInitImage(png, base);
  assert.deepEqual([out.image.width, out.image.height], [512, 512]);
  assert.deepEqual(pixel(out.image, 300, 300), [10, 20, 30]);
});

test('grayscale input still yields 3 channels', async () => {
  const gray = await sharp(Buffer.alloc(64 * 64, 128), { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
  const out = await loadInitImage(gray, { ...base, width: 64, height: 64 });
  assert.equal(out.image.data.length, 64 * 64 * 3);
  assert.deepEqual(pixel(out.image, 5, 5), [128, 128, 128]);
});

test('decompression bomb header is refused before decoding', async () => {
  const bomb = bombPng(30000, 30000);
  assert.ok(bomb.length < 200);
  await rejectsWith(loadInitImage(bomb, base), /too large \(30000x30000\)/);
});

test('random bytes, empty buffers, truncated JPEGs and SVGs give clear errors', async () => {
  await rejectsWith(loadInitImage(randomBytes(4096), base), /not an image I can read/);
  await rejectsWith(loadInitImage(new Uint8Array(0), base), /empty/);
  const jpg = await rawSharp(testImage(128, 128)).jpeg().toBuffer();
  await rejectsWith(loadInitImage(jpg.subarray(0, Math.floor(jpg.length / 2)), base), /corrupt or truncated/);
  const png = await rawSharp(testImage(128, 128)).png().toBuffer();
  await rejectsWith(loadInitImage(png.subarray(0, Math.floor(png.length * 0.6)), base), /corrupt or truncated/);
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
  await rejectsWith(loadInitImage(svg, base), /SVG files are not supported/);
});
