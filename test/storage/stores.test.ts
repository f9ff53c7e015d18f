import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerationStore, JobStore, openDatabase, type Database } from '../../src/storage/index.ts';

interface Params {
  prompt: string;
  seed: number;
}
interface Result {
  seeds: number[];
  files: string[];
}

/** A database in a fresh temp dir and a clock the test moves by hand. */
function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'imagine-stores-'));
  const clock = { now: 1_000_000 };
  const now = () => clock.now;
  const state = { db: openDatabase(dir, { migrations: [] }) };
  t.after(() => {
    state.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const reopen = (): Database => {
    state.db.close();
    state.db = openDatabase(dir, { migrations: [] });
    return state.db;
  };
  return { dir, clock, now, state, reopen };
}

function newJob(id: string, createdAt: number, userId = 'u1') {
  return {
    id,
    userId,
    guildId: 'g1',
    channelId: 'c1',
    applicationId: 'app',
    interactionToken: `token-${id}`,
    tokenExpiresAt: createdAt + 15 * 60_000,
    params: { prompt: `prompt ${id}`, seed: 42 },
    createdAt,
  };
}

test('jobs move queued -> running -> succeeded -> delivered; wrong transitions are refused', (t) => {
  const { state, now, clock } = setup(t);
  const jobs = new JobStore<Params, Result>(state.db, now);
  const inserted = jobs.insert(newJob('j1', clock.now));
  assert.equal(inserted.state, 'queued');
  assert.deepEqual(inserted.params, { prompt: 'prompt j1', seed: 42 });
  assert.equal(inserted.interactionToken, 'token-j1');
  assert.throws(() => jobs.insert(newJob('j1', clock.now)), /UNIQUE/);

  assert.equal(jobs.markSucceeded('j1', { seeds: [1], files: [] }), false, 'cannot succeed before running');
  assert.equal(jobs.claimDelivery('j1'), false, 'nothing to deliver yet');
  clock.now += 10;
  assert.equal(jobs.markRunning('j1'), true);
  assert.equal(jobs.markRunning('j1'), false);
  assert.equal(jobs.setMessageId('j1', 'm1'), true);
  clock.now += 10;
  assert.equal(jobs.markSucceeded('j1', { seeds: [42, 43], files: ['images/j1-0.png'] }), true);
  assert.equal(jobs.markCancelled('j1'), false, 'too late to cancel');
  const done = jobs.get('j1')!;
  assert.equal(done.state, 'succeeded');
  assert.deepEqual(done.result, { seeds: [42, 43], files: ['images/j1-0.png'] });
  assert.equal(done.attempts, 1);
  assert.equal(done.messageId, 'm1');
  assert.equal(done.startedAt, 1_000_010);
  assert.equal(done.finishedAt, 1_000_020);

  assert.equal(jobs.markDelivered('j1'), true);
  assert.equal(jobs.markDelivered('j1'), true, 'idempotent');
  assert.equal(jobs.get('j1')!.state, 'delivered');
  assert.equal(jobs.get('j1')!.deliveredAt, 1_000_020);
  assert.equal(jobs.markDelivered('nope'), false);

  jobs.insert(newJob('j2', clock.now));
  assert.equal(jobs.markCancelled('j2'), true);
  jobs.insert(newJob('j3', clock.now));
  jobs.markRunning('j3');
  assert.equal(jobs.markTimedOut('j3'), true);
  assert.equal(jobs.get('j3')!.error, 'time limit exceeded');
  jobs.insert(newJob('j4', clock.now));
  jobs.markRunning('j4');
  assert.equal(jobs.markFailed('j4', 'out of memory'), true);
  assert.equal(jobs.markFailed('j4', 'again'), false);
  assert.deepEqual(jobs.countByState(), { queued: 0, running: 0, succeeded: 0, delivered: 1, failed: 1, cancelled: 1, timed_out: 1 });
});

test('claimDelivery is true for exactly one caller, also across two connections', (t) => {
  const { state, now, dir } = setup(t);
  const jobs = new JobStore<Params, Result>(state.db, now);
  jobs.insert(newJob('j1', 1));
  jobs.markRunning('j1');
  jobs.markSucceeded('j1', { seeds: [1], files: [] });
  const other = openDatabase(dir, { migrations: [] });
  t.after(() => other.close());
  const otherJobs = new JobStore<Params, Result>(other, now);
  const claims = [jobs.claimDelivery('j1'), otherJobs.claimDelivery('j1'), jobs.claimDelivery('j1')];
  assert.deepEqual(claims, [true, false, false]);
  // A failed post gives the claim back so a retry can take it, once.
  assert.equal(jobs.releaseDelivery('j1'), true);
  assert.equal(jobs.releaseDelivery('j1'), false);
  assert.deepEqual([otherJobs.claimDelivery('j1'), jobs.claimDelivery('j1')], [true, false]);
  assert.equal(otherJobs.markDelivered('j1'), true);
  assert.equal(jobs.claimDelivery('j1'), false, 'delivered jobs cannot be claimed again');
});

test('unfinished() after a simulated crash lists queued, running and undelivered jobs in creation order', (t) => {
  const { state, now, reopen } = setup(t);
  let jobs = new JobStore<Params, Result>(state.db, now);
  // Inserted out of creation order on purpose.
  jobs.insert(newJob('late', 300));
  jobs.insert(newJob('early', 100));
  jobs.insert(newJob('mid', 200));
  jobs.insert(newJob('done', 50));
  jobs.insert(newJob('gone', 60));
  jobs.markRunning('early'); // left running by the crash
  jobs.markRunning('mid');
  jobs.markSucceeded('mid', { seeds: [7], files: ['images/mid-0.png'] });
  assert.equal(jobs.claimDelivery('mid'), true); // crashed while posting
  jobs.markRunning('done');
  jobs.markSucceeded('done', { seeds: [1], files: [] });
  jobs.markDelivered('done');
  jobs.markCancelled('gone');

  // The process dies here: no further updates. A new process opens the same file.
  jobs = new JobStore<Params, Result>(reopen(), now);
  const left = jobs.unfinished();
  assert.deepEqual(left.map((j) => [j.id, j.state]), [
    ['early', 'running'],
    ['mid', 'succeeded'],
    ['late', 'queued'],
  ]);
  assert.deepEqual(left[1]!.result, { seeds: [7], files: ['images/mid-0.png'] });
  assert.equal(left[0]!.interactionToken, 'token-early');

  assert.equal(jobs.requeueInterrupted(), 2);
  assert.equal(jobs.get('early')!.state, 'queued');
  assert.equal(jobs.get('early')!.attempts, 1, 'the interrupted attempt still counts');
  assert.equal(jobs.claimDelivery('mid'), true, 'the dead process\'s claim was released');
  assert.equal(jobs.markRunning('early'), true);
  assert.equal(jobs.get('early')!.attempts, 2);
});

test('recent, byUser, prune and token forgetting', (t) => {
  const { state, now, clock } = setup(t);
  const jobs = new JobStore<Params, Result>(state.db, now);
  for (let i = 1; i <= 5; i++) jobs.insert(newJob(`j${i}`, i * 1000, i % 2 ? 'odd' : 'even'));
  assert.deepEqual(jobs.recent(3).map((j) => j.id), ['j5', 'j4', 'j3']);
  assert.deepEqual(jobs.byUser('even', 10).map((j) => j.id), ['j4', 'j2']);

  jobs.markCancelled('j1');
  clock.now += 60_000;
  jobs.markCancelled('j2');
  // j1 finished a minute before j2; only j1 is older than 30 s. Unfinished j3..j5 are never pruned.
  assert.equal(jobs.prune(30_000), 1);
  assert.equal(jobs.get('j1'), undefined);
  assert.ok(jobs.get('j2'));
  clock.now += 3_600_000;
  assert.equal(jobs.prune(30_000), 1);
  assert.deepEqual(jobs.recent(10).map((j) => j.id), ['j5', 'j4', 'j3']);

  // Tokens expire 15 minutes after creation; the clock is past that for all of them.
  assert.equal(jobs.forgetExpiredTokens(), 3);
  assert.equal(jobs.get('j3')!.interactionToken, null);
  assert.equal(jobs.setInteraction('j3', { applicationId: 'app', token: 'fresh', expiresAt: clock.now + 1 }), true);
  assert.equal(jobs.forgetExpiredTokens(), 0);
  assert.equal(jobs.get('j3')!.interactionToken, 'fresh');
});

test('generations: lookups by message and user, mark-deleted, delete, and survive job pruning', (t) => {
  const { state, now, clock } = setup(t);
  const jobs = new JobStore<Params, Result>(state.db, now);
  const generations = new GenerationStore(state.db, now);
  jobs.insert(newJob('j1', 1));
  const base = { guildId: 'g1', channelId: 'c1', prompt: 'a red fox', negativePrompt: 'blurry', steps: 20, sampler: 'euler_a', model: 'sd15' };
  const post = generations.insertMany([
    { ...base, jobId: 'j1', userId: 'alice', messageId: 'm1', messageLink: 'https://discord.com/channels/g1/c1/m1', imageIndex: 1, seed: 43 },
    { ...base, jobId: 'j1', userId: 'alice', messageId: 'm1', messageLink: 'https://discord.com/channels/g1/c1/m1', imageIndex: 0, seed: 4294967295 },
  ]);
  assert.equal(post.length, 2);
  clock.now += 1000;
  generations.insert({ ...base, userId: 'alice', messageId: 'm2', seed: 7, guildId: 'g2' });
  clock.now += 1000;
  generations.insert({ ...base, userId: 'bob', messageId: 'm3', seed: 8 });

  const byMessage = generations.byMessageId('m1');
  assert.deepEqual(byMessage.map((g) => [g.imageIndex, g.seed]), [[0, 4294967295], [1, 43]]);
  assert.equal(byMessage[0]!.userId, 'alice');
  assert.equal(byMessage[0]!.prompt, 'a red fox');
  assert.equal(byMessage[0]!.negativePrompt, 'blurry');
  assert.equal(byMessage[0]!.messageLink, 'https://discord.com/channels/g1/c1/m1');
  assert.equal(byMessage[0]!.deleted, false);
  assert.deepEqual(generations.byMessageId('nope'), []);
  assert.deepEqual(generations.byJob('j1').map((g) => g.seed), [4294967295, 43]);

  assert.deepEqual(generations.byUser('alice').map((g) => g.messageId), ['m2', 'm1', 'm1']);
  assert.deepEqual(generations.byUser('alice', { guildId: 'g1' }).map((g) => g.messageId), ['m1', 'm1']);
  assert.deepEqual(generations.byUser('alice', { limit: 1 }).map((g) => g.messageId), ['m2']);
  assert.deepEqual(generations.byUser('alice', { before: clock.now - 1000 }).map((g) => g.messageId), ['m1', 'm1']);

  // A moderator takes m1 down: hidden from the user's list, still traceable by message.
  assert.equal(generations.markDeletedByMessage('m1', 'mod-1'), 2);
  assert.equal(generations.markDeletedByMessage('m1', 'mod-2'), 0, 'already marked');
  assert.deepEqual(generations.byUser('alice').map((g) => g.messageId), ['m2']);
  assert.equal(generations.byUser('alice', { includeDeleted: true }).length, 3);
  const taken = generations.byMessageId('m1')[0]!;
  assert.equal(taken.deleted, true);
  assert.equal(taken.deletedBy, 'mod-1');
  assert.equal(taken.deletedAt, clock.now);

  // Pruning the job keeps the record (job_id cleared by the foreign key).
  jobs.markCancelled('j1');
  clock.now += 10_000;
  assert.equal(jobs.prune(1), 1);
  assert.equal(generations.byMessageId('m1')[0]!.jobId, null);

  assert.equal(generations.deleteByMessage('m3'), 1);
  assert.deepEqual(generations.byUser('bob'), []);
  assert.equal(generations.deleteByUser('alice'), 3);
  assert.deepEqual(generations.byMessageId('m1'), []);
});

test('foreign keys are enforced: a generation cannot point at a job that never existed', (t) => {
  const { state } = setup(t);
  const generations = new GenerationStore(state.db);
  assert.throws(
    () => generations.insert({ jobId: 'ghost', channelId: 'c', userId: 'u', messageId: 'm', prompt: 'p', seed: 1, steps: 1 }),
    /FOREIGN KEY/,
  );
});
