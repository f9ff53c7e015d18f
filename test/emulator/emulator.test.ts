// Smoke tests: a real discord.js 14 Client against the emulator, covering the paths the bot's end-to-end tests rely on.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import sharp from 'sharp';
import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  LabelBuilder,
  ModalBuilder,
  Routes,
  TextInputBuilder,
  TextInputStyle,
  type Interaction,
  type Message,
  type TextChannel,
} from 'discord.js';
import { startDiscordEmulator, type DiscordEmulator } from './index.ts';

let emulator: DiscordEmulator;
let client: Client;
// Each test installs the bot behaviour it needs.
let onInteraction: (interaction: Interaction) => Promise<void> = async () => {};
let onMessage: (message: Message) => Promise<void> = async () => {};
const handlerErrors: unknown[] = [];

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 60 } } }).png().toBuffer();
}

describe('discord emulator with a real discord.js client', () => {
  before(async () => {
    emulator = await startDiscordEmulator();
    client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
      rest: { api: emulator.apiUrl },
    });
    client.on(Events.InteractionCreate, (interaction) => void onInteraction(interaction).catch((error) => handlerErrors.push(error)));
    client.on(Events.MessageCreate, (message) => void onMessage(message).catch((error) => handlerErrors.push(error)));
    const ready = once(client, Events.ClientReady);
    await client.login(emulator.token);
    await ready;
  });

  after(async () => {
    await client?.destroy();
    await emulator?.close();
  });

  it('logs in: READY, guild with channels and members, the bot user', () => {
    assert.equal(client.user?.id, emulator.botUser.id);
    assert.equal(client.application?.id, emulator.application.id);
    const guild = client.guilds.cache.get(emulator.guild.id);
    assert.ok(guild, 'guild cached from GUILD_CREATE');
    const nsfw = guild.channels.cache.get(emulator.channels.nsfw.id) as TextChannel;
    assert.equal(nsfw.nsfw, true);
    assert.equal((guild.channels.cache.get(emulator.channels.general.id) as TextChannel).nsfw, false);
    assert.equal(guild.members.me?.id, emulator.botUser.id);
    assert.ok(guild.members.cache.get(emulator.users.admin.id)?.permissions.has('ManageGuild'));
    assert.ok(!guild.members.cache.get(emulator.users.member.id)?.permissions.has('ManageGuild'));
    assert.ok(emulator.requests.some((r) => r.route === '/gateway/bot'));
    assert.equal(emulator.requests.find((r) => r.route === '/gateway/bot')?.headers.authorization, undefined, 'Authorization is not recorded');
    assert.equal(emulator.gatewayStats.identifies, 1);
    assert.ok(emulator.gatewayStats.session!.intents & GatewayIntentBits.MessageContent);
  });

  it('registers guild commands and rejects invalid ones like Discord', async () => {
    const guild = client.guilds.cache.get(emulator.guild.id)!;
    await guild.commands.set([
      {
        name: 'imagine',
        description: 'Generate an image',
        options: [
          { name: 'prompt', description: 'What to draw', type: ApplicationCommandOptionType.String, required: true, max_length: 500 },
          { name: 'steps', description: 'Denoising steps', type: ApplicationCommandOptionType.Integer, min_value: 1, max_value: 50 },
          { name: 'image', description: 'Init image', type: ApplicationCommandOptionType.Attachment },
        ],
      },
      { name: 'settings', description: 'Your defaults' },
      { name: 'Describe image', type: ApplicationCommandType.Message },
    ]);
    const registered = emulator.commands(emulator.guild.id);
    assert.deepEqual(registered.map((c) => c.name).sort(), ['Describe image', 'imagine', 'settings']);
    const fetched = await guild.commands.fetch();
    assert.equal(fetched.size, 3);
    const firstId = registered.find((c) => c.name === 'imagine')!.id;
    await guild.commands.set([...fetched.values()].map((c) => c.toJSON() as never));
    assert.equal(emulator.commands(emulator.guild.id).find((c) => c.name === 'imagine')!.id, firstId, 'overwrite keeps ids');

    await assert.rejects(guild.commands.create({ name: 'Bad Name', description: 'x' }), (error: DiscordAPIError) => error.code === 50035);
  });

  it('delivers a slash command; defer, editReply and a follow-up file arrive with bytes and payload', async () => {
    const init = await emulator.addAttachment(await png(64, 48), 'init image.png', 'image/png');
    assert.equal(init.width, 64);
    assert.equal(init.height, 48);
    const output = await png(32, 32);
    let seen: { prompt: string; steps: number | null; imageUrl: string | undefined; fetchedBytes: number; memberPerms: bigint | undefined } | undefined;
    onInteraction = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply();
      const image = interaction.options.getAttachment('image');
      const fetched = image ? Buffer.from(await (await fetch(image.url)).arrayBuffer()) : Buffer.alloc(0);
      seen = {
        prompt: interaction.options.getString('prompt', true),
        steps: interaction.options.getInteger('steps'),
        imageUrl: image?.url,
        fetchedBytes: fetched.length,
        memberPerms: interaction.memberPermissions?.bitfield,
      };
      await interaction.editReply({ content: 'Rendering done' });
      await interaction.followUp({ content: 'Here it is', files: [{ attachment: output, name: 'result.png', description: 'a cat' }] });
    };
    const handle = emulator.slashCommand({ name: 'imagine', options: { prompt: 'a cat in a hat', steps: 20 }, attachments: { image: init }, user: emulator.users.member });
    const callback = await handle.deferred();
    assert.equal(callback.type, 5);
    assert.equal(callback.status, 204);
    assert.ok(callback.latencyMs! >= 0);
    const followUp = await handle.waitFor((r) => r.kind === 'webhook' && r.method === 'POST');
    assert.equal(followUp.status, 200);
    assert.equal(followUp.files.length, 1);
    assert.deepEqual(followUp.files[0]!.bytes, output);
    assert.equal((followUp.body as { content: string }).content, 'Here it is');

    assert.equal(seen?.prompt, 'a cat in a hat');
    assert.equal(seen?.steps, 20);
    assert.equal(seen?.fetchedBytes, emulator.attachmentBytes(init).length, 'bot downloaded the attachment from the CDN');
    assert.equal(seen?.memberPerms, BigInt(handle.payload.member.permissions));

    const original = handle.original()!;
    assert.equal(original.content, 'Rendering done');
    assert.equal(original.flags & (1 << 7), 0, 'no longer loading');
    const [followUpMessage] = handle.followUps();
    assert.equal(followUpMessage!.attachments[0].filename, 'result.png');
    assert.equal(followUpMessage!.attachments[0].description, 'a cat');
    assert.equal(followUpMessage!.attachments[0].width, 32);
    assert.deepEqual(emulator.attachmentBytes(followUpMessage!.attachments[0]), output);
    const cdn = await fetch(followUpMessage!.attachments[0].url);
    assert.equal(cdn.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await cdn.arrayBuffer()), output);
    const channelMessages = emulator.messages(emulator.channels.general.id).map((m) => m.id);
    assert.ok(channelMessages.includes(original.id) && channelMessages.includes(followUpMessage!.id));
    assert.deepEqual(handle.responses.map((r) => `${r.kind} ${r.method}`), ['callback POST', 'webhook PATCH', 'webhook POST']);
  });

  it('clicks a button and the bot updates the message', async () => {
    onInteraction = async (interaction) => {
      if (interaction.isChatInputCommand()) {
        const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
          new ButtonBuilder().setCustomId('reroll:1').setLabel('Re-roll').setStyle(ButtonStyle.Primary),
        );
        await interaction.reply({ content: 'Result', components: [row] });
      } else if (interaction.isButton()) {
        await interaction.update({ content: `Re-rolled by ${interaction.user.username}`, components: [] });
      }
    };
    const command = emulator.slashCommand({ name: 'imagine', options: { prompt: 'dog' } });
    await command.deferred();
    const message = command.original()!;
    assert.equal(message.components[0].components[0].custom_id, 'reroll:1');
    assert.throws(() => emulator.clickButton({ message, customId: 'nope' }), /no component "nope"/);

    const click = emulator.clickButton({ message, customId: 'reroll:1', user: emulator.users.admin });
    const callback = await click.deferred();
    assert.equal(callback.type, 7);
    const updated = emulator.message(message.id)!;
    assert.equal(updated.content, 'Re-rolled by alice-admin');
    assert.deepEqual(updated.components, []);
    assert.ok(updated.edited_timestamp);
  });

  it('shows a modal and receives its submission', async () => {
    let negative: string | undefined;
    onInteraction = async (interaction) => {
      if (interaction.isChatInputCommand()) {
        const modal = new ModalBuilder()
          .setCustomId('settings-modal')
          .setTitle('Defaults')
          .addLabelComponents(
            new LabelBuilder().setLabel('Negative prompt').setTextInputComponent(new TextInputBuilder().setCustomId('negative').setStyle(TextInputStyle.Paragraph).setMaxLength(200)),
          );
        await interaction.showModal(modal);
      } else if (interaction.isModalSubmit()) {
        negative = interaction.fields.getTextInputValue('negative');
        await interaction.reply({ content: 'Saved', flags: 64 });
      }
    };
    const command = emulator.slashCommand({ name: 'settings', user: emulator.users.admin });
    assert.equal((await command.deferred()).type, 9);
    assert.equal(command.modal?.custom_id, 'settings-modal');
    assert.throws(() => emulator.submitModal({ customId: 'settings-modal', fields: { negative: 'x' }, user: emulator.users.member }), /was shown to/);
    const submit = emulator.submitModal({ customId: 'settings-modal', fields: { negative: 'blurry, lowres' } });
    const callback = await submit.deferred();
    assert.equal(callback.type, 4);
    assert.equal(negative, 'blurry, lowres');
    assert.equal(submit.original()!.flags & 64, 64, 'ephemeral reply');
  });

  it('delivers a message context menu command with the target message resolved', async () => {
    const target = await emulator.userMessage({ channelId: emulator.channels.general.id, content: 'look at this' });
    let targetContent: string | undefined;
    onInteraction = async (interaction) => {
      if (!interaction.isMessageContextMenuCommand()) return;
      targetContent = interaction.targetMessage.content;
      await interaction.reply({ content: 'ok', flags: 64 });
    };
    const handle = emulator.messageContextMenu({ name: 'Describe image', targetMessage: target });
    await handle.deferred();
    assert.equal(targetContent, 'look at this');
  });

  it('takes a multipart callback with files and answers ?with_response=true', async () => {
    const bytes = await png(8, 8);
    let resourceMessageId: string | undefined;
    onInteraction = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      const response = await interaction.reply({ content: 'inline', files: [{ attachment: bytes, name: 'inline.png' }], withResponse: true });
      resourceMessageId = response.resource?.message?.id;
    };
    const handle = emulator.slashCommand({ name: 'imagine', options: { prompt: 'files' } });
    const callback = await handle.deferred();
    assert.equal(callback.type, 4);
    assert.equal(callback.status, 200);
    assert.equal(callback.files[0]!.filename, 'inline.png');
    const original = handle.original()!;
    assert.deepEqual(emulator.attachmentBytes(original.attachments[0]), bytes);
    await emulator.waitFor(() => resourceMessageId, 2000, 'the bot to read the callback response');
    assert.equal(resourceMessageId, original.id);
  });

  it('delivers a global command used in a DM with the bot', async () => {
    await client.application!.commands.set([{ name: 'help', description: 'How to use the bot', contexts: [0, 1] }]);
    let where: { inGuild: boolean; channelType: number | undefined } | undefined;
    onInteraction = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      where = { inGuild: interaction.inGuild(), channelType: interaction.channel?.type };
      await interaction.reply('Use /imagine');
    };
    const handle = emulator.slashCommand({ name: 'help', guildId: null, user: emulator.users.member });
    assert.equal(handle.payload.user.id, emulator.users.member.id);
    assert.equal(handle.payload.member, undefined);
    assert.equal((await handle.deferred()).status, 204);
    assert.equal(where?.inGuild, false);
    assert.equal(handle.original()?.content, 'Use /imagine');
  });

  it('delivers a MESSAGE_CREATE reply with an attachment and the bot answers it', async () => {
    const picture = await emulator.addAttachment(await png(16, 16), 'ref.png', 'image/png');
    const botMessage = emulator.messages(emulator.channels.general.id).find((m) => m.author.id === emulator.botUser.id && !(m.flags & 64))!;
    let received: { content: string; attachmentUrl: string | undefined; referenceId: string | undefined; mentionsBot: boolean } | undefined;
    onMessage = async (message) => {
      if (message.author.bot) return;
      received = {
        content: message.content,
        attachmentUrl: message.attachments.first()?.url,
        referenceId: message.reference?.messageId,
        mentionsBot: message.mentions.has(client.user!),
      };
      await message.reply('On it');
    };
    const sent = await emulator.userMessage({
      channelId: emulator.channels.general.id,
      content: 'make it blue',
      attachments: [picture],
      mentionsBot: true,
      replyTo: botMessage,
    });
    const reply = await emulator.waitFor(() => emulator.messages(emulator.channels.general.id).find((m) => m.message_reference?.message_id === sent.id));
    assert.equal(reply.content, 'On it');
    assert.equal(reply.type, 19);
    assert.equal(received?.content, `<@${emulator.botUser.id}> make it blue`);
    assert.equal(received?.attachmentUrl, picture.url);
    assert.equal(received?.referenceId, botMessage.id);
    assert.equal(received?.mentionsBot, true);
  });

  it('answers 429 with retry_after and discord.js retries to success', async () => {
    const channel = client.channels.cache.get(emulator.channels.general.id) as TextChannel;
    const fault = emulator.faults.add({ match: (r) => r.method === 'POST' && r.route === '/channels/:channelId/messages', status: 429, retryAfter: 0.2 });
    const started = Date.now();
    const message = await channel.send('after the rate limit');
    assert.ok(Date.now() - started >= 200, 'waited retry_after');
    assert.equal(fault.hits, 1);
    const attempts = emulator.requests.filter((r) => r.route === '/channels/:channelId/messages' && r.method === 'POST' && (r.body as { content?: string })?.content === 'after the rate limit');
    assert.deepEqual(attempts.map((r) => r.status), [429, 200]);
    assert.equal((attempts[0]!.response as { global: boolean }).global, false);
    assert.equal(emulator.message(message.id)?.content, 'after the rate limit');

    emulator.faults.add({ match: (r) => r.method === 'POST' && r.route === '/channels/:channelId/messages', status: 500, times: 2 });
    await channel.send('after two 500s');
    assert.deepEqual(emulator.requests.filter((r) => (r.body as { content?: string })?.content === 'after two 500s').map((r) => r.status), [500, 500, 200]);
  });

  it('validates like Discord: long content, double acknowledge, expired tokens, late callbacks, unknown routes', async () => {
    const channel = client.channels.cache.get(emulator.channels.general.id) as TextChannel;
    await assert.rejects(channel.send('x'.repeat(2001)), (error: DiscordAPIError) => error.code === 50035 && error.status === 400);
    const readonly = client.channels.cache.get(emulator.channels.readonly.id) as TextChannel;
    await assert.rejects(readonly.send('hi'), (error: DiscordAPIError) => error.code === 50013);

    let secondAck: unknown;
    let expiredEdit: unknown;
    let handlerDone!: () => void;
    const handled = new Promise<void>((resolve) => (handlerDone = resolve));
    onInteraction = async (interaction) => {
      if (!interaction.isChatInputCommand()) return;
      await interaction.deferReply();
      secondAck = await client.rest
        .post(`/interactions/${interaction.id}/${interaction.token}/callback`, { body: { type: 5 }, auth: false })
        .catch((error: unknown) => error);
      emulator.expireInteractionTokens();
      expiredEdit = await interaction.editReply('too late').catch((error: unknown) => error);
      handlerDone();
    };
    const handle = emulator.slashCommand({ name: 'imagine', options: { prompt: 'x' } });
    await handled;
    assert.equal((await handle.waitFor((r) => r.kind === 'webhook')).status, 401);
    assert.ok(secondAck instanceof DiscordAPIError && secondAck.code === 40060 && secondAck.status === 400);
    assert.ok(expiredEdit instanceof DiscordAPIError && expiredEdit.code === 50027 && expiredEdit.status === 401);

    let lateError: unknown;
    const lateHandled = new Promise<void>((resolve) => {
      onInteraction = async (interaction) => {
        if (interaction.isChatInputCommand()) lateError = await interaction.reply('slow').catch((error: unknown) => error);
        resolve();
      };
    });
    const late = emulator.slashCommand({ name: 'imagine', options: { prompt: 'slow' } });
    emulator.advanceTime(3500); // the bot answers after Discord's 3 s window
    await lateHandled;
    assert.equal((await late.deferred()).status, 404);
    assert.ok(lateError instanceof DiscordAPIError && lateError.code === 10062);

    // Raw REST so discord.js's own builders cannot reject first.
    const post = (body: unknown) => client.rest.post(Routes.channelMessages(emulator.channels.general.id), { body }).catch((error: unknown) => error as DiscordAPIError);
    const button = (customId: string) => ({ type: 2, style: 1, label: 'b', custom_id: customId });
    const tooManyEmbeds = await post({ embeds: Array.from({ length: 11 }, (_, i) => ({ title: `e${i}` })) });
    assert.deepEqual((tooManyEmbeds as DiscordAPIError).rawError, {
      message: 'Invalid Form Body',
      code: 50035,
      errors: { embeds: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 10 or fewer in length.' }] } },
    });
    const sixRows = await post({ content: 'x', components: Array.from({ length: 6 }, (_, i) => ({ type: 1, components: [button(`b${i}`)] })) });
    assert.equal((sixRows as DiscordAPIError).code, 50035);
    const longId = (await post({ content: 'x', components: [{ type: 1, components: [button('x'.repeat(101))] }] })) as DiscordAPIError;
    assert.equal(longId.code, 50035);
    assert.ok(JSON.stringify(longId.rawError).includes('"custom_id":{"_errors"'));
    assert.equal(((await post({})) as DiscordAPIError).code, 50006);

    const unknownToken = await client.rest
      .patch(Routes.webhookMessage(emulator.application.id, 'no-such-token', '@original'), { body: { content: 'x' }, auth: false })
      .catch((error: unknown) => error as DiscordAPIError);
    assert.equal((unknownToken as DiscordAPIError).code, 10015);

    // Tokens also lapse by emulator time: 15 minutes after the interaction.
    let agedEdit: unknown;
    const agedHandled = new Promise<void>((resolve) => {
      onInteraction = async (interaction) => {
        if (!interaction.isChatInputCommand()) return;
        await interaction.deferReply();
        emulator.advanceTime(15 * 60 * 1000 + 1);
        agedEdit = await interaction.editReply('done').catch((error: unknown) => error);
        resolve();
      };
    });
    emulator.slashCommand({ name: 'imagine', options: { prompt: 'aged' } });
    await agedHandled;
    assert.ok(agedEdit instanceof DiscordAPIError && agedEdit.code === 50027);

    await assert.rejects(client.rest.get('/not-a-route'), (error: DiscordAPIError) => error.status === 404);
    assert.equal(emulator.unknownRequests().at(-1)?.path, '/not-a-route');
  });

  it('resumes after a gateway disconnect and replays missed dispatches', async () => {
    const seen: string[] = [];
    onMessage = async (message) => {
      seen.push(message.content);
    };
    const resumed = once(client, Events.ShardResume);
    emulator.disconnectGateway();
    // Sent while the bot is disconnected: must be replayed on RESUME.
    await emulator.userMessage({ channelId: emulator.channels.general.id, content: 'while you were away' });
    await resumed;
    await emulator.waitFor(() => seen.includes('while you were away') || undefined, 5000, 'replayed message');
    assert.equal(emulator.gatewayStats.resumes, 1);
    assert.equal(emulator.gatewayStats.identifies, 1, 'resumed, not re-identified');
    assert.ok(emulator.gatewayLog.some((e) => e.t === 'RESUMED'));
    await emulator.userMessage({ channelId: emulator.channels.general.id, content: 'after resume' });
    await emulator.waitFor(() => seen.includes('after resume') || undefined, 5000, 'live message after resume');
    assert.deepEqual(handlerErrors, []);
  });
});
