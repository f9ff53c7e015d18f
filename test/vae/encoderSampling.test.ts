// An encoder exported the way diffusers' convert_stable_diffusion_checkpoint_to_onnx.py does it, sampling its
// latent_sample inside the graph: rewritten at load so img2img's sample comes from the job's seed, as diffusers draws it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../src/pipeline/onnx/build.ts';
import { loadModelFile } from '../../src/pipeline/onnx/modelFile.ts';
import { createSession, releaseSession } from '../../src/pipeline/session.ts';
import { encodeImage } from '../../src/pipeline/vae.ts';
import { prepareModel } from '../../src/pipeline/prepareModel.ts';
import { randomNodes } from '../../src/pipeline/encoderSampling.ts';
import { TorchGenerator } from '../../src/pipeline/random.ts';
import { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import type { RgbImage } from '../../src/pipeline/types.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { buildVaeEncoderLike } from './vaeLike.ts';

const SPEC = { midChannels: 8, outChannels: 4, attention: true };
const image: RgbImage = { width: 64, height: 48, data: Uint8Array.from({ length: 64 * 48 * 3 }, (_, i) => (i * 37) % 256) };

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'enc-sampling-'));
  try { return await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test('in-graph sampling is rewritten away: the sample is mean + std * the job generator\'s noise, the same every run', () => withDir(async (dir) => {
  const path = join(dir, 'model.onnx');
  await writeFile(path, encodeModel(buildVaeEncoderLike(SPEC, { inGraphSampling: true })));
  // The export as it is: two runs, two different samples.
  const feeds = { sample: new ort.Tensor('float32', Float32Array.from({ length: 3 * 48 * 64 }, (_, i) => Math.sin(i)), [1, 3, 48, 64]) };
  const original = await ort.InferenceSession.create(path);
  const [a, b] = [await original.run(feeds), await original.run(feeds)];
  await original.release();
  assert.ok((a.latent_sample!.data as Float32Array).some((v, i) => v !== (b.latent_sample!.data as Float32Array)[i]), 'the original export samples with its own generator: each run differs');

  const logs: string[] = [];
  const prepared = await prepareModel('vaeEncoder', path, { attentionSlicing: 'auto', provider: 'cpu', log: (m) => logs.push(m) });
  assert.match(logs.join('\n'), /samples latent_sample inside the graph \(RandomNormalLike\); it now outputs latent_parameters/);
  assert.match(logs.join('\n'), /1 attention blocks found, 1 fused/, 'and its attention is still rewritten');
  const { model } = await loadModelFile(prepared.path);
  assert.deepEqual(randomNodes(model), []);

  // diffusers: latent = mean + exp(0.5 * clamp(logvar)) * randn(generator), mean/logvar from the same weights.
  const momentsPath = join(dir, 'moments.onnx');
  await writeFile(momentsPath, encodeModel(buildVaeEncoderLike(SPEC)));
  const moments = await createSession(momentsPath, { provider: 'cpu' });
  const encoder = await createSession(prepared.path, { provider: 'cpu' });
  try {
    const expected = await encodeImage(moments, image, new TorchGenerator(42));
    const first = await encodeImage(encoder, image, new TorchGenerator(42));
    const second = await encodeImage(encoder, image, new TorchGenerator(42));
    assert.deepEqual(first.dims, [1, 4, 6, 8]);
    assert.deepEqual(first.latents, second.latents, 'same seed, same sample');
    let worst = 0;
    for (let i = 0; i < expected.latents.length; i++) worst = Math.max(worst, Math.abs(expected.latents[i]! - first.latents[i]!));
    assert.ok(worst <= 1e-5, `matches mean + std * noise: ${worst}`);
    const other = await encodeImage(encoder, image, new TorchGenerator(43));
    assert.ok(other.latents.some((v, i) => v !== first.latents[i]), 'another seed, another sample');
  } finally {
    await releaseSession(moments);
    await releaseSession(encoder);
  }
  // A second load uses the cached rewrite.
  assert.equal((await prepareModel('vaeEncoder', path, { attentionSlicing: 'auto', provider: 'cpu' })).path, prepared.path);
}));

test('img2img with an encoder that samples inside its graph gives the same image on every run', () => withDir(async (dir) => {
  const root = await ensureTestModels();
  const folder = join(dir, 'tiny-sd15-sampling');
  await cp(join(root, 'tiny-sd15'), folder, { recursive: true });
  await writeFile(join(folder, 'vae_encoder/model.onnx'), encodeModel(buildVaeEncoderLike(SPEC, { inGraphSampling: true })));
  const pipeline = await StableDiffusionPipeline.load({ modelDir: folder, provider: 'cpu', attentionSlicing: 'auto', lowMemory: false });
  try {
    const initImage: RgbImage = { width: 64, height: 64, data: Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 37) % 256) };
    const request = { prompt: 'a cat', seed: 7, steps: 4, guidance: 7.5, width: 64, height: 64, count: 1, initImage, strength: 0.5 };
    const [a, b] = [await pipeline.generate(request), await pipeline.generate(request)];
    assert.deepEqual(a.images[0]!.data, b.images[0]!.data);
  } finally {
    await pipeline.dispose();
  }
}));
