import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './harness.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

test('registers /imagine with its options in the dev guild', () => {
  const commands = h.emulator.commands(String(h.emulator.guild.id)) as { name: string; options?: { name: string }[] }[];
  const imagine = commands.find((c) => c.name === 'imagine');
  assert.ok(imagine, 'imagine registered');
  assert.deepEqual(imagine.options?.map((o) => o.name), ['prompt', 'negative', 'seed', 'steps', 'guidance', 'sampler', 'width', 'height', 'count', 'image', 'mask', 'strength', 'model']);
});

test('/imagine answers at once, shows progress, and posts a PNG with its parameters', async () => {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a photo of a cat <@&123> @everyone', seed: 42, steps: 4 } });
  const ack = await handle.deferred();
  assert.ok(ack.latencyMs === undefined || ack.latencyMs < 3000);
  const final = await handle.waitFor((r) => r.files.length > 0 && r.files.some((f) => f.filename.endsWith('.png')), 60_000);
  const png = final.files.find((f) => f.filename.endsWith('.png'))!;
  const params = readPngParameters(png.bytes);
  assert.match(params ?? '', /a photo of a cat/);
  assert.match(params ?? '', /Seed: 42/);
  assert.match(params ?? '', /Steps: 4/);
  // every message the bot sent for this job disables pings
  for (const r of handle.responses) {
    const body = r.body as { allowed_mentions?: { parse?: unknown[] }; data?: { allowed_mentions?: { parse?: unknown[] } } } | undefined;
    const mentions = body?.allowed_mentions ?? body?.data?.allowed_mentions;
    if (r.kind !== 'callback' || (body?.data && 'content' in (body.data as object))) assert.deepEqual(mentions?.parse, [], `allowed_mentions.parse empty on ${r.method} ${r.route}`);
  }
  const original = handle.original() as { components?: { components: { custom_id: string }[] }[] };
  const ids = original.components?.flatMap((row) => row.components.map((c) => c.custom_id)) ?? [];
  assert.ok(ids.some((id) => id.startsWith('img:reroll:')), `buttons: ${ids.join(', ')}`);
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
