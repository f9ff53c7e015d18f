// Every generated test model loads, passes inspectSignatures, runs in onnxruntime-node (external weight files
// included), and computes what test/fixtures/README.md says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ensureTestModels, TEST_MODEL_NAMES } from '../fixtures/models.ts';
import { generateTestModels } from '../../scripts/testModels/generate.ts';
import { loadModelFolder } from '../../src/pipeline/modelFolder.ts';
import { inspectSignatures } from '../../src/pipeline/modelSignatures.ts';
import { loadTokenizer } from '../../src/pipeline/tokenizer.ts';
import { decodeModel } from '../../src/pipeline/onnx/build.ts';

const root = await ensureTestModels();
const open = (path: string) => ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });

function half(v: number): number {
  // enough for test inputs: exact for the small integers and simple fractions used below
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  if ((x & 0x7fffffff) === 0) return (x >>> 16) & 0x8000;
  return ((x >>> 16) & 0x8000) | ((((x >>> 23) & 0xff) - 112) << 10) | ((x >>> 13) & 0x3ff);
}
function unhalf(h: number): number {
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}
const floats = (t: ort.Tensor) => (t.type === 'float16' ? Array.from(t.data as Uint16Array, unhalf) : Array.from(t.data as Float32Array));

function floatTensor(type: string, values: number[], dims: number[]): ort.Tensor {
  return type === 'float16' ? new ort.Tensor('float16', Uint16Array.from(values, half), dims) : new ort.Tensor('float32', Float32Array.from(values), dims);
}
function timestepTensor(meta: ort.InferenceSession.ValueMetadata, t: number, batch: number): ort.Tensor {
  const m = meta as unknown as { type: string; shape: (number | string)[] };
  const dims = m.shape.length === 0 ? [] : typeof m.shape[0] === 'number' ? [1] : [batch];
  const n = dims.length === 0 ? 1 : dims[0]!;
  if (m.type === 'int64') return new ort.Tensor('int64', BigInt64Array.from({ length: n }, () => BigInt(t)), dims);
  return floatTensor(m.type, Array(n).fill(t), dims);
}

test('every test model loads and passes inspectSignatures', async () => {
  for (const name of TEST_MODEL_NAMES) {
    const folder = await loadModelFolder(join(root, name));
    assert.equal(folder.name, name);
    assert.deepEqual(await inspectSignatures(folder), [], name);
  }
});

test('folder contents per model', async () => {
  const sd15 = await loadModelFolder(join(root, 'tiny-sd15'));
  assert.ok(sd15.paths.vaeEncoder && sd15.paths.safetyChecker && sd15.paths.previewDecoder);
  assert.equal(sd15.vaeScalingFactor, 0.18215);
  assert.equal(sd15.previewScalingFactor, 1);
  assert.deepEqual(sd15.defaults, { sampler: 'pndm', steps: 4, guidance: 7.5, width: 64, height: 64 });
  assert.equal(sd15.schedulerConfig._class_name, 'PNDMScheduler');
  assert.equal(sd15.unetHasTimestepCond, false);
  assert.equal((sd15.featureExtractorConfig?.crop_size as { height: number }).height, 224);
  const lcm = await loadModelFolder(join(root, 'tiny-lcm'));
  assert.equal(lcm.unetHasTimestepCond, true);
  assert.equal(lcm.schedulerConfig._class_name, 'LCMScheduler');
  const sd2 = await loadModelFolder(join(root, 'tiny-sd2-v'));
  assert.equal(sd2.schedulerConfig.prediction_type, 'v_prediction');
  assert.equal((await loadTokenizer(sd2.tokenizerDir)).padId, 0);
  assert.equal((await loadTokenizer(sd15.tokenizerDir)).padId, 535);
  const closed = await loadModelFolder(join(root, 'closed-form'));
  assert.equal(closed.vaeScalingFactor, 0.5);
  assert.equal(closed.paths.vaeEncoder, undefined);
});

