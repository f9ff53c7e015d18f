// The discord.js client: only the intents the bot uses. Guilds for commands and channels; GuildMessages and
// DirectMessages so that replies mentioning the bot (reply-with-image) arrive — Discord delivers the content of
// messages that mention the bot without the privileged Message Content intent, which is asked for only when
// MESSAGE_CONTENT_INTENT is set (see intentsFor).
// AutoModerationConfiguration (not privileged) so changes to a server's AutoMod rules reach the prompt filter at once
// (src/discord/autoModSync.ts).
import { Client, GatewayIntentBits, Partials, type ClientOptions } from 'discord.js';
import type { Config } from '../config.ts';
import type { ShardAssignment } from '../process/environment.ts';

export function intentsFor(config: Pick<Config, 'messageContentIntent'>): GatewayIntentBits[] {
  const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages, GatewayIntentBits.AutoModerationConfiguration];
  // Privileged, off by default: without it Discord blanks the attachments of a replied-to message that does not
  // mention the bot, so reply-with-image then works only on the bot's own results (the Reimagine menu always works).
  if (config.messageContentIntent) intents.push(GatewayIntentBits.MessageContent);
  return intents;
}

/**
 * `shard`: the one this process runs in a sharded start; otherwise the only one. Always given explicitly: discord.js
 * would otherwise take SHARDS and SHARD_COUNT from process.env (see src/process/environment.ts).
 */
export function createClient(config: Pick<Config, 'discordApiUrl' | 'messageContentIntent'>, shard?: ShardAssignment, extra: Partial<ClientOptions> = {}): Client {
  return new Client({
    intents: intentsFor(config),
    shards: [shard?.id ?? 0],
    shardCount: shard?.count ?? 1,
    partials: [Partials.Channel],
    // Nobody is pinged by anything the bot sends unless a message says otherwise.
    allowedMentions: { parse: [] },
    rest: config.discordApiUrl ? { api: config.discordApiUrl } : {},
    ...extra,
  });
}
