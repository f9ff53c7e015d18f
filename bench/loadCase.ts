// One load-time case of `npm run bench -- load`, in its own process (a fresh process holds no earlier session and no
// warmed allocator): creates a session for the given model the way the pipeline does, with the optimized-graph cache
// on or off, and reports the wall time of session creation and the peak RSS.
import { parseArgs } from 'node:util';
import { createSession } from '../src/pipeline/session.ts';
import { sendResult } from './childProcess.ts';

export interface LoadCaseResult {
  ms: number;
  peakRssMb: number;
  log: string[];
}

const { values } = parseArgs({ options: { model: { type: 'string' }, cache: { type: 'string', default: 'off' }, threads: { type: 'string', default: '2' } } });
const log: string[] = [];
const started = performance.now();
const loaded = await createSession(values.model!, { provider: 'cpu', intraOpThreads: Number(values.threads), optimizedCache: values.cache === 'on', log: (m) => log.push(m) });
const ms = performance.now() - started;
await loaded.session.release();
sendResult({ ms, peakRssMb: process.resourceUsage().maxRSS / 1024, log } satisfies LoadCaseResult);
