// The rewrite on the tiny SD test models (built like every other test's, by ensureTestModels: generated when missing
// or out of date, never skipped): every mode gives the original UNet's output. Each model is copied to a temp folder
// first, so no cache files land in test/.models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModelFile } from '../../src/pipeline/onnx/modelFile.ts';
import { defaultOpset, findAttentionBlocks } from '../../src/pipeline/attention/find.ts';
import { prepareUnet } from '../../src/pipeline/attention/prepare.ts';
import type { AttentionSlicing } from '../../src/pipeline/types.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { floatTensor, maxAbsDiff, runModel } from './helpers.ts';

const EXPECTED: Record<string, { form: '3d' | '4d'; tolerance: number }> = {
  'tiny-sd15': { form: '3d', tolerance: 1e-4 },
  'tiny-sd15-fp16': { form: '4d', tolerance: 1e-2 },
};
const MODES: AttentionSlicing[] = ['auto', 'max', 2, 3, 'flash'];

/** Inputs from the session's own metadata: symbolic dims become 2 (batch) or 8 (spatial/tokens). */
async function feedsFor(path: string): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1 });
  const feeds: Record<string, ort.Tensor> = {};
  let seed = 1;
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) continue;
    const dims = (meta.shape as (number | string)[]).map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 2 : 8));
    const n = dims.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: n }, () => (Math.sin(seed++ * 12.9898) * 43758.5453) % 1);
    if (meta.name === 'timestep') values.fill(500);
    const type = meta.type as string;
    feeds[meta.name] = type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))), dims)
      : type === 'int32' ? new ort.Tensor('int32', Int32Array.from(values, Math.trunc), dims)
      : floatTensor(type === 'float16' ? 'float16' : 'float32', values, dims);
  }
  await session.release();
  return feeds;
}

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`${name}: attention found (${expected.form}) and every mode matches the original`, async () => {
    const unetDir = join(await ensureTestModels(), name, 'unet');
    const dir = await mkdtemp(join(tmpdir(), `attn-${name}-`));
    try {
      await cp(unetDir, dir, { recursive: true });
      const path = join(dir, 'model.onnx');
      const { model } = await loadModelFile(path);
      const blocks = findAttentionBlocks(model.graph!, { opset: defaultOpset(model) });
      assert.ok(blocks.length >= 2, `found ${blocks.length} blocks`);
      for (const b of blocks) assert.equal(b.form, expected.form);
      const feeds = await feedsFor(path);
      const reference = await runModel(path, feeds);
      for (const mode of MODES) {
        const prepared = await prepareUnet(path, mode, { provider: 'cpu' });
        assert.equal(prepared.blocks, blocks.length);
        assert.notEqual(prepared.path, path);
        const diff = maxAbsDiff(reference, await runModel(prepared.path, feeds));
        assert.ok(diff <= expected.tolerance, `${mode}: max abs diff ${diff}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
