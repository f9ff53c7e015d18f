// DDIM (Song et al. 2020, https://arxiv.org/abs/2010.02502) with diffusers' DDIMScheduler semantics at eta = 0:
// the deterministic update x_prev = sqrt(a_prev) * x0 + sqrt(1 - a_prev) * eps, formula (12) of the paper,
// with optional clipping of the x0 estimate (clip_sample / clip_sample_range).
import { assertSameLength } from '../tensor.ts';
import { alphaAt, checkStepCount, makeAlphasCumprod, spacedTimesteps } from './betas.ts';
import { addNoiseAtTimestep } from './ddpmNoise.ts';
import type { Scheduler, SchedulerConfig, StepOutput } from './types.ts';

export class DdimScheduler implements Scheduler {
  readonly name = 'ddim' as const;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];

  private readonly alphasCumprod: Float32Array;
  private readonly finalAlphaCumprod: number;
  private stepRatio = 0;

  constructor(private readonly config: SchedulerConfig) {
    this.alphasCumprod = makeAlphasCumprod(config);
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  setTimesteps(numInferenceSteps: number): void {
    const trainSteps = this.config.num_train_timesteps;
    checkStepCount(numInferenceSteps, trainSteps);
    this.stepRatio = Math.floor(trainSteps / numInferenceSteps);
    this.timesteps = spacedTimesteps(this.config.timestep_spacing, trainSteps, numInferenceSteps, this.config.steps_offset, true);
  }

  /** DDIM has no begin index: each step reads its alphas from the timestep it is given. */
  setBeginIndex(_index: number): void {}

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepOutput {
    if (this.timesteps.length === 0) throw new Error('DDIM: call setTimesteps before step');
    assertSameLength('DDIM step', modelOutput, sample);
    const prevTimestep = timestep - this.stepRatio;
    const alphaT = alphaAt(this.alphasCumprod, timestep);
    const alphaPrev = prevTimestep >= 0 ? alphaAt(this.alphasCumprod, prevTimestep) : this.finalAlphaCumprod;
    const sqrtAlpha = Math.sqrt(alphaT);
    const sqrtBeta = Math.sqrt(1 - alphaT);
    const sqrtAlphaPrev = Math.sqrt(alphaPrev);
    const directionCoeff = Math.sqrt(1 - alphaPrev);
    const clip = this.config.clip_sample;
    const range = this.config.clip_sample_range;
    const prediction = this.config.prediction_type;

    const prev = new Float32Array(sample.length);
    const x0s = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      let x0: number;
      let eps: number;
      if (prediction === 'epsilon') {
        x0 = (x - sqrtBeta * m) / sqrtAlpha;
        eps = m;
      } else if (prediction === 'sample') {
        x0 = m;
        eps = (x - sqrtAlpha * x0) / sqrtBeta;
      } else {
        x0 = sqrtAlpha * x - sqrtBeta * m;
        eps = sqrtAlpha * m + sqrtBeta * x;
      }
      if (clip) x0 = Math.min(Math.max(x0, -range), range);
      x0s[i] = x0;
      prev[i] = sqrtAlphaPrev * x0 + directionCoeff * eps;
    }
    return { prevSample: prev, predOriginalSample: x0s };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseAtTimestep(this.alphasCumprod, original, noise, timestep);
  }
}
