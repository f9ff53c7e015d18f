// Starts the real bot (startBot, real discord.js client, real inference worker on a tiny test model) against the
// local Discord emulator. Each harness gets its own data folder; restart() stops and starts the bot on the same
// folder (what a crash-and-restart test needs).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import { startBot, type RunningBot } from '../../src/bot/app.ts';
import type { Logger } from '../../src/log.ts';
import { startDiscordEmulator, type DiscordEmulator, type EmulatorOptions } from '../emulator/index.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { emulatorEnv } from './env.ts';

export interface Harness {
  emulator: DiscordEmulator;
  bot: RunningBot;
  config: Config;
  dataDir: string;
  /** Stop the bot gracefully and start a new one on the same data folder. */
  restart(): Promise<RunningBot>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  model?: string;
  env?: Record<string, string>;
  emulator?: EmulatorOptions;
  /** Log to stderr at this level (default silent; set LOG_LEVEL=debug to see the bot's logs). */
  logLevel?: string;
  /** The bot's logger (replaces logLevel), e.g. one that keeps its lines for assertions. */
  log?: Logger;
}

export function configFor(emulator: DiscordEmulator, modelDir: string, dataDir: string, env: Record<string, string> = {}): Config {
  return loadConfig(emulatorEnv(emulator, modelDir, dataDir, env));
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const root = await ensureTestModels();
  const modelDir = join(root, options.model ?? 'tiny-sd15');
  const dataDir = await mkdtemp(join(tmpdir(), 'imagine-bot-test-'));
  const emulator = await startDiscordEmulator(options.emulator);
  const config = configFor(emulator, modelDir, dataDir, options.env);
  const log = options.log ?? pino({ level: process.env.LOG_LEVEL ?? options.logLevel ?? 'silent' });
  const boot = async () => {
    const bot = await startBot(config, { log });
    await bot.ready;
    return bot;
  };
  let bot = await boot();
  await emulator.waitForCommands(emulator.guild.id);
  const harness: Harness = {
    emulator,
    get bot() {
      return bot;
    },
    config,
    dataDir,
    async restart() {
      await bot.stop('test restart');
      bot = await boot();
      return bot;
    },
    async close() {
      await bot.stop('test end').catch(() => undefined);
      await emulator.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return harness;
}
