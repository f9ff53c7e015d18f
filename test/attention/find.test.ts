import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findAttentionBlocks } from '../../src/pipeline/attention/find.ts';
import { buildUnetLike } from './unetLike.ts';

for (const form of ['3d', '4d'] as const) {
  test(`finds exactly the attention blocks of a ${form} graph, not the decoys`, () => {
    const { model, attentionOutputs } = buildUnetLike({ form, heads: 2, headDim: 4, contextDim: 6, blocks: 2, decoys: true });
    const softmaxes = model.graph!.node!.filter((n) => n.opType === 'Softmax').length;
    assert.equal(softmaxes, 4 + 6, 'the graph has decoy Softmax nodes too');
    const blocks = findAttentionBlocks(model.graph!);
    assert.deepEqual(blocks.map((b) => b.output), attentionOutputs);
    for (const b of blocks) {
      assert.equal(b.form, form);
      assert.deepEqual(b.nodes.map((n) => n.opType), form === '3d' ? ['MatMul', 'Mul', 'Softmax', 'MatMul'] : ['MatMul', 'Softmax', 'MatMul']);
      assert.equal(b.fusable, true);
      if (form === '3d') assert.ok(Math.abs(b.scales[0]!.value! - 0.5) < 1e-6, 'constant 1/sqrt(4) read from the initializer');
      else assert.equal(b.scales.length, 0, 'SDPA form scales q and kᵀ before the MatMul');
    }
  });
}

test('a Softmax over a non-last axis is not attention, also with opset < 13 defaults', () => {
  const { model } = buildUnetLike({ form: '3d', heads: 2, headDim: 4, contextDim: 6, blocks: 1 });
  for (const n of model.graph!.node!) if (n.opType === 'Softmax') n.attribute = [];
  assert.equal(findAttentionBlocks(model.graph!, { opset: 17 }).length, 2, 'opset 13+: default axis is -1');
  assert.equal(findAttentionBlocks(model.graph!, { opset: 11 }).length, 0, 'opset 11: default axis 1 on rank-3 scores is not the last');
});

test('scores read by a second consumer are left alone', () => {
  const { model } = buildUnetLike({ form: '3d', heads: 2, headDim: 4, contextDim: 6, blocks: 1 });
  const softmax = model.graph!.node!.find((n) => n.opType === 'Softmax')!;
  model.graph!.output!.push({ name: softmax.input![0] });
  assert.equal(findAttentionBlocks(model.graph!).length, 1);
});
