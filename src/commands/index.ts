// Every command and component handler the bot registers. One file per command; add new ones here.
import type { BotCommand, BotContext, ComponentHandler, MessageHandler } from '../bot/types.ts';
import { imagine } from './imagine.ts';
import { queue } from './queue.ts';
import { help } from './help.ts';
import { status } from './status.ts';
import { jobButtons, remixModal } from '../discord/jobButtons.ts';
import { reimagine, reimagineModal } from './reimagine.ts';
import { replyWithImage } from '../discord/replyWithImage.ts';

export const commands: BotCommand[] = [imagine, queue, help, status, reimagine];

export const componentHandlers: ComponentHandler[] = [jobButtons, remixModal, reimagineModal];

export const messageHandlers: MessageHandler[] = [replyWithImage];

/** Run once when the bot is connected, before persisted jobs resume (e.g. loading AutoMod rules). */
export const startHooks: ((ctx: BotContext) => Promise<void>)[] = [];
