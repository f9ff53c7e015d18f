// Faults around a running bot (in-process harness, real worker): the inference process dies, Discord answers with
// 429s, 500s and slow responses, the gateway drops, the job's message is deleted, the channel refuses the bot.
// Every job still reaches its user, and the bot keeps going.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../bot/harness.ts';
import { InferenceEngine } from '../../src/jobs/inferenceEngine.ts';
import { ModelPool } from '../../src/jobs/modelPool.ts';
import type { InteractionHandle, RecordedRequest } from '../emulator/index.ts';
import { jobIdOf, resultMessages, saidTo, sleep } from './helpers.ts';

let h: Harness;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  h = await startHarness();
});
after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await h?.close();
});

const isPng = (r: { files: { filename: string }[] }) => r.files.some((f) => f.filename.endsWith('.png'));
const isWebhookEdit = (r: RecordedRequest) => r.method === 'PATCH' && (r.route ?? '').startsWith('/webhooks/');
const nsfw = () => h.emulator.channels.nsfw.id; // age-restricted: results are never withheld by the safety checker

function imagine(prompt: string, options: Record<string, unknown> = {}, channelId = nsfw()): InteractionHandle {
  return h.emulator.slashCommand({ name: 'imagine', options: { prompt, seed: 11, ...options }, channelId });
}

function delivered(handle: InteractionHandle, timeoutMs = 60_000) {
  return handle.waitFor((r) => (r.status ?? 0) < 300 && isPng(r), timeoutMs, 'the result');
}

