import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOB_ACTIONS, jobButtonId, modalId, parseJobButtonId, parseModalId } from '../../src/discord/customIds.ts';

const JOB = '3f2b9c1e-7a4d-4e0b-9c55-0123456789ab';

test('job button ids round-trip for every action, with and without an image index, within 100 characters', () => {
  for (const action of JOB_ACTIONS) {
    const plain = jobButtonId(action, JOB);
    assert.deepEqual(parseJobButtonId(plain), { action, jobId: JOB });
    for (const index of [0, 1, 2, 3]) {
      const id = jobButtonId(action, JOB, index);
      assert.ok(id.length <= 100, id);
      assert.deepEqual(parseJobButtonId(id), { action, jobId: JOB, index });
    }
  }
});

test('job button ids reject what the bot never made', () => {
  const bad = [
    '',
    'img',
    `img:reroll`,
    `btn:reroll:${JOB}`,
    `img:explode:${JOB}`,
    `img:REROLL:${JOB}`,
    `img:reroll:not-a-job!`,
    `img:reroll:abc`,
    `img:reroll:${'a'.repeat(65)}`,
    `img:vary:${JOB}:4`,
    `img:vary:${JOB}:-1`,
    `img:vary:${JOB}:1.5`,
    `img:vary:${JOB}:x`,
    `img:vary:${JOB}:1:2`,
  ];
  for (const id of bad) assert.equal(parseJobButtonId(id), undefined, id);
});

test('modal ids round-trip for job ids and message ids', () => {
  assert.deepEqual(parseModalId(modalId('remix', JOB)), { kind: 'remix', ref: JOB });
  assert.deepEqual(parseModalId(modalId('reimagine', '1234567890123456789')), { kind: 'reimagine', ref: '1234567890123456789' });
});

test('modal ids reject other shapes', () => {
  for (const id of ['modal:remix', 'modal::abc', 'modal:Remix:abc', 'modal:remix:a:b', 'modal:remix:ab c', `modal:remix:${'1'.repeat(81)}`, 'img:remix:abc', 'xmodal:remix:abc']) {
    assert.equal(parseModalId(id), undefined, id);
  }
});
