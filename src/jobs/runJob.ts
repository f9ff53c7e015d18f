// One job's work, apart from where its files go: JobParams -> GenerateRequest -> engine -> finished PNG bytes with the
// A1111 parameters embedded (and the grid), or an upscaled PNG. The bot in local mode (JobService) and a Redis worker
// (src/redisWorker/consumer.ts, which shares no disk with the bot and sends the bytes back as blobs) both run this, and
// the bot writes either's bytes with writeJobFiles, so both modes leave the same files under the same names.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../storage/index.ts';
import { GenerationCancelledError, InvalidRequestError } from '../pipeline/pipeline.ts';
import { formatParameters } from '../pipeline/parameters.ts';
import { encodePng, encodeWebpPreview, readPngParameters } from '../pipeline/png.ts';
import { encodeGridPng } from '../pipeline/grid.ts';
import { upscale } from '../pipeline/upscale.ts';
import { DEFAULT_STRENGTH } from '../pipeline/request.ts';
import type { GenerateRequest, MaskImage, ProgressEvent, RgbImage } from '../pipeline/types.ts';
import type { GenerationEngine } from './inferenceEngine.ts';
import type { ImageFacts, JobOutcome, JobParams, JobProgress, JobResult, JobResultFile } from './types.ts';

export interface RenderInputs {
  /** img2img: the init image file's bytes, as the bot saved it at submission. */
  init?: Uint8Array;
  /** Inpainting: the mask file's bytes (white = repaint), the init image's size. */
  mask?: Uint8Array;
  /** upscale: the PNG to enlarge. */
  upscaleSource?: Uint8Array;
}

export interface RenderOptions {
  signal: AbortSignal;
  onProgress: (progress: JobProgress) => void;
  /** Written into each PNG's Software chunk. */
  software?: string;
  /** ONNX super-resolution model, run by the engine in its inference process; Lanczos when unset or the engine has no upscale. */
  upscaleModel?: string;
}

export interface RenderedImage extends ImageFacts {
  png: Uint8Array;
}

export interface RenderedJob extends JobOutcome {
  images: RenderedImage[];
  /** count > 1: the grid PNG. */
  grid?: Uint8Array;
}

export async function renderJob(engine: GenerationEngine, params: JobParams, inputs: RenderInputs, options: RenderOptions): Promise<RenderedJob> {
  if (params.kind === 'upscale') return renderUpscale(engine, params, inputs, options);
  const request: GenerateRequest = {
    prompt: params.prompt,
    negativePrompt: params.negativePrompt,
    seed: params.seed,
    steps: params.steps,
    guidance: params.guidance,
    sampler: params.sampler,
    width: params.width,
    height: params.height,
    count: params.count,
    // About five previews a job: enough to watch it form, few enough to stay inside Discord's edit limits.
    previewEvery: Math.max(1, Math.ceil(params.steps / 5)),
  };
  if (params.kind === 'img2img') {
    if (!inputs.init) throw new InvalidRequestError('this job has no init image');
    request.initImage = await decodeRgb(inputs.init, params.width, params.height);
    if (params.maskPath) {
      if (!inputs.mask) throw new InvalidRequestError('this job has no mask');
      request.mask = await decodeMask(inputs.mask, params.width, params.height);
      request.maskBlur = params.maskBlur;
      request.maskPrefilled = params.maskPrefilled;
      // With a mask the pipeline picks diffusers' inpainting strength unless the job names one.
      if (params.strength !== undefined) request.strength = params.strength;
    } else {
      request.strength = params.strength ?? DEFAULT_STRENGTH;
    }
  }
  const result = await engine.generate(request, { signal: options.signal, onProgress: previewingProgress(params.steps, options.onProgress), ...(params.model ? { model: params.model } : {}) });
  const parametersFor = (seed: number, width: number, height: number, denoisingStrength?: number) =>
    formatParameters({
      prompt: params.prompt,
      negativePrompt: params.negativePrompt,
      steps: params.steps,
      sampler: result.sampler,
      guidance: params.guidance,
      seed,
      width,
      height,
      model: result.modelName,
      ...(denoisingStrength !== undefined ? { denoisingStrength } : {}),
      extra,
    });
  const strength = params.kind === 'img2img' ? (request.strength ?? result.strength ?? DEFAULT_STRENGTH) : undefined;
  const extra = maskParameters(params);
  const images: RenderedImage[] = [];
  for (const image of result.images) {
    const png = await encodePng(image, { parameters: parametersFor(image.seed, image.width, image.height, strength), software: options.software });
    images.push({ png, seed: image.seed, nsfw: image.nsfw ?? false, width: image.width, height: image.height });
  }
  const grid =
    result.images.length > 1
      ? await encodeGridPng(result.images, { parameters: parametersFor(params.seed, params.width, params.height), software: options.software })
      : undefined;
  return {
    images,
    ...(grid ? { grid } : {}),
    sampler: result.sampler,
    model: result.modelName,
    stepsRun: result.stepsRun,
    promptTruncated: result.promptTruncated,
    elapsedMs: result.elapsedMs,
  };
}

