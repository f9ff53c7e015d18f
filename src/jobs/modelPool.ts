// Several models behind one GenerationEngine. Each loaded model has its own inference process (a InferenceEngine), so
// releasing a model gives all its memory back to the system (ending a process frees what ONNX Runtime's arenas would
// keep). Models load on first use and stay loaded while the estimated sizes of the loaded ones (ONNX files, see
// catalog.ts) fit the memory budget; a model that does not fit releases the least recently used idle ones first. A
// model busy with a job is never released under it: the load waits for that job to end. One model larger than the
// whole budget still loads (alone), with a log line, rather than never running.
import { EventEmitter } from 'node:events';
import type { PipelineInfo } from '../pipeline/pipeline.ts';
import { InvalidRequestError } from '../pipeline/pipeline.ts';
import type { GenerateRequest, RgbImage } from '../pipeline/types.ts';
import type { UpscaleResult } from '../pipeline/upscale.ts';
import type { WorkerResult } from '../pipeline/inferenceProcess/client.ts';
import { formatBytes, type CatalogModel, type ModelCatalog } from '../models/catalog.ts';
import type { GenerateHooks, GenerationEngine } from './inferenceEngine.ts';

export interface ModelPoolEvents {
  loaded: [{ model: string; ms: number; bytes: number }];
  released: [{ model: string; reason: 'budget' | 'close' }];
  /** A model's inference process died (it restarts with the next job). */
  crash: [{ model: string; code: number | null; signal: string | null }];
}

export interface ModelPoolOptions {
  catalog: ModelCatalog;
  /** Bytes the loaded models may take together. */
  budgetBytes: number;
  /** Starts one model's engine (a InferenceEngine on its folder; tests pass fakes). */
  startEngine: (model: CatalogModel) => Promise<GenerationEngine>;
  log?: (message: string) => void;
  /** Clock for least-recently-used order (tests). */
  now?: () => number;
}

interface Slot {
  model: CatalogModel;
  engine?: GenerationEngine;
  loading?: Promise<GenerationEngine>;
  /** Its load has its turn (counts against the budget from then until it is loaded or failed). */
  admitted?: boolean;
  /** Jobs running on it now: never released while > 0. */
  busy: number;
  lastUsed: number;
}

export class ModelPool extends EventEmitter<ModelPoolEvents> implements GenerationEngine {
  readonly #o: ModelPoolOptions;
  readonly #slots = new Map<string, Slot>();
  /** Loads (and the releases they cause) one at a time, so two loads never both count the same free memory. */
  #admission: Promise<unknown> = Promise.resolve();
  /** Woken when a job ends (a busy model may have become releasable). */
  #idleWaiters: (() => void)[] = [];
  readonly #stepTimes: number[] = [];
  #tick = 0;
  #closed = false;

  constructor(options: ModelPoolOptions) {
    super();
    this.#o = options;
  }

  get catalog(): ModelCatalog {
    return this.#o.catalog;
  }

  get budgetBytes(): number {
    return this.#o.budgetBytes;
  }

  /** The default model's pipeline facts (once it has been loaded). */
  get info(): PipelineInfo | undefined {
    return this.infoOf(this.#o.catalog.defaultModel);
  }

  infoOf(model: string): PipelineInfo | undefined {
    return this.#slots.get(model)?.engine?.info;
  }

  /** The inference engine of a loaded model (the default one when none is named); undefined while it is not loaded. */
  loadedEngine(model: string = this.#o.catalog.defaultModel): GenerationEngine | undefined {
    return this.#slots.get(model)?.engine;
  }

  /** Models loaded now, most recently used first. */
  loadedModels(): string[] {
    return [...this.#slots.values()].filter((s) => s.engine).sort((a, b) => b.lastUsed - a.lastUsed).map((s) => s.model.name);
  }

  isLoaded(model: string = this.#o.catalog.defaultModel): boolean {
    return Boolean(this.#slots.get(model)?.engine);
  }

  /** Estimated bytes of the models loaded or loading. */
  get usedBytes(): number {
    let total = 0;
    for (const slot of this.#slots.values()) if (slot.engine || slot.admitted) total += slot.model.bytes;
    return total;
  }

  /** Loads a model now (the default one at start, so a broken export fails before the bot goes online). */
  async preload(model: string = this.#o.catalog.defaultModel): Promise<void> {
    await this.#acquire(model);
  }

  async generate(request: GenerateRequest, hooks: GenerateHooks = {}): Promise<WorkerResult> {
    const name = hooks.model ?? this.#o.catalog.defaultModel;
    return this.#use(name, async (engine) => {
      const started = performance.now();
      const result = await engine.generate(request, hooks);
      if (result.stepsRun > 0) this.#recordStepTime((performance.now() - started) / 1000 / result.stepsRun);
      return result;
    });
  }

  /** Runs in the inference process of the given model (loaded anyway for the job), else the most recent one. */
  async upscale(image: RgbImage, factor: 2 | 4, modelPath: string, model?: string): Promise<UpscaleResult> {
    const name = model && this.#o.catalog.has(model) ? model : (this.loadedModels()[0] ?? this.#o.catalog.defaultModel);
    return this.#use(name, async (engine) => {
      if (!engine.upscale) throw new Error('this engine cannot run an ONNX upscaler');
      return engine.upscale(image, factor, modelPath);
    });
  }

