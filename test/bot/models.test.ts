// Several models in one bot: MODELS_DIR offers every valid folder, /imagine's `model` option (with autocomplete) picks
// one, the PNG names it, buttons keep it (also after a restart), and a budget that fits one tiny model at a time makes
// the bot release the least recently used model and reload it on demand.
import { test, before, after } from 'node:test';
import { readdir } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './harness.ts';
import { bodyOf, customIdStarting, ephemeralText, finalOf, pngsOf } from './helpers.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import { ensureTestModels } from '../fixtures/models.ts';
import { ModelPool } from '../../src/jobs/modelPool.ts';
import type { Json } from '../emulator/index.ts';

let h: Harness;
let events: string[] = [];
let channelId: string;

function watchPool(): void {
  const pool = h.bot.ctx.jobs.engine;
  assert.ok(pool instanceof ModelPool, 'local mode runs a ModelPool');
  pool.on('loaded', ({ model }) => events.push(`loaded ${model}`));
  pool.on('released', ({ model, reason }) => events.push(`released ${model} (${reason})`));
}

before(async () => {
  const root = await ensureTestModels();
  // tiny-sd15 and tiny-lcm are about 90-100 KB each: a 150 KB budget holds one of them at a time.
  h = await startHarness({ env: { MODELS_DIR: root, MODEL_MEMORY_BUDGET: '150KB' } });
  channelId = h.emulator.channels.nsfw.id;
  watchPool();
});
after(async () => {
  await h?.close();
});

async function imagine(options: Record<string, unknown>) {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { steps: 2, width: 64, height: 64, ...options }, channelId });
  const final = await finalOf(handle);
  return { handle, message: handle.original()!, parameters: readPngParameters(pngsOf(final)[0]!.bytes) ?? '' };
}

async function click(message: Json, prefix: string) {
  const handle = h.emulator.clickButton({ message: h.emulator.message(message.id)!, customId: customIdStarting(h.emulator.message(message.id), prefix) });
  const final = await finalOf(handle);
  return { handle, parameters: readPngParameters(pngsOf(final)[0]!.bytes) ?? '' };
}

test('autocomplete offers the installed models with family and default size, the default first', async () => {
  const handle = h.emulator.autocomplete({ name: 'imagine', options: { prompt: 'x' }, focused: 'model' });
  const response = await handle.waitFor((r) => r.kind === 'callback');
  const choices = bodyOf(response).choices as { name: string; value: string }[];
  const installed = (await readdir(await ensureTestModels())).filter((name) => name !== 'tiny-sd15' && !name.startsWith('.')).sort();
  assert.deepEqual(choices.map((c) => c.value), ['tiny-sd15', ...installed]);
  assert.equal(choices[0]!.name, 'tiny-sd15 · SD · 64×64 · default');
  assert.match(choices.find((c) => c.value === 'tiny-lcm')!.name, /^tiny-lcm · LCM · 512×512$/);
  const typed = h.emulator.autocomplete({ name: 'imagine', options: { prompt: 'x', model: 'LCM' }, focused: 'model' });
  const filtered = bodyOf(await typed.waitFor((r) => r.kind === 'callback')).choices as { value: string }[];
  assert.deepEqual(filtered.map((c) => c.value), ['tiny-lcm']);
});

let lcmResult: Json;

test('the model option picks the model; the PNG and the message name it; the budget releases the other model', async () => {
  events = [];
  const { message, parameters } = await imagine({ prompt: 'a lighthouse', seed: 3, model: 'tiny-lcm' });
  assert.match(parameters, /Model: tiny-lcm/);
  assert.match(parameters, /Sampler: LCM/, "tiny-lcm's own defaults apply");
  assert.ok(JSON.stringify(message.embeds).includes('tiny-lcm'));
  assert.deepEqual(events, ['released tiny-sd15 (budget)', 'loaded tiny-lcm']);
  lcmResult = message;
});

test('without the option the default model runs, and is reloaded on demand', async () => {
  events = [];
  const { parameters } = await imagine({ prompt: 'a lighthouse', seed: 3 });
  assert.match(parameters, /Model: tiny-sd15/);
  assert.deepEqual(events, ['released tiny-lcm (budget)', 'loaded tiny-sd15']);
});

