// What the bot's messages look like: pure functions from job rows to Discord message bodies. Every body carries
// allowed_mentions with an empty parse list: prompts are echoed and must never ping anyone.
import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent, type APIEmbed, type RESTPostAPIChannelMessageJSONBody } from 'discord.js';
import type { JobParams, JobProgress, JobResult } from '../jobs/types.ts';
import { jobButtonId } from './customIds.ts';
import { editRows } from './editIds.ts';
import { DEFAULT_STRENGTH } from '../pipeline/request.ts';

export const NO_PINGS = { parse: [] as never[] };

export interface MessageBody {
  content?: string;
  embeds?: APIEmbed[];
  components?: APIActionRowComponent<APIButtonComponent>[];
  allowed_mentions: { parse: never[]; users?: string[]; replied_user?: boolean };
  attachments?: { id: number; filename: string; description?: string }[];
}

/** Inline-code a user's text safely: no backticks to break out, no newlines, bounded length. */
export function quotePrompt(text: string, max = 300): string {
  const flat = text.replace(/[\r\n]+/g, ' ').replace(/`/g, 'ˋ').trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return cut ? `\`${cut}\`` : '*(empty prompt)*';
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(s % 60).padStart(2, '0')} s`;
}

const ACTION_LABEL: Record<JobParams['action'], string> = {
  imagine: '',
  reroll: 'Reroll of ',
  vary: 'Variation of ',
  remix: 'Remix of ',
  upscale: 'Upscale of ',
  reimagine: 'Reimagined ',
  reply: 'Reimagined ',
  'vary-region': 'Region variation of ',
  zoom: 'Zoom out of ',
  pan: 'Pan of ',
};

function cancelRow(jobId: string): APIActionRowComponent<APIButtonComponent> {
  return { type: ComponentType.ActionRow, components: [{ type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Cancel', custom_id: jobButtonId('cancel', jobId) }] };
}

export function queuedBody(jobId: string, params: JobParams, position: number | undefined, note?: string): MessageBody {
  const where = position === undefined ? 'Starting…' : `Queued — position **${position}**.`;
  const lines = [`🕒 ${where} ${ACTION_LABEL[params.action]}${quotePrompt(params.prompt)}`];
  if (note) lines.push(note);
  return { content: lines.join('\n'), components: [cancelRow(jobId)], allowed_mentions: NO_PINGS };
}

/** Progress with ETA from the steps done so far. The preview, when present, is attached as preview.webp. */
export function progressBody(jobId: string, params: JobParams, progress: JobProgress, hasPreview: boolean): MessageBody {
  const { step, total, elapsedMs } = progress;
  if (step === 0) {
    // The real step count is known only from the first progress event (PNDM, for one, runs steps + 1 passes).
    return { content: `🎨 ${ACTION_LABEL[params.action]}${quotePrompt(params.prompt)}\nStarting…`, components: [cancelRow(jobId)], embeds: [], allowed_mentions: NO_PINGS };
  }
  const eta = step > 0 && step < total ? ` · about ${formatDuration((elapsedMs / step) * (total - step))} left` : '';
  const bar = progressBar(step, total);
  const body: MessageBody = {
    content: `🎨 ${ACTION_LABEL[params.action]}${quotePrompt(params.prompt)}\n${bar} step ${step}/${total} · ${formatDuration(elapsedMs)}${eta}`,
    components: [cancelRow(jobId)],
    allowed_mentions: NO_PINGS,
  };
  if (hasPreview) {
    body.embeds = [{ image: { url: 'attachment://preview.webp' }, color: 0x5865f2 }];
    body.attachments = [{ id: 0, filename: 'preview.webp', description: 'work-in-progress preview' }];
  } else {
    body.embeds = [];
  }
  return body;
}

export function progressBar(step: number, total: number, width = 12): string {
  const filled = total > 0 ? Math.round((step / total) * width) : 0;
  return `\`${'█'.repeat(filled)}${'░'.repeat(width - filled)}\``;
}

export interface ResultFileView {
  filename: string;
  /** True when this file is sent as a spoiler (flagged by the safety checker, per the server's setting). */
  spoiler?: boolean;
}

