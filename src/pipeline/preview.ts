// Cheap progress previews of the current clean-latent estimate (x0): a linear map from the 4 latent channels to RGB.
// The coefficients are the widely published least-squares fit of SD 1.x/2.x VAE output colours to latent channels;
// they cost one multiply-add per channel per pixel, so a preview adds nothing measurable to a step.
import type { RgbImage } from './types.ts';

const LATENT_TO_RGB: readonly (readonly [number, number, number])[] = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/** Preview of image `index` of a [batch, channels, h, w] latent tensor, at latent resolution. */
export function latentPreview(latents: Float32Array, dims: readonly [number, number, number, number], index = 0): RgbImage {
  const [, channels, height, width] = dims;
  const plane = width * height;
  const base = index * channels * plane;
  const data = new Uint8Array(plane * 3);
  const used = Math.min(channels, LATENT_TO_RGB.length);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let k = 0; k < used; k++) v += latents[base + k * plane + p] * LATENT_TO_RGB[k][c];
      // The fit lands roughly in [-1, 1].
      const u = (v + 1) * 127.5;
      data[p * 3 + c] = u < 0 ? 0 : u > 255 ? 255 : Math.round(u);
    }
  }
  return { data, width, height };
}