test('Reroll keeps the job’s model, not the default', async () => {
  events = [];
  const { parameters } = await click(lcmResult, 'img:reroll:');
  assert.match(parameters, /Model: tiny-lcm/);
  assert.deepEqual(events, ['released tiny-sd15 (budget)', 'loaded tiny-lcm']);
});

test('Vary keeps the job’s model (tiny-lcm has no VAE encoder, so the job says so and fails cleanly)', async () => {
  const handle = h.emulator.clickButton({ message: h.emulator.message(lcmResult.id)!, customId: customIdStarting(h.emulator.message(lcmResult.id), 'img:vary:') });
  await handle.waitFor((r) => r.status < 300 && JSON.stringify(r.body ?? {}).includes('tiny-lcm has no VAE encoder'), 60_000, 'the failure naming the model');
});

test('an unknown model is refused with the list of models, privately, and nothing is queued', async () => {
  const before = h.bot.ctx.jobs.queue.size + h.bot.ctx.jobs.queue.pending;
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'x', model: 'nope' }, channelId });
  await handle.waitFor((r) => r.kind === 'callback');
  assert.match(ephemeralText(handle), /no model called nope.*Available: tiny-sd15, closed-form, .*tiny-lcm/);
  assert.equal(h.bot.ctx.jobs.queue.size + h.bot.ctx.jobs.queue.pending, before);
});

test('after a restart the buttons still keep the job’s model', async () => {
  await h.restart();
  events = [];
  watchPool();
  const { parameters } = await click(lcmResult, 'img:reroll:');
  assert.match(parameters, /Model: tiny-lcm/);
  assert.deepEqual(events, ['released tiny-sd15 (budget)', 'loaded tiny-lcm']);
});

test('/mod model: a server default, hidden models (refused, gone from autocomplete), and show again', async () => {
  const admin = h.emulator.users.admin;
  const run = async (name: string, options: Record<string, unknown> = {}) => {
    const handle = h.emulator.slashCommand({ name: `mod model ${name}`, options, user: admin });
    await handle.waitFor((r) => r.kind === 'callback');
    return JSON.stringify(handle.responses.map((r) => bodyOf(r)));
  };
  assert.match(await run('default', { model: 'tiny-lcm' }), /now uses \*\*tiny-lcm\*\*/);
  const { parameters } = await imagine({ prompt: 'a boat', seed: 4 });
  assert.match(parameters, /Model: tiny-lcm/, "the server's default applies when no model is chosen");
  assert.match(await run('hide', { model: 'tiny-lcm' }), /default model; choose another default first/);
  assert.match(await run('default'), /bot's default model/);
  assert.match(await run('hide', { model: 'tiny-lcm' }), /hidden here/);
  const refused = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'x', model: 'tiny-lcm' }, channelId });
  await refused.waitFor((r) => r.kind === 'callback');
  assert.match(ephemeralText(refused), /tiny-lcm is not available in this server/);
  // Its old results' buttons stop working here too.
  const reroll = h.emulator.clickButton({ message: h.emulator.message(lcmResult.id)!, customId: customIdStarting(h.emulator.message(lcmResult.id), 'img:reroll:') });
  await reroll.waitFor((r) => r.kind === 'callback');
  assert.match(ephemeralText(reroll), /tiny-lcm is not available in this server/);
  const menu = h.emulator.autocomplete({ name: 'imagine', options: { prompt: 'x' }, focused: 'model' });
  const values = (bodyOf(await menu.waitFor((r) => r.kind === 'callback')).choices as { value: string }[]).map((c) => c.value);
  assert.ok(!values.includes('tiny-lcm'));
  assert.match(await run('list'), /tiny-lcm\*\* · LCM · 512×512 · hidden/);
  assert.match(await run('show', { model: 'tiny-lcm' }), /can be used here again/);
  assert.match(await run('list'), /tiny-sd15\*\* · SD · 64×64 · default here/);
});
