// Messages between the bot (or CLI) and the inference process. Sent with Node's "advanced" IPC serialisation, so
// typed arrays (latents, images) cross as binary, not JSON.
import type { PipelineInfo } from '../pipeline.ts';
import type { GenerateRequest, GenerateResult, PipelineOptions, ProgressEvent } from '../types.ts';

export type ToWorker =
  | { type: 'load'; options: PipelineOptions; idleReleaseMs?: number }
  | { type: 'generate'; id: string; request: GenerateRequest }
  | { type: 'cancel'; id: string; reason: 'cancelled' | 'timeout' }
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
  | { type: 'error'; id: string; error: WireError }
  | { type: 'log'; message: string };
