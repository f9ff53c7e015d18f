// The region tools on a result, end to end through the Discord emulator on closed-form-edit (every txt2img result is
// one colour, the prompt's; inpainting keeps the rest exactly): Vary (Region) on the lower-left cells repaints only
// that part, Zoom Out 2x shrinks the picture into the centre with new surroundings, each Pan arrow extends the picture
// on its side, Custom Zoom asks for the factor, and a new prompt passes the moderation gate like any other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startHarness, type Harness } from './harness.ts';
import { bodyOf, channelPostsSince, customIdStarting, customIdsOf, ephemeralText, finalOf, lastSeq, pngsOf } from './helpers.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import type { InteractionHandle, Json } from '../emulator/index.ts';

const P1 = 'a photo of a cat';
const P2 = 'the sea';

interface Picture {
  data: Uint8Array;
  width: number;
  height: number;
}

let h: Harness;
let channelId: string;
let first: { message: Json; image: Picture };
let region: { message: Json; image: Picture } | undefined;

async function decode(bytes: Uint8Array): Promise<Picture> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

const px = (p: Picture, x: number, y: number) => Array.from(p.data.subarray((y * p.width + x) * 3, (y * p.width + x) * 3 + 3));
const near = (a: number[], b: number[], t = 1) => a.every((v, i) => Math.abs(v - b[i]!) <= t);

async function result(handle: InteractionHandle): Promise<{ message: Json; image: Picture; parameters: string }> {
  const final = await finalOf(handle);
  const png = pngsOf(final)[0]!.bytes;
  return { message: handle.original()!, image: await decode(png), parameters: readPngParameters(png) ?? '' };
}

function click(message: Json, prefix: string): InteractionHandle {
  const current = h.emulator.message(message.id) ?? message;
  return h.emulator.clickButton({ message: current, customId: customIdStarting(current, prefix) });
}

/** Vary (Region) on `source` with these cells and prompt: the picker, the menu, the modal. */
async function varyRegion(source: Json, cells: string[], prompt: string): Promise<{ picker: InteractionHandle; submitted: InteractionHandle }> {
  const picker = click(source, 'edit:region:');
  await picker.waitFor((r) => r.status < 300 && customIdsOf(bodyOf(r)).some((id) => id.startsWith('edit:cells:')), 30_000, 'the region picker');
  const menuMessage = picker.original()!;
  const selected = h.emulator.selectMenu({ message: menuMessage, customId: customIdStarting(menuMessage, 'edit:cells:'), values: cells });
  await selected.deferred();
  assert.ok(selected.modal, 'choosing cells opens the prompt modal');
  const submitted = h.emulator.submitModal({ customId: selected.modal.custom_id, fields: { prompt } });
  return { picker, submitted };
}

before(async () => {
  // Init images keep their 64x64 (the default budget would enlarge them).
  h = await startHarness({ model: 'closed-form-edit', env: { INIT_IMAGE_PIXELS: '4096' } });
  channelId = h.emulator.channels.general.id;
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: P1, seed: 5 }, channelId });
  const r = await result(handle);
  first = { message: r.message, image: r.image };
});
after(async () => {
  await h?.close();
});

test('a one-picture result carries Vary (Region), Zoom Out 2×, Zoom Out 1.5×, Custom Zoom and the four Pan arrows', () => {
  const ids = customIdsOf(first.message);
  for (const op of ['region', 'zoom2', 'zoom15', 'zoomc', 'pan-left', 'pan-right', 'pan-up', 'pan-down']) assert.ok(ids.some((id) => id.startsWith(`edit:${op}:`)), `${op} in ${ids.join(', ')}`);
  const labels = ((first.message.components ?? []) as Json[]).flatMap((row) => (row.components as Json[]).map((c) => c.label));
  for (const label of ['Vary (Region)', 'Zoom Out 2×', 'Zoom Out 1.5×', 'Custom Zoom']) assert.ok(labels.includes(label), label);
});

