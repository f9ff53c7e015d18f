import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeSchedulerConfig } from '../../src/pipeline/schedulers/config.ts';
import { PndmScheduler } from '../../src/pipeline/schedulers/pndm.ts';
import { meanAbs, sumAbs } from '../../src/pipeline/tensor.ts';
import { dummySampleDeter, fullLoop } from './fixtures.ts';
import { near } from './near.ts';

// tests/schedulers/test_scheduler_pndm.py
const base = { _class_name: 'PNDMScheduler', num_train_timesteps: 1000, beta_start: 0.0001, beta_end: 0.02, beta_schedule: 'linear' };
const make = (extra: Record<string, unknown> = {}) => new PndmScheduler(normalizeSchedulerConfig({ ...base, ...extra }));

function loop(extra: Record<string, unknown> = {}): Float32Array {
  const s = make(extra);
  s.setTimesteps(10);
  return fullLoop(s, dummySampleDeter());
}

test('PNDM full loop (PRK warm-up + PLMS) matches diffusers', () => {
  const x = loop();
  near(sumAbs(x), 198.1318, 1e-2, 'sum');
  near(meanAbs(x), 0.258, 1e-3, 'mean');
});

test('PNDM v_prediction full loop matches diffusers', () => {
  const x = loop({ prediction_type: 'v_prediction' });
  near(sumAbs(x), 67.3986, 1e-2, 'sum');
  near(meanAbs(x), 0.0878, 1e-3, 'mean');
});

test('PNDM set_alpha_to_one true/false full loops match diffusers', () => {
  const one = loop({ set_alpha_to_one: true, beta_start: 0.01 });
  near(sumAbs(one), 230.0399, 1e-2, 'sum (alpha to one)');
  near(meanAbs(one), 0.2995, 1e-3, 'mean (alpha to one)');
  const notOne = loop({ set_alpha_to_one: false, beta_start: 0.01 });
  near(sumAbs(notOne), 186.9482, 1e-2, 'sum');
  near(meanAbs(notOne), 0.2434, 1e-3, 'mean');
});

test('PNDM timesteps with steps_offset=1 match diffusers', () => {
  const s = make({ steps_offset: 1 });
  s.setTimesteps(10);
  assert.deepEqual(s.timesteps, [901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1]);
});

test('PNDM with skip_prk_steps repeats the second timestep (Stable Diffusion schedule)', () => {
  const s = make({ skip_prk_steps: true, steps_offset: 1 });
  s.setTimesteps(5);
  assert.deepEqual(s.timesteps, [801, 601, 601, 401, 201, 1]);
  const x = fullLoop(s, dummySampleDeter());
  assert.ok(x.every(Number.isFinite));
});

test('PNDM rejects fewer than 4 steps without skip_prk_steps, and sample prediction', () => {
  assert.throws(() => make().setTimesteps(3), /must be >= 4/);
  assert.doesNotThrow(() => make({ skip_prk_steps: true }).setTimesteps(1));
  assert.throws(() => make({ prediction_type: 'sample' }), /does not support/);
});
