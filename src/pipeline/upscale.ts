// 2x / 4x upscaling: an ONNX super-resolution model (Real-ESRGAN-style: [1,3,H,W] in [0,1] -> [1,3,sH,sW]) run in
// overlapping tiles, or sharp's Lanczos when no model is configured.
//
// Tiling: the image is cut into "core" cells of (tile - 2*overlap) pixels; each cell is upscaled inside a window that
// adds `overlap` pixels of real context on every side that has any, and only the core of each result is kept. For a
// model whose receptive field reaches no further than `overlap` input pixels the result is identical to a single
// pass; deeper models (RRDB) get seams reduced to invisibility in practice with the default 16 px. All windows have
// the same size (edge windows slide inwards instead of shrinking), so GPU providers see one shape, and a model with
// a fixed input size works too. Memory is bounded by one window whatever the image size.
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { ProviderName, RgbImage } from './types.ts';
import { float16Bits, float16Value } from './tensor.ts';
import { createSession } from './session.ts';

export interface UpscalerSettings {
  provider?: ProviderName;
  intraOpThreads?: number;
  log?: (message: string) => void;
}

export interface TileOptions {
  /** Window size in input pixels (a fixed-size model overrides it). Default 256. */
  tile?: number;
  /** Context pixels on each side of a window's kept core. Default 16. */
  overlap?: number;
}

export interface UpscaleOptions extends UpscalerSettings, TileOptions {
  /** ONNX super-resolution model; without it (and without `upscaler`) Lanczos is used. */
  modelPath?: string;
  /** An already-loaded model (the worker keeps one instead of loading it per request). */
  upscaler?: OnnxUpscaler;
}

export interface UpscaleResult {
  image: RgbImage;
  method: 'onnx' | 'lanczos';
  /** The model's own factor; when it differs from the requested one, Lanczos covers the rest. */
  modelScale?: number;
  tiles?: number;
}

// --- the model ---

type FloatType = 'float32' | 'float16';

