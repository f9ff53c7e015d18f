// VAE decode (latents -> RGB) and encode (RGB -> latents), one image per run: that bounds memory, and half-precision
// VAE decoders are known to misbehave at batch > 1.
import type * as ort from 'onnxruntime-node';
import type { LoadedSession } from './session.ts';
import { inputSpec, outputAsFloat32, runSession, tensorFor } from './session.ts';
import type { NoiseSource } from './schedulers/types.ts';
import type { RgbImage } from './types.ts';
import { needsTiling, runTiled, type Planar, type TileGeometry } from './vaeTiling.ts';

/**
 * Decode one [1, C, h, w] latent (already divided by the scaling factor) to an 8-bit RGB image; tile by tile (see
 * ./vaeTiling.ts) when `tiling` is given and the latent is larger than one tile.
 */
export async function decodeLatents(decoder: LoadedSession, latents: Float32Array, dims: readonly [number, number, number, number], tiling?: TileGeometry): Promise<RgbImage> {
  const input: Planar = { data: latents, channels: dims[1], height: dims[2], width: dims[3] };
  const run = (tile: Planar) => decodePlanar(decoder, tile);
  const out = tiling && needsTiling(input.height, input.width, tiling) ? await runTiled(input, tiling, run) : await run(input);
  return chwToRgb(out.data, out.width, out.height);
}

async function decodePlanar(decoder: LoadedSession, z: Planar): Promise<Planar> {
  const spec = inputSpec(decoder, 'latent_sample');
  const out = await runSession(decoder, { latent_sample: tensorFor(spec.type, z.data, [1, z.channels, z.height, z.width]) });
  const [firstOutput = 'sample'] = decoder.session.outputNames;
  const planar = planarOutput(decoder, out.sample ?? out[firstOutput], 'sample');
  if (planar.channels !== 3) throw new Error(`${decoder.path}: decoder output has ${planar.channels} channels; expected 3 (RGB)`);
  return planar;
}

/** A [1, C, H, W] output as a Planar, with a clear error when the model gave no such output or another shape. */
function planarOutput(model: LoadedSession, tensor: ort.Tensor | undefined, name: string): Planar {
  if (!tensor) throw new Error(`${model.path}: the model returned no ${name} output`);
  const [, channels, height, width] = tensor.dims;
  if (tensor.dims.length !== 4 || channels === undefined || height === undefined || width === undefined) {
    throw new Error(`${model.path}: ${name} has shape [${tensor.dims.join(', ')}]; expected [1, channels, height, width]`);
  }
  return { data: outputAsFloat32(tensor), channels, height, width };
}

/** [-1, 1] planar CHW -> 8-bit interleaved RGB, as diffusers does: clip(x / 2 + 0.5, 0, 1) * 255, rounded. */
export function chwToRgb(chw: Float32Array, width: number, height: number): RgbImage {
  const plane = width * height;
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = chw[c * plane + i]! / 2 + 0.5;
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
    for (let c = 0; c < 3; c++) out[c * plane + i] = (image.data[i * 3 + c]! / 255) * 2 - 1;
  }
  return out;
}

/** Which of the two encoder outputs the export has (latent_parameters preferred: it is sampled with the job's seed). */
function encoderOutput(encoder: LoadedSession): 'latent_sample' | 'latent_parameters' {
  const names = encoder.session.outputNames;
  if (names.includes('latent_parameters')) return 'latent_parameters';
  if (names.includes('latent_sample')) return 'latent_sample';
  throw new Error(`${encoder.path}: expected an output named latent_sample or latent_parameters; the model has ${names.join(', ')}`);
}

async function encodePlanar(encoder: LoadedSession, x: Planar): Promise<Planar> {
  const spec = inputSpec(encoder, 'sample');
  const name = encoderOutput(encoder);
  const out = await runSession(encoder, { sample: tensorFor(spec.type, x.data, [1, 3, x.height, x.width]) });
  return planarOutput(encoder, out[name], name);
}

/**
 * Encode an image to (unscaled) latents. Exports give either `latent_sample` (already sampled) or
 * `latent_parameters` (mean and log-variance stacked on channels), which we sample with the job's own generator
 * so img2img stays reproducible from its seed.
 */
export async function encodeImage(encoder: LoadedSession, image: RgbImage, noise: NoiseSource, tiling?: TileGeometry): Promise<{ latents: Float32Array; dims: [number, number, number, number] }> {
  return encodeChw(encoder, rgbToChw(image), image.width, image.height, noise, tiling);
}

/** encodeImage for an image already in [-1, 1] planar CHW (inpainting's masked image holds values 8 bits cannot). */
export async function encodeChw(encoder: LoadedSession, chw: Float32Array, width: number, height: number, noise: NoiseSource, tiling?: TileGeometry): Promise<{ latents: Float32Array; dims: [number, number, number, number] }> {
  const input: Planar = { data: chw, channels: 3, height, width };
  const run = (tile: Planar) => encodePlanar(encoder, tile);
  // Tiles are blended before sampling (diffusers blends the moments), so the sample is drawn once, in diffusers' order.
  const out = tiling && needsTiling(input.height, input.width, tiling) ? await runTiled(input, tiling, run) : await run(input);
  const { channels: outChannels, height: h, width: w } = out;
  if (encoderOutput(encoder) === 'latent_sample') return { latents: out.data, dims: [1, outChannels, h, w] };
  const channels = outChannels / 2;
  const values = out.data;
  const size = channels * h * w;
  const eps = noise.randn(size);
  const latents = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    // diffusers clamps the log-variance to [-30, 20] before taking std = exp(logvar / 2).
    const logvar = Math.min(20, Math.max(-30, values[size + i]!));
    latents[i] = values[i]! + Math.exp(logvar / 2) * eps[i]!;
  }
  return { latents, dims: [1, channels, h, w] };
}
