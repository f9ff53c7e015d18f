// The step counter of diffusers' index-based schedulers (Euler, Euler ancestral, DPM-Solver, LCM): it starts at
// the begin index the pipeline set (img2img) or at the position of the first timestep seen, and advances once per
// step, so duplicated timesteps in a schedule are walked in order.
import { indexForTimestep } from './sigmas.ts';

export class StepCounter {
  /** Index into the schedule of the step about to run; null until the first scaleModelInput/step. */
  stepIndex: number | null = null;
  beginIndex: number | null = null;

  reset(): void {
    this.stepIndex = null;
    this.beginIndex = null;
  }

  /** The current index, initialising it from the begin index or the timestep like diffusers' _init_step_index. */
  current(timesteps: readonly number[], timestep: number, fallback?: number): number {
    if (this.stepIndex === null) {
      const found = this.beginIndex ?? indexForTimestep(timesteps, timestep) ?? fallback;
      if (found === undefined) throw new RangeError(`timestep ${timestep} is not in this scheduler's timesteps`);
      this.stepIndex = found;
    }
    return this.stepIndex;
  }

  advance(): void {
    if (this.stepIndex !== null) this.stepIndex++;
  }

  /**
   * The schedule index add_noise uses: the timestep's own position when no begin index was set, the current step
   * when called mid-loop (inpainting), else the begin index (img2img's initial latents).
   */
  noiseIndex(timesteps: readonly number[], timestep: number, fallback?: number): number {
    if (this.beginIndex === null) {
      const found = indexForTimestep(timesteps, timestep) ?? fallback;
      if (found === undefined) throw new RangeError(`timestep ${timestep} is not in this scheduler's timesteps`);
      return found;
    }
    return this.stepIndex ?? this.beginIndex;
  }
}
