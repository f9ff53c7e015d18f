// `npm run invite`: prints the URL that adds the bot to a server, with the scopes and the smallest set of permissions
// it needs, then the same with the optional Manage Server, and the gateway intents the bot asks for (the ones
// createClient really uses). The application id comes from DISCORD_CLIENT_ID, or from the bot token itself: a token's
// first segment is the bot user's id in base64, and a bot user's id equals its application's id.
import { pathToFileURL } from 'node:url';
import { GatewayIntentBits, OAuth2Scopes, PermissionFlagsBits } from 'discord.js';
import { intentsFor } from '../discord/client.ts';
import { readEnvironment } from '../process/environment.ts';

/** Where Discord's "add to server" consent screen lives. */
export const AUTHORIZE_URL = 'https://discord.com/oauth2/authorize';

/** `bot` adds the bot user; `applications.commands` lets it register /imagine and the other slash commands. */
export const INVITE_SCOPES = [OAuth2Scopes.Bot, OAuth2Scopes.ApplicationsCommands] as const;

/**
 * What the bot needs in the channels where it is used. Replies to slash commands go through the interaction's own
 * webhook and need none of these; they matter when the bot posts a normal channel message: a result that arrives
 * after the 15-minute interaction token expired, or a reposted message that was deleted under it.
 * Not asked for: Manage Messages (the bot only edits and deletes its own messages, which needs no permission),
 * Use External Emojis (it uses Unicode emoji only), Mention Everyone, and anything administrative.
 */
export const BOT_PERMISSIONS: readonly { flag: keyof typeof PermissionFlagsBits; why: string }[] = [
  { flag: 'ViewChannel', why: 'see the channel it was asked in, to post there' },
  { flag: 'SendMessages', why: 'post a result as a channel message when the interaction token has expired' },
  { flag: 'SendMessagesInThreads', why: 'the same inside threads' },
  { flag: 'EmbedLinks', why: 'results carry an embed (prompt, seed, settings)' },
  { flag: 'AttachFiles', why: 'upload the generated PNGs in channel messages' },
  { flag: 'ReadMessageHistory', why: 'reply to the original message (a message reference needs it)' },
];

/** Optional: lets the bot read the server's AutoMod keyword rules, so they also filter prompts (/mod automod). */
export const OPTIONAL_PERMISSION = { flag: 'ManageGuild', label: 'Manage Server', why: "read the server's AutoMod keyword rules, so they filter prompts too (/mod automod)" } as const;

export function permissionBits(options: { manageServer?: boolean } = {}): bigint {
  const bits = BOT_PERMISSIONS.reduce((all, p) => all | PermissionFlagsBits[p.flag], 0n);
  return options.manageServer ? bits | PermissionFlagsBits[OPTIONAL_PERMISSION.flag] : bits;
}

/** How the developer portal names each intent the bot may ask for. */
const INTENT_LABELS: Partial<Record<GatewayIntentBits, string>> = {
  [GatewayIntentBits.Guilds]: 'Guilds',
  [GatewayIntentBits.GuildMessages]: 'Guild Messages',
  [GatewayIntentBits.DirectMessages]: 'Direct Messages',
  [GatewayIntentBits.AutoModerationConfiguration]: 'AutoMod Configuration',
  [GatewayIntentBits.MessageContent]: 'Message Content (privileged: turn it on in the developer portal, Bot -> Privileged Gateway Intents)',
};

/** The intents the bot's client asks for with this setting of MESSAGE_CONTENT_INTENT, by their portal names. */
export function intentLabels(messageContentIntent: boolean): string[] {
  return intentsFor({ messageContentIntent }).map((bit) => INTENT_LABELS[bit] ?? GatewayIntentBits[bit]);
}

/** MESSAGE_CONTENT_INTENT as the bot reads it (config.ts accepts 1/true/yes/on); invite needs no full configuration. */
function messageContentWanted(env: NodeJS.ProcessEnv): boolean {
  return ['1', 'true', 'yes', 'on'].includes(env.MESSAGE_CONTENT_INTENT?.trim().toLowerCase() ?? '');
}

/** The application id inside a bot token (its first, base64-encoded segment); undefined when it is not one. */
export function applicationIdFromToken(token: string): string | undefined {
  const first = token.trim().split('.')[0];
  if (!first) return undefined;
  const decoded = Buffer.from(first.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  return /^\d{15,22}$/.test(decoded) ? decoded : undefined;
}

export function inviteUrl(applicationId: string, options: { guildId?: string; manageServer?: boolean } = {}): string {
  const params = new URLSearchParams({
    client_id: applicationId,
    scope: INVITE_SCOPES.join(' '),
    permissions: permissionBits(options).toString(),
    integration_type: '0',
  });
  if (options.guildId) {
    params.set('guild_id', options.guildId);
    params.set('disable_guild_select', 'true');
  }
  return `${AUTHORIZE_URL}?${params.toString()}`;
}

/** Resolves the application id from the environment; the error says which variable to set (never echoes a token). */
export function applicationIdFromEnv(env: NodeJS.ProcessEnv): string {
  const explicit = env.DISCORD_CLIENT_ID?.trim();
  if (explicit) {
    if (!/^\d{15,22}$/.test(explicit)) throw new Error('DISCORD_CLIENT_ID must be the application id (digits), from the developer portal\'s General Information page');
    return explicit;
  }
  const token = env.DISCORD_TOKEN?.trim();
  if (!token) throw new Error('set DISCORD_CLIENT_ID (the application id) or DISCORD_TOKEN (the bot token) in .env or the environment');
  const id = applicationIdFromToken(token);
  if (!id) throw new Error('DISCORD_TOKEN does not look like a bot token (its first segment should decode to the application id); set DISCORD_CLIENT_ID instead');
  return id;
}

export function main(env: NodeJS.ProcessEnv = process.env, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): number {
  let id: string;
  try {
    id = applicationIdFromEnv(env);
  } catch (err) {
    process.stderr.write(`invite: ${(err as Error).message}\n`);
    return 1;
  }
  const guildId = env.DEV_GUILD_ID?.trim() || undefined;
  out(inviteUrl(id, { guildId }));
  out('');
  out(`Scopes: ${INVITE_SCOPES.join(', ')}`);
  out(`Permissions (${permissionBits()}):`);
  for (const p of BOT_PERMISSIONS) out(`  ${p.flag}: ${p.why}`);
  out('');
  out(`Optional: ${OPTIONAL_PERMISSION.label}, to ${OPTIONAL_PERMISSION.why}:`);
  out(inviteUrl(id, { guildId, manageServer: true }));
  out('');
  const messageContent = messageContentWanted(env);
  out(`Gateway intents the bot asks for: ${intentLabels(messageContent).join(', ')}.`);
  if (!messageContent) out('(Message Content is not asked for: MESSAGE_CONTENT_INTENT=true adds it, for reply-with-image on other people\'s uploads.)');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(readEnvironment().values);
}
