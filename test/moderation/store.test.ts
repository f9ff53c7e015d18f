// The SQLite store and the service's settings, audit log, blocked users and hourly job limit.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ModerationService } from '../../src/moderation/service.ts';
import { HOUR_MS, migrateModeration } from '../../src/moderation/store.ts';
import { GUILD, MOD, newService } from './helpers.ts';

const T0 = 1_700_000_000_000;
const USER = '300000000000000003';

describe('settings and audit log', () => {
  it('defaults, then every change is audited with who, what and when', () => {
    let now = T0;
    const service = newService(() => now);
    assert.deepEqual(service.getSettings(GUILD), {
      guildId: GUILD, logChannelId: null, nsfw: 'off', spoilerFlaggedImages: false, useAutoModRules: true,
      limits: { maxSteps: null, maxPixels: null, maxImagesPerJob: null, jobsPerUserPerHour: null },
    });
    service.setNsfwMode(GUILD, 'age-restricted', MOD);
    now += 1000;
    service.setLogChannel(GUILD, '400000000000000004', 'other-mod');
    now += 1000;
    service.setNsfwMode(GUILD, 'age-restricted', MOD); // no change: nothing logged
    service.addTerm(GUILD, { list: 'block', kind: 'word', term: 'spoon' }, MOD);
    service.removeTerm(GUILD, { list: 'block', term: 'spoon' }, MOD);
    service.blockUser(GUILD, USER, 'spam', MOD);
    service.unblockUser(GUILD, USER, MOD);
    assert.equal(service.unblockUser(GUILD, USER, MOD), false);

    const log = service.listAudit(GUILD).reverse();
    assert.deepEqual(log.map((e) => e.action), ['settings.update', 'settings.update', 'term.add', 'term.remove', 'user.block', 'user.unblock']);
    assert.deepEqual(log[0]!.detail, { nsfw: { from: 'off', to: 'age-restricted' } });
    assert.equal(log[0]!.actorId, MOD);
    assert.equal(log[0]!.at, T0);
    assert.deepEqual(log[1]!.detail, { logChannelId: { from: null, to: '400000000000000004' } });
    assert.equal(log[1]!.actorId, 'other-mod');
    assert.equal(log[1]!.at, T0 + 1000);
    assert.deepEqual(log[2]!.detail, { list: 'block', kind: 'word', term: 'spoon' });
    assert.deepEqual(log[4]!.detail, { userId: USER, reason: 'spam' });
    assert.equal(service.listAudit('another-guild').length, 0);
  });

  it('settings, terms and blocked users survive reopening a file database', () => {
    const dir = mkdtempSync(join(tmpdir(), 'moderation-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'bot.sqlite');
    {
      const db = new Database(file);
      const service = new ModerationService(db);
      service.setNsfwMode(GUILD, 'age-restricted', MOD);
      service.setSpoilerFlaggedImages(GUILD, true, MOD);
      service.setUseAutoModRules(GUILD, false, MOD);
      service.setLogChannel(GUILD, '555', MOD);
      assert.equal(service.setLimits(GUILD, { maxSteps: 30, jobsPerUserPerHour: 5 }, MOD).ok, true);
      service.addTerm(GUILD, { list: 'block', kind: 'regex', term: 'sp[o0]{2}n' }, MOD);
      service.blockUser(GUILD, USER, null, MOD);
      db.close();
    }
    const db = new Database(file);
    migrateModeration(db); // idempotent on an existing database
    const service = new ModerationService(db);
    const s = service.getSettings(GUILD);
    assert.equal(s.nsfw, 'age-restricted');
    assert.equal(s.spoilerFlaggedImages, true);
    assert.equal(s.useAutoModRules, false);
    assert.equal(s.logChannelId, '555');
    assert.deepEqual(s.limits, { maxSteps: 30, maxPixels: null, maxImagesPerJob: null, jobsPerUserPerHour: 5 });
    assert.deepEqual(service.listTerms(GUILD).map((t) => [t.list, t.kind, t.term, t.addedBy]), [['block', 'regex', 'sp[o0]{2}n', MOD]]);
    assert.equal(service.isUserBlocked(GUILD, USER), true);
    assert.equal(service.checkPrompt({ guildId: GUILD, channelIsAgeRestricted: false, prompt: 'a silver sp00n' }).allowed, false);
    assert.ok(service.listAudit(GUILD).length >= 7);
    db.close();
  });

  it('term changes take effect at once (the cached matcher is rebuilt)', () => {
    const service = newService();
    const prompt = 'a wooden spoon';
    assert.equal(service.checkPrompt({ guildId: GUILD, channelIsAgeRestricted: false, prompt }).allowed, true);
    service.addTerm(GUILD, { list: 'block', kind: 'word', term: 'spoon' }, MOD);
    assert.equal(service.checkPrompt({ guildId: GUILD, channelIsAgeRestricted: false, prompt }).allowed, false);
    assert.equal(service.addTerm(GUILD, { list: 'block', kind: 'word', term: 'spoon' }, MOD).ok, false, 'duplicate');
    assert.equal(service.removeTerm(GUILD, { list: 'block', term: 'spoon' }, MOD).ok, true);
    assert.equal(service.checkPrompt({ guildId: GUILD, channelIsAgeRestricted: false, prompt }).allowed, true);
    assert.equal(service.removeTerm(GUILD, { list: 'block', term: 'spoon' }, MOD).ok, false);
  });
});

describe('blocked users', () => {
  it('are per server', () => {
    const service = newService();
    service.blockUser(GUILD, USER, 'abuse', MOD);
    assert.equal(service.isUserBlocked(GUILD, USER), true);
    assert.equal(service.isUserBlocked('another-guild', USER), false);
    assert.deepEqual(service.getBlockedUser(GUILD, USER), { guildId: GUILD, userId: USER, reason: 'abuse', blockedBy: MOD, blockedAt: T0 });
    assert.equal(service.listBlockedUsers(GUILD).length, 1);
  });
});

describe('limits', () => {
  it('server limits can only tighten the global ones', () => {
    const service = new ModerationService(new Database(':memory:'), { globalLimits: { maxSteps: 50, maxPixels: 1024 * 1024, jobsPerUserPerHour: 20 } });
    service.setLimits(GUILD, { maxSteps: 80, maxPixels: 512 * 512, maxImagesPerJob: 2 }, MOD);
    assert.deepEqual(service.effectiveLimits(GUILD), { maxSteps: 50, maxPixels: 512 * 512, maxImagesPerJob: 2, jobsPerUserPerHour: 20 });
    assert.deepEqual(service.effectiveLimits(GUILD, { maxSteps: 40 }), { maxSteps: 40, maxPixels: 512 * 512, maxImagesPerJob: 2, jobsPerUserPerHour: null });
    assert.deepEqual(service.effectiveLimits(null), { maxSteps: 50, maxPixels: 1024 * 1024, maxImagesPerJob: null, jobsPerUserPerHour: 20 });
    service.setLimits(GUILD, { maxSteps: null }, MOD);
    assert.equal(service.getSettings(GUILD).limits.maxSteps, null);
    for (const bad of [0, -3, 2.5, Number.NaN]) assert.equal(service.setLimits(GUILD, { maxSteps: bad }, MOD).ok, false, String(bad));
  });

  it('the hourly job limit is a sliding window over recorded jobs', () => {
    const service = newService();
    service.setLimits(GUILD, { jobsPerUserPerHour: 3 }, MOD);
    const at = (minutes: number): number => T0 + minutes * 60_000;
    assert.equal(service.tryStartJob(GUILD, USER, at(0)).allowed, true);
    assert.equal(service.tryStartJob(GUILD, USER, at(10)).allowed, true);
    const third = service.tryStartJob(GUILD, USER, at(20));
    assert.deepEqual(third, { allowed: true, limit: 3, used: 3, retryAfterMs: 0 });
    const refused = service.checkRateLimit(GUILD, USER, at(30));
    assert.deepEqual(refused, { allowed: false, limit: 3, used: 3, retryAfterMs: 30 * 60_000 });
    assert.equal(service.tryStartJob(GUILD, USER, at(30)).allowed, false, 'a refused job is not recorded');
    assert.equal(service.checkRateLimit(GUILD, USER, at(59)).allowed, false);
    assert.equal(service.checkRateLimit(GUILD, USER, at(60)).allowed, true, 'the first job left the window');
    assert.equal(service.checkRateLimit(GUILD, 'someone-else', at(30)).allowed, true, 'per user');
    assert.equal(service.checkRateLimit('another-guild', USER, at(30)).limit, null, 'per server');
    service.recordJob(GUILD, USER, at(61));
    assert.equal(service.checkRateLimit(GUILD, USER, at(61)).used, 3);
    assert.equal(service.store.pruneJobs(at(61) + HOUR_MS), 3);
  });
});
