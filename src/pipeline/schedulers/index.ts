// Entry points for the pipeline: build a sampler by name from a model's scheduler config, pick the sampler a
// config implies, and compute img2img's truncated schedule the way diffusers' img2img pipelines do.
import { configFor, defaultSamplerFor, normalizeSchedulerConfig } from './config.ts';
import { DdimScheduler } from './ddim.ts';
import { DpmSolverMultistepScheduler } from './dpmSolverMultistep.ts';
import { EulerScheduler } from './euler.ts';
import { EulerAncestralScheduler } from './eulerAncestral.ts';
import { LcmScheduler } from './lcm.ts';
import { PndmScheduler } from './pndm.ts';
import type { SamplerName, Scheduler, SchedulerConfig } from './types.ts';

export { configFor, defaultSamplerFor, normalizeSchedulerConfig };
export { DdimScheduler, DpmSolverMultistepScheduler, EulerAncestralScheduler, EulerScheduler, LcmScheduler, PndmScheduler };
export { SAMPLER_NAMES } from './types.ts';
export type { NoiseSource, SamplerName, Scheduler, SchedulerConfig, StepOutput } from './types.ts';

/**
 * A fresh sampler `name` for a model whose (normalized) scheduler config is `config`. Keys the config file did not
 * supply take the sampler's own diffusers defaults, as `SamplerClass.from_config(config)` would.
 */
export function createScheduler(name: SamplerName, config: SchedulerConfig): Scheduler {
  const effective = configFor(name, config);
  switch (name) {
    case 'pndm':
      return new PndmScheduler(effective);
    case 'ddim':
      return new DdimScheduler(effective);
    case 'euler':
      return new EulerScheduler(effective);
    case 'euler-a':
      return new EulerAncestralScheduler(effective);
    case 'dpmpp-2m':
    case 'dpmpp-2m-karras':
      return new DpmSolverMultistepScheduler(effective);
    case 'lcm':
      return new LcmScheduler(effective);
  }
}

export interface Img2ImgSchedule {
  /** The timesteps to run, in order (their count is the number of denoising steps actually run). */
  timesteps: number[];
  /** Index of timesteps[0] in the scheduler's full schedule (already passed to setBeginIndex). */
  startIndex: number;
  /** The denoising steps this is, as the user counts them (steps × strength); see stepProgress. */
  steps: number;
}

/** How many UNet passes (`passes`) count as the user's `steps`, and which step each pass completes. */
export interface StepProgress {
  /** The steps reported: what the user asked for (never more than the passes). */
  total: number;
  /** The step completed by pass `index` (0-based), 0 for a warm-up pass that completes none. */
  stepAfter(index: number): number;
}

/**
 * Progress in the user's steps, as diffusers' progress bar counts them: a scheduler may run the UNet more often than
 * the steps asked for (PNDM's first step takes two passes: its schedule has one timestep more), and those first extra
 * passes complete no step. So a 2-step PNDM job counts 1, 2 of 2 over its three passes, never "3 of 2".
 */
export function stepProgress(passes: number, steps: number): StepProgress {
  const total = Math.max(0, Math.min(steps, passes));
  const warmup = passes - total;
  return { total, stepAfter: (index) => Math.max(0, index + 1 - warmup) };
}

/**
 * Sets the scheduler up for img2img and returns the timesteps to run, as diffusers' img2img pipelines do:
 * init_timestep = min(int(steps * strength), steps), t_start = max(steps - init_timestep, 0), run the schedule
 * from entry t_start * order and tell the scheduler it begins there. The init latents are then
 * `scheduler.addNoise(latents, noise, timesteps[0])`. LCM instead shortens its distillation schedule by strength
 * and runs all `steps` of it.
 */
export function img2imgTimesteps(scheduler: Scheduler, steps: number, strength: number): Img2ImgSchedule {
  if (!(strength > 0 && strength <= 1)) throw new RangeError(`img2img strength must be in (0, 1], got ${strength}`);
  if (scheduler instanceof LcmScheduler) {
    scheduler.setTimesteps(steps, strength);
    scheduler.setBeginIndex(0);
    return { timesteps: [...scheduler.timesteps], startIndex: 0, steps: scheduler.timesteps.length };
  }
  scheduler.setTimesteps(steps);
  const initTimestep = Math.min(Math.trunc(steps * strength), steps);
  const tStart = Math.max(steps - initTimestep, 0);
  const startIndex = tStart * scheduler.order;
  const timesteps = scheduler.timesteps.slice(startIndex);
  if (initTimestep < 1 || timesteps.length === 0) {
    throw new RangeError(`img2img with ${steps} steps at strength ${strength} leaves no denoising step to run`);
  }
  scheduler.setBeginIndex(startIndex);
  return { timesteps, startIndex, steps: initTimestep };
}
