// Routes every interaction and message to its handler. A handler that throws never takes the bot down: the user
// gets an ephemeral apology (if the interaction is still answerable) and the log gets the error with ids, no tokens.
// A slash command whose options do not match its definition (wrong type, missing, unknown: only a client other than
// Discord's sends those) is answered with what is wrong and logged as a warning, throttled, without a stack.
import { DiscordjsErrorCodes, MessageFlags, type ChatInputCommandInteraction, type Interaction, type Message } from 'discord.js';
import type { BotCommand, BotContext, ComponentHandler, MessageHandler } from '../bot/types.ts';
import { optionProblem, type OptionProblem } from './commandOptions.ts';
import { forDiscordJs, notice } from './messageBodies.ts';
import { WarningThrottle } from './warningThrottle.ts';

/** discord.js's errors for options a handler asked for that the interaction does not have in that type. */
const OPTION_ERRORS: ReadonlySet<string> = new Set([
  DiscordjsErrorCodes.CommandInteractionOptionNotFound,
  DiscordjsErrorCodes.CommandInteractionOptionType,
  DiscordjsErrorCodes.CommandInteractionOptionEmpty,
  DiscordjsErrorCodes.CommandInteractionOptionNoSubcommand,
  DiscordjsErrorCodes.CommandInteractionOptionNoSubcommandGroup,
]);

function isOptionError(err: unknown): err is Error & { code: string } {
  return err instanceof Error && OPTION_ERRORS.has((err as { code?: string }).code ?? '');
}

export class Router {
  private readonly slash = new Map<string, BotCommand>();
  private readonly menus = new Map<string, BotCommand>();
  private readonly components: ComponentHandler[];
  private readonly malformedWarnings = new WarningThrottle();

  constructor(
    commands: readonly BotCommand[],
    components: readonly ComponentHandler[],
    private readonly messageHandlers: readonly MessageHandler[],
    private readonly ctx: () => BotContext,
  ) {
    for (const command of commands) (command.kind === 'slash' ? this.slash : this.menus).set(command.data.name, command);
    // Longest prefix first, so `modal:remix` wins over a generic `modal`.
    this.components = [...components].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  private component(customId: string): ComponentHandler | undefined {
    return this.components.find((h) => customId === h.prefix || customId.startsWith(`${h.prefix}:`));
  }

  async onInteraction(interaction: Interaction): Promise<void> {
    const ctx = this.ctx();
    try {
      if (interaction.isChatInputCommand()) {
        const command = this.slash.get(interaction.commandName);
        if (command?.kind !== 'slash') return await this.unknown(interaction);
        const problem = optionProblem(command.data.options, interaction.options.data);
        if (problem) return await this.malformed(interaction, ctx, problem);
        await command.execute(interaction, ctx);
      } else if (interaction.isAutocomplete()) {
        const command = this.slash.get(interaction.commandName);
        if (command?.kind === 'slash' && command.autocomplete) await command.autocomplete(interaction, ctx);
        else await interaction.respond([]);
      } else if (interaction.isMessageContextMenuCommand()) {
        const command = this.menus.get(interaction.commandName);
        if (command?.kind === 'message-menu') await command.execute(interaction, ctx);
        else await this.unknown(interaction);
      } else if (interaction.isButton()) {
        const handler = this.component(interaction.customId);
        if (handler?.button) await handler.button(interaction, ctx);
        else await this.unknown(interaction);
      } else if (interaction.isStringSelectMenu()) {
        const handler = this.component(interaction.customId);
        if (handler?.select) await handler.select(interaction, ctx);
        else await this.unknown(interaction);
      } else if (interaction.isModalSubmit()) {
        const handler = this.component(interaction.customId);
        if (handler?.modal) await handler.modal(interaction, ctx);
        else await this.unknown(interaction);
      }
    } catch (err) {
      // A handler asked for an option the check above let through in another shape: still the request's fault.
      if (interaction.isChatInputCommand() && isOptionError(err)) {
        return await this.malformed(interaction, ctx, { key: `handler:${err.code}`, message: `One of the options is missing or has the wrong type (${err.message.slice(0, 120)}).` });
      }
      ctx.log.error({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err), interactionId: interaction.id, userId: interaction.user.id }, 'interaction handler failed');
      if (interaction.isRepliable()) {
        const body = { ...forDiscordJs(notice('Something went wrong on the bot’s side; it has been logged. Please try again.')), flags: MessageFlags.Ephemeral as const };
        try {
          if (interaction.deferred || interaction.replied) await interaction.followUp(body);
          else await interaction.reply(body);
        } catch {
          // The interaction may have expired; nothing more to do.
        }
      }
    }
  }

  /** Answers a malformed request with its problem; logs it at warn, at most once a minute per command and problem. */
  private async malformed(interaction: ChatInputCommandInteraction, ctx: BotContext, problem: OptionProblem): Promise<void> {
    const admitted = this.malformedWarnings.admit(`${interaction.commandName}:${problem.key}`);
    if (admitted.log) {
      ctx.log.warn(
        { command: interaction.commandName, problem: problem.message, interactionId: interaction.id, userId: interaction.user.id, ...(admitted.suppressed ? { suppressedSinceLast: admitted.suppressed } : {}) },
        'malformed command options',
      );
    }
    const body = { ...forDiscordJs(notice(`That request could not be run: ${problem.message}`)), flags: MessageFlags.Ephemeral as const };
    if (interaction.replied || interaction.deferred) await interaction.followUp(body);
    else await interaction.reply(body);
  }

  private async unknown(interaction: Interaction): Promise<void> {
    if (!interaction.isRepliable()) return;
    await interaction.reply({ ...forDiscordJs(notice('This command or button is not known to this version of the bot.')), flags: MessageFlags.Ephemeral });
  }

  async onMessage(message: Message): Promise<void> {
    if (message.author.bot) return;
    const ctx = this.ctx();
    for (const handler of this.messageHandlers) {
      try {
        if (await handler(message, ctx)) return;
      } catch (err) {
        ctx.log.error({ err: err instanceof Error ? err.message : String(err), messageId: message.id }, 'message handler failed');
        return;
      }
    }
  }
}
