// `npm start`: read .env, validate the configuration, start the bot, stop gracefully on SIGINT/SIGTERM.
// .env is read into the configuration only, never into process.env (src/process/environment.ts says why). A start that
// fails prints what went wrong and what to do, once, on stderr (src/process/startupFailure.ts), and exits 1.
import { ConfigError, loadConfig, type Config } from './config.ts';
import { configureLogger, logger } from './log.ts';
import { startBot } from './bot/app.ts';
import { exitGracefullyOnSignals } from './process/lifecycle.ts';
import { readEnvironment, takeShardAssignment } from './process/environment.ts';
import { configFailure, startupFailure } from './process/startupFailure.ts';

function exitWith(text: string): never {
  process.stderr.write(`${text}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  // Started by the ShardingManager (src/shard.ts): it names this process's shard; otherwise the bot is shard 0 of 1.
  const shard = takeShardAssignment();
  const { values, envFile } = readEnvironment();
  let config: Config;
  try {
    config = loadConfig(values);
  } catch (err) {
    if (err instanceof ConfigError) exitWith(configFailure(err, envFile));
    throw err;
  }
  configureLogger({ level: config.logLevel, format: config.logFormat });
  let bot;
  try {
    bot = await startBot(config, { log: logger, shard });
  } catch (err) {
    exitWith(startupFailure(err, config));
  }
  const running = bot;
  exitGracefullyOnSignals((signal) => running.stop(signal), { log: logger, onForce: 'queued jobs stay persisted' });
  await running.ready.catch((err) => exitWith(startupFailure(err, config)));
}

await main();
