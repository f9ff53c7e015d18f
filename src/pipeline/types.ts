// The pipeline's public request/result types: shared by the worker, the CLI and the bot. No Discord, no ONNX here.
import type { SamplerName } from './schedulers/types.ts';

export type AttentionSlicing = 'off' | 'auto' | 'max' | 'flash' | number;
export type VaeTiling = 'auto' | 'off' | number;
export type ProviderName = 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export interface PipelineOptions {
  modelDir: string;
  provider: ProviderName;
  attentionSlicing: AttentionSlicing;
  /** Load sub-models one at a time and run guidance as two batch-1 passes (for small GPUs). */
  lowMemory: boolean;
  /**
   * VAE decode/encode tile by tile (diffusers' enable_vae_tiling): 'auto' (default) tiles inputs larger than the VAE's
   * sample_size (512 px for SD 1.x), 'off' never tiles, a number is the tile side in pixels (a multiple of 64).
   */
  vaeTiling?: VaeTiling;
  /** Decode final images with the folder's TAESD decoder (vae_decoder_tiny) when it has one: fast, slightly less exact. */
  fastDecode?: boolean;
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

/** An 8-bit single-channel mask (row-major): 255 = repaint, 0 = keep, values between blend. */
export interface MaskImage {
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
  /** img2img: the init image, already resized to width x height (any size with onlyMasked). */
  initImage?: RgbImage;
  /** img2img strength in (0, 1]; default 0.8, or 1 with a mask (0.9 for maskPrefilled on a 4-channel UNet). */
  strength?: number;
  /**
   * Inpainting: which pixels of initImage to repaint (white) and keep (black), the init image's size. The result
   * comes back at the init image's size with the original pixels composited over it outside the (blurred) mask.
   */
  mask?: MaskImage;
  /** Gaussian blur of the mask in pixels: the band where the new content fades into the kept original. Default 0. */
  maskBlur?: number;
  /**
   * Only the masked area: crop around the mask (padded by maskPadding pixels, default 32), generate that crop at
   * width x height and paste it back; the init image may then be of any size.
   */
  onlyMasked?: boolean;
  maskPadding?: number;
  /** Outpainting: the masked area holds a pre-fill the model should continue (see PREFILLED_STRENGTH). */
  maskPrefilled?: boolean;
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
  /** The img2img/inpainting strength used (the request's, or the default it took). */
  strength?: number;
  /** True when the prompt or negative prompt was cut to the text encoder's token limit. */
  promptTruncated: boolean;
  modelName: string;
  elapsedMs: number;
}
