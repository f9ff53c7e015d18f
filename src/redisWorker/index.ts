// `npm run worker`: one GPU (or CPU) worker for QUEUE_BACKEND=redis. Reads .env, loads MODEL_DIR, consumes that
// model's queue until SIGINT/SIGTERM (the running job may finish within SHUTDOWN_GRACE_SECONDS; a second signal
// exits at once and BullMQ hands the job to another worker). Run as many as you like, on any machines.
import { ConfigError } from '../config.ts';
import { configureLogger, logger } from '../log.ts';
import { loadWorkerConfig } from './config.ts';
import { startWorker } from './consumer.ts';
import { exitGracefullyOnSignals } from '../process/lifecycle.ts';
import { readEnvironment } from '../process/environment.ts';
import { configFailure } from '../process/startupFailure.ts';

async function main(): Promise<void> {
  let config;
  const { values, envFile } = readEnvironment();
  try {
    config = loadWorkerConfig(values);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${configFailure(err, envFile, '.env.example (Scale-out) and docs/scale-out.md')}\n`);
      process.exit(1);
    }
    throw err;
  }
  configureLogger({ level: config.logLevel, format: config.logFormat });
  let worker;
  try {
    worker = await startWorker(config, logger);
  } catch (err) {
    console.error(`imagine-bot worker could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  const running = worker;
  exitGracefullyOnSignals(() => running.close(), {
    log: logger,
    onForce: 'another worker takes the job over',
    onStop: 'stopping: no new jobs, finishing the running one',
  });
}

await main();
