// Routes every interaction and message to its handler. A handler that throws never takes the bot down: the user
// gets an ephemeral apology (if the interaction is still answerable) and the log gets the error with ids, no tokens.
import { MessageFlags, type Interaction, type Message } from 'discord.js';
import type { BotCommand, BotContext, ComponentHandler, MessageHandler } from '../bot/types.ts';
import { forDiscordJs, notice } from './render.ts';

export class Router {
  private readonly slash = new Map<string, BotCommand>();
  private readonly menus = new Map<string, BotCommand>();
  private readonly components: ComponentHandler[];

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
        if (command?.kind === 'slash') await command.execute(interaction, ctx);
        else await this.unknown(interaction);
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
      } else if (interaction.isModalSubmit()) {
        const handler = this.component(interaction.customId);
        if (handler?.modal) await handler.modal(interaction, ctx);
        else await this.unknown(interaction);
      }
    } catch (err) {
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
