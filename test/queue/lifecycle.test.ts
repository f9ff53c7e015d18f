import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DuplicateJobError,
  QueueClosedError,
  QueueFullError,
  QueueRefusal,
  UserLimitError,
  abortKind,
  type PositionChange,
} from '../../src/queue/index.ts';
import { harness, settle } from './harness.ts';

test('per-user limit counts queued + running jobs and frees up as jobs end', async () => {
  const h = harness({ concurrency: 1, maxPerUser: 2 });
  h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  h.queue.enqueue({ id: 'a2', userId: 'a', params: { n: 2 } });
  await settle();
  assert.equal(h.queue.pendingFor('a'), 2);
  assert.throws(
    () => h.queue.enqueue({ id: 'a3', userId: 'a', params: { n: 3 } }),
    (error: unknown) =>
      error instanceof UserLimitError && error instanceof QueueRefusal && error.code === 'user_limit' && error.limit === 2 &&
      /already have 2 jobs/.test(error.userMessage),
  );
  // Other users are not affected.
  h.queue.enqueue({ id: 'b1', userId: 'b', params: { n: 1 } });
  await h.finish('a1');
  h.queue.enqueue({ id: 'a3', userId: 'a', params: { n: 3 } });
  assert.equal(h.queue.cancel('a3'), 'removed');
  h.queue.enqueue({ id: 'a4', userId: 'a', params: { n: 4 } });
  assert.equal(h.queue.pendingFor('a'), 2);
});

test('maximum queue length refuses with a readable QueueFullError; a job that starts at once does not wait', async () => {
  const h = harness({ concurrency: 1, maxQueued: 2 });
  h.queue.enqueue({ id: 'j1', userId: 'a', params: { n: 1 } }); // starts
  h.queue.enqueue({ id: 'j2', userId: 'b', params: { n: 2 } });
  h.queue.enqueue({ id: 'j3', userId: 'c', params: { n: 3 } });
  assert.equal(h.queue.size, 2);
  assert.equal(h.queue.pending, 1);
  assert.throws(
    () => h.queue.enqueue({ id: 'j4', userId: 'd', params: { n: 4 } }),
    (error: unknown) => error instanceof QueueFullError && error.code === 'queue_full' && /queue is full/.test(error.userMessage),
  );
  assert.equal(h.queue.size, 2);
  await h.finish('j1');
  h.queue.enqueue({ id: 'j4', userId: 'd', params: { n: 4 } });
  assert.equal(h.queue.size, 2);
});

