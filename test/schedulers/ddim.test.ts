import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeSchedulerConfig } from '../../src/pipeline/schedulers/config.ts';
import { DdimScheduler } from '../../src/pipeline/schedulers/ddim.ts';
import { meanAbs, sumAbs } from '../../src/pipeline/tensor.ts';
import { dummyNoiseDeter, dummySampleDeter, fullLoop } from './fixtures.ts';
import { near } from './near.ts';

// tests/schedulers/test_scheduler_ddim.py
const base = { _class_name: 'DDIMScheduler', num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear', clip_sample: true };
const make = (extra: Record<string, unknown> = {}) => new DdimScheduler(normalizeSchedulerConfig({ ...base, ...extra }));

function loop(extra: Record<string, unknown> = {}): Float32Array {
  const s = make(extra);
  s.setTimesteps(10);
  return fullLoop(s, dummySampleDeter());
}

test('DDIM full loop matches diffusers', () => {
  const x = loop();
  near(sumAbs(x), 172.0067, 1e-2, 'sum');
  near(meanAbs(x), 0.223967, 1e-3, 'mean');
});

test('DDIM v_prediction full loop matches diffusers', () => {
  const x = loop({ prediction_type: 'v_prediction' });
  near(sumAbs(x), 52.5302, 1e-2, 'sum');
  near(meanAbs(x), 0.0684, 1e-3, 'mean');
});

test('DDIM set_alpha_to_one true/false full loops match diffusers', () => {
  const one = loop({ set_alpha_to_one: true, beta_start: 0.01 });
  near(sumAbs(one), 149.8295, 1e-2, 'sum (alpha to one)');
  near(meanAbs(one), 0.1951, 1e-3, 'mean (alpha to one)');
  const notOne = loop({ set_alpha_to_one: false, beta_start: 0.01 });
  near(sumAbs(notOne), 149.0784, 1e-2, 'sum');
  near(meanAbs(notOne), 0.1941, 1e-3, 'mean');
});

test('DDIM img2img-style loop (add_noise at t_start = 8) matches diffusers', () => {
  const s = make();
  s.setTimesteps(10);
  const timesteps = s.timesteps.slice(8 * s.order);
  const noisy = s.addNoise(dummySampleDeter(), dummyNoiseDeter(), timesteps[0]!);
  const x = fullLoop(s, noisy, timesteps);
  near(sumAbs(x), 354.5418, 1e-2, 'sum');
  near(meanAbs(x), 0.4616, 1e-3, 'mean');
});

test('DDIM timesteps: steps_offset and each spacing', () => {
  const offset = make({ steps_offset: 1 });
  offset.setTimesteps(5);
  assert.deepEqual(offset.timesteps, [801, 601, 401, 201, 1]);
  const leading = make({ timestep_spacing: 'leading' });
  leading.setTimesteps(10);
  assert.deepEqual(leading.timesteps, [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
  const trailing = make({ timestep_spacing: 'trailing' });
  trailing.setTimesteps(10);
  assert.deepEqual(trailing.timesteps, [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
  const linspace = make({ timestep_spacing: 'linspace' });
  linspace.setTimesteps(10);
  // np.linspace(0, 999, 10).round(): 111 * k rounded, reversed
  assert.deepEqual(linspace.timesteps, [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
  const trailing3 = make({ timestep_spacing: 'trailing' });
  trailing3.setTimesteps(3);
  assert.deepEqual(trailing3.timesteps, [999, 666, 332]);
});

test('DDIM rejects zero or too many steps', () => {
  assert.throws(() => make().setTimesteps(0), /positive integer/);
  assert.throws(() => make().setTimesteps(1001), /cannot exceed/);
});
