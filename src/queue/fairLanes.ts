// Fair ordering of waiting jobs, as p-queue's `queueClass`: one FIFO lane per user, users served round-robin.
// p-queue calls `dequeue()` only at the moment a slot frees, so the choice below is made at the last moment: a user
// who arrives late still gets the next free slot instead of waiting behind another user's backlog.
//
// Rule (`fairestUser`): the next job is the head of the lane whose user was served least recently, among the lanes
// whose head has the highest priority. "Served" means a job of that user was dequeued (started). A user never served
// (or whose history was forgotten because they had nothing waiting or running) counts as least recent of all, so a
// newcomer goes next rather than behind everyone else's backlog; ties go to the lane whose head job arrived first.
// Example, one slot: A queues A1..A10 (A1 starts), then B queues B1, B2. Order: A1, B1, A2, B2, A3, A4, ...
// Within a lane jobs are ordered by priority (higher first), then arrival.
//
// Warm jobs (a job whose `warm()` says its model is loaded now) go first among equally fair choices, so a busy bot
// does not reload a model for every job: between users only when their turn is tied (same priority, equally long
// since served), and within one user's lane among that user's jobs of the head's priority. Fairness between users is
// never traded for it: a user whose turn it is goes next even if their job needs a model that is not loaded.
//
// The full order (for positions) is found by simulating that rule on a copy of the "last served" clock; the same
// function picks the next job, so a displayed position is exactly the order in which jobs will start if nothing
// else arrives. Cost O(waiting x users) per recomputation, cached until the next change: fine for queue lengths a
// chat bot allows (hundreds).
import type { Queue, QueueAddOptions } from 'p-queue';

/** What p-queue hands its queue class: the function that starts one task. */
export type RunFunction = () => Promise<unknown>;

/** The options given to p-queue's `add()` for each job; p-queue passes them on to `enqueue()`. */
export interface LaneOptions extends QueueAddOptions {
  readonly id: string;
  readonly userId: string;
  /** True while the job could start without loading anything (its model is loaded); asked at each choice. */
  readonly warm?: () => boolean;
}

/** A waiting job as the lanes see it. */
export interface LaneItem {
  readonly id: string;
  readonly userId: string;
  readonly priority: number;
  /** Arrival order, unique and increasing. */
  readonly seq: number;
  readonly warm?: () => boolean;
}

interface Waiting extends LaneItem {
  readonly run: RunFunction;
}

export class FairLanes implements Queue<RunFunction, LaneOptions> {
  /** userId -> waiting items, sorted by (priority desc, seq asc). Map order is irrelevant to fairness. */
  readonly #lanes = new Map<string, Waiting[]>();
  /** userId -> value of #clock when one of their jobs last started. */
  readonly #lastServed = new Map<string, number>();
  readonly #byId = new Map<string, Waiting>();
  #clock = 0;
  #seq = 0;
  #order: Waiting[] | null = null;