test('duplicate ids are refused; missing ids become UUIDs', () => {
  const h = harness({ paused: true });
  h.queue.enqueue({ id: 'x', userId: 'a', params: { n: 1 } });
  assert.throws(() => h.queue.enqueue({ id: 'x', userId: 'b', params: { n: 1 } }), DuplicateJobError);
  const receipt = h.queue.enqueue({ userId: 'a', params: { n: 2 }, guildId: 'g1' });
  assert.match(receipt.job.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(receipt.job.guildId, 'g1');
  assert.equal(receipt.job.attempt, 1);
  assert.equal(receipt.position, 2);
});

test('positions: one coalesced event per batch of changes, listing only jobs whose position changed', async () => {
  const h = harness({ concurrency: 1, paused: true });
  const events: { changes: PositionChange[]; waiting: number }[] = [];
  h.queue.on('positions', (e) => events.push(e));
  const queued: (number | undefined)[] = [];
  h.queue.on('queued', (e) => queued.push(e.position));

  h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  h.queue.enqueue({ id: 'a2', userId: 'a', params: { n: 2 } });
  h.queue.enqueue({ id: 'b1', userId: 'b', params: { n: 1 } });
  assert.equal(events.length, 0, 'not emitted synchronously');
  await settle();
  assert.equal(events.length, 1);
  assert.deepEqual(events[0], {
    changes: [
      { jobId: 'a1', userId: 'a', position: 1 },
      { jobId: 'b1', userId: 'b', position: 2 },
      { jobId: 'a2', userId: 'a', position: 3 },
    ],
    waiting: 3,
  });
  assert.deepEqual(queued, [1, 2, 2]);

  // Removing a1: a2 (earlier arrival, a never served) moves to 1, b1 stays at 2 and is not reported.
  h.queue.cancel('a1');
  await settle();
  assert.equal(events.length, 2);
  assert.deepEqual(events[1], { changes: [{ jobId: 'a2', userId: 'a', position: 1 }], waiting: 2 });

  // Starting a job moves everyone up, reported once.
  h.queue.resume();
  await settle();
  assert.equal(events.length, 3);
  assert.deepEqual(events[2], { changes: [{ jobId: 'b1', userId: 'b', position: 1 }], waiting: 1 });
  assert.equal(h.queue.position('a2'), undefined, 'running jobs have no position');
  assert.equal(h.queue.get('a2')?.state, 'running');
  assert.equal(h.queue.get('b1')?.position, 1);

  // A change that does not move anyone emits nothing.
  await h.finish('a2');
  h.queue.enqueue({ id: 'c1', userId: 'c', params: { n: 1 } });
  await settle();
  assert.deepEqual(events.at(-1), { changes: [{ jobId: 'c1', userId: 'c', position: 1 }], waiting: 1 });
});

test('cancelling a queued job removes it at once; the runner never sees it', async () => {
  const h = harness({ concurrency: 1 });
  const cancelled: { id: string; wasRunning: boolean }[] = [];
  h.queue.on('cancelled', (e) => cancelled.push({ id: e.job.id, wasRunning: e.wasRunning }));
  h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  const b1 = h.queue.enqueue({ id: 'b1', userId: 'b', params: { n: 1 } });
  assert.equal(h.queue.cancel('b1'), 'removed');
  assert.deepEqual(cancelled, [{ id: 'b1', wasRunning: false }]);
  assert.deepEqual(await b1.done, { status: 'cancelled' });
  assert.equal(h.queue.size, 0);
  assert.equal(h.queue.cancel('b1'), 'unknown');
  assert.equal(h.queue.cancel('nope'), 'unknown');
  await h.runAll();
  assert.deepEqual(h.started, ['a1']);
});

test('cancelling a running job aborts its signal; the slot frees only when the runner stops', async () => {
  const h = harness({ concurrency: 1 });
  const a1 = h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  h.queue.enqueue({ id: 'b1', userId: 'b', params: { n: 1 } });
  await settle();
  const control = h.controls.get('a1')!;
  let sawAbort = false;
  control.signal.addEventListener('abort', () => (sawAbort = true));
  assert.equal(h.queue.cancel('a1'), 'aborting');
  assert.equal(sawAbort, true);
  assert.equal(abortKind(control.signal), 'cancelled');
  assert.equal(h.queue.get('a1')?.aborting, true);
  assert.equal(h.queue.cancel('a1'), 'aborting', 'a second cancel is harmless');
  await settle();
  assert.deepEqual(h.started, ['a1'], 'b1 waits until a1 has really stopped');
  control.reject(control.signal.reason);
  assert.deepEqual(await a1.done, { status: 'cancelled' });
  await settle();
  assert.deepEqual(h.started, ['a1', 'b1']);
});

test('a runner that finishes despite the abort still ends cancelled (its result is discarded)', async () => {
  const h = harness();
  const completed: string[] = [];
  h.queue.on('completed', (e) => completed.push(e.job.id));
  const a1 = h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  await settle();
  h.queue.cancel('a1');
  await h.finish('a1');
  assert.deepEqual(await a1.done, { status: 'cancelled' });
  assert.deepEqual(completed, []);
});

test('a job over its time limit is aborted with reason timeout and ends timed_out', async () => {
  const h = harness({ concurrency: 1, timeoutMs: 5000 });
  const timedOut: { id: string; timeoutMs: number }[] = [];
  h.queue.on('timed_out', (e) => timedOut.push({ id: e.job.id, timeoutMs: e.timeoutMs }));
  const slow = h.queue.enqueue({ id: 'slow', userId: 'a', params: { n: 1 } });
  const quick = h.queue.enqueue({ id: 'quick', userId: 'b', params: { n: 1 }, timeoutMs: 700 });
  await settle();
  const control = h.controls.get('slow')!;
  control.signal.addEventListener('abort', () => control.reject(control.signal.reason));
  assert.equal(h.timers.fire(700), 0, 'the per-job override belongs to the waiting job only');
  assert.equal(h.timers.fire(5000), 1);
  assert.equal(abortKind(control.signal), 'timeout');
  assert.deepEqual(await slow.done, { status: 'timed_out' });
  assert.deepEqual(timedOut, [{ id: 'slow', timeoutMs: 5000 }]);
  await settle();
  assert.equal(h.timers.pending.size, 1);
  await h.finish('quick');
  assert.deepEqual(await quick.done, { status: 'completed', result: 'result quick' });
  assert.equal(h.timers.pending.size, 0, 'a finished job clears its timer');
});

test('concurrency 2 runs two jobs at once, never three', async () => {
  const h = harness({ concurrency: 2 });
  for (let i = 1; i <= 5; i++) h.queue.enqueue({ id: `j${i}`, userId: `u${i}`, params: { n: i } });
  await settle();
  assert.deepEqual(h.started, ['j1', 'j2']);
  assert.equal(h.queue.pending, 2);
  assert.equal(h.queue.size, 3);
  await h.finish('j2');
  assert.deepEqual(h.started, ['j1', 'j2', 'j3']);
  await h.runAll();
  assert.equal(h.maxActive(), 2);
  assert.equal(h.started.length, 5);
  await h.queue.onIdle();
});

test('lifecycle events, progress pass-through and failure', async () => {
  const h = harness();
  const log: string[] = [];
  for (const name of ['queued', 'started', 'completed', 'failed'] as const) h.queue.on(name, (e) => log.push(`${name}:${e.job.id}`));
  h.queue.on('progress', (e) => log.push(`progress:${e.jobId}:${e.progress}`));
  h.queue.enqueue({ id: 'ok', userId: 'a', params: { n: 1 } });
  const bad = h.queue.enqueue({ id: 'bad', userId: 'a', params: { n: 2 } });
  await settle();
  const ok = h.controls.get('ok')!;
  ok.report('step 1/2');
  ok.report('step 2/2');
  await h.finish('ok');
  ok.report('late'); // after the end: ignored
  const boom = new Error('out of memory');
  h.controls.get('bad')!.reject(boom);
  const outcome = await bad.done;
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.status === 'failed' && outcome.error, boom);
  assert.deepEqual(log, [
    'queued:ok',
    'queued:bad',
    'started:ok',
    'progress:ok:step 1/2',
    'progress:ok:step 2/2',
    'completed:ok',
    'started:bad',
    'failed:bad',
  ]);
});

