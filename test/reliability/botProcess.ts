// The real bot as a separate process (`node --import tsx src/index.ts`, exactly what `npm start` runs) against the
// local Discord emulator living in the test process. Crash tests need this: SIGKILL and SIGTERM must hit a real
// process, not a function call. Its stdout (pino JSON at LOG_LEVEL=debug) is kept line by line for assertions.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DiscordEmulator } from '../emulator/index.ts';

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

/** The environment the bot needs to talk to `emulator` (same variables as test/bot/harness.ts configFor). */
export function botEnv(emulator: DiscordEmulator, modelDir: string, dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DISCORD_TOKEN: emulator.token,
    DISCORD_API_URL: emulator.apiUrl,
    DEV_GUILD_ID: String(emulator.guild.id),
    MODEL_DIR: modelDir,
    DATA_DIR: dataDir,
    ATTACHMENT_HOSTS: new URL(emulator.url).host,
    ORT_THREADS: '1',
    PROGRESS_INTERVAL_MS: '250',
    SHUTDOWN_GRACE_SECONDS: '5',
    LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** Spawns the bot with exactly `env` (plus PATH/HOME), so nothing from the developer's shell leaks in. */
export function spawnBot(env: Record<string, string>): BotProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    cwd: REPO_ROOT,
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