test('Vary (Region) on the lower-left cells: only that part changes; the rest is pixel-identical outside the blend band', async () => {
  const { picker, submitted } = await varyRegion(first.message, ['9', '10', '13', '14'], P2);
  // The picker: an ephemeral message with the numbered grid picture and a 16-cell menu.
  const pickerBody = picker.responses.map(bodyOf).find((b) => customIdsOf(b).some((id) => id.startsWith('edit:cells:')))!;
  assert.ok(picker.responses.some((r) => r.files.some((f) => f.filename === 'regions.png')), 'the grid preview is attached');
  const menu = (pickerBody.components as Json[])[0]!.components[0];
  assert.equal(menu.options.length, 16);
  assert.equal(menu.max_values, 16);
  const r = await result(submitted);
  region = { message: r.message, image: r.image };
  assert.match(String(r.message.embeds[0].title), /Region variation/);
  assert.match(r.parameters, /^the sea/);
  assert.match(r.parameters, /Mask blur: 2/);
  const before = first.image;
  const after = r.image;
  assert.deepEqual([after.width, after.height], [before.width, before.height]);
  const c1 = px(before, 0, 0);
  const c2 = px(after, 4, 60);
  assert.ok(!near(c1, c2, 10), `the new prompt gives another colour (${c1} vs ${c2})`);
  // The blend band: the blur's reach (3 sigma = 6 px) around the cells [0, 32) x [32, 64).
  const band = 6;
  let changedOutside = 0;
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const inCells = x < 32 && y >= 32;
      const nearCells = x < 32 + band && y >= 32 - band;
      if (!nearCells && px(after, x, y).join() !== px(before, x, y).join()) changedOutside++;
      if (inCells && x < 32 - band && y >= 32 + band) assert.ok(near(px(after, x, y), c2), `(${x}, ${y}) repainted`);
    }
  }
  assert.equal(changedOutside, 0, 'pixels outside the cells and the band are the original');
});

test('Zoom Out 2×: the picture shrunk into the centre, new surroundings', async () => {
  assert.ok(region, 'needs the Vary (Region) result');
  const r = await result(click(region.message, 'edit:zoom2:'));
  assert.match(String(r.message.embeds[0].title), /Zoom out/);
  assert.match(r.parameters, /Outpaint: zoom out 2/);
  assert.deepEqual([r.image.width, r.image.height], [64, 64]);
  const src = region.image;
  const shrunk = await sharp(src.data, { raw: { width: 64, height: 64, channels: 3 } }).resize(32, 32, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  // Inside the overlap band (8 px), the centre is the shrunk picture, pixel for pixel.
  for (let y = 24; y < 40; y++) for (let x = 24; x < 40; x++) assert.deepEqual(px(r.image, x, y), Array.from(shrunk.subarray(((y - 16) * 32 + (x - 16)) * 3, ((y - 16) * 32 + (x - 16)) * 3 + 3)), `centre (${x}, ${y})`);
  // The surroundings are new: the prompt's (sea) colour where the original's upper part was the cat's.
  const sea = px(src, 4, 60);
  for (const [x, y] of [[2, 2], [61, 2], [2, 61], [61, 61], [32, 3]] as const) assert.ok(near(px(r.image, x, y), sea), `surrounding (${x}, ${y}) = ${px(r.image, x, y)}`);
  assert.ok(!near(px(r.image, 32, 3), px(src, 32, 3), 10), 'not the original stretched');
});

for (const [arrow, size, kept] of [
  ['pan-left', [96, 64], { x: 32, y: 0 }],
  ['pan-right', [96, 64], { x: 0, y: 0 }],
  ['pan-up', [64, 96], { x: 0, y: 32 }],
  ['pan-down', [64, 96], { x: 0, y: 0 }],
] as const) {
  test(`${arrow}: the picture extends by half on that side`, async () => {
    assert.ok(region, 'needs the Vary (Region) result');
    const r = await result(click(region.message, `edit:${arrow}:`));
    assert.deepEqual([r.image.width, r.image.height], size);
    const src = region.image;
    const sea = px(src, 4, 60);
    const overlap = 8;
    // The new strip takes the prompt's colour; the original is there, unchanged, beyond the overlap band.
    for (let y = 0; y < size[1]; y++) {
      for (let x = 0; x < size[0]; x++) {
        const sx = x - kept.x;
        const sy = y - kept.y;
        const inside = sx >= 0 && sy >= 0 && sx < 64 && sy < 64;
        if (!inside) assert.ok(near(px(r.image, x, y), sea), `new area (${x}, ${y}) = ${px(r.image, x, y)}`);
        const farFromSeam = arrow === 'pan-left' ? sx >= overlap : arrow === 'pan-right' ? sx < 64 - overlap : arrow === 'pan-up' ? sy >= overlap : sy < 64 - overlap;
        if (inside && farFromSeam) assert.deepEqual(px(r.image, x, y), px(src, sx, sy), `kept (${x}, ${y})`);
      }
    }
  });
}

test('Custom Zoom: a modal with the prompt and the factor; a factor out of range is refused', async () => {
  const opened = click(first.message, 'edit:zoomc:');
  await opened.deferred();
  const modal = opened.modal!;
  assert.ok(modal, 'a modal');
  const bad = h.emulator.submitModal({ customId: modal.custom_id, fields: { prompt: P1, factor: '3' } });
  await bad.waitFor((r) => /zoom factor must be a number from 1.1 to 2/.test(String(bodyOf(r).content ?? '')), 10_000, 'the refusal');
  const again = click(first.message, 'edit:zoomc:');
  await again.deferred();
  const good = h.emulator.submitModal({ customId: again.modal!.custom_id, fields: { prompt: P2, factor: '1.5' } });
  const r = await result(good);
  assert.match(r.parameters, /Outpaint: zoom out 1.5/);
  assert.match(r.parameters, /^the sea/);
  assert.deepEqual([r.image.width, r.image.height], [64, 64]);
  // The centre keeps the cat's colour, the new border the dog's.
  assert.ok(near(px(r.image, 32, 32), px(first.image, 0, 0)));
  assert.ok(!near(px(r.image, 1, 1), px(first.image, 0, 0), 10));
});

test('Vary (Region) with a blocked word: refused by the moderation gate, nothing queued', async () => {
  const { submitted } = await varyRegion(first.message, ['1'], 'a forbiddenword cat');
  await submitted.waitFor((r) => /not accepted/.test(String(bodyOf(r).content ?? '')), 10_000, 'the refusal');
  assert.match(ephemeralText(submitted), /Your prompt was not accepted/);
});

/** A flat picture and a mask with the lower-left quarter white, as uploads. */
async function uploads(): Promise<{ image: Json; mask: Json; colour: number[] }> {
  const colour = [90, 160, 60];
  const image = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } } }).png().toBuffer();
  const m = Buffer.alloc(64 * 64);
  for (let y = 32; y < 64; y++) m.fill(255, y * 64, y * 64 + 32);
  const mask = await sharp(m, { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
  return {
    image: await h.emulator.addAttachment(image, 'photo.png', 'image/png', { channelId }),
    mask: await h.emulator.addAttachment(mask, 'mask.png', 'image/png', { channelId }),
    colour,
  };
}

/** Lower-left repainted in the prompt's colour, everything beyond the blur band (4 px blur: 12 px) the upload's. */
function assertLowerLeftRepainted(image: Picture, kept: number[], painted: number[]): void {
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      if (x >= 44 || y < 20) assert.deepEqual(px(image, x, y), kept, `kept (${x}, ${y})`);
      if (x < 20 && y >= 44) assert.ok(near(px(image, x, y), painted), `repainted (${x}, ${y}) = ${px(image, x, y)}`);
    }
  }
}

