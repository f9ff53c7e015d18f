// `npm run start:sharded`: discord.js's ShardingManager runs one bot process per gateway shard (SHARDS=auto asks
// Discord how many; a number pins it). Needs QUEUE_BACKEND=redis: the shards share the workers through Redis, while
// each keeps its own SQLite database under DATA_DIR/shard-<id> (src/scale/shardProcess.ts). Discord sends a guild's
// interactions always to the same shard (guild_id >> 22 mod shard count), so the shard that accepted a job is the
// one that gets its buttons and delivers its result. Limits: docs/scale-out.md.
import { fileURLToPath } from 'node:url';
import { ShardingManager } from 'discord.js';
import { ConfigError, loadConfig } from './config.ts';
import { configureLogger, logger } from './log.ts';
import { readEnvironment } from './process/environment.ts';
import { configFailure } from './process/startupFailure.ts';

function shardCount(value: string | undefined): number | 'auto' {
  const text = value?.trim().toLowerCase() || 'auto';
  if (text === 'auto') return 'auto';
  if (/^\d+$/.test(text) && Number(text) >= 1) return Number(text);
  throw new ConfigError([`SHARDS: expected auto or a whole number of shards (at least 1), got ${JSON.stringify(value)}`]);
}

async function main(): Promise<void> {
  let totalShards: number | 'auto';
  let token: string;
  const { values, envFile } = readEnvironment();
  try {
    // .env stays out of process.env here too: each shard process reads it itself, and gets its shard from the
    // manager (SHARDS and SHARD_COUNT in its environment, see src/process/environment.ts).
    const config = loadConfig(values);
    totalShards = shardCount(values.SHARDS);
    if (config.queueBackend !== 'redis') throw new ConfigError(['QUEUE_BACKEND: must be redis for a sharded start (each shard is a process; they share the workers through Redis)']);
    token = config.discordToken;
    configureLogger({ level: config.logLevel, format: config.logFormat });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${configFailure(err, envFile, '.env.example and docs/scale-out.md')}\n`);
      process.exit(1);
    }
    throw err;
  }
  const manager = new ShardingManager(fileURLToPath(new URL('./scale/shardProcess.ts', import.meta.url)), {
    token,
    totalShards,
    mode: 'process',
    respawn: true,
    execArgv: ['--import', 'tsx'],
  });
  manager.on('shardCreate', (shard) => {
    logger.info({ shard: shard.id, of: manager.totalShards }, 'shard started');
    shard.on('death', () => logger.warn({ shard: shard.id }, 'shard exited; restarting it'));
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal }, 'stopping every shard');
    manager.respawn = false;
    const exits = [...manager.shards.values()].map(
      (shard) =>
        new Promise<void>((resolve) => {
          const child = shard.process;
          if (!child || child.exitCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM'); // each shard stops gracefully (src/index.ts)
        }),
    );
    void Promise.all(exits).then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Wait for no shard's READY: a shard that cannot start must not stop the others (it is respawned).
  await manager.spawn({ timeout: -1 });
}

await main();
