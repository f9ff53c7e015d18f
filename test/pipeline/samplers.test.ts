// Every sampler the bot offers runs end to end on tiny-sd15 (PNDM config, epsilon prediction), deterministically.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { SAMPLER_NAMES } from '../../src/pipeline/schedulers/types.ts';
import type { GeneratedImage } from '../../src/pipeline/types.ts';
import { distinctValues, loadTestPipeline, meanAbsDiff, request } from './helpers.ts';

describe('each sampler on tiny-sd15', () => {
  let pipeline: StableDiffusionPipeline;
  const images = new Map<string, GeneratedImage>();
  before(async () => {
    pipeline = await loadTestPipeline('tiny-sd15');
  });
  after(() => pipeline.dispose());

  for (const sampler of SAMPLER_NAMES) {
    test(sampler, async () => {
      const result = await pipeline.generate(request({ sampler, steps: 5, seed: 99 }));
      assert.equal(result.sampler, sampler);
      assert.ok(result.stepsRun >= 5, `ran ${result.stepsRun} steps`);
      const image = result.images[0]!;
      assert.ok(distinctValues(image) > 1, 'not a constant image');
      const again = await pipeline.generate(request({ sampler, steps: 5, seed: 99 }));
      assert.deepEqual(again.images[0]!.data, image.data, 'deterministic for a seed (ancestral noise included)');
      images.set(sampler, image);
    });
  }

  test('samplers that must differ do', () => {
    const pairs = [['euler', 'euler-a'], ['dpmpp-2m', 'dpmpp-2m-karras'], ['pndm', 'ddim'], ['ddim', 'lcm']] as const;
    for (const [a, b] of pairs) {
      assert.ok(images.has(a) && images.has(b), `${a} and ${b} ran`);
      assert.ok(meanAbsDiff(images.get(a)!, images.get(b)!) > 0.1, `${a} and ${b} give different images`);
    }
  });
});
