// The region tools on a result (like Midjourney's): Vary (Region), Zoom Out 2x / 1.5x, Custom Zoom and the four Pan
// arrows. Each makes an inpainting job from the chosen image (src/pipeline/inpaint): the picture and its mask are
// saved in the new job's folder, and the job keeps the source job's model and settings (a new seed, as Vary does) and
// goes through the same moderation gate, limits, queue and persistence as every job.
//
// Vary (Region) without a web page: an ephemeral message shows the picture with a numbered 4 x 4 grid and a select
// menu of the cells; choosing cells opens a modal for the prompt; the chosen cells, softened, are the mask.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  MessageFlags,
  ModalBuilder,
  StringSelectMenuBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ButtonInteraction,
  type ModalSubmitInteraction,
  type StringSelectMenuInteraction,
} from 'discord.js';
import type { BotContext, ComponentHandler } from '../bot/types.ts';
import type { JobRow } from '../jobs/service.ts';
import type { JobParams } from '../jobs/types.ts';
import { cellBounds, cellMask, cellsFromNumbers, numbersFromCells, regionBlur } from '../pipeline/inpaint/cells.ts';
import { outpaintCanvas, ZOOM_RANGE, type OutpaintSpec } from '../pipeline/inpaint/outpaint.ts';
import type { MaskImage, RgbImage } from '../pipeline/types.ts';
import { writeFileAtomic } from '../storage/index.ts';
import { modalId, parseModalId } from './customIds.ts';
import { editId, editModalRef, GRID, parseEditId, parseEditModalRef, type EditOp } from './editIds.ts';
import { saveInitImage } from './initImages.ts';
import { derive } from './jobButtons.ts';
import { checkRequest, effectiveLimits, MAX_PROMPT_LENGTH, RequestError, randomSeed } from './requests.ts';
import { replyEphemeral, startInteractionJob } from './startJob.ts';

type EditInteraction = ButtonInteraction | ModalSubmitInteraction | StringSelectMenuInteraction;

const PANS: Partial<Record<EditOp, OutpaintSpec>> = {
  zoom2: { zoomOut: 2 },
  zoom15: { zoomOut: 1.5 },
  'pan-left': { pan: 'left' },
  'pan-right': { pan: 'right' },
  'pan-up': { pan: 'up' },
  'pan-down': { pan: 'down' },
};

/** The chosen image of a finished job, fitted (never enlarged) to the pixel budget in whole latents. */
async function sourceImage(job: JobRow, index: number, maxPixels: number): Promise<RgbImage | undefined> {
  const file = job.result?.files[index];
  if (!file) return undefined;
  const bytes = await readFile(file.path).catch(() => undefined);
  if (!bytes) return undefined;
  const meta = await sharp(bytes).metadata();
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  const s = Math.min(1, Math.sqrt(maxPixels / (w * h)));
  const width = Math.max(64, Math.floor((w * s) / 8) * 8);
  const height = Math.max(64, Math.floor((h * s) / 8) * 8);
  let pipeline = sharp(bytes).removeAlpha().toColourspace('srgb');
  // Same size: the exact pixels (the kept region must come back identical).
  if (width !== w || height !== h) pipeline = pipeline.resize(width, height, { fit: 'fill', kernel: 'lanczos3' });
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

async function saveMask(jobDir: string, mask: MaskImage): Promise<string> {
  const path = join(jobDir, 'mask.png');
  await writeFileAtomic(path, await sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } }).png().toBuffer());
  return path;
}

/**
 * Builds and starts a masked job from `job`'s image `index`: the picture and mask are made (within the pixel budget),
 * the request checked like any other (limits, then the moderation gate: the prompt may be new), the files saved in
 * the new job's folder, and the job submitted. `make` returns the canvas, mask and what to record.
 */
