// The noise schedule shared by every sampler: betas from the config (linear, scaled_linear, squaredcos_cap_v2 or
// trained_betas), alphas_cumprod, optional zero-terminal-SNR rescaling, and the timestep spacings of diffusers'
// Table 2 ("leading", "trailing", "linspace"). Values are kept as float32 like diffusers' torch tensors.
import { arange, linspace, roundHalfEven, torchLinspaceFloat32 } from './numeric.ts';
import type { SchedulerConfig, TimestepSpacing } from './types.ts';

const f32 = Math.fround;

/** The Glide cosine schedule: betas from the alpha_bar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2 curve, capped. */
function betasForAlphaBar(n: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta);
  return out;
}

/** Betas as diffusers' schedulers build them in __init__ (float32). */
export function makeBetas(config: SchedulerConfig): Float32Array {
  const n = config.num_train_timesteps;
  if (config.trained_betas) return Float32Array.from(config.trained_betas);
  switch (config.beta_schedule) {
    case 'linear':
      return torchLinspaceFloat32(config.beta_start, config.beta_end, n);
    case 'scaled_linear': {
      const roots = torchLinspaceFloat32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n);
      return roots.map((r) => f32(r * r));
    }
    case 'squaredcos_cap_v2':
      return betasForAlphaBar(n);
  }
}

/** torch.cumprod(1 - betas) on CPU: accumulated in float64, each output rounded to float32. */
export function cumprodOfAlphas(betas: Float32Array): Float32Array {
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= f32(1 - betas[i]!);
    out[i] = acc;
  }
  return out;
}

/** Rescale betas to zero terminal SNR (https://arxiv.org/abs/2305.08891, Algorithm 1). */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const sqrtBar = Float64Array.from(cumprodOfAlphas(betas), Math.sqrt);
  // Only read inside map, which never runs for empty betas.
  const first = sqrtBar[0]!;
  const last = sqrtBar[sqrtBar.length - 1]!;
  const bar = sqrtBar.map((v) => ((v - last) * first) / (first - last)).map((v) => v * v);
  const out = new Float32Array(betas.length);
  out[0] = 1 - bar[0]!;
  for (let i = 1; i < bar.length; i++) out[i] = 1 - bar[i]! / bar[i - 1]!;
  return out;
}

/** Betas (rescaled when the config asks) and their alphas_cumprod. */
export function makeAlphasCumprod(config: SchedulerConfig): Float32Array {
  let betas = makeBetas(config);
  if (config.rescale_betas_zero_snr === true) betas = rescaleZeroTerminalSnr(betas);
  return cumprodOfAlphas(betas);
}

/**
 * Descending inference timesteps for the DDIM-family spacing rules (DDIM, PNDM, Euler, Euler ancestral):
 * - linspace: linspace(0, T - 1, n), rounded half-to-even when `round` (Euler keeps the fractions);
 * - leading:  arange(n) * (T // n), plus steps_offset;
 * - trailing: round(arange(T, 0, -T / n)) - 1.
 */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  trainSteps: number,
  n: number,
  stepsOffset: number,
  round: boolean,
): number[] {
  switch (spacing) {
    case 'linspace': {
      const values = linspace(0, trainSteps - 1, n).reverse();
      return round ? values.map(roundHalfEven) : values.map(f32);
    }
    case 'leading': {
      const ratio = Math.floor(trainSteps / n);
      const values: number[] = [];
      for (let i = n - 1; i >= 0; i--) values.push(i * ratio + stepsOffset);
      return values;
    }
    case 'trailing':
      return arange(trainSteps, 0, -trainSteps / n).map((v) => roundHalfEven(v) - 1);
  }
}

/** Validates an inference step count against the training schedule. */
export function checkStepCount(n: number, trainSteps: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`num_inference_steps must be a positive integer, got ${n}`);
  if (n > trainSteps) {
    throw new RangeError(`num_inference_steps (${n}) cannot exceed num_train_timesteps (${trainSteps})`);
  }
}

/** alphas_cumprod[t] for an integer training timestep, with a clear error for anything else. */
export function alphaAt(alphasCumprod: Float32Array, t: number): number {
  if (!Number.isInteger(t) || t < 0 || t >= alphasCumprod.length) {
    throw new RangeError(`timestep ${t} is not an integer training timestep in [0, ${alphasCumprod.length - 1}]`);
  }
  return alphasCumprod[t]!;
}
