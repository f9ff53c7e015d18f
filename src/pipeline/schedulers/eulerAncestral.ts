// Euler ancestral (k-diffusion's sample_euler_ancestral) as diffusers' EulerAncestralDiscreteScheduler: step down
// to sigma_down with Euler, then add fresh noise of standard deviation sigma_up, where
// sigma_up^2 = sigma_next^2 (sigma^2 - sigma_next^2) / sigma^2 and sigma_down^2 = sigma_next^2 - sigma_up^2.
// The noise comes from the NoiseSource passed to step, one full-size draw per step (also on the last step, where
// sigma_up is 0), exactly as diffusers draws it from the pipeline's generator.
import { SigmaScheduler } from './sigmaScheduler.ts';
import type { NoiseSource, SchedulerConfig, StepOutput } from './types.ts';

export class EulerAncestralScheduler extends SigmaScheduler {
  readonly name = 'euler-a' as const;

  constructor(config: SchedulerConfig) {
    super(config, false);
  }

  protected update(
    modelOutput: Float32Array,
    sample: Float32Array,
    sigma: number,
    sigmaNext: number,
    noise?: NoiseSource,
  ): StepOutput {
    if (!noise) throw new Error('euler-a: step needs a NoiseSource for its ancestral noise');
    const x0 = this.predictX0(modelOutput, sample, sigma);
    const sigmaUp = Math.sqrt((sigmaNext * sigmaNext * (sigma * sigma - sigmaNext * sigmaNext)) / (sigma * sigma));
    const sigmaDown = Math.sqrt(Math.max(sigmaNext * sigmaNext - sigmaUp * sigmaUp, 0));
    const ratio = (sigmaDown - sigma) / sigma;
    const eps = noise.randn(sample.length);
    const prev = new Float32Array(sample.length);
    for (let i = 0; i < prev.length; i++) prev[i] = sample[i]! + (sample[i]! - x0[i]!) * ratio + eps[i]! * sigmaUp;
    return { prevSample: prev, predOriginalSample: x0 };
  }
}