async function startMasked(
  ctx: BotContext,
  interaction: EditInteraction,
  job: JobRow,
  index: number,
  action: JobParams['action'],
  prompt: string | undefined,
  make: (image: RgbImage, maxPixels: number) => Promise<{ image: RgbImage; mask: MaskImage; extra: Partial<JobParams> }>,
): Promise<void> {
  // Decoding and resizing take a moment: acknowledge now (the queued message replaces this).
  if (!interaction.deferred && !interaction.replied) await interaction.deferReply();
  try {
    const limits = effectiveLimits(ctx, interaction.guildId);
    const source = await sourceImage(job, index, limits.maxPixels);
    if (!source) return replyEphemeral(interaction, 'That image is no longer available.');
    const made = await make(source, limits.maxPixels);
    const size = { width: made.image.width, height: made.image.height };
    const params = derive(ctx, interaction, job, { seed: randomSeed(), count: 1, ...size, ...(prompt !== undefined ? { prompt } : {}) }, { action, kind: 'img2img', parentIndex: index });
    const gate = await checkRequest(ctx, { userId: interaction.user.id, guildId: interaction.guildId, channelId: interaction.channelId!, channelAgeRestricted: params.channel.ageRestricted }, params.prompt, params.negativePrompt || undefined);
    if (!gate.ok) return replyEphemeral(interaction, gate.message);
    const jobId = ctx.jobs.newJobId();
    const dir = ctx.jobs.jobDir(jobId);
    Object.assign(params, made.extra);
    // Strength is the pipeline's choice with a mask (diffusers' inpainting default), not img2img's.
    delete params.strength;
    params.initImagePath = await saveInitImage(dir, made.image);
    params.maskPath = await saveMask(dir, made.mask);
    await startInteractionJob(ctx, interaction, params, jobId);
  } catch (err) {
    if (err instanceof RequestError) return replyEphemeral(interaction, err.message);
    throw err;
  }
}

function startOutpaint(ctx: BotContext, interaction: EditInteraction, job: JobRow, index: number, spec: OutpaintSpec, prompt?: string): Promise<void> {
  return startMasked(ctx, interaction, job, index, 'pan' in spec ? 'pan' : 'zoom', prompt, async (image, maxPixels) => {
    const canvas = await outpaintCanvas(image, spec, maxPixels);
    return { image: canvas.image, mask: canvas.mask, extra: { maskPrefilled: true, outpaint: spec } };
  });
}

