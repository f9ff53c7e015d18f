// Cheap progress previews of the current clean-latent estimate (x0): a linear map from the 4 latent channels to RGB.
// The coefficients are the widely published least-squares fits of each family's VAE output colours to its latent
// channels (SDXL's VAE has its own latent space, so its own fit and bias); they cost one multiply-add per channel per
// pixel, so a preview adds nothing measurable to a step.
import type { ModelFamily } from './family.ts';
import type { RgbImage } from './types.ts';

interface LatentToRgb {
  factors: readonly (readonly [number, number, number])[];
  bias: readonly [number, number, number];
}

const LATENT_TO_RGB: Record<ModelFamily, LatentToRgb> = {
  sd: {
    factors: [
      [0.298, 0.207, 0.208],
      [0.187, 0.286, 0.173],
      [-0.158, 0.189, 0.264],
      [-0.184, -0.271, -0.473],
    ],
    bias: [0, 0, 0],
  },
  sdxl: {
    factors: [
      [0.3651, 0.4232, 0.4341],
      [-0.2533, -0.0042, 0.1068],
      [0.1076, 0.1111, -0.0362],
      [-0.3165, -0.2492, -0.2188],
    ],
    bias: [0.1084, -0.0175, -0.0011],
  },
};

/** Preview of image `index` of a [batch, channels, h, w] latent tensor, at latent resolution. */
export function latentPreview(latents: Float32Array, dims: readonly [number, number, number, number], index = 0, family: ModelFamily = 'sd'): RgbImage {
  const { factors, bias } = LATENT_TO_RGB[family];
  const [, channels, height, width] = dims;
  const plane = width * height;
  const base = index * channels * plane;
  const data = new Uint8Array(plane * 3);
  const used = Math.min(channels, factors.length);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = bias[c]!;
      for (let k = 0; k < used; k++) v += latents[base + k * plane + p]! * factors[k]![c]!;
      // The fit lands roughly in [-1, 1].
      const u = (v + 1) * 127.5;
      data[p * 3 + c] = u < 0 ? 0 : u > 255 ? 255 : Math.round(u);
    }
  }
  return { data, width, height };
}
