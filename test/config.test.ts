import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../src/config.ts';
import { DISCORD_CDN_HOSTS } from '../src/net/download.ts';

const TOKEN = 'MTIz.secret-token-value.abcdef';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ DISCORD_TOKEN: TOKEN, ...env }, '/srv/bot');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

test('a token alone is a complete configuration, with the documented defaults', () => {
  const config = loadConfig({ DISCORD_TOKEN: TOKEN }, '/srv/bot');
  assert.equal(config.discordToken, TOKEN);
  assert.equal(config.discordApiUrl, undefined);
  assert.equal(config.devGuildId, undefined);
  assert.equal(config.modelDir, '/srv/bot/models/default');
  assert.equal(config.dataDir, '/srv/bot/data');
  assert.deepEqual(config.attachmentHosts, [...DISCORD_CDN_HOSTS]);
  assert.deepEqual([config.queueConcurrency, config.maxQueue, config.maxJobsPerUser], [1, 50, 3]);
  assert.equal(config.provider, 'cpu');
  assert.equal(config.attentionSlicing, 'auto');
  assert.equal(config.lowMemory, false);
  assert.equal(config.intraOpThreads, undefined);
  assert.equal(config.maxAttachmentBytes, 10 * 1024 * 1024);
  assert.equal(config.jobTimeoutMs, 600_000);
  assert.equal(config.metricsPort, undefined);
});

test('values are parsed: URLs trimmed of slashes, hosts lower-cased, numbers, booleans, slice counts', () => {
  const config = loadConfig(
    {
      DISCORD_TOKEN: TOKEN,
      DISCORD_API_URL: 'http://127.0.0.1:8080/api/',
      DEV_GUILD_ID: '123456789012345678',
      ATTACHMENT_HOSTS: ' CDN.Example.com , media.example.com:8443 ',
      QUEUE_CONCURRENCY: '2',
      LOW_MEMORY: 'yes',
      ATTENTION_SLICING: '4',
      ORT_THREADS: '3',
      MAX_ATTACHMENT_MB: '2',
      MODEL_DIR: '/models/sd15',
      METRICS_PORT: '9100',
      IDLE_RELEASE_SECONDS: '90',
    },
    '/srv/bot',
  );
  assert.equal(config.discordApiUrl, 'http://127.0.0.1:8080/api');
  assert.equal(config.devGuildId, '123456789012345678');
  assert.deepEqual(config.attachmentHosts, ['cdn.example.com', 'media.example.com:8443']);
  assert.equal(config.queueConcurrency, 2);
  assert.equal(config.lowMemory, true);
  assert.equal(config.attentionSlicing, 4);
  assert.equal(config.intraOpThreads, 3);
  assert.equal(config.maxAttachmentBytes, 2 * 1024 * 1024);
  assert.equal(config.modelDir, '/models/sd15');
  assert.equal(config.metricsPort, 9100);
  assert.equal(config.idleReleaseMs, 90_000);
});

test('empty values count as unset', () => {
  const config = loadConfig({ DISCORD_TOKEN: TOKEN, DISCORD_API_URL: '', MAX_QUEUE: '  ', ATTACHMENT_HOSTS: '' }, '/srv/bot');
  assert.equal(config.discordApiUrl, undefined);
  assert.equal(config.maxQueue, 50);
  assert.deepEqual(config.attachmentHosts, [...DISCORD_CDN_HOSTS]);
});

test('a missing token is named', () => {
  for (const env of [{}, { DISCORD_TOKEN: '' }, { DISCORD_TOKEN: '   ' }]) {
    assert.throws(() => loadConfig(env), (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && /^DISCORD_TOKEN: required/.test(err.problems[0]!));
  }
});

test('each bad variable is named, all of them at once', () => {
  const bad: Record<string, string> = {
    DISCORD_API_URL: 'not a url',
    DEV_GUILD_ID: 'my-guild',
    ATTACHMENT_HOSTS: 'https://cdn.example.com/path',
    QUEUE_CONCURRENCY: '0',
    MAX_QUEUE: 'lots',
    MAX_JOBS_PER_USER: '1.5',
    JOB_TIMEOUT_SECONDS: '-1',
    PROVIDER: 'tpu',
    ATTENTION_SLICING: 'sometimes',
    LOW_MEMORY: 'maybe',
    VAE_TILING: '100',
    MAX_STEPS: '151',
    MAX_PIXELS: '100',
    MAX_IMAGES_PER_JOB: '5',
    MAX_ATTACHMENT_MB: '0',
    PROGRESS_INTERVAL_MS: '10',
    METRICS_PORT: '70000',
    LOG_LEVEL: 'loud',
    LOG_FORMAT: 'fancy',
  };
  const problems = problemsOf(bad);
  const named = new Set(problems.map((p) => p.split(':')[0]));
  assert.deepEqual([...named].sort(), Object.keys(bad).sort(), problems.join('\n'));
  // One at a time too: each is caught on its own, and the message says what is expected.
  for (const [name, value] of Object.entries(bad)) {
    const alone = problemsOf({ [name]: value });
    assert.equal(alone.length, 1, `${name}: ${alone.join('; ')}`);
    assert.match(alone[0]!, new RegExp(`^${name}: \\S`));
  }
  assert.match(problemsOf({ QUEUE_CONCURRENCY: '0' })[0]!, /at least 1/);
  assert.match(problemsOf({ PROVIDER: 'tpu' })[0]!, /cpu/);
});

test('the error message lists every problem and never echoes the token', () => {
  const tokens = [TOKEN, 'Bot abc.def.ghi-this-is-the-token'];
  for (const token of tokens) {
    try {
      loadConfig({ DISCORD_TOKEN: token, QUEUE_CONCURRENCY: 'x', DISCORD_API_URL: token, DEV_GUILD_ID: token, ATTACHMENT_HOSTS: token, LOG_LEVEL: token });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /QUEUE_CONCURRENCY/);
      assert.match(err.message, /LOG_LEVEL/);
      assert.ok(!err.message.includes(token), 'the token is not in the message');
      assert.ok(!err.problems.join('\n').includes(token), 'nor in the problems');
    }
  }
});

test('.env.example documents every variable', () => {
  const example = readFileSync(fileURLToPath(new URL('../.env.example', import.meta.url)), 'utf8');
  const documented = [...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
  for (const name of CONFIG_VARIABLES) assert.ok(documented.includes(name), `${name} is in .env.example`);
  // (It may also document variables read elsewhere, e.g. by a separate worker process.)
  assert.equal(new Set(documented).size, documented.length, 'no variable listed twice');
  // The example must load (with a token filled in): its values are valid.
  const env = Object.fromEntries([...example.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  assert.doesNotThrow(() => loadConfig({ ...env, DISCORD_TOKEN: TOKEN }));
});

test('MESSAGE_CONTENT_INTENT adds the privileged intent, and only then', async () => {
  const { intentsFor } = await import('../src/discord/client.ts');
  const { GatewayIntentBits } = await import('discord.js');
  assert.equal(loadConfig({ DISCORD_TOKEN: TOKEN }).messageContentIntent, false);
  assert.ok(!intentsFor(loadConfig({ DISCORD_TOKEN: TOKEN })).includes(GatewayIntentBits.MessageContent));
  assert.ok(intentsFor(loadConfig({ DISCORD_TOKEN: TOKEN, MESSAGE_CONTENT_INTENT: 'true' })).includes(GatewayIntentBits.MessageContent));
  assert.match(problemsOf({ MESSAGE_CONTENT_INTENT: 'maybe' })[0]!, /MESSAGE_CONTENT_INTENT/);
});
