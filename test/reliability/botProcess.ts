// The real bot as a separate process (`node --import tsx src/index.ts`, exactly what `npm start` runs) against the
// local Discord emulator living in the test process. Crash tests need this: SIGKILL and SIGTERM must hit a real
// process, not a function call. Its stdout (pino JSON at LOG_LEVEL=debug) is kept line by line for assertions.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { before, after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDiscordEmulator, type DiscordEmulator } from '../emulator/index.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { emulatorEnv } from '../bot/env.ts';
import { tempDataDir } from './helpers.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LogLine {
  level?: number;
  msg?: string;
  jobId?: string;
  [key: string]: unknown;
}

export interface BotProcess {
  child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  /** Raw stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Parsed pino lines so far (non-JSON lines are skipped). */
  logs(): LogLine[];
  /** Resolves with the first log line matching the predicate (existing or future). */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment the bot needs to talk to `emulator` (the same as the in-process harness's), logging at debug. */
export function botEnv(emulator: DiscordEmulator, modelDir: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return emulatorEnv(emulator, modelDir, dataDir, { LOG_LEVEL: 'debug', ...extra });
}

const TSX = import.meta.resolve('tsx');
const ENTRY = join(REPO_ROOT, 'src', 'index.ts');

/**
 * Spawns the bot with exactly `env` (plus PATH/HOME), so nothing from the developer's shell leaks in. `cwd` is where
 * it runs (and reads its .env from): the repository by default.
 */
export function spawnBot(env: Record<string, string>, options: { cwd?: string } = {}): BotProcess {
  const child = spawn(process.execPath, ['--import', TSX, ENTRY], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let partial = '';
  const lines: LogLine[] = [];
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        // not a log line
      }
    }
    for (const wake of [...waiters]) wake();
  });
  child.stderr.on('data', (chunk: string) => {
    err += chunk;
    if (process.env.BOT_STDERR) process.stderr.write(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => {
    resolve({ code, signal });
    for (const wake of [...waiters]) wake();
  }));
  return {
    child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    logs: () => lines,
    exited,
    waitForLog(predicate, timeoutMs = 30_000, what = 'a log line') {
      return new Promise<LogLine>((resolve, reject) => {
        const check = () => {
          const hit = lines.find(predicate);
          if (hit) {
            finish();
            resolve(hit);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(new Error(`bot exited before ${what}\nstderr: ${err.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out waiting for ${what}\nlast log lines:\n${out.split('\n').slice(-15).join('\n')}\nstderr: ${err.slice(-2000)}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Spawns the bot and waits until it has connected and registered its commands. */
export async function startBotProcess(env: Record<string, string>): Promise<BotProcess> {
  const bot = spawnBot(env);
  await bot.waitForLog((l) => l.msg === 'connected to Discord', 60_000, 'the bot to connect');
  return bot;
}

/** SIGKILL and wait for the exit. */
export async function killHard(bot: BotProcess): Promise<void> {
  if (bot.child.exitCode === null && bot.child.signalCode === null) bot.child.kill('SIGKILL');
  await bot.exited;
}

/** What a test file of bot processes shares: one emulator, and the bots and data folders to clean up after it. */
export interface BotProcessRig {
  /** The Discord emulator (set once the file's `before` hook has run). */
  readonly emulator: DiscordEmulator;
  /** The tiny-sd15 test model folder (set once the file's `before` hook has run). */
  readonly modelDir: string;
  /** A fresh data folder, removed after the file's tests. */
  newDataDir(): Promise<string>;
  /** Spawns the bot as spawnBot does, without waiting for it; killed after the file's tests. */
  spawn(...args: Parameters<typeof spawnBot>): BotProcess;
  /** Starts the bot (tiny-sd15) on `dataDir` and waits until it is connected; killed after the file's tests. */
  boot(dataDir: string, env?: Record<string, string>): Promise<BotProcess>;
}

/** Registers the file's before/after hooks: start the emulator, and afterwards kill every bot and remove the folders. */
export function useBotProcesses(): BotProcessRig {
  let emulator: DiscordEmulator | undefined;
  let modelDir = '';
  const dataDirs: string[] = [];
  const bots: BotProcess[] = [];
  before(async () => {
    modelDir = join(await ensureTestModels(), 'tiny-sd15');
    emulator = await startDiscordEmulator();
  });
  after(async () => {
    for (const bot of bots) await killHard(bot);
    await emulator?.close();
    for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
  });
  const started = (): DiscordEmulator => {
    if (!emulator) throw new Error('the emulator starts in the before hook');
    return emulator;
  };
  return {
    get emulator() {
      return started();
    },
    get modelDir() {
      started();
      return modelDir;
    },
    spawn(...args) {
      const bot = spawnBot(...args);
      bots.push(bot);
      return bot;
    },
    async newDataDir() {
      const dir = await tempDataDir();
      dataDirs.push(dir);
      return dir;
    },
    async boot(dataDir, env = {}) {
      const bot = await startBotProcess(botEnv(started(), modelDir, dataDir, env));
      bots.push(bot);
      return bot;
    },
  };
}
