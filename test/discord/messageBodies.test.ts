import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cancelledBody, failedBody, forDiscordJs, formatDuration, notice, progressBar, progressBody, queuedBody, quotePrompt, resultBody, resultButtons, type MessageBody } from '../../src/discord/messageBodies.ts';
import type { JobParams, JobResult } from '../../src/jobs/types.ts';

const JOB = '3f2b9c1e-7a4d-4e0b-9c55-0123456789ab';
/** The region tools on a one-picture result (src/discord/editIds.ts). */
const EDIT_IDS = ['region', 'zoom2', 'zoom15', 'zoomc', 'pan-left', 'pan-right', 'pan-up', 'pan-down'].map((op) => `edit:${op}:${JOB}:0`);
const params: JobParams = {
  kind: 'txt2img',
  action: 'imagine',
  prompt: 'a cat @everyone <@&1> `rm -rf`\nsecond line',
  negativePrompt: 'blurry',
  seed: 42,
  steps: 20,
  guidance: 7,
  sampler: 'euler',
  width: 512,
  height: 768,
  count: 1,
  channel: { ageRestricted: false, uploadLimit: 10 << 20 },
};
function result(count: number): JobResult {
  return {
    files: Array.from({ length: count }, (_, i) => ({ path: `/x/${i + 1}.png`, seed: 42 + i, nsfw: false, width: 512, height: 768 })),
    gridPath: count > 1 ? '/x/grid.png' : undefined,
    sampler: 'euler',
    model: 'tiny-sd15',
    stepsRun: 20,
    promptTruncated: false,
    elapsedMs: 65_000,
  };
}

function ids(body: MessageBody): string[] {
  return (body.components ?? []).flatMap((row) => row.components.map((c) => ('custom_id' in c ? c.custom_id : '')));
}

test('every body disables pings', () => {
  const bodies: MessageBody[] = [
    queuedBody(JOB, params, 3),
    queuedBody(JOB, params, undefined, 'note'),
    progressBody(JOB, params, { step: 5, total: 20, elapsedMs: 4000 }, true),
    resultBody(JOB, params, result(1), '123', [{ filename: '42.png' }]),
    failedBody(params, 'broke'),
    cancelledBody(params),
    notice('hello <@123>'),
  ];
  for (const body of bodies) {
    assert.deepEqual(body.allowed_mentions.parse, []);
    assert.equal(body.allowed_mentions.users, undefined, 'no user is pinged by these bodies');
  }
});

test('quotePrompt keeps prompts inert and short', () => {
  assert.equal(quotePrompt('a `b` c'), '`a ˋbˋ c`');
  assert.equal(quotePrompt('one\r\ntwo\n\nthree'), '`one two three`');
  assert.equal(quotePrompt('   '), '*(empty prompt)*');
  const long = quotePrompt('x'.repeat(500), 100);
  assert.equal(long.length, 102);
  assert.ok(long.endsWith('…`'));
});

test('formatDuration and progressBar', () => {
  assert.equal(formatDuration(0), '0 s');
  assert.equal(formatDuration(59_400), '59 s');
  assert.equal(formatDuration(125_000), '2 min 05 s');
  assert.equal(formatDuration(-5), '0 s');
  assert.equal(progressBar(0, 10, 10), `\`${'░'.repeat(10)}\``);
  assert.equal(progressBar(5, 10, 10), `\`${'█'.repeat(5)}${'░'.repeat(5)}\``);
  assert.equal(progressBar(3, 0, 4), '`░░░░`');
});

test('queued: the position and a Cancel button', () => {
  const body = queuedBody(JOB, params, 3);
  assert.match(body.content!, /position \*\*3\*\*/);
  assert.match(body.content!, /`a cat @everyone <@&1> ˋrm -rfˋ second line`/);
  assert.deepEqual(ids(body), [`img:cancel:${JOB}`]);
  assert.match(queuedBody(JOB, params, undefined).content!, /Starting/);
});

