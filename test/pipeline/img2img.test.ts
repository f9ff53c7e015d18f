// img2img end to end: both VAE-encoder export conventions, diffusers' strength arithmetic for the steps actually run,
// and strength controlling how far the result moves from the init image.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SamplerName } from '../../src/pipeline/schedulers/types.ts';
import { distinctValues, initImage, loadTestPipeline, meanAbsDiff, request } from './helpers.ts';

describe('img2img', () => {
  for (const name of ['tiny-sd15', 'tiny-sd2-v'] as const) {
    test(`${name}: runs, deterministic, and strength moves the image monotonically`, async () => {
      const pipeline = await loadTestPipeline(name);
      try {
        assert.equal(pipeline.info.supportsImg2Img, true);
        const init = initImage();
        const distances: number[] = [];
        for (const strength of [0.2, 0.5, 0.9]) {
          const req = request({ initImage: init, strength, steps: 10, sampler: 'ddim', seed: 3 });
          const result = await pipeline.generate(req);
          const image = result.images[0]!;
          assert.ok(distinctValues(image) > 1);
          const again = await pipeline.generate(req);
          assert.deepEqual(again.images[0]!.data, image.data, `strength ${strength}: same seed, same pixels`);
          distances.push(meanAbsDiff(image, init));
        }
        assert.ok(distances[0]! < distances[1]! && distances[1]! < distances[2]!, `distance from the init image grows with strength: ${distances.map((d) => d.toFixed(2)).join(' < ')}`);
      } finally {
        await pipeline.dispose();
      }
    });
  }

  test('the init image matters', async () => {
    const pipeline = await loadTestPipeline('tiny-sd15');
    try {
      const a = await pipeline.generate(request({ initImage: initImage(), strength: 0.5, steps: 10 }));
      const flat = { data: new Uint8Array(64 * 64 * 3).fill(200), width: 64, height: 64 };
      const b = await pipeline.generate(request({ initImage: flat, strength: 0.5, steps: 10 }));
      assert.ok(meanAbsDiff(a.images[0]!, b.images[0]!) > 1);
    } finally {
      await pipeline.dispose();
    }
  });

  test("steps run = diffusers' arithmetic: len(timesteps) - (steps - min(int(steps * strength), steps)) * order", async () => {
    const pipeline = await loadTestPipeline('tiny-sd15');
    try {
      // [sampler, steps, strength, expected]: int() truncates the float product, as in Python (50 * 0.57 = 28.4999...).
      // PNDM's skip-PRK schedule has steps + 1 entries (one UNet pass more), but counts the same steps as the others.
      const cases: [SamplerName, number, number, number][] = [
        ['ddim', 10, 0.6, 6],
        ['ddim', 10, 0.3, 3],
        ['ddim', 7, 0.5, 3],
        ['ddim', 4, 1, 4],
        ['ddim', 50, 0.57, 28],
        ['euler', 10, 0.75, 7],
        ['dpmpp-2m', 8, 0.5, 4],
        ['pndm', 10, 0.6, 6],
        ['pndm', 4, 1, 4],
      ];
      for (const [sampler, steps, strength, expected] of cases) {
        const result = await pipeline.generate(request({ initImage: initImage(), sampler, steps, strength }));
        assert.equal(result.stepsRun, expected, `${sampler}, ${steps} steps, strength ${strength}`);
        let progressEvents = 0;
        await pipeline.generate(request({ initImage: initImage(), sampler, steps, strength }), { onProgress: (e) => void (progressEvents++, assert.equal(e.total, expected)) });
        assert.equal(progressEvents, expected);
      }
    } finally {
      await pipeline.dispose();
    }
  });
});