  get size(): number {
    return this.#byId.size;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  enqueue(run: RunFunction, options?: Partial<LaneOptions>): void {
    const { id, userId, priority = 0, warm } = options ?? {};
    if (id === undefined || userId === undefined) throw new TypeError('FairLanes needs an id and a userId for every job');
    if (this.#byId.has(id)) throw new Error(`duplicate lane item ${id}`);
    this.#insert({ id, userId, priority, seq: ++this.#seq, run, warm });
  }

  /** Takes the next task by the fairness rule and records its user as just served. */
  dequeue(): RunFunction | undefined {
    const user = fairestUser(this.#lanes, (u) => nextInLane(this.#lanes.get(u)!), (u) => this.#lastServed.get(u));
    if (user === undefined) return undefined;
    const lane = this.#lanes.get(user)!;
    const item = nextInLane(lane)!;
    lane.splice(lane.indexOf(item), 1);
    if (lane.length === 0) this.#lanes.delete(user);
    this.#byId.delete(item.id);
    this.#lastServed.set(user, ++this.#clock);
    this.#order = null;
    return item.run;
  }

  /** Removes a waiting item (p-queue calls this when a waiting task's signal aborts); true when it was there. */
  remove(id: string): boolean {
    const item = this.#byId.get(id);
    if (!item) return false;
    const lane = this.#lanes.get(item.userId)!;
    lane.splice(lane.indexOf(item), 1);
    if (lane.length === 0) this.#lanes.delete(item.userId);
    this.#byId.delete(id);
    this.#order = null;
    return true;
  }

  /** Moves a waiting item within its user's lane (p-queue's `setPriority`); it keeps its arrival order. */
  setPriority(id: string, priority: number): void {
    const item = this.#byId.get(id);
    if (!item) throw new ReferenceError(`No promise function with the id "${id}" exists in the queue.`);
    this.remove(id);
    this.#insert({ ...item, priority });
  }

  /** Waiting tasks of one priority (p-queue's `sizeBy`). */
  filter(options: Readonly<Partial<LaneOptions>>): RunFunction[] {
    return [...this.#byId.values()].filter((item) => item.priority === (options.priority ?? 0)).map((item) => item.run);
  }

  /** Drops a user's service history; call when they have nothing waiting or running (bounds memory). */
  forget(userId: string): void {
    if (this.#lanes.has(userId)) return;
    if (this.#lastServed.delete(userId)) this.#order = null;
  }

  /** Waiting items in the order they will be dequeued. The array is shared: do not mutate. */
  order(): readonly LaneItem[] {
    if (this.#order) return this.#order;
    // Warmth is taken as it is now: a position is the order if nothing arrives and no model is loaded or released.
    const taken = new Set<Waiting>();
    const served = new Map(this.#lastServed);
    let clock = this.#clock;
    const out: Waiting[] = [];
    for (let n = 0; n < this.#byId.size; n++) {
      const user = fairestUser(this.#lanes, (u) => nextInLane(this.#lanes.get(u)!, taken), (u) => served.get(u))!;
      const item = nextInLane(this.#lanes.get(user)!, taken)!;
      out.push(item);
      taken.add(item);
      served.set(user, ++clock);
    }
    this.#order = out;
    return out;
  }

  /** 1-based place of a waiting item, undefined when it is not waiting. */
  position(id: string): number | undefined {
    if (!this.#byId.has(id)) return undefined;
    return this.order().findIndex((item) => item.id === id) + 1;
  }

  #insert(item: Waiting): void {
    let lane = this.#lanes.get(item.userId);
    if (!lane) {
      lane = [];
      this.#lanes.set(item.userId, lane);
    }
    // Insert after every item that sorts before it (stable for equal keys).
    let at = lane.length;
    while (at > 0 && before(item, lane[at - 1]!)) at--;
    lane.splice(at, 0, item);
    this.#byId.set(item.id, item);
    this.#order = null;
  }
}

/**
 * The item a lane offers next: its head (after the `taken` ones), or, when the head is cold, the first warm item of
 * the head's priority.
 */
export function nextInLane<T extends LaneItem>(lane: readonly T[], taken?: ReadonlySet<T>): T | undefined {
  const open = taken ? lane.filter((item) => !taken.has(item)) : lane;
  const head = open[0];
  if (!head || isWarm(head)) return head;
  return open.find((item) => item.priority === head.priority && isWarm(item)) ?? head;
}

function isWarm(item: LaneItem): boolean {
  return item.warm?.() ?? false;
}

/** True when a should run before b within one lane. */
function before(a: LaneItem, b: LaneItem): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

/**
 * The fair choice: the user whose next item (`headOf(user)`) goes next. Highest priority first, then the user served
 * least recently (never served = -1), then, between equally fair users, a warm item, then the earliest arrival.
 */
export function fairestUser<T extends LaneItem>(
  lanes: ReadonlyMap<string, readonly T[]>,
  headOf: (userId: string) => T | undefined,
  lastServedOf: (userId: string) => number | undefined,
): string | undefined {
  let best: { user: string; head: T; served: number; warm: boolean } | undefined;
  for (const user of lanes.keys()) {
    const head = headOf(user);
    if (!head) continue;
    const served = lastServedOf(user) ?? -1;
    const warm = isWarm(head);
    if (!best || goesFirst({ head, served, warm }, best)) best = { user, head, served, warm };
  }
  return best?.user;
}

function goesFirst<T extends LaneItem>(a: { head: T; served: number; warm: boolean }, b: { head: T; served: number; warm: boolean }): boolean {
  if (a.head.priority !== b.head.priority) return a.head.priority > b.head.priority;
  if (a.served !== b.served) return a.served < b.served;
  if (a.warm !== b.warm) return a.warm;
  return a.head.seq < b.head.seq;
}
