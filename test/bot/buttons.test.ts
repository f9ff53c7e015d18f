// Every button on a result: Reroll (new seed), Vary (img2img at low strength), Upscale (a 2× file), Remix (a modal:
// new prompt, same seed), Delete (the author or a moderator, nobody else). Runs in the age-restricted channel so the
// test model's safety checker (which flags bright images) never withholds a randomly seeded result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startHarness, type Harness } from './harness.ts';
import { contentOf, customIdStarting, customIdsOf, embedFields, ephemeralText, finalOf, pngsOf } from './helpers.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import type { Json } from '../emulator/index.ts';

let h: Harness;
let channelId: string;
/** The first result: its message and job id. */
let source: { message: Json; jobId: string; seed: number };

before(async () => {
  h = await startHarness();
  channelId = h.emulator.channels.nsfw.id;
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a photo of a cat', seed: 5, steps: 4 }, channelId });
  await finalOf(handle);
  const message = handle.original()!;
  source = { message, jobId: customIdStarting(message, 'img:reroll:').split(':')[2]!, seed: 5 };
});
after(async () => {
  await h?.close();
});

async function click(customIdPrefix: string, user?: Json) {
  const message = h.emulator.message(source.message.id)!;
  return h.emulator.clickButton({ message, customId: customIdStarting(message, customIdPrefix), user });
}

test('Reroll: the same prompt and settings with a new seed, as a new message', async () => {
  const handle = await click('img:reroll:');
  const final = await finalOf(handle);
  const parameters = readPngParameters(pngsOf(final)[0]!.bytes) ?? '';
  assert.match(parameters, /^a photo of a cat/);
  assert.match(parameters, /Steps: 4/);
  assert.doesNotMatch(parameters, /Seed: 5,/);
  const result = handle.original()!;
  assert.notEqual(result.id, source.message.id, 'a new message');
  assert.match(String(result.embeds[0].title), /Reroll/);
});

test('Vary: img2img of the chosen image at low strength', async () => {
  const handle = await click('img:vary:');
  const final = await finalOf(handle);
  const parameters = readPngParameters(pngsOf(final)[0]!.bytes) ?? '';
  assert.match(parameters, /Denoising strength: 0\.45/);
  const fields = embedFields(handle.original());
  assert.equal(fields.Strength, '0.45');
  assert.match(String(handle.original()!.embeds[0].title), /Variation/);
});

test('Upscale: a file twice the size, with Delete and the region tools (no Reroll, Vary, Upscale or Remix)', async () => {
  const handle = await click('img:upscale:');
  const final = await finalOf(handle);
  const meta = await sharp(pngsOf(final)[0]!.bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [128, 128]);
  assert.match(readPngParameters(pngsOf(final)[0]!.bytes) ?? '', /Upscale: 2x/);
  const ids = customIdsOf(handle.original());
  assert.deepEqual(ids.filter((id) => id.startsWith('img:')).map((id) => id.split(':')[1]), ['delete']);
  assert.equal(ids.filter((id) => id.startsWith('edit:')).length, 8);
});

test('Remix: a modal prefilled with the prompt; the new prompt runs with the same seed', async () => {
  const handle = await click('img:remix:');
  await handle.deferred();
  const modal = handle.modal!;
  assert.ok(modal, 'a modal was shown');
  assert.equal(modal.custom_id, `modal:remix:${source.jobId}`);
  const prefilled = (modal.components as Json[]).flatMap((row) => row.components as Json[]).find((c) => c.custom_id === 'prompt');
  assert.equal(prefilled?.value, 'a photo of a cat');
  const submitted = h.emulator.submitModal({ customId: modal.custom_id, fields: { prompt: 'a photo of a dog', negative: 'text' } });
  const final = await finalOf(submitted);
  const parameters = readPngParameters(pngsOf(final)[0]!.bytes) ?? '';
  assert.match(parameters, /^a photo of a dog/);
  assert.match(parameters, /Negative prompt: text/);
  assert.match(parameters, /Seed: 5,/);
  assert.match(String(submitted.original()!.embeds[0].title), /Remix/);
});

test('Delete: refused for another member, done for the author', async () => {
  const stranger = h.emulator.addUser({ username: 'stranger' });
  const refused = await click('img:delete:', stranger);
  await refused.deferred();
  await refused.waitFor((r) => /Only the person/.test(contentOf(r)));
  assert.match(ephemeralText(refused), /Only the person who made this image/);
  assert.ok(h.emulator.message(source.message.id), 'still there');

  const own = await click('img:delete:');
  await h.emulator.waitFor(() => !h.emulator.message(source.message.id), 10_000, 'the result deleted');
  assert.equal((await own.deferred()).type, 6, 'acknowledged without a new message');
});

test('Delete: a moderator may remove anyone’s result', async () => {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a red car', seed: 8, steps: 4 }, channelId });
  await finalOf(handle);
  const message = handle.original()!;
  h.emulator.clickButton({ message, customId: customIdStarting(message, 'img:delete:'), user: h.emulator.users.admin });
  await h.emulator.waitFor(() => !h.emulator.message(message.id), 10_000, 'the result deleted by a moderator');
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
