// The progress reporter under fake time: at most one edit per interval per job, only the newest pending body sent,
// nothing stale or late, one edit in flight at a time, and the final update after everything and alone.
import { test, beforeEach, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressReporter } from '../../src/discord/progressReporter.ts';

let now = 0;
const sent: string[] = [];

beforeEach(() => {
  now = 1_000_000;
  sent.length = 0;
  mock.timers.enable({ apis: ['setTimeout'] });
});
afterEach(() => {
  mock.timers.reset();
});

function reporter(onError?: (key: string, err: unknown) => void): ProgressReporter {
  return new ProgressReporter({ intervalMs: 1000, now: () => now, onError });
}

/** Advance fake time (and the clock the reporter reads), then let promise callbacks run. */
async function advance(ms: number): Promise<void> {
  now += ms;
  mock.timers.tick(ms);
  await flush();
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

const send = (label: string) => async () => {
  sent.push(label);
};

test('the first update goes out at once; later ones wait for the interval and are coalesced to the newest', async () => {
  const r = reporter();
  r.update('job', send('step 1'));
  await advance(0);
  assert.deepEqual(sent, ['step 1']);

  r.update('job', send('step 2'));
  r.update('job', send('step 3'));
  r.update('job', send('step 4'));
  await advance(500);
  assert.deepEqual(sent, ['step 1'], 'nothing before the interval');
  await advance(500);
  assert.deepEqual(sent, ['step 1', 'step 4'], 'only the newest, never the stale ones');
  await advance(5000);
  assert.deepEqual(sent, ['step 1', 'step 4'], 'nothing sent late');
});

test('keys are independent', async () => {
  const r = reporter();
  r.update('a', send('a1'));
  r.update('b', send('b1'));
  await advance(0);
  assert.deepEqual(sent.sort(), ['a1', 'b1']);
});

test('one edit in flight at a time: a slow edit holds the next, which is still the newest', async () => {
  const r = reporter();
  let release!: () => void;
  r.update('job', () => new Promise<void>((resolve) => {
    sent.push('slow');
    release = resolve;
  }));
  await advance(0);
  r.update('job', send('step 2'));
  r.update('job', send('step 3'));
  await advance(3000);
  assert.deepEqual(sent, ['slow'], 'waits for the edit in flight (a 429 being waited out, say)');
  release();
  await flush();
  await advance(0);
  assert.deepEqual(sent, ['slow', 'step 3']);
});

test('the final update waits for the edit in flight, drops pending progress, and nothing follows it', async () => {
  const r = reporter();
  let release!: () => void;
  r.update('job', () => new Promise<void>((resolve) => {
    sent.push('step 1');
    release = resolve;
  }));
  await advance(0);
  r.update('job', send('step 2'));
  const final = r.final('job', async () => {
    sent.push('final');
    return 'posted';
  });
  await flush();
  assert.deepEqual(sent, ['step 1'], 'the final does not overtake the edit in flight');
  release();
  assert.equal(await final, 'posted');
  r.update('job', send('late step'));
  await advance(5000);
  assert.deepEqual(sent, ['step 1', 'final'], 'the pending step 2 was dropped and the late one ignored');
  assert.equal(r.size, 0, 'the key is forgotten');
});

test('a final right after an update does not wait for the interval', async () => {
  const r = reporter();
  r.update('job', send('step 1'));
  await advance(0);
  r.update('job', send('step 2'));
  await r.final('job', send('final'));
  assert.deepEqual(sent, ['step 1', 'final']);
});

test('a failed edit is reported and does not block the next one', async () => {
  const errors: string[] = [];
  const r = reporter((key, err) => errors.push(`${key}: ${(err as Error).message}`));
  r.update('job', async () => {
    throw new Error('boom');
  });
  await advance(0);
  assert.deepEqual(errors, ['job: boom']);
  r.update('job', send('step 2'));
  await advance(1000);
  assert.deepEqual(sent, ['step 2']);
});

test('a failing final rejects to its caller', async () => {
  const r = reporter();
  await assert.rejects(r.final('job', async () => {
    throw new Error('gone');
  }), /gone/);
  r.update('job', send('after'));
  await advance(2000);
  assert.deepEqual(sent, []);
});

test('drop() forgets a key without sending its pending update', async () => {
  const r = reporter();
  r.update('job', send('step 1'));
  await advance(0);
  r.update('job', send('step 2'));
  r.drop('job');
  r.update('job', send('step 3'));
  await advance(5000);
  assert.deepEqual(sent, ['step 1']);
  assert.equal(r.size, 0);
});