/**
 * Turns the engine's progress events into JobProgress with small WebP previews. Encoding is async (libuv pool): a
 * preview is skipped rather than queued behind a slow encoder, and one that finishes later is shown with the newest
 * step reported, never an older one.
 */
function previewingProgress(steps: number, report: (progress: JobProgress) => void): (event: ProgressEvent) => void {
  let previewBusy = false;
  let latest: JobProgress = { step: 0, total: steps, elapsedMs: 0 };
  return (event) => {
    latest = { step: event.step, total: event.total, elapsedMs: event.elapsedMs };
    if (!event.preview || previewBusy) return report(latest);
    previewBusy = true;
    encodeWebpPreview(event.preview, { maxSide: 256 })
      .then((preview) => report({ ...latest, preview }))
      .catch(() => report(latest))
      .finally(() => (previewBusy = false));
  };
}

async function renderUpscale(engine: GenerationEngine, params: JobParams, inputs: RenderInputs, options: RenderOptions): Promise<RenderedJob> {
  const source = params.upscale;
  if (!source || !inputs.upscaleSource) throw new InvalidRequestError('this upscale job has no source image');
  const image = await decodeRgb(inputs.upscaleSource);
  if (options.signal.aborted) throw new GenerationCancelledError();
  const started = performance.now();
  // An ONNX upscaler blocks its thread like any model, so it runs in the inference process; Lanczos (sharp, on
  // libuv's pool) is fine here.
  const done = options.upscaleModel && engine.upscale ? await engine.upscale(image, source.factor, options.upscaleModel, params.model) : await upscale(image, source.factor);
  const parameters = readPngParameters(inputs.upscaleSource);
  const png = await encodePng(done.image, { parameters: `${parameters ?? params.prompt}, Upscale: ${source.factor}x ${done.method}`, software: options.software });
  return {
    images: [{ png, seed: params.seed, nsfw: false, width: done.image.width, height: done.image.height }],
    sampler: params.sampler ?? 'pndm',
    model: params.model ?? engine.info?.modelName ?? 'unknown',
    stepsRun: 0,
    promptTruncated: false,
    elapsedMs: performance.now() - started,
    upscaleMethod: done.method,
  };
}

/** A1111's inpainting keys, and ours for outpainting, in the PNG parameters. */
function maskParameters(params: JobParams): Record<string, string | number> {
  const extra: Record<string, string | number> = {};
  if (!params.maskPath) return extra;
  if (params.maskBlur) extra['Mask blur'] = params.maskBlur;
  if (params.outpaint?.zoomOut) extra.Outpaint = `zoom out ${params.outpaint.zoomOut}`;
  if (params.outpaint?.pan) extra.Outpaint = `pan ${params.outpaint.pan}`;
  return extra;
}

/** A mask file (grey levels; white = repaint) as one 8-bit channel at the job's size. */
async function decodeMask(bytes: Uint8Array, width: number, height: number): Promise<MaskImage> {
  const { data, info } = await sharp(bytes).flatten({ background: '#000000' }).greyscale().resize(width, height, { fit: 'fill' }).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || data.length !== width * height) throw new Error(`mask decoded to ${info.width}x${info.height}x${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height };
}

/** Decodes image bytes to RGB; resizes (cover) when a size is given. */
async function decodeRgb(bytes: Uint8Array, width?: number, height?: number): Promise<RgbImage> {
  let pipeline = sharp(bytes).removeAlpha().toColourspace('srgb');
  if (width && height) pipeline = pipeline.resize(width, height, { fit: 'cover' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected an RGB image, got ${info.channels} channels`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** A finished job's PNG bytes, wherever they were made; the outcome fields pass through to the JobResult. */
export interface JobFilesInput extends JobOutcome {
  images: RenderedImage[];
  grid?: Uint8Array;
}

/**
 * Writes a job's images (atomically) into its folder: `1.png`, `2.png`, … and `grid.png`, or `upscaled-2x.png` for an
 * upscale, and returns the JobResult that points at them.
 */
export async function writeJobFiles(dir: string, params: JobParams, rendered: JobFilesInput): Promise<JobResult> {
  await mkdir(dir, { recursive: true });
  const files: JobResultFile[] = [];
  for (const [index, { png, ...facts }] of rendered.images.entries()) {
    const path = join(dir, params.kind === 'upscale' && params.upscale ? `upscaled-${params.upscale.factor}x.png` : `${index + 1}.png`);
    await writeFileAtomic(path, png);
    files.push({ path, ...facts });
  }
  let gridPath: string | undefined;
  if (rendered.grid) {
    gridPath = join(dir, 'grid.png');
    await writeFileAtomic(gridPath, rendered.grid);
  }
  return {
    files,
    gridPath,
    sampler: rendered.sampler,
    model: rendered.model,
    stepsRun: rendered.stepsRun,
    promptTruncated: rendered.promptTruncated,
    elapsedMs: rendered.elapsedMs,
    ...(rendered.upscaleMethod ? { upscaleMethod: rendered.upscaleMethod } : {}),
  };
}
