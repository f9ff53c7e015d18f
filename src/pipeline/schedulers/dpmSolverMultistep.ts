// DPM-Solver++ multistep (Lu et al. 2022, https://arxiv.org/abs/2211.01095) as diffusers'
// DPMSolverMultistepScheduler with algorithm_type "dpmsolver++": the model output is turned into an x0 estimate,
// and each step integrates in lambda = log(alpha / sigma) using the last `solver_order` estimates (2 for 2M,
// "midpoint" or "heun" second-order correction), dropping to lower order for the first steps and, per the
// lower_order_final / euler_at_final / final_sigmas_type rules, for the last ones.
import { assertSameLength } from '../tensor.ts';
import { checkStepCount, makeAlphasCumprod } from './betas.ts';
import { arange, interpUnit, linspace, roundHalfEven } from './numeric.ts';
import { karrasSigmas, logOf, sigmaToTimestep, trainingSigmas } from './sigmas.ts';
import { StepCounter } from './stepIndex.ts';
import type { SamplerName, Scheduler, SchedulerConfig, StepOutput } from './types.ts';

const f32 = Math.fround;

/** alpha_t and sigma_t of the VP process for a k-diffusion sigma, and lambda = log(alpha_t) - log(sigma_t). */
function vp(sigma: number): { alpha: number; sigma: number; lambda: number } {
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const s = sigma * alpha;
  return { alpha, sigma: s, lambda: Math.log(alpha) - Math.log(s) };
}

export class DpmSolverMultistepScheduler implements Scheduler {
  readonly name: SamplerName;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  sigmas = new Float32Array(0);

  private readonly alphasCumprod: Float32Array;
  private readonly trainSigmas: Float32Array;
  private readonly logSigmas: Float32Array;
  private readonly solverOrder: number;
  private readonly counter = new StepCounter();
  /** x0 estimates of the previous steps, oldest first (length solver_order once warmed up). */
  private modelOutputs: Float32Array[] = [];
  private lowerOrderNums = 0;

  constructor(private readonly config: SchedulerConfig) {
    this.name = config.use_karras_sigmas === true ? 'dpmpp-2m-karras' : 'dpmpp-2m';
    this.alphasCumprod = makeAlphasCumprod(config);
    if (config.rescale_betas_zero_snr === true) this.alphasCumprod[this.alphasCumprod.length - 1] = 2 ** -24;
    this.trainSigmas = trainingSigmas(this.alphasCumprod);
    this.logSigmas = logOf(this.trainSigmas);
    this.solverOrder = (config.solver_order as number | undefined) ?? 2;
  }

  /** Number of training timesteps left after clipping lambda(t) at lambda_min_clipped (all of them by default). */
  private lastTimestep(): number {
    const min = (this.config.lambda_min_clipped as number | undefined) ?? Number.NEGATIVE_INFINITY;
    const n = this.alphasCumprod.length;
    // searchsorted(flip(lambda_t), min): lambda_t decreases with t, so flipped it ascends.
    let clipped = 0;
    for (let i = n - 1; i >= 0; i--) {
      const a = this.alphasCumprod[i]!;
      const lambda = f32(f32(Math.log(f32(Math.sqrt(a)))) - f32(Math.log(f32(Math.sqrt(f32(1 - a))))));
      if (lambda >= min) break;
      clipped++;
    }
    return this.config.num_train_timesteps - clipped;
  }

