// /imagine end to end: registration, options, acknowledgement, progress edits, the final multipart upload (PNG
// metadata, embed, buttons), seeds that reproduce, and count > 1 (grid plus single files).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startHarness, type Harness } from './harness.ts';
import { bodyOf, contentOf, customIdsOf, embedFields, finalOf, pngsOf, responseMatching, sleep } from './helpers.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import type { Json } from '../emulator/index.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

test('registers every command in the dev guild: slash commands, the Reimagine menu, /mod with permissions', () => {
  const commands = h.emulator.commands(String(h.emulator.guild.id)) as Json[];
  const byName = new Map(commands.map((c) => [c.name as string, c]));
  for (const name of ['imagine', 'queue', 'help', 'status']) assert.equal(byName.get(name)?.type ?? 1, 1, `/${name} registered as a slash command`);
  assert.equal(byName.get('Reimagine')?.type, 3, 'Reimagine is a message context-menu command');
  const imagine = byName.get('imagine')!;
  const options = imagine.options as Json[];
  assert.deepEqual(options.map((o) => o.name), ['prompt', 'negative', 'seed', 'steps', 'guidance', 'sampler', 'width', 'height', 'count', 'image', 'mask', 'strength', 'model']);
  assert.equal(options[0]!.required, true);
  for (const option of options) assert.ok(String(option.description).length > 10, `option ${option.name} has a description that teaches it`);
  assert.ok((options.find((o) => o.name === 'sampler')!.choices as Json[]).length >= 5, 'sampler offers choices');
  const count = options.find((o) => o.name === 'count')!;
  assert.deepEqual([count.min_value, count.max_value], [1, 4]);
  // /mod belongs to the moderation module; when it is there it must be limited to moderators by default.
  const mod = byName.get('mod');
  if (mod) assert.ok(mod.default_member_permissions !== null && mod.default_member_permissions !== undefined && mod.default_member_permissions !== '0', '/mod has default_member_permissions');
});

test('/imagine with options: acknowledged at once, progress edits, then one upload with metadata, embed and buttons', async () => {
  const handle = h.emulator.slashCommand({
    name: 'imagine',
    // The age-restricted channel: the test model's safety checker flags about half of all images, which would be
    // withheld elsewhere (that policy has its own test below).
    channelId: h.emulator.channels.nsfw.id,
    // 40 steps at 512x256 take a few seconds on the test model: several progress intervals (250 ms) long.
    options: { prompt: 'a red lighthouse <@&123> @everyone', negative: 'blurry', seed: 99, steps: 40, guidance: 5, sampler: 'euler', width: 512, height: 256 },
  });
  const ack = await handle.deferred();
  assert.ok(ack.latencyMs !== undefined && ack.latencyMs < 3000, `acknowledged in ${ack.latencyMs} ms`);
  assert.ok(ack.type === 4 || ack.type === 5, `callback type ${ack.type}`);
  const final = await finalOf(handle);
  await sleep(700); // longer than PROGRESS_INTERVAL_MS: a stale progress edit would have arrived by now

  const edits = handle.responses.filter((r) => r.kind === 'webhook' && r.method === 'PATCH' && r.status < 300);
  const finalIndex = edits.indexOf(final);
  assert.ok(finalIndex > 0, 'the result is an edit of the original response, after other edits');
  const progress = edits.slice(0, finalIndex).filter((r) => /step \d+\/\d+/.test(contentOf(r)));
  assert.ok(progress.length > 0, 'at least one progress edit (step i/n) before the result');
  for (const r of progress) assert.match(contentOf(r), /a red lighthouse/);
  assert.deepEqual(edits.slice(finalIndex + 1).filter((r) => /step \d+\/\d+/.test(contentOf(r))), [], 'no progress edit after the result');

  // The upload: one PNG with A1111-style parameters, in a multipart PATCH.
  const png = pngsOf(final)[0]!;
  assert.equal(png.contentType, 'image/png');
  const parameters = readPngParameters(png.bytes) ?? '';
  assert.match(parameters, /^a red lighthouse/);
  assert.match(parameters, /Negative prompt: blurry/);
  for (const part of ['Steps: 40', 'Seed: 99', 'CFG scale: 5', 'Size: 512x256']) assert.ok(parameters.includes(part), `${part} in ${parameters}`);
  const meta = await sharp(png.bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [512, 256]);

  const original = handle.original()!;
  const fields = embedFields(original);
  assert.equal(fields.Seed, '99');
  assert.equal(fields.Steps, '40');
  assert.equal(fields.Guidance, '5');
  assert.match(fields.Sampler!, /euler/i);
  assert.equal(fields.Size, '512×256');
  assert.match(fields['Negative prompt']!, /blurry/);
  assert.ok(fields.Model && fields.Time, 'model and time shown');
  assert.match(String(original.embeds[0].description), /a red lighthouse/);
  assert.match(String(original.embeds[0].image?.url), /^http/, 'the embed shows the uploaded image');
  const ids = customIdsOf(original);
  for (const action of ['reroll', 'vary', 'upscale', 'remix', 'delete']) assert.ok(ids.some((id) => id.startsWith(`img:${action}:`)), `${action} button in ${ids.join(', ')}`);
  assert.ok(!ids.some((id) => id.startsWith('img:cancel:')), 'no Cancel on a finished job');

  // Nothing the bot sent may ping: the prompt's role and @everyone mentions are inert.
  for (const r of handle.responses) {
    const body = bodyOf(r);
    if ('content' in body || 'embeds' in body) assert.deepEqual(body.allowed_mentions?.parse, [], `allowed_mentions.parse empty on ${r.method} ${r.route}`);
  }
});

