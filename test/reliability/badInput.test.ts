// Bad input, one case each: every one gets a clear sentence and the bot carries on. Numbers the emulator would refuse
// at Discord's level (NaN, negatives, below min) are checked where they are parsed (buildParams); everything else goes
// end to end through the emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startHarness, type Harness } from '../bot/harness.ts';
import { buildParams, RequestError, type Limits, type ModelDefaults } from '../../src/discord/requests.ts';
import { fetchInitImage } from '../../src/discord/initImages.ts';
import { bombPng } from '../image/helpers.ts';
import type { InteractionHandle, Json } from '../emulator/index.ts';
import { saidTo } from './helpers.ts';

const defaults: ModelDefaults = { sampler: 'pndm', steps: 4, guidance: 7.5, width: 64, height: 64 };
const limits: Limits = { maxSteps: 50, maxPixels: 1024 * 1024, maxImagesPerJob: 4 };
const base = { action: 'imagine' as const, channel: { ageRestricted: false, uploadLimit: 8 << 20 } };

test('buildParams: NaN, negative, fractional and out-of-range numbers and over-long prompts are refused with a sentence', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ steps: Number.NaN }, /steps must be a whole number; got NaN/],
    [{ seed: -1 }, /seed must be from 0 to/],
    [{ width: -64 }, /width must be from 64 to 2048/],
    [{ steps: 2.5 }, /steps must be a whole number/],
    [{ steps: 51 }, /steps must be from 1 to 50/],
    [{ count: 0 }, /count must be from 1 to 4/],
    [{ guidance: Number.NaN }, /guidance must be a number from 0 to 30; got NaN/],
    [{ guidance: -1 }, /guidance must be a number from 0 to 30/],
    [{ strength: Number.POSITIVE_INFINITY }, /strength must be a number from 0.01 to 1; got Infinity/],
    [{ width: 100 }, /multiple of 8/],
    [{ width: 2048, height: 2048 }, /at most 1048576/],
    [{ sampler: 'magic' }, /Unknown sampler "magic"/],
    [{ prompt: 'x'.repeat(1501) }, /1501 characters long; the limit is 1500/],
    [{ prompt: ' \n\t ' }, /The prompt is empty/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => buildParams({ prompt: 'a cat', ...options } as never, defaults, limits, base), (err: unknown) => err instanceof RequestError && message.test(err.message), JSON.stringify(options));
  }
});

let h: Harness;
before(async () => {
  h = await startHarness({ env: { MAX_ATTACHMENT_MB: '1' } });
});
after(async () => {
  await h?.close();
});

const nsfw = () => h.emulator.channels.nsfw.id;
const delivered = (handle: InteractionHandle) => handle.waitFor((r) => (r.status ?? 0) < 300 && r.files.some((f) => f.filename.endsWith('.png')), 60_000, 'the result');
const told = (handle: InteractionHandle, pattern: RegExp) => handle.waitFor((r) => pattern.test(JSON.stringify(r.body ?? '')), 20_000, `a message matching ${pattern}`);

test('a URL outside ATTACHMENT_HOSTS is refused before any download', async () => {
  await assert.rejects(fetchInitImage(h.bot.ctx, 'https://example.com/cat.png'), (err: unknown) => err instanceof RequestError && /only accepted from/.test(err.message));
});

test('prompts of any script, direction, emoji and zero-width characters, up to the length limit, are drawn', async () => {
  const mixed = 'مرحبا بالعالم ‏שלום‏ 猫が窓辺で眠る 고양이 👩‍👩‍👧‍👦🏳️‍🌈 zero\u200bwidth\u200d\u2060 e\u0301 ';
  const long = mixed.repeat(Math.ceil(1500 / mixed.length)).slice(0, 1490).trim();
  const handles = [
    h.emulator.slashCommand({ name: 'imagine', options: { prompt: long, seed: 1 }, channelId: nsfw() }),
    h.emulator.slashCommand({ name: 'imagine', options: { prompt: '\u200b\u200b', seed: 2 }, channelId: nsfw() }),
    h.emulator.slashCommand({ name: 'imagine', options: { prompt: '`@everyone` ```<@&1>``` \u202Eevil', seed: 3 }, channelId: nsfw() }),
  ];
  for (const handle of handles) await delivered(handle);
  const result = handles[0]!.original() as { embeds: { description: string }[] };
  assert.ok(result.embeds[0]!.description.length <= 4096, 'the echoed prompt fits the embed');
});

test('numbers Discord accepts but the bot does not: a clear ephemeral sentence', async () => {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a cat', steps: 150, width: 104 } });
  await told(handle, /steps must be from 1 to 50; got 150/);
  const reply = await handle.deferred();
  assert.equal(((reply.body as { data: { flags: number } }).data.flags & 64), 64, 'ephemeral');
});

async function imagineWith(bytes: Buffer, filename: string, contentType: string): Promise<InteractionHandle> {
  const image: Json = await h.emulator.addAttachment(bytes, filename, contentType, { channelId: nsfw() });
  return h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'from this', seed: 4 }, attachments: { image }, channelId: nsfw() });
}

test('attachments: not an image, too big, corrupt, a decompression bomb — each refused with its own sentence', async () => {
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
  const noise = await sharp(Buffer.from(Array.from({ length: 1024 * 1024 * 3 }, (_, i) => (i * 2654435761) >>> 24)), { raw: { width: 1024, height: 1024, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
  assert.ok(noise.length > 1024 * 1024, 'the big file is over MAX_ATTACHMENT_MB');
  const cases: [Buffer, string, string, RegExp][] = [
    [Buffer.from('just some text, not a picture\n'), 'notes.txt', 'text/plain', /not an image I can read/],
    [noise, 'big.png', 'image/png', /larger than 1 MB/],
    [png.subarray(0, Math.floor(png.length / 2)), 'half.png', 'image/png', /corrupt or truncated/],
    [bombPng(30000, 30000), 'bomb.png', 'image/png', /too large/],
  ];
  for (const [bytes, name, type, message] of cases) {
    const handle = await imagineWith(bytes, name, type);
    await told(handle, message);
  }
  // The bot is still fine: a normal request after all that works.
  await delivered(h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'still here', seed: 5 }, channelId: nsfw() }));
});

test('an animated GIF: the first frame is used and the user is told', async () => {
  const frame = (r: number, b: number) => sharp({ create: { width: 64, height: 64, channels: 3, background: { r, g: 0, b } } }).png().toBuffer();
  const gif = await sharp([await frame(255, 0), await frame(0, 255), await frame(0, 0)], { join: { animated: true } }).gif().toBuffer();
  const handle = await imagineWith(gif, 'anim.gif', 'image/gif');
  await told(handle, /animated: used the first of its 3 frames/);
  await delivered(handle);
  assert.match(saidTo(handle), /animated: used the first of its 3 frames/);
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
