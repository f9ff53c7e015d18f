// Message state per channel, with edits applied the way Discord applies them: partial edits, the `attachments`
// array deciding which existing files stay, uploaded files becoming CDN attachments, mentions parsed from content.
import type { AttachmentStore } from './attachments.ts';
import type { EmulatorClock } from './clock.ts';
import type { SnowflakeFactory } from './snowflake.ts';
import { MessageFlags } from './validate.ts';
import type { Json, UploadedFile } from './types.ts';

/** Flags a client may set on send; others (LOADING, CROSSPOSTED ...) are Discord's to set. */
const CLIENT_SETTABLE_FLAGS = MessageFlags.SuppressEmbeds | MessageFlags.Ephemeral | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2;

export interface CreateMessageInput {
  channelId: string;
  author: Json;
  payload: Json;
  files: UploadedFile[];
  /** Message type (0 default, 19 reply, 20 chat input command, 23 context menu command). */
  type?: number;
  /** Flags Discord adds itself, e.g. LOADING for a deferred response. */
  systemFlags?: number;
  /** Extra fields (webhook_id, interaction_metadata, message_reference, referenced_message ...). */
  extra?: Json;
}

export class MessageStore {
  private readonly byId = new Map<string, Json>();
  private readonly byChannel = new Map<string, string[]>();

  constructor(
    private readonly ids: SnowflakeFactory,
    private readonly clock: EmulatorClock,
    private readonly attachments: AttachmentStore,
    private readonly userById: Map<string, Json>,
  ) {}

  async create(input: CreateMessageInput): Promise<Json> {
    const { payload, channelId } = input;
    const flags = (Number(payload.flags ?? 0) & CLIENT_SETTABLE_FLAGS) | (input.systemFlags ?? 0);
    const ephemeral = (flags & MessageFlags.Ephemeral) !== 0;
    const attachments = await this.newAttachments(payload, input.files, channelId, ephemeral);
    const content = typeof payload.content === 'string' ? payload.content : '';
    const message: Json = {
      id: this.ids.next(),
      type: input.type ?? 0,
      channel_id: channelId,
      author: input.author,
      content,
      timestamp: this.clock.iso(),
      edited_timestamp: null,
      tts: Boolean(payload.tts),
      mention_everyone: false,
      ...this.mentions(content),
      attachments,
      embeds: resolveEmbeds(payload.embeds, attachments),
      components: Array.isArray(payload.components) ? payload.components : [],
      pinned: false,
      flags,
      ...(payload.nonce !== undefined ? { nonce: payload.nonce } : {}),
      ...input.extra,
    };
    this.byId.set(message.id, message);
    const list = this.byChannel.get(channelId) ?? [];
    list.push(message.id);
    this.byChannel.set(channelId, list);
    return message;
  }

  /** Applies a PATCH body. Fields absent from the body stay as they were. */
  async edit(message: Json, payload: Json, files: UploadedFile[], clearFlags = 0): Promise<Json> {
    const ephemeral = (message.flags & MessageFlags.Ephemeral) !== 0;
    if ('content' in payload) {
      message.content = typeof payload.content === 'string' ? payload.content : '';
      Object.assign(message, this.mentions(message.content));
    }
    if ('components' in payload) message.components = Array.isArray(payload.components) ? payload.components : [];
    if ('flags' in payload && payload.flags != null) {
      const editable = MessageFlags.SuppressEmbeds | MessageFlags.IsComponentsV2;
      message.flags = (message.flags & ~editable) | (Number(payload.flags) & editable);
    }
    message.flags &= ~clearFlags;
    if ('attachments' in payload || files.length > 0) {
      const keepIds = Array.isArray(payload.attachments)
        ? new Set((payload.attachments as Json[]).map((a) => String(a.id)))
        : null;
      const kept = (message.attachments as Json[]).filter((a) => keepIds === null || keepIds.has(a.id));
      message.attachments = [...kept, ...(await this.newAttachments(payload, files, message.channel_id, ephemeral))];
    }
    if ('embeds' in payload) message.embeds = resolveEmbeds(payload.embeds, message.attachments);
    message.edited_timestamp = this.clock.iso();
    return message;
  }

  delete(id: string): boolean {
    const message = this.byId.get(id);
    if (!message) return false;
    this.byId.delete(id);
    const list = this.byChannel.get(message.channel_id) ?? [];
    this.byChannel.set(message.channel_id, list.filter((m) => m !== id));
    return true;
  }

  get(id: string): Json | undefined {
    return this.byId.get(id);
  }

  /** Messages of a channel, oldest first. */
  list(channelId: string): Json[] {
    return (this.byChannel.get(channelId) ?? []).map((id) => this.byId.get(id)!);
  }

  private mentions(content: string): Json {
    const userIds = [...content.matchAll(/<@!?(\d{17,20})>/g)].map((m) => m[1]!);
    const roleIds = [...content.matchAll(/<@&(\d{17,20})>/g)].map((m) => m[1]!);
    const users = [...new Set(userIds)].map((id) => this.userById.get(id)).filter((u): u is Json => u !== undefined);
    return { mentions: users, mention_roles: [...new Set(roleIds)] };
  }

  /** Uploaded files become attachments; metadata comes from the `attachments` entry whose id is the file index. */
  private async newAttachments(payload: Json, files: UploadedFile[], channelId: string, ephemeral: boolean): Promise<Json[]> {
    const meta = Array.isArray(payload.attachments) ? (payload.attachments as Json[]) : [];
    const created: Json[] = [];
    for (const [position, file] of files.entries()) {
      const index = /^files\[(\d+)\]$/.exec(file.field)?.[1] ?? String(position);
      const entry = meta.find((a) => String(a.id) === index);
      const extra: Json = {};
      if (entry?.description) extra.description = entry.description;
      if (entry?.title) extra.title = entry.title;
      if (ephemeral) extra.ephemeral = true;
      if (entry?.is_spoiler) extra.flags = 8;
      created.push(await this.attachments.create(file.bytes, entry?.filename ?? file.filename, file.contentType, channelId, extra));
    }
    return created;
  }
}

/** Embeds get type "rich"; `attachment://name` references resolve to the uploaded attachment's URL. */
function resolveEmbeds(embeds: unknown, attachments: Json[]): Json[] {
  if (!Array.isArray(embeds)) return [];
  const resolveMedia = (media: Json | undefined): Json | undefined => {
    if (!media || typeof media.url !== 'string' || !media.url.startsWith('attachment://')) return media;
    const name = media.url.slice('attachment://'.length);
    const attachment = attachments.find((a) => a.filename === name);
    if (!attachment) return media;
    return { ...media, url: attachment.url, proxy_url: attachment.proxy_url, width: attachment.width, height: attachment.height, content_type: attachment.content_type };
  };
  return (embeds as Json[]).map((embed) => {
    const out: Json = { type: 'rich', ...embed };
    if (embed.image) out.image = resolveMedia(embed.image);
    if (embed.thumbnail) out.thumbnail = resolveMedia(embed.thumbnail);
    return out;
  });
}
