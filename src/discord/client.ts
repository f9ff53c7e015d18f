// The discord.js client: only the intents the bot uses. Guilds for commands and channels; GuildMessages and
// DirectMessages so that replies mentioning the bot (reply-with-image) arrive — Discord delivers the content of
// messages that mention the bot without the privileged Message Content intent, which we therefore do not ask for.
// AutoModerationConfiguration (not privileged) so changes to a server's AutoMod rules reach the prompt filter at once
// (src/discord/autoModSync.ts).
import { Client, GatewayIntentBits, Partials, type ClientOptions } from 'discord.js';
import type { Config } from '../config.ts';

export function createClient(config: Pick<Config, 'discordApiUrl'>, extra: Partial<ClientOptions> = {}): Client {
  return new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages, GatewayIntentBits.AutoModerationConfiguration],
    partials: [Partials.Channel],
    // Nobody is pinged by anything the bot sends unless a message says otherwise.
    allowedMentions: { parse: [] },
    rest: config.discordApiUrl ? { api: config.discordApiUrl } : {},
    ...extra,
  });
}
