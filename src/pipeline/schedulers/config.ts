// scheduler_config.json handling: diffusers' per-class defaults, validation with errors that name the key, and
// diffusers' `from_config` rule for switching samplers: keys present in the file win, keys missing from it take the
// *target* class's defaults (e.g. an old SD 1.5 PNDM config without timestep_spacing gives DPM++ its "linspace").
import { SAMPLER_NAMES, type SamplerName, type SchedulerConfig } from './types.ts';

export const SAMPLER_CLASS: Record<SamplerName, string> = {
  pndm: 'PNDMScheduler',
  ddim: 'DDIMScheduler',
  euler: 'EulerDiscreteScheduler',
  'euler-a': 'EulerAncestralDiscreteScheduler',
  'dpmpp-2m': 'DPMSolverMultistepScheduler',
  'dpmpp-2m-karras': 'DPMSolverMultistepScheduler',
  lcm: 'LCMScheduler',
};

const COMMON_DEFAULTS = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  steps_offset: 0,
  clip_sample: false,
  clip_sample_range: 1.0,
  set_alpha_to_one: false,
  rescale_betas_zero_snr: false,
  thresholding: false,
} as const;

/** The __init__ defaults of each diffusers class, for the keys this project reads. */
const CLASS_DEFAULTS: Record<string, Record<string, unknown>> = {
  PNDMScheduler: { ...COMMON_DEFAULTS, timestep_spacing: 'leading', skip_prk_steps: false },
  DDIMScheduler: { ...COMMON_DEFAULTS, timestep_spacing: 'leading', clip_sample: true, set_alpha_to_one: true },
  EulerDiscreteScheduler: {
    ...COMMON_DEFAULTS,
    timestep_spacing: 'linspace',
    interpolation_type: 'linear',
    use_karras_sigmas: false,
    final_sigmas_type: 'zero',
  },
  EulerAncestralDiscreteScheduler: { ...COMMON_DEFAULTS, timestep_spacing: 'linspace' },
  DPMSolverMultistepScheduler: {
    ...COMMON_DEFAULTS,
    timestep_spacing: 'linspace',
    solver_order: 2,
    algorithm_type: 'dpmsolver++',
    solver_type: 'midpoint',
    lower_order_final: true,
    euler_at_final: false,
    use_karras_sigmas: false,
    final_sigmas_type: 'zero',
    lambda_min_clipped: Number.NEGATIVE_INFINITY,
  },
  LCMScheduler: {
    ...COMMON_DEFAULTS,
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    timestep_spacing: 'leading',
    set_alpha_to_one: true,
    original_inference_steps: 50,
    timestep_scaling: 10.0,
  },
};

type Check = (value: unknown) => boolean;
const isBool: Check = (v) => typeof v === 'boolean';
const isFinite: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const isPositive: Check = (v) => isFinite(v) && (v as number) > 0;
const isNonNegativeInt: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const isPositiveInt: Check = (v) => Number.isInteger(v) && (v as number) > 0;
const oneOf =
  (...options: unknown[]): Check =>
  (v) =>
    options.includes(v);

/** What each key must hold, described for the error message. */
const RULES: Record<string, [Check, string]> = {
  num_train_timesteps: [isPositiveInt, 'a positive integer'],
  beta_start: [isPositive, 'a positive number'],
  beta_end: [isPositive, 'a positive number'],
  beta_schedule: [oneOf('linear', 'scaled_linear', 'squaredcos_cap_v2'), '"linear", "scaled_linear" or "squaredcos_cap_v2"'],
  prediction_type: [oneOf('epsilon', 'v_prediction', 'sample'), '"epsilon", "v_prediction" or "sample"'],
  timestep_spacing: [oneOf('leading', 'trailing', 'linspace'), '"leading", "trailing" or "linspace"'],
  steps_offset: [isNonNegativeInt, 'a non-negative integer'],
  set_alpha_to_one: [isBool, 'a boolean'],
  clip_sample: [isBool, 'a boolean'],
  clip_sample_range: [isPositive, 'a positive number'],
  rescale_betas_zero_snr: [isBool, 'a boolean'],
  thresholding: [(v) => v === false, 'false (dynamic thresholding is for pixel-space models and is not supported)'],
  skip_prk_steps: [isBool, 'a boolean'],
  interpolation_type: [oneOf('linear'), '"linear" (log_linear is not supported)'],
  use_karras_sigmas: [isBool, 'a boolean'],
  final_sigmas_type: [oneOf('zero', 'sigma_min'), '"zero" or "sigma_min"'],
  solver_order: [oneOf(1, 2, 3), '1, 2 or 3'],
  algorithm_type: [oneOf('dpmsolver++'), '"dpmsolver++"'],
  solver_type: [oneOf('midpoint', 'heun'), '"midpoint" or "heun"'],
  lower_order_final: [isBool, 'a boolean'],
  euler_at_final: [isBool, 'a boolean'],
  lambda_min_clipped: [(v) => typeof v === 'number' && !Number.isNaN(v), 'a number (or -Infinity)'],
  original_inference_steps: [isPositiveInt, 'a positive integer'],
  timestep_scaling: [isPositive, 'a positive number'],
};

