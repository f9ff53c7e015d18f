// SDXL end to end against closed-form-sdxl, whose output is known exactly (test/fixtures/README.md): each latent
// channel reads one conditioning input, so the colour proves that both encoders' penultimate hidden states (each
// through its own tokenizer and pad token, text_encoder's half first), text_encoder_2's pooled projection, the time ids
// (height, width, 0, 0, height, width), force_zeros_for_empty_prompt and SDXL's VAE scaling factor reach the right
// place with the right values. Each test also checks that the likely mistakes would give another colour.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../src/pipeline/onnx/build.ts';
import { loadModelFile } from '../../src/pipeline/onnx/modelFile.ts';
import { isHalfModel, upcastModel } from '../../src/pipeline/onnx/upcast.ts';
import { after, before, describe, test } from 'node:test';
import type { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { loadTokenizer } from '../../src/pipeline/tokenizer.ts';
import { closedFormSdxlExpected, sdxlClosedFormRow, sdxlZeroRow, type SdxlClosedFormRow } from '../fixtures/models.ts';
import { firstPixelOff, loadTestPipeline, modelDir, request } from './helpers.ts';

const MODEL = 'closed-form-sdxl';

async function ids(text: string): Promise<{ ids1: number[]; ids2: number[] }> {
  const dir = await modelDir(MODEL);
  const t1 = await loadTokenizer(join(dir, 'tokenizer'));
  const t2 = await loadTokenizer(join(dir, 'tokenizer_2'));
  return { ids1: t1.encode(text).ids, ids2: t2.encode(text).ids };
}

async function row(text: string, width = 64, height = 64): Promise<SdxlClosedFormRow> {
  const { ids1, ids2 } = await ids(text);
  return sdxlClosedFormRow(ids1, ids2, width, height);
}

/** Colours differ by more than the ±1 the comparison allows on at least one channel. */
function distinct(a: readonly number[], b: readonly number[]): boolean {
  return a.some((v, i) => Math.abs(v - b[i]!) > 2);
}

/** Not clipped: a channel at 0 or 255 could hide an error. */
function unclipped(rgb: readonly number[]): boolean {
  return rgb.every((v) => v > 3 && v < 252);
}

describe('closed-form SDXL model: pixels match the closed-form expectation', () => {
  let pipeline: StableDiffusionPipeline;
  before(async () => {
    pipeline = await loadTestPipeline(MODEL);
  });
  after(() => pipeline.dispose());

  async function expectColour(rgb: readonly number[], overrides: Parameters<typeof request>[0]) {
    const result = await pipeline.generate(request({ sampler: 'ddim', ...overrides }));
    for (const [i, image] of result.images.entries()) {
      const off = firstPixelOff(image, rgb, 1);
      assert.equal(off, undefined, `image ${i}: pixel ${JSON.stringify(off)} vs expected ${rgb}`);
    }
    return result;
  }

  test('no guidance: both encoders, each tokenizer with its own pad token, pooled projection, time ids', async () => {
    const prompt = 'a photo of a cat';
    const cond = await row(prompt);
    const { rgb } = closedFormSdxlExpected(cond, undefined, 1);
    assert.ok(unclipped(rgb), `expected colour ${rgb} must not clip`);
    await expectColour(rgb, { prompt, guidance: 1 });

    // The mistakes this colour rules out:
    const { ids1, ids2 } = await ids(prompt);
    const wrong = (r: SdxlClosedFormRow) => closedFormSdxlExpected(r, undefined, 1).rgb;
    // last layer instead of the penultimate (hidden_states[-1] is the penultimate + 0.5 in both encoders)
    assert.ok(distinct(rgb, wrong({ ...cond, hidden1: cond.hidden1 + 0.5, hidden2: cond.hidden2 + 0.5 })), 'last layer');
    // the two encoders' halves swapped
    assert.ok(distinct(rgb, wrong({ ...cond, hidden1: cond.hidden2, hidden2: cond.hidden1 })), 'swapped halves');
    // one tokenizer's pad token for both (tokenizer pads with <|endoftext|>, tokenizer_2 with "!")
    assert.ok(distinct(rgb, wrong(sdxlClosedFormRow(ids1, ids1, 64, 64))), 'tokenizer_2 padded like tokenizer');
    assert.ok(distinct(rgb, wrong(sdxlClosedFormRow(ids2, ids2, 64, 64))), 'tokenizer padded like tokenizer_2');
    // the pooled output of text_encoder (its pooler_output is mean(ids1)/1000 + 0.5 here) instead of text_encoder_2's
    assert.ok(distinct(rgb, wrong({ ...cond, pooled: cond.hidden1 + 0.5 })), 'pooled from text_encoder');
    // time ids in latent pixels instead of image pixels
    assert.ok(distinct(rgb, wrong({ ...cond, timeIds: [8, 8, 0, 0, 8, 8] })), 'time ids in latent units');
  });

  test('time ids: (height, width, 0, 0, height, width) for a non-square image', async () => {
    const prompt = 'the red dog';
    const cond = await row(prompt, 128, 64);
    const { rgb } = closedFormSdxlExpected(cond, undefined, 1);
    assert.ok(unclipped(rgb), `expected colour ${rgb} must not clip`);
    await expectColour(rgb, { prompt, guidance: 1, width: 128, height: 64 });
    const swapped = closedFormSdxlExpected({ ...cond, timeIds: [128, 64, 0, 0, 128, 64] }, undefined, 1).rgb;
    assert.ok(distinct(rgb, swapped), 'width and height swapped must give another colour');
    const square = closedFormSdxlExpected(await row(prompt, 64, 64), undefined, 1).rgb;
    assert.ok(distinct(rgb, square), 'the size must change the colour');
  });

  test('guidance with no negative prompt: force_zeros_for_empty_prompt gives zero unconditional embeddings', async () => {
    const prompt = 'a photo of a cat';
    const cond = await row(prompt);
    for (const guidance of [1.5, 2]) {
      const { rgb } = closedFormSdxlExpected(cond, sdxlZeroRow(64, 64), guidance);
      assert.ok(unclipped(rgb), `expected colour ${rgb} must not clip`);
      await expectColour(rgb, { prompt, guidance, negativePrompt: '' });
      await expectColour(rgb, { prompt, guidance, negativePrompt: undefined });
      // encoding "" instead (what force_zeros_for_empty_prompt=false does) gives another colour
      const encodedEmpty = closedFormSdxlExpected(cond, await row(''), guidance).rgb;
      assert.ok(distinct(rgb, encodedEmpty), `guidance ${guidance}: zeros vs encoded ""`);
    }
  });

  test('guidance with a negative prompt: it is encoded by both encoders like the prompt', async () => {
    const prompt = 'a photo of a cat';
    const negative = 'the dog';
    const cond = await row(prompt);
    const uncond = await row(negative);
    const { rgb } = closedFormSdxlExpected(cond, uncond, 1.5);
    assert.ok(unclipped(rgb), `expected colour ${rgb} must not clip`);
    await expectColour(rgb, { prompt, negativePrompt: negative, guidance: 1.5 });
    assert.ok(distinct(rgb, closedFormSdxlExpected(cond, sdxlZeroRow(64, 64), 1.5).rgb), 'a negative prompt must not be zeroed');
    // guidance <= 1 runs no unconditional pass: the negative prompt changes nothing
    await expectColour(closedFormSdxlExpected(cond, undefined, 1).rgb, { prompt, negativePrompt: negative, guidance: 1 });
  });

  test('count 2, low-memory mode (one UNet row per pass) and any step count give the same colour', async () => {
    const prompt = 'a cat and a dog';
    const { rgb } = closedFormSdxlExpected(await row(prompt), await row('photo'), 1.5);
    await expectColour(rgb, { prompt, negativePrompt: 'photo', guidance: 1.5, count: 2, seed: 9, steps: 3 });
    const low = await loadTestPipeline(MODEL, { lowMemory: true });
    try {
      const result = await low.generate(request({ prompt, negativePrompt: 'photo', guidance: 1.5, count: 2, sampler: 'ddim', steps: 2 }));
      for (const image of result.images) assert.equal(firstPixelOff(image, rgb, 1), undefined);
    } finally {
      await low.dispose();
    }
  });
});

describe('SDXL float16 VAE with force_upcast: decoded in float32, as diffusers upcasts it', () => {
  test('the overflowing float16 decoder gives the exact colour only through the float32 copy', async () => {
    const base = mkdtempSync(join(tmpdir(), 'sdxl-upcast-'));
    try {
      const dir = join(base, 'model');
      cpSync(await modelDir('closed-form-sdxl-fp16-vae'), dir, { recursive: true });
      const prompt = 'a photo of a cat';
      const { rgb } = closedFormSdxlExpected(await row(prompt), undefined, 1);
      const upcast = await loadTestPipeline('closed-form-sdxl-fp16-vae', { modelDir: dir });
      try {
        const result = await upcast.generate(request({ prompt, guidance: 1, sampler: 'ddim' }));
        assert.equal(firstPixelOff(result.images[0]!, rgb, 1), undefined, `expected ${rgb}`);
      } finally {
        await upcast.dispose();
      }
      assert.ok(existsSync(join(dir, 'vae_decoder/model.fp32.onnx')), 'the float32 copy is cached beside the export');
      // The same folder with force_upcast false runs the float16 graph: it overflows (NaN -> 0)
      const configFile = join(dir, 'vae_decoder/config.json');
      writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), force_upcast: false }));
      const half = await loadTestPipeline('closed-form-sdxl-fp16-vae', { modelDir: dir });
      try {
        const result = await half.generate(request({ prompt, guidance: 1, sampler: 'ddim' }));
        assert.notEqual(firstPixelOff(result.images[0]!, rgb, 10), undefined, 'float16 decoding must be visibly wrong');
      } finally {
        await half.dispose();
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  test('upcastModel turns every float16 tensor, constant, Cast and declared type into float32', async () => {
    const { model } = await loadModelFile(join(await modelDir('tiny-sd15-fp16'), 'unet/model.onnx'));
    assert.equal(isHalfModel(model), true);
    assert.ok((await upcastModel(model, '.')) > 10);
    assert.equal(isHalfModel(model), false);
    const bytes = encodeModel(model);
    assert.ok(!model.graph!.initializer!.some((t) => t.dataType === 10));
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    try {
      const meta = session.inputMetadata.filter((m) => m.isTensor).map((m) => (m as { type: string }).type);
      assert.ok(meta.every((t) => t !== 'float16'), meta.join(','));
    } finally {
      await session.release();
    }
  });
});
