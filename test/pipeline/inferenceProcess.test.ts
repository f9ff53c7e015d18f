// The inference process: same results as the in-process pipeline, progress over IPC, cancellation that leaves the
// worker usable, crashes reported as WorkerCrashedError, load failures with the loader's own message.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { upscale } from '../../src/pipeline/upscale.ts';
import { srModel } from '../image/srModel.ts';
import { after, before, describe, test } from 'node:test';
import { GenerationCancelledError, InvalidRequestError } from '../../src/pipeline/pipeline.ts';
import type { ProgressEvent } from '../../src/pipeline/types.ts';
import { InferenceProcess, WorkerCrashedError } from '../../src/pipeline/inferenceProcess/client.ts';
import { loadTestPipeline, request, testOptions } from './helpers.ts';
import { rangeOf } from '../../src/pipeline/request.ts';

// As many steps as a request may ask for, at a size that keeps each step slow enough to act on mid-run.
const LONG = request({ steps: rangeOf('steps').max, width: 512, height: 512, sampler: 'euler' });

function exited(worker: InferenceProcess): Promise<void> {
  return new Promise((resolve) => (worker.alive ? worker.once('exit', () => resolve()) : resolve()));
}

describe('InferenceProcess', () => {
  let worker: InferenceProcess;
  before(async () => {
    worker = await InferenceProcess.start(await testOptions('tiny-sd15'));
  });
  after(() => worker.dispose());

  test('upscale runs in the inference process: the ONNX model gives what it gives in-process; no model: Lanczos', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'worker-upscale-'));
    try {
      const modelPath = join(dir, 'sr.onnx');
      await writeFile(modelPath, srModel({ io: 'float32', inputDims: [1, 3, 'height', 'width'] }));
      const image = (await worker.generate(request({ seed: 3 }))).images[0]!;
      const viaWorker = await worker.upscale(image, 2, modelPath);
      assert.equal(viaWorker.method, 'onnx');
      assert.deepEqual([viaWorker.image.width, viaWorker.image.height], [128, 128]);
      const direct = await upscale(image, 2, { modelPath, intraOpThreads: 1 });
      assert.deepEqual(viaWorker.image.data, direct.image.data);
      const lanczos = await worker.upscale(image, 4);
      assert.equal(lanczos.method, 'lanczos');
      assert.deepEqual([lanczos.image.width, lanczos.image.height], [256, 256]);
      await assert.rejects(worker.upscale(image, 2, join(dir, 'missing.onnx')));
      // a failed upscale leaves the worker serving
      assert.equal((await worker.generate(request({ seed: 3 }))).images[0]!.width, 64);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('info, and the same pixels as the in-process pipeline', async () => {
    assert.equal(worker.info.modelName, 'tiny-sd15');
    assert.equal(worker.info.provider, 'cpu');
    assert.equal(worker.info.supportsImg2Img, true);
    const req = request({ seed: 8, count: 2 });
    const viaWorker = await worker.generate(req);
    const local = await loadTestPipeline('tiny-sd15');
    try {
      const direct = await local.generate(req);
      assert.equal(viaWorker.images.length, 2);
      for (let i = 0; i < 2; i++) {
        assert.ok(viaWorker.images[i]!.data instanceof Uint8Array, 'pixels cross the IPC channel as bytes');
        assert.deepEqual(viaWorker.images[i]!.data, direct.images[i]!.data);
        assert.equal(viaWorker.images[i]!.seed, 8 + i);
        assert.equal(viaWorker.images[i]!.nsfw, direct.images[i]!.nsfw);
      }
      assert.equal(viaWorker.stepsRun, direct.stepsRun);
      assert.ok(viaWorker.onnxMs > 0 && viaWorker.onnxMs <= viaWorker.elapsedMs + 1);
    } finally {
      await local.dispose();
    }
  });

  test('progress events cross the process boundary, previews included', async () => {
    const events: ProgressEvent[] = [];
    await worker.generate(request({ sampler: 'ddim', steps: 5, previewEvery: 2 }), { onProgress: (e) => events.push(e) });
    assert.deepEqual(events.map((e) => `${e.step}/${e.total}`), ['1/5', '2/5', '3/5', '4/5', '5/5']);
    const previews = events.filter((e) => e.preview);
    assert.deepEqual(previews.map((e) => e.step), [2, 4]);
    assert.ok(previews[0]!.preview!.data instanceof Uint8Array);
  });

  test('invalid requests come back as InvalidRequestError', async () => {
    await assert.rejects(worker.generate(request({ width: 100 })), (err: unknown) => err instanceof InvalidRequestError && /multiple of 8/.test(err.message));
  });

  test('cancel mid-run via AbortSignal, then the worker serves the next request', async () => {
    const controller = new AbortController();
    let steps = 0;
    const started = performance.now();
    await assert.rejects(
      worker.generate(LONG, { signal: controller.signal, onProgress: () => (steps++ === 1 ? controller.abort() : undefined) }),
      (err: unknown) => err instanceof GenerationCancelledError && err.message === 'generation cancelled',
    );
    assert.ok(steps >= 2 && steps < 500, `stopped early (after ${steps} steps)`);
    assert.ok(worker.alive);
    const timeout = new AbortController();
    await assert.rejects(
      worker.generate(LONG, { signal: timeout.signal, onProgress: () => timeout.abort('timeout') }),
      (err: unknown) => err instanceof GenerationCancelledError && err.message === 'generation timed out',
    );
    const next = await worker.generate(request({ seed: 1 }));
    assert.equal(next.images.length, 1);
    assert.ok(performance.now() - started < 60_000);
  });

  test('an already-aborted signal rejects at once', async () => {
    await assert.rejects(worker.generate(request(), { signal: AbortSignal.abort() }), GenerationCancelledError);
  });

  test('requests sent together are served one after another', async () => {
    const results = await Promise.all([1, 2, 3].map((seed) => worker.generate(request({ seed }))));
    assert.deepEqual(results.map((r) => r.images[0]!.seed), [1, 2, 3]);
  });

  test('SIGINT (Ctrl-C in the terminal) does not kill the inference process; its parent decides', async () => {
    process.kill(worker.pid!, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(worker.alive);
    const r = await worker.generate(request());
    assert.equal(r.images.length, 1);
  });
});

describe('InferenceProcess crashes and failures', () => {
  for (const how of ['worker.kill()', "process.kill(pid, 'SIGKILL')"] as const) {
    test(`killing the process with ${how} rejects the request in flight with WorkerCrashedError`, async () => {
      const worker = await InferenceProcess.start(await testOptions('tiny-sd15'));
      const gone = exited(worker);
      const kill = () => (how === 'worker.kill()' ? worker.kill() : process.kill(worker.pid!, 'SIGKILL'));
      let killed = false;
      await assert.rejects(
        worker.generate(LONG, { onProgress: () => void (killed || ((killed = true), kill())) }),
        (err: unknown) => err instanceof WorkerCrashedError && /SIGKILL/.test(err.message),
      );
      await gone;
      assert.equal(worker.alive, false);
      await assert.rejects(worker.generate(request()), WorkerCrashedError);
      await worker.dispose(); // a no-op once the process is gone
    });
  }

  test('a missing model folder: start() rejects with the loader message', async () => {
    const dir = join(tmpdir(), 'imagine-no-such-model');
    await assert.rejects(InferenceProcess.start(await testOptions('tiny-sd15', { modelDir: dir })), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.equal(err.name, 'ModelFolderError');
      assert.equal(err.message, `${dir}: missing; expected a model folder in the diffusers ONNX layout (model_index.json, unet/model.onnx, ...)`);
      return true;
    });
  });

  test('a folder with a corrupt ONNX file: start() rejects naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'imagine-bad-model-'));
    try {
      const { cp } = await import('node:fs/promises');
      await cp((await testOptions('tiny-sd15')).modelDir, dir, { recursive: true, filter: (src) => !/attn-/.test(src) });
      await writeFile(join(dir, 'text_encoder', 'model.onnx'), 'not an onnx file');
      await assert.rejects(InferenceProcess.start(await testOptions('tiny-sd15', { modelDir: dir })), (err: unknown) => {
        assert.ok(err instanceof Error && !(err instanceof WorkerCrashedError));
        assert.match(err.message, /text_encoder/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('dispose() ends the process', async () => {
    const worker = await InferenceProcess.start(await testOptions('closed-form'));
    const gone = exited(worker);
    await worker.dispose();
    await gone;
    assert.equal(worker.alive, false);
  });
});

test('errorFromWire rebuilds the error classes callers branch on, and keeps any other name', async () => {
  const { errorFromWire } = await import('../../src/pipeline/inferenceProcess/client.ts');
  assert.ok(errorFromWire({ name: 'InvalidRequestError', message: 'width must be a multiple of 8' }) instanceof InvalidRequestError);
  assert.ok(errorFromWire({ name: 'WorkerCrashedError', message: 'gone' }) instanceof WorkerCrashedError);
  const cancelled = errorFromWire({ name: 'AbortError', message: 'generation cancelled' });
  assert.ok(cancelled instanceof GenerationCancelledError);
  assert.equal(cancelled.message, 'generation cancelled');
  const other = errorFromWire({ name: 'RangeError', message: 'boom' });
  assert.equal(other.name, 'RangeError');
  assert.equal(other.message, 'boom');
});

test('IDLE_RELEASE: the worker releases its model sessions once idle that long, and loads them again for the next job', async () => {
  const logs: string[] = [];
  const idleMs = 400;
  const worker = await InferenceProcess.start(await testOptions('tiny-sd15'), { idleReleaseMs: idleMs, log: (m) => logs.push(m) });
  const releases = () => logs.filter((m) => m.startsWith('released model sessions'));
  const waitForReleases = async (n: number) => {
    for (const deadline = Date.now() + 20_000; releases().length < n; ) {
      if (Date.now() > deadline) throw new Error(`no idle release after ${idleMs} ms; log: ${logs.join(' | ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    const first = await worker.generate(request({ seed: 9 }));
    assert.equal(releases().length, 0, 'nothing released while busy or right after the job');
    await waitForReleases(1);
    // The sessions loaded at start and by the job (the safety checker is loaded on first use) are the ones freed.
    assert.match(releases()[0]!, new RegExp(`^released model sessions \\(textEncoder, unet, vaeDecoder, safetyChecker\\) after ${idleMs} ms idle$`));
    const again = await worker.generate(request({ seed: 9 }));
    assert.deepEqual(again.images[0]!.data, first.images[0]!.data, 'the reloaded sessions give the same image');
    await waitForReleases(2);
    assert.match(releases()[1]!, /\(.*unet.*\)/, 'the next idle period releases what the job loaded again');
  } finally {
    await worker.dispose();
  }
});
