// Coalescing, rate-limited message updates. Discord allows about one edit per second or two per message; a job
// reports progress far more often. Per key (job): at most one edit in flight, at most one per `intervalMs`, only the
// newest pending body is sent (older ones are dropped, never sent late), and once a final update is queued no
// progress edit can overtake or follow it. 429s are waited out by discord.js's REST queue; the in-flight edit simply
// takes longer and the pending body keeps being replaced meanwhile.
export type Send = () => Promise<unknown>;

interface Slot {
  lastSentAt: number;
  inflight: Promise<void> | undefined;
  pending: Send | undefined;
  timer: NodeJS.Timeout | undefined;
  finalized: boolean;
}

export interface ProgressReporterOptions {
  intervalMs: number;
  onError?: (key: string, error: unknown) => void;
  now?: () => number;
}

export class ProgressReporter {
  private readonly slots = new Map<string, Slot>();
  private readonly now: () => number;
  /** Keys already finalized (bounded): a late progress event must not resurrect them. */
  private readonly finished = new Set<string>();

  constructor(private readonly options: ProgressReporterOptions) {
    this.now = options.now ?? Date.now;
  }

  private slot(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { lastSentAt: 0, inflight: undefined, pending: undefined, timer: undefined, finalized: false };
      this.slots.set(key, slot);
    }
    return slot;
  }

  /** Queue a progress update; replaces any pending one for the same key. Ignored after final(). */
  update(key: string, send: Send): void {
    if (this.finished.has(key)) return;
    const slot = this.slot(key);
    if (slot.finalized) return;
    slot.pending = send;
    this.schedule(key, slot);
  }

  private schedule(key: string, slot: Slot): void {
    if (slot.timer || slot.inflight || !slot.pending) return;
    const wait = Math.max(0, slot.lastSentAt + this.options.intervalMs - this.now());
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      this.flush(key, slot);
    }, wait);
    slot.timer.unref?.();
  }

  private flush(key: string, slot: Slot): void {
    const send = slot.pending;
    slot.pending = undefined;
    if (!send || slot.finalized) return;
    slot.lastSentAt = this.now();
    slot.inflight = send()
      .then(() => undefined, (err) => this.options.onError?.(key, err))
      .finally(() => {
        slot.inflight = undefined;
        this.schedule(key, slot);
      });
  }

  /**
   * Sends the final update for a key after any edit already in flight, dropping pending progress. Resolves (or
   * rejects) with the final send's outcome. The key is forgotten afterwards.
   */
  async final<T>(key: string, send: () => Promise<T>): Promise<T> {
    const slot = this.slot(key);
    slot.finalized = true;
    slot.pending = undefined;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    await slot.inflight;
    try {
      return await send();
    } finally {
      if (this.slots.get(key) === slot) this.slots.delete(key);
      this.remember(key);
    }
  }

  /** Forget a key without sending anything (job vanished). */
  drop(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    slot.finalized = true;
    if (slot.timer) clearTimeout(slot.timer);
    this.slots.delete(key);
    this.remember(key);
  }

  private remember(key: string): void {
    this.finished.add(key);
    if (this.finished.size > 10_000) this.finished.delete(this.finished.values().next().value!);
  }

  get size(): number {
    return this.slots.size;
  }
}
