// /queue: what is running and waiting, and where the caller's own jobs are.
import { ApplicationCommandType, MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/types.ts';
import { forDiscordJs, notice, quotePrompt, formatDuration } from '../discord/messageBodies.ts';

export const queue: SlashCommand = {
  kind: 'slash',
  data: { type: ApplicationCommandType.ChatInput, name: 'queue', description: 'Show the image queue and your place in it' },
  async execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
    const snapshot = await ctx.jobs.queue.snapshot();
    const me = interaction.user.id;
    const lines: string[] = [];
    const perStep = ctx.jobs.engine.secondsPerStep();
    lines.push(`**Running:** ${snapshot.running.length} · **Waiting:** ${snapshot.waiting.length}`);
    for (const view of snapshot.running) {
      const mine = view.job.userId === me;
      const since = view.startedAt ? ` for ${formatDuration(Date.now() - view.startedAt)}` : '';
      lines.push(`▶️ ${mine ? `your job ${quotePrompt(view.job.params.prompt, 60)}` : 'a job'}${since}`);
    }
    let ahead = 0;
    for (const view of snapshot.waiting) {
      if (view.job.userId === me) {
        const eta = perStep ? ` · starts in about ${formatDuration((ahead + snapshot.running.length) * perStep * view.job.params.steps * 1000)}` : '';
        lines.push(`#${view.position} your job ${quotePrompt(view.job.params.prompt, 60)}${eta}`);
      }
      ahead++;
    }
    if (snapshot.waiting.length && !snapshot.waiting.some((v) => v.job.userId === me)) lines.push('You have nothing waiting.');
    lines.push('*Jobs are taken in turn from each user, so one person\'s batch does not hold everyone else back.*');
    await interaction.reply({ ...forDiscordJs(notice(lines.join('\n'))), flags: MessageFlags.Ephemeral });
  },
};
