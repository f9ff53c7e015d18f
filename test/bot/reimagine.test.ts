// img2img from messages: the "Reimagine" context menu and its modal, and reply-with-image (reply to a message with a
// picture, mention the bot, the rest is the prompt). Successful runs happen in the age-restricted channel so the test
// model's safety checker never withholds a randomly seeded result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startHarness, type Harness } from './harness.ts';
import { channelPostsSince, contentOf, embedFields, ephemeralText, finalOf, lastSeq, pngsOf, sleep, testPng } from './helpers.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import type { Json, RecordedRequest } from '../emulator/index.ts';

let h: Harness;
let nsfw: string;
let general: string;
before(async () => {
  // Init images are fitted to this pixel budget: 128×64 stays as it is (the default would enlarge it to ~512×512).
  h = await startHarness({ env: { INIT_IMAGE_PIXELS: '8192' } });
  nsfw = h.emulator.channels.nsfw.id;
  general = h.emulator.channels.general.id;
});
after(async () => {
  await h?.close();
});

async function postPhoto(channelId: string, width = 128, height = 64, author?: Json): Promise<Json> {
  const upload = await h.emulator.addAttachment(await testPng(width, height), 'photo.png', 'image/png', { channelId });
  return h.emulator.userMessage({ channelId, author, content: 'my holiday picture', attachments: [upload] });
}

function textInputs(modal: Json): Map<string, Json> {
  const inputs = (modal.components as Json[]).flatMap((row) => (row.components ?? [row.component]) as Json[]);
  return new Map(inputs.map((c) => [c.custom_id as string, c]));
}

/** The bot's channel messages since `seq` that reply to `messageId` (answered ones: the response holds the message). */
function repliesTo(seq: number, channelId: string, messageId: string): RecordedRequest[] {
  return channelPostsSince(h.emulator, seq, channelId).filter((r) => r.status === 200 && (r.body as Json)?.message_reference?.message_id === messageId);
}

/** Waits for the reply to `messageId` and then for that message to carry the result. */
async function resultReplyingTo(seq: number, channelId: string, messageId: string): Promise<Json> {
  const post = await h.emulator.waitFor(() => repliesTo(seq, channelId, messageId)[0], 15_000, `a reply to ${messageId}`);
  const id = (post.response as Json).id as string;
  return h.emulator.waitFor(() => {
    const message = h.emulator.message(id);
    return message?.attachments?.some((a: Json) => String(a.filename).endsWith('.png')) ? message : undefined;
  }, 30_000, 'the reply to carry the result');
}

function resultPng(message: Json): Buffer {
  const attachment = (message.attachments as Json[]).find((a) => String(a.filename).endsWith('.png'))!;
  return h.emulator.attachmentBytes(attachment);
}

let reimagined: Json | undefined;

test('Reimagine: the context menu opens a modal; its prompt and strength run img2img on the message’s image', async () => {
  const photo = await postPhoto(nsfw);
  const menu = h.emulator.messageContextMenu({ name: 'Reimagine', targetMessage: photo });
  const shown = await menu.deferred();
  assert.equal(shown.type, 9, 'answered with a modal');
  const modal = menu.modal!;
  assert.equal(modal.custom_id, `modal:reimagine:${photo.id}`);
  const inputs = textInputs(modal);
  assert.equal(inputs.get('strength')?.value, '0.8', 'strength defaults to 0.8');
  assert.ok(inputs.get('prompt')?.required, 'the prompt is required');
  assert.equal(inputs.get('prompt')?.value, undefined, 'nothing to prefill for a user upload');

  const submitted = h.emulator.submitModal({ customId: modal.custom_id, fields: { prompt: 'as an oil painting', strength: '0.6' } });
  assert.ok((await submitted.deferred()).latencyMs! < 3000);
  const final = await finalOf(submitted);
  const png = pngsOf(final)[0]!;
  const parameters = readPngParameters(png.bytes) ?? '';
  assert.match(parameters, /^as an oil painting/);
  assert.match(parameters, /Denoising strength: 0\.6/);
  const meta = await sharp(png.bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [128, 64], 'the size of the source image');
  const original = submitted.original()!;
  assert.equal(embedFields(original).Strength, '0.6');
  assert.match(String(original.embeds[0].title), /Reimagined/);
  reimagined = original;
});

test('Reimagine on the bot’s own result starts from its prompt', async () => {
  assert.ok(reimagined, 'needs the previous test');
  // The bot records the result right after its upload is answered; a person cannot click faster than that, a test can.
  await h.emulator.waitFor(() => h.bot.ctx.generations.byMessageId(reimagined!.id).length > 0, 5000, 'the result recorded');
  const menu = h.emulator.messageContextMenu({ name: 'Reimagine', targetMessage: reimagined });
  await menu.deferred();
  assert.equal(textInputs(menu.modal!).get('prompt')?.value, 'as an oil painting');
  const submitted = h.emulator.submitModal({ customId: menu.modal!.custom_id, fields: { prompt: 'as a charcoal sketch', strength: '' } });
  const final = await finalOf(submitted);
  assert.match(readPngParameters(pngsOf(final)[0]!.bytes) ?? '', /^as a charcoal sketch[\s\S]*Denoising strength: 0\.8/);
});

