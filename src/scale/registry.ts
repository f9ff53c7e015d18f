// Which workers are alive and which models they serve. Each worker refreshes a small JSON key with a TTL every few
// seconds (WorkerHeartbeat); the bot reads them all (readWorkers). A worker that dies stops refreshing and drops out
// within HEARTBEAT_TTL_MS. A key per worker rather than BullMQ's getWorkers(): that needs CLIENT LIST, which hosted
// Redis services often forbid, and it cannot say which models a worker has.
import type { Redis } from 'ioredis';
import { WORKER_KEY_PATTERN, workerKey } from './keys.ts';
import { parseAdvert, type WorkerAdvert } from './protocol.ts';

export const HEARTBEAT_INTERVAL_MS = 2000;
export const HEARTBEAT_TTL_MS = 8000;

/** Live workers' advertisements. */
export async function readWorkers(redis: Redis): Promise<WorkerAdvert[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', WORKER_KEY_PATTERN, 'COUNT', 200);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  const adverts: WorkerAdvert[] = [];
  for (const value of values) {
    if (!value) continue; // expired between SCAN and MGET
    try {
      adverts.push(parseAdvert(value));
    } catch {
      // a foreign or corrupt key (ProtocolError): not a worker we can use
    }
  }
  return adverts.sort((a, b) => a.id.localeCompare(b.id));
}

/**
 * Job slots per model over the live workers. A worker serving several models runs one job at a time across them, so
 * its slots count for a model only while it is not busy with another model's job (jobs of the model itself are
 * counted by the caller, from the model's queue).
 */
export function capacityByModel(adverts: readonly WorkerAdvert[]): Map<string, number> {
  const capacity = new Map<string, number>();
  for (const advert of adverts) {
    const runningModels = advert.runningModels ?? [];
    for (const model of advert.models) {
      const busyElsewhere = runningModels.filter((name) => name !== model.name).length;
      capacity.set(model.name, (capacity.get(model.name) ?? 0) + Math.max(0, advert.concurrency - busyElsewhere));
    }
  }
  return capacity;
}

/** Keeps one worker's advertisement alive until stop(). */
export class WorkerHeartbeat {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly advert: () => WorkerAdvert,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    await this.beat();
    this.#timer = setInterval(() => void this.beat().catch(this.onError), HEARTBEAT_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Publishes the advertisement now (also after a change, e.g. a job started). */
  async beat(): Promise<void> {
    const advert = this.advert();
    await this.redis.set(workerKey(advert.id), JSON.stringify(advert), 'PX', HEARTBEAT_TTL_MS);
  }

  /** Stops refreshing and withdraws the advertisement, so the bot stops counting this worker at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.redis.del(workerKey(this.advert().id)).catch(this.onError);
  }
}
