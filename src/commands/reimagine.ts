// "Reimagine" (message context menu: right-click a message → Apps → Reimagine): asks for a prompt and a strength in a
// modal, then runs img2img on the message's image. The modal's custom_id carries the target message id, and the
// submission fetches that message again by channel + id, so nothing is held in memory between the two steps (a
// restart in between still works, and the image URL is fresh: Discord's CDN links expire).
import { ActionRowBuilder, ApplicationCommandType, InteractionContextType, ModalBuilder, Routes, TextInputBuilder, TextInputStyle, type MessageContextMenuCommandInteraction, type ModalSubmitInteraction } from 'discord.js';
import type { BotContext, ComponentHandler, MessageMenuCommand } from '../bot/types.ts';
import { modalId, parseModalId } from '../discord/customIds.ts';
import { fromDiscordJs, fromRawMessage, messageImageUrl, type RawApiMessage } from '../discord/messageImage.ts';
import { buildParams, channelIsAgeRestricted, checkRequest, effectiveLimits, RequestError, uploadLimitOf, MAX_PROMPT_LENGTH } from '../discord/requests.ts';
import { addInitImage } from '../discord/initImages.ts';
import { replyEphemeral, startInteractionJob } from '../discord/startJob.ts';
import { discordCode } from '../discord/jobMessage.ts';
import { DEFAULT_STRENGTH, rangeOf } from '../pipeline/request.ts';
import { messageWithImages, parseReply } from '../discord/restReplies.ts';

export const REIMAGINE_COMMAND = 'Reimagine';

const NO_IMAGE = 'That message has no image to start from. Use Reimagine on a message with a picture (an upload or one of my results).';

/**
 * Reads the strength typed into the modal: a number in the request schema's range, a decimal comma or a percentage accepted ("0,6",
 * "60%"); empty means the default. Throws RequestError with a sentence for the user.
 */
export function parseStrength(text: string | null | undefined): number {
  const raw = (text ?? '').trim();
  if (!raw) return DEFAULT_STRENGTH;
  const percent = raw.endsWith('%');
  const numeric = (percent ? raw.slice(0, -1) : raw).trim().replace(',', '.');
  const value = /^\d*\.?\d+$/.test(numeric) ? Number(numeric) / (percent ? 100 : 1) : Number.NaN;
  const { min, max } = rangeOf('strength');
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new RequestError(`Strength must be a number from ${min} to ${max} (0.3 keeps most of the image, 1 redraws it all); got "${raw.slice(0, 20)}".`);
  }
  return value;
}

function strengthModal(targetMessageId: string, prompt: string): ModalBuilder {
  const promptInput = new TextInputBuilder()
    .setCustomId('prompt')
    .setLabel('Prompt: what should it become?')
    .setStyle(TextInputStyle.Paragraph)
    .setRequired(true)
    .setMaxLength(MAX_PROMPT_LENGTH)
    .setPlaceholder('e.g. the same scene as a watercolor painting');
  // Prefill only with something: an empty value is not a value.
  if (prompt) promptInput.setValue(prompt.slice(0, MAX_PROMPT_LENGTH));
  return new ModalBuilder()
    .setCustomId(modalId('reimagine', targetMessageId))
    .setTitle('Reimagine this image')
    .addComponents(
      new ActionRowBuilder<TextInputBuilder>().addComponents(promptInput),
      new ActionRowBuilder<TextInputBuilder>().addComponents(
        new TextInputBuilder()
          .setCustomId('strength')
          .setLabel('Strength (0.1 subtle … 1 all new)')
          .setStyle(TextInputStyle.Short)
          .setRequired(false)
          .setMaxLength(8)
          .setValue(String(DEFAULT_STRENGTH)),
      ),
    );
}

export const reimagine: MessageMenuCommand = {
  kind: 'message-menu',
  data: {
    type: ApplicationCommandType.Message,
    name: REIMAGINE_COMMAND,
    contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  },
  async execute(interaction: MessageContextMenuCommandInteraction, ctx: BotContext): Promise<void> {
    const target = interaction.targetMessage;
    // Check for an image before asking anything: a form that can only fail is worse than a clear word now.
    if (!messageImageUrl(fromDiscordJs(target))) return replyEphemeral(interaction, NO_IMAGE);
    // One of our own results: start from its prompt, which the user most likely wants to edit rather than retype.
    const previous = ctx.generations.byMessageId(target.id)[0]?.prompt ?? '';
    await interaction.showModal(strengthModal(target.id, previous));
  },
};

/** Fetches the target message again (by the channel the modal was submitted in and the id in its custom_id). */
async function fetchTarget(ctx: BotContext, channelId: string, messageId: string): Promise<RawApiMessage | undefined> {
  try {
    return parseReply(messageWithImages, await ctx.client.rest.get(Routes.channelMessage(channelId, messageId)), 'reading the message to reimagine');
  } catch (err) {
    if (discordCode(err) !== undefined) return undefined; // deleted, or no longer visible to the bot
    throw err;
  }
}

async function onSubmit(interaction: ModalSubmitInteraction, ctx: BotContext): Promise<void> {
  const id = parseModalId(interaction.customId);
  if (!id || id.kind !== 'reimagine' || !/^\d{1,22}$/.test(id.ref) || !interaction.channelId) return replyEphemeral(interaction, 'This form is not recognised.');
  const ageRestricted = channelIsAgeRestricted(interaction);
  let params;
  try {
    const chosen = ctx.models.pick(interaction.guildId, null);
    params = buildParams(
      { prompt: interaction.fields.getTextInputValue('prompt'), strength: parseStrength(interaction.fields.getTextInputValue('strength')) },
      chosen.defaults,
      effectiveLimits(ctx, interaction.guildId),
      { action: 'reimagine', kind: 'img2img', model: chosen.model, channel: { ageRestricted, uploadLimit: uploadLimitOf(interaction, ctx.config) } },
    );
  } catch (err) {
    if (err instanceof RequestError) return replyEphemeral(interaction, err.message);
    throw err;
  }
  const gate = await checkRequest(ctx, { userId: interaction.user.id, guildId: interaction.guildId, channelId: interaction.channelId, channelAgeRestricted: ageRestricted }, params.prompt, params.negativePrompt || undefined);
  if (!gate.ok) return replyEphemeral(interaction, gate.message);

  // Fetching the message and downloading its image take a moment: acknowledge first.
  await interaction.deferReply();
  const target = await fetchTarget(ctx, interaction.channelId, id.ref);
  if (!target) return replyEphemeral(interaction, 'I cannot find that message any more (it may have been deleted).');
  const url = messageImageUrl(fromRawMessage(target));
  if (!url) return replyEphemeral(interaction, NO_IMAGE);
  const jobId = ctx.jobs.newJobId();
  const init = await addInitImage(ctx, jobId, params, url);
  if (!init.ok) return replyEphemeral(interaction, init.message);
  await startInteractionJob(ctx, interaction, params, jobId, init.note);
}

export const reimagineModal: ComponentHandler = { prefix: 'modal:reimagine', modal: onSubmit };