  secondsPerStep(): number | undefined {
    if (this.#stepTimes.length === 0) return undefined;
    return this.#stepTimes.reduce((a, b) => a + b, 0) / this.#stepTimes.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#admission.catch(() => undefined);
    await Promise.all([...this.#slots.keys()].map((name) => this.#release(name, 'close')));
  }

  // ---- internals ---------------------------------------------------------------------------------------------------

  async #use<T>(name: string, work: (engine: GenerationEngine) => Promise<T>): Promise<T> {
    const slot = this.#slotFor(name);
    // Counted busy before the load, so a load for another model cannot release this one in between.
    slot.busy++;
    try {
      const engine = await this.#acquire(name);
      return await work(engine);
    } finally {
      slot.busy--;
      slot.lastUsed = this.#now();
      this.#idleWaiters = wake(this.#idleWaiters);
    }
  }

  #slotFor(name: string): Slot {
    let slot = this.#slots.get(name);
    if (!slot) {
      const model = this.#o.catalog.get(name);
      if (!model) throw new InvalidRequestError(`the model ${name} is not installed on this bot (any more); choose another with the model option`);
      slot = { model, busy: 0, lastUsed: this.#now() };
      this.#slots.set(name, slot);
    }
    return slot;
  }

  #acquire(name: string): Promise<GenerationEngine> {
    if (this.#closed) return Promise.reject(new Error('the generation engine is closed'));
    const slot = this.#slotFor(name);
    slot.lastUsed = this.#now();
    if (slot.engine) return Promise.resolve(slot.engine);
    if (slot.loading) return slot.loading;
    const loading = (async () => {
      const turn = this.#admission;
      let done!: () => void;
      this.#admission = new Promise<void>((resolve) => (done = resolve));
      await turn.catch(() => undefined);
      slot.admitted = true;
      try {
        await this.#makeRoom(slot);
        if (this.#closed) throw new Error('the generation engine is closed');
        const started = performance.now();
        const engine = await this.#o.startEngine(slot.model);
        const ms = performance.now() - started;
        slot.engine = engine;
        this.#o.log?.(`model ${name} loaded in ${(ms / 1000).toFixed(1)} s (${formatBytes(slot.model.bytes)}; ${formatBytes(this.usedBytes)} of ${formatBytes(this.#o.budgetBytes)} in use)`);
        this.emit('loaded', { model: name, ms, bytes: slot.model.bytes });
        return engine;
      } finally {
        slot.loading = undefined;
        slot.admitted = false;
        done();
      }
    })();
    slot.loading = loading;
    return loading;
  }

  /** Releases least recently used idle models until `slot`'s model fits; waits for busy ones when that is the only way. */
  async #makeRoom(slot: Slot): Promise<void> {
    const others = () => [...this.#slots.values()].filter((s) => s !== slot && (s.engine || s.admitted));
    const fits = () => others().reduce((sum, s) => sum + s.model.bytes, 0) + slot.model.bytes <= this.#o.budgetBytes;
    while (!fits()) {
      const loaded = others().filter((s) => s.engine);
      if (loaded.length === 0) {
        this.#o.log?.(`model ${slot.model.name} (${formatBytes(slot.model.bytes)}) is larger than MODEL_MEMORY_BUDGET (${formatBytes(this.#o.budgetBytes)}); loading it alone`);
        return;
      }
      const idle = loaded.filter((s) => s.busy === 0).sort((a, b) => a.lastUsed - b.lastUsed);
      if (idle.length > 0) {
        await this.#release(idle[0]!.model.name, 'budget');
        continue;
      }
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
  }

  async #release(name: string, reason: 'budget' | 'close'): Promise<void> {
    const slot = this.#slots.get(name);
    if (!slot) return;
    const engine = slot.engine ?? (await slot.loading?.catch(() => undefined));
    slot.engine = undefined;
    if (!engine) return;
    await engine.close().catch((err: unknown) => this.#o.log?.(`closing model ${name} failed: ${String(err)}`));
    if (reason === 'budget') this.#o.log?.(`model ${name} released to stay within MODEL_MEMORY_BUDGET (${formatBytes(this.#o.budgetBytes)})`);
    this.emit('released', { model: name, reason });
  }

  #recordStepTime(seconds: number): void {
    this.#stepTimes.push(seconds);
    if (this.#stepTimes.length > 20) this.#stepTimes.shift();
  }

  #now(): number {
    // A tie-free counter unless a clock is given: two uses in one millisecond keep their order.
    return this.#o.now ? this.#o.now() : ++this.#tick;
  }
}

function wake(waiters: readonly (() => void)[]): (() => void)[] {
  for (const resolve of waiters) resolve();
  return [];
}
