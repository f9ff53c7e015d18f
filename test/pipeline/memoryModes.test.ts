// Low-memory mode (one sub-model at a time, batch-1 UNet passes) and every attention-slicing mode must not change
// the picture: they are memory/speed trade-offs only.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttentionSlicing, GenerateRequest } from '../../src/pipeline/types.ts';
import type { TestModelName } from '../fixtures/models.ts';
import { loadTestPipeline, maxAbsDiff, meanAbsDiff, request } from './helpers.ts';
import { spySessions, type SessionEvent } from './sessionSpy.ts';

async function generateWith(name: TestModelName, options: { lowMemory?: boolean; attentionSlicing?: AttentionSlicing }, req: GenerateRequest) {
  const pipeline = await loadTestPipeline(name, options);
  try {
    return { result: await pipeline.generate(req), info: pipeline.info };
  } finally {
    await pipeline.dispose();
  }
}

describe('low-memory mode gives the same pixels as normal mode', () => {
  const cases: [TestModelName, Partial<GenerateRequest>][] = [
    ['tiny-sd15', { count: 2, guidance: 7.5 }],
    ['tiny-sd2-v', { count: 2, guidance: 5 }],
    ['tiny-lcm', { count: 2, guidance: 8 }],
    ['tiny-sd15-fp16', { count: 1, guidance: 1 }],
    ['closed-form', { count: 2, guidance: 7.5 }],
  ];
  for (const [name, overrides] of cases) {
    test(`${name} ${JSON.stringify(overrides)}`, async () => {
      const req = request({ seed: 5, ...overrides });
      const normal = await generateWith(name, { lowMemory: false }, req);
      const low = await generateWith(name, { lowMemory: true }, req);
      assert.equal(low.result.images.length, normal.result.images.length);
      for (let i = 0; i < normal.result.images.length; i++) {
        const diff = maxAbsDiff(low.result.images[i]!, normal.result.images[i]!);
        // Batch-1 passes may sum in another order than one batched pass: allow one 8-bit step.
        assert.ok(diff <= 1, `image ${i}: max difference ${diff}`);
        assert.equal(low.result.images[i]!.nsfw, normal.result.images[i]!.nsfw);
      }
    });
  }

  test('img2img in low-memory mode (the encoder is loaded and released too)', async () => {
    const init = request().width;
    const data = new Uint8Array(init * init * 3).map((_, i) => (i * 37) % 256);
    const req = request({ initImage: { data, width: init, height: init }, strength: 0.75, count: 2 });
    const normal = await generateWith('tiny-sd15', {}, req);
    const low = await generateWith('tiny-sd15', { lowMemory: true }, req);
    for (let i = 0; i < 2; i++) assert.ok(maxAbsDiff(low.result.images[i]!, normal.result.images[i]!) <= 1);
  });
});

describe('low-memory mode holds one sub-model at a time and runs the UNet one row at a time', () => {
  // Pixel equality cannot tell whether the mode did anything; the sessions can. Guidance 7.5 with two images gives
  // the UNet four rows per step ([uncond x2; cond x2]).
  const req = request({ seed: 5, count: 2, guidance: 7.5, steps: 3, sampler: 'euler' });
  const unetBatches = (events: SessionEvent[]) => events.filter((e) => e.kind === 'run' && e.model === 'unet').map((e) => e.batch);

  test('low-memory: each sub-model is loaded when needed and released before the next; UNet batch 1', async () => {
    const spy = spySessions();
    try {
      const pipeline = await loadTestPipeline('tiny-sd15', { lowMemory: true });
      assert.deepEqual(spy.open(), [], 'nothing stays loaded after start (the UNet is only inspected)');
      const atStart = spy.events.length;
      await pipeline.generate(req);
      const during = spy.events.slice(atStart);
      assert.equal(spy.maxOpen, 1, `one session at a time: ${JSON.stringify(during)}`);
      assert.deepEqual(spy.open(), [], 'everything released after the generation');
      const loads = during.filter((e) => e.kind === 'load').map((e) => e.model);
      assert.deepEqual(loads, ['text_encoder', 'unet', 'vae_decoder', 'safety_checker']);
      assert.deepEqual(unetBatches(during), Array(3 * 4).fill(1), 'every UNet call has batch 1: 3 steps x 4 rows');
      await pipeline.dispose();
    } finally {
      spy.restore();
    }
  });

  test('normal mode: sub-models stay loaded and the UNet runs all rows in one call', async () => {
    const spy = spySessions();
    try {
      const pipeline = await loadTestPipeline('tiny-sd15', { lowMemory: false });
      assert.deepEqual(spy.open().sort(), ['text_encoder', 'unet', 'vae_decoder']);
      const atStart = spy.events.length;
      await pipeline.generate(req);
      const during = spy.events.slice(atStart);
      assert.deepEqual(during.filter((e) => e.kind === 'release'), []);
      assert.deepEqual(unetBatches(during), [4, 4, 4]);
      await pipeline.dispose();
    } finally {
      spy.restore();
    }
  });
});

test('releaseSessions (what IDLE_RELEASE_SECONDS does when idle) closes every open session; the next job opens them again', async () => {
  const spy = spySessions();
  try {
    const pipeline = await loadTestPipeline('tiny-sd15');
    const req = request({ seed: 3, sampler: 'euler' });
    const first = await pipeline.generate(req);
    const open = spy.open().sort();
    assert.deepEqual(await pipeline.releaseSessions().then((parts) => parts.length), open.length);
    assert.deepEqual(spy.open(), [], `still open after release: ${spy.open().join(', ')}`);
    const atRelease = spy.events.length;
    const again = await pipeline.generate(req);
    assert.deepEqual(again.images[0]!.data, first.images[0]!.data);
    assert.deepEqual(spy.open().sort(), open, 'reloaded on use');
    assert.ok(spy.events.slice(atRelease).some((e) => e.kind === 'load' && e.model === 'unet'));
    await pipeline.dispose();
  } finally {
    spy.restore();
  }
});

describe('attention slicing modes give the same pixels (within 1)', () => {
  // fp16 rounds every intermediate to 11 significant bits, and a fused kernel rounds at other points than the
  // unfused graph; over several denoising steps that can move a pixel by 2. fp32 must stay within 1.
  for (const [name, tolerance] of [['tiny-sd15', 1], ['tiny-sd15-fp16', 3]] as const) {
    test(name, async () => {
      const req = request({ seed: 11, count: 2 });
      const reference = await generateWith(name, { attentionSlicing: 'off' }, req);
      assert.equal(reference.info.attention, 'off');
      const applied = new Set<string>();
      for (const mode of ['auto', 'max', 2] as const) {
        const other = await generateWith(name, { attentionSlicing: mode }, req);
        applied.add(other.info.attention);
        for (let i = 0; i < 2; i++) {
          const diff = maxAbsDiff(other.result.images[i]!, reference.result.images[i]!);
          assert.ok(diff <= tolerance, `mode ${mode} (${other.info.attention}), image ${i}: max difference ${diff}`);
          const mean = meanAbsDiff(other.result.images[i]!, reference.result.images[i]!);
          assert.ok(mean < 0.05, `mode ${mode}, image ${i}: mean difference ${mean}`);
        }
      }
      assert.ok(applied.size >= 2, `the modes really rewrote attention differently: ${[...applied].join(', ')}`);
    });
  }
});
