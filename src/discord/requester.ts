// Who asked for a job and from where, as the moderation gate and the moderation log need it. A leaf module so that
// delivery.ts and the log can name a requester without importing the request builder (which imports the bot's context).
export interface Requester {
  userId: string;
  guildId: string | null;
  channelId: string;
  channelAgeRestricted: boolean;
}

/** NSFW (age-restricted) channels; DMs count as not. */
export function channelIsAgeRestricted(interaction: { channel: unknown }): boolean {
  const channel = interaction.channel as { nsfw?: boolean } | null;
  return Boolean(channel && 'nsfw' in channel && channel.nsfw);
}
