import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeSchedulerConfig } from '../../src/pipeline/schedulers/config.ts';
import { LcmScheduler } from '../../src/pipeline/schedulers/lcm.ts';
import { TorchGenerator } from '../../src/pipeline/random.ts';
import { meanAbs, sumAbs } from '../../src/pipeline/tensor.ts';
import { dummySampleDeter, fullLoop } from './fixtures.ts';
import { near } from './near.ts';

// tests/schedulers/test_scheduler_lcm.py
const base = { _class_name: 'LCMScheduler', num_train_timesteps: 1000, beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', prediction_type: 'epsilon' };
const make = (extra: Record<string, unknown> = {}) => new LcmScheduler(normalizeSchedulerConfig({ ...base, ...extra }));

function loop(steps: number): Float32Array {
  const s = make();
  s.setTimesteps(steps);
  return fullLoop(s, dummySampleDeter(), s.timesteps, new TorchGenerator(0));
}

test('LCM one-step loop matches diffusers', () => {
  const x = loop(1);
  near(sumAbs(x), 18.7097, 1e-3, 'sum');
  near(meanAbs(x), 0.0244, 1e-3, 'mean');
});

test('LCM 10-step loop (noise from torch.manual_seed(0)) matches diffusers', () => {
  const x = loop(10);
  near(sumAbs(x), 197.7616, 1e-3, 'sum');
  near(meanAbs(x), 0.2575, 1e-3, 'mean');
});

test('LCM timesteps come from the 50-step distillation schedule', () => {
  const s = make();
  s.setTimesteps(4);
  assert.deepEqual(s.timesteps, [999, 759, 499, 259]);
  s.setTimesteps(1);
  assert.deepEqual(s.timesteps, [999]);
  s.setTimesteps(4, 0.5);
  assert.deepEqual(s.timesteps, [499, 379, 259, 139]);
  assert.throws(() => s.setTimesteps(51), /original_inference_steps/);
  assert.throws(() => s.setTimesteps(8, 0.1), /fewer than num_inference_steps/);
});

test('LCM needs a noise source between steps but not on the last one', () => {
  const s = make();
  s.setTimesteps(2);
  const x = dummySampleDeter();
  assert.throws(() => s.step(x, s.timesteps[0]!, x), /NoiseSource/);
  const single = make();
  single.setTimesteps(1);
  assert.doesNotThrow(() => single.step(x, single.timesteps[0]!, x));
});
