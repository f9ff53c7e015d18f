// The one async API over the inference process that the CLI and the bot share: start (load), generate (progress
// callback + AbortSignal), dispose. The child process is forked with tsx's loader so it runs the TypeScript sources.
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { GenerationCancelledError, InvalidRequestError, type PipelineInfo } from '../pipeline.ts';
import type { GenerateRequest, GenerateResult, PipelineOptions, ProgressEvent, RgbImage } from '../types.ts';
import type { UpscaleResult } from '../upscale.ts';
import type { FromWorker, ToWorker, WireError } from './protocol.ts';

/** The inference process died (out of memory, native abort, killed) while this request was in it. */
export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError';
}

export interface InferenceProcessOptions {
  /** Release model sessions after this long without a job (0 = keep them). */
  idleReleaseMs?: number;
  log?: (message: string) => void;
}

export interface WorkerResult extends GenerateResult {
  /** Milliseconds of the generation spent inside ONNX Runtime. */
  onnxMs: number;
}

interface Pending {
  resolve: (result: WorkerResult) => void;
  resolveUpscale?: (result: UpscaleResult) => void;
  reject: (err: Error) => void;
  onProgress?: (event: ProgressEvent) => void;
}

const HOST = fileURLToPath(new URL('./host.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/**
 * Rebuilds an error that crossed a process boundary as {name, message} (this worker's IPC, or a Redis worker's job
 * failure), as the class callers branch on: their user messages and the crash retry depend on it.
 */
export function errorFromWire(error: WireError): Error {
  switch (error.name) {
    case 'InvalidRequestError':
      return new InvalidRequestError(error.message);
    case 'WorkerCrashedError':
      return new WorkerCrashedError(error.message);
    case 'GenerationCancelledError':
    case 'AbortError':
      return new GenerationCancelledError(error.message.replace(/^generation /, ''));
    default: {
      const err = new Error(error.message);
      err.name = error.name;
      return err;
    }
  }
}

export class InferenceProcess extends EventEmitter {
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private exited = false;

  private constructor(private readonly child: ChildProcess, readonly info: PipelineInfo) {
    super();
    child.on('message', (m: FromWorker) => this.onMessage(m));
    child.on('exit', (code, signal) => {
      this.exited = true;
      const err = new WorkerCrashedError(`the inference process exited (${signal ?? `code ${code}`}) during the job`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.emit('exit', code, signal);
    });
  }

  /** Fork the inference process and load the model; rejects with the loader's own message when the model is bad. */
  static start(options: PipelineOptions, start: InferenceProcessOptions = {}): Promise<InferenceProcess> {
    const child = fork(HOST, [], { execArgv: ['--import', TSX], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null, signal: string | null) => reject(new WorkerCrashedError(`the inference process exited while loading (${signal ?? `code ${code}`})`));
      child.once('exit', onExit);
      const onMessage = (m: FromWorker) => {
        if (m.type === 'log') start.log?.(m.message);
        if (m.type === 'loaded') {
          child.off('message', onMessage);
          child.off('exit', onExit);
          const worker = new InferenceProcess(child, m.info);
          if (start.log) worker.on('log', start.log);
          resolve(worker);
        } else if (m.type === 'load-failed') {
          child.off('exit', onExit);
          child.kill();
          const err = new Error(m.error.message);
          err.name = m.error.name;
          reject(err);
        }
      };
      child.on('message', onMessage);
      child.send({ type: 'load', options, idleReleaseMs: start.idleReleaseMs } satisfies ToWorker);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  generate(request: GenerateRequest, hooks: { signal?: AbortSignal; onProgress?: (event: ProgressEvent) => void } = {}): Promise<WorkerResult> {
    if (this.exited) return Promise.reject(new WorkerCrashedError('the inference process is not running'));
    const id = String(++this.nextId);
    const { signal } = hooks;
    if (signal?.aborted) return Promise.reject(new GenerationCancelledError(signal.reason === 'timeout' ? 'timed out' : 'cancelled'));
    return new Promise<WorkerResult>((resolve, reject) => {
      const onAbort = () => this.send({ type: 'cancel', id, reason: signal?.reason === 'timeout' ? 'timeout' : 'cancelled' });
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (r) => (done(), resolve(r)),
        reject: (e) => (done(), reject(e)),
        onProgress: hooks.onProgress,
      });
      this.send({ type: 'generate', id, request });
    });
  }

  /** Enlarge an image 2x or 4x in the inference process (ONNX model when given, else Lanczos). */
  upscale(image: RgbImage, factor: 2 | 4, modelPath?: string): Promise<UpscaleResult> {
    if (this.exited) return Promise.reject(new WorkerCrashedError('the inference process is not running'));
    const id = String(++this.nextId);
    return new Promise<UpscaleResult>((resolve, reject) => {
      this.pending.set(id, { resolve: () => reject(new Error('unexpected generate result for an upscale request')), resolveUpscale: resolve, reject });
      this.send({ type: 'upscale', id, image, factor, modelPath });
    });
  }

  /** Ask the process to free its sessions and exit; kill it if it does not within the timeout. */
  async dispose(timeoutMs = 5000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'dispose' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kill the process outright (tests, and a job that ignores cancellation). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  private send(message: ToWorker): void {
    if (!this.exited && this.child.connected) this.child.send(message);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'log':
        this.emit('log', m.message);
        break;
      case 'progress':
        this.pending.get(m.id)?.onProgress?.(m.event);
        break;
      case 'result': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve({ ...m.result, onnxMs: m.onnxMs });
        break;
      }
      case 'upscaled': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolveUpscale?.(m.result);
        break;
      }
      case 'error': {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.reject(errorFromWire(m.error));
        break;
      }
    }
  }
}
