// The benchmark's synthetic models at a tiny size: they load in ONNX Runtime with the SD 1.5 UNet / CLIP signatures,
// run, and hold the attention pattern the auto-vs-off comparison depends on. Also the per-step ORT/JS split.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { findAttentionBlocks } from '../../src/pipeline/attention/index.ts';
import { encodeModel } from '../../src/pipeline/onnx/build.ts';
import { buildWideTextEncoder } from '../../bench/syntheticModel.ts';
import { buildSyntheticUnet, type SyntheticUnetSpec } from '../../bench/syntheticUnet.ts';
import { stepTimings, type OrtRun } from '../../bench/ortTrace.ts';

const TINY: SyntheticUnetSpec = { channels: 16, heads: 2, contextDim: 24, groups: 4 };
const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };

test('synthetic UNet: SD 1.5 signature, runs, output shaped like the sample', async () => {
  const model = buildSyntheticUnet(TINY);
  const session = await ort.InferenceSession.create(encodeModel(model), options);
  const meta = Object.fromEntries(session.inputMetadata.map((m) => [m.name, m]));
  const { sample: sampleMeta, timestep: timestepMeta, encoder_hidden_states: contextMeta } = meta;
  assert.ok(sampleMeta && timestepMeta && contextMeta, 'the three UNet inputs have metadata');
  assert.deepEqual(session.inputNames, ['sample', 'timestep', 'encoder_hidden_states']);
  assert.deepEqual(session.outputNames, ['out_sample']);
  assert.deepEqual(sampleMeta.isTensor && [sampleMeta.type, sampleMeta.shape], ['float32', ['batch', 4, 'height', 'width']]);
  assert.deepEqual(timestepMeta.isTensor && [timestepMeta.type, timestepMeta.shape], ['int64', [1]]);
  assert.deepEqual(contextMeta.isTensor && [contextMeta.type, contextMeta.shape], ['float32', ['batch', 'sequence', 24]]);

  const sample = Float32Array.from({ length: 2 * 4 * 8 * 8 }, (_, i) => Math.sin(i));
  const context = Float32Array.from({ length: 2 * 77 * 24 }, (_, i) => Math.cos(i));
  const out = await session.run({
    sample: new ort.Tensor('float32', sample, [2, 4, 8, 8]),
    timestep: new ort.Tensor('int64', BigInt64Array.from([981n]), [1]),
    encoder_hidden_states: new ort.Tensor('float32', context, [2, 77, 24]),
  });
  assert.deepEqual(out.out_sample!.dims, [2, 4, 8, 8]);
  const values = out.out_sample!.data as Float32Array;
  assert.ok(values.every(Number.isFinite), 'output is finite');
  assert.ok(values.some((v) => v !== 0), 'output is not all zeros');
  await session.release();

  // One self- and one cross-attention in the 3-D export form, so `auto` has something to rewrite.
  const blocks = findAttentionBlocks(model.graph!);
  assert.deepEqual(blocks.map((b) => b.form), ['3d', '3d']);
});

test('wide text encoder: input_ids int32 -> last_hidden_state [1, 77, contextDim]', async () => {
  const session = await ort.InferenceSession.create(encodeModel(buildWideTextEncoder(536, 24)), options);
  const ids = Int32Array.from({ length: 77 }, (_, i) => (i * 7) % 536);
  const out = await session.run({ input_ids: new ort.Tensor('int32', ids, [1, 77]) });
  assert.deepEqual(out.last_hidden_state!.dims, [1, 77, 24]);
  await session.release();
});

test('stepTimings: splits each step between progress events into ORT and the rest', () => {
  const runs: OrtRun[] = [
    { part: 'textEncoder', start: 0, end: 10 },
    { part: 'textEncoder', start: 11, end: 20 },
    { part: 'unet', start: 22, end: 90 },
    { part: 'unet', start: 101, end: 181 },
    { part: 'vae', start: 200, end: 250 },
  ];
  assert.deepEqual(stepTimings(runs, [95, 185]), [
    { step: 1, wallMs: 75, ortMs: 68 },
    { step: 2, wallMs: 90, ortMs: 80 },
  ]);
});
