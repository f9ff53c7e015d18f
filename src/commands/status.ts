// /status: model, provider, queue depth, uptime and recent speed.
import { ApplicationCommandType, MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/types.ts';
import { forDiscordJs, formatDuration, notice } from '../discord/render.ts';

export const status: SlashCommand = {
  kind: 'slash',
  data: { type: ApplicationCommandType.ChatInput, name: 'status', description: 'The bot\'s model, speed and queue' },
  async execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
    const info = ctx.jobs.engine.info;
    const perStep = ctx.jobs.engine.secondsPerStep();
    const lines = [
      `**Model:** ${info?.modelName ?? 'not loaded'} · **Provider:** ${info?.provider ?? ctx.config.provider} · **Attention:** ${info?.attention ?? ctx.config.attentionSlicing}${ctx.config.lowMemory ? ' · low-memory mode' : ''}`,
      `**Queue:** ${ctx.jobs.queue.pending} running, ${ctx.jobs.queue.size} waiting (max ${ctx.config.maxQueue}, ${ctx.config.maxJobsPerUser} per user)`,
      `**Speed:** ${perStep === undefined ? 'no jobs yet' : `${perStep.toFixed(2)} s per step (recent jobs)`}`,
      `**Uptime:** ${formatDuration(Date.now() - ctx.startedAt)}`,
    ];
    await interaction.reply({ ...forDiscordJs(notice(lines.join('\n'))), flags: MessageFlags.Ephemeral });
  },
};
