// .env is read into an object, under the real environment, and never into process.env; the shard a ShardingManager
// assigns is taken out of process.env so discord.js only ever gets it explicitly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingEnvFileHint, readEnvironment, takeShardAssignment } from '../../src/process/environment.ts';

test('.env is read into the values, under the real environment, and process.env is left alone', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'imagine-env-'));
  try {
    await writeFile(join(dir, '.env'), 'SHARDS=auto\nMODEL_DIR=models/from-file\nLOG_LEVEL=debug\n');
    const base = { MODEL_DIR: '/from/shell' };
    const { values, envFile } = readEnvironment(dir, base);
    assert.equal(envFile, join(dir, '.env'));
    assert.equal(values.SHARDS, 'auto');
    assert.equal(values.LOG_LEVEL, 'debug');
    assert.equal(values.MODEL_DIR, '/from/shell', 'the real environment wins');
    assert.deepEqual(base, { MODEL_DIR: '/from/shell' }, 'the base is not modified');
    assert.equal(process.env.SHARDS, undefined, 'nothing reaches process.env');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('without a .env the values are the real environment, and the hint says to copy the example', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'imagine-env-'));
  try {
    const { values, envFile } = readEnvironment(dir, { DISCORD_TOKEN: 'x' });
    assert.equal(envFile, undefined);
    assert.deepEqual(values, { DISCORD_TOKEN: 'x' });
    assert.match(missingEnvFileHint(dir), /cp \.env\.example \.env/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the shard comes from the ShardingManager only, and SHARDS/SHARD_COUNT are removed either way', () => {
  const managed: NodeJS.ProcessEnv = { SHARDING_MANAGER: 'true', SHARDS: '2', SHARD_COUNT: '4', OTHER: 'kept' };
  assert.deepEqual(takeShardAssignment(managed), { id: 2, count: 4 });
  assert.deepEqual(managed, { SHARDING_MANAGER: 'true', OTHER: 'kept' });
  // A stray SHARDS in the shell of an ordinary start (the value .env.example has) is dropped, not parsed.
  const stray: NodeJS.ProcessEnv = { SHARDS: 'auto', SHARD_COUNT: '3' };
  assert.equal(takeShardAssignment(stray), undefined);
  assert.deepEqual(stray, {});
  assert.equal(takeShardAssignment({ SHARDING_MANAGER: 'true', SHARDS: '4', SHARD_COUNT: '4' }), undefined, 'an id out of range is no assignment');
});
