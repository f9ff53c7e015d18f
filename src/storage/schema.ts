// The storage layer's own schema, one entry per user_version. Append new versions; never edit a shipped one.
// Times are epoch milliseconds (INTEGER); JSON columns hold TEXT.
import type { Migration } from './migrations.ts';

export const CORE_MIGRATIONS: readonly Migration[] = [
  {
    name: 'core-1-jobs-generations-migrations',
    up: `
      CREATE TABLE migrations (
        module     TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        position   INTEGER NOT NULL,
        applied_at INTEGER NOT NULL,
        PRIMARY KEY (module, name)
      );

      CREATE TABLE jobs (
        id                  TEXT    PRIMARY KEY,
        user_id             TEXT    NOT NULL,
        guild_id            TEXT,
        channel_id          TEXT,
        application_id      TEXT,
        interaction_token   TEXT,
        token_expires_at    INTEGER,
        message_id          TEXT,
        params              TEXT    NOT NULL,
        result              TEXT,
        state               TEXT    NOT NULL DEFAULT 'queued'
                            CHECK (state IN ('queued', 'running', 'succeeded', 'delivered', 'failed', 'cancelled', 'timed_out')),
        priority            INTEGER NOT NULL DEFAULT 0,
        attempts            INTEGER NOT NULL DEFAULT 0,
        error               TEXT,
        created_at          INTEGER NOT NULL,
        updated_at          INTEGER NOT NULL,
        started_at          INTEGER,
        finished_at         INTEGER,
        delivery_claimed_at INTEGER,
        delivered_at        INTEGER
      );
      CREATE INDEX jobs_by_state ON jobs (state, created_at);
      CREATE INDEX jobs_by_user ON jobs (user_id, created_at);

      CREATE TABLE generations (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id          TEXT    REFERENCES jobs (id) ON DELETE SET NULL,
        guild_id        TEXT,
        channel_id      TEXT    NOT NULL,
        user_id         TEXT    NOT NULL,
        message_id      TEXT    NOT NULL,
        message_link    TEXT,
        image_index     INTEGER NOT NULL DEFAULT 0,
        prompt          TEXT    NOT NULL,
        negative_prompt TEXT,
        seed            INTEGER NOT NULL,
        steps           INTEGER NOT NULL,
        sampler         TEXT,
        model           TEXT,
        width           INTEGER,
        height          INTEGER,
        file_path       TEXT,
        created_at      INTEGER NOT NULL,
        deleted         INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
        deleted_at      INTEGER,
        deleted_by      TEXT
      );
      CREATE INDEX generations_by_message ON generations (message_id);
      CREATE INDEX generations_by_user ON generations (user_id, created_at);
      CREATE INDEX generations_by_job ON generations (job_id);
    `,
  },
];
