// Test inputs generated on the fly with sharp (no binary fixtures in the repo).
import { deflateSync } from 'node:zlib';
import { createRequire } from 'node:module';
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from '../../src/pipeline/types.ts';

const require = createRequire(import.meta.url);
const encodeChunks = require('png-chunks-encode') as (chunks: { name: string; data: Uint8Array }[]) => Uint8Array;

/** A deterministic, non-uniform RGB image (gradients plus a checker so resizes and tiles are visible). */
export function testImage(width: number, height: number, seed = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / Math.max(1, width - 1);
      data[i + 1] = (y * 255) / Math.max(1, height - 1);
      data[i + 2] = ((Math.floor(x / 4) + Math.floor(y / 4) + seed) % 2) * 200 + ((x * 7 + y * 13 + seed * 31) % 50);
    }
  }
  return { data, width, height };
}

export function rawSharp(image: RgbImage): Sharp {
  return sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } });
}

/** A PNG whose IHDR claims width x height but whose image data is a few bytes: a decompression bomb's header. */
export function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.from(
    encodeChunks([
      { name: 'IHDR', data: ihdr },
      { name: 'IDAT', data: deflateSync(Buffer.alloc(64)) },
      { name: 'IEND', data: new Uint8Array(0) },
    ]),
  );
}

/** Mean absolute difference per channel value between two equally sized images. */
export function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`size mismatch ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

export function maxAbsDiff(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`size mismatch ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

export function pixel(image: RgbImage, x: number, y: number): [number, number, number] {
  if (!(x >= 0 && x < image.width && y >= 0 && y < image.height)) throw new Error(`pixel (${x}, ${y}) is outside the ${image.width}x${image.height} image`);
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}
