// Loaded-model preference: among equally fair choices a warm job (its model loaded) goes first; fairness between
// users is never traded for it. Tested on FairLanes directly, the order p-queue will take jobs in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FairLanes } from '../../src/queue/index.ts';

/** Enqueues jobs `id:model`, warm while `loaded` holds their model. */
function lanesWith(loaded: Set<string>, jobs: [user: string, id: string, model: string][]): FairLanes {
  const lanes = new FairLanes();
  for (const [userId, id, model] of jobs) lanes.enqueue(async () => id, { id, userId, warm: () => loaded.has(model) });
  return lanes;
}

const order = (lanes: FairLanes) => lanes.order().map((item) => item.id);

async function drain(lanes: FairLanes): Promise<string[]> {
  const out: string[] = [];
  for (let run = lanes.dequeue(); run; run = lanes.dequeue()) out.push((await run()) as string);
  return out;
}

test('one user: jobs for the loaded model go before that user\'s jobs for another model', async () => {
  const loaded = new Set(['sd']);
  const lanes = lanesWith(loaded, [['a', 'a1', 'xl'], ['a', 'a2', 'sd'], ['a', 'a3', 'xl'], ['a', 'a4', 'sd']]);
  assert.deepEqual(order(lanes), ['a2', 'a4', 'a1', 'a3']);
  assert.deepEqual(await drain(lanes), ['a2', 'a4', 'a1', 'a3']);
});

test('equally fair users: the one whose job is warm goes first; without warmth, arrival decides', async () => {
  const loaded = new Set(['sd']);
  assert.deepEqual(order(lanesWith(loaded, [['a', 'a1', 'xl'], ['b', 'b1', 'sd']])), ['b1', 'a1']);
  assert.deepEqual(order(lanesWith(new Set(), [['a', 'a1', 'xl'], ['b', 'b1', 'sd']])), ['a1', 'b1']);
});

test('fairness first: a user whose turn it is runs a cold job before another user\'s warm backlog', async () => {
  const loaded = new Set(['sd']);
  const lanes = lanesWith(loaded, [['a', 'a1', 'sd'], ['a', 'a2', 'sd'], ['a', 'a3', 'sd']]);
  assert.equal(await lanes.dequeue()!(), 'a1'); // a has been served
  lanes.enqueue(async () => 'b1', { id: 'b1', userId: 'b', warm: () => loaded.has('xl') });
  assert.deepEqual(order(lanes), ['b1', 'a2', 'a3']);
  assert.deepEqual(await drain(lanes), ['b1', 'a2', 'a3']);
});

test('warmth is asked at each choice: loading a model changes what goes next', async () => {
  const loaded = new Set<string>();
  const lanes = lanesWith(loaded, [['a', 'a1', 'xl'], ['a', 'a2', 'sd']]);
  assert.deepEqual(order(lanes), ['a1', 'a2']);
  loaded.add('sd');
  lanes.enqueue(async () => 'a3', { id: 'a3', userId: 'a', warm: () => loaded.has('xl') }); // any change re-orders
  assert.equal(await lanes.dequeue()!(), 'a2');
});
