// SIGTERM while a job runs: the bot stops taking work, gives the running job the grace period, persists, closes the
// gateway and exits 0. A job that fits in the grace period is delivered before the exit; one that does not is run
// again by the next start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBotProcesses, type BotProcess } from './botProcess.ts';
import { jobIdOf, readJobs, resultMessages, saidTo } from './helpers.ts';

const rig = useBotProcesses();

async function sigterm(bot: BotProcess): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  bot.child.kill('SIGTERM');
  const { code } = await bot.exited;
  return { code, ms: Date.now() - started };
}

test('SIGTERM, job longer than the grace period: exits 0 within it, gateway closed; the next start resumes and delivers it', async () => {
  const dataDir = await rig.newDataDir();
  const channelId = rig.emulator.channels.nsfw.id;
  let bot = await rig.boot(dataDir, { SHUTDOWN_GRACE_SECONDS: '2' });
  await rig.emulator.waitForCommands(String(rig.emulator.guild.id));
  const handle = rig.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a harbour at night', width: 512, height: 512, steps: 50, seed: 5 }, channelId });
  const jobId = await jobIdOf(handle);
  await handle.waitFor((r) => /step [1-9]\d*\//.test(JSON.stringify(r.body ?? '')), 60_000, 'a progress edit');
  const { code, ms } = await sigterm(bot);
  assert.equal(code, 0, `exit code (stderr: ${bot.stderr().slice(-500)})`);
  // grace 2 s + worker dispose + settling deliveries: well under the 10 s a process manager usually waits
  assert.ok(ms < 10_000, `stopped in ${ms} ms`);
  const lines = bot.logs().map((l) => l.msg);
  assert.ok(lines.includes('shutting down') && lines.includes('stopped'), 'a graceful stop, logged');
  await rig.emulator.waitFor(() => !rig.emulator.gatewayStats.connected || undefined, 5000, 'the gateway connection to close');
  assert.equal(readJobs(dataDir).find((j) => j.id === jobId)?.state, 'running', 'left for the next start (requeued there)');

  bot = await rig.boot(dataDir);
  await handle.waitFor((r) => (r.status ?? 0) < 300 && r.files.some((f) => f.filename.endsWith('.png')), 120_000, 'the result');
  await rig.emulator.waitFor(() => readJobs(dataDir).find((j) => j.id === jobId)?.state === 'delivered', 10_000, 'delivered');
  assert.equal(resultMessages(rig.emulator, channelId, jobId).length, 1);
  assert.match(saidTo(handle), /resumed/);
  const { code: second } = await sigterm(bot);
  assert.equal(second, 0);
});

test('SIGTERM, job shorter than the grace period: the job finishes and is delivered before the process exits', async () => {
  const dataDir = await rig.newDataDir();
  const channelId = rig.emulator.channels.nsfw.id;
  const bot = await rig.boot(dataDir, { SHUTDOWN_GRACE_SECONDS: '60' });
  const handle = rig.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a short job', width: 512, height: 512, steps: 12, seed: 9 }, channelId });
  const jobId = await jobIdOf(handle);
  await handle.waitFor((r) => /step [1-9]\d*\//.test(JSON.stringify(r.body ?? '')), 60_000, 'a progress edit');
  const { code } = await sigterm(bot);
  assert.equal(code, 0);
  assert.equal(readJobs(dataDir).find((j) => j.id === jobId)?.state, 'delivered', 'finished and delivered before the exit');
  assert.equal(resultMessages(rig.emulator, channelId, jobId).length, 1);
  assert.deepEqual(rig.emulator.unknownRequests(), []);
});
