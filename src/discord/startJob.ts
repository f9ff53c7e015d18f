// The last step of every interaction that starts a job: submit, then show the queued message as the interaction's
// reply. The delivery layer holds the job's updates until that reply exists, so a job that starts at once never edits
// a message that is not there yet. Refusals (full queue, per-user limit) are ephemeral: nothing public is posted.
import { MessageFlags, type RepliableInteraction } from 'discord.js';
import type { BotContext } from '../bot/types.ts';
import type { JobParams } from '../jobs/types.ts';
import { forDiscordJs, queuedBody, notice } from './messageBodies.ts';
import { submit } from './requests.ts';

/** Discord's interaction tokens live 15 minutes. */
export const INTERACTION_TOKEN_LIFETIME_MS = 15 * 60 * 1000;

export async function replyEphemeral(interaction: RepliableInteraction, content: string): Promise<void> {
  const body = { ...forDiscordJs(notice(content)), flags: MessageFlags.Ephemeral as const };
  if (interaction.deferred || interaction.replied) {
    // A deferred public reply cannot turn ephemeral: remove it and say it privately.
    if (interaction.deferred && !interaction.ephemeral) await interaction.deleteReply().catch(() => undefined);
    await interaction.followUp(body);
  } else {
    await interaction.reply(body);
  }
}

export async function startInteractionJob(ctx: BotContext, interaction: RepliableInteraction, params: JobParams, jobId: string = ctx.jobs.newJobId(), note?: string): Promise<boolean> {
  const gate = ctx.delivery.expect(jobId);
  const outcome = submit(
    ctx,
    {
      userId: interaction.user.id,
      guildId: interaction.guildId,
      channelId: interaction.channelId!,
      applicationId: interaction.applicationId,
      interactionToken: interaction.token,
      tokenExpiresAt: interaction.createdTimestamp + INTERACTION_TOKEN_LIFETIME_MS,
      params,
    },
    jobId,
  );
  if (!outcome.ok) {
    gate.abandon();
    await replyEphemeral(interaction, outcome.message);
    return false;
  }
  ctx.log.info({ jobId, userId: interaction.user.id, guildId: interaction.guildId, kind: params.kind, action: params.action }, 'job queued');
  const body = forDiscordJs(queuedBody(jobId, params, outcome.position, note));
  try {
    let messageId: string | undefined;
    if (interaction.deferred || interaction.replied) {
      messageId = (await interaction.editReply(body)).id;
    } else {
      const response = await interaction.reply({ ...body, withResponse: true });
      messageId = response.resource?.message?.id;
    }
    if (messageId) ctx.jobs.setMessageId(jobId, messageId);
    gate.ready(messageId);
  } catch (err) {
    // The job is queued and persisted; its result will still be posted (as a channel message if need be).
    gate.ready();
    ctx.log.warn({ jobId, err: String(err) }, 'could not show the queued message');
  }
  return true;
}
