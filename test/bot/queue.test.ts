// Several users queueing on one worker (QUEUE_CONCURRENCY=1): positions shown and kept current, fair order across
// users, the per-user limit, Cancel for waiting and running jobs, and interactions acknowledged quickly while a
// generation runs (inference is in the worker process, never on the bot's event loop).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './harness.ts';
import { bodyOf, contentOf, customIdStarting, ephemeralText, finalOf, responseMatching } from './helpers.ts';
import type { InteractionHandle, Json } from '../emulator/index.ts';

let h: Harness;
let bob: Json;
// A slow job: the test model at 512×512 takes a noticeable time per step; fast jobs are the default 64×64.
const SLOW = { width: 512, height: 512, steps: 20 };
const FAST = { steps: 4 };
// Age-restricted channel: results are never withheld by the test model's safety checker.
let channelId: string;

before(async () => {
  h = await startHarness({ env: { QUEUE_CONCURRENCY: '1', MAX_JOBS_PER_USER: '3', MAX_STEPS: '100' } });
  bob = h.emulator.addUser({ username: 'bob' });
  channelId = h.emulator.channels.nsfw.id;
});
after(async () => {
  await h?.close();
});

function imagine(prompt: string, options: Record<string, unknown>, user?: Json): InteractionHandle {
  return h.emulator.slashCommand({ name: 'imagine', options: { prompt, seed: 3, ...options }, user, channelId });
}

/** Waits until the job shows real progress (the worker is busy with it). */
function running(handle: InteractionHandle): Promise<unknown> {
  return responseMatching(handle, /step [1-9]\d*\/\d+/, 30_000);
}

function finishedAt(handle: InteractionHandle): number {
  const final = handle.responses.find((r) => r.status < 300 && r.files.some((f) => f.filename.endsWith('.png')));
  assert.ok(final, `job of interaction ${handle.id} finished`);
  return final.at;
}

test('positions are shown and kept current, the per-user limit holds, and users take turns', async () => {
  const a1 = imagine('a1', SLOW);
  await running(a1);
  const a2 = imagine('a2', FAST);
  assert.match(contentOf(await a2.deferred()), /position \*\*1\*\*/);
  const a3 = imagine('a3', FAST);
  assert.match(contentOf(await a3.deferred()), /position \*\*2\*\*/);

  // A fourth job from the same user is over MAX_JOBS_PER_USER (one running, two waiting): refused privately.
  const a4 = imagine('a4', FAST);
  const refusal = await a4.deferred();
  assert.equal(Number(bodyOf(refusal).flags) & 64, 64, 'ephemeral');
  assert.match(ephemeralText(a4), /3/);

  // Bob's one job goes ahead of the user who already has one running: round-robin, not first-come.
  const b1 = imagine('b1', FAST, bob);
  assert.match(contentOf(await b1.deferred()), /position \*\*1\*\*/);
  // The jobs behind it move down, and their messages say so.
  await h.emulator.waitFor(() => /position \*\*3\*\*/.test(String(a3.original()?.content ?? '')), 10_000, 'a3 shown at position 3');
  await h.emulator.waitFor(() => /position \*\*2\*\*/.test(String(a2.original()?.content ?? '')), 10_000, 'a2 shown at position 2');

  await Promise.all([a1, a2, a3, b1].map((handle) => finalOf(handle)));
  const order = [
    ['a1', finishedAt(a1)],
    ['a2', finishedAt(a2)],
    ['a3', finishedAt(a3)],
    ['b1', finishedAt(b1)],
  ]
    .sort((x, y) => Number(x[1]) - Number(y[1]))
    .map((x) => x[0]);
  assert.deepEqual(order, ['a1', 'b1', 'a2', 'a3']);
  assert.equal(Number(a4.original()?.flags ?? 64) & 64, 64, 'nothing public for the refused job');
});

test('interactions are acknowledged in under 1 s while a generation runs', async () => {
  const slow = imagine('slow', { ...SLOW, steps: 40 });
  await running(slow);
  for (const name of ['help', 'queue', 'status']) {
    const handle = h.emulator.slashCommand({ name, channelId });
    const ack = await handle.deferred();
    assert.ok(ack.latencyMs !== undefined && ack.latencyMs < 1000, `/${name} acknowledged in ${ack.latencyMs} ms`);
    if (name === 'queue') assert.match(contentOf(ack), /Running:\*\* 1/);
  }
  const queued = imagine('queued too', FAST, bob);
  const ack = await queued.deferred();
  assert.ok(ack.latencyMs! < 1000, `/imagine acknowledged in ${ack.latencyMs} ms`);
  // Still running: the acknowledgements did not wait for it.
  assert.equal(slow.responses.some((r) => r.files.some((f) => f.filename.endsWith('.png'))), false);
  h.emulator.clickButton({ message: slow.original()!, customId: customIdStarting(slow.original(), 'img:cancel:') });
  await responseMatching(slow, /Cancelled/);
  await finalOf(queued);
});