test('a throwing listener does not break the queue', async () => {
  const errors: string[] = [];
  const h = harness({ onListenerError: (_error, event) => errors.push(event) });
  h.queue.on('started', () => {
    throw new Error('listener bug');
  });
  const job = h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  await settle();
  await h.finish('a1');
  assert.equal((await job.done).status, 'completed');
  assert.deepEqual(errors, ['started']);
});

test('pause stops starting jobs, resume starts them again', async () => {
  const h = harness({ concurrency: 1 });
  h.queue.pause();
  h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  await settle();
  assert.deepEqual(h.started, []);
  assert.equal(h.queue.isPaused, true);
  let idle = false;
  void h.queue.onIdle().then(() => (idle = true));
  h.queue.resume();
  await settle();
  assert.deepEqual(h.started, ['a1']);
  assert.equal(idle, false);
  await h.finish('a1');
  assert.equal(idle, true);
});

test('drain: running jobs finish in time, waiting ones are given back, new jobs are refused', async () => {
  const h = harness({ concurrency: 1 });
  h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  h.queue.enqueue({ id: 'a2', userId: 'a', params: { n: 2 } });
  h.queue.enqueue({ id: 'b1', userId: 'b', params: { n: 1 } });
  await settle();
  const drained = h.queue.drain(30_000);
  assert.throws(() => h.queue.enqueue({ id: 'c1', userId: 'c', params: { n: 1 } }), QueueClosedError);
  await h.finish('a1');
  const result = await drained;
  assert.equal(result.finished, true);
  assert.deepEqual(result.waiting.map((j) => j.id), ['b1', 'a2']);
  assert.deepEqual(result.interrupted, []);
  assert.deepEqual(h.started, ['a1'], 'nothing new starts while draining');
  assert.equal(h.timers.pending.size, 0);
});

test('drain: a running job past the grace time is aborted as shutdown and reported interrupted', async () => {
  const h = harness({ concurrency: 1 });
  const interrupted: string[] = [];
  h.queue.on('interrupted', (e) => interrupted.push(e.job.id));
  const a1 = h.queue.enqueue({ id: 'a1', userId: 'a', params: { n: 1 } });
  await settle();
  const drained = h.queue.drain(10_000);
  await settle();
  assert.equal(h.timers.fire(10_000), 1);
  const result = await drained;
  assert.equal(result.finished, false);
  assert.deepEqual(result.interrupted.map((j) => j.id), ['a1']);
  const control = h.controls.get('a1')!;
  assert.equal(abortKind(control.signal), 'shutdown');
  control.reject(control.signal.reason);
  assert.deepEqual(await a1.done, { status: 'interrupted' });
  assert.deepEqual(interrupted, ['a1']);
  await h.queue.onPendingZero();
});

test('restore re-enqueues persisted jobs in creation order, keeping ids and attempts, past the limits', async () => {
  const h = harness({ concurrency: 1, maxQueued: 1, maxPerUser: 1, paused: true });
  const restoredFlags: boolean[] = [];
  h.queue.on('queued', (e) => restoredFlags.push(e.restored));
  const receipts = h.queue.restore([
    { id: 'b1', userId: 'b', params: { n: 1 }, createdAt: 300 },
    { id: 'a1', userId: 'a', params: { n: 1 }, createdAt: 100, attempt: 2 },
    { id: 'a2', userId: 'a', params: { n: 2 }, createdAt: 200 },
    { id: 'a3', userId: 'a', params: { n: 3 }, createdAt: 200 },
  ]);
  assert.deepEqual(receipts.map((r) => r.job.id), ['a1', 'a2', 'a3', 'b1']);
  assert.equal(receipts[0]!.job.attempt, 2);
  assert.equal(receipts[0]!.job.createdAt, 100);
  assert.deepEqual(restoredFlags, [true, true, true, true]);
  assert.throws(() => h.queue.restore([{ id: 'a1', userId: 'a', params: { n: 1 } }]), DuplicateJobError);
  h.queue.resume();
  await h.runAll();
  assert.deepEqual(h.started, ['a1', 'b1', 'a2', 'a3']);
});
