// The contracts between the bot's parts: what a command module exports and what every handler can reach.
import type {
  AutocompleteInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  Client,
  Message,
  MessageContextMenuCommandInteraction,
  ModalSubmitInteraction,
  StringSelectMenuInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
  RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord.js';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { JobService } from '../jobs/service.ts';
import type { ModerationService } from '../moderation/index.ts';
import type { GenerationStore, Database } from '../storage/index.ts';
import type { Delivery } from '../discord/delivery.ts';
import type { ModelDefaults } from '../pipeline/request.ts';
import type { BotModels } from './models.ts';

export interface BotContext {
  config: Config;
  log: Logger;
  client: Client;
  db: Database;
  jobs: JobService;
  delivery: Delivery;
  moderation: ModerationService;
  generations: GenerationStore;
  /** The models offered (catalog, per-server defaults and hidden ones). */
  models: BotModels;
  /** The default model's defaults for /imagine (sampler, steps, guidance, size); other models: models.defaultsFor. */
  defaults: ModelDefaults;
  startedAt: number;
}

/** A slash command: its registration body and its handler (one file each under src/commands). */
export interface SlashCommand {
  kind: 'slash';
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void>;
  /** Suggestions for options registered with `autocomplete: true`. */
  autocomplete?(interaction: AutocompleteInteraction, ctx: BotContext): Promise<void>;
}

/** A message context-menu command ("Apps → Reimagine"). */
export interface MessageMenuCommand {
  kind: 'message-menu';
  data: RESTPostAPIContextMenuApplicationCommandsJSONBody;
  execute(interaction: MessageContextMenuCommandInteraction, ctx: BotContext): Promise<void>;
}

export type BotCommand = SlashCommand | MessageMenuCommand;

/**
 * Handles buttons and modals whose custom_id starts with `<prefix>:` (e.g. `img`, `modal:remix`; longest prefix wins). Commands may export one as `components`
 * (e.g. the moderation log's buttons), so everything about a feature stays in its file.
 */
export interface ComponentHandler {
  prefix: string;
  button?(interaction: ButtonInteraction, ctx: BotContext): Promise<void>;
  modal?(interaction: ModalSubmitInteraction, ctx: BotContext): Promise<void>;
  select?(interaction: StringSelectMenuInteraction, ctx: BotContext): Promise<void>;
}

/** A plain-message handler (reply-with-image). Returns true when it handled the message. */
export type MessageHandler = (message: Message, ctx: BotContext) => Promise<boolean>;
