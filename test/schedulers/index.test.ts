import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  createScheduler,
  defaultSamplerFor,
  img2imgTimesteps,
  normalizeSchedulerConfig,
  SAMPLER_NAMES,
} from '../../src/pipeline/schedulers/index.ts';
import { makeBetas, makeAlphasCumprod } from '../../src/pipeline/schedulers/betas.ts';
import { TorchGenerator } from '../../src/pipeline/random.ts';
import { dummyModel } from './fixtures.ts';
import { near } from './near.ts';

/** runwayml/stable-diffusion-v1-5's scheduler_config.json (diffusers 0.6 era: no timestep_spacing key). */
const SD15 = {
  _class_name: 'PNDMScheduler',
  _diffusers_version: '0.6.0',
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

test('normalizeSchedulerConfig fills the class defaults and records the keys the file gave', () => {
  const c = normalizeSchedulerConfig(SD15);
  assert.equal(c.timestep_spacing, 'leading');
  assert.equal(c.prediction_type, 'epsilon');
  assert.equal(c.skip_prk_steps, true);
  assert.ok(c._provided_keys?.includes('steps_offset'));
  assert.ok(!c._provided_keys?.includes('timestep_spacing'));
  const ddim = normalizeSchedulerConfig({ _class_name: 'DDIMScheduler' });
  assert.equal(ddim.clip_sample, true);
  assert.equal(ddim.set_alpha_to_one, true);
  const lcm = normalizeSchedulerConfig({ _class_name: 'LCMScheduler' });
  assert.equal(lcm.beta_schedule, 'scaled_linear');
  assert.equal(lcm.original_inference_steps, 50);
});

test('normalizeSchedulerConfig rejects bad values naming the key', () => {
  assert.throws(() => normalizeSchedulerConfig({ beta_schedule: 'cosine' }), /"beta_schedule"/);
  assert.throws(() => normalizeSchedulerConfig({ prediction_type: 'flow' }), /"prediction_type"/);
  assert.throws(() => normalizeSchedulerConfig({ timestep_spacing: 'even' }), /"timestep_spacing"/);
  assert.throws(() => normalizeSchedulerConfig({ num_train_timesteps: 0 }), /"num_train_timesteps"/);
  assert.throws(() => normalizeSchedulerConfig({ steps_offset: -1 }), /"steps_offset"/);
  assert.throws(() => normalizeSchedulerConfig({ trained_betas: [0.1, 0.2] }), /"trained_betas"/);
  assert.throws(() => normalizeSchedulerConfig({ thresholding: true }), /"thresholding"/);
  assert.throws(() => normalizeSchedulerConfig('nope'), /JSON object/);
});

test('switching sampler applies the target class defaults to keys the file lacked (from_config)', () => {
  const config = normalizeSchedulerConfig(SD15);
  const dpm = createScheduler('dpmpp-2m', config);
  dpm.setTimesteps(10);
  // DPM's own default spacing is linspace: an old SD 1.5 config has no timestep_spacing key.
  assert.deepEqual(dpm.timesteps, [999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
  const euler = createScheduler('euler', config);
  euler.setTimesteps(4);
  assert.deepEqual(euler.timesteps, [999, 666, 333, 0]);
  const pndm = createScheduler('pndm', config);
  pndm.setTimesteps(4);
  assert.deepEqual(pndm.timesteps, [751, 501, 501, 251, 1]);
  const explicit = normalizeSchedulerConfig({ ...SD15, timestep_spacing: 'leading' });
  const dpmLeading = createScheduler('dpmpp-2m', explicit);
  dpmLeading.setTimesteps(4);
  assert.deepEqual(dpmLeading.timesteps, [801, 601, 401, 201]);
});

test('createScheduler builds every sampler and each runs a short loop to finite values', () => {
  const config = normalizeSchedulerConfig(SD15);
  for (const name of SAMPLER_NAMES) {
    const s = createScheduler(name, config);
    assert.equal(s.name, name);
    s.setTimesteps(4);
    const noise = new TorchGenerator(1);
    let x: Float32Array = noise.randn(64).map((v) => v * s.initNoiseSigma);
    for (const t of s.timesteps) {
      const input = s.scaleModelInput(x, t);
      x = s.step(dummyModel(input, t), t, x, noise).prevSample;
    }
    assert.ok(x.every(Number.isFinite), name);
  }
});

test('dpmpp-2m-karras forces Karras sigmas; dpmpp-2m forces them off', () => {
  const karrasConfig = normalizeSchedulerConfig({ _class_name: 'DPMSolverMultistepScheduler', use_karras_sigmas: true });
  const plain = createScheduler('dpmpp-2m', karrasConfig);
  const karras = createScheduler('dpmpp-2m-karras', karrasConfig);
  plain.setTimesteps(10);
  karras.setTimesteps(10);
  assert.notDeepEqual(plain.timesteps, karras.timesteps);
  assert.equal(karras.timesteps[0], 999);
});

test('defaultSamplerFor maps diffusers class names', () => {
  assert.equal(defaultSamplerFor('PNDMScheduler'), 'pndm');
  assert.equal(defaultSamplerFor('DDIMScheduler'), 'ddim');
  assert.equal(defaultSamplerFor('EulerDiscreteScheduler'), 'euler');
  assert.equal(defaultSamplerFor('EulerAncestralDiscreteScheduler'), 'euler-a');
  assert.equal(defaultSamplerFor('DPMSolverMultistepScheduler'), 'dpmpp-2m');
  assert.equal(defaultSamplerFor('DPMSolverMultistepScheduler', { use_karras_sigmas: true }), 'dpmpp-2m-karras');
  assert.equal(defaultSamplerFor('LCMScheduler'), 'lcm');
  assert.equal(defaultSamplerFor('UniPCMultistepScheduler'), 'pndm');
  assert.equal(defaultSamplerFor(undefined), 'pndm');
});

test('img2imgTimesteps follows diffusers get_timesteps and sets the begin index', () => {
  const config = normalizeSchedulerConfig(SD15);
  const ddim = createScheduler('ddim', config);
  const r = img2imgTimesteps(ddim, 10, 0.8);
  assert.equal(r.startIndex, 2);
  assert.deepEqual(r.timesteps, [701, 601, 501, 401, 301, 201, 101, 1]);
  // int(10 * 0.7) is 7 in float64 (7.000000000000001)
  assert.equal(img2imgTimesteps(createScheduler('euler', config), 10, 0.7).timesteps.length, 7);
  const euler = createScheduler('euler', config);
  const e = img2imgTimesteps(euler, 10, 0.5);
  assert.equal(e.startIndex, 5);
  assert.equal(euler.addNoise(new Float32Array([0]), new Float32Array([1]), e.timesteps[0]!)[0], (euler as unknown as { sigmas: Float32Array }).sigmas[5]);
  const lcm = createScheduler('lcm', config);
  const l = img2imgTimesteps(lcm, 4, 0.5);
  assert.deepEqual(l, { timesteps: [499, 379, 259, 139], startIndex: 0, steps: 4 });
  assert.throws(() => img2imgTimesteps(createScheduler('ddim', config), 10, 0.05), /no denoising step/);
  assert.throws(() => img2imgTimesteps(createScheduler('ddim', config), 10, 0), /strength/);
  const full = img2imgTimesteps(createScheduler('pndm', config), 10, 1);
  assert.equal(full.startIndex, 0);
  assert.equal(full.timesteps.length, 11);
  assert.equal(full.steps, 10, 'the steps counted: one fewer than PNDM\'s passes');
  assert.equal(r.steps, 8);
});

test('beta schedules: linear, scaled_linear, squaredcos_cap_v2 and trained_betas', () => {
  const linear = makeBetas(normalizeSchedulerConfig({ num_train_timesteps: 1000 }));
  near(linear[0]!, 0.0001, 1e-9, 'linear first');
  near(linear[999]!, 0.02, 1e-9, 'linear last');
  const scaled = makeBetas(normalizeSchedulerConfig(SD15));
  near(scaled[0]!, 0.00085, 1e-9, 'scaled first');
  near(scaled[999]!, 0.012, 1e-9, 'scaled last');
  near(scaled[500]!, (Math.sqrt(0.00085) + (500 / 999) * (Math.sqrt(0.012) - Math.sqrt(0.00085))) ** 2, 1e-8, 'scaled middle');
  const cosine = makeBetas(normalizeSchedulerConfig({ beta_schedule: 'squaredcos_cap_v2' }));
  assert.ok(cosine[999]! <= Math.fround(0.999) && cosine[0]! > 0 && cosine[0]! < 1e-4);
  const trained = Array.from({ length: 10 }, (_, i) => 0.01 * (i + 1));
  const t = normalizeSchedulerConfig({ num_train_timesteps: 10, trained_betas: trained });
  assert.deepEqual(Array.from(makeBetas(t)), trained.map(Math.fround));
  const ac = makeAlphasCumprod(t);
  near(ac[9]!, trained.reduce((p, b) => p * (1 - b), 1), 1e-6, 'alphas_cumprod from trained_betas');
  // the same betas drive a sampler end to end
  const ddim = createScheduler('ddim', t);
  ddim.setTimesteps(5);
  assert.deepEqual(ddim.timesteps, [8, 6, 4, 2, 0]);
});

test('rescale_betas_zero_snr gives a zero terminal alphas_cumprod', () => {
  const ac = makeAlphasCumprod(normalizeSchedulerConfig({ ...SD15, rescale_betas_zero_snr: true }));
  near(ac[999]!, 0, 1e-9, 'terminal alpha');
  const euler = createScheduler('euler', normalizeSchedulerConfig({ ...SD15, rescale_betas_zero_snr: true, timestep_spacing: 'trailing' }));
  euler.setTimesteps(4);
  assert.ok(Number.isFinite(euler.initNoiseSigma) && euler.initNoiseSigma > 1000);
});

test('stepProgress: extra UNet passes at the start complete no step; the count is the steps asked for', async () => {
  const { stepProgress } = await import('../../src/pipeline/schedulers/index.ts');
  const pndm = stepProgress(3, 2);
  assert.equal(pndm.total, 2);
  assert.deepEqual([0, 1, 2].map((i) => pndm.stepAfter(i)), [0, 1, 2]);
  const plain = stepProgress(4, 4);
  assert.deepEqual([0, 1, 2, 3].map((i) => plain.stepAfter(i)), [1, 2, 3, 4]);
  // Fewer passes than steps (never expected): the total shrinks so that done never exceeds it.
  const short = stepProgress(2, 5);
  assert.equal(short.total, 2);
  assert.equal(short.stepAfter(1), 2);
});
