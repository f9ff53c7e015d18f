// The part Euler and Euler ancestral share (diffusers' EulerDiscreteScheduler / EulerAncestralDiscreteScheduler):
// a sigma per inference timestep interpolated from the training sigmas (or a Karras schedule), a trailing final
// sigma, input scaling by 1 / sqrt(sigma^2 + 1), and add_noise as x0 + sigma * noise.
import { assertSameLength } from '../tensor.ts';
import { checkStepCount, makeAlphasCumprod, spacedTimesteps } from './betas.ts';
import { interpUnit } from './numeric.ts';
import { karrasSigmas, logOf, sigmaToTimestep, trainingSigmas } from './sigmas.ts';
import { StepCounter } from './stepIndex.ts';
import type { SamplerName, SchedulerConfig, StepOutput, NoiseSource, Scheduler } from './types.ts';

const f32 = Math.fround;

export abstract class SigmaScheduler implements Scheduler {
  abstract readonly name: SamplerName;
  readonly order = 1;
  timesteps: number[];
  /** sigma for each timestep entry plus the final sigma (float32). */
  sigmas: Float32Array;

  protected readonly counter = new StepCounter();
  protected readonly alphasCumprod: Float32Array;
  private readonly trainSigmas: Float32Array;
  private readonly logSigmas: Float32Array;

  constructor(
    protected readonly config: SchedulerConfig,
    private readonly useKarras: boolean,
  ) {
    this.alphasCumprod = makeAlphasCumprod(config);
    // Zero terminal SNR would make the first sigma infinite; diffusers nudges it to the fp16 epsilon.
    if (config.rescale_betas_zero_snr === true) this.alphasCumprod[this.alphasCumprod.length - 1] = 2 ** -24;
    this.trainSigmas = trainingSigmas(this.alphasCumprod);
    this.logSigmas = logOf(this.trainSigmas);
    const n = config.num_train_timesteps;
    this.timesteps = Array.from({ length: n }, (_, i) => n - 1 - i);
    this.sigmas = Float32Array.from([...this.trainSigmas].reverse().concat(0));
  }

  /** diffusers: sigma_max for "linspace"/"trailing" spacing, sqrt(sigma_max^2 + 1) for "leading". */
  get initNoiseSigma(): number {
    let max = 0;
    for (const s of this.sigmas) if (s > max) max = s;
    const spacing = this.config.timestep_spacing;
    return spacing === 'linspace' || spacing === 'trailing' ? max : Math.sqrt(max * max + 1);
  }

  setTimesteps(numInferenceSteps: number): void {
    const trainSteps = this.config.num_train_timesteps;
    checkStepCount(numInferenceSteps, trainSteps);
    let timesteps = spacedTimesteps(this.config.timestep_spacing, trainSteps, numInferenceSteps, this.config.steps_offset, false);
    let sigmas = timesteps.map((t) => interpUnit(t, this.trainSigmas));
    if (this.useKarras) {
      sigmas = karrasSigmas(sigmas[sigmas.length - 1]!, sigmas[0]!, numInferenceSteps);
      timesteps = sigmas.map((s) => sigmaToTimestep(s, this.logSigmas));
    }
    const last = this.config.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0]! : 0;
    this.sigmas = Float32Array.from([...sigmas, last]);
    this.timesteps = timesteps.map(f32);
    this.counter.reset();
  }

  setBeginIndex(index: number): void {
    this.counter.beginIndex = index;
  }

  scaleModelInput(sample: Float32Array, timestep: number): Float32Array {
    // sigmas holds one more entry than timesteps, so every schedule position has a sigma.
    const sigma = this.sigmas[this.counter.current(this.timesteps, timestep)]!;
    const k = 1 / Math.sqrt(sigma * sigma + 1);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = sample[i]! * k;
    return out;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, noise?: NoiseSource): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${this.name}: call setTimesteps before step`);
    assertSameLength(`${this.name} step`, modelOutput, sample);
    const index = this.counter.current(this.timesteps, timestep);
    if (index + 1 >= this.sigmas.length) throw new RangeError(`${this.name}: stepped past the end of the schedule`);
    const out = this.update(modelOutput, sample, this.sigmas[index]!, this.sigmas[index + 1]!, noise);
    this.counter.advance();
    return out;
  }

  /** One update from sigma to sigmaNext. */
  protected abstract update(
    modelOutput: Float32Array,
    sample: Float32Array,
    sigma: number,
    sigmaNext: number,
    noise?: NoiseSource,
  ): StepOutput;

  /** The x0 estimate from the model output at noise level sigma (diffusers' pred_original_sample). */
  protected predictX0(modelOutput: Float32Array, sample: Float32Array, sigma: number): Float32Array {
    const out = new Float32Array(sample.length);
    switch (this.config.prediction_type) {
      case 'epsilon':
        for (let i = 0; i < out.length; i++) out[i] = sample[i]! - sigma * modelOutput[i]!;
        break;
      case 'v_prediction': {
        const c = -sigma / Math.sqrt(sigma * sigma + 1);
        const skip = 1 / (sigma * sigma + 1);
        for (let i = 0; i < out.length; i++) out[i] = modelOutput[i]! * c + sample[i]! * skip;
        break;
      }
      case 'sample':
        out.set(modelOutput);
        break;
    }
    return out;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    assertSameLength('addNoise', original, noise);
    const sigma = this.sigmas[this.counter.noiseIndex(this.timesteps, timestep)]!;
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = original[i]! + noise[i]! * sigma;
    return out;
  }
}
