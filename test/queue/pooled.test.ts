// What only the general PooledQueue does (JobQueue is it with one pool and fixed slots): several pools with their
// own slots and lines, slots that change from outside, a runner that says when it really started, and adoption of
// restored jobs the remote side already holds. A fake SlotSource stands in for the Redis-measured one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PooledQueue, abortKind, type Job, type PositionChange, type SlotSource } from '../../src/queue/index.ts';
import { ManualTimers, settle, type Params } from './harness.ts';

/** Capacity per pool set by the test; records what the queue reports back. */
class FakeSlots implements SlotSource {
  readonly capacity = new Map<string, number>();
  readonly log: string[] = [];
  free(pool: string, runningHere: number): number {
    return Math.max(0, (this.capacity.get(pool) ?? 0) - runningHere);
  }
  taken(pool: string): void {
    this.log.push(`taken:${pool}`);
  }
  released(pool: string): void {
    this.log.push(`released:${pool}`);
  }
}

interface Remote {
  job: Job<Params & { pool: string }>;
  signal: AbortSignal;
  report: (progress: string) => void;
  started: () => void;
  resolve: (value: string) => void;
  reject: (error: unknown) => void;
}

type P = Params & { pool: string };

function pooled(options: { capacity?: Record<string, number>; adopt?: (jobs: readonly Job<P>[]) => Promise<ReadonlySet<string>>; paused?: boolean; timeoutMs?: number } = {}) {
  const slots = new FakeSlots();
  for (const [pool, n] of Object.entries(options.capacity ?? {})) slots.capacity.set(pool, n);
  const timers = new ManualTimers();
  const handed = new Map<string, Remote>();
  const order: string[] = [];
  const beforeStarted: string[] = [];
  const queue = new PooledQueue<P, string, string>({
    runner: (job, signal, report, started) =>
      new Promise<string>((resolve, reject) => {
        order.push(job.id);
        handed.set(job.id, { job, signal, report, started, resolve, reject });
      }),
    poolOf: (job) => job.params.pool,
    slots,
    timers,
    beforeStarted: (job) => beforeStarted.push(job.id),
    ...(options.adopt ? { adopt: options.adopt } : {}),
    ...(options.paused !== undefined ? { paused: options.paused } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  const add = (id: string, userId: string, pool: string) => queue.enqueue({ id, userId, params: { n: 0, pool } });
  const finish = async (id: string): Promise<void> => {
    await settle();
    handed.get(id)!.resolve(`done ${id}`);
    await settle();
  };
  return { queue, slots, timers, handed, order, beforeStarted, add, finish };
}

test('pooled: each pool has its own slots and its own line; positions count within the pool', async () => {
  const q = pooled({ capacity: { sd15: 1, sdxl: 0 } });
  const positions: PositionChange[][] = [];
  q.queue.on('positions', (e) => positions.push(e.changes));
  q.add('x1', 'a', 'sdxl');
  q.add('s1', 'a', 'sd15');
  q.add('s2', 'b', 'sd15');
  q.add('x2', 'b', 'sdxl');
  await settle();
  assert.deepEqual(q.order, ['s1'], 'sdxl has no slot; sd15 has one');
  assert.equal(q.queue.position('x1'), 1);
  assert.equal(q.queue.position('x2'), 2);
  assert.equal(q.queue.position('s2'), 1, 'counted among sd15 jobs only');
  assert.deepEqual(q.queue.waitingPools().sort(), ['sd15', 'sdxl']);
  assert.equal(q.queue.size, 3);
  assert.equal(q.queue.pending, 1);
  const snap = q.queue.snapshot();
  assert.deepEqual(snap.running.map((v) => v.job.id), ['s1']);
  assert.deepEqual(snap.waiting.map((v) => `${v.job.id}@${v.position}`).sort(), ['s2@1', 'x1@1', 'x2@2']);
  assert.deepEqual(positions.flat().map((c) => `${c.jobId}@${c.position}`).sort(), ['s2@1', 'x1@1', 'x2@2']);
  assert.deepEqual(q.slots.log, ['taken:sd15']);
  await q.finish('s1');
  assert.deepEqual(q.order, ['s1', 's2']);
  assert.deepEqual(q.slots.log, ['taken:sd15', 'released:sd15', 'taken:sd15']);
  assert.deepEqual(q.queue.waitingPools(), ['sdxl']);
});

test('pooled: slots that appear later are used on poke(), fairly between users, and never beyond the count', async () => {
  const q = pooled({ capacity: { m: 0 } });
  q.add('a1', 'a', 'm');
  q.add('a2', 'a', 'm');
  q.add('a3', 'a', 'm');
  q.add('b1', 'b', 'm');
  await settle();
  assert.deepEqual(q.order, []);
  q.queue.poke();
  await settle();
  assert.deepEqual(q.order, [], 'poke without new slots starts nothing');
  q.slots.capacity.set('m', 2); // two workers joined
  q.queue.poke();
  await settle();
  assert.deepEqual(q.order, ['a1', 'b1']);
  q.slots.capacity.set('m', 1); // one left again: nothing more starts when a job ends
  await q.finish('a1');
  assert.deepEqual(q.order, ['a1', 'b1']);
  await q.finish('b1');
  assert.deepEqual(q.order, ['a1', 'b1', 'a2']);
  assert.equal(q.queue.position('a3'), 1);
});

test('pooled: started() decides the started event, startedAt and when the time limit begins', async () => {
  const q = pooled({ capacity: { m: 1 }, timeoutMs: 5000 });
  const events: string[] = [];
  q.queue.on('started', (e) => events.push(`started:${e.job.id}`));
  q.queue.on('progress', (e) => events.push(`progress:${e.progress}`));
  const r = q.add('j', 'a', 'm');
  await settle();
  assert.deepEqual(q.order, ['j'], 'handed to the runner');
  assert.deepEqual(events, [], 'but not started until the runner says so');
  assert.equal(q.queue.get('j')!.state, 'running');
  assert.equal(q.queue.get('j')!.startedAt, undefined);
  assert.equal(q.timers.pending.size, 0, 'no time limit while it waits for a worker');
  const remote = q.handed.get('j')!;
  remote.started();
  remote.started(); // a second call changes nothing
  assert.deepEqual(events, ['started:j']);
  assert.deepEqual(q.beforeStarted, ['j']);
  assert.equal(typeof q.queue.get('j')!.startedAt, 'number');
  remote.report('step 1');
  assert.equal(q.timers.fire(5000), 1);
  assert.equal(abortKind(remote.signal), 'timeout');
  remote.report('step 2'); // after the abort: not reported
  remote.reject(remote.signal.reason);
  assert.deepEqual(await r.done, { status: 'timed_out' });
  assert.deepEqual(events, ['started:j', 'progress:step 1']);
});

test('pooled: a job cancelled before its runner calls started() never emits started', async () => {
  const q = pooled({ capacity: { m: 1 } });
  const started: string[] = [];
  q.queue.on('started', (e) => started.push(e.job.id));
  const r = q.add('j', 'a', 'm');
  await settle();
  assert.equal(q.queue.cancel('j'), 'aborting');
  const remote = q.handed.get('j')!;
  remote.started();
  remote.resolve('finished anyway');
  assert.deepEqual(await r.done, { status: 'cancelled' });
  assert.deepEqual(started, []);
  assert.deepEqual(q.beforeStarted, []);
});

test('pooled: restored jobs the remote side holds are adopted at once, past the slots; the rest queue again', async () => {
  let answer!: (held: ReadonlySet<string>) => void;
  const asked: string[][] = [];
  const q = pooled({
    capacity: { m: 1 },
    paused: true,
    adopt: (jobs) => {
      asked.push(jobs.map((j) => j.id));
      return new Promise((resolve) => (answer = resolve));
    },
  });
  const receipts = q.queue.restore([
    { id: 'r1', userId: 'a', params: { n: 1, pool: 'm' }, createdAt: 1 },
    { id: 'r2', userId: 'b', params: { n: 2, pool: 'm' }, createdAt: 2 },
    { id: 'r3', userId: 'c', params: { n: 3, pool: 'm' }, createdAt: 3 },
  ]);
  assert.equal(receipts.length, 3);
  assert.deepEqual(asked, [], 'nothing is checked while paused');
  q.queue.resume();
  assert.deepEqual(asked, [['r1', 'r2', 'r3']]);
  q.add('n1', 'd', 'm');
  await settle();
  assert.deepEqual(q.order, [], 'nothing starts while the adoption check is out');
  answer(new Set(['r2', 'r3']));
  await settle();
  // r2 and r3 hold workers already, so they run although the pool has one slot; r1 and n1 wait for it.
  assert.deepEqual(q.order, ['r2', 'r3'], 'no slot left: the two adopted jobs fill more than the pool has');
  assert.equal(q.queue.position('r1'), 1);
  assert.equal(q.queue.position('n1'), 2);
  await q.finish('r2');
  assert.deepEqual(q.order, ['r2', 'r3'], 'still one running for one slot');
  await q.finish('r3');
  assert.deepEqual(q.order, ['r2', 'r3', 'r1']);
  q.queue.resume();
  assert.equal(asked.length, 1, 'each restored job is checked once');
});

test('pooled: when the adoption check fails the restored jobs simply queue again', async () => {
  const q = pooled({ capacity: { m: 1 }, adopt: () => Promise.reject(new Error('redis down')) });
  q.queue.restore([
    { id: 'r1', userId: 'a', params: { n: 1, pool: 'm' }, createdAt: 1 },
    { id: 'r2', userId: 'b', params: { n: 2, pool: 'm' }, createdAt: 2 },
  ]);
  await settle();
  assert.deepEqual(q.order, ['r1']);
  assert.equal(q.queue.position('r2'), 1);
});

test('pooled: drain interrupts running jobs in every pool and gives back the waiting ones', async () => {
  const q = pooled({ capacity: { m1: 1, m2: 1 } });
  q.add('a', 'u', 'm1');
  q.add('b', 'v', 'm2');
  q.add('c', 'w', 'm2');
  await settle();
  const drained = q.queue.drain(1000);
  await settle();
  assert.equal(q.timers.fire(1000), 1);
  const result = await drained;
  assert.deepEqual(result.interrupted.map((j) => j.id), ['a', 'b']);
  assert.deepEqual(result.waiting.map((j) => j.id), ['c']);
  for (const id of ['a', 'b']) assert.equal(abortKind(q.handed.get(id)!.signal), 'shutdown');
});
