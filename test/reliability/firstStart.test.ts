// A newcomer's first start, as the README tells it: `cp .env.example .env`, fill in the token and the model folder,
// `npm start`. The bot runs as a real process in a folder holding only that .env (so .env.example and the code cannot
// drift apart unnoticed), against the local Discord emulator, and must connect, register its commands and answer
// /imagine. Each way a first start can fail must say what to do next.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finalOf } from '../bot/helpers.ts';
import { REPO_ROOT, useBotProcesses, type BotProcess } from './botProcess.ts';

const rig = useBotProcesses();

/** A fresh folder (removed after the file's tests). */
const tempFolder = () => rig.newDataDir();

/** .env.example with only `filled` changed (each must be a variable the example lists). */
async function envFromExample(filled: Record<string, string>): Promise<string> {
  let text = await readFile(join(REPO_ROOT, '.env.example'), 'utf8');
  for (const [name, value] of Object.entries(filled)) {
    const line = new RegExp(`^${name}=.*$`, 'm');
    assert.match(text, line, `.env.example lists ${name}`);
    text = text.replace(line, `${name}=${value}`);
  }
  return text;
}

/** The bot in a fresh folder holding `envText` as its .env (none when undefined); only PATH and HOME from outside. */
async function startIn(envText: string | undefined, env: Record<string, string> = {}): Promise<{ bot: BotProcess; dir: string }> {
  const dir = await tempFolder();
  if (envText !== undefined) await writeFile(join(dir, '.env'), envText);
  const bot = rig.spawn(env, { cwd: dir });
  return { bot, dir };
}

test('a .env made from .env.example (token and model filled in) starts, registers the commands and answers /imagine', async () => {
  // DISCORD_API_URL points discord.js at the emulator instead of discord.com; everything else is the example's.
  const envText = await envFromExample({ DISCORD_TOKEN: rig.emulator.token, MODEL_DIR: rig.modelDir, DISCORD_API_URL: rig.emulator.apiUrl });
  assert.match(envText, /^SHARDS=auto$/m, 'the example keeps its sharded-start setting, which must not reach an ordinary start');
  // An empty LOG_LEVEL in the shell counts as unset, as .env.example says empty values do (it used to crash pino).
  const { bot } = await startIn(envText, { LOG_LEVEL: '' });
  await bot.waitForLog((l) => l.msg === 'connected to Discord', 60_000, 'the bot to connect');
  // No DEV_GUILD_ID in the example: the commands are registered globally.
  await rig.emulator.waitForCommands(undefined, 20_000);
  const handle = rig.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a first picture', seed: 3 }, channelId: rig.emulator.channels.nsfw.id });
  await finalOf(handle, 90_000);
  assert.equal(bot.child.exitCode, null, 'still running');
  assert.deepEqual(rig.emulator.unknownRequests(), []);
});

/** Runs the bot to its exit; it must fail with exit code 1 and say everything once, on stderr, without a stack. */
async function failedStart(envText: string | undefined, env: Record<string, string> = {}): Promise<string> {
  const { bot } = await startIn(envText, env);
  const { code } = await bot.exited;
  assert.equal(code, 1, `exit code (stderr: ${bot.stderr()})`);
  const err = bot.stderr();
  assert.doesNotMatch(err, /^\s+at /m, 'no stack trace');
  assert.ok(!bot.stdout().includes('"level":60'), 'no JSON copy of the fatal error on stdout');
  const first = err.split('\n')[0]!;
  assert.equal(err.split(first).length - 1, 1, 'said once');
  return err;
}

test('no .env at all: says so and gives the cp command', async () => {
  const err = await failedStart(undefined);
  assert.match(err, /DISCORD_TOKEN: required/);
  assert.match(err, /There is no \.env in .*cp \.env\.example \.env/);
});

test('the model folder missing (the example\'s models/default on a fresh clone): how to get a model and MODEL_DIR', async () => {
  const err = await failedStart(await envFromExample({ DISCORD_TOKEN: rig.emulator.token, DISCORD_API_URL: rig.emulator.apiUrl }));
  assert.match(err, /could not start: the model folder \(MODEL_DIR\) is not usable: .*models\/default: missing/);
  assert.match(err, /Fix: there is no model there yet: `npm run models -- list` shows the presets.*`npm run models -- fetch <preset>`.*set MODEL_DIR in \.env/);
  assert.equal(err.trim().split('\n').length, 2, 'two lines');
});

test('a broken model folder: the same Fix as `models verify`, plus list/fetch and MODEL_DIR', async () => {
  const dir = await tempFolder();
  const broken = join(dir, 'broken-model');
  await cp(rig.modelDir, broken, { recursive: true });
  await rm(join(broken, 'unet', 'model.onnx'));
  const err = await failedStart(await envFromExample({ DISCORD_TOKEN: rig.emulator.token, MODEL_DIR: broken, DISCORD_API_URL: rig.emulator.apiUrl }));
  assert.match(err, /unet\/model\.onnx: missing; expected the UNet/);
  assert.match(err, /Fix: fetch the model again \(npm run models -- fetch <preset or repo> --force\)/);
  assert.match(err, /`npm run models -- list`.*set MODEL_DIR in \.env/);
});

test('LOG_LEVEL is checked with the rest of the configuration', async () => {
  const err = await failedStart(await envFromExample({ DISCORD_TOKEN: rig.emulator.token, MODEL_DIR: rig.modelDir, LOG_LEVEL: 'verbose', QUEUE_CONCURRENCY: 'two' }));
  assert.match(err, /LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent/);
  assert.match(err, /QUEUE_CONCURRENCY: /, 'named together with the other bad values');
  assert.match(err, /Fix it in \.env; see \.env\.example/);
});

test('a token Discord refuses: says to set DISCORD_TOKEN', async () => {
  const err = await failedStart(await envFromExample({ DISCORD_TOKEN: 'MTIz.not-the.right-token', MODEL_DIR: rig.modelDir, DISCORD_API_URL: rig.emulator.apiUrl }));
  assert.match(err, /could not log in to Discord/);
  assert.match(err, /Fix: set DISCORD_TOKEN in \.env to the bot token/);
  assert.ok(!err.includes('not-the.right-token'), 'the token is not echoed');
});
