// Small pieces the moderation commands and the moderation log share: private replies, permission checks, message
// references, and closing a log entry once a moderator acted on it. Here in the Discord glue, below the commands, so
// that src/discord never reaches up into src/commands.
import { NO_PINGS } from './messageBodies.ts';
import { MessageFlags, PermissionFlagsBits, type APIActionRowComponent, type APIButtonComponent, type APIEmbed, type ButtonInteraction, type RepliableInteraction } from 'discord.js';

export interface PrivateBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIActionRowComponent<APIButtonComponent>[];
}

/** Ephemeral answer that never pings (moderation answers name users and echo prompts). */
export async function replyPrivately(interaction: RepliableInteraction, body: PrivateBody | string): Promise<void> {
  const payload = { ...(typeof body === 'string' ? { content: body } : body), allowedMentions: NO_PINGS, flags: MessageFlags.Ephemeral as const };
  if (interaction.deferred || interaction.replied) await interaction.followUp(payload);
  else await interaction.reply(payload);
}

/**
 * Permission checks in the handlers, on top of the commands' default_member_permissions. Server admins can override
 * who sees a command (Server Settings → Integrations), so the registration alone would let an override hand the
 * moderation tools to anyone; the handlers therefore insist on the permission itself. Administrators have every
 * permission, so they always pass.
 */
export function hasManageGuild(interaction: { memberPermissions: { has(bit: bigint): boolean } | null }): boolean {
  return Boolean(interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild));
}

export function hasManageMessages(interaction: { memberPermissions: { has(bit: bigint): boolean } | null }): boolean {
  return Boolean(interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages));
}

export const NEEDS_MANAGE_GUILD = 'Only members with the **Manage Server** permission can use the moderation tools.';
export const NEEDS_MANAGE_MESSAGES = 'Only members with the **Manage Messages** permission can do that.';

/** A message link (discord.com, ptb., canary., discordapp.com) or a bare message id → the ids in it. */
export function parseMessageRef(text: string): { guildId?: string; channelId?: string; messageId: string } | undefined {
  const trimmed = text.trim();
  const link = /^<?https?:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/channels\/(\d{15,21}|@me)\/(\d{15,21})\/(\d{15,21})\/?>?$/i.exec(trimmed);
  const [, guildId, channelId, messageId] = link ?? [];
  if (messageId !== undefined) return { guildId: guildId === '@me' ? undefined : guildId, channelId, messageId };
  if (/^\d{15,21}$/.test(trimmed)) return { messageId: trimmed };
  return undefined;
}

/** `<t:…:f>` (shown in each reader's time zone). */
export function discordTime(ms: number, style: 'f' | 'R' | 'd' = 'f'): string {
  return `<t:${Math.floor(ms / 1000)}:${style}>`;
}

/** Cuts text to Discord's field/description limits. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Closes one action of a log entry or a whomade answer: the clicked button goes away (all of them for Dismiss or
 * when only Dismiss would remain) and the embed gets an "Outcome" line saying who did what and when.
 */
export function resolvedEntry(interaction: ButtonInteraction, outcome: string, removeAll = false): { embeds: APIEmbed[]; components: APIActionRowComponent<APIButtonComponent>[] } {
  const embeds = interaction.message.embeds.map((e) => e.toJSON());
  const line = `${outcome} — <@${interaction.user.id}> ${discordTime(Date.now())}`;
  if (embeds[0]) {
    const fields = [...(embeds[0].fields ?? [])];
    const existing = fields.findIndex((f) => f.name === 'Outcome');
    const previous = fields[existing];
    if (previous) fields[existing] = { name: 'Outcome', value: clip(`${previous.value}\n${line}`, 1024) };
    else fields.push({ name: 'Outcome', value: line });
    embeds[0] = { ...embeds[0], fields };
  } else {
    embeds.push({ description: line });
  }
  let components: APIActionRowComponent<APIButtonComponent>[] = [];
  if (!removeAll) {
    const rows = interaction.message.components.map((row) => row.toJSON() as APIActionRowComponent<APIButtonComponent>);
    components = rows
      .map((row) => ({ ...row, components: row.components.filter((c) => !('custom_id' in c) || c.custom_id !== interaction.customId) }))
      .filter((row) => row.components.length > 0);
    const left = components.flatMap((row) => row.components).filter((c) => !('custom_id' in c) || !c.custom_id.endsWith(':dismiss'));
    if (left.length === 0) components = [];
  }
  return { embeds, components };
}
