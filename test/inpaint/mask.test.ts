// The pure mask math: blur, binarize, the latent-size mask, the crop box of "only masked", the outpainting layout
// and its mask ramp.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cropRegion } from '../../src/pipeline/inpaint/crop.ts';
import { binarizeMask, blurMask, gaussianKernel, latentMask, maskedImageChw } from '../../src/pipeline/inpaint/mask.ts';
import { composite } from '../../src/pipeline/inpaint/overlay.ts';
import { outpaintLayout, outpaintMask } from '../../src/pipeline/inpaint/outpaint.ts';
import type { MaskImage } from '../../src/pipeline/types.ts';

function rect(width: number, height: number, x1: number, y1: number, x2: number, y2: number): MaskImage {
  const data = new Uint8Array(width * height);
  for (let y = y1; y < y2; y++) data.fill(255, y * width + x1, y * width + x2);
  return { data, width, height };
}

describe('mask math', () => {
  test('gaussian kernel sums to 1 and is symmetric', () => {
    const k = gaussianKernel(2);
    assert.equal(k.length, 13);
    assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    for (let i = 0; i < k.length; i++) assert.equal(k[i], k[k.length - 1 - i]);
  });

  test('blur: a straight edge becomes a ramp through 50% at the edge; far pixels untouched; radius 0 is a copy', () => {
    const mask = rect(32, 8, 16, 0, 32, 8);
    const b = blurMask(mask, 2);
    const row = Array.from(b.data.subarray(0, 32));
    assert.equal(row[0], 0);
    assert.equal(row[31], 255);
    assert.ok(row[15]! > 60 && row[15]! < 128 && row[16]! > 128 && row[16]! < 195, `edge values ${row[15]}, ${row[16]}`);
    for (let x = 1; x < 32; x++) assert.ok(row[x]! >= row[x - 1]!, 'monotonic');
    assert.deepEqual(blurMask(mask, 0).data, mask.data);
  });

  test('binarize at 0.5; latent mask takes the top-left pixel of each 8x8 block (torch nearest)', () => {
    assert.deepEqual([...binarizeMask({ data: Uint8Array.from([0, 127, 128, 255]), width: 4, height: 1 })], [0, 0, 1, 1]);
    const mask = rect(32, 16, 9, 0, 32, 16); // block 1 starts at x = 8, which is 0
    const latent = latentMask(binarizeMask(mask), 32, 16, 4, 2);
    assert.deepEqual([...latent], [0, 0, 1, 1, 0, 0, 1, 1]);
  });

  test('masked image: repainted pixels are 0 (grey) in [-1, 1], kept pixels their value', () => {
    const image = { data: Uint8Array.from([255, 0, 255, 0, 255, 0]), width: 2, height: 1 };
    assert.deepEqual([...maskedImageChw(image, Uint8Array.from([0, 1]))], [1, 0, -1, 0, 1, 0]);
  });

  test('composite: 0 keeps the original exactly, 255 the result, between mixes', () => {
    const a = { data: Uint8Array.from([10, 10, 10, 10, 10, 10, 10, 10, 10]), width: 3, height: 1 };
    const b = { data: Uint8Array.from([200, 200, 200, 200, 200, 200, 200, 200, 200]), width: 3, height: 1 };
    assert.deepEqual([...composite(a, b, { data: Uint8Array.from([0, 255, 128]), width: 3, height: 1 }).data], [10, 10, 10, 200, 200, 200, 105, 105, 105]);
  });
});

describe('only-masked crop region (diffusers get_crop_region)', () => {
  test('padded box, widened to the target aspect ratio, kept inside the image', () => {
    const mask = rect(200, 100, 50, 40, 70, 60); // 20x20 at (50, 40)
    assert.deepEqual(cropRegion(mask, 64, 64, 10), { x1: 40, y1: 30, x2: 80, y2: 70 });
    // A 2:1 target widens the 40x40 box to 80x40 around its centre.
    assert.deepEqual(cropRegion(mask, 128, 64, 10), { x1: 20, y1: 30, x2: 100, y2: 70 });
    // Near the right edge the box slides back inside.
    const edge = rect(200, 100, 185, 40, 200, 60);
    const box = cropRegion(edge, 128, 64, 10);
    assert.equal(box.x2, 200);
    assert.equal(box.x2 - box.x1, (box.y2 - box.y1) * 2);
    assert.deepEqual(cropRegion(rect(50, 50, 0, 0, 0, 0), 64, 64, 8), { x1: 0, y1: 0, x2: 50, y2: 50 });
  });
});

describe('outpainting layout', () => {
  test('zoom out keeps the canvas size and centres the shrunk picture', () => {
    assert.deepEqual(outpaintLayout(512, 512, { zoomOut: 2 }, 512 * 512), { canvas: { width: 512, height: 512 }, placed: { x: 128, y: 128, width: 256, height: 256 } });
    const z = outpaintLayout(512, 768, { zoomOut: 1.5 }, 512 * 768);
    assert.deepEqual(z.canvas, { width: 512, height: 768 });
    assert.equal(z.placed.width, 342);
    assert.equal(z.placed.height, 512);
    assert.throws(() => outpaintLayout(512, 512, { zoomOut: 2.5 }, 1e9), RangeError);
  });

  test('pan grows by half on its side, in multiples of 8, and shrinks to the pixel budget', () => {
    assert.deepEqual(outpaintLayout(512, 512, { pan: 'left' }, 1e9), { canvas: { width: 768, height: 512 }, placed: { x: 256, y: 0, width: 512, height: 512 } });
    assert.deepEqual(outpaintLayout(512, 512, { pan: 'down' }, 1e9), { canvas: { width: 512, height: 768 }, placed: { x: 0, y: 0, width: 512, height: 512 } });
    const capped = outpaintLayout(768, 512, { pan: 'right' }, 768 * 512);
    assert.ok(capped.canvas.width * capped.canvas.height <= 768 * 512, JSON.stringify(capped));
    assert.equal(capped.canvas.width % 8, 0);
    assert.equal(capped.canvas.height % 8, 0);
    assert.equal(capped.placed.x, 0);
  });

  test('mask: new area white, a ramp inside the picture only on the sides that border new area', () => {
    const mask = outpaintMask({ width: 48, height: 16 }, { x: 16, y: 0, width: 32, height: 16 }, 8);
    const row = Array.from(mask.data.subarray(0, 48));
    assert.ok(row.slice(0, 16).every((v) => v === 255));
    assert.ok(row.slice(24).every((v) => v === 0), 'no ramp on the right edge (it borders nothing new)');
    for (let x = 17; x < 24; x++) assert.ok(row[x]! < row[x - 1]! && row[x]! > 0);
  });
});
