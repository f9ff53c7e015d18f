// Tiled VAE decode/encode (diffusers' enable_vae_tiling) and the attention rewrite on the VAE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel } from '../../src/pipeline/onnx/build.ts';
import { createSession, releaseSession, type LoadedSession } from '../../src/pipeline/session.ts';
import { decodeLatents, encodeImage } from '../../src/pipeline/vae.ts';
import { decodeGeometry, encodeGeometry, runTiled, tilingFor, type Planar } from '../../src/pipeline/vaeTiling.ts';
import { prepareModel } from '../../src/pipeline/prepareModel.ts';
import { findAttentionBlocks } from '../../src/pipeline/attention/find.ts';
import { TorchGenerator } from '../../src/pipeline/random.ts';
import type { RgbImage } from '../../src/pipeline/types.ts';
import { buildVaeDecoderLike, buildVaeEncoderLike } from './vaeLike.ts';
import { maxAbsDiff, runModel } from '../attention/helpers.ts';
import * as ort from 'onnxruntime-node';

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'vae-tiling-'));
  try { return await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

async function session(dir: string, name: string, bytes: Uint8Array): Promise<LoadedSession> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return createSession(path, { provider: 'cpu', intraOpThreads: 1 });
}

/** 8x nearest upsample of a per-pixel linear map: a network with no context, so tiling must change nothing. */
const pointwise = async (t: Planar): Promise<Planar> => {
  const [H, W] = [t.height * 8, t.width * 8];
  const data = new Float32Array(3 * H * W);
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const src = (k: number) => t.data[k * t.height * t.width + Math.floor(y / 8) * t.width + Math.floor(x / 8)]!;
    data[(c * H + y) * W + x] = 0.3 * src(0) - 0.2 * src(1) + 0.1 * c * src(2) + 0.05 * src(3);
  }
  return { data, channels: 3, height: H, width: W };
};

test('runTiled: output size is the untiled size for any input size; a context-free network is unchanged', async () => {
  const g = decodeGeometry(64); // 8-latent tiles, stride 6, blend 16 px, keep 48 px
  for (const [h, w] of [[8, 8], [9, 20], [16, 16], [13, 7], [25, 31]] as const) {
    const input: Planar = { data: Float32Array.from({ length: 4 * h * w }, (_, i) => Math.sin(i * 0.37)), channels: 4, height: h, width: w };
    const whole = await pointwise(input);
    const tiled = await runTiled(input, g, pointwise);
    assert.deepEqual([tiled.channels, tiled.height, tiled.width], [3, h * 8, w * 8]);
    let worst = 0;
    for (let i = 0; i < whole.data.length; i++) worst = Math.max(worst, Math.abs(whole.data[i]! - tiled.data[i]!));
    assert.ok(worst < 1e-6, `${h}x${w}: ${worst}`);
  }
  assert.equal(tilingFor('off', 512), undefined);
  assert.deepEqual(tilingFor('auto', undefined)!.decode, { tileIn: 64, tileOut: 512, overlap: 0.25 }, "SD's sample_size 512 by default");
  assert.deepEqual(tilingFor('auto', 1024)!.encode, { tileIn: 1024, tileOut: 128, overlap: 0.25 });
  assert.throws(() => tilingFor(100, 512), /multiple of 64/);
});

/** Whether output column/row x lies within `r` pixels of an inner tile edge (tile starts every stride*8 pixels). */
function nearSeam(x: number, size: number, strideOut: number, tileOut: number, r: number): boolean {
  for (let s = 0; s < size; s += strideOut) {
    if (s > 0 && Math.abs(x - s) < r) return true;
    if (s + tileOut < size && Math.abs(x - (s + tileOut)) < r) return true;
  }
  return false;
}

test('tiled decode equals untiled away from the seams (local decoder)', () => withDir(async (dir) => {
  const decoder = await session(dir, 'dec.onnx', encodeModel(buildVaeDecoderLike({ midChannels: 8, outChannels: 4, attention: false })));
  try {
    const [lh, lw] = [36, 40];
    const latents = Float32Array.from({ length: 4 * lh * lw }, (_, i) => Math.sin(i * 0.71) * 0.8);
    const dims = [1, 4, lh, lw] as const;
    const whole = await decodeLatents(decoder, latents, dims);
    const g = decodeGeometry(128); // 16-latent tiles every 12 latents (96 px), 128 px out
    const tiled = await decodeLatents(decoder, latents, dims, g);
    assert.deepEqual([tiled.width, tiled.height], [whole.width, whole.height]);
    let far = 0;
    let near = 0;
    let farCount = 0;
    for (let y = 0; y < whole.height; y++) for (let x = 0; x < whole.width; x++) {
      const seam = nearSeam(x, whole.width, 96, 128, 20) || nearSeam(y, whole.height, 96, 128, 20);
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(whole.data[(y * whole.width + x) * 3 + c]! - tiled.data[(y * whole.width + x) * 3 + c]!);
        if (seam) near = Math.max(near, d);
        else { far = Math.max(far, d); farCount++; }
      }
    }
    assert.ok(farCount > 0.15 * whole.data.length, 'a real share of the image is away from seams');
    assert.ok(far <= 1, `away from seams: max difference ${far} levels`);
    assert.ok(near > 1, 'near the seams the tiles did see less context (the test can tell)');
  } finally {
    await releaseSession(decoder);
  }
}));

