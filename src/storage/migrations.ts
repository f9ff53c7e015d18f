// Schema migrations, in two tiers:
// - the storage layer's own schema: a numbered list applied in order, the version kept in SQLite's `user_version`
//   pragma (a header field, so it is known even before any table exists);
// - other modules' tables (moderation, ...): each module registers an ordered list of named migrations, applied
//   once each and recorded in the `migrations` table, so modules evolve independently of each other.
// Every migration runs in its own transaction together with its bookkeeping: it is applied entirely or not at all.
import type { Database } from 'better-sqlite3';

export interface Migration {
  /** Unique within its module; never rename one that has shipped. */
  name: string;
  /** SQL (may hold several statements) or a function for anything SQL cannot say. */
  up: string | ((db: Database) => void);
}

export interface MigrationSet {
  module: string;
  migrations: readonly Migration[];
}

const registry = new Map<string, readonly Migration[]>();

/**
 * Registers a module's migrations with the default registry that openDatabase() applies, after the core schema,
 * in registration order. Call at module load, before openDatabase(); registering the same names again is a no-op.
 */
export function registerMigrations(module: string, migrations: readonly Migration[]): void {
  validate(module, migrations);
  const existing = registry.get(module);
  if (existing && !sameNames(existing, migrations)) {
    throw new Error(`migrations for module "${module}" are already registered with a different list`);
  }
  registry.set(module, [...migrations]);
}

/** The modules registered so far, in registration order. */
export function registeredMigrations(): MigrationSet[] {
  return [...registry].map(([module, migrations]) => ({ module, migrations }));
}

/**
 * Applies a module's pending migrations now (also usable after openDatabase()). Returns the names applied.
 * Throws when the database has migrations this list does not know, or knows them at other places: that database
 * was made by a newer or different version of the code, and guessing would corrupt it.
 */
export function applyMigrations(db: Database, module: string, migrations: readonly Migration[]): string[] {
  validate(module, migrations);
  const rows = db
    .prepare<[string], { name: string; position: number }>('SELECT name, position FROM migrations WHERE module = ? ORDER BY position')
    .all(module);
  rows.forEach((row) => {
    const index = migrations.findIndex((m) => m.name === row.name);
    if (index === -1) throw new Error(`database has migration "${module}/${row.name}" that this code does not know`);
    if (index !== row.position) throw new Error(`migration "${module}/${row.name}" moved from place ${row.position} to ${index}`);
  });
  const done = new Set(rows.map((row) => row.name));
  const record = db.prepare('INSERT INTO migrations (module, name, position, applied_at) VALUES (?, ?, ?, ?)');
  const applied: string[] = [];
  migrations.forEach((migration, position) => {
    if (done.has(migration.name)) return;
    db.transaction(() => {
      run(db, migration);
      record.run(module, migration.name, position, Date.now());
    })();
    applied.push(migration.name);
  });
  return applied;
}

/**
 * Brings the core schema to the newest version of `versions` (versions[0] is version 1) using `user_version`.
 * Returns the version numbers applied.
 */
export function applyCoreMigrations(db: Database, versions: readonly Migration[]): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > versions.length) {
    throw new Error(`database schema version ${current} is newer than this code (${versions.length})`);
  }
  const applied: number[] = [];
  for (let version = current + 1; version <= versions.length; version++) {
    db.transaction(() => {
      run(db, versions[version - 1]!);
      db.pragma(`user_version = ${version}`);
    })();
    applied.push(version);
  }
  return applied;
}

function run(db: Database, migration: Migration): void {
  if (typeof migration.up === 'string') db.exec(migration.up);
  else migration.up(db);
}

function validate(module: string, migrations: readonly Migration[]): void {
  if (!module) throw new Error('migration module name must not be empty');
  const names = new Set<string>();
  for (const { name } of migrations) {
    if (!name) throw new Error(`module "${module}" has a migration without a name`);
    if (names.has(name)) throw new Error(`module "${module}" has two migrations named "${name}"`);
    names.add(name);
  }
}

function sameNames(a: readonly Migration[], b: readonly Migration[]): boolean {
  return a.length === b.length && a.every((m, i) => m.name === b[i]!.name);
}
