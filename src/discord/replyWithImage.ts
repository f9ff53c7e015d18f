// Reply-with-image: reply to a message that carries an image (anyone's upload or one of the bot's results) with a
// message that mentions the bot, and the rest of that message is the prompt for img2img on the image. There is no
// interaction here, hence no token: the job's message is an ordinary channel message that replies to the image's
// message, and the delivery layer edits it in place (jobMessage.ts: a job without an application id owns its
// channel message). Problems get a short reply to the asking message.
//
// Without the privileged Message Content intent Discord still sends the content of messages that mention the bot,
// but it blanks the attachments of a referenced message that does not mention the bot (other people's uploads); the
// bot's own results always come through. MESSAGE_CONTENT_INTENT=true turns the intent on (src/discord/client.ts).
// A picture attached to the reply itself is taken as an inpainting mask for the replied-to image (src/discord/maskImages.ts).
import { Routes, type Message } from 'discord.js';
import type { BotContext, MessageHandler } from '../bot/types.ts';
import { addInitImage, firstImageAttachment } from './initImages.ts';
import { addMask } from './maskImages.ts';
import { isMissingPermission } from './jobMessage.ts';
import { fromDiscordJs, messageImageUrl } from './messageImage.ts';
import { forDiscordJs, notice, queuedBody } from './messageBodies.ts';
import { buildParams, channelIsAgeRestricted, checkRequest, effectiveLimits, RequestError, submit, uploadLimitOf } from './requests.ts';
import { createdReply, parseReply } from './restReplies.ts';

/** The prompt: the message text without the bot's mention(s). Other mentions stay (they never ping: parse []). */
export function promptFromMention(content: string, botId: string): string {
  return content.replace(new RegExp(`<@!?${botId}>`, 'g'), ' ').replace(/\s+/g, ' ').trim();
}

/** True when the text itself mentions the bot (a reply's automatic ping of the bot's own message does not count). */
export function mentionsInText(content: string, botId: string): boolean {
  return new RegExp(`<@!?${botId}>`).test(content);
}

async function answer(message: Message, text: string): Promise<void> {
  // A short reply that pings nobody, the asker included: they are looking at the conversation already.
  await message.reply({ ...forDiscordJs(notice(text)), allowedMentions: { parse: [], repliedUser: false } });
}

async function referencedMessage(message: Message): Promise<Message | undefined> {
  try {
    // The gateway sends the referenced message along (discord.js caches it); otherwise this asks REST.
    return await message.fetchReference();
  } catch {
    return undefined;
  }
}

export const replyWithImage: MessageHandler = async (message, ctx) => {
  const botId = ctx.client.user?.id;
  if (!botId || !message.reference?.messageId || !mentionsInText(message.content, botId)) return false;

  const source = await referencedMessage(message);
  if (!source) {
    await answer(message, 'I cannot see the message you replied to (it may have been deleted).');
    return true;
  }
  const url = messageImageUrl(fromDiscordJs(source));
  if (!url) {
    // Without the intent, someone else's upload looks empty to the bot: say so rather than "no image".
    const hidden = !ctx.config.messageContentIntent && source.author.id !== botId;
    await answer(
      message,
      hidden
        ? 'I cannot see images in other people’s messages here (the bot runs without the Message Content intent). Right-click the message → Apps → **Reimagine** instead, or reply to one of my own images.'
        : 'The message you replied to has no image. Reply to a message with a picture and mention me with a prompt, e.g. “@me as a watercolor”.',
    );
    return true;
  }
  const prompt = promptFromMention(message.content, botId);
  if (!prompt) {
    await answer(message, 'Tell me what to make of it: mention me followed by a prompt, e.g. “@me as a watercolor”.');
    return true;
  }

  const ageRestricted = channelIsAgeRestricted(message);
  let params;
  try {
    const chosen = ctx.models.pick(message.guildId, null);
    params = buildParams(
      { prompt },
      chosen.defaults,
      effectiveLimits(ctx, message.guildId),
      // No interaction, so no attachment_size_limit: the default limit (fitUpload still applies).
      { action: 'reply', kind: 'img2img', model: chosen.model, channel: { ageRestricted, uploadLimit: uploadLimitOf(undefined, ctx.config), replyToMessageId: source.id } },
    );
  } catch (err) {
    if (err instanceof RequestError) return answered(message, err.message);
    throw err;
  }
  const gate = await checkRequest(ctx, { userId: message.author.id, guildId: message.guildId, channelId: message.channelId, channelAgeRestricted: ageRestricted }, params.prompt, undefined);
  if (!gate.ok) return answered(message, gate.message);

  const jobId = ctx.jobs.newJobId();
  const init = await addInitImage(ctx, jobId, params, url);
  if (!init.ok) return answered(message, init.message);
  // A picture attached to the reply itself is a mask: inpaint the replied-to image where it is white.
  const maskAttachment = firstImageAttachment(message.attachments.values());
  if (maskAttachment) {
    const added = await addMask(ctx, jobId, params, maskAttachment.url, false);
    if (!added.ok) return answered(message, added.message);
  }

  // Hold the job's updates until its message exists (a job that starts at once must not race the post below).
  const hold = ctx.delivery.expect(jobId);
  const outcome = submit(ctx, { userId: message.author.id, guildId: message.guildId, channelId: message.channelId, params }, jobId);
  if (!outcome.ok) {
    hold.abandon();
    return answered(message, outcome.message);
  }
  ctx.log.info({ jobId, userId: message.author.id, guildId: message.guildId, kind: params.kind, action: params.action }, 'job queued');
  try {
    const body = queuedBody(jobId, params, outcome.position, init.note);
    const posted = parseReply(
      createdReply,
      await ctx.client.rest.post(Routes.channelMessages(message.channelId), {
        body: { ...body, allowed_mentions: { parse: [], replied_user: false }, message_reference: { message_id: source.id, fail_if_not_exists: false } },
      }),
      'the queued message',
    );
    ctx.jobs.setMessageId(jobId, posted.id);
    hold.ready(posted.id);
  } catch (err) {
    hold.ready();
    // Without permission to post here the result could never be shown either: do not spend the GPU on it.
    if (isMissingPermission(err)) ctx.jobs.cancel(jobId);
    ctx.log.warn({ jobId, err: String(err) }, 'could not post the queued message');
  }
  return true;
};

async function answered(message: Message, text: string): Promise<true> {
  await answer(message, text);
  return true;
}
