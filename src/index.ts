// `npm start`: read .env, validate the configuration, start the bot, stop gracefully on SIGINT/SIGTERM.
import 'dotenv/config';
import { ConfigError, loadConfig } from './config.ts';
import { logger } from './log.ts';
import { startBot } from './bot/app.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.message}\nSee .env.example for every variable and its meaning.`);
      process.exit(1);
    }
    throw err;
  }
  logger.level = config.logLevel;
  let bot;
  try {
    bot = await startBot(config, { log: logger });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
    console.error(`imagine-bot could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  const running = bot;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now (queued jobs stay persisted)');
      process.exit(130);
    }
    void running.stop(signal).then(
      () => process.exit(0),
      (err) => {
        logger.error({ err: String(err) }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A stray rejection is a bug to log, not a reason to drop every queued job.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection'));
  await running.ready.catch((err) => {
    logger.fatal({ err: String(err) }, 'start-up failed');
    process.exit(1);
  });
}

await main();
