// "Who made this?" (message context menu) and the lookup behind /mod whomade: who asked for an image the bot posted,
// with what prompt and seed, when — from the generation records — and a button to take the image down.
// Only images of the server the moderator is in are shown or deleted, and the bot deletes nothing but its own
// recorded image posts (it may hold permissions the moderator lacks).
import { ApplicationCommandType, ButtonStyle, ComponentType, InteractionContextType, PermissionFlagsBits, RESTJSONErrorCodes, Routes, type APIActionRowComponent, type APIButtonComponent, type APIEmbed, type ButtonInteraction, type MessageContextMenuCommandInteraction } from 'discord.js';
import type { BotContext, ComponentHandler, MessageMenuCommand } from '../bot/types.ts';
import type { GenerationRecord } from '../storage/index.ts';
import { discordCode, isMissingPermission } from '../discord/jobMessage.ts';
import { quotePrompt } from '../discord/messageBodies.ts';
import { deleteImageId, WHO_MADE_PREFIX } from '../discord/customIds.ts';
import { clip, discordTime, hasManageMessages, NEEDS_MANAGE_MESSAGES, replyPrivately, resolvedEntry, type PrivateBody } from '../discord/modShared.ts';


/** The records of a message, only when it was posted in this server. */
export function recordsInGuild(ctx: Pick<BotContext, 'generations'>, guildId: string, messageId: string): GenerationRecord[] {
  return ctx.generations.byMessageId(messageId).filter((r) => r.guildId === guildId);
}

export function deleteButtonRow(messageId: string): APIActionRowComponent<APIButtonComponent> {
  return { type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Danger, label: 'Delete image', custom_id: deleteImageId(messageId) }] };
}

/** The answer for a recorded post: author, time, place, prompt, seeds and settings, and whether it was deleted. */
export function whoMadeBody(records: readonly GenerationRecord[]): PrivateBody {
  const first = records[0]!;
  const seeds = [...new Set(records.map((r) => r.seed))];
  const fields: APIEmbed['fields'] = [
    { name: 'Made by', value: `<@${first.userId}> (\`${first.userId}\`)`, inline: true },
    { name: 'When', value: discordTime(first.createdAt), inline: true },
    { name: 'Where', value: `<#${first.channelId}>${first.messageLink ? ` · [message](${first.messageLink})` : ''}`, inline: true },
  ];
  if (first.negativePrompt) fields.push({ name: 'Negative prompt', value: quotePrompt(first.negativePrompt, 1000) });
  fields.push(
    { name: seeds.length > 1 ? 'Seeds' : 'Seed', value: seeds.join(', '), inline: true },
    { name: 'Settings', value: clip([`${first.steps} steps`, first.sampler, first.width && first.height ? `${first.width}×${first.height}` : null, first.model].filter(Boolean).join(' · '), 1024), inline: true },
  );
  if (first.jobId) fields.push({ name: 'Job', value: `\`${first.jobId}\``, inline: true });
  if (first.deleted) fields.push({ name: 'Deleted', value: `${first.deletedBy ? `by <@${first.deletedBy}> ` : ''}${first.deletedAt ? discordTime(first.deletedAt) : ''}`.trim() || 'yes' });
  const embed: APIEmbed = { title: records.length > 1 ? `Who made these ${records.length} images` : 'Who made this image', description: quotePrompt(first.prompt, 1000), fields, color: 0x5865f2 };
  return { embeds: [embed], components: first.deleted ? [] : [deleteButtonRow(first.messageId)] };
}

export const NO_RECORD = 'The bot has no record of an image in that message (not an image the bot posted in this server, or the record was removed).';

export type DeleteOutcome = { ok: true; alreadyGone: boolean } | { ok: false; reason: string };

/** Deletes a recorded image post of this server and marks its records deleted by the moderator. */
export async function deleteGeneratedImage(ctx: BotContext, guildId: string, messageId: string, actorId: string): Promise<DeleteOutcome> {
  const records = recordsInGuild(ctx, guildId, messageId);
  if (records.length === 0) return { ok: false, reason: NO_RECORD };
  let alreadyGone = false;
  try {
    await ctx.client.rest.delete(Routes.channelMessage(records[0]!.channelId, messageId));
  } catch (err) {
    if (discordCode(err) === RESTJSONErrorCodes.UnknownMessage || discordCode(err) === RESTJSONErrorCodes.UnknownChannel) {
      alreadyGone = true;
    } else if (isMissingPermission(err)) {
      return { ok: false, reason: `The bot cannot reach <#${records[0]!.channelId}> any more (it needs View Channel there), so it cannot delete the image.` };
    } else {
      throw err;
    }
  }
  ctx.generations.markDeletedByMessage(messageId, actorId);
  ctx.log.info({ guildId, messageId, by: actorId, alreadyGone }, 'image deleted by a moderator');
  return { ok: true, alreadyGone };
}

export const whoMade: MessageMenuCommand = {
  kind: 'message-menu',
  data: {
    type: ApplicationCommandType.Message,
    name: 'Who made this?',
    default_member_permissions: String(PermissionFlagsBits.ManageMessages),
    contexts: [InteractionContextType.Guild],
  },
  async execute(interaction: MessageContextMenuCommandInteraction, ctx: BotContext): Promise<void> {
    if (!interaction.guildId) return replyPrivately(interaction, 'This only works in a server.');
    if (!hasManageMessages(interaction)) return replyPrivately(interaction, NEEDS_MANAGE_MESSAGES);
    const records = recordsInGuild(ctx, interaction.guildId, interaction.targetMessage.id);
    if (records.length === 0) return replyPrivately(interaction, NO_RECORD);
    await replyPrivately(interaction, whoMadeBody(records));
  },
};

/** The "Delete image" button on whomade answers and on flagged-image log entries. */
export const whoMadeButtons: ComponentHandler = {
  prefix: WHO_MADE_PREFIX,
  async button(interaction: ButtonInteraction, ctx: BotContext): Promise<void> {
    const match = /^whomade:delete:(\d{15,21})$/.exec(interaction.customId);
    if (!match || !interaction.guildId) return replyPrivately(interaction, 'This button is not recognised.');
    if (!hasManageMessages(interaction)) return replyPrivately(interaction, NEEDS_MANAGE_MESSAGES);
    const outcome = await deleteGeneratedImage(ctx, interaction.guildId, match[1]!, interaction.user.id);
    if (!outcome.ok) return replyPrivately(interaction, outcome.reason);
    await interaction.update({ ...resolvedEntry(interaction, outcome.alreadyGone ? '🗑️ The image was already gone; marked deleted' : '🗑️ Image deleted'), allowedMentions: { parse: [] } });
  },
};
