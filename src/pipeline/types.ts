// The pipeline's public request/result types: shared by the worker, the CLI and the bot. No Discord, no ONNX here.
import type { SamplerName } from './schedulers/types.ts';

export type AttentionSlicing = 'off' | 'auto' | 'max' | 'flash' | number;
export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export interface PipelineOptions {
  modelDir: string;
  provider: ProviderName;
  attentionSlicing: AttentionSlicing;
  /** Load sub-models one at a time and run guidance as two batch-1 passes (for small GPUs). */
  lowMemory: boolean;
  intraOpThreads?: number;
  interOpThreads?: number;
  /** Keep ONNX Runtime's optimized graphs beside the model and load them next time (see onnx/optimizedCache.ts). */
  graphCache?: boolean;
}

/** An 8-bit image in interleaved RGB (HWC), the currency between sharp and the pipeline. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface GenerateRequest {
  prompt: string;
  negativePrompt?: string;
  seed: number;
  steps: number;
  guidance: number;
  sampler?: SamplerName;
  width: number;
  height: number;
  /** 1-4 images; image i uses seed + i. */
  count: number;
  /** img2img: the init image, already resized to width x height. */
  initImage?: RgbImage;
  /** img2img strength in (0, 1]; default 0.8. */
  strength?: number;
  /** Emit a cheap preview with progress events every this many steps (0 = never). */
  previewEvery?: number;
}

export interface ProgressEvent {
  step: number;
  total: number;
  elapsedMs: number;
  preview?: RgbImage;
}

export interface GeneratedImage extends RgbImage {
  seed: number;
  /** The safety checker's verdict, when the model folder has one. */
  nsfw?: boolean;
}

export interface GenerateResult {
  images: GeneratedImage[];
  /** Denoising steps actually run (fewer than requested for img2img with strength < 1). */
  stepsRun: number;
  sampler: SamplerName;
  /** True when the prompt or negative prompt was cut to the text encoder's token limit. */
  promptTruncated: boolean;
  modelName: string;
  elapsedMs: number;
}
