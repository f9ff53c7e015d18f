// ModelPool: models load on first use, stay loaded while they fit the budget, and the least recently used idle model
// is released first; a model busy with a job is never released under it. Fake engines record loads and closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelPool } from '../../src/jobs/modelPool.ts';
import { ModelCatalog, type CatalogModel } from '../../src/models/catalog.ts';
import type { GenerationEngine } from '../../src/jobs/inferenceEngine.ts';
import type { WorkerResult } from '../../src/pipeline/inferenceProcess/client.ts';
import { InvalidRequestError } from '../../src/pipeline/pipeline.ts';

function model(name: string, bytes: number): CatalogModel {
  return { name, dir: `/models/${name}`, family: 'SD 1.x', defaults: {}, folderSampler: 'pndm', width: 512, height: 512, bytes };
}

interface Harness {
  pool: ModelPool;
  events: string[];
  /** Resolve to let a running fake generation finish. */
  gates: Map<string, () => void>;
}

function harness(models: CatalogModel[], budgetBytes: number, options: { blockGenerate?: boolean } = {}): Harness {
  const events: string[] = [];
  const gates = new Map<string, () => void>();
  const pool = new ModelPool({
    catalog: new ModelCatalog(models, models[0]!.name),
    budgetBytes,
    startEngine: async (m) => {
      events.push(`start ${m.name}`);
      const engine: GenerationEngine = {
        info: undefined,
        secondsPerStep: () => undefined,
        generate: async () => {
          events.push(`run ${m.name}`);
          if (options.blockGenerate) await new Promise<void>((resolve) => gates.set(m.name, resolve));
          return { images: [], stepsRun: 1, sampler: 'pndm', promptTruncated: false, modelName: m.name, elapsedMs: 1, onnxMs: 0 } satisfies WorkerResult;
        },
        close: async () => void events.push(`close ${m.name}`),
      };
      return engine;
    },
  });
  pool.on('loaded', ({ model: name }) => events.push(`loaded ${name}`));
  pool.on('released', ({ model: name, reason }) => events.push(`released ${name} (${reason})`));
  return { pool, events, gates };
}

const request = { prompt: 'x', seed: 1, steps: 1, guidance: 1, width: 64, height: 64, count: 1 };

test('models load on demand, stay loaded while they fit, and the least recently used goes first', async () => {
  const { pool, events } = harness([model('a', 40), model('b', 40), model('c', 40)], 100);
  await pool.generate(request, { model: 'a' });
  await pool.generate(request, { model: 'b' });
  assert.deepEqual(pool.loadedModels(), ['b', 'a'], 'both fit: both stay loaded');
  await pool.generate(request, { model: 'a' }); // a is now the most recent
  await pool.generate(request, { model: 'c' }); // 120 > 100: b (least recent) must go
  assert.deepEqual(pool.loadedModels().sort(), ['a', 'c']);
  await pool.generate(request, { model: 'b' }); // reloaded on demand; a is now least recent
  assert.deepEqual(pool.loadedModels().sort(), ['b', 'c']);
  assert.deepEqual(
    events.filter((e) => !e.startsWith('run') && !e.startsWith('start')),
    ['loaded a', 'loaded b', 'close b', 'released b (budget)', 'loaded c', 'close a', 'released a (budget)', 'loaded b'],
  );
  assert.ok(pool.usedBytes <= 100);
  await pool.close();
  assert.deepEqual(pool.loadedModels(), []);
});

test('a loaded model is reused without a second start; no model option means the default', async () => {
  const { pool, events } = harness([model('a', 10), model('b', 10)], 100);
  await pool.generate(request);
  await pool.generate(request, { model: 'a' });
  assert.deepEqual(events, ['start a', 'loaded a', 'run a', 'run a']);
  await pool.close();
});

test('a model busy with a job is not released under it: the next load waits for the job to end', async () => {
  const { pool, events, gates } = harness([model('a', 60), model('b', 60)], 100, { blockGenerate: true });
  const first = pool.generate(request, { model: 'a' });
  while (!gates.has('a')) await new Promise((resolve) => setTimeout(resolve, 1));
  const second = pool.generate(request, { model: 'b' });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.ok(!events.includes('start b'), 'b must wait: a is running a job');
  assert.ok(!events.includes('close a'));
  gates.get('a')!();
  await first;
  while (!gates.has('b')) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.ok(events.indexOf('close a') < events.indexOf('start b'), 'a released before b loads');
  gates.get('b')!();
  await second;
  await pool.close();
});

test('a model larger than the whole budget still loads, alone', async () => {
  const { pool } = harness([model('small', 10), model('huge', 500)], 100);
  await pool.generate(request, { model: 'small' });
  await pool.generate(request, { model: 'huge' });
  assert.deepEqual(pool.loadedModels(), ['huge']);
  await pool.close();
});

test('an unknown model is a clear InvalidRequestError, not a crash', async () => {
  const { pool } = harness([model('a', 10)], 100);
  await assert.rejects(pool.generate(request, { model: 'gone' }), (err: unknown) => err instanceof InvalidRequestError && /gone is not installed/.test(err.message));
  await pool.close();
});
