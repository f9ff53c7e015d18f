// One shard of `npm run start:sharded`. SQLite belongs to one process, so each shard keeps its jobs, history and
// images in its own DATA_DIR/shard-<id>; then it is the ordinary bot (src/index.ts), with discord.js reading its
// shard id from the SHARDS variable the ShardingManager sets.
import { join } from 'node:path';

const shard = process.env.SHARDS;
if (shard === undefined || !/^\d+$/.test(shard)) {
  console.error('shardProcess.ts is started by src/shard.ts (npm run start:sharded), not directly');
  process.exit(1);
}
process.env.DATA_DIR = join(process.env.DATA_DIR?.trim() || 'data', `shard-${shard}`);
// Imported after DATA_DIR is set: the entry point reads the configuration as it loads.
await import('../index.ts');
