// VAE decode (latents -> RGB) and encode (RGB -> latents), one image per run: that bounds memory, and half-precision
// VAE decoders are known to misbehave at batch > 1.
import type { LoadedSession } from './session.ts';
import { inputSpec, outputAsFloat32, runSession, tensorFor } from './session.ts';
import type { NoiseSource } from './schedulers/types.ts';
import type { RgbImage } from './types.ts';

/** Decode one [1, C, h, w] latent (already divided by the scaling factor) to an 8-bit RGB image. */
export async function decodeLatents(decoder: LoadedSession, latents: Float32Array, dims: readonly [number, number, number, number]): Promise<RgbImage> {
  const spec = inputSpec(decoder, 'latent_sample');
  const out = await runSession(decoder, { latent_sample: tensorFor(spec.type, latents, dims) });
  const tensor = out.sample ?? out[decoder.session.outputNames[0]];
  const [, channels, height, width] = tensor.dims;
  if (channels !== 3) throw new Error(`${decoder.path}: decoder output has ${channels} channels; expected 3 (RGB)`);
  return chwToRgb(outputAsFloat32(tensor), width, height);
}

/** [-1, 1] planar CHW -> 8-bit interleaved RGB, as diffusers does: clip(x / 2 + 0.5, 0, 1) * 255, rounded. */
export function chwToRgb(chw: Float32Array, width: number, height: number): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = chw[c * plane + i] / 2 + 0.5;
      data[i * 3 + c] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
    }
  }
  return { data, width, height };
}

/** 8-bit RGB -> [-1, 1] planar CHW for the VAE encoder. */
export function rgbToChw(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = (image.data[i * 3 + c] / 255) * 2 - 1;
  }
  return out;
}

/**
 * Encode an image to (unscaled) latents. Exports give either `latent_sample` (already sampled) or
 * `latent_parameters` (mean and log-variance stacked on channels), which we sample with the job's own generator
 * so img2img stays reproducible from its seed.
 */
export async function encodeImage(encoder: LoadedSession, image: RgbImage, noise: NoiseSource): Promise<{ latents: Float32Array; dims: [number, number, number, number] }> {
  return encodeChw(encoder, rgbToChw(image), image.width, image.height, noise);
}

/** encodeImage for an image already in [-1, 1] planar CHW (inpainting's masked image holds values 8 bits cannot). */
export async function encodeChw(encoder: LoadedSession, chw: Float32Array, width: number, height: number, noise: NoiseSource): Promise<{ latents: Float32Array; dims: [number, number, number, number] }> {
  const spec = inputSpec(encoder, 'sample');
  const out = await runSession(encoder, { sample: tensorFor(spec.type, chw, [1, 3, height, width]) });
  if (out.latent_sample) {
    const d = out.latent_sample.dims;
    return { latents: outputAsFloat32(out.latent_sample), dims: [d[0], d[1], d[2], d[3]] };
  }
  const params = out.latent_parameters;
  if (!params) throw new Error(`${encoder.path}: expected an output named latent_sample or latent_parameters; the model has ${encoder.session.outputNames.join(', ')}`);
  const [, twice, h, w] = params.dims;
  const channels = twice / 2;
  const values = outputAsFloat32(params);
  const size = channels * h * w;
  const eps = noise.randn(size);
  const latents = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    // diffusers clamps the log-variance to [-30, 20] before taking std = exp(logvar / 2).
    const logvar = Math.min(20, Math.max(-30, values[size + i]));
    latents[i] = values[i] + Math.exp(logvar / 2) * eps[i];
  }
  return { latents, dims: [1, channels, h, w] };
}
