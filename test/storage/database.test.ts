import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CORE_MIGRATIONS,
  applyMigrations,
  databasePath,
  openDatabase,
  registerMigrations,
  registeredMigrations,
  type Migration,
} from '../../src/storage/index.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'imagine-storage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('openDatabase creates <dataDir>/imagine.db with WAL, busy timeout, foreign keys and the core schema', (t) => {
  const dir = join(tempDir(t), 'nested', 'data');
  const db = openDatabase(dir, { migrations: [] });
  t.after(() => db.close());
  assert.ok(existsSync(databasePath(dir)));
  assert.equal(databasePath(dir), join(dir, 'imagine.db'));
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
  assert.equal(db.pragma('user_version', { simple: true }), CORE_MIGRATIONS.length);
  const tables = db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all()
    .map((r) => r.name);
  assert.deepEqual(tables, ['generations', 'jobs', 'migrations']);
});

test('module migrations apply once each, in order, and survive reopening', (t) => {
  const dir = tempDir(t);
  let runs = 0;
  const v1: Migration[] = [
    { name: 'create-bans', up: 'CREATE TABLE bans (user_id TEXT PRIMARY KEY, reason TEXT)' },
    {
      name: 'seed-ban',
      up: (db) => {
        runs++;
        db.prepare("INSERT INTO bans VALUES ('u1', 'spam')").run();
      },
    },
  ];
  let db = openDatabase(dir, { migrations: [{ module: 'moderation', migrations: v1 }] });
  assert.equal(runs, 1);
  db.close();

  // Reopen with one more migration: only the new one runs.
  const v2: Migration[] = [...v1, { name: 'add-expiry', up: 'ALTER TABLE bans ADD COLUMN expires_at INTEGER' }];
  db = openDatabase(dir, { migrations: [{ module: 'moderation', migrations: v2 }] });
  t.after(() => db.close());
  assert.equal(runs, 1);
  assert.deepEqual(db.prepare('SELECT user_id, reason, expires_at FROM bans').all(), [{ user_id: 'u1', reason: 'spam', expires_at: null }]);
  const recorded = db.prepare('SELECT module, name, position FROM migrations ORDER BY position').all();
  assert.deepEqual(recorded, [
    { module: 'moderation', name: 'create-bans', position: 0 },
    { module: 'moderation', name: 'seed-ban', position: 1 },
    { module: 'moderation', name: 'add-expiry', position: 2 },
  ]);
  assert.deepEqual(applyMigrations(db, 'moderation', v2), [], 'nothing left to apply');
  assert.equal(db.pragma('user_version', { simple: true }), CORE_MIGRATIONS.length, 'core version unchanged');
});

test('a failing migration is rolled back and not recorded; a database ahead of the code is refused', (t) => {
  const dir = tempDir(t);
  const broken: Migration[] = [
    { name: 'ok', up: 'CREATE TABLE notes (id INTEGER PRIMARY KEY)' },
    { name: 'broken', up: 'CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1)' },
  ];
  assert.throws(() => openDatabase(dir, { migrations: [{ module: 'm', migrations: broken }] }), /no such table/);
  const db = openDatabase(dir, { migrations: [] });
  t.after(() => db.close());
  const names = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
  assert.ok(names.includes('notes'));
  assert.ok(!names.includes('half'), 'the failed migration left nothing behind');
  assert.deepEqual(db.prepare('SELECT name FROM migrations').all(), [{ name: 'ok' }]);
  assert.throws(() => applyMigrations(db, 'm', [{ name: 'other', up: 'SELECT 1' }]), /does not know/);
  assert.throws(
    () => applyMigrations(db, 'm', [{ name: 'first', up: 'SELECT 1' }, { name: 'ok', up: 'SELECT 1' }]),
    /moved from place 0 to 1/,
  );
  assert.throws(() => applyMigrations(db, 'm', [{ name: 'x', up: '' }, { name: 'x', up: '' }]), /two migrations named/);
  db.pragma(`user_version = ${CORE_MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(() => openDatabase(dir, { migrations: [] }), /newer than this code/);
});

test('registerMigrations feeds openDatabase by default and rejects a conflicting list', (t) => {
  const dir = tempDir(t);
  const list: Migration[] = [{ name: 'create-registered', up: 'CREATE TABLE registered_things (id INTEGER PRIMARY KEY)' }];
  registerMigrations('test-registered', list);
  registerMigrations('test-registered', list); // same list again: fine
  assert.throws(() => registerMigrations('test-registered', [{ name: 'other', up: '' }]), /different list/);
  assert.ok(registeredMigrations().some((set) => set.module === 'test-registered'));
  const db = openDatabase(dir);
  t.after(() => db.close());
  assert.deepEqual(db.prepare("SELECT name FROM sqlite_master WHERE name = 'registered_things'").all(), [{ name: 'registered_things' }]);
});
