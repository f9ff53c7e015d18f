// Where the entry points read their settings: `.env` (when there is one) under the real environment, which wins as
// with dotenv's default. The file goes into a plain object, never into process.env: libraries read process.env by
// themselves, and discord.js's Client parses SHARDS and SHARD_COUNT from it. `.env.example` sets SHARDS for the
// sharded start (`SHARDS=auto`), so loading it into process.env handed an ordinary `npm start` a shard setting it
// could not parse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'dotenv';

export const ENV_FILE = '.env';

export interface Environment {
  /** `.env`'s variables with the real environment's on top. */
  values: NodeJS.ProcessEnv;
  /** The `.env` file that was read; undefined when there is none. */
  envFile: string | undefined;
}

export function readEnvironment(cwd = process.cwd(), base: NodeJS.ProcessEnv = process.env): Environment {
  const envFile = join(cwd, ENV_FILE);
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { values: { ...base }, envFile: undefined };
    throw err;
  }
  return { values: { ...parse(text), ...base }, envFile };
}

/** Said when there is no `.env` and the configuration is incomplete: almost always a first start. */
export function missingEnvFileHint(cwd = process.cwd()): string {
  return `There is no ${ENV_FILE} in ${cwd}. Create it from the example: cp .env.example .env (then set DISCORD_TOKEN and MODEL_DIR).`;
}

/** Which gateway shard this process runs, out of how many. */
export interface ShardAssignment {
  id: number;
  count: number;
}

/** The variables discord.js's Client reads from process.env on its own, overriding the options it is given. */
const DISCORD_JS_SHARD_VARIABLES = ['SHARDS', 'SHARD_COUNT'] as const;

/**
 * The shard discord.js's ShardingManager (src/shard.ts) started this process for, which it says in SHARDING_MANAGER,
 * SHARDS and SHARD_COUNT; undefined for an ordinary start. SHARDS and SHARD_COUNT are then removed from `env`, so the
 * Client is told its shard only explicitly (createClient) and a stray SHARDS from the shell can never reach it.
 */
export function takeShardAssignment(env: NodeJS.ProcessEnv = process.env): ShardAssignment | undefined {
  const id = env.SHARDS?.trim() ?? '';
  const count = env.SHARD_COUNT?.trim() ?? '';
  const assignment = env.SHARDING_MANAGER && /^\d+$/.test(id) && /^\d+$/.test(count) && Number(id) < Number(count) ? { id: Number(id), count: Number(count) } : undefined;
  for (const name of DISCORD_JS_SHARD_VARIABLES) delete env[name];
  return assignment;
}