test('Cancel stops a waiting job (it never runs) and a running job (at its next step)', async () => {
  // Every step the worker reports for the long job, with the time: its pace tells when it would end on its own.
  const STEPS = 100;
  let total = STEPS;
  const steps: { step: number; at: number }[] = [];
  let longId: string | undefined;
  let stoppedAt: number | undefined;
  const onProgress = ({ jobId, progress }: { jobId: string; progress: { step: number; total: number } }) => {
    if (progress.total < STEPS) return;
    longId ??= jobId;
    total = progress.total; // the scheduler may add a warm-up step
    if (jobId === longId) steps.push({ step: progress.step, at: Date.now() });
  };
  // `cancelled` is emitted only when the worker has really stopped (the queue waits for the runner to settle).
  const onCancelled = ({ job }: { job: { id: string } }) => {
    if (job.id === longId) stoppedAt = Date.now();
  };
  h.bot.ctx.jobs.on('progress', onProgress);
  h.bot.ctx.jobs.on('cancelled', onCancelled);
  try {
    const runningJob = imagine('long one', { ...SLOW, steps: STEPS });
    await running(runningJob);
    const waiting = imagine('waiting one', FAST, bob);
    assert.match(contentOf(await waiting.deferred()), /position/);

    h.emulator.clickButton({ message: waiting.original()!, customId: customIdStarting(waiting.original(), 'img:cancel:'), user: bob });
    const cancelledWaiting = await responseMatching(waiting, /Cancelled/);
    assert.deepEqual(bodyOf(cancelledWaiting).components, [], 'no buttons left');

    // Someone else cannot cancel it.
    const intruder = h.emulator.clickButton({ message: runningJob.original()!, customId: customIdStarting(runningJob.original(), 'img:cancel:'), user: bob });
    await intruder.deferred();
    assert.match(ephemeralText(intruder), /Only the person/);

    // Cancel early, with most steps still to go, once the pace of a few steps is known.
    await h.emulator.waitFor(() => steps.length >= 4, 30_000, 'a few steps of the long job');
    const clickedAt = Date.now();
    const doneAtClick = steps.at(-1)!.step;
    const paces = steps.slice(1).map((s, i) => (s.at - steps[i]!.at) / Math.max(1, s.step - steps[i]!.step));
    const msPerStep = paces.sort((a, b) => a - b)[Math.floor(paces.length / 2)]!;
    h.emulator.clickButton({ message: runningJob.original()!, customId: customIdStarting(runningJob.original(), 'img:cancel:') });
    await responseMatching(runningJob, /Cancelled/);
    await h.emulator.waitFor(() => stoppedAt !== undefined, 60_000, 'the long job to stop');
    // Left alone it would have run `total - doneAtClick` more steps; a cancel that works stops it within a few.
    const remainingMs = (total - doneAtClick) * msPerStep;
    assert.ok(total - doneAtClick >= 20, `cancelled with most steps to go (at step ${doneAtClick}/${total})`);
    assert.ok(
      stoppedAt! - clickedAt < remainingMs / 2,
      `stopped ${stoppedAt! - clickedAt} ms after Cancel; the ${total - doneAtClick} steps left take about ${Math.round(remainingMs)} ms`,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(waiting.responses.some((r) => /step \d+\/\d+/.test(contentOf(r))), false, 'the cancelled waiting job never ran');
    assert.equal(runningJob.responses.some((r) => r.files.some((f) => f.filename.endsWith('.png'))), false, 'no result for the cancelled job');
    const last = runningJob.responses.filter((r) => r.kind === 'webhook' && r.status < 300).at(-1)!;
    assert.match(contentOf(last), /Cancelled/, 'nothing was sent after the cancel notice');
    assert.deepEqual(h.emulator.unknownRequests(), []);
  } finally {
    h.bot.ctx.jobs.off('progress', onProgress);
    h.bot.ctx.jobs.off('cancelled', onCancelled);
  }
});
