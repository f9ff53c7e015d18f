// /status: models (which are loaded, or in Redis mode which worker holds which), provider, queue depth, uptime, speed.
import { ApplicationCommandType, MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/types.ts';
import { forDiscordJs, formatDuration, notice } from '../discord/messageBodies.ts';
import { ModelPool } from '../jobs/modelPool.ts';
import { formatBytes } from '../models/catalog.ts';
import { RemoteEngine } from '../scale/remoteEngine.ts';

/** One line per model or worker; Discord's message limit keeps the list short. */
const MAX_LINES = 12;

function modelLines(ctx: BotContext, guildId: string | null): string[] {
  const engine = ctx.jobs.engine;
  const { defaultModel, visible } = ctx.models.forGuild(guildId);
  if (engine instanceof RemoteEngine) {
    const workers = engine.workerList();
    if (workers.length === 0) return ['**Workers:** none online (start one with `npm run worker`)'];
    const lines = workers.slice(0, MAX_LINES).map((w) => `• \`${w.id}\` holds ${w.models.map((m) => `**${m.name}**${m.loaded ? '' : ' (not loaded)'}`).join(', ') || 'no model'}${w.running.length ? ' · busy' : ' · idle'}`);
    if (workers.length > MAX_LINES) lines.push(`…and ${workers.length - MAX_LINES} more workers`);
    return [`**Workers:** ${workers.length}`, ...lines];
  }
  if (engine instanceof ModelPool) {
    const loaded = engine.loadedModels();
    return [
      `**Models:** ${visible.length} offered here (default ${defaultModel ?? 'none'}) · **loaded:** ${loaded.join(', ') || 'none'} (${formatBytes(engine.usedBytes)} of ${formatBytes(engine.budgetBytes)} budget)`,
    ];
  }
  return [`**Model:** ${engine.info?.modelName ?? 'not loaded'}`];
}

export const status: SlashCommand = {
  kind: 'slash',
  data: { type: ApplicationCommandType.ChatInput, name: 'status', description: "The bot's models, speed and queue" },
  async execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
    const info = ctx.jobs.engine.info;
    const perStep = ctx.jobs.engine.secondsPerStep();
    const lines = [
      ...modelLines(ctx, interaction.guildId),
      `**Provider:** ${info?.provider ?? ctx.config.provider} · **Attention:** ${info?.attention ?? ctx.config.attentionSlicing}${ctx.config.lowMemory ? ' · low-memory mode' : ''}`,
      `**Queue:** ${ctx.jobs.queue.pending} running, ${ctx.jobs.queue.size} waiting (max ${ctx.config.maxQueue}, ${ctx.config.maxJobsPerUser} per user)`,
      `**Speed:** ${perStep === undefined ? 'no jobs yet' : `${perStep.toFixed(2)} s per step (recent jobs)`}`,
      `**Uptime:** ${formatDuration(Date.now() - ctx.startedAt)}`,
    ];
    await interaction.reply({ ...forDiscordJs(notice(lines.join('\n'))), flags: MessageFlags.Ephemeral });
  },
};
