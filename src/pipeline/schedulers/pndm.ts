// PNDM (Liu et al. 2022, https://arxiv.org/abs/2202.09778) with diffusers' PNDMScheduler semantics: optional
// Runge-Kutta warm-up (skip_prk_steps = false, 12 model calls) followed by the 4th-order linear multistep (PLMS)
// update; Stable Diffusion configs skip the warm-up and start PLMS with a Heun-like second call on a repeated
// timestep. The update itself is formula (9) of the paper.
import { assertSameLength } from '../tensor.ts';
import { alphaAt, checkStepCount, makeAlphasCumprod, spacedTimesteps } from './betas.ts';
import { addNoiseAtTimestep } from './ddpmNoise.ts';
import type { Scheduler, SchedulerConfig, StepOutput } from './types.ts';

const PNDM_ORDER = 4;
const MAX_HISTORY = 4;

export class PndmScheduler implements Scheduler {
  readonly name = 'pndm' as const;
  readonly order = 1;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  /** Runge-Kutta warm-up timesteps (empty when skip_prk_steps). */
  prkTimesteps: number[] = [];
  plmsTimesteps: number[] = [];

  private readonly alphasCumprod: Float32Array;
  private readonly finalAlphaCumprod: number;
  private readonly skipPrk: boolean;
  private stepRatio = 0;
  private counter = 0;
  /** Past model outputs, most recent last (at most four are ever read). */
  private ets: Float32Array[] = [];
  /** Runge-Kutta accumulator over the four calls of one warm-up step. */
  private rkSum: Float32Array | null = null;
  private curSample: Float32Array | null = null;

  constructor(private readonly config: SchedulerConfig) {
    if (config.prediction_type === 'sample') throw new Error('PNDM does not support prediction_type "sample"');
    this.alphasCumprod = makeAlphasCumprod(config);
    this.finalAlphaCumprod = config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
    this.skipPrk = config.skip_prk_steps === true;
  }

  setTimesteps(numInferenceSteps: number): void {
    const trainSteps = this.config.num_train_timesteps;
    checkStepCount(numInferenceSteps, trainSteps);
    if (!this.skipPrk && numInferenceSteps < PNDM_ORDER) {
      throw new RangeError(`num_inference_steps must be >= ${PNDM_ORDER} when skip_prk_steps is false`);
    }
    this.stepRatio = Math.floor(trainSteps / numInferenceSteps);
    const ascending = spacedTimesteps(
      this.config.timestep_spacing,
      trainSteps,
      numInferenceSteps,
      this.config.steps_offset,
      true,
    ).reverse();
    const n = ascending.length;
    if (this.skipPrk) {
      // concat(t[:-1], t[-2:-1], t[-1:]) reversed: the second-to-last training step is visited twice.
      const plms = [...ascending.slice(0, n - 1), ...ascending.slice(Math.max(n - 2, 0), n - 1), ascending[n - 1]!];
      this.prkTimesteps = [];
      this.plmsTimesteps = plms.reverse();
    } else {
      const half = Math.floor(this.stepRatio / 2);
      const pairs: number[] = [];
      for (const t of ascending.slice(n - PNDM_ORDER)) pairs.push(t, t + half);
      // prk[:-1].repeat(2)[1:-1], reversed
      const repeated = pairs.slice(0, -1).flatMap((t) => [t, t]);
      this.prkTimesteps = repeated.slice(1, -1).reverse();
      this.plmsTimesteps = ascending.slice(0, n - 3).reverse();
    }
    this.timesteps = [...this.prkTimesteps, ...this.plmsTimesteps];
    this.counter = 0;
    this.ets = [];
    this.rkSum = null;
    this.curSample = null;
  }

  /** PNDM has no begin index: its state machine runs on the count of steps taken, whatever the start. */
  setBeginIndex(_index: number): void {}

  scaleModelInput(sample: Float32Array, _timestep: number): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepOutput {
    if (this.timesteps.length === 0) throw new Error('PNDM: call setTimesteps before step');
    assertSameLength('PNDM step', modelOutput, sample);
    const result =
      this.counter < this.prkTimesteps.length && !this.skipPrk
        ? this.stepPrk(modelOutput, timestep, sample)
        : this.stepPlms(modelOutput, timestep, sample);
    this.counter++;
    return result;
  }

  addNoise(original: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseAtTimestep(this.alphasCumprod, original, noise, timestep);
  }

