// Optional Prometheus endpoint (METRICS_PORT): queue depth, job latency from queued to delivered, seconds per
// denoising step, jobs by outcome, inference-worker restarts, plus prom-client's process metrics (RSS, heap, event
// loop lag). Each bot gets its own registry, so several bots in one process (tests) never share counters.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobService } from './jobs/service.ts';

export interface BotMetrics {
  registry: Registry;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  /** Counts one restart of the inference worker (wired to InferenceEngine's 'crash' event). */
  workerRestarted(): void;
}

/** Registers the metrics and subscribes them to the job service's events. */
export function createMetrics(jobs: JobService, options: { prefix?: string; defaultMetrics?: boolean } = {}): BotMetrics {
  const prefix = options.prefix ?? 'imagine_';
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });

  new Gauge({
    name: `${prefix}queue_jobs`,
    help: 'Jobs in the queue by state (waiting, running).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'waiting' }, jobs.queue.size);
      this.set({ state: 'running' }, jobs.queue.pending);
    },
  });
  const latency = new Histogram({
    name: `${prefix}job_latency_seconds`,
    help: 'Time from a job being queued to its images being posted.',
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const stepTime = new Histogram({
    name: `${prefix}step_seconds`,
    help: 'Seconds per denoising step, one observation per finished job.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const outcomes = new Counter({
    name: `${prefix}jobs_total`,
    help: 'Jobs that ended, by outcome (delivered, failed, cancelled, timed_out), and retries after a worker crash.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const restarts = new Counter({
    name: `${prefix}worker_restarts_total`,
    help: 'Times the inference worker process died and was replaced.',
    registers: [registry],
  });
  // Present from the start with 0, so a dashboard sees every outcome before it first happens.
  for (const outcome of ['delivered', 'failed', 'cancelled', 'timed_out', 'retried']) outcomes.inc({ outcome }, 0);

  jobs.on('succeeded', ({ job, redelivery }) => {
    const result = job.result;
    if (!redelivery && result && result.stepsRun > 0) stepTime.observe(result.elapsedMs / 1000 / result.stepsRun);
  });
  jobs.on('delivered', ({ job }) => {
    outcomes.inc({ outcome: 'delivered' });
    latency.observe(Math.max(0, (Date.now() - job.createdAt) / 1000));
  });
  jobs.on('failed', ({ retrying }) => outcomes.inc({ outcome: retrying ? 'retried' : 'failed' }));
  jobs.on('cancelled', () => outcomes.inc({ outcome: 'cancelled' }));
  jobs.on('timed_out', () => outcomes.inc({ outcome: 'timed_out' }));

  return {
    registry,
    render: () => registry.metrics(),
    workerRestarted: () => restarts.inc(),
  };
}

/** Serves GET /metrics on `port` (all interfaces unless `host` says otherwise: Prometheus usually scrapes from elsewhere). */
export async function serveMetrics(metrics: BotMetrics, port: number, host = '0.0.0.0'): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
