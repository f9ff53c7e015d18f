import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairLanes } from '../../src/queue/index.ts';
import { harness, settle } from './harness.ts';

function enqueueMany(h: ReturnType<typeof harness>, user: string, count: number): string[] {
  const ids: string[] = [];
  for (let i = 1; i <= count; i++) {
    const id = `${user}${i}`;
    h.queue.enqueue({ id, userId: user, params: { n: i } });
    ids.push(id);
  }
  return ids;
}

test('a late user is not stuck behind another user\'s backlog: B runs 2nd and 4th', async () => {
  const h = harness({ concurrency: 1 });
  enqueueMany(h, 'a', 10);
  await settle();
  assert.deepEqual(h.started, ['a1']);
  enqueueMany(h, 'b', 2);
  assert.equal(h.queue.position('b1'), 1);
  assert.equal(h.queue.position('a2'), 2);
  assert.equal(h.queue.position('b2'), 3);
  await h.runAll();
  assert.deepEqual(h.started, ['a1', 'b1', 'a2', 'b2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10']);
  assert.equal(h.started.indexOf('b1') + 1, 2);
  assert.equal(h.started.indexOf('b2') + 1, 4);
});

test('three users are served round-robin, FIFO within each user', async () => {
  const h = harness({ concurrency: 1 });
  enqueueMany(h, 'a', 3);
  enqueueMany(h, 'b', 3);
  enqueueMany(h, 'c', 3);
  // The snapshot shows the order fairness will use.
  assert.deepEqual(
    h.queue.snapshot().waiting.map((v) => v.job.id),
    ['b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3'],
  );
  await h.runAll();
  assert.deepEqual(h.started, ['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3']);
});

test('the order seen in positions is the order jobs start in, also when users come and go', async () => {
  const h = harness({ concurrency: 1 });
  enqueueMany(h, 'a', 4);
  enqueueMany(h, 'b', 1);
  await settle();
  const predicted = h.queue.snapshot().waiting.map((v) => v.job.id);
  await h.finish('a1');
  // c arrives after b has been served once and a twice: c (never served) goes next.
  h.queue.enqueue({ id: 'c1', userId: 'c', params: { n: 1 } });
  assert.deepEqual(predicted, ['b1', 'a2', 'a3', 'a4']);
  assert.deepEqual(h.queue.snapshot().waiting.map((v) => v.job.id), ['c1', 'a2', 'a3', 'a4']);
  await h.runAll();
  assert.deepEqual(h.started, ['a1', 'b1', 'c1', 'a2', 'a3', 'a4']);
});

test('a higher priority job (a retry) goes first; fairness applies within a priority', async () => {
  const h = harness({ concurrency: 1, paused: true });
  enqueueMany(h, 'a', 2);
  enqueueMany(h, 'b', 1);
  h.queue.enqueue({ id: 'retry', userId: 'c', params: { n: 0 }, priority: 1, attempt: 2 });
  h.queue.enqueue({ id: 'a-urgent', userId: 'a', params: { n: 9 }, priority: 1 });
  // Priority 1 first (c never served, then a); a-urgent counts as a's turn, so b1 comes before a1.
  assert.deepEqual(h.queue.snapshot().waiting.map((v) => v.job.id), ['retry', 'a-urgent', 'b1', 'a1', 'a2']);
  h.queue.resume();
  await h.runAll();
  assert.deepEqual(h.started, ['retry', 'a-urgent', 'b1', 'a1', 'a2']);
});

test('FairLanes (p-queue\'s queue class): remove, forget, setPriority and dequeue keep order consistent', () => {
  const lanes = new FairLanes();
  const runs = new Map<() => Promise<unknown>, string>();
  const add = (id: string, userId: string, priority = 0) => {
    const run = () => Promise.resolve(id);
    runs.set(run, id);
    lanes.enqueue(run, { id, userId, priority });
  };
  const next = () => {
    const run = lanes.dequeue();
    return run && runs.get(run);
  };
  add('a1', 'a');
  add('a2', 'a');
  add('b1', 'b');
  assert.equal(next(), 'a1');
  assert.deepEqual(lanes.order().map((i) => i.id), ['b1', 'a2']);
  assert.equal(lanes.remove('b1'), true);
  assert.equal(lanes.remove('b1'), false);
  assert.deepEqual(lanes.order().map((i) => i.id), ['a2']);
  add('c1', 'c');
  assert.equal(lanes.position('c1'), 1);
  // forget() is ignored while the user still has waiting items.
  lanes.forget('a');
  assert.equal(lanes.position('c1'), 1);
  assert.throws(() => add('c1', 'c'));
  assert.throws(() => lanes.enqueue(() => Promise.resolve(), { id: 'x' }), /userId/);
  add('c2', 'c');
  lanes.setPriority('c2', 1);
  assert.deepEqual(lanes.order().map((i) => i.id), ['c2', 'a2', 'c1'], 'priority first, then fairness');
  assert.equal(lanes.filter({ priority: 1 }).length, 1);
  assert.equal(next(), 'c2');
  assert.equal(next(), 'a2');
  assert.equal(next(), 'c1');
  assert.equal(lanes.dequeue(), undefined);
  assert.equal(lanes.size, 0);
});
