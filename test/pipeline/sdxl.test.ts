// SDXL on the random tiny exports: family detection from the folder alone, every sampler, img2img (diffusers' SDXL
// default strength 0.3), guidance off for SDXL-Turbo (fp16, trailing spacing), the attention rewrite, low-memory mode,
// and clear errors for folders that mix the families.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { detectFamily } from '../../src/pipeline/family.ts';
import { loadModelFolder } from '../../src/pipeline/modelFolder.ts';
import { inspectSignatures, penultimateHiddenState } from '../../src/pipeline/modelSignatures.ts';
import { concatLastAxis, sdxlTimeIds } from '../../src/pipeline/conditioning.ts';
import { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { SAMPLER_NAMES } from '../../src/pipeline/schedulers/types.ts';
import { loadTokenizer } from '../../src/pipeline/tokenizer.ts';
import { latentPreview } from '../../src/pipeline/preview.ts';
import type { GeneratedImage } from '../../src/pipeline/types.ts';
import { distinctValues, initImage, loadTestPipeline, maxAbsDiff, meanAbsDiff, modelDir, request, testOptions } from './helpers.ts';

test('detectFamily: any one piece of evidence makes a folder SDXL', () => {
  assert.equal(detectFamily({ hasTextEncoder2: false }).family, 'sd');
  assert.equal(detectFamily({ pipelineClass: 'ORTStableDiffusionPipeline', hasTextEncoder2: false, unetAdditionEmbedType: null }).family, 'sd');
  assert.equal(detectFamily({ pipelineClass: 'ORTStableDiffusionXLPipeline', hasTextEncoder2: false }).family, 'sdxl');
  assert.equal(detectFamily({ pipelineClass: 'StableDiffusionXLImg2ImgPipeline', hasTextEncoder2: false }).family, 'sdxl');
  assert.equal(detectFamily({ hasTextEncoder2: true }).family, 'sdxl');
  assert.equal(detectFamily({ hasTextEncoder2: false, unetAdditionEmbedType: 'text_time' }).family, 'sdxl');
});

test('sdxlTimeIds, concatLastAxis and penultimateHiddenState', () => {
  assert.deepEqual(sdxlTimeIds({ width: 1152, height: 896, img2img: false, requiresAestheticsScore: false }), { cond: [896, 1152, 0, 0, 896, 1152], uncond: [896, 1152, 0, 0, 896, 1152] });
  // requires_aesthetics_score only changes the img2img pipeline's ids
  assert.deepEqual(sdxlTimeIds({ width: 64, height: 32, img2img: false, requiresAestheticsScore: true }).cond, [32, 64, 0, 0, 32, 64]);
  assert.deepEqual(sdxlTimeIds({ width: 64, height: 32, img2img: true, requiresAestheticsScore: true }), { cond: [32, 64, 0, 0, 6], uncond: [32, 64, 0, 0, 2.5] });
  const a = { data: Float32Array.from([1, 2, 3, 4]), width: 2 };
  const b = { data: Float32Array.from([5, 6, 7, 8, 9, 10]), width: 3 };
  assert.deepEqual(Array.from(concatLastAxis([a, b], 2)), [1, 2, 5, 6, 7, 3, 4, 8, 9, 10]);
  assert.equal(penultimateHiddenState(['text_embeds', 'last_hidden_state', 'hidden_states.0', 'hidden_states.1', 'hidden_states.10', 'hidden_states.2', 'hidden_states.9', 'hidden_states.3', 'hidden_states.4', 'hidden_states.5', 'hidden_states.6', 'hidden_states.7', 'hidden_states.8']), 'hidden_states.9');
  assert.equal(penultimateHiddenState(['last_hidden_state', 'hidden_states.0']), undefined);
});

test('the SDXL test folders are detected as SDXL with their own tokenizers, flags and native size', async () => {
  const sdxl = await loadModelFolder(await modelDir('tiny-sdxl'));
  assert.equal(sdxl.family, 'sdxl');
  assert.ok(sdxl.paths.textEncoder2?.endsWith('text_encoder_2/model.onnx'));
  assert.equal(sdxl.vaeScalingFactor, 0.13025);
  assert.equal(sdxl.forceZerosForEmptyPrompt, true);
  assert.equal(sdxl.requiresAestheticsScore, false);
  assert.equal(sdxl.vaeForceUpcast, true);
  // no imagine.json: unet sample_size 8 x VAE scale 8 (four block_out_channels) = 64, as diffusers' default size
  assert.deepEqual(sdxl.defaults, { width: 64, height: 64 });
  assert.equal((await loadTokenizer(sdxl.tokenizerDir)).padId, 535, 'tokenizer pads with <|endoftext|>');
  assert.equal((await loadTokenizer(sdxl.tokenizer2Dir!)).padId, 0, 'tokenizer_2 pads with "!" as SDXL base does');
  const turbo = await loadModelFolder(await modelDir('tiny-sdxl-turbo'));
  assert.equal(turbo.family, 'sdxl', 'detected without an SDXL pipeline class');
  assert.equal(turbo.vaeForceUpcast, false);
  assert.deepEqual(turbo.defaults, { width: 64, height: 64, sampler: 'euler-a', steps: 1, guidance: 0 });
  for (const name of ['tiny-sd15', 'tiny-sd2-v', 'tiny-lcm', 'closed-form'] as const) assert.equal((await loadModelFolder(await modelDir(name))).family, 'sd', name);
});

function scratchCopy(name: string): { dir: string; done: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'sdxl-folder-'));
  return { dir: base, done: () => rmSync(base, { recursive: true, force: true }) };
}

