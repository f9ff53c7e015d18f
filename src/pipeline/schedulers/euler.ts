// Euler (Karras et al. 2022, Algorithm 2, without churn) as diffusers' EulerDiscreteScheduler runs it with its
// defaults s_churn = 0: x_next = x + (x - x0) / sigma * (sigma_next - sigma). Deterministic: no noise is drawn.
import { SigmaScheduler } from './sigmaScheduler.ts';
import type { SchedulerConfig, StepOutput } from './types.ts';

export class EulerScheduler extends SigmaScheduler {
  readonly name = 'euler' as const;

  constructor(config: SchedulerConfig) {
    super(config, config.use_karras_sigmas === true);
  }

  protected update(modelOutput: Float32Array, sample: Float32Array, sigma: number, sigmaNext: number): StepOutput {
    const x0 = this.predictX0(modelOutput, sample, sigma);
    const ratio = (sigmaNext - sigma) / sigma;
    const prev = new Float32Array(sample.length);
    for (let i = 0; i < prev.length; i++) prev[i] = sample[i]! + (sample[i]! - x0[i]!) * ratio;
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
