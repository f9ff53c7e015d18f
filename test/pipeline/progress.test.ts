// Progress events: one per denoising step, counting 1..n of n, with previews only when asked for.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import type { ProgressEvent } from '../../src/pipeline/types.ts';
import { loadTestPipeline, request } from './helpers.ts';

describe('progress events', () => {
  let pipeline: StableDiffusionPipeline;
  before(async () => {
    pipeline = await loadTestPipeline('tiny-sd15');
  });
  after(() => pipeline.dispose());

  async function collect(overrides: Parameters<typeof request>[0]) {
    const events: ProgressEvent[] = [];
    const result = await pipeline.generate(request(overrides), { onProgress: (e) => events.push(e) });
    return { events, result };
  }

  test('one event per step, steps 1..n of n, elapsed time non-decreasing, no previews by default', async () => {
    const { events, result } = await collect({ sampler: 'ddim', steps: 6 });
    assert.equal(result.stepsRun, 6);
    assert.deepEqual(events.map((e) => e.step), [1, 2, 3, 4, 5, 6]);
    assert.ok(events.every((e) => e.total === 6));
    assert.ok(events.every((e, i) => i === 0 || e.elapsedMs >= events[i - 1]!.elapsedMs));
    assert.ok(events.every((e) => e.preview === undefined));
  });

  test('PNDM, whose first step takes two UNet passes, counts the steps asked for: 1..n of n, never more done than total', async () => {
    for (const steps of [2, 5]) {
      const { events, result } = await collect({ sampler: 'pndm', steps, previewEvery: 1 });
      assert.equal(pipeline.timings.steps, steps + 1, 'one UNet pass more than the steps');
      assert.equal(result.stepsRun, steps);
      assert.deepEqual(events.map((e) => e.step), Array.from({ length: steps }, (_, i) => i + 1));
      assert.ok(events.every((e) => e.total === steps && e.step <= e.total));
      assert.deepEqual(events.filter((e) => e.preview).map((e) => e.step), Array.from({ length: steps - 1 }, (_, i) => i + 1));
    }
  });

  test('previewEvery k: a preview at every k-th step except the last (the final image follows)', async () => {
    const { events } = await collect({ sampler: 'euler', steps: 7, previewEvery: 2, width: 128, height: 64 });
    assert.deepEqual(events.filter((e) => e.preview).map((e) => e.step), [2, 4, 6]);
    for (const e of events) {
      if (!e.preview) continue;
      // Latent resolution: image / 8.
      // tiny-sd15 has a TAESD-style preview decoder (vae_decoder_tiny/): previews come out at full image size
      assert.equal(e.preview.width, 128);
      assert.equal(e.preview.height, 64);
      assert.equal(e.preview.data.length, 128 * 64 * 3);
      assert.ok(new Set(e.preview.data).size > 1, 'the preview is not blank');
    }
    const every = await collect({ sampler: 'euler', steps: 3, previewEvery: 1 });
    assert.deepEqual(every.events.filter((e) => e.preview).map((e) => e.step), [1, 2]);
  });

  test('previews show the image converging: the last preview is closer to the next-to-last than the first', async () => {
    const { events } = await collect({ sampler: 'ddim', steps: 8, previewEvery: 1 });
    const previews = events.filter((e) => e.preview).map((e) => e.preview!.data);
    const dist = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0);
    const last = previews.length - 1;
    assert.ok(dist(previews[last]!, previews[last - 1]!) <= dist(previews[last]!, previews[0]!));
  });

  test('without a preview decoder (or in low-memory mode) previews are the linear latent map, at latent size', async () => {
    const noDecoder = await loadTestPipeline('tiny-sd2-v');
    try {
      const events: ProgressEvent[] = [];
      await noDecoder.generate(request({ steps: 3, previewEvery: 1, width: 128, height: 64 }), { onProgress: (e) => events.push(e) });
      const previews = events.filter((e) => e.preview).map((e) => e.preview!);
      assert.equal(previews.length, 2);
      for (const p of previews) assert.deepEqual([p.width, p.height], [16, 8]);
    } finally {
      await noDecoder.dispose();
    }
    const lowMemory = await loadTestPipeline('tiny-sd15', { lowMemory: true });
    try {
      const events: ProgressEvent[] = [];
      await lowMemory.generate(request({ sampler: 'euler', steps: 3, previewEvery: 1, width: 128, height: 64 }), { onProgress: (e) => events.push(e) });
      for (const e of events.filter((x) => x.preview)) assert.deepEqual([e.preview!.width, e.preview!.height], [16, 8]);
    } finally {
      await lowMemory.dispose();
    }
  });
});
