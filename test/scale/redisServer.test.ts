// The scale-out tests may skip on a developer's machine without redis-server, never in CI: there a missing
// redis-server must fail them, so a green CI run always includes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inCi, skipReasonFor } from './redisServer.ts';

test('without redis-server the Redis tests skip outside CI and run (and fail) in CI', () => {
  assert.match(skipReasonFor(undefined, {}) ?? '', /redis-server not found/);
  assert.match(skipReasonFor(undefined, { CI: 'false' }) ?? '', /redis-server not found/);
  assert.equal(skipReasonFor(undefined, { CI: 'true' }), undefined);
  assert.equal(skipReasonFor(undefined, { CI: '1' }), undefined);
  assert.equal(skipReasonFor('/usr/bin/redis-server', {}), undefined, 'with the binary they always run');
  assert.equal(inCi({ CI: '' }), false);
  assert.equal(inCi({ CI: '0' }), false);
});
