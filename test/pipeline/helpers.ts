// Shared helpers for the pipeline's end-to-end tests: load a tiny test model, build requests, compare images.
import { join } from 'node:path';
import { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { loadTokenizer } from '../../src/pipeline/tokenizer.ts';
import type { GenerateRequest, PipelineOptions, RgbImage } from '../../src/pipeline/types.ts';
import { ensureTestModels, type TestModelName } from '../fixtures/models.ts';

export async function modelDir(name: TestModelName): Promise<string> {
  return join(await ensureTestModels(), name);
}

/** Pipeline options as the tests use them: CPU, one thread (the test machine is shared). */
export async function testOptions(name: TestModelName, overrides: Partial<PipelineOptions> = {}): Promise<PipelineOptions> {
  return { modelDir: await modelDir(name), provider: 'cpu', attentionSlicing: 'auto', lowMemory: false, intraOpThreads: 1, interOpThreads: 1, ...overrides };
}

export async function loadTestPipeline(name: TestModelName, overrides: Partial<PipelineOptions> = {}): Promise<StableDiffusionPipeline> {
  return StableDiffusionPipeline.load(await testOptions(name, overrides));
}

/** A small request (64x64, 4 steps); fields override. */
export function request(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
  return { prompt: 'a photo of a cat', seed: 42, steps: 4, guidance: 7.5, width: 64, height: 64, count: 1, ...overrides };
}

export async function tokenIds(name: TestModelName, text: string): Promise<number[]> {
  const tokenizer = await loadTokenizer(join(await modelDir(name), 'tokenizer'));
  return tokenizer.encode(text).ids;
}

/** Largest per-channel difference between two images of the same size. */
export function maxAbsDiff(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`sizes differ: ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i]! - b.data[i]!));
  return max;
}

export function meanAbsDiff(a: RgbImage, b: RgbImage): number {
  if (a.data.length !== b.data.length) throw new Error('sizes differ');
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

/** Number of distinct byte values: 1 means a constant image. */
export function distinctValues(image: RgbImage): number {
  return new Set(image.data).size;
}

export function pixel(image: RgbImage, x: number, y: number): [number, number, number] {
  if (!(x >= 0 && x < image.width && y >= 0 && y < image.height)) throw new Error(`pixel (${x}, ${y}) is outside the ${image.width}x${image.height} image`);
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** Every pixel of `image` within `tolerance` of `rgb` per channel; returns the first offending pixel, or undefined. */
export function firstPixelOff(image: RgbImage, rgb: readonly number[], tolerance: number): { x: number; y: number; got: number[] } | undefined {
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const got = pixel(image, x, y);
      if (got.some((v, c) => Math.abs(v - rgb[c]!) > tolerance)) return { x, y, got };
    }
  }
  return undefined;
}

/** A smooth, mid-range picture (no saturated pixels) so that movement away from it is measurable. */
export function initImage(width = 64, height = 64): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = 60 + Math.round((x / (width - 1)) * 120);
      data[i + 1] = 60 + Math.round((y / (height - 1)) * 120);
      data[i + 2] = 120 + Math.round(40 * Math.sin((x + y) / 6));
    }
  }
  return { data, width, height };
}
