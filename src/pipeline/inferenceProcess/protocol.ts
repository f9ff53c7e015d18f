// Messages between the bot (or CLI) and the inference process. Sent with Node's "advanced" IPC serialisation, so
// typed arrays (latents, images) cross as binary, not JSON.
import type { PipelineInfo } from '../pipeline.ts';
import type { GenerateRequest, GenerateResult, PipelineOptions, ProgressEvent, RgbImage } from '../types.ts';
import type { UpscaleResult } from '../upscale.ts';

export type ToWorker =
  | { type: 'load'; options: PipelineOptions; idleReleaseMs?: number }
  | { type: 'generate'; id: string; request: GenerateRequest }
  | { type: 'cancel'; id: string; reason: 'cancelled' | 'timeout' }
  /** ONNX super-resolution runs here too: it blocks its thread just like the diffusion models. */
  | { type: 'upscale'; id: string; image: RgbImage; factor: 2 | 4; modelPath?: string }
  | { type: 'dispose' };

export interface WireError {
  name: string;
  message: string;
}

export type FromWorker =
  | { type: 'loaded'; info: PipelineInfo }
  | { type: 'load-failed'; error: WireError }
  | { type: 'progress'; id: string; event: ProgressEvent }
  | { type: 'result'; id: string; result: GenerateResult; onnxMs: number }
  | { type: 'upscaled'; id: string; result: UpscaleResult }
  | { type: 'error'; id: string; error: WireError }
  | { type: 'log'; message: string };
