// Fast final decode: with fastDecode the folder's TAESD decoder (vae_decoder_tiny) makes the final image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel } from '../../src/pipeline/onnx/build.ts';
import { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { GraphBuilder, valueInfo } from '../../scripts/testModels/graph.ts';
import { ensureTestModels } from '../fixtures/models.ts';

/** A "TAESD" that paints every pixel (R, G, B) = levels 191, 64, 128: Conv with zero weights and a bias, upsampled x8. */
function constantDecoder() {
  const g = new GraphBuilder('float32');
  const rgb = g.op('Conv', ['latent_sample', g.weight('w', [3, 4, 1, 1], new Array(12).fill(0)), g.weight('b', [3], [0.5, -0.5, 0])]);
  g.op('Resize', [rgb, '', g.float32([1, 1, 8, 8])], { mode: 'nearest' }, 'sample');
  return g.build([valueInfo('latent_sample', 'float32', ['batch', 4, 'h', 'w'])], [valueInfo('sample', 'float32', ['batch', 3, 'H', 'W'])], 'taesd_decoder');
}

test('fastDecode decodes the final image with vae_decoder_tiny; off by default', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fast-decode-'));
  try {
    const folder = join(dir, 'model');
    await cp(join(await ensureTestModels(), 'tiny-sd15'), folder, { recursive: true });
    await writeFile(join(folder, 'vae_decoder_tiny/model.onnx'), encodeModel(constantDecoder()));
    const request = { prompt: 'a cat', seed: 3, steps: 2, guidance: 7.5, width: 64, height: 64, count: 1 };
    const isConstant = (d: Uint8Array) => d.every((v, i) => v === [191, 64, 128][i % 3]);
    for (const fastDecode of [true, false, undefined]) {
      const pipeline = await StableDiffusionPipeline.load({ modelDir: folder, provider: 'cpu', attentionSlicing: 'off', lowMemory: false, fastDecode });
      try {
        const { images } = await pipeline.generate(request);
        assert.equal(isConstant(images[0]!.data), fastDecode === true, `fastDecode ${fastDecode}`);
      } finally {
        await pipeline.dispose();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
