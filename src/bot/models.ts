// The models this bot offers, as commands see them: the local catalog (MODELS_DIR + MODEL_DIR) and, in Redis mode, the
// models live workers advertise; each server's default model and hidden models (/mod model). Every path that starts
// a job asks choose() which model it runs on, so a hidden or vanished model is refused with a sentence, never queued.
import type { ModelCatalog } from '../models/catalog.ts';
import type { ImagineDefaults } from '../pipeline/modelFolder.ts';
import type { SamplerName } from '../pipeline/schedulers/types.ts';
import type { ModelSettingsStore } from '../moderation/modelSettings.ts';
import { modelDefaults, type ModelDefaults } from '../pipeline/request.ts';
import { RequestError } from '../discord/requestError.ts';

export interface ModelChoice {
  name: string;
  /** "SD 1.x", "SD 2.x", "LCM", ... */
  family: string;
  width: number;
  height: number;
  defaults: ImagineDefaults;
  /** The sampler its scheduler config implies. */
  folderSampler: SamplerName;
}

/** What a Redis worker says about a model it serves (src/scale/protocol.ts AdvertisedModel, narrowed). */
export interface RemoteModel {
  name: string;
  family?: string;
  defaults: ImagineDefaults;
  info: { defaultSampler: SamplerName };
}

export interface BotModelsOptions {
  /** MODEL_DIR's folder name. */
  defaultModel: string;
  local?: ModelCatalog;
  /** Redis mode: the models live workers serve now. */
  remote?: () => readonly RemoteModel[];
  settings: ModelSettingsStore;
}

export class BotModels {
  constructor(private readonly o: BotModelsOptions) {}

  get defaultModel(): string {
    return this.o.defaultModel;
  }

  /** Every model offered (local ones first, then those only workers have), by name. */
  all(): ModelChoice[] {
    const out = new Map<string, ModelChoice>();
    for (const m of this.o.local?.models ?? []) {
      out.set(m.name, { name: m.name, family: m.family, width: m.width, height: m.height, defaults: m.defaults, folderSampler: m.folderSampler });
    }
    for (const m of this.o.remote?.() ?? []) {
      if (out.has(m.name)) continue;
      out.set(m.name, { name: m.name, family: m.family ?? 'SD', width: m.defaults.width ?? 512, height: m.defaults.height ?? 512, defaults: m.defaults, folderSampler: m.info.defaultSampler });
    }
    return [...out.values()];
  }

  get(name: string): ModelChoice | undefined {
    return this.all().find((m) => m.name === name);
  }

  /** /imagine's defaults for a model (imagine.json, then the folder's scheduler). */
  defaultsFor(name: string | undefined): ModelDefaults {
    const model = this.get(name ?? this.o.defaultModel) ?? this.get(this.o.defaultModel);
    return modelDefaults(model?.defaults ?? {}, model?.folderSampler ?? 'pndm');
  }

  /** The models a server may use, and its default among them (undefined when it hides every model). */
  forGuild(guildId: string | null): { defaultModel: string | undefined; visible: ModelChoice[] } {
    const settings = this.o.settings.get(guildId);
    const hidden = new Set(settings.hidden);
    const visible = this.all().filter((m) => !hidden.has(m.name));
    const names = new Set(visible.map((m) => m.name));
    const defaultModel = [settings.defaultModel, this.o.defaultModel].find((n): n is string => Boolean(n && names.has(n))) ?? visible[0]?.name;
    return { defaultModel, visible };
  }

  /**
   * The model a request in this server runs on: `requested` (a model option, or the model of the job a button
   * derives from) or the server's default. Throws RequestError naming the problem when it is unknown or hidden.
   */
  choose(guildId: string | null, requested: string | null | undefined): string {
    const { defaultModel, visible } = this.forGuild(guildId);
    if (!requested) {
      if (!defaultModel) throw new RequestError('No model is available in this server (the moderators have hidden them all).');
      return defaultModel;
    }
    if (visible.some((m) => m.name === requested)) return requested;
    const names = visible.map((m) => m.name).join(', ') || 'none';
    if (this.get(requested)) throw new RequestError(`The model ${requested} is not available in this server. Available: ${names}.`);
    throw new RequestError(`There is no model called ${requested} on this bot. Available: ${names}.`);
  }

  /** /mod model default: the server's default model (null: back to the bot's). Returns a refusal sentence, or undefined. */
  setGuildDefault(guildId: string, model: string | null, actor: string): string | undefined {
    if (model !== null) {
      if (!this.get(model)) return `There is no model called ${model} on this bot.`;
      if (this.o.settings.get(guildId).hidden.includes(model)) return `${model} is hidden in this server; show it first (/mod model show).`;
    }
    this.o.settings.setDefault(guildId, model, actor);
    return undefined;
  }

  /** /mod model hide|show. Returns a refusal sentence, or undefined. */
  setHidden(guildId: string, model: string, hidden: boolean, actor: string): string | undefined {
    if (!this.get(model) && hidden) return `There is no model called ${model} on this bot.`;
    if (hidden) {
      const settings = this.o.settings.get(guildId);
      if (settings.defaultModel === model) return `${model} is this server's default model; choose another default first (/mod model default).`;
      const left = this.all().filter((m) => m.name !== model && !settings.hidden.includes(m.name));
      if (left.length === 0) return 'That is the last model this server can use; at least one must stay.';
    }
    this.o.settings.setHidden(guildId, model, hidden, actor);
    return undefined;
  }

  /** The server's own settings, as stored (names may include models removed since). */
  guildSettings(guildId: string | null): { defaultModel: string | null; hidden: string[] } {
    return this.o.settings.get(guildId);
  }

  /** choose(), with that model's defaults: what buildParams needs. */
  pick(guildId: string | null, requested: string | null | undefined): { model: string; defaults: ModelDefaults } {
    const model = this.choose(guildId, requested);
    return { model, defaults: this.defaultsFor(model) };
  }
}

/** An autocomplete entry: "name · family · 512×512" (Discord allows 100 characters). */
export function modelChoiceLabel(model: ModelChoice, isDefault: boolean): string {
  const label = `${model.name} · ${model.family} · ${model.width}×${model.height}${isDefault ? ' · default' : ''}`;
  return label.length <= 100 ? label : `${label.slice(0, 99)}…`;
}

/** Up to 25 autocomplete choices for what the user typed so far (a case-insensitive part of the name). */
export function modelAutocomplete(models: BotModels, guildId: string | null, typed: string): { name: string; value: string }[] {
  const { defaultModel, visible } = models.forGuild(guildId);
  const needle = typed.trim().toLowerCase();
  return visible
    .filter((m) => m.name.toLowerCase().includes(needle))
    .sort((a, b) => Number(b.name === defaultModel) - Number(a.name === defaultModel) || a.name.localeCompare(b.name))
    .slice(0, 25)
    .map((m) => ({ name: modelChoiceLabel(m, m.name === defaultModel), value: m.name.slice(0, 100) }));
}
