// Soak: 200 small jobs from 20 users in waves, about one in six cancelled at random (seeded). Every job must end
// delivered or cancelled, nothing may reject unhandled, the delivery layer's per-job state must drain to nothing, the
// heap after a full GC must stay within a bound, and memory outside the heap must level off from the first waves on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startHarness, type Harness } from '../bot/harness.ts';
import type { InteractionHandle, Json } from '../emulator/index.ts';
import { jobIdOf, readJobs, sleep } from './helpers.ts';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let h: Harness;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  h = await startHarness({ env: { MAX_QUEUE: '1000', MAX_JOBS_PER_USER: '100' } });
});
after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await h?.close();
});

/** A tiny seeded PRNG (mulberry32), so a failing run can be repeated. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function heapAfterGc(): Promise<{ heap: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  return { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage().rss };
}

const FINAL = new Set(['delivered', 'cancelled', 'failed', 'timed_out']);

test('200 jobs from 20 users with random cancels: all end delivered or cancelled; memory stays flat', { timeout: 240_000 }, async (t) => {
  const rand = random(20240607);
  const users: Json[] = Array.from({ length: 20 }, (_, i) => h.emulator.addUser({ username: `soak${i}` }));
  const channelId = h.emulator.channels.nsfw.id;
  const jobIds: string[] = [];
  let cancelClicks = 0;
  const perWave: { heap: number; rss: number }[] = [];

  for (let wave = 0; wave < 10; wave++) {
    const handles: { handle: InteractionHandle; user: Json }[] = users.map((user, i) => ({
      user,
      handle: h.emulator.slashCommand({ name: 'imagine', options: { prompt: `soak ${wave}-${i} ✨ مرحبا 猫`, seed: wave * 100 + i, steps: 1 + (i % 3), width: 64, height: 64 }, channelId, user }),
    }));
    const ids = await Promise.all(handles.map(({ handle }) => jobIdOf(handle, 20_000)));
    jobIds.push(...ids);
    for (const [i, { handle, user }] of handles.entries()) {
      if (rand() >= 1 / 6) continue;
      const message = handle.original() as { id: string; components?: { components: { custom_id: string }[] }[] } | undefined;
      const cancel = message?.components?.flatMap((row) => row.components).find((c) => c.custom_id === `img:cancel:${ids[i]}`);
      if (!message || !cancel) continue; // already finished
      try {
        h.emulator.clickButton({ message: message.id, customId: cancel.custom_id, user });
        cancelClicks++;
      } catch {
        // the message changed between the look and the click
      }
    }
    await h.emulator.waitFor(() => ids.every((id) => FINAL.has(h.bot.ctx.jobs.get(id)?.state ?? '')), 60_000, `wave ${wave} to finish`);
    // Memory after each wave from the third on (the first waves warm up caches, pools and the JIT).
    if (wave >= 2) perWave.push(await heapAfterGc());
  }
  await sleep(500);
  const end = await heapAfterGc();
  const baseline = perWave[0]!;
  const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
  t.diagnostic(`cancel clicks ${cancelClicks}; per wave heap ${perWave.map((m) => mb(m.heap)).join(' ')} MB; rss ${perWave.map((m) => mb(m.rss)).join(' ')} MB`);
  assert.equal(jobIds.length, 200);
  const rows = readJobs(h.dataDir).filter((row) => jobIds.includes(row.id));
  const states = rows.reduce<Record<string, number>>((acc, row) => ({ ...acc, [row.state]: (acc[row.state] ?? 0) + 1 }), {});
  assert.equal(rows.length, 200);
  assert.deepEqual(Object.keys(states).filter((s) => s !== 'delivered' && s !== 'cancelled'), [], `states: ${JSON.stringify(states)}`);
  assert.ok((states.delivered ?? 0) > 100, `most delivered: ${JSON.stringify(states)}`);
  t.diagnostic(`states ${JSON.stringify(states)}`);
  assert.ok(cancelClicks > 0 && (states.cancelled ?? 0) > 0, 'some jobs were cancelled');
  assert.ok((states.cancelled ?? 0) <= cancelClicks, 'only clicked jobs were cancelled');
  assert.deepEqual(unhandled, [], 'no unhandled rejections');

  // Per-job bookkeeping drains: nothing left for jobs that are over.
  const delivery = h.bot.ctx.delivery as unknown as { messages: Map<string, unknown>; gates: Map<string, unknown>; notes: Map<string, unknown>; inflight: Set<unknown>; reporter: { size: number } };
  assert.equal(delivery.messages.size, 0, 'job messages forgotten');
  assert.equal(delivery.gates.size, 0, 'gates released');
  assert.equal(delivery.notes.size, 0, 'notes forgotten');
  assert.equal(delivery.reporter.size, 0, 'progress slots forgotten');
  assert.equal(h.bot.ctx.jobs.queue.size + h.bot.ctx.jobs.queue.pending, 0, 'queue empty');

  // Flat memory: 140 more jobs after the baseline may not grow the heap by more than a generous margin (the emulator
  // in this process keeps every request and response, about 30 KB a job, so the heap grows a little by design).
  const growth = end.heap - baseline.heap;
  assert.ok(growth < 24 * 1024 * 1024, `heap grew ${mb(growth)} MB (${mb(baseline.heap)} -> ${mb(end.heap)} MB)`);
  // Memory outside the JS heap (native image buffers, IPC) levels off: over the last three waves (60 jobs) it
  // averages within 5% of the process's resident size of the first three measured waves. A native buffer leaked per
  // job climbs wave after wave (300 KB a job fails this); the heap's own growth is bounded above.
  const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
  const outsideHeap = perWave.map((m) => m.rss - m.heap);
  const early = mean(outsideHeap.slice(0, 3));
  const late = mean(outsideHeap.slice(-3));
  const allowed = 0.05 * mean(perWave.slice(0, 3).map((m) => m.rss));
  assert.ok(late - early < allowed, `memory outside the heap climbed from ${mb(early)} MB to ${mb(late)} MB (allowed: +${mb(allowed)} MB)`);
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