test('declared dtypes and timestep shapes match the real exports each model stands for', async () => {
  const expect: Record<string, { ids: string; timestep: string; shape: string; sample: string; extra?: string[] }> = {
    'tiny-sd15': { ids: 'int32', timestep: 'int64', shape: '[1]', sample: 'float32' },
    'tiny-sd15-fp16': { ids: 'int32', timestep: 'float16', shape: '[1]', sample: 'float16' },
    'tiny-sd2-v': { ids: 'int64', timestep: 'float32', shape: '[]', sample: 'float32' },
    'tiny-lcm': { ids: 'int32', timestep: 'int64', shape: '["batch_size"]', sample: 'float32', extra: ['timestep_cond'] },
  };
  for (const [name, e] of Object.entries(expect)) {
    const te = await open(join(root, name, 'text_encoder/model.onnx'));
    const unet = await open(join(root, name, 'unet/model.onnx'));
    const meta = (s: ort.InferenceSession, n: string) => s.inputMetadata.find((m) => m.name === n) as unknown as { type: string; shape: unknown[] };
    assert.equal(meta(te, 'input_ids').type, e.ids, name);
    assert.equal(meta(unet, 'timestep').type, e.timestep, name);
    assert.equal(JSON.stringify(meta(unet, 'timestep').shape), e.shape, name);
    assert.equal(meta(unet, 'sample').type, e.sample, name);
    assert.deepEqual(unet.inputNames, ['sample', 'timestep', 'encoder_hidden_states', ...(e.extra ?? [])], name);
    await te.release();
    await unet.release();
  }
});

test('tiny UNets run and their output depends on sample, timestep and encoder_hidden_states', async () => {
  for (const name of ['tiny-sd15', 'tiny-sd15-fp16', 'tiny-sd2-v', 'tiny-lcm']) {
    const s = await open(join(root, name, 'unet/model.onnx'));
    const type = (s.inputMetadata[0] as { type: string }).type;
    const tMeta = s.inputMetadata.find((m) => m.name === 'timestep')!;
    const batch = 2;
    const sample = Array.from({ length: batch * 4 * 8 * 8 }, (_, i) => Math.sin(i) * 0.5);
    const ctx = Array.from({ length: batch * 77 * 32 }, (_, i) => Math.cos(i * 0.7) * 0.5);
    const run = async (sampleV: number[], t: number, ctxV: number[]) => {
      const feeds: Record<string, ort.Tensor> = {
        sample: floatTensor(type, sampleV, [batch, 4, 8, 8]),
        timestep: timestepTensor(tMeta, t, batch),
        encoder_hidden_states: floatTensor(type, ctxV, [batch, 77, 32]),
      };
      if (s.inputNames.includes('timestep_cond')) feeds.timestep_cond = floatTensor(type, Array(batch * 256).fill(0.1), [batch, 256]);
      const out = (await s.run(feeds)).out_sample!;
      assert.deepEqual(out.dims, [batch, 4, 8, 8], name);
      return floats(out);
    };
    const base = await run(sample, 500, ctx);
    assert.ok(base.every(Number.isFinite), `${name}: finite`);
    const differs = (a: number[], b: number[]) => a.some((v, i) => Math.abs(v - b[i]!) > 1e-3);
    assert.ok(differs(base, await run(sample.map((v) => -v), 500, ctx)), `${name}: depends on sample`);
    assert.ok(differs(base, await run(sample, 900, ctx)), `${name}: depends on timestep`);
    assert.ok(differs(base, await run(sample, 500, ctx.map((v) => v * -2))), `${name}: depends on encoder_hidden_states`);
    await s.release();
  }
});

