// Scale-out benchmark: jobs per minute through the bot's Redis queue (JobService + PooledQueue + BullMQ) with one
// worker process and then with two, in one run, printed as a ratio. On a CPU machine the workers share the cores
// (each gets ORT_THREADS threads), so the ratio shows queue overhead and core contention; on a machine with two GPUs
// (one worker per GPU) it shows the scaling. Needs redis-server (see test/scale/redisServer.ts).
//   npx tsx bench/scale.ts [--jobs 6] [--size 512] [--steps 8] [--threads 1]
// From bench/run.ts: `await runScaleBench({ jobs, size, steps, threads })` returns the numbers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { ensureTestModels } from '../test/fixtures/models.ts';
import { startRedisServer } from '../test/scale/redisServer.ts';
import { spawnWorker, waitForWorkers, type WorkerProcess } from '../test/scale/workers.ts';
import { startScaleOut } from '../src/scale/index.ts';
import { JobService } from '../src/jobs/service.ts';
import type { JobParams, JobResult } from '../src/jobs/types.ts';
import { openDatabase, JobStore } from '../src/storage/index.ts';

export interface ScaleBenchOptions {
  /** Jobs per measurement (each from its own user). */
  jobs?: number;
  size?: number;
  steps?: number;
  /** ONNX Runtime threads per worker. */
  threads?: number;
  model?: string;
}

export interface ScaleBenchResult {
  jobs: number;
  size: number;
  steps: number;
  oneWorker: { seconds: number; jobsPerMinute: number };
  twoWorkers: { seconds: number; jobsPerMinute: number };
  /** twoWorkers / oneWorker jobs per minute. */
  ratio: number;
}

export async function runScaleBench(options: ScaleBenchOptions = {}): Promise<ScaleBenchResult> {
  const jobs = options.jobs ?? 6;
  const size = options.size ?? 512;
  const steps = options.steps ?? 8;
  const modelDir = join(await ensureTestModels(), options.model ?? 'tiny-sd15');
  const redis = await startRedisServer();
  const dataDir = await mkdtemp(join(tmpdir(), 'imagine-bench-scale-'));
  const workers: WorkerProcess[] = [];
  const db = openDatabase(dataDir);
  let service: JobService | undefined;
  try {
    const env = { REDIS_URL: redis.url, MODEL_DIR: modelDir, ORT_THREADS: String(options.threads ?? 1), LOG_LEVEL: 'warn' };
    workers.push(spawnWorker('bench-1', env));
    await waitForWorkers(redis.url, ['bench-1']);
    const scale = await startScaleOut({ redisUrl: redis.url, model: options.model ?? 'tiny-sd15', software: 'imagine-bot bench', pollMs: 200 });
    const jobsService = new JobService({ store: new JobStore<JobParams, JobResult>(db), engine: scale.engine, queueBackend: scale.queueBackend, dataDir, concurrency: 1, maxQueued: 10_000, maxPerUser: 100, timeoutMs: 0 });
    service = jobsService;
    jobsService.start();
    const params: JobParams = { kind: 'txt2img', action: 'imagine', prompt: 'a lighthouse at dusk', negativePrompt: '', seed: 1, steps, guidance: 7.5, width: size, height: size, count: 1, channel: { ageRestricted: false, uploadLimit: 25 << 20 } };
    const round = async (label: string) => {
      // One warm-up job per worker so model loading is not measured.
      await runJobs(jobsService, params, workers.length, `${label}-warm`);
      const started = performance.now();
      await runJobs(jobsService, params, jobs, label);
      const seconds = (performance.now() - started) / 1000;
      return { seconds, jobsPerMinute: (jobs / seconds) * 60 };
    };
    const oneWorker = await round('one');
    workers.push(spawnWorker('bench-2', env));
    await waitForWorkers(redis.url, ['bench-1', 'bench-2']);
    // The queue sees the new worker at its next measurement (pollMs).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const twoWorkers = await round('two');
    return { jobs, size, steps, oneWorker, twoWorkers, ratio: twoWorkers.jobsPerMinute / oneWorker.jobsPerMinute };
  } finally {
    await service?.shutdown(1000).catch(() => undefined);
    db.close();
    await Promise.all(workers.map((w) => w.stop()));
    await redis.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Submits `count` jobs (one user each, so the per-user limit never binds) and waits until every one has finished. */
async function runJobs(service: JobService, params: JobParams, count: number, label: string): Promise<void> {
  const ids = new Set<string>();
  const done = new Promise<void>((resolve, reject) => {
    const check = ({ job }: { job: { id: string } }) => {
      if (ids.delete(job.id) && ids.size === 0) finish();
    };
    const fail = ({ job, message }: { job: { id: string }; message: string }) => {
      if (ids.has(job.id)) reject(new Error(`bench job failed: ${message}`));
    };
    const finish = () => {
      service.off('succeeded', check);
      service.off('failed', fail);
      resolve();
    };
    service.on('succeeded', check);
    service.on('failed', fail);
  });
  for (let i = 0; i < count; i++) {
    const { job } = service.submit({ userId: `${label}-${i}`, guildId: null, channelId: 'bench', params: { ...params, seed: i } });
    ids.add(job.id);
  }
  await done;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { jobs: { type: 'string' }, size: { type: 'string' }, steps: { type: 'string' }, threads: { type: 'string' } } });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const r = await runScaleBench({ jobs: num(values.jobs), size: num(values.size), steps: num(values.steps), threads: num(values.threads) });
  console.log(`scale-out (${r.jobs} jobs, ${r.size}x${r.size}, ${r.steps} steps, through Redis/BullMQ)`);
  console.log(`  1 worker : ${r.oneWorker.jobsPerMinute.toFixed(1)} jobs/min (${r.oneWorker.seconds.toFixed(2)} s)`);
  console.log(`  2 workers: ${r.twoWorkers.jobsPerMinute.toFixed(1)} jobs/min (${r.twoWorkers.seconds.toFixed(2)} s)`);
  console.log(`  ratio    : ${r.ratio.toFixed(2)}x`);
}
