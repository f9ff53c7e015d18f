// Runs one job on a worker and returns finished PNG bytes (parameters embedded), the same files the bot writes in
// local mode (src/jobs/service.ts run/runUpscale), but as bytes: the worker shares no disk with the bot.
import sharp from 'sharp';
import { GenerationCancelledError, InvalidRequestError } from '../pipeline/pipeline.ts';
import { formatParameters } from '../pipeline/parameters.ts';
import { encodePng, encodeWebpPreview, readPngParameters } from '../pipeline/png.ts';
import { encodeGridPng } from '../pipeline/grid.ts';
import { upscale } from '../pipeline/upscale.ts';
import type { GenerateRequest, RgbImage } from '../pipeline/types.ts';
import type { SamplerName } from '../pipeline/schedulers/types.ts';
import type { GenerationEngine } from '../jobs/engine.ts';
import type { JobParams, JobProgress } from '../jobs/types.ts';

export interface ExecuteInputs {
  /** img2img: the init image file as the bot saved it. */
  init?: Uint8Array;
  /** upscale: the PNG to enlarge. */
  upscaleSource?: Uint8Array;
}

export interface ExecuteOptions {
  signal: AbortSignal;
  onProgress: (progress: JobProgress) => void;
  software: string;
  /** ONNX super-resolution model; Lanczos when undefined. */
  upscaleModel?: string;
}

export interface ExecutedImage {
  png: Buffer;
  seed: number;
  nsfw: boolean;
  width: number;
  height: number;
}

export interface ExecutedJob {
  images: ExecutedImage[];
  grid?: Buffer;
  sampler: SamplerName;
  model: string;
  stepsRun: number;
  promptTruncated: boolean;
  elapsedMs: number;
  upscaleMethod?: string;
}

export async function executeJob(engine: GenerationEngine, params: JobParams, inputs: ExecuteInputs, options: ExecuteOptions): Promise<ExecutedJob> {
  if (params.kind === 'upscale') return executeUpscale(engine, params, inputs, options);
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
    // About five previews a job, as in local mode.
    previewEvery: Math.max(1, Math.ceil(params.steps / 5)),
  };
  if (params.kind === 'img2img') {
    if (!inputs.init) throw new InvalidRequestError('this job has no init image');
    request.initImage = await decodeRgb(inputs.init, params.width, params.height);
    request.strength = params.strength ?? 0.8;
  }
  let previewBusy = false;
  const result = await engine.generate(request, {
    signal: options.signal,
    onProgress: (event) => {
      const base = { step: event.step, total: event.total, elapsedMs: event.elapsedMs };
      if (!event.preview || previewBusy) return options.onProgress(base);
      previewBusy = true;
      encodeWebpPreview(event.preview, { maxSide: 256 })
        .then((preview) => options.onProgress({ ...base, preview }))
        .catch(() => options.onProgress(base))
        .finally(() => (previewBusy = false));
    },
  });
  const images: ExecutedImage[] = [];
  for (const image of result.images) {
    const parameters = formatParameters({
      prompt: params.prompt,
      negativePrompt: params.negativePrompt,
      steps: params.steps,
      sampler: result.sampler,
      guidance: params.guidance,
      seed: image.seed,
      width: image.width,
      height: image.height,
      model: result.modelName,
      ...(params.kind === 'img2img' ? { denoisingStrength: params.strength ?? 0.8 } : {}),
    });
    const png = await encodePng(image, { parameters, software: options.software });
    images.push({ png, seed: image.seed, nsfw: image.nsfw ?? false, width: image.width, height: image.height });
  }
  const grid =
    result.images.length > 1
      ? await encodeGridPng(result.images, {
          parameters: formatParameters({ prompt: params.prompt, negativePrompt: params.negativePrompt, steps: params.steps, sampler: result.sampler, guidance: params.guidance, seed: params.seed, width: params.width, height: params.height, model: result.modelName }),
          software: options.software,
        })
      : undefined;
  return {
    images,
    grid,
    sampler: result.sampler,
    model: result.modelName,
    stepsRun: result.stepsRun,
    promptTruncated: result.promptTruncated,
    elapsedMs: result.elapsedMs,
  };
}

async function executeUpscale(engine: GenerationEngine, params: JobParams, inputs: ExecuteInputs, options: ExecuteOptions): Promise<ExecutedJob> {
  const source = params.upscale;
  if (!source || !inputs.upscaleSource) throw new InvalidRequestError('this upscale job has no source image');
  const image = await decodeRgb(inputs.upscaleSource);
  if (options.signal.aborted) throw new GenerationCancelledError();
  const started = performance.now();
  const done = await upscale(image, source.factor, { modelPath: options.upscaleModel });
  const parameters = readPngParameters(inputs.upscaleSource);
  const png = await encodePng(done.image, { parameters: `${parameters ?? params.prompt}, Upscale: ${source.factor}x ${done.method}`, software: options.software });
  return {
    images: [{ png, seed: params.seed, nsfw: false, width: done.image.width, height: done.image.height }],
    sampler: params.sampler ?? 'pndm',
    model: engine.info?.modelName ?? 'unknown',
    stepsRun: 0,
    promptTruncated: false,
    elapsedMs: performance.now() - started,
    upscaleMethod: done.method,
  };
}

/** Decodes image bytes to RGB; resizes (cover) when a size is given, as the bot does in local mode. */
async function decodeRgb(bytes: Uint8Array, width?: number, height?: number): Promise<RgbImage> {
  let pipeline = sharp(bytes).removeAlpha().toColourspace('srgb');
  if (width && height) pipeline = pipeline.resize(width, height, { fit: 'cover' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected an RGB image, got ${info.channels} channels`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}