test('the inference worker is killed mid-job: the bot survives, the user is told, the job is retried and delivered; the next job works', async () => {
  // Local mode serves models through a ModelPool; the default model is loaded at start, in its own process.
  const pool = h.bot.ctx.jobs.engine;
  assert.ok(pool instanceof ModelPool, 'local mode runs a ModelPool');
  const engine = pool.loadedEngine();
  assert.ok(engine instanceof InferenceEngine, 'the default model is loaded in an inference process');
  const firstPid = engine.pid;
  assert.ok(firstPid, 'a worker is running');
  const handle = imagine('a windmill in a storm', { width: 256, height: 256, steps: 40 });
  const jobId = await jobIdOf(handle);
  await handle.waitFor((r) => /step [1-9]\d*\//.test(JSON.stringify(r.body ?? '')), 30_000, 'a progress edit');
  engine.killWorker();
  await delivered(handle);
  await h.emulator.waitFor(() => h.bot.ctx.jobs.get(jobId)?.state === 'delivered', 10_000, 'the job to be marked delivered');
  assert.match(saidTo(handle), /crashed.*Trying once more/, 'the user was told about the crash and the retry');
  const row = h.bot.ctx.jobs.get(jobId)!;
  assert.equal(row.state, 'delivered');
  assert.equal(row.attempts, 2);
  assert.notEqual(engine.pid, firstPid, 'a new worker process');
  const next = imagine('a quiet meadow');
  await delivered(next);
  assert.equal(resultMessages(h.emulator, nsfw(), jobId).length, 1);
});

test('429s, 500s and slow answers on the edit and upload routes: jobs are delivered, and no progress edit lands after the result', async () => {
  const { faults } = h.emulator;
  const isUpload = (r: RecordedRequest) => isWebhookEdit(r) && isPng(r);
  const isProgress = (r: RecordedRequest) => isWebhookEdit(r) && !isPng(r);
  // The first upload fails more often than discord.js retries (1 + 3): the delivery's own retry must take over; the
  // one after that is slow. Progress edits meet 429s (retry_after respected by discord.js), 500s and slow answers.
  const uploadDown = faults.add({ match: isUpload, status: 502, times: 4 });
  const uploadSlow = faults.add({ match: isUpload, delayMs: 1500, times: 1 });
  const limited = faults.add({ match: isProgress, status: 429, retryAfter: 0.3, times: 3 });
  const broken = faults.add({ match: isProgress, status: 500, times: 2 });
  const slow = faults.add({ match: isProgress, delayMs: 1200, times: 2 });
  const handles = [imagine('a tram in the rain', { width: 512, height: 512, steps: 30 }), imagine('a fox in snow', { width: 128, height: 128, steps: 12 })];
  const ids = await Promise.all(handles.map((handle) => jobIdOf(handle)));
  for (const handle of handles) await delivered(handle, 90_000);
  await h.emulator.waitFor(() => ids.every((id) => h.bot.ctx.jobs.get(id)?.state === 'delivered'), 10_000, 'both jobs marked delivered');
  for (const fault of [uploadDown, uploadSlow, limited, broken, slow]) assert.equal(fault.hits, fault.times, 'every fault was hit');
  await sleep(800); // a stale progress edit would arrive now
  for (const [i, handle] of handles.entries()) {
    const ok = handle.responses.filter((r) => r.kind === 'webhook' && (r.status ?? 0) < 300);
    const finalAt = ok.findIndex(isPng);
    const after = ok.slice(finalAt + 1).filter((r) => /step \d+\//.test(JSON.stringify(r.body ?? '')));
    assert.deepEqual(after, [], 'no progress edit after the result');
    const original = handle.original() as { embeds?: { footer?: { text?: string } }[] };
    assert.equal(original.embeds?.[0]?.footer?.text, `job ${ids[i]}`, 'the message shows the result');
    assert.equal(h.bot.ctx.jobs.get(ids[i]!)!.state, 'delivered');
  }
});

test('the gateway drops mid-job: the bot resumes, delivers, and takes new commands', async () => {
  const resumesBefore = h.emulator.gatewayStats.resumes;
  const handle = imagine('a paper lantern', { width: 512, height: 512, steps: 24 });
  await handle.waitFor((r) => /step [1-9]\d*\//.test(JSON.stringify(r.body ?? '')), 30_000, 'a progress edit');
  h.emulator.disconnectGateway();
  await delivered(handle);
  await h.emulator.waitFor(() => h.emulator.gatewayStats.resumes > resumesBefore && h.emulator.gatewayStats.connected, 15_000, 'the session to resume');
  await delivered(imagine('after the resume'));
});

test('the job message is deleted under us: the result is posted as a new message', async () => {
  const handle = imagine('a glass of water', { width: 512, height: 512, steps: 24 });
  const jobId = await jobIdOf(handle);
  await handle.waitFor((r) => /step [1-9]\d*\//.test(JSON.stringify(r.body ?? '')), 30_000, 'a progress edit');
  const app = h.emulator.application.id as string;
  const res = await fetch(`${h.emulator.apiUrl}/v10/webhooks/${app}/${handle.token}/messages/@original`, { method: 'DELETE' });
  assert.equal(res.status, 204, 'the original response was deleted');
  await h.emulator.waitFor(() => h.bot.ctx.jobs.get(jobId)?.state === 'delivered', 60_000, 'the job to be delivered');
  const posted = resultMessages(h.emulator, nsfw(), jobId);
  assert.equal(posted.length, 1, 'one new result message');
  assert.ok((posted[0]!.attachments as unknown[]).length > 0, 'with the image');
  assert.equal(posted[0]!.message_reference, undefined, 'not a reply to the deleted message');
});

test('no permission to post in the channel (token expired first): a clear log line, and the user is told by DM', async () => {
  const warnings: string[] = [];
  const log = h.bot.ctx.log;
  const original = log.warn.bind(log);
  log.warn = ((fields: unknown, message?: string) => {
    warnings.push(`${message ?? ''} ${JSON.stringify(fields)}`);
    return original(fields as object, message);
  }) as typeof log.warn;
  try {
    const channelId = h.emulator.channels.readonly.id;
    // Hold the job in the queue until the interaction token is dead, so the result must go through the channel.
    const blocker = imagine('a slow blocker', { width: 256, height: 256, steps: 30 });
    const handle = imagine('a locked door', {}, channelId);
    const jobId = await jobIdOf(handle);
    h.emulator.expireInteractionTokens();
    h.emulator.advanceTime(16 * 60_000);
    await h.emulator.waitFor(() => h.bot.ctx.jobs.get(jobId)?.state === 'failed', 60_000, 'the delivery to be given up');
    assert.match(h.bot.ctx.jobs.get(jobId)!.error ?? '', /delivery/);
    assert.ok(warnings.some((w) => /lacks permission in this channel/.test(w) && w.includes(jobId)), `a clear log line: ${warnings.join('\n')}`);
    const dm = await h.emulator.waitFor(() => h.emulator.requests.find((r) => r.method === 'POST' && r.route === '/channels/:channelId/messages' && /missing permissions/.test(JSON.stringify(r.body)) && r.status !== undefined), 10_000, 'a DM to the user');
    assert.equal(dm.status, 200);
    assert.notEqual(dm.params.channelId, channelId, 'in a DM, not the refused channel');
    void blocker;
  } finally {
    log.warn = original;
  }
  assert.deepEqual(unhandled, [], 'no unhandled rejections');
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
