// The buttons on job messages: Cancel on queued/running jobs; Reroll, Vary, Upscale, Remix, Delete on results.
// Everything a button needs is looked up by the job id in its custom_id, so they work after a restart.
import { ActionRowBuilder, ModalBuilder, TextInputBuilder, TextInputStyle, PermissionFlagsBits, type ButtonInteraction, type ModalSubmitInteraction, type StringSelectMenuInteraction } from 'discord.js';
import type { BotContext, ComponentHandler } from '../bot/types.ts';
import type { JobRow } from '../jobs/service.ts';
import { modalId, parseJobButtonId, parseModalId } from './customIds.ts';
import { buildParams, channelIsAgeRestricted, checkRequest, effectiveLimits, RequestError, randomSeed, uploadLimitOf, MAX_PROMPT_LENGTH } from './requests.ts';
import { replyEphemeral, startInteractionJob } from './startJob.ts';

/** Strength of the Vary button: a close variation keeps most of the image. */
export const VARY_STRENGTH = 0.45;

function isModerator(interaction: ButtonInteraction | ModalSubmitInteraction): boolean {
  return Boolean(interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages));
}

async function sourceJob(interaction: ButtonInteraction | ModalSubmitInteraction, ctx: BotContext, jobId: string): Promise<JobRow | undefined> {
  const job = ctx.jobs.get(jobId);
  if (!job) await replyEphemeral(interaction, 'That job is no longer known to the bot.');
  return job;
}

export async function gateAndStart(ctx: BotContext, interaction: ButtonInteraction | ModalSubmitInteraction, params: ReturnType<typeof buildParams>, note?: string): Promise<void> {
  const gate = await checkRequest(ctx, { userId: interaction.user.id, guildId: interaction.guildId, channelId: interaction.channelId!, channelAgeRestricted: params.channel.ageRestricted }, params.prompt, params.negativePrompt || undefined);
  if (!gate.ok) return replyEphemeral(interaction, gate.message);
  await startInteractionJob(ctx, interaction, params, ctx.jobs.newJobId(), note);
}

export function derive(ctx: BotContext, interaction: ButtonInteraction | ModalSubmitInteraction | StringSelectMenuInteraction, source: JobRow, change: Partial<Parameters<typeof buildParams>[0]> & { prompt?: string }, base: Partial<JobRow['params']> & Pick<JobRow['params'], 'action'>) {
  const p = source.params;
  // The job's own model (rows from before model choice ran on the bot's default), still subject to the server's
  // hidden models: choose() refuses one that was hidden or removed since.
  const model = ctx.models.choose(interaction.guildId, p.model ?? ctx.models.defaultModel);
  return buildParams(
    {
      prompt: change.prompt ?? p.prompt,
      negative: change.negative ?? p.negativePrompt,
      seed: change.seed ?? p.seed,
      steps: p.steps,
      guidance: p.guidance,
      sampler: p.sampler,
      width: change.width ?? p.width,
      height: change.height ?? p.height,
      count: change.count ?? p.count,
      strength: change.strength ?? p.strength,
    },
    ctx.models.defaultsFor(model),
    effectiveLimits(ctx, interaction.guildId),
    { ...base, model, channel: { ageRestricted: channelIsAgeRestricted(interaction), uploadLimit: uploadLimitOf(interaction, ctx.config) }, parentJobId: source.id },
  );
}

