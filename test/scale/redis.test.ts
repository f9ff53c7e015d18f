// QUEUE_BACKEND=redis end to end: the real bot on the Discord emulator, a real redis-server, and two real worker
// processes (`npm run worker`) on the tiny test model. Jobs spread over both workers; fairness between users holds
// across workers; waiting and running jobs can be cancelled; a worker killed mid-job loses nothing: its job
// finishes on the other worker and is delivered once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startHarness, type Harness } from '../bot/harness.ts';
import { contentOf, customIdStarting, finalOf, pngsOf } from '../bot/helpers.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import type { InteractionHandle, Json } from '../emulator/index.ts';
import { redisSkipReason, startRedisServer, type RedisServer } from './redisServer.ts';
import { spawnWorker, waitForWorkers, type WorkerProcess } from './workers.ts';
import { JobRecorder, jobsDoneBy, jobsStartedBy } from './recorder.ts';

const skip = redisSkipReason();
if (skip) console.log(`# skipping the Redis scale-out tests: ${skip}`);

let redis: RedisServer;
let workers: WorkerProcess[] = [];
let h: Harness;
let rec: JobRecorder;

before(async () => {
  if (skip) return;
  redis = await startRedisServer();
  const modelDir = join(await ensureTestModels(), 'tiny-sd15');
  // A short lock: a killed worker's job is noticed within a few seconds (production default: 30 s).
  workers = ['w1', 'w2'].map((name) => spawnWorker(name, { REDIS_URL: redis.url, MODEL_DIR: modelDir, WORKER_LOCK_SECONDS: '2' }));
  const [harness] = await Promise.all([
    startHarness({ env: { QUEUE_BACKEND: 'redis', REDIS_URL: redis.url, MAX_JOBS_PER_USER: '4' } }),
    waitForWorkers(redis.url, ['w1', 'w2']),
  ]);
  h = harness;
  rec = new JobRecorder(h.bot.ctx.jobs);
});

after(async () => {
  await h?.close();
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
});

function imagine(user: Json, options: Record<string, unknown>): InteractionHandle {
  return h.emulator.slashCommand({ name: 'imagine', options: { seed: 7, steps: 10, width: 256, height: 256, ...options }, user });
}

/** Responses that carried the result PNGs (a correct delivery has exactly one). */
function deliveries(handle: InteractionHandle) {
  return handle.responses.filter((r) => r.status < 300 && pngsOf(r).length > 0);
}

/** Waits until the job's row says its result reached Discord (images or a "withheld" notice). */
function delivered(jobId: string, timeoutMs = 60_000) {
  return rec.waitFor(() => h.bot.ctx.jobs.get(jobId)?.state === 'delivered', timeoutMs, `delivery of ${jobId}`);
}

function workerOf(jobId: string): WorkerProcess | undefined {
  return workers.find((w) => jobsStartedBy(w.output()).includes(jobId));
}

test('jobs spread over both workers and each is delivered once', { skip }, async () => {
  const users = ['ann', 'ben', 'cat', 'dan'].map((username) => h.emulator.addUser({ username }));
  const handles = users.map((user, i) => imagine(user, { prompt: `spread ${i}`, seed: i }));
  const ids = await Promise.all(handles.map((handle) => rec.jobIdOf(handle.token)));
  await Promise.all(handles.map((handle) => finalOf(handle)));
  for (const [i, handle] of handles.entries()) assert.equal(deliveries(handle).length, 1, `job ${i} delivered once`);
  const ran = workers.map((w) => jobsDoneBy(w.output()).filter((id) => ids.includes(id)).length);
  assert.deepEqual(ran.reduce((a, b) => a + b, 0), 4, 'each job ran exactly once');
  assert.ok(ran.every((n) => n > 0), `both workers ran jobs: ${ran.join(' + ')}`);
});

