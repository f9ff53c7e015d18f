// Server policy end to end: NSFW off vs age-restricted channels, limits (steps, jobs per hour), the server's AutoMod
// keyword rules as blocked terms (at start, toggled, and followed through rule events), and finding and deleting
// who made an image.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayIntentBits } from 'discord.js';
import { startHarness, type Harness } from '../bot/harness.ts';
import { answerOf, expectImage, expectRefused, mod } from './helpers.ts';

let h: Harness;
let guildId: string;
before(async () => {
  h = await startHarness();
  guildId = String(h.emulator.guild.id);
});
after(async () => {
  await h?.close();
});

test('NSFW prompts: refused everywhere when off; allowed only in age-restricted channels when the server allows them', async () => {
  const nsfw = h.emulator.channels.nsfw.id;
  assert.match(await expectRefused(h, { prompt: 'a nude marble statue' }), /NSFW term/);
  assert.match(await expectRefused(h, { prompt: 'a nude marble statue' }, { channelId: nsfw }), /NSFW term/);
  assert.match((await mod(h, 'nsfw', { mode: 'age-restricted' })).text, /age-restricted channels only/);
  await expectImage(h, { prompt: 'a nude marble statue', seed: 42 }, { channelId: nsfw });
  assert.match(await expectRefused(h, { prompt: 'a nude marble statue' }), /NSFW term/, 'still refused outside age-restricted channels');
  // The built-in list applies in age-restricted channels too.
  assert.match(await expectRefused(h, { prompt: 'loli' }, { channelId: nsfw }), /built-in blocklist/);
  await mod(h, 'nsfw', { mode: 'off' });
  assert.match(await expectRefused(h, { prompt: 'a nude marble statue' }, { channelId: nsfw }), /NSFW term/);
});

test('limits: more steps than the server allows is refused clearly; jobs per hour are counted per user', async () => {
  const shown = await mod(h, 'limits');
  assert.match(shown.text, /Max steps\*\*: server none/);
  const set = await mod(h, 'limits', { max_steps: 3, jobs_per_hour: 2 });
  assert.match(set.text, /Max steps\*\*: server 3 · in effect 3/);
  assert.match(set.text, /Jobs per user per hour\*\*: server 2 · in effect 2/);
  assert.match(await expectRefused(h, { prompt: 'a lighthouse', steps: 10 }), /steps must be from 1 to 3; got 10/);

  const user = h.emulator.addUser({ username: 'busy' });
  await expectImage(h, { prompt: 'a lighthouse', seed: 42 }, { user });
  await expectImage(h, { prompt: 'a lighthouse', seed: 42 }, { user });
  assert.match(await expectRefused(h, { prompt: 'a lighthouse', seed: 42 }, { user }), /limit of 2 images per hour/);
  // Another user has their own count.
  await expectImage(h, { prompt: 'a lighthouse', seed: 42 }, { user: h.emulator.addUser({ username: 'calm' }) });

  assert.match((await mod(h, 'limits', { jobs_per_hour: 0 })).text, /Jobs per user per hour\*\*: server none/);
  await expectImage(h, { prompt: 'a lighthouse', seed: 42 }, { user });
  const cleared = await mod(h, 'limits', { clear: 'all' });
  assert.match(cleared.text, /Max steps\*\*: server none/);
  assert.deepEqual(h.bot.ctx.moderation.getSettings(guildId).limits, { maxSteps: null, maxPixels: null, maxImagesPerJob: null, jobsPerUserPerHour: null });
});

test("the server's AutoMod keyword rules block prompts, can be turned off and on, and follow rule events", async () => {
  assert.ok((h.emulator.gatewayStats.session!.intents & GatewayIntentBits.AutoModerationConfiguration) !== 0, 'the bot listens to AutoMod rule events');
  assert.match(await expectRefused(h, { prompt: 'a forbiddenword on a sign' }), /AutoMod rules \(`forbiddenword`\)/);
  assert.match(await expectRefused(h, { prompt: 'badprompting all day' }), /AutoMod rules/);
  assert.match((await mod(h, 'automod', { enabled: false })).text, /no longer apply/);
  await expectImage(h, { prompt: 'a forbiddenword on a sign', seed: 42 });
  const on = await mod(h, 'automod', { enabled: true });
  assert.match(on.text, /1 rule\(s\) read .*: 3 blocked term\(s\)/);
  assert.match(await expectRefused(h, { prompt: 'a forbiddenword on a sign' }), /AutoMod/);

  // A moderator edits the rule in Discord: the gateway says so and the bot re-reads the rules.
  const core = (h.emulator as unknown as { core: { world: { autoModerationRules: Map<string, Record<string, any>[]> }; gateway: { dispatch(t: string, d: unknown): boolean } } }).core; // eslint-disable-line @typescript-eslint/no-explicit-any
  const [rule] = core.world.autoModerationRules.get(guildId)!;
  const updated = { ...rule, trigger_metadata: { ...rule!.trigger_metadata, keyword_filter: ['forbiddenword', 'badprompt*', 'newbadword'], allow_list: ['forbiddenword art'] } };
  core.world.autoModerationRules.set(guildId, [updated]);
  assert.ok(core.gateway.dispatch('AUTO_MODERATION_RULE_UPDATE', updated));
  await h.emulator.waitFor(() => !h.bot.ctx.moderation.checkPrompt({ guildId, channelIsAgeRestricted: false, prompt: 'newbadword' }).allowed, 10_000, 'the updated rule');
  assert.match(await expectRefused(h, { prompt: 'a newbadword' }), /AutoMod rules \(`newbadword`\)/);
  await expectImage(h, { prompt: 'forbiddenword art', seed: 42 });
  const settings = await mod(h, 'settings');
  assert.match(settings.text, /AutoMod rules: on\n1 rule\(s\) read .*: 4 blocked term\(s\), 1 exception\(s\)/);
});

