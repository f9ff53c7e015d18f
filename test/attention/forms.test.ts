// Every attention form real exports use, built op for op (test/attention/unetLike.ts): found, rewritten in every
// mode, and still equal to the original: the classic AttnProcessor's baddbmm form with its zero term and Casts, Einsum,
// a real additive mask, fp32 and fp16, in self-attention (4096 tokens) and cross-attention (77 tokens) shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel, model as buildModel, node, valueInfo } from '../../src/pipeline/onnx/build.ts';
import type { ModelProto } from '../../src/pipeline/onnx/build.ts';
import { findAttention, findAttentionBlocks } from '../../src/pipeline/attention/find.ts';
import { planAttention } from '../../src/pipeline/attention/plan.ts';
import { rewriteAttention } from '../../src/pipeline/attention/rewrite.ts';
import { prepareUnet } from '../../src/pipeline/attention/prepare.ts';
import type { AttentionSlicing } from '../../src/pipeline/types.ts';
import { buildUnetLike } from './unetLike.ts';
import type { UnetLikeSpec } from './unetLike.ts';
import { maxAbsDiff, runModel, unetLikeFeeds } from './helpers.ts';

const count = (m: ModelProto, op: string) => (m.graph?.node ?? []).filter((n) => n.opType === op).length;
const rewrite = (m: ModelProto, mode: AttentionSlicing, provider: 'cpu' | 'coreml' = 'cpu') =>
  rewriteAttention(m, planAttention(findAttentionBlocks(m.graph!), mode, { provider }));

test('baddbmm form: the zero term is dropped, Casts kept, blocks fusable', () => {
  for (const dtype of ['float32', 'float16'] as const) {
    const { model, attentionOutputs } = buildUnetLike({ form: 'baddbmm', heads: 2, headDim: 4, contextDim: 6, blocks: 2, dtype, decoys: true });
    const { blocks, skipped } = findAttention(model.graph!);
    assert.deepEqual(blocks.map((b) => b.output), attentionOutputs, dtype);
    assert.deepEqual(skipped, [], 'decoys are not attention-shaped');
    for (const b of blocks) {
      const kinds = b.chain.map((s) => s.kind);
      assert.deepEqual(kinds, dtype === 'float32' ? ['scale', 'zero', 'softmax', 'cast'] : ['scale', 'zero', 'cast', 'softmax', 'cast'], dtype);
      assert.ok(Math.abs(b.scales[0]!.value! - 0.5) < 1e-3, 'alpha read through its Cast');
      assert.deepEqual(b.masks, []);
      assert.equal(b.fusable, true, b.notFusable);
      assert.equal(b.form, '3d');
    }
  }
});

test('einsum form: both products found, the key read untransposed', () => {
  const { model, attentionOutputs } = buildUnetLike({ form: 'einsum', heads: 2, headDim: 4, contextDim: 6, blocks: 1 });
  const blocks = findAttentionBlocks(model.graph!);
  assert.deepEqual(blocks.map((b) => b.output), attentionOutputs);
  for (const b of blocks) {
    assert.equal(b.product, 'Einsum');
    assert.equal(b.keyTransposed, false);
    assert.equal(b.form, '3d');
    assert.equal(b.fusable, true);
  }
});

test('a real additive mask is kept, not dropped', () => {
  const { model } = buildUnetLike({ form: 'baddbmm', heads: 2, headDim: 4, contextDim: 6, blocks: 1, mask: true });
  const [self, cross] = findAttentionBlocks(model.graph!);
  assert.ok(self && cross, 'a self- and a cross-attention block');
  assert.deepEqual(self.masks, []);
  assert.equal(cross.masks.length, 1);
  assert.deepEqual(cross.chain.map((s) => s.kind), ['scale', 'mask', 'softmax', 'cast']);
  assert.equal(cross.fusable, true, cross.notFusable);
});

const FORMS: { name: string; spec: UnetLikeSpec; tolerance: number }[] = [
  { name: 'baddbmm fp32', spec: { form: 'baddbmm', heads: 2, headDim: 4, contextDim: 6, blocks: 2, decoys: true }, tolerance: 1e-4 },
  { name: 'baddbmm fp16', spec: { form: 'baddbmm', heads: 2, headDim: 8, contextDim: 6, blocks: 1, dtype: 'float16' }, tolerance: 2e-2 },
  { name: 'einsum fp32', spec: { form: 'einsum', heads: 2, headDim: 4, contextDim: 6, blocks: 2, decoys: true }, tolerance: 1e-4 },
  { name: 'einsum fp16', spec: { form: 'einsum', heads: 2, headDim: 8, contextDim: 6, blocks: 1, dtype: 'float16' }, tolerance: 2e-2 },
  { name: 'masked baddbmm fp32', spec: { form: 'baddbmm', heads: 2, headDim: 4, contextDim: 6, blocks: 2, mask: true }, tolerance: 1e-4 },
  { name: 'masked baddbmm fp16', spec: { form: 'baddbmm', heads: 2, headDim: 8, contextDim: 6, blocks: 1, mask: true, dtype: 'float16' }, tolerance: 2e-2 },
];