test('the same seed and settings give byte-identical PNGs', async () => {
  const run = async () => {
    const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a photo of a dog', seed: 777, steps: 4 } });
    return pngsOf(await finalOf(handle))[0]!.bytes;
  };
  const first = await run();
  const second = await run();
  assert.ok(first.equals(second), 'identical bytes');
  const other = pngsOf(await finalOf(h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a photo of a dog', seed: 778, steps: 4 } })))[0]!.bytes;
  assert.ok(!other.equals(first), 'another seed gives another image');
});

test('count=2 posts a grid plus both images, each with its own seed, and per-image buttons', async () => {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'two cats', seed: 10, count: 2, steps: 4 } });
  const final = await finalOf(handle);
  const names = pngsOf(final).map((f) => f.filename);
  assert.deepEqual(names, ['grid.png', '1-10.png', '2-11.png']);
  const grid = await sharp(pngsOf(final)[0]!.bytes).metadata();
  assert.ok((grid.width ?? 0) >= 128, `grid is wider than one image (${grid.width})`);
  assert.match(readPngParameters(pngsOf(final)[2]!.bytes) ?? '', /Seed: 11/);
  const original = handle.original()!;
  assert.equal(embedFields(original).Seed, '10–11');
  assert.equal(original.attachments.length, 3);
  const ids = customIdsOf(original);
  for (const id of ['vary', 'upscale']) for (const i of [0, 1]) assert.ok(ids.some((c) => c.startsWith(`img:${id}:`) && c.endsWith(`:${i}`)), `${id} ${i}`);
});

test('an image the safety checker flags is withheld outside age-restricted channels and posted inside them', async () => {
  // These settings give a bright image, which the test model's safety checker flags (mean > 0.5).
  const options = { prompt: 'a red lighthouse', negative: 'blurry', seed: 1234, steps: 6, guidance: 5, sampler: 'euler', width: 128, height: 64 };
  const general = h.emulator.slashCommand({ name: 'imagine', options });
  const withheld = await responseMatching(general, /withheld/);
  assert.equal(pngsOf(withheld).length, 0, 'no image posted in a normal channel');
  const nsfw = h.emulator.slashCommand({ name: 'imagine', options, channelId: h.emulator.channels.nsfw.id });
  const posted = await finalOf(nsfw);
  assert.equal(pngsOf(posted).length, 1);
});

test('invalid requests are refused privately, before anything is queued', async () => {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a cat', width: 100 } });
  const reply = await handle.deferred();
  assert.equal(reply.type, 4);
  assert.equal(Number(bodyOf(reply).flags) & 64, 64, 'ephemeral');
  assert.match(contentOf(reply), /multiple of 8/);
  const nothing = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a cat', strength: 0.5 } });
  assert.match(contentOf(await nothing.deferred()), /strength only applies/);
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
