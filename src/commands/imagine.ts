// /imagine: text to image, or image to image when an attachment is given.
import { ApplicationCommandOptionType, ApplicationCommandType, InteractionContextType, type AutocompleteInteraction, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/types.ts';
import { DEFAULT_STRENGTH, rangeOf, SAMPLER_NAMES, type RequestField, type SamplerName } from '../pipeline/request.ts';
import { buildParams, channelIsAgeRestricted, checkRequest, effectiveLimits, RequestError, uploadLimitOf, MAX_PROMPT_LENGTH } from '../discord/requests.ts';
import { addInitImage } from '../discord/initImages.ts';
import { addMask } from '../discord/maskImages.ts';
import { replyEphemeral, startInteractionJob } from '../discord/startJob.ts';
import { modelAutocomplete } from '../bot/models.ts';

const SAMPLER_LABELS: Record<SamplerName, string> = {
  pndm: 'PLMS / PNDM',
  ddim: 'DDIM',
  euler: 'Euler',
  'euler-a': 'Euler ancestral',
  'dpmpp-2m': 'DPM++ 2M',
  'dpmpp-2m-karras': 'DPM++ 2M Karras',
  lcm: 'LCM (for LCM models)',
};

/** Discord's min_value/max_value for a numeric option: the request schema's range for that field. */
function range(field: RequestField): { min_value: number; max_value: number } {
  const { min, max } = rangeOf(field);
  return { min_value: min, max_value: max };
}

export const imagine: SlashCommand = {
  kind: 'slash',
  data: {
    type: ApplicationCommandType.ChatInput,
    name: 'imagine',
    description: 'Turn a prompt into an image (attach an image to start from it)',
    contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
    options: [
      { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What to draw, e.g. "a lighthouse at dusk, oil painting"', required: true, max_length: MAX_PROMPT_LENGTH },
      { type: ApplicationCommandOptionType.String, name: 'negative', description: 'What to keep out of the image, e.g. "blurry, text"', max_length: MAX_PROMPT_LENGTH },
      { type: ApplicationCommandOptionType.Integer, name: 'seed', description: 'Same seed + same settings = same image (random if empty)', ...range('seed') },
      { type: ApplicationCommandOptionType.Integer, name: 'steps', description: 'Denoising steps: more is slower and often finer (model default if empty)', ...range('steps') },
      { type: ApplicationCommandOptionType.Number, name: 'guidance', description: 'How closely to follow the prompt (CFG scale; 1 = off)', ...range('guidance') },
      { type: ApplicationCommandOptionType.String, name: 'sampler', description: 'The scheduler that removes noise step by step', choices: SAMPLER_NAMES.map((name) => ({ name: SAMPLER_LABELS[name], value: name })) },
      { type: ApplicationCommandOptionType.Integer, name: 'width', description: 'Width in pixels, a multiple of 64 (model default if empty)', ...range('width') },
      { type: ApplicationCommandOptionType.Integer, name: 'height', description: 'Height in pixels, a multiple of 64 (model default if empty)', ...range('height') },
      { type: ApplicationCommandOptionType.Integer, name: 'count', description: `How many images (${rangeOf('count').min}-${rangeOf('count').max}), seeds seed, seed+1, ...`, ...range('count') },
      { type: ApplicationCommandOptionType.Attachment, name: 'image', description: 'Start from this image (img2img)' },
      { type: ApplicationCommandOptionType.Attachment, name: 'mask', description: 'Inpainting (with image): repaint the white part of this mask, keep the black' },
      { type: ApplicationCommandOptionType.Number, name: 'strength', description: `img2img: how much to change the image (0.1 subtle - 1 all new; default ${DEFAULT_STRENGTH})`, ...range('strength') },
      { type: ApplicationCommandOptionType.String, name: 'model', description: "Which installed model draws it (this server's default if empty)", autocomplete: true, max_length: 100 },
    ],
  },
  async execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
    const o = interaction.options;
    const attachment = o.getAttachment('image');
    const ageRestricted = channelIsAgeRestricted(interaction);
    let params;
    try {
      const chosen = ctx.models.pick(interaction.guildId, o.getString('model'));
      params = buildParams(
        {
          prompt: o.getString('prompt', true),
          negative: o.getString('negative'),
          seed: o.getInteger('seed'),
          steps: o.getInteger('steps'),
          guidance: o.getNumber('guidance'),
          sampler: o.getString('sampler'),
          width: o.getInteger('width'),
          height: o.getInteger('height'),
          count: o.getInteger('count'),
          strength: o.getNumber('strength'),
        },
        chosen.defaults,
        effectiveLimits(ctx, interaction.guildId),
        { action: 'imagine', kind: attachment ? 'img2img' : 'txt2img', model: chosen.model, channel: { ageRestricted, uploadLimit: uploadLimitOf(interaction, ctx.config) } },
      );
      if (!attachment && o.getNumber('strength') !== null) throw new RequestError('strength only applies when you attach an image to start from.');
      if (!attachment && o.getAttachment('mask')) throw new RequestError('mask needs an image to paint into: attach it as image.');
    } catch (err) {
      if (err instanceof RequestError) return replyEphemeral(interaction, err.message);
      throw err;
    }
    const gate = await checkRequest(ctx, { userId: interaction.user.id, guildId: interaction.guildId, channelId: interaction.channelId, channelAgeRestricted: ageRestricted }, params.prompt, params.negativePrompt || undefined);
    if (!gate.ok) return replyEphemeral(interaction, gate.message);

    const jobId = ctx.jobs.newJobId();
    let note: string | undefined;
    if (attachment) {
      // Downloading and decoding can take a while: acknowledge first.
      await interaction.deferReply();
      const explicitSize = o.getInteger('width') !== null || o.getInteger('height') !== null;
      const init = await addInitImage(ctx, jobId, params, attachment.url, explicitSize ? { width: params.width, height: params.height } : {});
      if (!init.ok) return replyEphemeral(interaction, init.message);
      note = init.note;
      const mask = o.getAttachment('mask');
      if (mask) {
        const added = await addMask(ctx, jobId, params, mask.url, o.getNumber('strength') !== null);
        if (!added.ok) return replyEphemeral(interaction, added.message);
        note = [note, added.note].filter(Boolean).join(' ') || undefined;
      }
    }
    await startInteractionJob(ctx, interaction, params, jobId, note);
  },
  async autocomplete(interaction: AutocompleteInteraction, ctx: BotContext): Promise<void> {
    const focused = interaction.options.getFocused(true);
    if (focused.name !== 'model') return interaction.respond([]);
    await interaction.respond(modelAutocomplete(ctx.models, interaction.guildId, String(focused.value)));
  },
};