test('Reimagine refuses a message without an image, and a bad strength, privately', async () => {
  const text = await h.emulator.userMessage({ channelId: nsfw, content: 'just words' });
  const menu = h.emulator.messageContextMenu({ name: 'Reimagine', targetMessage: text });
  assert.equal((await menu.deferred()).type, 4);
  assert.match(ephemeralText(menu), /no image/);
  assert.equal(menu.modal, null);

  const photo = await postPhoto(nsfw);
  for (const strength of ['2', 'abc', '0', '-0.5']) {
    const open = h.emulator.messageContextMenu({ name: 'Reimagine', targetMessage: photo });
    await open.deferred();
    const submitted = h.emulator.submitModal({ customId: open.modal!.custom_id, fields: { prompt: 'anything', strength } });
    await submitted.deferred();
    assert.match(ephemeralText(submitted), /Strength must be/, `strength "${strength}"`);
  }
});

test('reply-with-image: the rest of the text is the prompt; the answer replies to the image and becomes the result', async () => {
  const seq = lastSeq(h.emulator);
  const photo = await postPhoto(nsfw, 64, 128);
  const ask = await h.emulator.userMessage({ channelId: nsfw, content: `<@${h.emulator.botUser.id}> as a watercolor <@&42>`, replyTo: photo });
  void ask;
  const result = await resultReplyingTo(seq, nsfw, photo.id);
  const parameters = readPngParameters(resultPng(result)) ?? '';
  assert.match(parameters, /^as a watercolor <@&42>/, 'the mention of the bot is not part of the prompt');
  const meta = await sharp(resultPng(result)).metadata();
  assert.deepEqual([meta.width, meta.height], [64, 128]);
  assert.match(String(result.embeds[0].title), /Reimagined/);
  assert.ok(result.components.length > 0, 'the result has its buttons');
  // Every post and edit for it pinged nobody.
  for (const r of h.emulator.requests.filter((r) => r.seq > seq && r.route?.startsWith('/channels/') && (r.method === 'POST' || r.method === 'PATCH'))) {
    assert.deepEqual((r.body as Json)?.allowed_mentions?.parse, [], `${r.method} ${r.path}`);
  }

  // Replying to that result (the bot's own message) with a mention works the same way.
  const seq2 = lastSeq(h.emulator);
  await h.emulator.userMessage({ channelId: nsfw, content: 'now at night', mentionsBot: true, replyTo: result });
  const second = await resultReplyingTo(seq2, nsfw, result.id);
  assert.match(readPngParameters(resultPng(second)) ?? '', /^now at night/);
});

test('reply-with-image problems get a short reply; messages that do not ask are ignored', async () => {
  const bot = `<@${h.emulator.botUser.id}>`;
  const seq = lastSeq(h.emulator);
  const text = await h.emulator.userMessage({ channelId: general, content: 'no picture here' });
  const noImage = await h.emulator.userMessage({ channelId: general, content: `${bot} make it blue`, replyTo: text });
  const photo = await postPhoto(general);
  const blocked = await h.emulator.userMessage({ channelId: general, content: `${bot} nude`, replyTo: photo });
  const empty = await h.emulator.userMessage({ channelId: general, content: bot, replyTo: photo });
  const brokenUpload = await h.emulator.addAttachment(Buffer.concat([(await testPng(32, 32)).subarray(0, 50), Buffer.alloc(100, 7)]), 'broken.png', 'image/png', { channelId: general });
  const broken = await h.emulator.userMessage({ channelId: general, content: 'see', attachments: [brokenUpload] });
  const badImage = await h.emulator.userMessage({ channelId: general, content: `${bot} fix it`, replyTo: broken });
  const expectations: [Json, RegExp][] = [
    // the harness runs without MESSAGE_CONTENT_INTENT: someone else's message may just look empty to the bot
    [noImage, /cannot see images in other people’s messages.*Reimagine/],
    [blocked, /not accepted/],
    [empty, /Tell me what to make of it/],
    [badImage, /Could not use that image/],
  ];
  for (const [message, pattern] of expectations) {
    const reply = await h.emulator.waitFor(() => repliesTo(seq, general, message.id)[0], 10_000, `the reply to "${message.content}"`);
    const body = reply.body as Json;
    assert.match(String(body.content), pattern);
    assert.deepEqual(body.allowed_mentions.parse, []);
    assert.equal(body.allowed_mentions.replied_user, false);
  }

  // Not asking: a mention without a reply, and a reply that only pings the bot's message without mentioning it.
  const quiet = lastSeq(h.emulator);
  await h.emulator.userMessage({ channelId: nsfw, content: 'hello', mentionsBot: true });
  const result = h.emulator.messages(nsfw).find((m: Json) => m.author.id === h.emulator.botUser.id && m.attachments?.length);
  await h.emulator.userMessage({ channelId: nsfw, content: 'nice one', replyTo: result, replyPing: true });
  await sleep(1000);
  assert.deepEqual(channelPostsSince(h.emulator, quiet, nsfw).map((r) => contentOf(r)), [], 'no answer to messages that do not ask');
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
