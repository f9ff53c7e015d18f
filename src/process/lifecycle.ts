// How a long-running entry point (the bot, a Redis worker) ends: the first SIGINT/SIGTERM stops it gracefully, a
// second one exits at once (whatever was running stays persisted or is taken over elsewhere), and a stray promise
// rejection is logged instead of killing the process with every queued job in it.
import type { Logger } from '../log.ts';

export interface GracefulStopOptions {
  log: Logger;
  /** Said when a second signal cuts the graceful stop short, e.g. "queued jobs stay persisted". */
  onForce: string;
  /** Logged when the graceful stop begins (optional: the stop function may log itself). */
  onStop?: string;
}

export function exitGracefullyOnSignals(stop: (signal: NodeJS.Signals) => Promise<void>, options: GracefulStopOptions): void {
  const { log } = options;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn({ signal }, `second signal: exiting now (${options.onForce})`);
      process.exit(130);
    }
    if (options.onStop) log.info({ signal }, options.onStop);
    void stop(signal).then(
      () => process.exit(0),
      (err) => {
        log.error({ err: String(err) }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('unhandledRejection', (reason) => log.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection'));
}
