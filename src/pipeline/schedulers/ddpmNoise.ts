// The forward-diffusion q(x_t | x_0) used by the alphas_cumprod-indexed samplers (PNDM, DDIM, LCM) for img2img:
// x_t = sqrt(alpha_bar_t) * x_0 + sqrt(1 - alpha_bar_t) * noise.
import { assertSameLength } from '../tensor.ts';
import { alphaAt } from './betas.ts';

export function addNoiseAtTimestep(
  alphasCumprod: Float32Array,
  original: Float32Array,
  noise: Float32Array,
  timestep: number,
): Float32Array {
  assertSameLength('addNoise', original, noise);
  const alpha = alphaAt(alphasCumprod, timestep);
  const a = Math.sqrt(alpha);
  const b = Math.sqrt(1 - alpha);
  const out = new Float32Array(original.length);
  for (let i = 0; i < out.length; i++) out[i] = a * original[i]! + b * noise[i]!;
  return out;
}
