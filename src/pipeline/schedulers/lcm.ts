// Latent Consistency Model sampling (Luo et al. 2023, https://arxiv.org/abs/2310.04378) as diffusers'
// LCMScheduler: timesteps are picked from the distillation schedule of `original_inference_steps` (k = T / 50 by
// default), each step maps the model output to x0, applies the consistency boundary condition
// denoised = c_out * x0 + c_skip * x with timestep_scaling, and, except on the last step, re-noises `denoised` to
// the next timestep with fresh noise from the NoiseSource passed to step.
import { assertSameLength } from '../tensor.ts';
import { alphaAt, makeAlphasCumprod } from './betas.ts';
import { addNoiseAtTimestep } from './ddpmNoise.ts';
import { linspace } from './numeric.ts';
import { StepCounter } from './stepIndex.ts';
import type { NoiseSource, Scheduler, SchedulerConfig, StepOutput } from './types.ts';

const SIGMA_DATA = 0.5;

export class LcmScheduler implements Scheduler {
  readonly name = 'lcm' as const;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];

  private readonly alphasCumprod: Float32Array;
  private readonly finalAlphaCumprod: number;
  private readonly counter = new StepCounter();
  private numInferenceSteps = 0;

  constructor(private readonly config: SchedulerConfig) {
    this.alphasCumprod = makeAlphasCumprod(config);
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  /**
   * `strength` < 1 (img2img) keeps only the first int(original_inference_steps * strength) distillation timesteps,
   * as diffusers' LCM img2img pipeline does through set_timesteps(..., strength).
   */
  setTimesteps(numInferenceSteps: number, strength = 1): void {
    const trainSteps = this.config.num_train_timesteps;
    const originalSteps = (this.config.original_inference_steps as number | undefined) ?? 50;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new RangeError(`num_inference_steps must be a positive integer, got ${numInferenceSteps}`);
    }
    if (!(strength > 0 && strength <= 1)) throw new RangeError(`strength must be in (0, 1], got ${strength}`);
    if (originalSteps > trainSteps) {
      throw new RangeError(`original_inference_steps (${originalSteps}) cannot exceed num_train_timesteps (${trainSteps})`);
    }
    if (numInferenceSteps > originalSteps) {
      throw new RangeError(
        `LCM: num_inference_steps (${numInferenceSteps}) cannot exceed original_inference_steps (${originalSteps})`,
      );
    }
    const k = Math.floor(trainSteps / originalSteps);
    const usable = Math.trunc(originalSteps * strength);
    if (Math.floor(usable / numInferenceSteps) < 1) {
      throw new RangeError(
        `LCM: original_inference_steps x strength (${originalSteps} x ${strength}) leaves ${usable} timesteps, fewer than num_inference_steps (${numInferenceSteps})`,
      );
    }
    const origin: number[] = [];
    for (let i = usable; i >= 1; i--) origin.push(i * k - 1);
    // endpoint=false keeps every x below origin.length, so each floor(x) is an index of origin.
    this.timesteps = linspace(0, origin.length, numInferenceSteps, false).map((x) => origin[Math.floor(x)]!);
    this.numInferenceSteps = numInferenceSteps;
    this.counter.reset();
  }

  setBeginIndex(index: number): void {
    this.counter.beginIndex = index;
  }

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  /** predOriginalSample is LCM's `denoised`, the image diffusers' LCM pipelines decode. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, noise?: NoiseSource): StepOutput {
    if (this.timesteps.length === 0) throw new Error('lcm: call setTimesteps before step');
    assertSameLength('lcm step', modelOutput, sample);
    const index = this.counter.current(this.timesteps, timestep);
    const prevTimestep = index + 1 < this.timesteps.length ? this.timesteps[index + 1]! : timestep;
    const alphaT = alphaAt(this.alphasCumprod, timestep);
    const alphaPrev = prevTimestep >= 0 ? alphaAt(this.alphasCumprod, prevTimestep) : this.finalAlphaCumprod;
    const sqrtAlpha = Math.sqrt(alphaT);
    const sqrtBeta = Math.sqrt(1 - alphaT);

    const scaled = timestep * ((this.config.timestep_scaling as number | undefined) ?? 10);
    const cSkip = SIGMA_DATA ** 2 / (scaled * scaled + SIGMA_DATA ** 2);
    const cOut = scaled / Math.sqrt(scaled * scaled + SIGMA_DATA ** 2);
    const clip = this.config.clip_sample;
    const range = this.config.clip_sample_range;
    const prediction = this.config.prediction_type;

    const denoised = new Float32Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      let x0 = prediction === 'epsilon' ? (x - sqrtBeta * m) / sqrtAlpha : prediction === 'sample' ? m : sqrtAlpha * x - sqrtBeta * m;
      if (clip) x0 = Math.min(Math.max(x0, -range), range);
      denoised[i] = cOut * x0 + cSkip * x;
    }

    let prev = denoised;
    if (index !== this.numInferenceSteps - 1) {
      if (!noise) throw new Error('lcm: step needs a NoiseSource to re-noise between steps');
      const eps = noise.randn(sample.length);
      const a = Math.sqrt(alphaPrev);
      const b = Math.sqrt(1 - alphaPrev);
      prev = new Float32Array(sample.length);
      for (let i = 0; i < prev.length; i++) prev[i] = a * denoised[i]! + b * eps[i]!;
    }
    this.counter.advance();
    return { prevSample: prev, predOriginalSample: denoised };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseAtTimestep(this.alphasCumprod, original, noise, timestep);
  }
}
