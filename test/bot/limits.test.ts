// Limits and failure paths: results made to fit a small upload limit, bad attachments (not an image, a corrupt PNG,
// over MAX_ATTACHMENT_MB), a full queue (MAX_QUEUE=1: an ephemeral refusal, nothing public), and an interaction token
// that expires while a job waits (the result is posted as a channel message replying to, and pinging only, the user).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { startHarness, type Harness } from './harness.ts';
import { bodyOf, channelPostsSince, contentOf, customIdStarting, ephemeralText, finalOf, lastSeq, pngsOf, responseMatching, testPng } from './helpers.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import type { InteractionHandle, Json } from '../emulator/index.ts';

/**
 * Between the size of the test model's 512×512 result for this prompt and seed (about 15.7 KB) and what a lossless
 * re-encode at maximum compression makes of it (about 13.4 KB), so the bot must re-encode it to post it.
 */
const UPLOAD_LIMIT = 14_500;

let h: Harness;
let channelId: string;
before(async () => {
  h = await startHarness({ env: { QUEUE_CONCURRENCY: '1', MAX_QUEUE: '1', MAX_ATTACHMENT_MB: '1' }, emulator: { attachmentSizeLimit: UPLOAD_LIMIT } });
  channelId = h.emulator.channels.nsfw.id;
});
after(async () => {
  await h?.close();
});

function imagine(options: Record<string, unknown>, user?: Json): InteractionHandle {
  return h.emulator.slashCommand({ name: 'imagine', options: { seed: 3, steps: 4, ...options }, user, channelId });
}

test('a result over the guild upload limit is made to fit, keeping its parameters; progress still shows', async () => {
  const handle = imagine({ prompt: 'a detailed city', width: 512, height: 512 });
  const final = await finalOf(handle);
  const png = pngsOf(final)[0]!;
  assert.ok(png.bytes.length <= UPLOAD_LIMIT, `${png.bytes.length} bytes fit ${UPLOAD_LIMIT}`);
  const jobId = customIdStarting(handle.original(), 'img:reroll:').split(':')[2]!;
  const stored = await readFile(join(h.dataDir, 'images', jobId, '1.png'));
  assert.ok(stored.length > UPLOAD_LIMIT, `the stored original (${stored.length} bytes) was over the limit`);
  const meta = await sharp(png.bytes).metadata();
  assert.equal(meta.format, 'png');
  assert.match(readPngParameters(png.bytes) ?? '', /^a detailed city[\s\S]*Seed: 3/);
  assert.deepEqual(handle.responses.filter((r) => r.status === 413).map((r) => r.files.map((f) => `${f.filename} ${f.bytes.length}`)), [], 'nothing was refused as too large (previews included)');
  assert.ok(handle.responses.some((r) => /step \d+\/\d+/.test(contentOf(r)) && r.status === 200), 'progress edits got through');
});

test('bad attachments get a clear private error and nothing is queued', async () => {
  const cases: [string, Buffer, string, RegExp][] = [
    ['notes.txt', Buffer.from('just some text, not a picture'), 'text/plain', /Could not use that image/],
    ['broken.png', Buffer.concat([(await testPng(64, 64)).subarray(0, 60), randomBytes(200)]), 'image/png', /Could not use that image/],
    ['huge.png', randomBytes(1.5 * 1024 * 1024), 'image/png', /larger than 1 MB/],
  ];
  for (const [name, bytes, type, expected] of cases) {
    const attachment = await h.emulator.addAttachment(bytes, name, type, { channelId });
    const withImage = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'redraw this' }, attachments: { image: attachment }, channelId });
    await withImage.waitFor((r) => expected.test(contentOf(r)), 10_000, `the error for ${name}`);
    assert.match(ephemeralText(withImage), expected, name);
    assert.equal(withImage.original()?.content === undefined || (Number(withImage.original()!.flags) & 64) === 64, true, `${name}: nothing public left`);
  }
});

test('a full queue refuses privately; a token that expires meanwhile falls back to a channel reply', async () => {
  const member = h.emulator.users.member;
  const bob = h.emulator.addUser({ username: 'bob' });
  const carol = h.emulator.addUser({ username: 'carol' });
  const slow = imagine({ prompt: 'slow', width: 512, height: 512, steps: 40 }, carol);
  await responseMatching(slow, /step [1-9]\d*\/\d+/);
  const waiting = imagine({ prompt: 'waiting patiently' }, member);
  assert.match(contentOf(await waiting.deferred()), /position \*\*1\*\*/);

  // MAX_QUEUE=1: one waiting job fills it.
  const before = lastSeq(h.emulator);
  const refused = imagine({ prompt: 'one too many' }, bob);
  const reply = await refused.deferred();
  assert.equal(Number(bodyOf(reply).flags) & 64, 64, 'the refusal is ephemeral');
  assert.match(ephemeralText(refused), /full/i);
  assert.deepEqual(channelPostsSince(h.emulator, before, channelId), [], 'nothing public posted');

  // A reply-with-image at a full queue gets a short reply saying so.
  const upload = await h.emulator.addAttachment(await testPng(64, 64), 'photo.png', 'image/png', { channelId });
  const photo = await h.emulator.userMessage({ channelId, author: bob, content: '', attachments: [upload] });
  const ask = await h.emulator.userMessage({ channelId, author: bob, content: 'as a watercolor', mentionsBot: true, replyTo: photo });
  const answer = await h.emulator.waitFor(() => channelPostsSince(h.emulator, before, channelId).find((r) => (r.body as Json)?.message_reference?.message_id === ask.id), 10_000, 'the short reply');
  assert.match(String((answer.body as Json).content), /full/i);

  // Every token issued so far expires while the member's job waits: its result must still reach them.
  h.emulator.expireInteractionTokens();
  h.emulator.clickButton({ message: slow.original()!, customId: customIdStarting(slow.original(), 'img:cancel:'), user: carol });
  const fallback = await h.emulator.waitFor(
    () => channelPostsSince(h.emulator, before, channelId).find((r) => r.files.some((f) => f.filename.endsWith('.png')) && r.status === 200),
    30_000,
    'the result as a channel message',
  );
  const body = fallback.body as Json;
  assert.equal(body.message_reference?.message_id, waiting.original()!.id, 'replies to the job’s original message');
  assert.deepEqual(body.allowed_mentions.parse, []);
  assert.deepEqual(body.allowed_mentions.users, [member.id], 'pings the requester and nobody else');
  assert.match(String(body.content), new RegExp(`<@${member.id}>`));
  assert.match(readPngParameters(pngsOf(fallback)[0]!.bytes) ?? '', /^waiting patiently/);
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
