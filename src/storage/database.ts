// Opens the bot's SQLite database and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { applyCoreMigrations, applyMigrations, registeredMigrations, type MigrationSet } from './migrations.ts';
import { CORE_MIGRATIONS } from './schema.ts';

export type { Database } from 'better-sqlite3';

export const DATABASE_FILE = 'imagine.db';

export interface OpenDatabaseOptions {
  /** Module migrations to apply after the core schema; default: everything passed to registerMigrations(). */
  migrations?: readonly MigrationSet[];
  /** How long a writer waits for another connection's lock before SQLITE_BUSY; default 5000 ms. */
  busyTimeoutMs?: number;
}

/** The database file's path inside a data directory. */
export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

/**
 * Opens (creating if needed) `<dataDir>/imagine.db` with WAL journaling (readers never block the writer), a busy
 * timeout, and foreign keys enforced, then applies pending migrations. The caller closes it (`db.close()`).
 */
export function openDatabase(dataDir: string, options: OpenDatabaseOptions = {}): Database {
  mkdirSync(dataDir, { recursive: true });
  const db = new BetterSqlite3(databasePath(dataDir));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
    db.pragma('foreign_keys = ON');
    // With WAL, NORMAL stays consistent after a crash and only risks the last commits on power loss.
    db.pragma('synchronous = NORMAL');
    applyCoreMigrations(db, CORE_MIGRATIONS);
    for (const set of options.migrations ?? registeredMigrations()) applyMigrations(db, set.module, set.migrations);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