test('external weight files are resolved beside model.onnx when the session is created from the path', async () => {
  const cases = [
    ['tiny-sd2-v', 'unet', 'model.onnx_data'],
    ['tiny-lcm', 'text_encoder', 'weights.pb'],
  ] as const;
  for (const [name, part, dataFile] of cases) {
    const model = join(root, name, part, 'model.onnx');
    // the graph file holds no weight bytes: every float initializer points into the external file
    const weights = decodeModel(readFileSync(model)).graph!.initializer!.filter((t) => t.dataType === 1 || t.dataType === 10);
    assert.ok(weights.length > 0);
    for (const t of weights) {
      assert.equal(t.dataLocation, 1, `${name}/${part}: ${t.name} is external`);
      assert.equal(t.rawData?.length ?? 0, 0);
      assert.equal(t.externalData?.find((e) => e.key === 'location')?.value, dataFile);
    }
    const s = await open(model);
    await s.release();
    // without the data file beside it the same model cannot load, so the session above really read it
    const copy = mkdtempSync(join(tmpdir(), 'extdata-'));
    try {
      cpSync(join(root, name, part), copy, { recursive: true });
      renameSync(join(copy, dataFile), join(copy, `${dataFile}.moved`));
      await assert.rejects(open(join(copy, 'model.onnx')));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  // run them: text encoder with weights.pb and UNet with model.onnx_data
  const te = await open(join(root, 'tiny-lcm', 'text_encoder/model.onnx'));
  const h = await te.run({ input_ids: new ort.Tensor('int32', Int32Array.from([534, 320, 535]), [1, 3]) });
  assert.deepEqual(h.last_hidden_state!.dims, [1, 3, 32]);
  assert.ok(floats(h.last_hidden_state!).every(Number.isFinite));
  await te.release();
});

test('closed-form model computes the documented formulas', async () => {
  const dir = join(root, 'closed-form');
  const te = await open(join(dir, 'text_encoder/model.onnx'));
  const ids = [534, 320, 515, 535];
  const h = floats((await te.run({ input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, 4]) })).last_hidden_state!);
  ids.forEach((id, s) => assert.ok(h.slice(s * 32, s * 32 + 32).every((v) => Math.abs(v - id / 1000) < 1e-6)));
  const unet = await open(join(dir, 'unet/model.onnx'));
  const ctx = [...Array(77 * 32).fill(0.6), ...Array(77 * 32).fill(0.45)];
  const out = floats((await unet.run({ sample: floatTensor('float32', Array(2 * 4 * 2 * 3).fill(7), [2, 4, 2, 3]), timestep: new ort.Tensor('int64', BigInt64Array.from([1n]), [1]), encoder_hidden_states: floatTensor('float32', ctx, [2, 77, 32]) })).out_sample!);
  const C = [0.2, -0.1, 0.0, -0.3];
  for (let b = 0; b < 2; b++) for (let c = 0; c < 4; c++) for (let p = 0; p < 6; p++) assert.ok(Math.abs(out[b * 24 + c * 6 + p]! - (C[c]! + 10 * ((b === 0 ? 0.6 : 0.45) - 0.5))) < 1e-4);
  const vae = await open(join(dir, 'vae_decoder/model.onnx'));
  const z = [1, 2, 3, 4];
  const img = await vae.run({ latent_sample: floatTensor('float32', z, [1, 4, 1, 1]) });
  assert.deepEqual(img.sample!.dims, [1, 3, 8, 8]);
  const expected = [0.5 * 1 + 0.01, 0.5 * 2 + 0.1, 0.25 * (3 + 4) - 0.1];
  const px = floats(img.sample!);
  for (let c = 0; c < 3; c++) assert.ok(px.slice(c * 64, c * 64 + 64).every((v) => Math.abs(v - expected[c]!) < 1e-6));
  const checker = await open(join(dir, 'safety_checker/model.onnx'));
  const images = [...Array(12).fill(0.6), ...Array(12).fill(0.4)];
  const verdict = await checker.run({ clip_input: floatTensor('float32', Array(2 * 3 * 224 * 224).fill(0), [2, 3, 224, 224]), images: floatTensor('float32', images, [2, 2, 2, 3]) });
  assert.deepEqual(Array.from(verdict.has_nsfw_concepts!.data as ArrayLike<boolean | number>, Boolean), [true, false]);
  assert.deepEqual(floats(verdict.out_images!), [...Array(12).fill(0), ...images.slice(12)].map((v) => Math.fround(v)));
  for (const s of [te, unet, vae, checker]) await s.release();
});

test('the generator is idempotent and deterministic', async () => {
  assert.equal(await generateTestModels(), false, 'up to date: nothing regenerated');
  const other = mkdtempSync(join(tmpdir(), 'models-'));
  try {
    assert.equal(await generateTestModels(other), true);
    for (const name of TEST_MODEL_NAMES) {
      for (const file of ['unet/model.onnx', 'text_encoder/model.onnx', 'vae_decoder/model.onnx']) {
        assert.ok(readFileSync(join(other, name, file)).equals(readFileSync(join(root, name, file))), `${name}/${file} identical`);
      }
    }
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});
