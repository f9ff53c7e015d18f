// Where a job's message lives and how to change it. An interaction job edits the interaction's original response
// through its webhook token (valid 15 minutes); after that, or for jobs started from a plain message, the bot uses an
// ordinary channel message. Falls back rather than fails: an expired token posts a new channel message that replies
// to the user, and a message deleted under us is posted again.
import { DiscordAPIError, RESTJSONErrorCodes, Routes, type REST } from 'discord.js';
import type { RawFile } from '@discordjs/rest';
import type { JobRow } from '../jobs/service.ts';
import type { MessageBody } from './messageBodies.ts';
import { createdReply, editedReply, parseReply } from './restReplies.ts';

/** Stop using a token a little before Discord does, so a slow upload does not straddle the expiry. */
const TOKEN_MARGIN_MS = 30_000;

export interface Upload {
  name: string;
  data: Uint8Array;
  contentType?: string;
}

export interface SendOutcome {
  messageId: string | undefined;
  /** 'interaction': edited the original response; 'channel-edit' / 'channel-new': a channel message. */
  via: 'interaction' | 'channel-edit' | 'channel-new';
}

const TOKEN_GONE = new Set<number>([RESTJSONErrorCodes.InvalidWebhookToken, RESTJSONErrorCodes.UnknownWebhook, RESTJSONErrorCodes.UnknownInteraction]);
const MESSAGE_GONE = new Set<number>([RESTJSONErrorCodes.UnknownMessage]);

export function discordCode(err: unknown): number | undefined {
  return err instanceof DiscordAPIError && typeof err.code === 'number' ? err.code : undefined;
}

export function isMissingPermission(err: unknown): boolean {
  const code = discordCode(err);
  return code === RESTJSONErrorCodes.MissingPermissions || code === RESTJSONErrorCodes.MissingAccess;
}

function rawFiles(files: readonly Upload[]): RawFile[] {
  return files.map((f) => ({ name: f.name, data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength), contentType: f.contentType }));
}

export class JobMessage {
  constructor(
    private readonly rest: REST,
    private readonly job: Pick<JobRow, 'id' | 'userId' | 'channelId' | 'applicationId' | 'interactionToken' | 'tokenExpiresAt' | 'messageId'> & { replyTo?: string },
    private readonly now: () => number = Date.now,
  ) {
    this.ownsChannelMessage = !job.applicationId;
  }

  /** True when messageId is a channel message the bot posted (not an interaction response). */
  private ownsChannelMessage: boolean;

  get tokenUsable(): boolean {
    const { applicationId, interactionToken, tokenExpiresAt } = this.job;
    return Boolean(applicationId && interactionToken && (tokenExpiresAt === null || tokenExpiresAt - TOKEN_MARGIN_MS > this.now()));
  }

  /**
   * Updates the job's message in place. `final` results may fall back to a new channel message (a progress edit
   * never does: it is not worth a new message).
   */
  async update(body: MessageBody, files: readonly Upload[] = [], options: { final: boolean; pingUserOnFallback?: boolean }): Promise<SendOutcome | undefined> {
    if (this.tokenUsable) {
      try {
        const res = parseReply(
          editedReply,
          await this.rest.patch(Routes.webhookMessage(this.job.applicationId!, this.job.interactionToken!, '@original'), { body, files: rawFiles(files), auth: false }),
          'an interaction message edit',
        );
        return { messageId: res.id, via: 'interaction' };
      } catch (err) {
        const code = discordCode(err);
        if (code !== undefined && MESSAGE_GONE.has(code)) {
          // Someone deleted the original response: progress has nowhere to go; the result is posted as a new message
          // (not as a reply to the deleted one).
          this.job.interactionToken = null;
          this.job.messageId = null;
          if (!options.final) return undefined;
          return this.post(body, files, options.pingUserOnFallback ?? true);
        }
        if (code === undefined || !TOKEN_GONE.has(code)) throw err;
        // The token died early: treat it as expired from now on.
        this.job.interactionToken = null;
      }
    }
    // Channel path: edit the bot's own channel message (jobs from plain messages, or after a fallback post).
    if (this.ownsChannelMessage && this.job.messageId) {
      try {
        const res = parseReply(editedReply, await this.rest.patch(Routes.channelMessage(this.job.channelId!, this.job.messageId), { body, files: rawFiles(files) }), 'a message edit');
        return { messageId: res.id ?? this.job.messageId, via: 'channel-edit' };
      } catch (err) {
        const code = discordCode(err);
        // Deleted under us: a progress edit is dropped, a final result is posted anew.
        if (code === undefined || !MESSAGE_GONE.has(code)) throw err;
        this.job.messageId = null;
        if (!options.final) return undefined;
      }
    } else if (!options.final) {
      return undefined;
    }
    return this.post(body, files, options.pingUserOnFallback ?? true);
  }

  /** Posts a new channel message replying to the original (or the message the job came from). */
  async post(body: MessageBody, files: readonly Upload[], pingUser: boolean): Promise<SendOutcome> {
    if (!this.job.channelId) throw new Error(`job ${this.job.id} has no channel to post in`);
    const replyTo = this.job.replyTo ?? this.job.messageId ?? undefined;
    const message = {
      ...body,
      allowed_mentions: { parse: [] as never[], users: pingUser ? [this.job.userId] : [], replied_user: false },
      ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } } : {}),
    };
    const res = parseReply(createdReply, await this.rest.post(Routes.channelMessages(this.job.channelId), { body: message, files: rawFiles(files) }), 'a new message');
    this.job.messageId = res.id;
    this.job.interactionToken = null;
    this.ownsChannelMessage = true;
    return { messageId: res.id, via: 'channel-new' };
  }

  setMessageId(messageId: string): void {
    this.job.messageId = messageId;
  }

  get messageId(): string | null {
    return this.job.messageId;
  }
}
