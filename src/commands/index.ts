// Every command and component handler the bot registers. One file per command; add new ones here.
import type { BotCommand, BotContext, ComponentHandler, MessageHandler } from '../bot/types.ts';
import { imagine } from './imagine.ts';
import { queue } from './queue.ts';
import { help } from './help.ts';
import { status } from './status.ts';
import { jobButtons, remixModal } from '../discord/jobButtons.ts';

export const commands: BotCommand[] = [imagine, queue, help, status];

export const componentHandlers: ComponentHandler[] = [jobButtons, remixModal];

export const messageHandlers: MessageHandler[] = [];

/** Run once when the bot is connected, before persisted jobs resume (e.g. loading AutoMod rules). */
export const startHooks: ((ctx: BotContext) => Promise<void>)[] = [];