async function onButton(interaction: ButtonInteraction, ctx: BotContext): Promise<void> {
  const id = parseJobButtonId(interaction.customId);
  if (!id) return replyEphemeral(interaction, 'This button is not recognised (it may be from an older version of the bot).');
  const job = await sourceJob(interaction, ctx, id.jobId);
  if (!job) return;
  const owner = job.userId === interaction.user.id;
  try {
    switch (id.action) {
      case 'cancel': {
        if (!owner && !isModerator(interaction)) return replyEphemeral(interaction, 'Only the person who asked for this image (or a moderator) can cancel it.');
        const cancelled = ctx.jobs.cancel(job.id);
        // The job's message is updated by the delivery layer; just acknowledge the click.
        if (cancelled) await interaction.deferUpdate();
        else await replyEphemeral(interaction, 'That job has already finished.');
        return;
      }
      case 'delete': {
        if (!owner && !isModerator(interaction)) return replyEphemeral(interaction, 'Only the person who made this image (or a moderator) can delete it.');
        await interaction.deferUpdate();
        await interaction.message.delete();
        ctx.generations.markDeletedByMessage(interaction.message.id, interaction.user.id);
        ctx.log.info({ jobId: job.id, by: interaction.user.id }, 'result deleted');
        return;
      }
      case 'reroll': {
        const params = derive(ctx, interaction, job, { seed: randomSeed() }, { action: 'reroll', kind: job.params.kind, initImagePath: job.params.initImagePath, ...maskOf(job) });
        if (job.params.maskPath) params.strength = job.params.strength;
        return gateAndStart(ctx, interaction, params);
      }
      case 'vary':
      case 'upscale': {
        const index = id.index ?? 0;
        const files = job.result?.files ?? [];
        const unfinished = job.state === 'queued' || job.state === 'running';
        if (files.length === 0) return replyEphemeral(interaction, unfinished ? 'That job has not finished yet: there is no image to use.' : 'That job has no images (it did not finish).');
        // Only a forged or mixed-up button points past the job's images: say so rather than "no longer available".
        if (index >= files.length) {
          return replyEphemeral(interaction, `This button asks for image ${index + 1}, but that job made ${files.length === 1 ? 'only 1 image' : `${files.length} images`}. Use the buttons on the job's own result message.`);
        }
        const file = files[index]!;
        if (id.action === 'vary') {
          const params = derive(ctx, interaction, job, { seed: randomSeed(), count: 1, strength: VARY_STRENGTH }, { action: 'vary', kind: 'img2img', initImagePath: file.path, parentIndex: index });
          params.width = file.width;
          params.height = file.height;
          return gateAndStart(ctx, interaction, params);
        }
        const factor = 2 as const;
        const params = derive(ctx, interaction, job, { count: 1 }, { action: 'upscale', kind: 'upscale', parentIndex: index, upscale: { sourcePath: file.path, factor, sourceIndex: index } });
        params.seed = file.seed;
        params.width = file.width * factor;
        params.height = file.height * factor;
        // Upscaling is not a prompt: no moderation gate beyond the blocked-user check, which the original passed.
        await startInteractionJob(ctx, interaction, params);
        return;
      }
      case 'remix': {
        const modal = new ModalBuilder()
          .setCustomId(modalId('remix', job.id))
          .setTitle('Remix: edit the prompt')
          .addComponents(
            new ActionRowBuilder<TextInputBuilder>().addComponents(
              new TextInputBuilder().setCustomId('prompt').setLabel('Prompt').setStyle(TextInputStyle.Paragraph).setRequired(true).setMaxLength(MAX_PROMPT_LENGTH).setValue(job.params.prompt.slice(0, MAX_PROMPT_LENGTH)),
            ),
            new ActionRowBuilder<TextInputBuilder>().addComponents(
              new TextInputBuilder().setCustomId('negative').setLabel('Negative prompt').setStyle(TextInputStyle.Paragraph).setRequired(false).setMaxLength(MAX_PROMPT_LENGTH).setValue(job.params.negativePrompt.slice(0, MAX_PROMPT_LENGTH)),
            ),
          );
        await interaction.showModal(modal);
        return;
      }
    }
  } catch (err) {
    if (err instanceof RequestError) return replyEphemeral(interaction, err.message);
    throw err;
  }
}

async function onModal(interaction: ModalSubmitInteraction, ctx: BotContext): Promise<void> {
  const id = parseModalId(interaction.customId);
  if (!id || id.kind !== 'remix') return replyEphemeral(interaction, 'This form is not recognised.');
  const job = await sourceJob(interaction, ctx, id.ref);
  if (!job) return;
  try {
    const prompt = interaction.fields.getTextInputValue('prompt');
    const negative = interaction.fields.getTextInputValue('negative') ?? '';
    // Same seed: a remix changes the words, not the composition's starting noise.
    const params = derive(ctx, interaction, job, { prompt, negative, seed: job.params.seed }, { action: 'remix', kind: job.params.kind, initImagePath: job.params.initImagePath, ...maskOf(job) });
    if (job.params.maskPath) params.strength = job.params.strength;
    return gateAndStart(ctx, interaction, params);
  } catch (err) {
    if (err instanceof RequestError) return replyEphemeral(interaction, err.message);
    throw err;
  }
}

/** A masked job's mask settings, which Reroll and Remix keep (same canvas, same region). */
function maskOf(job: JobRow): Partial<JobRow['params']> {
  const p = job.params;
  if (!p.maskPath) return {};
  return { maskPath: p.maskPath, ...(p.maskBlur !== undefined ? { maskBlur: p.maskBlur } : {}), ...(p.maskPrefilled ? { maskPrefilled: true } : {}), ...(p.outpaint ? { outpaint: p.outpaint } : {}) };
}

export const jobButtons: ComponentHandler = { prefix: 'img', button: onButton };
export const remixModal: ComponentHandler = { prefix: 'modal:remix', modal: onModal };