/** The class whose defaults apply: the named class when known, else PNDM (diffusers' SD default). */
function knownClass(className: unknown): string {
  return typeof className === 'string' && className in CLASS_DEFAULTS ? className : 'PNDMScheduler';
}

/** Keys read by our samplers whose values may legitimately be null in a config file (null = "use the default"). */
const NULLABLE_TO_DEFAULT = new Set(['timestep_spacing', 'final_sigmas_type', 'lambda_min_clipped', 'variance_type']);

/** Defaults of `className` overlaid with the given keys, then every known key validated. */
function resolve(raw: Record<string, unknown>, className: string): SchedulerConfig {
  const merged: Record<string, unknown> = { ...CLASS_DEFAULTS[className] };
  for (const [key, value] of Object.entries(raw)) {
    if (value === null && NULLABLE_TO_DEFAULT.has(key)) continue;
    if (value === undefined) continue;
    merged[key] = value;
  }
  for (const [key, [check, expected]] of Object.entries(RULES)) {
    if (key in merged && !check(merged[key])) {
      throw new Error(`scheduler config: "${key}" must be ${expected}, got ${JSON.stringify(merged[key])}`);
    }
  }
  const betas = merged.trained_betas;
  if (betas !== null && betas !== undefined) {
    if (!Array.isArray(betas) || betas.some((b) => typeof b !== 'number' || !(b > 0 && b < 1))) {
      throw new Error('scheduler config: "trained_betas" must be null or an array of numbers in (0, 1)');
    }
    if (betas.length !== merged.num_train_timesteps) {
      throw new Error(
        `scheduler config: "trained_betas" has ${betas.length} values but "num_train_timesteps" is ${String(merged.num_train_timesteps)}`,
      );
    }
  }
  if ((merged.beta_end as number) < (merged.beta_start as number)) {
    throw new Error('scheduler config: "beta_end" must not be smaller than "beta_start"');
  }
  return merged as SchedulerConfig;
}

/**
 * Parses a scheduler_config.json object: fills the defaults of its `_class_name` (PNDM when unknown), validates
 * every value this project uses (errors name the key), and remembers which keys the file supplied in
 * `_provided_keys` so that `configFor` can apply another sampler's defaults to the rest.
 */
export function normalizeSchedulerConfig(raw: unknown): SchedulerConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error('scheduler config must be a JSON object');
  }
  const source = raw as Record<string, unknown>;
  const provided = Array.isArray(source._provided_keys)
    ? (source._provided_keys as string[])
    : Object.keys(source).filter((k) => source[k] !== undefined);
  const picked: Record<string, unknown> = {};
  for (const key of provided) picked[key] = source[key];
  const config = resolve(picked, knownClass(source._class_name));
  config._provided_keys = provided;
  return config;
}

/**
 * The effective config for running `sampler`, as `TargetClass.from_config(config)` would build it, with the
 * solver settings that the sampler's name implies forced on top.
 */
export function configFor(sampler: SamplerName, config: SchedulerConfig): SchedulerConfig {
  if (!SAMPLER_NAMES.includes(sampler)) throw new Error(`unknown sampler "${String(sampler)}"`);
  const provided = config._provided_keys ?? Object.keys(config);
  const picked: Record<string, unknown> = {};
  for (const key of provided) if (key !== '_class_name') picked[key] = config[key];
  const className = SAMPLER_CLASS[sampler];
  if (sampler === 'dpmpp-2m' || sampler === 'dpmpp-2m-karras') {
    Object.assign(picked, {
      solver_order: 2,
      algorithm_type: 'dpmsolver++',
      solver_type: 'midpoint',
      use_karras_sigmas: sampler === 'dpmpp-2m-karras',
    });
  }
  const resolved = resolve(picked, className);
  resolved._class_name = className;
  resolved._provided_keys = provided;
  return resolved;
}

/** The sampler diffusers would run for a model whose scheduler config names `className`. */
export function defaultSamplerFor(className: string | undefined, config?: Partial<SchedulerConfig>): SamplerName {
  switch (className) {
    case 'DDIMScheduler':
      return 'ddim';
    case 'EulerDiscreteScheduler':
      return 'euler';
    case 'EulerAncestralDiscreteScheduler':
      return 'euler-a';
    case 'DPMSolverMultistepScheduler':
      return config?.use_karras_sigmas === true ? 'dpmpp-2m-karras' : 'dpmpp-2m';
    case 'LCMScheduler':
      return 'lcm';
    default:
      return 'pndm';
  }
}
