// Registers the commands: in DEV_GUILD_ID when set (instant), else globally (Discord may take a while to show them).
// A bulk PUT replaces the whole set, so removed commands disappear too.
import { Routes, type REST } from 'discord.js';
import type { BotCommand } from '../bot/types.ts';
import { parseReply, registeredCommandsReply } from './restReplies.ts';

export async function registerCommands(rest: REST, applicationId: string, commands: readonly BotCommand[], guildId?: string): Promise<number> {
  const body = commands.map((c) => c.data);
  const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  const result = parseReply(registeredCommandsReply, await rest.put(route, { body }), 'registering the commands');
  return result.length;
}