  private stepPrk(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepOutput {
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(this.stepRatio / 2);
    const prevTimestep = timestep - diffToPrev;
    const baseTimestep = this.prkTimesteps[Math.floor(this.counter / 4) * 4]!;
    const phase = this.counter % 4;
    let output = modelOutput;
    if (phase === 0) {
      this.rkSum = modelOutput.map((v) => v / 6);
      this.pushHistory(modelOutput);
      this.curSample = sample.slice();
    } else if (phase === 1 || phase === 2) {
      const sum = this.requireRkSum();
      for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + modelOutput[i]! / 3;
    } else {
      const sum = this.requireRkSum();
      output = new Float32Array(sum.length);
      for (let i = 0; i < sum.length; i++) output[i] = sum[i]! + modelOutput[i]! / 6;
      this.rkSum = null;
    }
    return this.prevSample(this.curSample ?? sample, baseTimestep, prevTimestep, output);
  }

  private stepPlms(modelOutput: Float32Array, timestep: number, sample: Float32Array): StepOutput {
    if (!this.skipPrk && this.ets.length < 3) {
      throw new Error('PNDM: the PLMS steps can only run after the 12 Runge-Kutta warm-up steps');
    }
    let t = timestep;
    let prevTimestep = timestep - this.stepRatio;
    if (this.counter !== 1) {
      this.pushHistory(modelOutput);
    } else {
      prevTimestep = timestep;
      t = timestep + this.stepRatio;
    }
    const e = this.ets;
    const k = e.length;
    let output: Float32Array;
    let base = sample;
    if (k === 1 && this.counter === 0) {
      output = modelOutput;
      this.curSample = sample.slice();
    } else if (k === 1 && this.counter === 1) {
      const last = this.recentOutput(1);
      output = modelOutput.map((v, i) => (v + last[i]!) / 2);
      if (this.curSample) base = this.curSample;
      this.curSample = null;
    } else if (k === 2) {
      const [e2, e1] = [this.recentOutput(2), this.recentOutput(1)];
      output = e1.map((v, i) => (3 * v - e2[i]!) / 2);
    } else if (k === 3) {
      const [e3, e2, e1] = [this.recentOutput(3), this.recentOutput(2), this.recentOutput(1)];
      output = e1.map((v, i) => (23 * v - 16 * e2[i]! + 5 * e3[i]!) / 12);
    } else {
      const [e4, e3, e2, e1] = [this.recentOutput(4), this.recentOutput(3), this.recentOutput(2), this.recentOutput(1)];
      output = e1.map((v, i) => (55 * v - 59 * e2[i]! + 37 * e3[i]! - 9 * e4[i]!) / 24);
    }
    return this.prevSample(base, t, prevTimestep, output);
  }

  /** Formula (9): x_{t-delta} from x_t and the (combined) model output; also the x0 estimate for previews. */
  private prevSample(sample: Float32Array, t: number, prevT: number, modelOutput: Float32Array): StepOutput {
    const alphaT = alphaAt(this.alphasCumprod, t);
    const alphaPrev = prevT >= 0 ? alphaAt(this.alphasCumprod, prevT) : this.finalAlphaCumprod;
    const betaT = 1 - alphaT;
    const betaPrev = 1 - alphaPrev;
    const sqrtAlphaT = Math.sqrt(alphaT);
    const sqrtBetaT = Math.sqrt(betaT);
    const vPrediction = this.config.prediction_type === 'v_prediction';
    const sampleCoeff = Math.sqrt(alphaPrev / alphaT);
    const denom = alphaT * Math.sqrt(betaPrev) + Math.sqrt(alphaT * betaT * alphaPrev);
    const outputCoeff = (alphaPrev - alphaT) / denom;
    const prev = new Float32Array(sample.length);
    const x0 = new Float32Array(sample.length);
    for (let i = 0; i < prev.length; i++) {
      const x = sample[i]!;
      const eps = vPrediction ? sqrtAlphaT * modelOutput[i]! + sqrtBetaT * x : modelOutput[i]!;
      prev[i] = sampleCoeff * x - outputCoeff * eps;
      x0[i] = (x - sqrtBetaT * eps) / sqrtAlphaT;
    }
    return { prevSample: prev, predOriginalSample: x0 };
  }

  /** The model output `back` steps ago (1 = newest) from the PLMS history; each branch asks only for what it holds. */
  private recentOutput(back: number): Float32Array {
    const output = this.ets[this.ets.length - back];
    if (output === undefined) throw new Error(`PNDM: history holds ${this.ets.length} model outputs, needs ${back}`);
    return output;
  }

  private pushHistory(modelOutput: Float32Array): void {
    // Copied: the caller may reuse its output buffer for the next model call.
    this.ets.push(modelOutput.slice());
    if (this.ets.length > MAX_HISTORY) this.ets.shift();
  }

  private requireRkSum(): Float32Array {
    if (!this.rkSum) throw new Error('PNDM: Runge-Kutta step out of order');
    return this.rkSum;
  }
}