/** The picture, small, with the grid drawn over it and each cell's number in its centre. */
export async function gridPreview(image: RgbImage, maxSide = 384): Promise<Buffer> {
  const s = Math.min(1, maxSide / Math.max(image.width, image.height));
  const width = Math.max(64, Math.round(image.width * s));
  const height = Math.max(64, Math.round(image.height * s));
  const font = Math.max(10, Math.round(Math.min(width, height) / GRID / 3));
  const parts: string[] = [];
  for (let n = 1; n <= GRID * GRID; n++) {
    const b = cellBounds(n, GRID, width, height);
    parts.push(`<rect x="${b.x1 + 0.5}" y="${b.y1 + 0.5}" width="${b.x2 - b.x1 - 1}" height="${b.y2 - b.y1 - 1}" fill="none" stroke="white" stroke-opacity="0.8"/>`);
    parts.push(`<text x="${(b.x1 + b.x2) / 2}" y="${(b.y1 + b.y2) / 2}" font-size="${font}" font-family="sans-serif" font-weight="bold" fill="white" stroke="black" stroke-width="${Math.max(1, font / 8)}" text-anchor="middle" dominant-baseline="central">${n}</text>`);
  }
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`);
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .composite([{ input: svg, top: 0, left: 0 }])
    .png()
    .toBuffer();
}

const CELL_NAMES = ['top', 'upper middle', 'lower middle', 'bottom'];
const COLUMN_NAMES = ['left', 'centre left', 'centre right', 'right'];

async function showRegionPicker(ctx: BotContext, interaction: ButtonInteraction, job: JobRow, index: number): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const source = await sourceImage(job, index, effectiveLimits(ctx, interaction.guildId).maxPixels);
  if (!source) return replyEphemeral(interaction, 'That image is no longer available.');
  const options = Array.from({ length: GRID * GRID }, (_, i) => ({
    label: `${i + 1}`,
    description: `${CELL_NAMES[Math.floor(i / GRID)]} ${COLUMN_NAMES[i % GRID]}`,
    value: String(i + 1),
  }));
  const menu = new StringSelectMenuBuilder()
    .setCustomId(editId('cells', job.id, index))
    .setPlaceholder('Cells to repaint')
    .setMinValues(1)
    .setMaxValues(GRID * GRID)
    .addOptions(options);
  await interaction.editReply({
    content: 'Vary (Region): choose the numbered cells to repaint, then describe what goes there. Everything else stays as it is.',
    files: [new AttachmentBuilder(await gridPreview(source), { name: 'regions.png' })],
    components: [new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(menu)],
    allowedMentions: { parse: [] },
  });
}

function promptInput(value: string): ActionRowBuilder<TextInputBuilder> {
  return new ActionRowBuilder<TextInputBuilder>().addComponents(
    new TextInputBuilder().setCustomId('prompt').setLabel('Prompt').setStyle(TextInputStyle.Paragraph).setRequired(true).setMaxLength(MAX_PROMPT_LENGTH).setValue(value.slice(0, MAX_PROMPT_LENGTH)),
  );
}

async function sourceJob(interaction: EditInteraction, ctx: BotContext, jobId: string): Promise<JobRow | undefined> {
  const job = ctx.jobs.get(jobId);
  if (!job) await replyEphemeral(interaction, 'That job is no longer known to the bot.');
  return job;
}

async function onButton(interaction: ButtonInteraction, ctx: BotContext): Promise<void> {
  const id = parseEditId(interaction.customId);
  if (!id || id.op === 'cells') return replyEphemeral(interaction, 'This button is not recognised (it may be from an older version of the bot).');
  const job = await sourceJob(interaction, ctx, id.jobId);
  if (!job) return;
  if (!job.result?.files[id.index]) return replyEphemeral(interaction, 'That image is no longer available.');
  const spec = PANS[id.op];
  if (spec) return startOutpaint(ctx, interaction, job, id.index, spec);
  if (id.op === 'region') return showRegionPicker(ctx, interaction, job, id.index);
  // Custom Zoom: the prompt and the factor, as Midjourney asks for them.
  const modal = new ModalBuilder()
    .setCustomId(modalId('zoom', editModalRef(job.id, id.index)))
    .setTitle('Custom Zoom')
    .addComponents(
      promptInput(job.params.prompt),
      new ActionRowBuilder<TextInputBuilder>().addComponents(
        new TextInputBuilder().setCustomId('factor').setLabel(`Zoom out by (${ZOOM_RANGE.min} to ${ZOOM_RANGE.max})`).setStyle(TextInputStyle.Short).setRequired(true).setMaxLength(6).setValue('1.5'),
      ),
    );
  await interaction.showModal(modal);
}

async function onSelect(interaction: StringSelectMenuInteraction, ctx: BotContext): Promise<void> {
  const id = parseEditId(interaction.customId);
  if (!id || id.op !== 'cells') return replyEphemeral(interaction, 'This menu is not recognised.');
  const job = await sourceJob(interaction, ctx, id.jobId);
  if (!job) return;
  let cells: number;
  try {
    cells = cellsFromNumbers(interaction.values.map(Number), GRID);
  } catch {
    return replyEphemeral(interaction, 'Choose cells from the menu.');
  }
  const modal = new ModalBuilder()
    .setCustomId(modalId('region', editModalRef(job.id, id.index, cells)))
    .setTitle(`Vary (Region): cells ${numbersFromCells(cells, GRID).join(', ')}`.slice(0, 45))
    .addComponents(promptInput(job.params.prompt));
  await interaction.showModal(modal);
}

async function onModal(interaction: ModalSubmitInteraction, ctx: BotContext): Promise<void> {
  const id = parseModalId(interaction.customId);
  const ref = id ? parseEditModalRef(id.ref) : undefined;
  if (!id || !ref || (id.kind !== 'region' && id.kind !== 'zoom')) return replyEphemeral(interaction, 'This form is not recognised.');
  const job = await sourceJob(interaction, ctx, ref.jobId);
  if (!job) return;
  const prompt = interaction.fields.getTextInputValue('prompt');
  if (id.kind === 'zoom') {
    const text = interaction.fields.getTextInputValue('factor').trim().replace(/×|x$/i, '');
    const factor = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
    if (!(factor >= ZOOM_RANGE.min && factor <= ZOOM_RANGE.max)) return replyEphemeral(interaction, `The zoom factor must be a number from ${ZOOM_RANGE.min} to ${ZOOM_RANGE.max}; got “${text.slice(0, 20)}”.`);
    return startOutpaint(ctx, interaction, job, ref.index, { zoomOut: factor }, prompt);
  }
  if (ref.cells === 0) return replyEphemeral(interaction, 'Choose at least one cell.');
  return startMasked(ctx, interaction, job, ref.index, 'vary-region', prompt, async (image) => ({
    image,
    mask: cellMask(ref.cells, GRID, image.width, image.height),
    extra: { maskBlur: regionBlur(GRID, image.width, image.height) },
  }));
}

export const editButtons: ComponentHandler = { prefix: 'edit', button: onButton, select: onSelect };
export const regionModal: ComponentHandler = { prefix: 'modal:region', modal: onModal };
export const zoomModal: ComponentHandler = { prefix: 'modal:zoom', modal: onModal };