/** The finished job: an embed with the settings and the image(s), and the action buttons. */
export function resultBody(jobId: string, params: JobParams, result: JobResult, userId: string, files: ResultFileView[], note?: string): MessageBody {
  const fields: APIEmbed['fields'] = [];
  if (params.negativePrompt) fields.push({ name: 'Negative prompt', value: quotePrompt(params.negativePrompt, 1000) });
  const seeds = result.files.map((f) => f.seed);
  fields.push(
    { name: 'Seed', value: seeds.length > 1 ? `${seeds[0]}–${seeds[seeds.length - 1]}` : String(seeds[0] ?? params.seed), inline: true },
    { name: 'Steps', value: result.stepsRun && result.stepsRun !== params.steps ? `${result.stepsRun} of ${params.steps}` : String(params.steps), inline: true },
    { name: 'Guidance', value: String(params.guidance), inline: true },
    { name: 'Sampler', value: result.sampler, inline: true },
    { name: 'Size', value: `${result.files[0]?.width ?? params.width}×${result.files[0]?.height ?? params.height}`, inline: true },
    { name: 'Model', value: result.model.slice(0, 100), inline: true },
  );
  if (params.kind === 'img2img' && !params.maskPath) fields.push({ name: 'Strength', value: String(params.strength ?? DEFAULT_STRENGTH), inline: true });
  if (params.kind === 'upscale') fields.push({ name: 'Upscale', value: `${params.upscale?.factor}× (${result.upscaleMethod ?? 'lanczos'})`, inline: true });
  fields.push({ name: 'Time', value: formatDuration(result.elapsedMs), inline: true });
  const shown = files.find((f) => !f.spoiler);
  const embed: APIEmbed = {
    title: `${ACTION_LABEL[params.action]}${params.kind === 'upscale' ? 'image' : ''}`.trim() || undefined,
    description: quotePrompt(params.prompt, 1000) + (result.promptTruncated ? '\n*(the prompt was cut to the model’s token limit)*' : ''),
    fields,
    color: 0x57f287,
    footer: { text: `job ${jobId}` },
    ...(shown ? { image: { url: `attachment://${shown.filename}` } } : {}),
  };
  const lines = [`<@${userId}>${note ? ` ${note}` : ''}`];
  return {
    content: lines.join('\n'),
    embeds: [embed],
    components: resultButtons(jobId, params, result.files.length),
    allowed_mentions: NO_PINGS,
    attachments: files.map((f, id) => ({ id, filename: f.filename })),
  };
}

function button(label: string, customId: string, style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Danger = ButtonStyle.Secondary): APIButtonComponent {
  return { type: ComponentType.Button, style, label, custom_id: customId };
}

export function resultButtons(jobId: string, params: JobParams, images: number): APIActionRowComponent<APIButtonComponent>[] {
  const row = (components: APIButtonComponent[]): APIActionRowComponent<APIButtonComponent> => ({ type: ComponentType.ActionRow, components });
  const danger = button('Delete', jobButtonId('delete', jobId), ButtonStyle.Danger);
  // One picture (a single result or an upscale): the region tools too, as Midjourney shows them.
  if (params.kind === 'upscale') return [row([danger]), ...editRows(jobId, 0)];
  if (images <= 1) {
    return [row([
      button('Reroll', jobButtonId('reroll', jobId), ButtonStyle.Primary),
      button('Vary', jobButtonId('vary', jobId, 0)),
      button('Upscale', jobButtonId('upscale', jobId, 0)),
      button('Remix', jobButtonId('remix', jobId)),
      danger,
    ]), ...editRows(jobId, 0)];
  }
  const indices = Array.from({ length: images }, (_, i) => i);
  return [
    row([button('Reroll', jobButtonId('reroll', jobId), ButtonStyle.Primary), button('Remix', jobButtonId('remix', jobId)), danger]),
    row(indices.map((i) => button(`V${i + 1}`, jobButtonId('vary', jobId, i)))),
    row(indices.map((i) => button(`U${i + 1}`, jobButtonId('upscale', jobId, i)))),
  ];
}

export function failedBody(params: JobParams, message: string): MessageBody {
  return { content: `❌ ${quotePrompt(params.prompt)}\n${message}`, components: [], embeds: [], allowed_mentions: NO_PINGS, attachments: [] };
}

export function cancelledBody(params: JobParams, why = 'Cancelled.'): MessageBody {
  return { content: `⏹️ ${quotePrompt(params.prompt)}\n${why}`, components: [], embeds: [], allowed_mentions: NO_PINGS, attachments: [] };
}

/** Plain text, never pinging: for ephemeral replies and notices. */
export function notice(content: string): RESTPostAPIChannelMessageJSONBody & MessageBody {
  return { content, allowed_mentions: NO_PINGS };
}

/** The same body in discord.js's option shape (camelCase), for interaction.reply / editReply / followUp. */
export function forDiscordJs(body: MessageBody): { content?: string; embeds?: APIEmbed[]; components?: APIActionRowComponent<APIButtonComponent>[]; allowedMentions: { parse: never[]; users?: string[]; repliedUser?: boolean } } {
  const out: ReturnType<typeof forDiscordJs> = { allowedMentions: { parse: [], users: body.allowed_mentions.users, repliedUser: body.allowed_mentions.replied_user } };
  if (body.content !== undefined) out.content = body.content;
  if (body.embeds !== undefined) out.embeds = body.embeds;
  if (body.components !== undefined) out.components = body.components;
  if (out.allowedMentions.users === undefined) delete out.allowedMentions.users;
  if (out.allowedMentions.repliedUser === undefined) delete out.allowedMentions.repliedUser;
  return out;
}
