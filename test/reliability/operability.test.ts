// Operability: logs carry job ids and never the token; the Prometheus endpoint reports queue depth, latency, step
// time, outcomes and worker restarts; bad configuration and broken model folders stop the bot with a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startDiscordEmulator, type DiscordEmulator } from '../emulator/index.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { configFor } from '../bot/harness.ts';
import { startBot } from '../../src/bot/app.ts';
import { botEnv, killHard, spawnBot, startBotProcess, type BotProcess } from './botProcess.ts';
import { jobIdOf, tempDataDir } from './helpers.ts';
import { pino } from 'pino';

let emulator: DiscordEmulator;
let modelsRoot: string;
const dirs: string[] = [];
const bots: BotProcess[] = [];

before(async () => {
  modelsRoot = await ensureTestModels();
  emulator = await startDiscordEmulator();
});
after(async () => {
  for (const bot of bots) await killHard(bot);
  await emulator?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The bot's inference worker: its only child process (Linux /proc). */
async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

test('debug logs carry job ids and never the token; /metrics reports queue, latency, step time, outcomes and worker restarts', async () => {
  const dataDir = await tempDataDir();
  dirs.push(dataDir);
  const port = await freePort();
  const bot = await startBotProcess(botEnv(emulator, join(modelsRoot, 'tiny-sd15'), dataDir, { METRICS_PORT: String(port), LOG_LEVEL: 'debug' }));
  bots.push(bot);
  await emulator.waitForCommands(String(emulator.guild.id));
  const handle = emulator.slashCommand({ name: 'imagine', options: { prompt: 'a teapot', seed: 1 }, channelId: emulator.channels.nsfw.id });
  const jobId = await jobIdOf(handle);
  await bot.waitForLog((l) => l.msg === 'job delivered' && l.jobId === jobId, 60_000, 'the delivery log line');

  // Kill the idle worker: the engine notices, counts a restart, and the next job gets a new process.
  const [workerPid] = await childPids(bot.pid);
  assert.ok(workerPid, 'the bot has a worker process');
  process.kill(workerPid, 'SIGKILL');
  await bot.waitForLog((l) => /inference process exited/.test(l.msg ?? ''), 10_000, 'the worker exit log line');

  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const text = await res.text();
  assert.equal(metricValue(text, 'imagine_queue_jobs{state="waiting"}'), 0);
  assert.equal(metricValue(text, 'imagine_queue_jobs{state="running"}'), 0);
  assert.equal(metricValue(text, 'imagine_jobs_total{outcome="delivered"}'), 1);
  assert.equal(metricValue(text, 'imagine_jobs_total{outcome="failed"}'), 0);
  assert.equal(metricValue(text, 'imagine_job_latency_seconds_count'), 1);
  assert.ok((metricValue(text, 'imagine_job_latency_seconds_sum') ?? 0) > 0);
  assert.equal(metricValue(text, 'imagine_step_seconds_count'), 1);
  assert.equal(metricValue(text, 'imagine_worker_restarts_total'), 1);
  assert.ok((metricValue(text, 'imagine_process_resident_memory_bytes') ?? 0) > 0, 'process metrics too');
  assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);

  const stopped = bot.exited;
  bot.child.kill('SIGTERM');
  assert.equal((await stopped).code, 0);
  const everything = bot.stdout() + bot.stderr();
  assert.ok(!everything.includes(emulator.token), 'the bot token never appears in the output');
  assert.ok(!everything.includes(handle.token), 'interaction tokens never appear either');
  const jobLines = bot.logs().filter((l) => l.jobId === jobId).map((l) => l.msg);
  for (const msg of ['job queued', 'job started', 'job finished', 'job delivered']) assert.ok(jobLines.includes(msg), `"${msg}" logged with the job id (${jobLines.join(', ')})`);
});

test('bad configuration: every bad variable is named, nothing secret echoed, exit 1', async () => {
  const dataDir = await tempDataDir();
  dirs.push(dataDir);
  const bot = spawnBot({
    DISCORD_TOKEN: '',
    DISCORD_API_URL: 'not a url',
    QUEUE_CONCURRENCY: 'lots',
    PROVIDER: 'gpu',
    METRICS_PORT: '99999',
    MAX_STEPS: '-3',
    DATA_DIR: dataDir,
  });
  const { code } = await bot.exited;
  assert.equal(code, 1);
  const err = bot.stderr();
  for (const name of ['DISCORD_TOKEN', 'DISCORD_API_URL', 'QUEUE_CONCURRENCY', 'PROVIDER', 'METRICS_PORT', 'MAX_STEPS']) assert.match(err, new RegExp(`${name}:`), `${name} is named`);
  assert.match(err, /\.env\.example/);
  assert.doesNotMatch(err, /    at /, 'no stack trace');
});

test('a model folder missing a part: startBot rejects naming the file, and the process exits 1 saying so', async () => {
  const broken = await tempDataDir();
  dirs.push(broken);
  const modelDir = join(broken, 'model');
  await cp(join(modelsRoot, 'tiny-sd15'), modelDir, { recursive: true });
  await rm(join(modelDir, 'unet', 'model.onnx'));
  const dataDir = join(broken, 'data');
  await assert.rejects(startBot(configFor(emulator, modelDir, dataDir), { log: pino({ level: 'silent' }) }), /unet/);

  const bot = spawnBot(botEnv(emulator, modelDir, dataDir));
  const { code } = await bot.exited;
  assert.equal(code, 1);
  assert.match(bot.stderr(), /could not start: .*unet/);
  assert.deepEqual(emulator.unknownRequests(), []);
});
