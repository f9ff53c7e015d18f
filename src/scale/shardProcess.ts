// One shard of `npm run start:sharded`. SQLite belongs to one process, so each shard keeps its jobs, history and
// images in its own DATA_DIR/shard-<id>; then it is the ordinary bot (src/index.ts), which takes its shard from the
// SHARDS and SHARD_COUNT variables the ShardingManager sets and hands it to discord.js explicitly.
import { join } from 'node:path';
import { readEnvironment } from '../process/environment.ts';

const shard = process.env.SHARDS;
if (shard === undefined || !/^\d+$/.test(shard)) {
  console.error('shardProcess.ts is started by src/shard.ts (npm run start:sharded), not directly');
  process.exit(1);
}
// DATA_DIR may come from .env: the real environment wins over it, so setting it here overrides both.
process.env.DATA_DIR = join(readEnvironment().values.DATA_DIR?.trim() || 'data', `shard-${shard}`);
// Imported after DATA_DIR is set: the entry point reads the configuration as it loads.
await import('../index.ts');
