// Free worker slots per model, measured in Redis: live workers that advertise the model (registry.ts) minus the
// jobs BullMQ holds for it (waiting or active, from any bot process). Measured once a second while jobs wait, and
// at once after a job ends; between measurements, jobs this process dispatched are counted so it does not hand out
// a slot twice. With several bot processes (shards) sharing the workers, two of them may take the same slot in the
// same second; the extra job then waits in BullMQ for the next free worker, so fairness bends a little, nothing breaks.
import type { WorkerAdvert } from './protocol.ts';
import { capacityByModel } from './registry.ts';
import type { SlotSource } from '../queue/index.ts';

export interface RedisSlotsOptions {
  readWorkers: () => Promise<WorkerAdvert[]>;
  /** Jobs BullMQ holds for a model (waiting + active + prioritized + delayed). */
  load: (pool: string) => Promise<number>;
  /** New numbers: the queue should try to dispatch. */
  onChange: () => void;
  onError?: (error: unknown) => void;
  intervalMs?: number;
}

export class RedisSlots implements SlotSource {
  readonly #o: RedisSlotsOptions;
  #capacity = new Map<string, number>();
  readonly #load = new Map<string, number>();
  /** Jobs dispatched here since the last measurement started. */
  readonly #since = new Map<string, number>();
  readonly #pools = new Set<string>();
  #adverts: WorkerAdvert[] = [];
  #timer: NodeJS.Timeout | undefined;
  #measuring: Promise<void> | undefined;
  #again = false;

  constructor(options: RedisSlotsOptions) {
    this.#o = options;
  }

  /** The workers seen at the last measurement. */
  get workers(): readonly WorkerAdvert[] {
    return this.#adverts;
  }

  capacity(pool: string): number {
    return this.#capacity.get(pool) ?? 0;
  }

  free(pool: string, runningHere: number): number {
    if (!this.#pools.has(pool)) {
      this.#pools.add(pool);
      void this.measure();
    }
    const busy = Math.max((this.#load.get(pool) ?? 0) + (this.#since.get(pool) ?? 0), runningHere);
    return Math.max(0, this.capacity(pool) - busy);
  }

  taken(pool: string): void {
    this.#since.set(pool, (this.#since.get(pool) ?? 0) + 1);
  }

  released(): void {
    void this.measure();
  }

  /** Measures periodically until stop(). */
  start(intervalMs = this.#o.intervalMs ?? 1000): void {
    this.#timer ??= setInterval(() => void this.measure(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One measurement (coalesced: a request during a measurement runs one more afterwards). */
  measure(): Promise<void> {
    if (this.#measuring) {
      this.#again = true;
      return this.#measuring;
    }
    this.#measuring = (async () => {
      try {
        for (const pool of this.#pools) this.#since.set(pool, 0);
        this.#adverts = await this.#o.readWorkers();
        this.#capacity = capacityByModel(this.#adverts);
        for (const pool of this.#pools) this.#load.set(pool, await this.#o.load(pool));
        this.#o.onChange();
      } catch (error) {
        this.#o.onError?.(error);
      }
    })().finally(() => {
      this.#measuring = undefined;
      if (this.#again) {
        this.#again = false;
        void this.measure();
      }
    });
    return this.#measuring;
  }
}