test('no step in the mean at tile borders on a smooth image (decoder with global attention)', () => withDir(async (dir) => {
  const decoder = await session(dir, 'dec.onnx', encodeModel(buildVaeDecoderLike({ midChannels: 8, outChannels: 4, attention: true, seed: 7 })));
  try {
    const [lh, lw] = [16, 32];
    // A smooth latent: gentle gradients.
    const latents = new Float32Array(4 * lh * lw);
    for (let c = 0; c < 4; c++) for (let y = 0; y < lh; y++) for (let x = 0; x < lw; x++) latents[(c * lh + y) * lw + x] = 0.6 * Math.sin((x / lw) * 2 + c) + 0.3 * Math.cos((y / lh) * 2 - c);
    const g = decodeGeometry(64);
    const img = await decodeLatents(decoder, latents, [1, 4, lh, lw], g);
    const untiled = await decodeLatents(decoder, latents, [1, 4, lh, lw]);
    const colMeans = (im: RgbImage) => Array.from({ length: im.width }, (_, x) => {
      let s = 0;
      for (let y = 0; y < im.height; y++) for (let c = 0; c < 3; c++) s += im.data[(y * im.width + x) * 3 + c]!;
      return s / (im.height * 3);
    });
    // The step between neighbouring columns' means, tiled minus untiled: where one kept tile meets the next (every
    // 48 px) an unblended seam adds a step of 3-7 levels here; blended, the profile follows the untiled one.
    const [tiledMeans, wholeMeans] = [colMeans(img), colMeans(untiled)];
    const extraStep = (x: number) => Math.abs((tiledMeans[x + 1]! - tiledMeans[x]!) - (wholeMeans[x + 1]! - wholeMeans[x]!));
    const borders = Array.from({ length: Math.floor((img.width - 1) / 48) }, (_, k) => extraStep(48 * (k + 1) - 1));
    assert.ok(borders.length >= 4);
    for (const s of borders) assert.ok(s <= 2, `a step of ${s.toFixed(2)} levels in the column mean at a tile border`);
    // Tiling does change this decoder's output (attention sees one tile at a time): the check above is not vacuous.
    assert.ok(untiled.data.some((v, i) => Math.abs(v - img.data[i]!) > 2));
  } finally {
    await releaseSession(decoder);
  }
}));

test('tiled encode equals untiled away from the seams, sampled once with the job generator', () => withDir(async (dir) => {
  const encoder = await session(dir, 'enc.onnx', encodeModel(buildVaeEncoderLike({ midChannels: 8, outChannels: 4, attention: false })));
  try {
    const [H, W] = [160, 224];
    const data = Uint8Array.from({ length: H * W * 3 }, (_, i) => (Math.sin(i * 0.013) * 0.5 + 0.5) * 255);
    const image: RgbImage = { data, width: W, height: H };
    const whole = await encodeImage(encoder, image, new TorchGenerator(5));
    const tiled = await encodeImage(encoder, image, new TorchGenerator(5), encodeGeometry(64));
    assert.deepEqual(tiled.dims, whole.dims);
    const [, c, h, w] = whole.dims;
    let far = 0;
    let near = 0;
    for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = (k * h + y) * w + x;
      const d = Math.abs(whole.latents[i]! - tiled.latents[i]!);
      // encode tiles: 8-latent output tiles every 6 latents; the receptive field is about 2 latents
      if (nearSeam(x, w, 6, 8, 3) || nearSeam(y, h, 6, 8, 3)) near = Math.max(near, d); else far = Math.max(far, d);
    }
    assert.ok(far <= 1e-4, `away from seams: ${far}`);
    assert.ok(near > 1e-3, 'near the seams the tiles differ (the test can tell)');
  } finally {
    await releaseSession(encoder);
  }
}));

test('the VAE gets the attention rewrite: mid-block attention found and fused, output unchanged', () => withDir(async (dir) => {
  for (const [part, model] of [['vaeDecoder', buildVaeDecoderLike({ midChannels: 8, outChannels: 4, attention: true })], ['vaeEncoder', buildVaeEncoderLike({ midChannels: 8, outChannels: 4, attention: true })]] as const) {
    const path = join(dir, `${part}.onnx`);
    await writeFile(path, encodeModel(model));
    assert.equal(findAttentionBlocks(model.graph!).length, 1);
    const logs: string[] = [];
    const prepared = await prepareModel(part, path, { attentionSlicing: 'auto', provider: 'cpu', log: (m) => logs.push(m) });
    assert.equal(prepared.attention, 'flash x1');
    assert.match(logs.join('\n'), /1 attention blocks found, 1 fused/);
    const feeds: Record<string, ort.Tensor> = part === 'vaeDecoder'
      ? { latent_sample: new ort.Tensor('float32', Float32Array.from({ length: 4 * 12 * 10 }, (_, i) => Math.cos(i)), [1, 4, 12, 10]) }
      : { sample: new ort.Tensor('float32', Float32Array.from({ length: 3 * 64 * 48 }, (_, i) => Math.cos(i * 0.1)), [1, 3, 64, 48]) };
    const diff = maxAbsDiff(await runModel(path, feeds), await runModel(prepared.path, feeds));
    assert.ok(diff <= 1e-4, `${part}: ${diff}`);
  }
}));
