// Small helpers shared by the reliability tests: finding a job's id and its result messages in the emulator, and
// reading job states from the bot's database after (or between) runs.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { DiscordEmulator, InteractionHandle, Json } from '../emulator/index.ts';
import { DATABASE_FILE } from '../../src/storage/database.ts';

export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'imagine-bot-reliability-'));
}

/** The job id behind an interaction, from the Cancel button of the first message the bot showed. */
export async function jobIdOf(handle: InteractionHandle, timeoutMs = 10_000): Promise<string> {
  const hit = await handle.waitFor((r) => /img:cancel:[0-9a-f-]+/.test(JSON.stringify(r.body ?? '')), timeoutMs, 'a message with a Cancel button');
  return /img:cancel:([0-9a-f-]+)/.exec(JSON.stringify(hit.body))![1]!;
}

/** Messages in a channel that show the job's result (the result embed's footer names the job). */
export function resultMessages(emulator: DiscordEmulator, channelId: string, jobId: string): Json[] {
  return emulator.messages(channelId).filter((m: Json) => (m.embeds as Json[] | undefined)?.some((e) => e.footer?.text === `job ${jobId}`));
}

/** Successful REST calls that uploaded a PNG for this job (the result, whatever route it took). */
export function resultUploads(emulator: DiscordEmulator, jobId: string): Json[] {
  return emulator.requests.filter((r) => (r.status ?? 0) < 300 && r.files.some((f) => f.filename.endsWith('.png')) && JSON.stringify(r.body ?? '').includes(`job ${jobId}`)) as Json[];
}

export interface JobStateRow {
  id: string;
  state: string;
  attempts: number;
  error: string | null;
}

/** Job rows as the bot left them (read-only; safe while the bot runs, SQLite WAL). */
export function readJobs(dataDir: string): JobStateRow[] {
  const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, state, attempts, error FROM jobs ORDER BY created_at, rowid').all() as JobStateRow[];
  } finally {
    db.close();
  }
}

/** Text of everything the bot sent for an interaction (callbacks and webhook edits), for "was the user told" checks. */
export function saidTo(handle: InteractionHandle): string {
  return handle.responses.map((r) => JSON.stringify(r.body ?? '')).join('\n');
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