test('fairness holds across workers: a user who queues after a backlog is not last', { skip }, async () => {
  const alice = h.emulator.addUser({ username: 'alice' });
  const bob = h.emulator.addUser({ username: 'bob' });
  const mine: InteractionHandle[] = [];
  for (let i = 0; i < 4; i++) {
    const handle = imagine(alice, { prompt: `backlog ${i}`, steps: 30, seed: 10 + i });
    await handle.deferred();
    mine.push(handle);
  }
  const late = imagine(bob, { prompt: 'late but fair', steps: 30 });
  const bobFirst = await late.deferred();
  // Two of Alice's jobs hold both workers; Bob waits at the head of the line, ahead of her other two.
  assert.match(contentOf(bobFirst), /position \*\*1\*\*/);
  const aliceIds = await Promise.all(mine.map((handle) => rec.jobIdOf(handle.token)));
  const bobId = await rec.jobIdOf(late.token);
  // Delivered, not necessarily with a PNG: the tiny model's safety checker withholds some seeds.
  await Promise.all([...aliceIds, bobId].map((id) => delivered(id)));
  const order = rec.startOrder().filter((id) => id === bobId || aliceIds.includes(id));
  assert.equal(order.length, 5);
  assert.ok(order.indexOf(bobId) < order.indexOf(aliceIds[2]!), `Bob starts before Alice's third job: ${order.map((id) => (id === bobId ? 'B' : `A${aliceIds.indexOf(id) + 1}`)).join(' ')}`);
  assert.notEqual(order.at(-1), bobId);
});

test('cancel: a waiting job never runs, a running job stops on its worker', { skip }, async () => {
  const [carl, dora, erin] = ['carl', 'dora', 'erin'].map((username) => h.emulator.addUser({ username }));
  const slowA = imagine(carl!, { prompt: 'slow one', width: 512, height: 512, steps: 20 });
  const slowB = imagine(dora!, { prompt: 'slow two', width: 512, height: 512, steps: 20 });
  const [idA, idB] = await Promise.all([rec.jobIdOf(slowA.token), rec.jobIdOf(slowB.token)]);
  await Promise.all([rec.waitEvent('progress', idA), rec.waitEvent('progress', idB)]);
  const waiting = imagine(erin!, { prompt: 'never mind' });
  assert.match(contentOf(await waiting.deferred()), /position \*\*1\*\*/);
  const waitingId = await rec.jobIdOf(waiting.token);

  const queued = await waiting.waitFor((r) => r.status < 300 && /img:cancel:/.test(JSON.stringify(r.body ?? {})), 10_000, 'the Cancel button');
  assert.ok(queued);
  h.emulator.clickButton({ message: waiting.original()!, customId: customIdStarting(waiting.original(), 'img:cancel:'), user: erin });
  await rec.waitEvent('cancelled', waitingId, 10_000);

  h.emulator.clickButton({ message: slowA.original()!, customId: customIdStarting(slowA.original(), 'img:cancel:'), user: carl });
  await rec.waitEvent('cancelled', idA, 30_000);
  await finalOf(slowB);
  const runner = workerOf(idA);
  assert.ok(runner, 'a worker started the running job');
  assert.match(runner.output(), new RegExp(`"jobId":"${idA}"[^\\n]*"msg":"job cancelled"`), 'the worker stopped it');
  assert.equal(rec.count('started', waitingId), 0, 'the waiting job never started');
  assert.ok(workers.every((w) => !jobsStartedBy(w.output()).includes(waitingId)), 'no worker saw the waiting job');
  assert.equal(deliveries(slowA).length, 0, 'nothing delivered for the cancelled job');
  assert.equal(rec.count('succeeded', idA), 0);
});

test('a worker killed mid-job: the other worker finishes it and it is delivered once', { skip }, async () => {
  const fay = h.emulator.addUser({ username: 'fay' });
  const handle = imagine(fay, { prompt: 'survives a crash', width: 512, height: 512, steps: 20, seed: 99 });
  const id = await rec.jobIdOf(handle.token);
  await rec.waitEvent('progress', id, 30_000);
  const victim = await rec.waitFor(() => workerOf(id), 10_000, 'the worker running the job');
  victim.child.kill('SIGKILL');
  await victim.exited;
  const final = await finalOf(handle, 60_000);
  assert.match(contentOf(final) + JSON.stringify(final.body ?? ''), /survives a crash|Seed/);
  const survivor = workers.find((w) => w !== victim)!;
  assert.ok(jobsDoneBy(survivor.output()).includes(id), `${survivor.name} finished the job`);
  assert.equal(deliveries(handle).length, 1, 'delivered once');
  assert.equal(rec.count('succeeded', id), 1, 'succeeded once');
  assert.equal(rec.count('failed', id), 0, 'never failed: the stall was handled below the bot');
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
