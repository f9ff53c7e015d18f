// Sigma-space pieces shared by the k-diffusion style samplers (Euler, Euler ancestral, DPM-Solver++):
// sigma(t) = sqrt((1 - alphas_cumprod) / alphas_cumprod), the Karras et al. (2022) schedule, and the inverse map
// from a sigma back to a (fractional) training timestep, all as diffusers computes them.
import { linspace } from './numeric.ts';

const f32 = Math.fround;

/** sigma for every training timestep, float32 as diffusers' torch expression gives it. */
export function trainingSigmas(alphasCumprod: Float32Array): Float32Array {
  const out = new Float32Array(alphasCumprod.length);
  for (let i = 0; i < out.length; i++) {
    const a = alphasCumprod[i]!;
    out[i] = Math.sqrt(f32(f32(1 - a) / a));
  }
  return out;
}

/** np.log of a float32 sigma table (float32 result). */
export function logOf(sigmas: Float32Array): Float32Array {
  return sigmas.map((s) => f32(Math.log(s)));
}

/** Karras et al. (2022) rho = 7 schedule from sigmaMax down to sigmaMin in n points (float64). */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, n).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** The fractional training timestep whose log-sigma interpolates to log(sigma) (diffusers' _sigma_to_t). */
export function sigmaToTimestep(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  // log_sigmas grows with t; low = last index whose log-sigma is <= log(sigma) (0 if none), kept below the end.
  let count = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) count = i + 1;
  const lowIdx = Math.min(Math.max(count - 1, 0), logSigmas.length - 2);
  const low = logSigmas[lowIdx]!;
  const high = logSigmas[lowIdx + 1]!;
  const w = Math.min(Math.max((low - logSigma) / (low - high), 0), 1);
  return (1 - w) * lowIdx + w * (lowIdx + 1);
}

/**
 * The schedule position of `timestep` when a sampler starts without a begin index (diffusers' index_for_timestep):
 * the second match when the timestep is duplicated, so a restart mid-schedule does not skip a sigma.
 */
export function indexForTimestep(timesteps: readonly number[], timestep: number): number | undefined {
  let first: number | undefined;
  for (let i = 0; i < timesteps.length; i++) {
    if (timesteps[i] === timestep) {
      if (first !== undefined) return i;
      first = i;
    }
  }
  return first;
}

/** Throws a clear error when a timestep is not on the schedule. */
export function requireIndex(timesteps: readonly number[], timestep: number): number {
  const index = indexForTimestep(timesteps, timestep);
  if (index === undefined) throw new RangeError(`timestep ${timestep} is not in this scheduler's timesteps`);
  return index;
}
