// Shows jobs in Discord: listens to the job service and keeps each job's message current (queue position, progress
// with a preview, the result with its buttons, failure, cancel). Results are delivered exactly once: the database
// claim decides who posts, and a post that fails is retried with backoff before the job is given up.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Routes, type REST } from 'discord.js';
import type { Logger } from '../log.ts';
import type { JobRow, JobService } from '../jobs/service.ts';
import type { ModerationService, Verdict } from '../moderation/index.ts';
import type { GenerationStore } from '../storage/index.ts';
import { fitUpload, FitUploadError } from '../pipeline/fitUpload.ts';
import { JobMessage, isMissingPermission, type Upload } from './jobMessage.ts';
import { ProgressReporter } from './progressReporter.ts';
import { cancelledBody, failedBody, NO_PINGS, progressBody, queuedBody, quotePrompt, resultBody, type MessageBody, type ResultFileView } from './messageBodies.ts';
import type { Requester } from './requester.ts';
import { z } from 'zod';
import { createdReply, messageWithFooters, parseReply } from './restReplies.ts';

export interface DeliveryOptions {
  rest: REST;
  jobs: JobService;
  generations: GenerationStore;
  moderation: ModerationService;
  log: Logger;
  progressIntervalMs: number;
  /** Delivery retries before a job is given up (default 5). */
  maxAttempts?: number;
  retryBaseMs?: number;
}

/** Moderation hooks, set by the moderation commands module (log channel entries). */
export interface ModerationReporter {
  blockedPrompt(who: Requester, prompt: string, negative: string | undefined, verdict: Verdict): Promise<void>;
  flaggedImage(job: JobRow, action: 'withheld' | 'spoilered', messageLink: string | undefined): Promise<void>;
}

export class Delivery {
  private readonly reporter: ProgressReporter;
  private readonly messages = new Map<string, JobMessage>();
  private readonly inflight = new Set<Promise<unknown>>();
  /**
   * A line each later progress edit of a job repeats ("resumed after a restart", "the generator crashed, trying once
   * more"): sent once, it would be coalesced away by the progress edit that follows it at once.
   */
  private readonly notes = new Map<string, string>();
  /** Jobs whose message does not exist yet (the command is still replying): their updates wait for it. */
  private readonly gates = new Map<string, Promise<void>>();
  moderationReporter: ModerationReporter | undefined;

  constructor(private readonly options: DeliveryOptions) {
    this.reporter = new ProgressReporter({
      intervalMs: options.progressIntervalMs,
      onError: (jobId, err) => options.log.warn({ jobId, err: String(err) }, 'progress edit failed'),
    });
  }

  /** Subscribe to the job service. Call before jobs.start() so restored jobs are seen. */
  attach(): void {
    const { jobs, log } = this.options;
    jobs.on('queued', ({ job, position, restored }) => {
      if (!restored) return;
      // A retry after a worker crash is restored too; it keeps the crash note it was given just before.
      if (!this.notes.has(job.id)) this.notes.set(job.id, RESUMED_NOTE);
      this.track(this.update(job, queuedBody(job.id, job.params, position, this.notes.get(job.id)), [], false));
    });
    jobs.on('positions', ({ changes }) => {
      for (const change of changes) {
        const job = jobs.get(change.jobId);
        if (job) this.update(job, queuedBody(job.id, job.params, change.position), [], false);
      }
    });
    jobs.on('started', ({ job }) => this.update(job, this.noted(job.id, progressBody(job.id, job.params, { step: 0, total: job.params.steps, elapsedMs: 0 }, false)), [], false));
    jobs.on('progress', ({ jobId, progress }) => {
      const job = jobs.get(jobId);
      if (!job) return;
      // A preview over the upload limit would make Discord refuse the whole edit: send the text without it.
      const preview = progress.preview && progress.preview.length <= job.params.channel.uploadLimit ? progress.preview : undefined;
      const files: Upload[] = preview ? [{ name: 'preview.webp', data: preview, contentType: 'image/webp' }] : [];
      this.update(job, this.noted(jobId, progressBody(jobId, job.params, progress, files.length > 0)), files, false);
    });
    jobs.on('succeeded', ({ job, redelivery }) => this.track(this.deliver(job, { redelivery })));
    jobs.on('failed', ({ job, message, retrying }) => {
      if (retrying) {
        const note = `⚠️ ${message} Trying once more.`;
        this.notes.set(job.id, note);
        this.update(job, queuedBody(job.id, job.params, jobs.position(job.id), note), [], false);
        return;
      }
      this.track(this.finish(job, failedBody(job.params, message)));
    });
    jobs.on('cancelled', ({ job }) => this.track(this.finish(job, cancelledBody(job.params))));
    jobs.on('timed_out', ({ job }) => this.track(this.finish(job, cancelledBody(job.params, 'Stopped: it took longer than the time limit for one job.'))));
    log.debug('delivery attached');
  }

