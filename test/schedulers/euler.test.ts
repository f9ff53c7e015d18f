import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeSchedulerConfig } from '../../src/pipeline/schedulers/config.ts';
import { EulerAncestralScheduler } from '../../src/pipeline/schedulers/eulerAncestral.ts';
import { EulerScheduler } from '../../src/pipeline/schedulers/euler.ts';
import type { Scheduler } from '../../src/pipeline/schedulers/types.ts';
import { TorchGenerator } from '../../src/pipeline/random.ts';
import { meanAbs, sumAbs } from '../../src/pipeline/tensor.ts';
import { dummyModel, dummySampleDeter } from './fixtures.ts';
import { near } from './near.ts';

// tests/schedulers/test_scheduler_euler.py and test_scheduler_euler_ancestral.py (1100 training steps, 10 steps)
const base = { num_train_timesteps: 1100, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
const euler = (extra: Record<string, unknown> = {}) =>
  new EulerScheduler(normalizeSchedulerConfig({ _class_name: 'EulerDiscreteScheduler', ...base, ...extra }));
const ancestral = (extra: Record<string, unknown> = {}) =>
  new EulerAncestralScheduler(normalizeSchedulerConfig({ _class_name: 'EulerAncestralDiscreteScheduler', ...base, ...extra }));

/** diffusers' Euler test loop: note it passes the *scaled* sample on to step, as the Python test does. */
function kLoop(s: Scheduler): Float32Array {
  s.setTimesteps(10);
  const generator = new TorchGenerator(0);
  let x: Float32Array = dummySampleDeter().map((v) => v * s.initNoiseSigma);
  for (const t of s.timesteps) {
    x = s.scaleModelInput(x, t);
    x = s.step(dummyModel(x, t), t, x, generator).prevSample;
  }
  return x;
}

test('Euler full loop matches diffusers', () => {
  const x = kLoop(euler());
  near(sumAbs(x), 10.0807, 1e-2, 'sum');
  near(meanAbs(x), 0.0131, 1e-3, 'mean');
});

test('Euler v_prediction full loop matches diffusers', () => {
  const x = kLoop(euler({ prediction_type: 'v_prediction' }));
  near(sumAbs(x), 0.0002, 1e-2, 'sum');
  near(meanAbs(x), 2.2676e-6, 1e-3, 'mean');
});

test('Euler with Karras sigmas full loop matches diffusers', () => {
  const x = kLoop(euler({ use_karras_sigmas: true }));
  near(sumAbs(x), 124.52299499511719, 1e-2, 'sum');
  near(meanAbs(x), 0.16213932633399963, 1e-3, 'mean');
});

test('Euler ancestral full loop (noise from torch.manual_seed(0)) matches diffusers', () => {
  const x = kLoop(ancestral());
  near(sumAbs(x), 152.3192, 1e-2, 'sum');
  near(meanAbs(x), 0.1983, 1e-3, 'mean');
});

test('Euler ancestral v_prediction full loop matches diffusers', () => {
  const x = kLoop(ancestral({ prediction_type: 'v_prediction' }));
  near(sumAbs(x), 108.4439, 1e-2, 'sum');
  near(meanAbs(x), 0.1412, 1e-3, 'mean');
});

test('Euler ancestral needs a noise source', () => {
  const s = ancestral();
  s.setTimesteps(2);
  const t = s.timesteps[0]!;
  assert.throws(() => s.step(dummySampleDeter(), t, dummySampleDeter()), /NoiseSource/);
});

test('Euler timesteps per spacing and init noise sigma', () => {
  const lin = euler({ num_train_timesteps: 1000 });
  lin.setTimesteps(4);
  assert.deepEqual(lin.timesteps, [999, 666, 333, 0]);
  const frac = euler();
  frac.setTimesteps(10);
  assert.equal(frac.timesteps[1], Math.fround(1099 - 1099 / 9));
  assert.equal(frac.initNoiseSigma, frac.sigmas[0]);
  const leading = euler({ num_train_timesteps: 1000, timestep_spacing: 'leading', steps_offset: 1 });
  leading.setTimesteps(4);
  assert.deepEqual(leading.timesteps, [751, 501, 251, 1]);
  near(leading.initNoiseSigma, Math.sqrt(leading.sigmas[0]! ** 2 + 1), 1e-6, 'leading init sigma');
  const trailing = euler({ num_train_timesteps: 1000, timestep_spacing: 'trailing' });
  trailing.setTimesteps(4);
  assert.deepEqual(trailing.timesteps, [999, 749, 499, 249]);
  assert.equal(trailing.sigmas[4], 0);
});

test('Euler add_noise uses the begin index once set (img2img)', () => {
  const s = euler({ num_train_timesteps: 1000 });
  s.setTimesteps(10);
  s.setBeginIndex(3);
  const ones = new Float32Array(4).fill(1);
  const zeros = new Float32Array(4);
  const noised = s.addNoise(zeros, ones, s.timesteps[3]!);
  near(noised[0]!, s.sigmas[3]!, 1e-6, 'sigma at begin index');
  // step starts at the begin index too: a zero model output (epsilon) leaves the sample unchanged.
  const out = s.step(zeros, s.timesteps[3]!, ones).prevSample;
  assert.deepEqual(Array.from(out), [1, 1, 1, 1]);
});
