// Inpainting masks as diffusers' StableDiffusionInpaintPipeline reads them: one 8-bit channel, white (255) = repaint,
// black (0) = keep. Pure functions on plain arrays: blur (the soft band of the final composite), binarize (what the
// model sees: mask_processor's do_binarize), the latent-size mask (torch's nearest interpolate), and the masked image.
import type { MaskImage, RgbImage } from '../types.ts';

export type { MaskImage };

/** A mask of one value (0 = keep everything, 255 = repaint everything). */
export function solidMask(width: number, height: number, value: number): MaskImage {
  return { data: new Uint8Array(width * height).fill(value), width, height };
}

/** True when no pixel asks to be repainted. */
export function isEmptyMask(mask: MaskImage): boolean {
  return mask.data.every((v) => v === 0);
}

/** 1-D Gaussian weights for standard deviation sigma, cut at 3 sigma and summing to 1. */
export function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel[i + radius] = w;
    sum += w;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i]! /= sum;
  return kernel;
}

/**
 * Gaussian blur with standard deviation `radius` pixels (PIL's GaussianBlur(radius), which diffusers'
 * mask_processor.blur and A1111's mask blur use, takes the radius as the standard deviation). Edges repeat their
 * last pixel, so a mask touching the border stays white there. radius 0 returns a copy.
 */
export function blurMask(mask: MaskImage, radius: number): MaskImage {
  if (!(radius > 0)) return { ...mask, data: mask.data.slice() };
  const { width, height } = mask;
  const kernel = gaussianKernel(radius);
  const r = (kernel.length - 1) / 2;
  const horizontal = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += kernel[k + r]! * mask.data[row + Math.min(width - 1, Math.max(0, x + k))]!;
      horizontal[row + x] = acc;
    }
  }
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += kernel[k + r]! * horizontal[Math.min(height - 1, Math.max(0, y + k)) * width + x]!;
      out[y * width + x] = Math.round(acc);
    }
  }
  return { data: out, width, height };
}

/** diffusers' binarize: value / 255 < 0.5 -> 0 (keep), else 1 (repaint). */
export function binarizeMask(mask: MaskImage): Uint8Array {
  const out = new Uint8Array(mask.data.length);
  for (let i = 0; i < out.length; i++) out[i] = mask.data[i]! / 255 < 0.5 ? 0 : 1;
  return out;
}

/**
 * The binary mask at latent size, as torch.nn.functional.interpolate(mode='nearest') computes it: latent pixel
 * (x, y) takes source pixel (floor(x * W / w), floor(y * H / h)), i.e. the top-left pixel of its 8x8 block.
 */
export function latentMask(binary: Uint8Array, width: number, height: number, latentWidth: number, latentHeight: number): Float32Array {
  const out = new Float32Array(latentWidth * latentHeight);
  for (let y = 0; y < latentHeight; y++) {
    const sy = Math.min(height - 1, Math.floor((y * height) / latentHeight));
    for (let x = 0; x < latentWidth; x++) {
      const sx = Math.min(width - 1, Math.floor((x * width) / latentWidth));
      out[y * latentWidth + x] = binary[sy * width + sx]!;
    }
  }
  return out;
}

/**
 * The VAE input for the masked image: init * (mask < 0.5) in the [-1, 1] space, planar CHW. Repainted pixels become
 * 0 (mid grey), which an 8-bit image cannot hold, hence floats.
 */
export function maskedImageChw(image: RgbImage, binary: Uint8Array): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    if (binary[i]) continue;
    for (let c = 0; c < 3; c++) out[c * plane + i] = (image.data[i * 3 + c]! / 255) * 2 - 1;
  }
  return out;
}
