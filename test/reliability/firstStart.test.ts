// A newcomer's first start, as the README tells it: `cp .env.example .env`, fill in the token and the model folder,
// `npm start`. The bot runs as a real process in a folder holding only that .env (so .env.example and the code cannot
// drift apart unnoticed), against the local Discord emulator, and must connect, register its commands and answer
// /imagine. Each way a first start can fail must say what to do next.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDiscordEmulator, type DiscordEmulator } from '../emulator/index.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { finalOf } from '../bot/helpers.ts';
import { killHard, REPO_ROOT, spawnBot, type BotProcess } from './botProcess.ts';

let emulator: DiscordEmulator;
let modelDir: string;
const dirs: string[] = [];
const bots: BotProcess[] = [];

before(async () => {
  modelDir = join(await ensureTestModels(), 'tiny-sd15');
  emulator = await startDiscordEmulator();
});
after(async () => {
  for (const bot of bots) await killHard(bot);
  await emulator?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'imagine-first-start-'));
  dirs.push(dir);
  return dir;
}

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
  const bot = spawnBot(env, { cwd: dir });
  bots.push(bot);
  return { bot, dir };
}

test('a .env made from .env.example (token and model filled in) starts, registers the commands and answers /imagine', async () => {
  // DISCORD_API_URL points discord.js at the emulator instead of discord.com; everything else is the example's.
  const envText = await envFromExample({ DISCORD_TOKEN: emulator.token, MODEL_DIR: modelDir, DISCORD_API_URL: emulator.apiUrl });
  assert.match(envText, /^SHARDS=auto$/m, 'the example keeps its sharded-start setting, which must not reach an ordinary start');
  const { bot } = await startIn(envText);
  await bot.waitForLog((l) => l.msg === 'connected to Discord', 60_000, 'the bot to connect');
  // No DEV_GUILD_ID in the example: the commands are registered globally.
  await emulator.waitForCommands(undefined, 20_000);
  const handle = emulator.slashCommand({ name: 'imagine', options: { prompt: 'a first picture', seed: 3 }, channelId: emulator.channels.nsfw.id });
  await finalOf(handle, 90_000);
  assert.equal(bot.child.exitCode, null, 'still running');
  assert.deepEqual(emulator.unknownRequests(), []);
});