export class OnnxUpscaler {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly path: string,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly inputType: FloatType,
    /** Input height/width when the model declares them as numbers. */
    readonly fixedSize: { width: number; height: number } | undefined,
    /** Output pixels per input pixel. */
    readonly scale: number,
  ) {}

  static async load(path: string, settings: UpscalerSettings = {}): Promise<OnnxUpscaler> {
    // The same provider choice and CPU fallback as the diffusion models' sessions.
    const { session } = await createSession(path, { provider: settings.provider ?? 'cpu', intraOpThreads: settings.intraOpThreads, log: settings.log });
    try {
      const input = session.inputMetadata[0];
      const output = session.outputMetadata[0];
      if (!input?.isTensor || !output?.isTensor) throw new Error(`${path}: expected a tensor input and output`);
      if (input.type !== 'float32' && input.type !== 'float16') throw new Error(`${path}: input "${input.name}" is ${input.type}; expected float32 or float16`);
      if (input.shape.length !== 4) throw new Error(`${path}: input "${input.name}" has rank ${input.shape.length}; expected [1,3,H,W]`);
      if (typeof input.shape[1] === 'number' && input.shape[1] !== 3) throw new Error(`${path}: input "${input.name}" has ${input.shape[1]} channels; expected 3 (RGB)`);
      const [, , h, w] = input.shape;
      const fixedSize = typeof h === 'number' && typeof w === 'number' && h > 0 && w > 0 ? { width: w, height: h } : undefined;
      const probe = new OnnxUpscaler(session, path, input.name, output.name, input.type, fixedSize, 0);
      const scale = await probe.detectScale(output.shape);
      return new OnnxUpscaler(session, path, input.name, output.name, input.type, fixedSize, scale);
    } catch (err) {
      await session.release();
      throw err;
    }
  }

  /** From the declared shapes when both are fixed, else from one small probe run. */
  private async detectScale(outputShape: readonly (number | string)[]): Promise<number> {
    const outH = outputShape[2];
    if (this.fixedSize && typeof outH === 'number' && outH > 0) return this.checkScale(outH / this.fixedSize.height);
    const size = this.fixedSize ?? { width: 64, height: 64 };
    const dims = await this.runWindow(new Float32Array(3 * size.width * size.height), size.width, size.height).then((o) => o.dims);
    if (dims.length !== 4 || dims[1] !== 3) throw new Error(`${this.path}: output has shape [${dims.join(',')}]; expected [1,3,sH,sW]`);
    // dims has length 4 (checked above).
    if (dims[3]! * size.height !== dims[2]! * size.width) throw new Error(`${this.path}: output [${dims.join(',')}] does not scale width and height alike`);
    return this.checkScale(dims[2]! / size.height);
  }

  private checkScale(scale: number): number {
    if (!Number.isInteger(scale) || scale < 1 || scale > 8) throw new Error(`${this.path}: unsupported upscale factor ${scale}`);
    return scale;
  }

  private async runWindow(planar: Float32Array, width: number, height: number): Promise<ort.Tensor> {
    const dims = [1, 3, height, width];
    const tensor =
      this.inputType === 'float32'
        ? new ort.Tensor('float32', planar, dims)
        : new ort.Tensor('float16', Uint16Array.from(planar, float16Bits), dims);
    const result = await this.session.run({ [this.inputName]: tensor });
    const out = result[this.outputName];
    if (!out) throw new Error(`${this.path}: no output "${this.outputName}"`);
    return out;
  }

  /** Upscale by the model's own factor, tile by tile. */
  async run(image: RgbImage, options: TileOptions = {}): Promise<{ image: RgbImage; tiles: number }> {
    const overlap = options.overlap ?? 16;
    const winW = this.fixedSize?.width ?? Math.min(options.tile ?? 256, image.width);
    const winH = this.fixedSize?.height ?? Math.min(options.tile ?? 256, image.height);
    const s = this.scale;
    const cols = axisWindows(image.width, winW, overlap);
    const rows = axisWindows(image.height, winH, overlap);
    const outW = image.width * s;
    const out = new Uint8Array(outW * image.height * s * 3);
    const planar = new Float32Array(3 * winW * winH);
    for (const row of rows) {
      for (const col of cols) {
        fillWindow(image, col.start, row.start, winW, winH, planar);
        const result = await this.runWindow(planar, winW, winH);
        const [, channels, rh, rw] = result.dims;
        if (channels !== 3 || rh !== winH * s || rw !== winW * s) {
          throw new Error(`${this.path}: window ${winW}x${winH} gave output [${result.dims.join(',')}]; expected [1,3,${winH * s},${winW * s}]`);
        }
        const data = result.data as Float32Array | Uint16Array;
        const value = result.type === 'float16' ? (i: number) => float16Value(data[i]!) : (i: number) => data[i]!;
        if (result.type !== 'float32' && result.type !== 'float16') throw new Error(`${this.path}: output is ${result.type}; expected float`);
        const plane = rw * rh;
        // Copy the core (in output pixels) into the HWC result.
        for (let y = row.coreStart * s; y < row.coreEnd * s; y++) {
          const wy = y - row.start * s;
          for (let x = col.coreStart * s; x < col.coreEnd * s; x++) {
            const wx = x - col.start * s;
            const src = wy * rw + wx;
            const dst = (y * outW + x) * 3;
            for (let c = 0; c < 3; c++) out[dst + c] = toByte(value(c * plane + src));
          }
        }
      }
    }
    return { image: { data: out, width: outW, height: image.height * s }, tiles: rows.length * cols.length };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function toByte(v: number): number {
  if (!(v > 0)) return 0; // also NaN
  if (v >= 1) return 255;
  return Math.round(v * 255);
}

export interface AxisWindow {
  /** First input pixel of the window (windows are `size` long, or the axis length when shorter). */
  start: number;
  /** The part of the window whose output is kept: [coreStart, coreEnd). */
  coreStart: number;
  coreEnd: number;
}

/** Windows along one axis: cores tile [0, length) exactly; each window holds `overlap` context around its core. */
export function axisWindows(length: number, size: number, overlap: number): AxisWindow[] {
  if (length <= size) return [{ start: 0, coreStart: 0, coreEnd: length }];
  const core = size - 2 * overlap;
  if (core < 8) throw new Error(`tile ${size} leaves a core of ${core} pixels with overlap ${overlap}; use a larger tile or a smaller overlap`);
  const windows: AxisWindow[] = [];
  for (let coreStart = 0; coreStart < length; coreStart += core) {
    const coreEnd = Math.min(coreStart + core, length);
    const start = Math.min(Math.max(coreStart - overlap, 0), length - size);
    windows.push({ start, coreStart, coreEnd });
  }
  return windows;
}

/** Planar [3, h, w] floats in [0,1] from an HWC window; pixels past the image edge repeat the edge (fixed-size models). */
function fillWindow(image: RgbImage, x0: number, y0: number, w: number, h: number, planar: Float32Array): void {
  const plane = w * h;
  for (let y = 0; y < h; y++) {
    const sy = Math.min(y0 + y, image.height - 1);
    for (let x = 0; x < w; x++) {
      const sx = Math.min(x0 + x, image.width - 1);
      const src = (sy * image.width + sx) * 3;
      const dst = y * w + x;
      planar[dst] = image.data[src]! / 255;
      planar[plane + dst] = image.data[src + 1]! / 255;
      planar[2 * plane + dst] = image.data[src + 2]! / 255;
    }
  }
}

export async function lanczosResize(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  const { data, info } = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

export async function upscale(image: RgbImage, factor: 2 | 4, options: UpscaleOptions = {}): Promise<UpscaleResult> {
  if (factor !== 2 && factor !== 4) throw new Error(`upscale factor must be 2 or 4, got ${String(factor)}`);
  if (image.data.length !== image.width * image.height * 3) throw new Error(`upscale: image is not ${image.width}x${image.height} RGB`);
  const width = image.width * factor;
  const height = image.height * factor;
  if (!options.upscaler && !options.modelPath) return { image: await lanczosResize(image, width, height), method: 'lanczos' };

  const upscaler = options.upscaler ?? (await OnnxUpscaler.load(options.modelPath!, options));
  try {
    const { image: scaled, tiles } = await upscaler.run(image, options);
    const finished = scaled.width === width && scaled.height === height ? scaled : await lanczosResize(scaled, width, height);
    return { image: finished, method: 'onnx', modelScale: upscaler.scale, tiles };
  } finally {
    if (!options.upscaler) await upscaler.release();
  }
}
