// The deterministic inputs of diffusers' tests/schedulers/test_schedulers.py (SchedulerCommonTest), rebuilt so that
// our full-loop results can be compared with the sums and means diffusers' own scheduler tests assert.
import type { Scheduler } from '../../src/pipeline/schedulers/types.ts';

const f32 = Math.fround;
const BATCH = 4;
const CHANNELS = 3;
const SIZE = 8;
export const NUM_ELEMS = BATCH * CHANNELS * SIZE * SIZE;

/** arange(768) reshaped to (C, H, W, B), divided by 768, permuted to (B, C, H, W); `flip` reverses the arange. */
function deterministic(flip: boolean): Float32Array {
  const out = new Float32Array(NUM_ELEMS);
  for (let b = 0; b < BATCH; b++)
    for (let c = 0; c < CHANNELS; c++)
      for (let h = 0; h < SIZE; h++)
        for (let w = 0; w < SIZE; w++) {
          const k = ((c * SIZE + h) * SIZE + w) * BATCH + b;
          const value = flip ? NUM_ELEMS - 1 - k : k;
          out[((b * CHANNELS + c) * SIZE + h) * SIZE + w] = f32(value / NUM_ELEMS);
        }
  return out;
}

/** `dummy_sample_deter`. */
export const dummySampleDeter = (): Float32Array => deterministic(false);
/** `dummy_noise_deter`. */
export const dummyNoiseDeter = (): Float32Array => deterministic(true);

/** `dummy_model`: sample * t / (t + 1) in float32. */
export function dummyModel(sample: Float32Array, t: number): Float32Array {
  const tt = f32(t);
  const denom = f32(tt + 1);
  return sample.map((x) => f32(f32(x * tt) / denom));
}

/** The plain diffusers test loop: model on the (unscaled) sample, then step. */
export function fullLoop(scheduler: Scheduler, sample: Float32Array, timesteps = scheduler.timesteps, noise?: Parameters<Scheduler['step']>[3]): Float32Array {
  let x = sample;
  for (const t of timesteps) x = scheduler.step(dummyModel(x, t), t, x, noise).prevSample;
  return x;
}
