// The scheduler contract, split as diffusers splits it: setTimesteps, scaleModelInput, step (and addNoise for img2img).
// Latents are flat Float32Arrays in NCHW order; schedulers treat them element-wise.

export const SAMPLER_NAMES = ['pndm', 'ddim', 'euler', 'euler-a', 'dpmpp-2m', 'dpmpp-2m-karras', 'lcm'] as const;
export type SamplerName = (typeof SAMPLER_NAMES)[number];

export type PredictionType = 'epsilon' | 'v_prediction' | 'sample';
export type BetaSchedule = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2';
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** scheduler/scheduler_config.json as diffusers writes it (snake_case keys kept as-is). */
export interface SchedulerConfig {
  _class_name?: string;
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas?: number[] | null;
  prediction_type: PredictionType;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  set_alpha_to_one: boolean;
  clip_sample: boolean;
  clip_sample_range: number;
  /** Keys the config file itself supplied (set by normalizeSchedulerConfig): a different sampler built from this
   * config takes its own diffusers defaults for every other key, as diffusers' from_config does. */
  _provided_keys?: string[];
  [key: string]: unknown;
}

/** Source of standard-normal noise; implemented by the torch-compatible generator in ../random.ts. */
export interface NoiseSource {
  randn(count: number): Float32Array;
}

export interface StepOutput {
  prevSample: Float32Array;
  /** The model's current estimate of the clean latents (x0), when the scheduler computes one: used for previews. */
  predOriginalSample?: Float32Array;
}

export interface Scheduler {
  readonly name: SamplerName;
  /** Model evaluations per timestep entry (diffusers' `order`); img2img skips `tStart * order` entries. */
  readonly order: number;
  /** Standard deviation of the initial noise: latents = randn * initNoiseSigma. */
  readonly initNoiseSigma: number;
  /** The timesteps to feed the UNet, in order, after setTimesteps. */
  readonly timesteps: number[];
  setTimesteps(numInferenceSteps: number): void;
  /** For img2img: start the step counter at this index of `timesteps` (diffusers' set_begin_index). */
  setBeginIndex(index: number): void;
  scaleModelInput(sample: Float32Array, timestep: number): Float32Array;
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, noise?: NoiseSource): StepOutput;
  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array;
}