test('folders mixing the families fail with a message naming the file and the fix', async () => {
  const s = scratchCopy('x');
  try {
    // an SDXL folder without text_encoder_2/model.onnx (the pipeline class says SDXL)
    const a = join(s.dir, 'a');
    cpSync(await modelDir('closed-form-sdxl'), a, { recursive: true });
    rmSync(join(a, 'text_encoder_2/model.onnx'));
    await assert.rejects(loadModelFolder(a), /text_encoder_2\/model\.onnx: missing; expected SDXL's second text encoder .*this is an SDXL folder \(model_index\.json names StableDiffusionXLPipeline\)/);
    // an SDXL folder without tokenizer_2
    const b = join(s.dir, 'b');
    cpSync(await modelDir('closed-form-sdxl'), b, { recursive: true });
    rmSync(join(b, 'tokenizer_2'), { recursive: true });
    await assert.rejects(loadModelFolder(b), /tokenizer_2\/vocab\.json: missing/);
    // the SDXL refiner: text_encoder_2 only
    const r = join(s.dir, 'r');
    cpSync(await modelDir('closed-form-sdxl'), r, { recursive: true });
    rmSync(join(r, 'text_encoder'), { recursive: true });
    const rIndex = JSON.parse(readFileSync(join(r, 'model_index.json'), 'utf8'));
    writeFileSync(join(r, 'model_index.json'), JSON.stringify({ ...rIndex, _class_name: 'StableDiffusionXLImg2ImgPipeline', text_encoder: [null, null], tokenizer: [null, null], requires_aesthetics_score: true }));
    await assert.rejects(loadModelFolder(r), /text_encoder\/model\.onnx: missing: this SDXL pipeline has text_encoder_2 only \(the SDXL refiner\)/);
    // an SD folder holding an SDXL UNet: inspectSignatures and the pipeline both say what is wrong
    const c = join(s.dir, 'c');
    cpSync(await modelDir('closed-form'), c, { recursive: true });
    cpSync(join(await modelDir('closed-form-sdxl'), 'unet/model.onnx'), join(c, 'unet/model.onnx'));
    const problems = await inspectSignatures(await loadModelFolder(c));
    assert.ok(problems.some((p) => /unexpected input "text_embeds".*SDXL UNet/.test(p.problem) && /text_encoder_2/.test(p.fix)), JSON.stringify(problems));
    await assert.rejects(StableDiffusionPipeline.load({ ...(await testOptions('closed-form')), modelDir: c }), /takes text_embeds and time_ids \(an SDXL UNet\).*no text_encoder_2/);
    // an SDXL folder with an SD UNet
    const d = join(s.dir, 'd');
    cpSync(await modelDir('closed-form-sdxl'), d, { recursive: true });
    cpSync(join(await modelDir('closed-form'), 'unet/model.onnx'), join(d, 'unet/model.onnx'));
    const dProblems = await inspectSignatures(await loadModelFolder(d));
    assert.ok(dProblems.some((p) => /expected an input named "text_embeds"/.test(p.problem)), JSON.stringify(dProblems));
    await assert.rejects(StableDiffusionPipeline.load({ ...(await testOptions('closed-form')), modelDir: d }), /SDXL folder but its UNet declares no text_embeds\/time_ids/);
    // a text encoder exported without hidden states
    const e = join(s.dir, 'e');
    cpSync(await modelDir('closed-form-sdxl'), e, { recursive: true });
    cpSync(join(await modelDir('closed-form'), 'text_encoder/model.onnx'), join(e, 'text_encoder/model.onnx'));
    const eProblems = await inspectSignatures(await loadModelFolder(e));
    assert.ok(eProblems.some((p) => p.part === 'textEncoder' && /hidden_states\.0 \.\.\. hidden_states\.N/.test(p.problem)), JSON.stringify(eProblems));
    // requires_aesthetics_score disagreeing with the UNet's time_ids width
    const f = join(s.dir, 'f');
    cpSync(await modelDir('closed-form-sdxl'), f, { recursive: true });
    const index = JSON.parse(readFileSync(join(f, 'model_index.json'), 'utf8'));
    writeFileSync(join(f, 'model_index.json'), JSON.stringify({ ...index, requires_aesthetics_score: true }));
    const fProblems = await inspectSignatures(await loadModelFolder(f));
    assert.ok(fProblems.some((p) => /time_ids has width 6 but model_index\.json's requires_aesthetics_score true gives 5/.test(p.problem)), JSON.stringify(fProblems));
    writeFileSync(join(f, 'model_index.json'), JSON.stringify({ ...index, force_zeros_for_empty_prompt: 'yes' }));
    await assert.rejects(loadModelFolder(f), /model_index\.json: "force_zeros_for_empty_prompt" is "yes"; expected true or false/);
  } finally {
    s.done();
  }
});

describe('tiny-sdxl', () => {
  let pipeline: StableDiffusionPipeline;
  const images = new Map<string, GeneratedImage>();
  before(async () => {
    pipeline = await loadTestPipeline('tiny-sdxl');
  });
  after(() => pipeline.dispose());

  test('the attention rewrite applies to the SDXL UNet and keeps its output', async () => {
    assert.match(pipeline.info.attention, /flash|slice/);
    const off = await loadTestPipeline('tiny-sdxl', { attentionSlicing: 'off' });
    try {
      assert.equal(off.info.attention, 'off');
      const a = await pipeline.generate(request({ steps: 3, guidance: 5 }));
      const b = await off.generate(request({ steps: 3, guidance: 5 }));
      assert.ok(maxAbsDiff(a.images[0]!, b.images[0]!) <= 1);
    } finally {
      await off.dispose();
    }
  });

  for (const sampler of SAMPLER_NAMES) {
    test(`sampler ${sampler}: runs, deterministic for a seed`, async () => {
      const result = await pipeline.generate(request({ sampler, steps: 4, seed: 5, guidance: 5 }));
      assert.equal(result.sampler, sampler);
      const image = result.images[0]!;
      assert.ok(distinctValues(image) > 10, 'not a flat image');
      const again = await pipeline.generate(request({ sampler, steps: 4, seed: 5, guidance: 5 }));
      assert.deepEqual(again.images[0]!.data, image.data);
      images.set(sampler, image);
    });
  }

  test('samplers that must differ do; the default is the folder scheduler (Euler)', () => {
    assert.equal(pipeline.info.defaultSampler, 'euler');
    for (const [a, b] of [['euler', 'euler-a'], ['euler', 'dpmpp-2m'], ['ddim', 'pndm']] as const) {
      assert.ok(meanAbsDiff(images.get(a)!, images.get(b)!) > 0.1, `${a} vs ${b}`);
    }
  });

  test('the prompt, the negative prompt and the size all change the image', async () => {
    const base = await pipeline.generate(request({ prompt: 'a photo of a cat', guidance: 5, steps: 3 }));
    const prompt = await pipeline.generate(request({ prompt: 'the red dog', guidance: 5, steps: 3 }));
    const negative = await pipeline.generate(request({ prompt: 'a photo of a cat', negativePrompt: 'dog', guidance: 5, steps: 3 }));
    assert.ok(meanAbsDiff(base.images[0]!, prompt.images[0]!) > 0.1, 'prompt');
    assert.ok(meanAbsDiff(base.images[0]!, negative.images[0]!) > 0.1, 'negative prompt');
    const wide = await pipeline.generate(request({ width: 96, height: 64, guidance: 5, steps: 3 }));
    assert.equal(wide.images[0]!.width, 96);
  });

  test('batch of 2 equals single runs of seed and seed + 1; low-memory mode gives the same pixels', async () => {
    const batch = await pipeline.generate(request({ count: 2, seed: 11, guidance: 4, steps: 3, negativePrompt: 'photo' }));
    const one = await pipeline.generate(request({ seed: 12, guidance: 4, steps: 3, negativePrompt: 'photo' }));
    assert.ok(maxAbsDiff(batch.images[1]!, one.images[0]!) <= 1);
    const low = await loadTestPipeline('tiny-sdxl', { lowMemory: true });
    try {
      const lowBatch = await low.generate(request({ count: 2, seed: 11, guidance: 4, steps: 3, negativePrompt: 'photo' }));
      for (let i = 0; i < 2; i++) assert.ok(maxAbsDiff(batch.images[i]!, lowBatch.images[i]!) <= 1, `image ${i}`);
    } finally {
      await low.dispose();
    }
  });

  test('img2img: default strength 0.3 (diffusers SDXL img2img), strength moves the image', async () => {
    const init = initImage();
    const byDefault = await pipeline.generate(request({ initImage: init, steps: 10, guidance: 5, seed: 2 }));
    assert.equal(byDefault.stepsRun, 3, 'int(10 x 0.3) steps');
    const explicit = await pipeline.generate(request({ initImage: init, steps: 10, guidance: 5, seed: 2, strength: 0.3 }));
    assert.deepEqual(explicit.images[0]!.data, byDefault.images[0]!.data);
    const strong = await pipeline.generate(request({ initImage: init, steps: 10, guidance: 5, seed: 2, strength: 0.9 }));
    assert.equal(strong.stepsRun, 9);
    assert.ok(meanAbsDiff(byDefault.images[0]!, init) < meanAbsDiff(strong.images[0]!, init), 'more strength, further from the init image');
  });
});

describe('tiny-sdxl-turbo (fp16, Euler ancestral, trailing spacing)', () => {
  test('guidance 0 runs one UNet row per image and 1 to 4 steps work', async () => {
    const pipeline = await loadTestPipeline('tiny-sdxl-turbo');
    try {
      assert.equal(pipeline.info.defaultSampler, 'euler-a');
      for (const steps of [1, 2, 4]) {
        const result = await pipeline.generate(request({ guidance: 0, steps, sampler: 'euler-a', seed: 4 }));
        assert.equal(result.stepsRun, steps);
        assert.ok(distinctValues(result.images[0]!) > 10);
      }
      // guidance 0 ignores the negative prompt (no unconditional pass)
      const a = await pipeline.generate(request({ guidance: 0, steps: 1, seed: 4 }));
      const b = await pipeline.generate(request({ guidance: 0, steps: 1, seed: 4, negativePrompt: 'dog' }));
      assert.deepEqual(a.images[0]!.data, b.images[0]!.data);
    } finally {
      await pipeline.dispose();
    }
  });
});

test("latent previews use the family's own latent-to-RGB fit", () => {
  const zero = new Float32Array(4 * 2 * 2);
  const sd = latentPreview(zero, [1, 4, 2, 2], 0, 'sd');
  const xl = latentPreview(zero, [1, 4, 2, 2], 0, 'sdxl');
  assert.deepEqual(Array.from(sd.data.subarray(0, 3)), [128, 128, 128]);
  // SDXL's fit has a bias: (1 + [0.1084, -0.0175, -0.0011]) * 127.5
  assert.deepEqual(Array.from(xl.data.subarray(0, 3)), [141, 125, 127]);
  const one = Float32Array.from({ length: 16 }, (_, i) => (i < 4 ? 1 : 0)); // channel 0 = 1
  assert.deepEqual(Array.from(latentPreview(one, [1, 4, 2, 2], 0, 'sdxl').data.subarray(0, 3)), [188, 179, 183]);
});
