// `npm run worker`: one GPU (or CPU) worker for QUEUE_BACKEND=redis. Reads .env, loads MODEL_DIR, consumes that
// model's queue until SIGINT/SIGTERM (the running job may finish within SHUTDOWN_GRACE_SECONDS; a second signal
// exits at once and BullMQ hands the job to another worker). Run as many as you like, on any machines.
import { ConfigError } from '../config.ts';
import { logger } from '../log.ts';
import { loadWorkerConfig } from './config.ts';
import { startWorker } from './consumer.ts';
import { exitGracefullyOnSignals } from '../process/lifecycle.ts';
import { readEnvironment } from '../process/environment.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig(readEnvironment().values);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.message}\nSee .env.example (Scale-out) and docs/scale-out.md.`);
      process.exit(1);
    }
    throw err;
  }
  logger.level = config.logLevel;
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
