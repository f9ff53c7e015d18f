// Images the safety checker flags, end to end on the closed-form test model, whose output is known in advance:
// "a photo of a cat" with guidance 1 and DDIM is a flat bright image (mean 0.637 > 0.5, flagged); guidance 7.5 is
// darker (0.431, not flagged). See test/fixtures/README.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../bot/harness.ts';
import { answerOf, customIdsOf, expectRefused, mod, textOf } from './helpers.ts';

const FLAGGED = { prompt: 'a photo of a cat', guidance: 1, sampler: 'ddim', width: 64, height: 64, steps: 2, seed: 1 };
const CLEAN = { ...FLAGGED, guidance: 7.5 };

let h: Harness;
let guildId: string;
let general: string;
let nsfw: string;
before(async () => {
  h = await startHarness({ model: 'closed-form' });
  guildId = String(h.emulator.guild.id);
  general = h.emulator.channels.general.id;
  nsfw = h.emulator.channels.nsfw.id;
});
after(async () => {
  await h?.close();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs /imagine and waits for the final result message (images posted, or the withheld note). */
async function generate(options: Record<string, unknown>, channelId = general): Promise<Json> {
  const handle = h.emulator.slashCommand({ name: 'imagine', options, channelId });
  const answer = await answerOf(handle);
  assert.ok(!answer.ephemeral, answer.text);
  await handle.waitFor((r) => r.kind === 'webhook' && r.method === 'PATCH' && /"Seed"/.test(JSON.stringify(r.body ?? {})), 60_000, 'the result');
  const message = handle.original()!;
  await h.emulator.waitFor(() => h.bot.ctx.generations.byMessageId(message.id).length > 0, 10_000, 'the generation record');
  return message;
}

function logEntries(channelId: string): Json[] {
  return h.emulator.messages(channelId).filter((m) => /flagged by the safety checker/.test(m.embeds?.[0]?.title ?? ''));
}

test('an unflagged image is posted normally (control)', async () => {
  await mod(h, 'logchannel set', { channel: nsfw });
  const message = await generate(CLEAN);
  assert.deepEqual(message.attachments.map((a: Json) => a.filename), ['1.png']);
  assert.equal(logEntries(nsfw).length, 0);
});

test('a flagged image is withheld outside age-restricted channels and the log channel is told', async () => {
  const message = await generate(FLAGGED);
  assert.deepEqual(message.attachments, [], 'no image posted');
  assert.match(message.content, /withheld: the safety checker flagged/);
  assert.equal(message.embeds[0].image, undefined);
  const entry = await h.emulator.waitFor(() => logEntries(nsfw)[0], 10_000, 'the flagged-image log entry');
  const text = textOf(entry);
  assert.match(text, /\(withheld\)/);
  assert.match(text, new RegExp(`User: <@${h.emulator.users.member.id}>`));
  assert.match(text, /a photo of a cat/);
  assert.match(text, /seed 1/);
  assert.match(text, new RegExp(`https://discord.com/channels/${guildId}/${general}/${message.id}`));
  assert.deepEqual(customIdsOf(entry), [`modlog:block:${h.emulator.users.member.id}`, `whomade:delete:${message.id}`, 'modlog:dismiss']);
  // The record keeps who made it, even though nothing was shown.
  assert.equal(h.bot.ctx.generations.byMessageId(message.id)[0]!.userId, h.emulator.users.member.id);

  // Delete image from the log entry removes the post; Block and Dismiss stay.
  const click = h.emulator.clickButton({ message: entry.id, customId: `whomade:delete:${message.id}`, user: h.emulator.users.admin });
  assert.equal((await click.deferred(10_000)).type, 7);
  await h.emulator.waitFor(() => h.emulator.message(message.id) === undefined, 10_000, 'the post deleted');
  assert.deepEqual(customIdsOf(h.emulator.message(entry.id)!), [`modlog:block:${h.emulator.users.member.id}`, 'modlog:dismiss']);
  assert.match(textOf(h.emulator.message(entry.id)!), /Image deleted/);
});

test('with the spoiler setting on, a flagged image is posted behind a spoiler and logged', async () => {
  await mod(h, 'spoiler', { enabled: true });
  const message = await generate(FLAGGED);
  assert.deepEqual(message.attachments.map((a: Json) => a.filename), ['SPOILER_1.png']);
  assert.match(message.content, /hidden behind a spoiler/);
  await h.emulator.waitFor(() => logEntries(nsfw).find((m) => /\(spoilered\)/.test(m.embeds[0].title)), 10_000, 'the spoilered log entry');
  await mod(h, 'spoiler', { enabled: false });
});

test('in an age-restricted channel a flagged image is posted as is, with no log entry', async () => {
  const before = logEntries(nsfw).length;
  const message = await generate(FLAGGED, nsfw);
  assert.deepEqual(message.attachments.map((a: Json) => a.filename), ['1.png']);
  assert.match(message.embeds[0].image.url, /\/1\.png/);
  const jobId = h.bot.ctx.generations.byMessageId(message.id)[0]!.jobId!;
  assert.equal(h.bot.ctx.jobs.get(jobId)?.result?.files[0]?.nsfw, true, 'the image was flagged');
  // Give a (wrong) log entry the time to arrive before checking there is none.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(logEntries(nsfw).length, before);
});

test('a log channel the bot can no longer post in is skipped without breaking refusals or deliveries', async () => {
  // As if the bot's permission there had been removed after the channel was set.
  h.bot.ctx.moderation.setLogChannel(guildId, h.emulator.channels.readonly.id, h.emulator.users.admin.id);
  await mod(h, 'blocklist add', { term: 'kitten' });
  assert.match(await expectRefused(h, { ...FLAGGED, prompt: 'a kitten' }), /`kitten`/);
  const message = await generate(FLAGGED);
  assert.match(message.content, /withheld/);
  const refusedPosts = await h.emulator.waitFor(() => {
    const posts = h.emulator.requests.filter((r) => r.method === 'POST' && r.params.channelId === h.emulator.channels.readonly.id);
    return posts.length === 2 && posts;
  }, 10_000, 'both entries tried');
  assert.ok(refusedPosts.every((r) => r.status === 403));
  // The bot is still fine.
  const settings = await mod(h, 'settings');
  assert.match(settings.text, /Moderation settings/);
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
