// Discord REST replies are parsed, not cast: the fields the bot reads are checked, nulls become undefined, unknown
// fields pass, and a reply without what the bot needs fails at the call with the request and the field named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoModRulesReply, createdReply, DiscordReplyError, editedReply, messageWithImages, parseReply } from '../../src/discord/restReplies.ts';

const refused = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, (err: unknown) => err instanceof DiscordReplyError && pattern.test(err.message));

test('a posted message must carry its id (a snowflake); extra fields are kept', () => {
  assert.deepEqual(parseReply(createdReply, { id: '123456789012345678', content: 'x' }, 'a new message'), { id: '123456789012345678', content: 'x' });
  refused(() => parseReply(createdReply, {}, 'a new message'), /^Discord's reply to a new message is not what the bot expects \(id: /);
  refused(() => parseReply(createdReply, { id: 'undefined' }, 'a new message'), /snowflake/);
  refused(() => parseReply(createdReply, '<html>bad gateway</html>', 'a new message'), /\(the reply\)/);
  assert.equal(parseReply(editedReply, {}, 'an edit').id, undefined, 'an edit may come back without an id');
});

test('messages read for images: nulls become undefined, a wrong type is refused', () => {
  const reply = parseReply(messageWithImages, { attachments: [{ url: 'https://cdn.discordapp.com/a.png', content_type: null, filename: 'a.png' }], embeds: [{ image: null }] }, 'a message');
  assert.equal(reply.attachments?.[0]?.content_type, undefined);
  assert.equal(reply.embeds?.[0]?.image, undefined);
  refused(() => parseReply(messageWithImages, { attachments: [{ url: 5 }] }, 'a message'), /attachments\.0\.url/);
});

test('AutoMod rules: keyword lists must be lists of strings', () => {
  const rules = parseReply(autoModRulesReply, [{ id: '1', name: 'r', trigger_type: 1, trigger_metadata: { keyword_filter: ['bad*'], regex_patterns: null } }], 'rules');
  assert.deepEqual(rules[0]?.trigger_metadata?.keyword_filter, ['bad*']);
  refused(() => parseReply(autoModRulesReply, [{ trigger_metadata: { keyword_filter: 'bad' } }], 'rules'), /0\.trigger_metadata\.keyword_filter/);
  refused(() => parseReply(autoModRulesReply, { rules: [] }, 'rules'), /expected array/);
});
