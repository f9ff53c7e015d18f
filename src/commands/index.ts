// Every command and component handler the bot registers. One file per command; add new ones here.
import type { BotCommand, BotContext, ComponentHandler, MessageHandler } from '../bot/types.ts';
import { imagine } from './imagine.ts';
import { queue } from './queue.ts';
import { help } from './help.ts';
import { status } from './status.ts';
import { jobButtons, remixModal } from '../discord/jobButtons.ts';
import { editButtons, regionModal, zoomModal } from '../discord/editButtons.ts';
import { reimagine, reimagineModal } from './reimagine.ts';
import { replyWithImage } from '../discord/replyWithImage.ts';
import { mod } from './mod.ts';
import { whoMade, whoMadeButtons } from './whoMade.ts';
import { ModerationLog, moderationLogButtons } from '../discord/moderationLog.ts';
import { startAutoModSync } from '../discord/autoModSync.ts';

export const commands: BotCommand[] = [imagine, queue, help, status, reimagine, mod, whoMade];

export const componentHandlers: ComponentHandler[] = [jobButtons, remixModal, editButtons, regionModal, zoomModal, reimagineModal, moderationLogButtons, whoMadeButtons];

export const messageHandlers: MessageHandler[] = [replyWithImage];

/** Run once when the bot is connected, before persisted jobs resume (e.g. loading AutoMod rules). */
export const startHooks: ((ctx: BotContext) => Promise<void>)[] = [
  // Moderation: refused prompts and flagged images go to each server's log channel; AutoMod rules load and follow changes.
  async (ctx) => {
    ctx.delivery.moderationReporter = new ModerationLog(ctx);
  },
  startAutoModSync,
];
