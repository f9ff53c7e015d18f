// Per-server model choices that moderators set with /mod model: the server's default model and the models hidden
// from it. Names are model folder names; a name whose folder is gone later is simply ignored by the bot (the store
// keeps it, so putting the folder back restores the setting).
import type Database from 'better-sqlite3';

export interface GuildModelSettings {
  /** null: the bot's default (MODEL_DIR). */
  defaultModel: string | null;
  hidden: string[];
}

const EMPTY: GuildModelSettings = { defaultModel: null, hidden: [] };

export class ModelSettingsStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS guild_model_settings (
        guild_id TEXT PRIMARY KEY,
        default_model TEXT,
        hidden_models TEXT NOT NULL DEFAULT '[]',
        updated_by TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `);
  }

  get(guildId: string | null): GuildModelSettings {
    if (!guildId) return EMPTY;
    const row = this.db
      .prepare<[string], { default_model: string | null; hidden_models: string }>('SELECT default_model, hidden_models FROM guild_model_settings WHERE guild_id = ?')
      .get(guildId);
    if (!row) return EMPTY;
    let hidden: string[] = [];
    try {
      const parsed: unknown = JSON.parse(row.hidden_models);
      if (Array.isArray(parsed)) hidden = parsed.filter((v): v is string => typeof v === 'string');
    } catch {
      hidden = [];
    }
    return { defaultModel: row.default_model, hidden };
  }

  setDefault(guildId: string, model: string | null, actor: string): void {
    this.#write(guildId, { ...this.get(guildId), defaultModel: model }, actor);
  }

  setHidden(guildId: string, model: string, hidden: boolean, actor: string): void {
    const current = this.get(guildId);
    const set = new Set(current.hidden);
    if (hidden) set.add(model);
    else set.delete(model);
    this.#write(guildId, { ...current, hidden: [...set].sort() }, actor);
  }

  #write(guildId: string, settings: GuildModelSettings, actor: string): void {
    this.db
      .prepare(
        `INSERT INTO guild_model_settings (guild_id, default_model, hidden_models, updated_by, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (guild_id) DO UPDATE SET default_model = excluded.default_model, hidden_models = excluded.hidden_models,
           updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
      )
      .run(guildId, settings.defaultModel, JSON.stringify(settings.hidden), actor, Date.now());
  }
}