test('progress: step i/n, elapsed time, an ETA while running, and the preview when there is one', () => {
  const running = progressBody(JOB, params, { step: 5, total: 20, elapsedMs: 10_000 }, true);
  assert.match(running.content!, /step 5\/20 · 10 s · about 30 s left/);
  assert.deepEqual(running.embeds?.[0]?.image, { url: 'attachment://preview.webp' });
  assert.deepEqual(running.attachments?.map((a) => a.filename), ['preview.webp']);
  assert.deepEqual(ids(running), [`img:cancel:${JOB}`]);
  const start = progressBody(JOB, params, { step: 0, total: 20, elapsedMs: 0 }, false);
  assert.doesNotMatch(start.content!, /left/);
  assert.deepEqual(start.embeds, [], 'no stale preview embed');
  assert.doesNotMatch(progressBody(JOB, params, { step: 20, total: 20, elapsedMs: 9000 }, false).content!, /left/);
});

test('result: embed with every setting, the image, and the buttons', () => {
  const body = resultBody(JOB, params, result(1), '123', [{ filename: '42.png' }]);
  const embed = body.embeds![0]!;
  const fields = Object.fromEntries(embed.fields!.map((f) => [f.name, f.value]));
  assert.deepEqual(
    [fields['Negative prompt'], fields.Seed, fields.Steps, fields.Guidance, fields.Sampler, fields.Size, fields.Model, fields.Time],
    ['`blurry`', '42', '20', '7', 'euler', '512×768', 'tiny-sd15', '1 min 05 s'],
  );
  assert.equal(fields.Strength, undefined);
  assert.match(embed.description!, /a cat/);
  assert.deepEqual(embed.image, { url: 'attachment://42.png' });
  assert.equal(embed.footer?.text, `job ${JOB}`);
  assert.equal(body.content, '<@123>');
  assert.deepEqual(ids(body), [...['reroll', 'vary', 'upscale', 'remix', 'delete'].map((a) => (a === 'vary' || a === 'upscale' ? `img:${a}:${JOB}:0` : `img:${a}:${JOB}`)), ...EDIT_IDS]);
});

test('result for several images: a seed range, the grid shown, V/U per image; spoilers are not the embed image', () => {
  const body = resultBody(JOB, { ...params, count: 4 }, result(4), '123', [{ filename: 'grid.png' }, { filename: '1-42.png' }]);
  const fields = Object.fromEntries(body.embeds![0]!.fields!.map((f) => [f.name, f.value]));
  assert.equal(fields.Seed, '42–45');
  assert.equal(body.embeds![0]!.image?.url, 'attachment://grid.png');
  assert.equal(body.components!.length, 3);
  for (const row of body.components!) assert.ok(row.components.length <= 5);
  assert.ok(ids(body).every((id) => id.length <= 100));
  assert.equal(new Set(ids(body)).size, ids(body).length, 'custom ids are unique');
  const spoilered = resultBody(JOB, params, result(1), '123', [{ filename: 'SPOILER_42.png', spoiler: true }]);
  assert.equal(spoilered.embeds![0]!.image, undefined);
});

test('img2img shows its strength; upscales get Delete and the region tools', () => {
  const img = resultBody(JOB, { ...params, kind: 'img2img', action: 'vary', strength: 0.45 }, result(1), '1', [{ filename: 'a.png' }]);
  assert.equal(img.embeds![0]!.fields!.find((f) => f.name === 'Strength')?.value, '0.45');
  assert.match(img.embeds![0]!.title!, /Variation of/);
  const up = resultButtons(JOB, { ...params, kind: 'upscale', upscale: { sourcePath: '/x', factor: 2, sourceIndex: 0 } }, 1);
  assert.deepEqual(up.flatMap((row) => row.components.map((c) => ('custom_id' in c ? c.custom_id : ''))), [`img:delete:${JOB}`, ...EDIT_IDS]);
});

test('failed and cancelled bodies clear buttons, embeds and files', () => {
  for (const body of [failedBody(params, 'It broke.'), cancelledBody(params), cancelledBody(params, 'Too slow.')]) {
    assert.deepEqual(body.components, []);
    assert.deepEqual(body.embeds, []);
    assert.deepEqual(body.attachments, []);
  }
  assert.match(failedBody(params, 'It broke.').content!, /It broke\./);
  assert.match(cancelledBody(params, 'Too slow.').content!, /Too slow\./);
});

test('forDiscordJs keeps the no-ping rule in discord.js’s option names', () => {
  assert.deepEqual(forDiscordJs(notice('hi')), { content: 'hi', allowedMentions: { parse: [] } });
  const body = forDiscordJs({ content: 'x', allowed_mentions: { parse: [], users: ['1'], replied_user: false } });
  assert.deepEqual(body.allowedMentions, { parse: [], users: ['1'], repliedUser: false });
});
