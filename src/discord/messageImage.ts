// Which image a message carries, for the paths that redraw someone's message (the Reimagine menu, reply-with-image).
// Works on discord.js messages and on raw REST message objects alike. Attachments come first; the bot's own results
// carry a grid first when there are several images, and redrawing a 2×2 collage is rarely what anyone wants, so a
// single image is preferred over a file named grid.png. Embed images (a link preview, or an embed pointing at an
// attachment) are the last resort.
import type { Message } from 'discord.js';
import { firstImageAttachment } from './initImages.ts';

export interface MessageAttachmentView {
  url: string;
  contentType?: string | null;
  name?: string | null;
  size?: number;
}

export interface MessageImageSource {
  attachments: MessageAttachmentView[];
  embedImageUrls: string[];
}

/** The subset of Discord's REST message object this module reads. */
export interface RawApiMessage {
  attachments?: { url: string; content_type?: string; filename?: string; size?: number }[];
  embeds?: { image?: { url?: string } }[];
}

export function fromDiscordJs(message: Pick<Message, 'attachments' | 'embeds'>): MessageImageSource {
  return {
    attachments: [...message.attachments.values()].map((a) => ({ url: a.url, contentType: a.contentType, name: a.name, size: a.size })),
    embedImageUrls: message.embeds.map((e) => e.image?.url).filter((u): u is string => Boolean(u)),
  };
}

export function fromRawMessage(message: RawApiMessage): MessageImageSource {
  return {
    attachments: (message.attachments ?? []).map((a) => ({ url: a.url, contentType: a.content_type, name: a.filename, size: a.size })),
    embedImageUrls: (message.embeds ?? []).map((e) => e.image?.url).filter((u): u is string => Boolean(u)),
  };
}

/** The URL of the image to start from, or undefined when the message has none. */
export function messageImageUrl(source: MessageImageSource): string | undefined {
  const singles = source.attachments.filter((a) => !/^(SPOILER_)?grid\.png$/i.test(a.name ?? ''));
  const attachment = firstImageAttachment(singles) ?? firstImageAttachment(source.attachments);
  if (attachment) return attachment.url;
  // `attachment://` references are only meaningful in a request body; Discord resolves them in what it returns.
  return source.embedImageUrls.find((url) => /^https?:\/\//i.test(url));
}
