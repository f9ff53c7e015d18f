// The small pure parts of the message-based img2img paths: which image a message offers, the prompt left once the
// bot's mention is removed, and the strength typed into the Reimagine modal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromRawMessage, messageImageUrl } from '../../src/discord/messageImage.ts';
import { mentionsInText, promptFromMention } from '../../src/discord/replyWithImage.ts';
import { parseStrength } from '../../src/commands/reimagine.ts';
import { RequestError } from '../../src/discord/requests.ts';

test('messageImageUrl: the first image attachment, single images before a grid, embeds last', () => {
  const cdn = 'https://cdn.discordapp.com/attachments/1/2';
  assert.equal(messageImageUrl(fromRawMessage({ attachments: [{ url: `${cdn}/notes.txt`, content_type: 'text/plain', filename: 'notes.txt' }, { url: `${cdn}/a.png`, content_type: 'image/png', filename: 'a.png' }] })), `${cdn}/a.png`);
  assert.equal(messageImageUrl(fromRawMessage({ attachments: [{ url: `${cdn}/photo.JPG`, filename: 'photo.JPG' }] })), `${cdn}/photo.JPG`, 'by file name when there is no content type');
  const result = { attachments: ['grid.png', '1-5.png', '2-6.png'].map((filename) => ({ url: `${cdn}/${filename}`, content_type: 'image/png', filename })), embeds: [{ image: { url: `${cdn}/grid.png` } }] };
  assert.equal(messageImageUrl(fromRawMessage(result)), `${cdn}/1-5.png`);
  assert.equal(messageImageUrl(fromRawMessage({ attachments: [{ url: `${cdn}/grid.png`, content_type: 'image/png', filename: 'grid.png' }] })), `${cdn}/grid.png`, 'a grid alone is still an image');
  assert.equal(messageImageUrl(fromRawMessage({ embeds: [{ image: { url: 'attachment://x.png' } }, { image: { url: 'https://media.discordapp.net/x.png' } }] })), 'https://media.discordapp.net/x.png');
  assert.equal(messageImageUrl(fromRawMessage({ attachments: [], embeds: [{}] })), undefined);
});

test('promptFromMention removes the bot’s mentions (both forms) and nothing else', () => {
  assert.equal(promptFromMention('<@123> as a watercolor', '123'), 'as a watercolor');
  assert.equal(promptFromMention('make it <@!123>  blue <@456>', '123'), 'make it blue <@456>');
  assert.equal(promptFromMention('<@123>', '123'), '');
  assert.equal(promptFromMention('<@1234> hi', '123'), '<@1234> hi');
  assert.ok(mentionsInText('hey <@!123>', '123'));
  assert.ok(!mentionsInText('hey <@1234>', '123'));
  assert.ok(!mentionsInText('nice one', '123'));
});

test('parseStrength accepts (0, 1], decimal commas and percentages; empty is the default', () => {
  assert.equal(parseStrength(''), 0.8);
  assert.equal(parseStrength(undefined), 0.8);
  assert.equal(parseStrength(' 0.35 '), 0.35);
  assert.equal(parseStrength('0,6'), 0.6);
  assert.equal(parseStrength('60%'), 0.6);
  assert.equal(parseStrength('1'), 1);
  assert.equal(parseStrength('.5'), 0.5);
  for (const bad of ['0', '1.5', '-0.2', 'abc', '150%', '0x1', '1e-1', 'NaN', 'Infinity', '0.5.5']) {
    assert.throws(() => parseStrength(bad), RequestError, bad);
  }
});