test('/imagine image: mask: inpaints the uploaded picture where the mask is white', async () => {
  const { image, mask, colour } = await uploads();
  const r = await result(h.emulator.slashCommand({ name: 'imagine', options: { prompt: P2, image, mask, seed: 1 }, channelId }));
  assert.match(r.parameters, /Mask blur: 4/);
  assertLowerLeftRepainted(r.image, colour, px(region!.image, 4, 60));
});

test('/imagine mask: without image is refused', async () => {
  const { mask } = await uploads();
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: P2, mask }, channelId });
  await handle.waitFor((r) => /mask needs an image/.test(String(bodyOf(r).content ?? '')), 10_000, 'the refusal');
});

test('reply-with-image carrying a mask: the replied-to picture is inpainted where the mask is white', async () => {
  const { image, mask, colour } = await uploads();
  const photo = await h.emulator.userMessage({ channelId, content: 'my picture', attachments: [image] });
  const seq = lastSeq(h.emulator);
  // The bot's own message can be read without the Message Content intent; so can this one (it mentions the bot).
  await h.emulator.userMessage({ channelId, content: `<@${h.emulator.botUser.id}> ${P2}`, attachments: [mask], replyTo: photo, author: h.emulator.users.member });
  const post = await h.emulator.waitFor(() => channelPostsSince(h.emulator, seq, channelId).find((r) => r.status === 200 && (r.body as Json)?.message_reference?.message_id === photo.id), 15_000, 'the queued reply');
  const id = ((post as Json).response as Json).id as string;
  const message = await h.emulator.waitFor(() => {
    const m = h.emulator.message(id);
    return m?.attachments?.some((a: Json) => String(a.filename).endsWith('.png')) ? m : undefined;
  }, 30_000, 'the result');
  const png = h.emulator.attachmentBytes((message.attachments as Json[]).find((a) => String(a.filename).endsWith('.png'))!);
  assertLowerLeftRepainted(await decode(png), colour, px(region!.image, 4, 60));
});
