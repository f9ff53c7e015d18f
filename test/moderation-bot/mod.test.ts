// /mod end to end: who may use it, the blocklist with evasions, the log channel and its buttons, blocked users, the
// allowlist, refused regexes, and settings that survive a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PermissionFlagsBits } from 'discord.js';
import { startHarness, type Harness } from '../bot/harness.ts';
import { answerOf, customIdsOf, expectImage, expectRefused, mod, publicMessages, textOf, waitForMessage } from './helpers.ts';

let h: Harness;
let guildId: string;
let general: string;
let logChannel: string;
before(async () => {
  h = await startHarness();
  guildId = String(h.emulator.guild.id);
  general = h.emulator.channels.general.id;
  // The emulator has three channels; the age-restricted one doubles as the log channel here.
  logChannel = h.emulator.channels.nsfw.id;
});
after(async () => {
  await h?.close();
});

test('registration: /mod needs Manage Server and only exists in servers; "Who made this?" needs Manage Messages', () => {
  const commands = h.emulator.commands(guildId) as { name: string; type: number; default_member_permissions?: string | null; contexts?: number[] }[];
  const slash = commands.find((c) => c.name === 'mod' && c.type === 1);
  assert.ok(slash, '/mod registered');
  assert.equal(slash.default_member_permissions, String(PermissionFlagsBits.ManageGuild));
  assert.deepEqual(slash.contexts, [0]);
  const menu = commands.find((c) => c.name === 'Who made this?' && c.type === 3);
  assert.ok(menu, 'message context menu registered');
  assert.equal(menu.default_member_permissions, String(PermissionFlagsBits.ManageMessages));
});

test('a member without Manage Server is refused by the handler even when the command reaches it', async () => {
  const member = h.emulator.users.member;
  const settings = await mod(h, 'settings', {}, member);
  assert.match(settings.text, /Manage Server/);
  assert.doesNotMatch(settings.text, /Moderation settings/);
  const add = await mod(h, 'blocklist add', { term: 'teapot' }, member);
  assert.match(add.text, /Manage Server/);
  assert.deepEqual(h.bot.ctx.moderation.listTerms(guildId), [], 'nothing was added');
  // The owner (all permissions) passes.
  const owner = await mod(h, 'settings', {}, h.emulator.users.owner);
  assert.match(owner.text, /Moderation settings/);
});

test('log channel: a channel the bot cannot post in is refused; a usable one is confirmed there', async () => {
  const refused = await mod(h, 'logchannel set', { channel: h.emulator.channels.readonly.id });
  assert.match(refused.text, /cannot post/);
  assert.equal(h.bot.ctx.moderation.getSettings(guildId).logChannelId, null);
  const set = await mod(h, 'logchannel set', { channel: logChannel });
  assert.match(set.text, /will be reported in/);
  assert.equal(h.bot.ctx.moderation.getSettings(guildId).logChannelId, logChannel);
  await waitForMessage(h, logChannel, (m) => /now the moderation log/.test(m.content ?? ''));
});

test('a blocked word refuses every evasion privately, posts nothing publicly, and reaches the log with buttons', async () => {
  const added = await mod(h, 'blocklist add', { term: 'wizard', kind: 'word' });
  assert.match(added.text, /Added `wizard` \(word\) to the blocklist/);
  const publicBefore = publicMessages(h, general).length;
  const logBefore = h.emulator.messages(logChannel).length;
  for (const prompt of ['a w1z4rd in a hat', 'a w.i.z.a.r.d casting spells', 'a WIZARD', 'a ωizard']) {
    const text = await expectRefused(h, { prompt });
    assert.match(text, /blocked \(`wizard`\)/, prompt);
  }
  assert.equal(publicMessages(h, general).length, publicBefore, 'nothing public was posted');
  await h.emulator.waitFor(() => h.emulator.messages(logChannel).length >= logBefore + 4, 10_000, 'four log entries');
  const entry = h.emulator.messages(logChannel).at(-1)!;
  const text = textOf(entry);
  assert.match(text, /Prompt refused/);
  assert.match(text, new RegExp(`<@${h.emulator.users.member.id}>`));
  assert.match(text, new RegExp(`<#${general}>`));
  assert.match(text, /ωizard/);
  assert.match(text, /Matched: `wizard` \(server blocklist, word\)/);
  assert.match(text, /<t:\d+:f>/);
  const posts = h.emulator.requests.filter((r) => r.method === 'POST' && r.route === '/channels/:channelId/messages' && r.params.channelId === logChannel);
  assert.ok(posts.length >= 5);
  for (const post of posts) assert.deepEqual((post.body as { allowed_mentions?: { parse?: unknown[] } }).allowed_mentions?.parse, [], 'log posts never ping');
  assert.deepEqual(customIdsOf(entry), [`modlog:block:${h.emulator.users.member.id}`, 'modlog:dismiss']);
  // Ordinary prompts still pass, including words that contain the blocked one's letters.
  await expectImage(h, { prompt: 'a lizard on a rock', seed: 42 });
});

