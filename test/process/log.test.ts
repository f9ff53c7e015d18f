// The log's two faces: JSON lines when stdout is not a terminal (or LOG_FORMAT=json), one readable line per event with
// the job id in front when it is (or LOG_FORMAT=pretty). Checked in a child process, where stdout is a real pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveLogFormat } from '../../src/log.ts';

const LOG = fileURLToPath(new URL('../../src/log.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** What the bot's logger writes to stdout (a pipe) after configureLogger(format), for one job line and one plain one. */
function logged(format: string | undefined): string {
  const script = `
    const { configureLogger, logger } = await import(${JSON.stringify(LOG)});
    ${format ? `configureLogger({ level: 'info', format: ${JSON.stringify(format)} });` : ''}
    logger.info({ jobId: 'job-7f3a', elapsedMs: 1234 }, 'job finished');
    logger.debug('not shown at info');
    logger.warn({ token: 'secret-token-value' }, 'something odd');`;
  return execFileSync(process.execPath, ['--import', TSX, '--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
}

test('auto is pretty on a terminal and JSON otherwise', () => {
  assert.equal(resolveLogFormat('auto', true), 'pretty');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('json', true), 'json');
  assert.equal(resolveLogFormat('pretty', false), 'pretty');
});

test('piped (not a terminal), the log is JSON lines carrying the job id', () => {
  for (const format of [undefined, 'auto', 'json']) {
    const lines = logged(format).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 2, String(format));
    assert.equal(lines[0]!.jobId, 'job-7f3a');
    assert.equal(lines[0]!.msg, 'job finished');
    assert.equal(lines[1]!.token, '[redacted]');
  }
});

test('pretty: one readable line per event, the job id in front of the message, secrets still redacted', () => {
  const out = logged('pretty');
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 2, out);
  assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\] INFO: job job-7f3a: job finished .*"elapsedMs":1234/);
  assert.match(lines[1]!, /WARN: something odd/);
  assert.ok(!out.includes('secret-token-value'));
  assert.throws(() => JSON.parse(lines[0]!), 'not JSON');
});