test('Who made this? and /mod whomade find the author of a posted image; Delete removes it and marks the record', async () => {
  const author = h.emulator.addUser({ username: 'painter' });
  const posted = await expectImage(h, { prompt: 'a quiet harbour at dawn', seed: 4242 }, { user: author });
  const general = h.emulator.channels.general.id;

  const denied = await answerOf(h.emulator.messageContextMenu({ name: 'Who made this?', targetMessage: posted.id, user: h.emulator.users.member }));
  assert.ok(denied.ephemeral);
  assert.match(denied.text, /Manage Messages/);

  const menu = await answerOf(h.emulator.messageContextMenu({ name: 'Who made this?', targetMessage: posted.id, user: h.emulator.users.admin }));
  assert.ok(menu.ephemeral);
  assert.match(menu.text, new RegExp(`Made by: <@${author.id}>`));
  assert.match(menu.text, /a quiet harbour at dawn/);
  assert.match(menu.text, /Seed: 4242/);
  assert.match(menu.text, /When: <t:\d+:f>/);
  assert.deepEqual(menu.customIds, [`whomade:delete:${posted.id}`]);

  const link = `https://discord.com/channels/${guildId}/${general}/${posted.id}`;
  const bySlash = await mod(h, 'whomade', { message: link });
  assert.match(bySlash.text, new RegExp(`Made by: <@${author.id}>`));
  assert.match((await mod(h, 'whomade', { message: 'not a link' })).text, /message link/);
  assert.match((await mod(h, 'whomade', { message: `https://discord.com/channels/123456789012345678/${general}/${posted.id}` })).text, /another server/);
  // Not an image the bot recorded: nothing is found and nothing can be deleted through the bot.
  const someoneElses = await h.emulator.userMessage({ channelId: general, author: h.emulator.users.member, content: 'hello' });
  assert.match((await mod(h, 'whomade', { message: someoneElses.id })).text, /no record/);
  assert.match((await mod(h, 'delete', { message: someoneElses.id })).text, /no record/);
  assert.ok(h.emulator.message(someoneElses.id), 'untouched');

  // A member cannot press the Delete button.
  const refused = await answerOf(h.emulator.clickButton({ message: menu.message.id, customId: `whomade:delete:${posted.id}`, user: h.emulator.users.member }));
  assert.match(refused.text, /Manage Messages/);
  assert.ok(h.emulator.message(posted.id));

  const click = h.emulator.clickButton({ message: menu.message.id, customId: `whomade:delete:${posted.id}`, user: h.emulator.users.admin });
  assert.equal((await click.deferred(10_000)).type, 7);
  await h.emulator.waitFor(() => h.emulator.message(posted.id) === undefined, 10_000, 'the image message deleted');
  const records = h.bot.ctx.generations.byMessageId(posted.id);
  assert.ok(records.length > 0 && records.every((r) => r.deleted && r.deletedBy === h.emulator.users.admin.id));
  const again = await mod(h, 'whomade', { message: posted.id });
  assert.match(again.text, new RegExp(`Deleted: by <@${h.emulator.users.admin.id}>`));
  assert.deepEqual(again.customIds, [], 'no Delete button on a deleted image');

  // /mod delete on another image.
  const second = await expectImage(h, { prompt: 'a red kite', seed: 7 }, { user: author });
  assert.match((await mod(h, 'delete', { message: `https://discord.com/channels/${guildId}/${general}/${second.id}` })).text, /Deleted/);
  await h.emulator.waitFor(() => h.emulator.message(second.id) === undefined, 10_000, 'the second image deleted');
  assert.match((await mod(h, 'delete', { message: second.id })).text, /already gone/);
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