  setTimesteps(numInferenceSteps: number): void {
    const trainSteps = this.config.num_train_timesteps;
    checkStepCount(numInferenceSteps, trainSteps);
    const last = this.lastTimestep();
    let timesteps: number[];
    switch (this.config.timestep_spacing) {
      case 'linspace':
        timesteps = linspace(0, last - 1, numInferenceSteps + 1).map(roundHalfEven).reverse().slice(0, -1);
        break;
      case 'leading': {
        const ratio = Math.floor(last / (numInferenceSteps + 1));
        timesteps = [];
        for (let i = numInferenceSteps; i >= 1; i--) timesteps.push(i * ratio + this.config.steps_offset);
        break;
      }
      case 'trailing':
        timesteps = arange(last, 0, -trainSteps / numInferenceSteps).map((v) => roundHalfEven(v) - 1);
        break;
    }
    let sigmas: number[];
    if (this.config.use_karras_sigmas === true) {
      const n = this.trainSigmas.length;
      sigmas = karrasSigmas(this.trainSigmas[0]!, this.trainSigmas[n - 1]!, numInferenceSteps);
      timesteps = sigmas.map((s) => roundHalfEven(sigmaToTimestep(s, this.logSigmas)));
    } else {
      sigmas = timesteps.map((t) => interpUnit(t, this.trainSigmas));
    }
    const finalSigma = this.config.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0]! : 0;
    this.sigmas = Float32Array.from([...sigmas, finalSigma]);
    this.timesteps = timesteps;
    this.modelOutputs = [];
    this.lowerOrderNums = 0;
    this.counter.reset();
  }

  setBeginIndex(index: number): void {
    this.counter.beginIndex = index;
  }

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  /**
   * The returned predOriginalSample is also kept as solver history: treat it as read-only.
   */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepOutput {
    if (this.timesteps.length === 0) throw new Error(`${this.name}: call setTimesteps before step`);
    assertSameLength(`${this.name} step`, modelOutput, sample);
    const count = this.timesteps.length;
    const index = this.counter.current(this.timesteps, timestep, count - 1);
    const smallSchedule = this.config.lower_order_final === true && count < 15;
    const lowerOrderFinal =
      index === count - 1 &&
      (this.config.euler_at_final === true || smallSchedule || this.config.final_sigmas_type === 'zero');
    const lowerOrderSecond = index === count - 2 && smallSchedule;

    const x0 = this.toX0(modelOutput, sample, this.sigmas[index]!);
    this.modelOutputs.push(x0);
    if (this.modelOutputs.length > this.solverOrder) this.modelOutputs.shift();

    let prev: Float32Array;
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prev = this.firstOrder(index, sample);
    } else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prev = this.secondOrder(index, sample);
    } else {
      prev = this.thirdOrder(index, sample);
    }
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.counter.advance();
    return { prevSample: prev, predOriginalSample: x0 };
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    assertSameLength('addNoise', original, noise);
    const index = this.counter.noiseIndex(this.timesteps, timestep, this.timesteps.length - 1);
    const { alpha, sigma } = vp(this.sigmas[index]!);
    const out = new Float32Array(original.length);
    for (let i = 0; i < out.length; i++) out[i] = alpha * original[i]! + sigma * noise[i]!;
    return out;
  }

  /** DPM-Solver++ works on the data prediction: convert epsilon / v / sample outputs to x0. */
  private toX0(modelOutput: Float32Array, sample: Float32Array, sigmaK: number): Float32Array {
    const { alpha, sigma } = vp(sigmaK);
    const out = new Float32Array(sample.length);
    switch (this.config.prediction_type) {
      case 'epsilon':
        for (let i = 0; i < out.length; i++) out[i] = (sample[i]! - sigma * modelOutput[i]!) / alpha;
        break;
      case 'v_prediction':
        for (let i = 0; i < out.length; i++) out[i] = alpha * sample[i]! - sigma * modelOutput[i]!;
        break;
      case 'sample':
        out.set(modelOutput);
        break;
    }
    return out;
  }

  /** The data prediction `back` steps ago (1 = this step's); the step logic only asks for what it has stored. */
  private history(back: number): Float32Array {
    const x0 = this.modelOutputs[this.modelOutputs.length - back];
    if (x0 === undefined) throw new Error(`${this.name}: solver history holds ${this.modelOutputs.length} outputs, needs ${back}`);
    return x0;
  }

  private firstOrder(index: number, sample: Float32Array): Float32Array {
    const t = vp(this.sigmas[index + 1]!);
    const s = vp(this.sigmas[index]!);
    const h = t.lambda - s.lambda;
    const sampleCoeff = t.sigma / s.sigma;
    const d0Coeff = -t.alpha * (Math.exp(-h) - 1);
    const d0 = this.history(1);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) out[i] = sampleCoeff * sample[i]! + d0Coeff * d0[i]!;
    return out;
  }

  private secondOrder(index: number, sample: Float32Array): Float32Array {
    const t = vp(this.sigmas[index + 1]!);
    const s0 = vp(this.sigmas[index]!);
    const s1 = vp(this.sigmas[index - 1]!);
    const m0 = this.history(1);
    const m1 = this.history(2);
    const h = t.lambda - s0.lambda;
    const r0 = (s0.lambda - s1.lambda) / h;
    const expm1 = Math.exp(-h) - 1;
    const sampleCoeff = t.sigma / s0.sigma;
    const d0Coeff = -t.alpha * expm1;
    const d1Coeff = this.config.solver_type === 'heun' ? t.alpha * (expm1 / h + 1) : -0.5 * t.alpha * expm1;
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const d1 = (m0[i]! - m1[i]!) / r0;
      out[i] = sampleCoeff * sample[i]! + d0Coeff * m0[i]! + d1Coeff * d1;
    }
    return out;
  }

  private thirdOrder(index: number, sample: Float32Array): Float32Array {
    const t = vp(this.sigmas[index + 1]!);
    const s0 = vp(this.sigmas[index]!);
    const s1 = vp(this.sigmas[index - 1]!);
    const s2 = vp(this.sigmas[index - 2]!);
    const [m2, m1, m0] = [this.history(3), this.history(2), this.history(1)];
    const h = t.lambda - s0.lambda;
    const r0 = (s0.lambda - s1.lambda) / h;
    const r1 = (s1.lambda - s2.lambda) / h;
    const expm1 = Math.exp(-h) - 1;
    const sampleCoeff = t.sigma / s0.sigma;
    const d0Coeff = -t.alpha * expm1;
    const d1Coeff = t.alpha * (expm1 / h + 1);
    const d2Coeff = -t.alpha * ((expm1 + h) / (h * h) - 0.5);
    const out = new Float32Array(sample.length);
    for (let i = 0; i < out.length; i++) {
      const d10 = (m0[i]! - m1[i]!) / r0;
      const d11 = (m1[i]! - m2[i]!) / r1;
      const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
      const d2 = (d10 - d11) / (r0 + r1);
      out[i] = sampleCoeff * sample[i]! + d0Coeff * m0[i]! + d1Coeff * d1 + d2Coeff * d2;
    }
    return out;
  }
}
