// `npm run invite`: the URL carries both scopes and exactly the permissions the bot needs, and the application id
// comes from DISCORD_CLIENT_ID or from the bot token's first segment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermissionFlagsBits } from 'discord.js';
import { applicationIdFromEnv, applicationIdFromToken, inviteUrl, main, permissionBits } from '../../src/cli/invite.ts';

const APP_ID = '1234567890123456789';
// a token's first segment is the bot user id in base64 (Discord omits the padding)
const TOKEN = `${Buffer.from(APP_ID).toString('base64').replace(/=+$/, '')}.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB`;

test('the invite URL has the bot and applications.commands scopes and the minimal permissions', () => {
  const url = new URL(inviteUrl(APP_ID));
  assert.equal(url.origin + url.pathname, 'https://discord.com/oauth2/authorize');
  assert.equal(url.searchParams.get('client_id'), APP_ID);
  assert.deepEqual(url.searchParams.get('scope')!.split(' ').sort(), ['applications.commands', 'bot']);
  const bits = BigInt(url.searchParams.get('permissions')!);
  const expected =
    PermissionFlagsBits.ViewChannel |
    PermissionFlagsBits.SendMessages |
    PermissionFlagsBits.SendMessagesInThreads |
    PermissionFlagsBits.EmbedLinks |
    PermissionFlagsBits.AttachFiles |
    PermissionFlagsBits.ReadMessageHistory;
  assert.equal(bits, expected);
  assert.equal(bits, permissionBits());
  for (const notNeeded of ['ManageMessages', 'Administrator', 'MentionEveryone', 'UseExternalEmojis', 'ManageChannels'] as const) {
    assert.equal(bits & PermissionFlagsBits[notNeeded], 0n, `${notNeeded} is not asked for`);
  }
});

test('a guild id preselects the server', () => {
  const url = new URL(inviteUrl(APP_ID, { guildId: '987654321098765432' }));
  assert.equal(url.searchParams.get('guild_id'), '987654321098765432');
  assert.equal(url.searchParams.get('disable_guild_select'), 'true');
});

test('the application id comes from DISCORD_CLIENT_ID, else from the token', () => {
  assert.equal(applicationIdFromToken(TOKEN), APP_ID);
  assert.equal(applicationIdFromToken('not-a-token'), undefined);
  assert.equal(applicationIdFromEnv({ DISCORD_TOKEN: TOKEN }), APP_ID);
  assert.equal(applicationIdFromEnv({ DISCORD_CLIENT_ID: '111111111111111111', DISCORD_TOKEN: TOKEN }), '111111111111111111');
  assert.throws(() => applicationIdFromEnv({}), /set DISCORD_CLIENT_ID/);
  assert.throws(() => applicationIdFromEnv({ DISCORD_CLIENT_ID: 'abc' }), /must be the application id/);
  assert.throws(() => applicationIdFromEnv({ DISCORD_TOKEN: 'garbage.token.here' }), (err: Error) => /does not look like a bot token/.test(err.message) && !err.message.includes('garbage'));
});

test('main prints the URL first and never the token', () => {
  const lines: string[] = [];
  assert.equal(main({ DISCORD_TOKEN: TOKEN }, (l) => lines.push(l)), 0);
  assert.equal(new URL(lines[0]!).searchParams.get('client_id'), APP_ID);
  assert.ok(!lines.join('\n').includes(TOKEN));
  assert.ok(lines.some((l) => l.startsWith('  AttachFiles:')));
});

test('the intents printed are the ones the client asks for, Message Content only when enabled', async () => {
  const { intentsFor } = await import('../../src/discord/client.ts');
  const plain: string[] = [];
  main({ DISCORD_TOKEN: TOKEN }, (l) => plain.push(l));
  const line = plain.find((l) => l.startsWith('Gateway intents'))!;
  assert.equal(line, 'Gateway intents the bot asks for: Guilds, Guild Messages, Direct Messages, AutoMod Configuration.');
  assert.equal(intentsFor({ messageContentIntent: false }).length, 4, 'one label per intent the client uses');
  const withContent: string[] = [];
  main({ DISCORD_TOKEN: TOKEN, MESSAGE_CONTENT_INTENT: 'true' }, (l) => withContent.push(l));
  assert.match(withContent.find((l) => l.startsWith('Gateway intents'))!, /AutoMod Configuration, Message Content \(privileged/);
  assert.equal(intentsFor({ messageContentIntent: true }).length, 5);
});

test('Manage Server is offered as a second, optional URL', () => {
  const lines: string[] = [];
  main({ DISCORD_CLIENT_ID: APP_ID }, (l) => lines.push(l));
  const at = lines.findIndex((l) => /^Optional: Manage Server/.test(l));
  assert.ok(at > 0, lines.join('\n'));
  const optional = BigInt(new URL(lines[at + 1]!).searchParams.get('permissions')!);
  assert.equal(optional, permissionBits() | PermissionFlagsBits.ManageGuild);
  assert.equal(BigInt(new URL(lines[0]!).searchParams.get('permissions')!) & PermissionFlagsBits.ManageGuild, 0n, 'not in the default URL');
});