  /** Adds the "resumed after a restart" line to a progress body of a job that was brought back. */
  private noted(jobId: string, body: MessageBody): MessageBody {
    const note = this.notes.get(jobId);
    return note ? { ...body, content: `${body.content ?? ''}\n${note}` } : body;
  }

  private track(promise: Promise<unknown>): void {
    this.inflight.add(promise);
    void promise.finally(() => this.inflight.delete(promise));
  }

  /** Waits for deliveries in progress (shutdown). */
  async settle(timeoutMs: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
  }

  /**
   * Call before submitting a job whose message the caller is about to create (the interaction reply); updates wait
   * until `ready(messageId)` is called (or `abandon()` when the job was refused).
   */
  expect(jobId: string): { ready: (messageId?: string) => void; abandon: () => void } {
    let open!: () => void;
    this.gates.set(jobId, new Promise<void>((resolve) => (open = resolve)));
    return {
      ready: (messageId) => {
        const message = this.messages.get(jobId);
        if (message && messageId) message.setMessageId(messageId);
        this.gates.delete(jobId);
        open();
      },
      abandon: () => {
        this.gates.delete(jobId);
        this.reporter.drop(jobId);
        this.messages.delete(jobId);
        open();
      },
    };
  }

  private async gate(jobId: string): Promise<void> {
    await this.gates.get(jobId);
  }

  private messageFor(job: JobRow): JobMessage {
    let message = this.messages.get(job.id);
    if (!message) {
      message = new JobMessage(this.options.rest, { ...job, replyTo: job.params.channel.replyToMessageId });
      this.messages.set(job.id, message);
    }
    return message;
  }

  /** Throttled, coalesced progress-type update. */
  private update(job: JobRow, body: Parameters<JobMessage['update']>[0], files: Upload[], final: false): Promise<void> {
    void final;
    const message = this.messageFor(job);
    this.reporter.update(job.id, async () => {
      await this.gate(job.id);
      return message.update(body, files, { final: false });
    });
    return Promise.resolve();
  }

  /** The last word on a job that produced no images (failed, cancelled). */
  private async finish(job: JobRow, body: Parameters<JobMessage['update']>[0]): Promise<void> {
    const message = this.messageFor(job);
    try {
      await this.reporter.final(job.id, async () => {
        await this.gate(job.id);
        return message.update(body, [], { final: true, pingUserOnFallback: true });
      });
    } catch (err) {
      this.logSendError(job, err, 'could not post the job outcome');
    } finally {
      this.messages.delete(job.id);
      this.notes.delete(job.id);
    }
  }

