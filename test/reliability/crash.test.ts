// The bot process dies (SIGKILL: no chance to clean up) in the middle of a job, or after Discord got the result but
// before the bot recorded that. Started again on the same data folder, every job is delivered exactly once and its
// user is told that the job was resumed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { killHard, useBotProcesses } from './botProcess.ts';
import { jobIdOf, readJobs, resultMessages, resultUploads, saidTo, sleep } from './helpers.ts';

const rig = useBotProcesses();

test('SIGKILL in the middle of a job: after a restart the job runs again, is delivered once, and the user is told', async () => {
  const dataDir = await rig.newDataDir();
  const channelId = rig.emulator.channels.nsfw.id; // age-restricted: the safety checker's verdict never withholds the image
  let bot = await rig.boot(dataDir);
  await rig.emulator.waitForCommands(String(rig.emulator.guild.id));
  // 512x512 and 40 steps takes the tiny model several seconds: long enough to kill it half-way.
  const handle = rig.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a lighthouse at dusk', width: 512, height: 512, steps: 40, seed: 7 }, channelId });
  const jobId = await jobIdOf(handle);
  await handle.waitFor((r) => /step [1-9]\d*\//.test(JSON.stringify(r.body ?? '')), 60_000, 'a progress edit');
  await killHard(bot);
  assert.equal(readJobs(dataDir).find((j) => j.id === jobId)?.state, 'running', 'the job was running when the process died');
  assert.equal(resultMessages(rig.emulator, channelId, jobId).length, 0);

  bot = await rig.boot(dataDir);
  await handle.waitFor((r) => r.status < 300 && r.files.some((f) => f.filename.endsWith('.png')), 90_000, 'the result upload');
  await rig.emulator.waitFor(() => readJobs(dataDir).find((j) => j.id === jobId)?.state === 'delivered', 10_000, 'the job to be marked delivered');
  await sleep(1000); // room for a duplicate to show up, if there were one
  assert.equal(resultMessages(rig.emulator, channelId, jobId).length, 1, 'exactly one result message');
  assert.equal(resultUploads(rig.emulator, jobId).length, 1, 'the images were uploaded once');
  assert.match(saidTo(handle), /restarted; your job was resumed/, 'the user was told the job was resumed');
  const row = readJobs(dataDir).find((j) => j.id === jobId)!;
  assert.equal(row.attempts, 2, 'ran once before the crash and once after');
  assert.ok(bot.logs().some((l) => l.jobId === jobId), 'the restarted bot logs the job id');
  await killHard(bot);
});

test('SIGKILL after Discord got the result but before it was recorded: not posted again, even through the channel fallback', async () => {
  const dataDir = await rig.newDataDir();
  const channelId = rig.emulator.channels.nsfw.id;
  let bot = await rig.boot(dataDir);
  // Hold the result upload for 3 s: the bot is killed while it waits, then the rig.emulator completes the edit anyway.
  const fault = rig.emulator.faults.add({ match: (r) => r.files.some((f) => f.filename.endsWith('.png')), delayMs: 3000 });
  const handle = rig.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a red boat', seed: 3 }, channelId });
  const jobId = await jobIdOf(handle);
  await rig.emulator.waitFor(() => fault.hits > 0, 60_000, 'the result upload to start');
  await killHard(bot);
  await rig.emulator.waitFor(() => resultMessages(rig.emulator, channelId, jobId).length === 1, 10_000, 'Discord to have the result');
  assert.equal(readJobs(dataDir).find((j) => j.id === jobId)?.state, 'succeeded', 'the bot died before recording the delivery');
  // The interaction token is gone by the time the bot is back: a naive redelivery would post a second, new message.
  rig.emulator.expireInteractionTokens();

  bot = await rig.boot(dataDir);
  await rig.emulator.waitFor(() => readJobs(dataDir).find((j) => j.id === jobId)?.state === 'delivered', 30_000, 'the job to be marked delivered');
  await sleep(500);
  assert.equal(resultMessages(rig.emulator, channelId, jobId).length, 1, 'still exactly one result message');
  assert.equal(resultUploads(rig.emulator, jobId).length, 1, 'uploaded once');
  assert.ok(bot.logs().some((l) => l.jobId === jobId && /already posted/.test(l.msg ?? '')), 'the bot says why it did not post again');
  await killHard(bot);
  assert.deepEqual(rig.emulator.unknownRequests(), []);
});
