import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel } from '../../src/pipeline/onnx/build.ts';
import { loadModelFile } from '../../src/pipeline/onnx/modelFile.ts';
import { findAttentionBlocks } from '../../src/pipeline/attention/find.ts';
import { planAttention } from '../../src/pipeline/attention/plan.ts';
import type { AttentionPlan, BlockAction } from '../../src/pipeline/attention/plan.ts';
import { rewriteAttention } from '../../src/pipeline/attention/rewrite.ts';
import { prepareUnet } from '../../src/pipeline/attention/prepare.ts';
import type { AttentionSlicing } from '../../src/pipeline/types.ts';
import { buildUnetLike } from './unetLike.ts';
import type { UnetLikeSpec } from './unetLike.ts';
import { maxAbsDiff, runModel, unetLikeFeeds } from './helpers.ts';

const MODES: AttentionSlicing[] = ['off', 'auto', 'max', 2, 3, 'flash'];
const count = (m: { graph?: { node?: { opType?: string | null }[] | null } | null }, op: string) => (m.graph?.node ?? []).filter((n) => n.opType === op).length;

for (const form of ['3d', '4d'] as const) {
  const spec: UnetLikeSpec = { form, heads: 2, headDim: 4, contextDim: 6, blocks: 2, decoys: true };

  test(`${form}: every mode gives the original's output (max abs diff <= 1e-4)`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'attn-modes-'));
    try {
      const path = join(dir, 'unet.onnx');
      await writeFile(path, encodeModel(buildUnetLike(spec).model));
      const feeds = unetLikeFeeds(spec, 2, 10, 5); // 10 tokens: 3 slices are uneven (4, 4, 2)
      const reference = await runModel(path, feeds);
      for (const mode of MODES) {
        const prepared = await prepareUnet(path, mode, { provider: 'cpu' });
        if (mode === 'off') assert.equal(prepared.path, path);
        else { assert.notEqual(prepared.path, path); assert.equal(prepared.blocks, 4); }
        const diff = maxAbsDiff(reference, await runModel(prepared.path, feeds));
        assert.ok(diff <= 1e-4, `mode ${mode}: max abs diff ${diff}`);
        const rewritten = (await loadModelFile(prepared.path)).model;
        if (mode === 'flash' || mode === 'auto') assert.equal(count(rewritten, 'MultiHeadAttention'), 4, `${mode} on cpu fuses every block`);
        if (typeof mode === 'number') {
          assert.equal(count(rewritten, 'Softmax'), 4 * mode + 6, `${mode} slices per block, decoys untouched`);
          assert.equal(findAttentionBlocks(rewritten.graph!).length, 4 * mode, 'each slice is itself a small attention');
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`${form}: slice edge cases (more slices than rows, budget-sized pieces, other batch sizes)`, async () => {
    const { model } = buildUnetLike(spec);
    const bytes = encodeModel(model);
    const blocks = findAttentionBlocks(model.graph!);
    const plan = (a: BlockAction): AttentionPlan => ({ actions: new Map(blocks.map((b) => [b.output, a])), applied: "test", fused: 0, sliced: 0, notFused: new Map() });
    // 64 slices over 10 rows: 54 pieces are empty. A budget of 5 rows' scores (batch*heads = 2*2, 10 keys): 2 pieces.
    const actions: BlockAction[] = [{ kind: 'slice', slices: 64, minRowsBudget: 0 }, { kind: 'slice', slices: 4, minRowsBudget: 2 * 2 * 10 * 5 }, { kind: 'flash' }];
    for (const [batch, tokens] of [[2, 10], [1, 7], [3, 1]] as const) {
      const feeds = unetLikeFeeds(spec, batch, tokens, 5);
      const reference = await runModel(bytes, feeds);
      for (const a of actions) {
        const diff = maxAbsDiff(reference, await runModel(encodeModel(rewriteAttention(model, plan(a))), feeds));
        assert.ok(diff <= 1e-4, `${JSON.stringify(a)} batch ${batch} tokens ${tokens}: ${diff}`);
      }
    }
  });
}

test('fp16 4-D graph: flash and slices match the original within fp16 tolerance', async () => {
  const spec: UnetLikeSpec = { form: '4d', heads: 2, headDim: 8, contextDim: 6, blocks: 1, dtype: 'float16' };
  const { model } = buildUnetLike(spec);
  const feeds = unetLikeFeeds(spec, 2, 12, 5);
  const reference = await runModel(encodeModel(model), feeds);
  const blocks = findAttentionBlocks(model.graph!);
  for (const mode of ['flash', 3, 'max'] as const) {
    const plan = planAttention(blocks, mode, { provider: 'cpu' });
    const diff = maxAbsDiff(reference, await runModel(encodeModel(rewriteAttention(model, plan)), feeds));
    assert.ok(diff <= 2e-2, `${mode}: ${diff}`);
  }
});

test('plans: auto fuses on providers with MultiHeadAttention and slices elsewhere; off and 1 change nothing', () => {
  const { model } = buildUnetLike({ form: '3d', heads: 2, headDim: 4, contextDim: 6, blocks: 1 });
  const blocks = findAttentionBlocks(model.graph!);
  assert.equal(planAttention(blocks, 'auto', { provider: 'cpu' }).applied, 'flash x2');
  assert.equal(planAttention(blocks, 'auto', { provider: 'coreml' }).applied, 'slice(16) x2');
  assert.equal(planAttention(blocks, 'flash', { provider: 'coreml' }).applied, 'flash x2');
  assert.equal(planAttention(blocks, 'max', { provider: 'cpu' }).applied, 'slice(64) x2');
  assert.equal(planAttention(blocks, 5, { provider: 'cpu' }).applied, 'slice(5) x2');
  assert.equal(planAttention(blocks, 'off', { provider: 'cpu' }).actions.size, 0);
  assert.equal(planAttention(blocks, 1, { provider: 'cpu' }).actions.size, 0);
  assert.equal(rewriteAttention(model, planAttention(blocks, 'off', { provider: 'cpu' })), model);
});
