// The bot's handle on inference: one InferenceProcess (a child process), restarted when it dies. A crash fails only the
// job that was in it (the caller decides whether to retry); the next job gets a fresh process.
import { EventEmitter } from 'node:events';
import type { PipelineInfo } from '../pipeline/pipeline.ts';
import type { GenerateRequest, PipelineOptions, ProgressEvent, RgbImage } from '../pipeline/types.ts';
import type { UpscaleResult } from '../pipeline/upscale.ts';
import { InferenceProcess, WorkerCrashedError, type WorkerResult } from '../pipeline/inferenceProcess/client.ts';

export interface GenerateHooks {
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Which installed model runs it (its folder name); engines with one model ignore it. Default: the default model. */
  model?: string;
}

/** What the job service needs from inference; tests and the Redis backend can supply their own. */
export interface GenerationEngine {
  readonly info: PipelineInfo | undefined;
  generate(request: GenerateRequest, hooks?: GenerateHooks): Promise<WorkerResult>;
  /** Super-resolution with an ONNX model, off the bot's thread. Engines without it: the caller uses Lanczos. */
  upscale?(image: RgbImage, factor: 2 | 4, modelPath: string, model?: string): Promise<UpscaleResult>;
  /** Models loaded now, most recently used first (engines that load several: ModelPool). */
  loadedModels?(): string[];
  /** Whether a model (undefined: the default one) is loaded now, so a job for it starts without a load. */
  isLoaded?(model?: string): boolean;
  /** Mean seconds per denoising step over recent jobs, for /status and ETAs. */
  secondsPerStep(): number | undefined;
  close(): Promise<void>;
}

export interface InferenceEngineOptions {
  idleReleaseMs?: number;
  log?: (message: string) => void;
  /** Wait between restarts after back-to-back crashes (ms); doubles each time up to 30 s. */
  restartDelayMs?: number;
}

export class InferenceEngine extends EventEmitter implements GenerationEngine {
  private worker: InferenceProcess | undefined;
  private starting: Promise<InferenceProcess> | undefined;
  private closed = false;
  private crashes = 0;
  private lastInfo: PipelineInfo | undefined;
  private readonly stepTimes: number[] = [];

  private constructor(
    private readonly pipelineOptions: PipelineOptions,
    private readonly options: InferenceEngineOptions,
  ) {
    super();
  }

  /** Starts the worker and loads the model; rejects (with the loader's message) when the model folder is bad. */
  static async start(pipelineOptions: PipelineOptions, options: InferenceEngineOptions = {}): Promise<InferenceEngine> {
    const engine = new InferenceEngine(pipelineOptions, options);
    await engine.ensureWorker();
    return engine;
  }

  get info(): PipelineInfo | undefined {
    return this.lastInfo;
  }

  /** The live worker's process id (tests kill it to check recovery). */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  private ensureWorker(): Promise<InferenceProcess> {
    if (this.worker?.alive) return Promise.resolve(this.worker);
    if (this.starting) return this.starting;
    const delay = this.crashes === 0 ? 0 : Math.min(30_000, (this.options.restartDelayMs ?? 500) * 2 ** (this.crashes - 1));
    this.starting = (async () => {
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.closed) throw new Error('the generation engine is closed');
      const worker = await InferenceProcess.start(this.pipelineOptions, { idleReleaseMs: this.options.idleReleaseMs, log: this.options.log });
      worker.on('exit', (code: number | null, signal: string | null) => {
        if (this.worker === worker) this.worker = undefined;
        if (!this.closed) {
          this.crashes++;
          this.options.log?.(`inference process exited (${signal ?? `code ${code}`}); a new one starts with the next job`);
          this.emit('crash', { code, signal });
        }
      });
      this.worker = worker;
      this.lastInfo = worker.info;
      return worker;
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  async generate(request: GenerateRequest, hooks: GenerateHooks = {}): Promise<WorkerResult> {
    const worker = await this.ensureWorker();
    const started = performance.now();
    try {
      const result = await worker.generate(request, hooks);
      this.crashes = 0;
      if (result.stepsRun > 0) this.recordStepTime((performance.now() - started) / 1000 / result.stepsRun);
      return result;
    } catch (err) {
      if (err instanceof WorkerCrashedError) this.worker = undefined;
      throw err;
    }
  }

  async upscale(image: RgbImage, factor: 2 | 4, modelPath: string): Promise<UpscaleResult> {
    const worker = await this.ensureWorker();
    try {
      return await worker.upscale(image, factor, modelPath);
    } catch (err) {
      if (err instanceof WorkerCrashedError) this.worker = undefined;
      throw err;
    }
  }

  private recordStepTime(seconds: number): void {
    this.stepTimes.push(seconds);
    if (this.stepTimes.length > 20) this.stepTimes.shift();
  }

  secondsPerStep(): number | undefined {
    if (this.stepTimes.length === 0) return undefined;
    return this.stepTimes.reduce((a, b) => a + b, 0) / this.stepTimes.length;
  }

  /** Kill the worker (tests; a stuck native call). The next job starts a new one. */
  killWorker(): void {
    this.worker?.kill('SIGKILL');
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker ?? (await this.starting?.catch(() => undefined));
    this.worker = undefined;
    await worker?.dispose();
  }
}
