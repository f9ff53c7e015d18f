// /help: what the bot can do and what each /imagine option means.
import { ApplicationCommandType, MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/types.ts';
import { forDiscordJs, notice } from '../discord/messageBodies.ts';
import { DEFAULT_STRENGTH } from '../pipeline/request.ts';

export const help: SlashCommand = {
  kind: 'slash',
  data: { type: ApplicationCommandType.ChatInput, name: 'help', description: 'How to use the image bot' },
  async execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
    const d = ctx.defaults;
    const text = [
      '**/imagine** `prompt` — draws an image on this server\'s own machine. Options:',
      `• \`negative\` what to keep out · \`seed\` repeatable results · \`steps\` (default ${d.steps}) · \`guidance\` how literally to follow the prompt (default ${d.guidance})`,
      `• \`sampler\` (default ${d.sampler}) · \`width\`/\`height\` multiples of 64 (default ${d.width}×${d.height}) · \`count\` 1-4 images`,
      `• \`image\` start from an attachment (img2img) · \`strength\` how much to change it (default ${DEFAULT_STRENGTH}) · \`model\` which installed model draws it (buttons keep the model)`,
      '**Buttons** on results: Reroll (new seed) · Vary (a close variation) · Upscale · Remix (edit the prompt, same seed) · Delete (yours, or a moderator)',
      '**Reply with an image:** reply to any message with a picture and mention me with a prompt to redraw it. Or right-click a message → Apps → **Reimagine**.',
      '**/queue** shows the queue and your place · **Cancel** on your job stops it · **/status** shows the model and speed.',
      '**Moderators:** `/mod` manages blocked terms, blocked users, limits, NSFW, the log channel and the server\'s models; right-click an image → Apps → **Who made this?**',
      'Every image carries its settings in the PNG (`parameters`, readable by A1111\'s PNG Info).',
    ].join('\n');
    await interaction.reply({ ...forDiscordJs(notice(text)), flags: MessageFlags.Ephemeral });
  },
};
