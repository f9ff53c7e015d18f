// Fair ordering of waiting jobs: one FIFO lane per user, users served round-robin.
//
// Rule: the next job is the head of the lane whose user was served least recently, among the lanes whose head has
// the highest priority. "Served" means a job of that user was started. A user never served (or whose history was
// forgotten because they had nothing waiting or running) counts as least recent of all, so a newcomer goes next
// rather than behind everyone else's backlog; ties go to the lane whose head job arrived first.
// Example, one slot: A queues A1..A10 (A1 starts), then B queues B1, B2. Order: A1, B1, A2, B2, A3, A4, ...
// Within a lane jobs are ordered by priority (higher first), then arrival.
//
// The full order (for positions) is found by simulating that rule on a copy of the "last served" clock; the same
// function picks the next job, so a displayed position is exactly the order in which jobs will start if nothing
// else arrives. Cost O(waiting x users) per recomputation, cached until the next change: fine for queue lengths a
// chat bot allows (hundreds).

export interface LaneItem {
  readonly id: string;
  readonly userId: string;
  readonly priority: number;
  /** Arrival order, unique and increasing. */
  readonly seq: number;
}

export class FairLanes<T extends LaneItem> {
  /** userId -> waiting items, sorted by (priority desc, seq asc). Map order is irrelevant to fairness. */
  readonly #lanes = new Map<string, T[]>();
  /** userId -> value of #clock when one of their jobs last started. */
  readonly #lastServed = new Map<string, number>();
  readonly #byId = new Map<string, T>();
  #clock = 0;
  #order: T[] | null = null;

  get size(): number {
    return this.#byId.size;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  add(item: T): void {
    if (this.#byId.has(item.id)) throw new Error(`duplicate lane item ${item.id}`);
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

  /** Removes a waiting item (cancellation); returns it, or undefined when unknown. */
  remove(id: string): T | undefined {
    const item = this.#byId.get(id);
    if (!item) return undefined;
    const lane = this.#lanes.get(item.userId)!;
    lane.splice(lane.indexOf(item), 1);
    if (lane.length === 0) this.#lanes.delete(item.userId);
    this.#byId.delete(id);
    this.#order = null;
    return item;
  }

  /** Takes the next item by the fairness rule and records its user as just served. */
  take(): T | undefined {
    const user = pickUser(this.#lanes, () => 0, (u) => this.#lastServed.get(u));
    if (user === undefined) return undefined;
    const lane = this.#lanes.get(user)!;
    const item = lane.shift()!;
    if (lane.length === 0) this.#lanes.delete(user);
    this.#byId.delete(item.id);
    this.#lastServed.set(user, ++this.#clock);
    this.#order = null;
    return item;
  }

  /** Drops a user's service history; call when they have nothing waiting or running (bounds memory). */
  forget(userId: string): void {
    if (this.#lanes.has(userId)) return;
    if (this.#lastServed.delete(userId)) this.#order = null;
  }

  /** Waiting items in the order they will be taken. The array is shared: do not mutate. */
  order(): readonly T[] {
    if (this.#order) return this.#order;
    const cursor = new Map<string, number>();
    const served = new Map(this.#lastServed);
    let clock = this.#clock;
    const out: T[] = [];
    for (let n = 0; n < this.#byId.size; n++) {
      const user = pickUser(this.#lanes, (u) => cursor.get(u) ?? 0, (u) => served.get(u))!;
      const index = cursor.get(user) ?? 0;
      out.push(this.#lanes.get(user)![index]!);
      cursor.set(user, index + 1);
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
}

/** True when a should run before b within one lane. */
function before(a: LaneItem, b: LaneItem): boolean {
  return a.priority !== b.priority ? a.priority > b.priority : a.seq < b.seq;
}

/**
 * The user whose lane head (at `cursorOf(user)`) goes next: highest head priority, then least recently served
 * (never served = -1), then earliest head arrival.
 */
function pickUser<T extends LaneItem>(
  lanes: ReadonlyMap<string, readonly T[]>,
  cursorOf: (userId: string) => number,
  lastServedOf: (userId: string) => number | undefined,
): string | undefined {
  let best: { user: string; head: T; served: number } | undefined;
  for (const [user, lane] of lanes) {
    const head = lane[cursorOf(user)];
    if (!head) continue;
    const served = lastServedOf(user) ?? -1;
    if (
      !best ||
      head.priority > best.head.priority ||
      (head.priority === best.head.priority && (served < best.served || (served === best.served && head.seq < best.head.seq)))
    ) {
      best = { user, head, served };
    }
  }
  return best?.user;
}