for (const { name, spec, tolerance } of FORMS) {
  test(`${name}: every mode and plan equals the original`, async () => {
    const { model } = buildUnetLike(spec);
    const bytes = encodeModel(model);
    const blocks = spec.blocks * 2;
    const maskShapes = spec.mask ? (['keys', 'shared', 'rows'] as const) : (['keys'] as const);
    for (const maskShape of maskShapes) {
      for (const [batch, tokens, ctx] of [[2, 10, 5], [1, 7, 3]] as const) {
        const feeds = unetLikeFeeds(spec, batch, tokens, ctx, maskShape);
        const reference = await runModel(bytes, feeds);
        for (const [mode, provider] of [['auto', 'cpu'], ['auto', 'coreml'], ['flash', 'cpu'], [3, 'cpu'], ['max', 'cpu']] as const) {
          const rewritten = rewrite(model, mode, provider);
          if (mode === 'flash' || provider === 'cpu') assert.equal(count(rewritten, 'MultiHeadAttention'), mode === 3 || mode === 'max' ? 0 : blocks, `${mode}@${provider} fuses every block`);
          if (spec.form === 'baddbmm') assert.equal(count(rewritten, 'ConstantOfShape'), 0, 'the zero term is gone');
          const diff = maxAbsDiff(reference, await runModel(encodeModel(rewritten), feeds));
          assert.ok(diff <= tolerance, `${mode}@${provider} mask ${maskShape} batch ${batch} tokens ${tokens}: max abs diff ${diff}`);
        }
      }
    }
  });
}

test('self-attention at 4096 tokens and cross-attention at 77 tokens (baddbmm, masked cross-attention)', async () => {
  const spec: UnetLikeSpec = { form: 'baddbmm', heads: 2, headDim: 4, contextDim: 8, blocks: 1, mask: true };
  const { model } = buildUnetLike(spec);
  const feeds = unetLikeFeeds(spec, 1, 4096, 77, 'keys');
  const reference = await runModel(encodeModel(model), feeds);
  for (const mode of ['auto', 16] as const) {
    const diff = maxAbsDiff(reference, await runModel(encodeModel(rewrite(model, mode)), feeds));
    assert.ok(diff <= 1e-4, `${mode}: max abs diff ${diff}`);
  }
});

test('one log line per model: found/fused/sliced/left alone; attention-shaped chains left alone are a warning', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'attn-report-'));
  try {
    const path = join(dir, 'unet.onnx');
    await writeFile(path, encodeModel(buildUnetLike({ form: 'baddbmm', heads: 2, headDim: 4, contextDim: 6, blocks: 2, decoys: true }).model));
    const logs: string[] = [];
    await prepareUnet(path, 'auto', { provider: 'cpu', log: (m) => logs.push(m) });
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /^attention: unet\.onnx: 4 attention blocks found, 4 fused, 0 sliced, 0 left alone -> flash x4 \(mode auto, cpu\)/);
    logs.length = 0;
    await prepareUnet(path, 'auto', { provider: 'coreml', log: (m) => logs.push(m) });
    assert.match(logs[0]!, /4 attention blocks found, 0 fused, 4 sliced, 0 left alone/);

    // Attention whose scores are also read elsewhere (here: a second output) cannot be rewritten: say so, loudly.
    const { model } = buildUnetLike({ form: 'baddbmm', heads: 2, headDim: 4, contextDim: 6, blocks: 1 });
    const softmax = model.graph!.node!.find((n) => n.opType === 'Softmax')!;
    model.graph!.output!.push(valueInfo(softmax.input![0]!, 'float32', null));
    const odd = join(dir, 'odd.onnx');
    await writeFile(odd, encodeModel(model));
    logs.length = 0;
    const r = await prepareUnet(odd, 'auto', { provider: 'cpu', log: (m) => logs.push(m) });
    assert.equal(r.blocks, 1);
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /^warning: attention: odd\.onnx: 1 attention blocks found, 1 fused, 0 sliced, 1 left alone \(1x the scores are also read by another node\)/);

    // A graph without attention says so, without a warning.
    const plain = join(dir, 'plain.onnx');
    await writeFile(plain, encodeModel(buildModel({
      nodes: [node('MatMul', ['x', 'x'], ['m']), node('Relu', ['m'], ['y'])],
      inputs: [valueInfo('x', 'float32', [2, 2])], outputs: [valueInfo('y', 'float32', [2, 2])],
    })));
    logs.length = 0;
    await prepareUnet(plain, 'auto', { provider: 'cpu', log: (m) => logs.push(m) });
    assert.match(logs[0]!, /^attention: plain\.onnx: 0 attention blocks found, 0 fused, 0 sliced, 0 left alone: no attention pattern found; using it unchanged/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
