// `npm start`: read .env, validate the configuration, start the bot, stop gracefully on SIGINT/SIGTERM.
// .env is read into the configuration only, never into process.env (src/process/environment.ts says why).
import { ConfigError, loadConfig } from './config.ts';
import { logger } from './log.ts';
import { startBot } from './bot/app.ts';
import { exitGracefullyOnSignals } from './process/lifecycle.ts';
import { readEnvironment, takeShardAssignment } from './process/environment.ts';

async function main(): Promise<void> {
  // Started by the ShardingManager (src/shard.ts): it names this process's shard; otherwise the bot is shard 0 of 1.
  const shard = takeShardAssignment();
  const { values } = readEnvironment();
  let config;
  try {
    config = loadConfig(values);
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
    bot = await startBot(config, { log: logger, shard });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
    console.error(`imagine-bot could not start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  const running = bot;
  exitGracefullyOnSignals((signal) => running.stop(signal), { log: logger, onForce: 'queued jobs stay persisted' });
  await running.ready.catch((err) => {
    logger.fatal({ err: String(err) }, 'start-up failed');
    process.exit(1);
  });
}

await main();