test('Block user in the log: refused for non-moderators; a moderator blocks, and that user is then refused', async () => {
  const member = h.emulator.users.member;
  const entry = [...h.emulator.messages(logChannel)].reverse().find((m) => customIdsOf(m).includes(`modlog:block:${member.id}`))!;
  const denied = await answerOf(h.emulator.clickButton({ message: entry.id, customId: `modlog:block:${member.id}`, user: member }));
  assert.ok(denied.ephemeral);
  assert.match(denied.text, /Manage Server/);
  assert.equal(h.bot.ctx.moderation.isUserBlocked(guildId, member.id), false);

  const click = h.emulator.clickButton({ message: entry.id, customId: `modlog:block:${member.id}`, user: h.emulator.users.admin });
  const update = await click.deferred(10_000);
  assert.equal(update.type, 7, 'the log entry is updated in place');
  const blocked = h.bot.ctx.moderation.getBlockedUser(guildId, member.id);
  assert.ok(blocked, 'blocked');
  assert.equal(blocked.blockedBy, h.emulator.users.admin.id);
  assert.match(blocked.reason ?? '', /moderation log/);
  const after = h.emulator.message(entry.id)!;
  assert.deepEqual(customIdsOf(after), [], 'acted on: nothing left to click (Dismiss alone is dropped too)');
  assert.match(textOf(after), new RegExp(`Outcome: .*blocked.*<@${h.emulator.users.admin.id}>`));

  const refusal = await expectRefused(h, { prompt: 'a red apple' });
  assert.match(refusal, /blocked from using this bot/);
  const list = await mod(h, 'user list');
  assert.match(list.text, new RegExp(`<@${member.id}>`));
  assert.match((await mod(h, 'user unblock', { user: member.id })).text, /can use the bot again/);
  assert.equal(h.bot.ctx.moderation.isUserBlocked(guildId, member.id), false);
});

test('Dismiss closes a log entry; /mod user block and unblock work with a reason', async () => {
  const entry = [...h.emulator.messages(logChannel)].reverse().find((m) => customIdsOf(m).includes('modlog:dismiss') && customIdsOf(m).length === 2)!;
  const click = h.emulator.clickButton({ message: entry.id, customId: 'modlog:dismiss', user: h.emulator.users.admin });
  assert.equal((await click.deferred(10_000)).type, 7);
  assert.deepEqual(customIdsOf(h.emulator.message(entry.id)!), []);
  assert.match(textOf(h.emulator.message(entry.id)!), /Dismissed/);

  const user = h.emulator.addUser({ username: 'spammer' });
  const block = await mod(h, 'user block', { user: user.id, reason: 'spam <@everyone>' });
  assert.match(block.text, /can no longer use the bot/);
  assert.equal(h.bot.ctx.moderation.getBlockedUser(guildId, user.id)?.reason, 'spam <@everyone>');
  assert.match(await expectRefused(h, { prompt: 'a boat' }, { user }), /blocked from using this bot/);
  assert.match((await mod(h, 'user block', { user: h.emulator.users.admin.id })).text, /cannot block yourself/);
});

test('the allowlist makes an exception to a blocked word', async () => {
  await mod(h, 'blocklist add', { term: 'bomb' });
  assert.match(await expectRefused(h, { prompt: 'a bomb on a table' }), /`bomb`/);
  const allowed = await mod(h, 'allowlist add', { term: 'bath bomb', kind: 'phrase' });
  assert.match(allowed.text, /to the allowlist/);
  await expectImage(h, { prompt: 'a bath bomb on a towel', seed: 42 });
  assert.match(await expectRefused(h, { prompt: 'a bomb on a table' }), /`bomb`/, 'the word alone is still blocked');
  const lists = await mod(h, 'allowlist list');
  assert.match(lists.text, /bath bomb/);
  // Built-in terms cannot be allowlisted.
  assert.match((await mod(h, 'allowlist add', { term: 'nude' })).text, /Not added: .*built-in list/);
});

test('an invalid regex is refused with the reason; a valid one blocks', async () => {
  const bad = await mod(h, 'blocklist add', { term: 'dra(gon', kind: 'regex' });
  assert.match(bad.text, /Not added: That regex cannot be used: .*missing closing \)/);
  assert.ok(!h.bot.ctx.moderation.listTerms(guildId, 'block').some((t) => t.term === 'dra(gon'));
  const good = await mod(h, 'blocklist add', { term: 'dra+gons?', kind: 'regex' });
  assert.match(good.text, /Added/);
  assert.match(await expectRefused(h, { prompt: 'a draaagon' }), /dra\+gons\?/);
  const removed = await mod(h, 'blocklist remove', { term: 'dra+gons?' });
  assert.match(removed.text, /Removed/);
  assert.match((await mod(h, 'blocklist remove', { term: 'unicorn' })).text, /Not removed: .*not on the block list/);
});

test('settings show the configuration, term lists and recent changes, and survive a restart', async () => {
  await mod(h, 'nsfw', { mode: 'age-restricted' });
  await mod(h, 'spoiler', { enabled: true });
  await mod(h, 'limits', { max_steps: 20 });
  const before = await mod(h, 'settings');
  for (const pattern of [new RegExp(`Log channel: <#${logChannel}>`), /NSFW prompts: age-restricted channels only/, /Flagged images: spoilered/, /Max steps\*\*: server 20/, /Blocklist: 2: `wizard`, `bomb`/, /Allowlist: 1: `bath bomb`/, /Recent changes: .*added `bomb` to the blocklist/s, new RegExp(`<@${h.emulator.users.admin.id}> set limits.maxSteps → 20`)]) {
    assert.match(before.text, pattern);
  }

  await h.restart();
  const afterRestart = await mod(h, 'settings');
  for (const pattern of [new RegExp(`Log channel: <#${logChannel}>`), /NSFW prompts: age-restricted channels only/, /Flagged images: spoilered/, /Max steps\*\*: server 20/, /Blocklist: 2: `wizard`, `bomb`/]) {
    assert.match(afterRestart.text, pattern);
  }
  const logBefore = h.emulator.messages(logChannel).length;
  assert.match(await expectRefused(h, { prompt: 'a w1zard' }), /`wizard`/);
  await h.emulator.waitFor(() => h.emulator.messages(logChannel).length > logBefore, 10_000, 'a log entry after the restart');
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