  /**
   * Posts a succeeded job's images, exactly once. A redelivery (a result left undelivered by a previous process) first
   * looks for the result in the channel: the previous process may have posted it and died before recording that.
   */
  async deliver(job: JobRow, options: { redelivery?: boolean } = {}): Promise<void> {
    const { jobs, log } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 5;
    this.notes.delete(job.id);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (!jobs.claimDelivery(job.id)) return; // someone else is delivering it, or it is done
      try {
        const posted = options.redelivery && attempt === 1 ? await this.findPostedResult(job) : undefined;
        if (posted) {
          log.info({ jobId: job.id, messageId: posted }, 'result was already posted before the restart; not posting it again');
          this.reporter.drop(job.id);
        } else {
          await this.post(job);
        }
        jobs.markDelivered(job.id);
        this.messages.delete(job.id);
        return;
      } catch (err) {
        jobs.releaseDelivery(job.id);
        // Retrying cannot help when the bot may not post here, the files are gone, or the image cannot fit the limit.
        const permanent = isMissingPermission(err) || err instanceof FitUploadError || (err as { code?: string }).code === 'ENOENT';
        this.logSendError(job, err, `delivery attempt ${attempt} failed`);
        if (permanent || attempt === maxAttempts) {
          jobs.abandonDelivery(job.id, err instanceof Error ? err.message : String(err));
          log.error({ jobId: job.id }, 'job given up: its images could not be posted');
          // Say so on the job's message rather than leave it showing progress forever (pointless without permission).
          if (!isMissingPermission(err)) await this.finish(job, failedBody(job.params, err instanceof FitUploadError ? err.message : 'The image was made but could not be posted here.'));
          else await this.tellByDm(job);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, (this.options.retryBaseMs ?? 1000) * 2 ** (attempt - 1)));
      }
    }
  }

  /**
   * The id of a message in the job's channel that already shows this job's result (its embed footer names the job),
   * looking at the job's own message and the channel's latest 50. Undefined when none, or when it cannot be checked
   * (no Read Message History): then the result is posted again, at-least-once being the safe side.
   */
  private async findPostedResult(job: JobRow): Promise<string | undefined> {
    if (!job.channelId) return undefined;
    const footer = `job ${job.id}`;
    type Posted = z.output<typeof messageWithFooters>;
    const isResult = (m: Posted) => m.embeds?.some((e) => e.footer?.text === footer) ?? false;
    const { rest, log } = this.options;
    try {
      if (job.messageId) {
        const own = parseReply(messageWithFooters, await rest.get(Routes.channelMessage(job.channelId, job.messageId)), 'reading the job message');
        if (isResult(own)) return own.id;
      }
    } catch {
      // deleted, or not readable: look at the channel
    }
    try {
      const latest = parseReply(z.array(messageWithFooters), await rest.get(Routes.channelMessages(job.channelId), { query: new URLSearchParams({ limit: '50' }) }), 'reading the channel');
      return latest.find(isResult)?.id;
    } catch (err) {
      log.debug({ jobId: job.id, err: String(err) }, 'could not check the channel for an earlier result');
      return undefined;
    }
  }

  private async post(job: JobRow): Promise<void> {
    const result = job.result;
    if (!result) throw new Error(`job ${job.id} has no result`);
    const limit = job.params.channel.uploadLimit;
    const settings = job.guildId ? this.options.moderation.getSettings(job.guildId) : undefined;
    const flaggedAction: 'post' | 'spoiler' | 'withhold' = job.params.channel.ageRestricted ? 'post' : settings?.spoilerFlaggedImages ? 'spoiler' : 'withhold';
    const uploads: Upload[] = [];
    const views: ResultFileView[] = [];
    let withheld = 0;
    let spoilered = 0;
    const flagged = result.files.some((f) => f.nsfw);
    // The grid first (it is the embed's picture), unless something in it must not be shown here.
    if (result.gridPath && !(flagged && flaggedAction !== 'post')) {
      const fitted = await fitUpload(await readFile(result.gridPath), limit);
      uploads.push({ name: 'grid.png', data: fitted.bytes, contentType: 'image/png' });
      views.push({ filename: 'grid.png' });
    }
    for (const [index, file] of result.files.entries()) {
      if (file.nsfw && flaggedAction === 'withhold') {
        withheld++;
        continue;
      }
      const spoiler = file.nsfw && flaggedAction === 'spoiler';
      if (spoiler) spoilered++;
      const name = `${spoiler ? 'SPOILER_' : ''}${result.files.length > 1 ? `${index + 1}-` : ''}${file.seed}.png`;
      const fitted = await fitUpload(await readFile(file.path), limit);
      uploads.push({ name, data: fitted.bytes, contentType: 'image/png' });
      views.push({ filename: name, spoiler });
    }
    const notes: string[] = [];
    if (withheld) notes.push(`${withheld === result.files.length ? 'The image was' : `${withheld} image(s) were`} withheld: the safety checker flagged them, and this channel is not age-restricted.`);
    if (spoilered) notes.push(`${spoilered} image(s) flagged by the safety checker are hidden behind a spoiler.`);
    const body = resultBody(job.id, job.params, result, job.userId, views, notes.join(' ') || undefined);
    const message = this.messageFor(job);
    const outcome = await this.reporter.final(job.id, async () => {
      await this.gate(job.id);
      return message.update(body, uploads, { final: true, pingUserOnFallback: true });
    });
    const messageId = outcome?.messageId;
    if (messageId && messageId !== job.messageId) this.options.jobs.setMessageId(job.id, messageId);
    if (messageId && job.channelId) {
      const link = `https://discord.com/channels/${job.guildId ?? '@me'}/${job.channelId}/${messageId}`;
      this.options.generations.insertMany(
        result.files.map((file, index) => ({
          jobId: job.id,
          guildId: job.guildId,
          channelId: job.channelId!,
          userId: job.userId,
          messageId,
          messageLink: link,
          imageIndex: index,
          prompt: job.params.prompt,
          negativePrompt: job.params.negativePrompt || null,
          seed: file.seed,
          steps: job.params.steps,
          sampler: result.sampler,
          model: result.model,
          width: file.width,
          height: file.height,
          filePath: file.path,
        })),
      );
      if (flagged && flaggedAction !== 'post') {
        await this.moderationReporter?.flaggedImage(job, flaggedAction === 'spoiler' ? 'spoilered' : 'withheld', link).catch((err) => this.options.log.warn({ jobId: job.id, err: String(err) }, 'could not log a flagged image'));
      }
    }
  }

  /** Called by the moderation gate when a prompt is refused. */
  async reportBlockedPrompt(who: Requester, prompt: string, negative: string | undefined, verdict: Verdict): Promise<void> {
    this.options.log.info({ userId: who.userId, guildId: who.guildId, rule: verdict.rule?.source, term: verdict.rule?.term }, 'prompt refused');
    await this.moderationReporter?.blockedPrompt(who, prompt, negative, verdict).catch((err) => this.options.log.warn({ err: String(err) }, 'could not post to the moderation log'));
  }

  /** The channel refused the bot (permissions): the only place left to tell the user is a DM (which they may block). */
  private async tellByDm(job: JobRow): Promise<void> {
    const { rest, log } = this.options;
    try {
      const dm = parseReply(createdReply, await rest.post(Routes.userChannels(), { body: { recipient_id: job.userId } }), 'opening a DM');
      const where = job.channelId ? `<#${job.channelId}>` : 'that channel';
      await rest.post(Routes.channelMessages(dm.id), {
        body: { content: `Your image (${quotePrompt(job.params.prompt, 200)}) is ready, but I could not post it in ${where}: I am missing permissions there (View Channel, Send Messages, Attach Files, Embed Links). Ask a moderator to fix them, then try again.`, allowed_mentions: NO_PINGS },
      });
      log.info({ jobId: job.id, userId: job.userId }, 'told the user by DM that the channel refused the result');
    } catch (err) {
      log.warn({ jobId: job.id, err: String(err) }, 'could not tell the user by DM either');
    }
  }

  private logSendError(job: JobRow, err: unknown, what: string): void {
    const detail = err instanceof Error ? err.message : String(err);
    if (isMissingPermission(err)) {
      this.options.log.warn({ jobId: job.id, channelId: job.channelId }, `${what}: the bot lacks permission in this channel (needs View Channel, Send Messages, Attach Files, Embed Links)`);
    } else {
      this.options.log.warn({ jobId: job.id, err: detail }, what);
    }
  }
}

const RESUMED_NOTE = '↻ The bot restarted; your job was resumed.';

export function fileLabel(path: string): string {
  return basename(path);
}
