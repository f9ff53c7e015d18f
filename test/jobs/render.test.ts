// renderJob / writeJobFiles, the work shared by local mode (JobService) and Redis workers, on a fake engine: the
// request built from JobParams, PNGs with A1111 parameters, the grid, img2img inputs, upscale, file names, and
// previews that always carry the newest step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { renderJob, writeJobFiles } from '../../src/jobs/runJob.ts';
import type { GenerateHooks, GenerationEngine } from '../../src/jobs/inferenceEngine.ts';
import type { JobParams, JobProgress } from '../../src/jobs/types.ts';
import { InvalidRequestError } from '../../src/pipeline/pipeline.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import type { GenerateRequest, RgbImage } from '../../src/pipeline/types.ts';
import type { WorkerResult } from '../../src/pipeline/inferenceProcess/client.ts';

function solid(width: number, height: number, value: number): RgbImage {
  return { data: new Uint8Array(width * height * 3).fill(value), width, height };
}

/** An engine that records the request and returns one flat image per count, seeds counting up. */
function fakeEngine(onGenerate: (request: GenerateRequest, hooks: GenerateHooks) => void = () => {}): GenerationEngine & { requests: GenerateRequest[] } {
  const requests: GenerateRequest[] = [];
  return {
    requests,
    info: undefined,
    async generate(request, hooks = {}): Promise<WorkerResult> {
      requests.push(request);
      onGenerate(request, hooks);
      const images = Array.from({ length: request.count ?? 1 }, (_, i) => ({ ...solid(request.width ?? 64, request.height ?? 64, 40 * (i + 1)), seed: (request.seed ?? 0) + i, nsfw: i === 1 }));
      return { images, stepsRun: request.steps ?? 0, sampler: 'euler', promptTruncated: false, modelName: 'fake-model', elapsedMs: 12, onnxMs: 10 };
    },
    secondsPerStep: () => undefined,
    close: async () => {},
  };
}

function paramsFor(overrides: Partial<JobParams> = {}): JobParams {
  return {
    kind: 'txt2img',
    action: 'imagine',
    prompt: 'a lighthouse',
    negativePrompt: 'fog',
    seed: 100,
    steps: 10,
    guidance: 7,
    width: 64,
    height: 64,
    count: 1,
    channel: { ageRestricted: false, uploadLimit: 8_000_000 },
    ...overrides,
  };
}

const noProgress = { signal: new AbortController().signal, onProgress: () => {} };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'imagine-render-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('txt2img with count 2: request from the params, one PNG per image with its own seed, a grid, files 1.png 2.png grid.png', async (t) => {
  const engine = fakeEngine();
  const params = paramsFor({ count: 2 });
  const rendered = await renderJob(engine, params, {}, { ...noProgress, software: 'imagine-bot test' });
  assert.deepEqual(engine.requests[0], { prompt: 'a lighthouse', negativePrompt: 'fog', seed: 100, steps: 10, guidance: 7, sampler: undefined, width: 64, height: 64, count: 2, previewEvery: 2 });
  assert.equal(rendered.images.length, 2);
  assert.match(readPngParameters(rendered.images[1]!.png) ?? '', /^a lighthouse\nNegative prompt: fog\n.*Seed: 101,.*Model: fake-model/s);
  assert.doesNotMatch(readPngParameters(rendered.images[0]!.png) ?? '', /Denoising strength/);
  assert.match(readPngParameters(rendered.grid!) ?? '', /Seed: 100,/);
  assert.deepEqual(
    rendered.images.map(({ seed, nsfw }) => ({ seed, nsfw })),
    [
      { seed: 100, nsfw: false },
      { seed: 101, nsfw: true },
    ],
  );

  const dir = tempDir(t);
  const result = await writeJobFiles(dir, params, rendered);
  assert.deepEqual(result.files.map((f) => f.path), [join(dir, '1.png'), join(dir, '2.png')]);
  assert.equal(result.gridPath, join(dir, 'grid.png'));
  assert.deepEqual(readFileSync(result.files[1]!.path), Buffer.from(rendered.images[1]!.png));
  const { files: _files, gridPath: _grid, ...outcome } = result;
  assert.deepEqual(outcome, { sampler: 'euler', model: 'fake-model', stepsRun: 10, promptTruncated: false, elapsedMs: 12 });
});

test('img2img: the init bytes are decoded at the job size with strength 0.8 by default; without them the job is refused', async () => {
  const params = paramsFor({ kind: 'img2img', action: 'reimagine', width: 64, height: 128 });
  await assert.rejects(renderJob(fakeEngine(), params, {}, noProgress), InvalidRequestError);
  const init = await sharp(Buffer.from(solid(32, 32, 200).data), { raw: { width: 32, height: 32, channels: 3 } }).png().toBuffer();
  const engine = fakeEngine();
  const rendered = await renderJob(engine, params, { init }, noProgress);
  const request = engine.requests[0]!;
  assert.deepEqual([request.initImage?.width, request.initImage?.height, request.strength], [64, 128, 0.8]);
  assert.match(readPngParameters(rendered.images[0]!.png) ?? '', /Denoising strength: 0\.8/);
});

test('upscale: Lanczos when the engine has no upscaler, the source parameters kept, written as upscaled-2x.png', async (t) => {
  const source = await sharp(Buffer.from(solid(16, 16, 90).data), { raw: { width: 16, height: 16, channels: 3 } }).png().toBuffer();
  const params = paramsFor({ kind: 'upscale', action: 'upscale', upscale: { sourcePath: '/unused', factor: 2, sourceIndex: 0 } });
  await assert.rejects(renderJob(fakeEngine(), params, {}, noProgress), InvalidRequestError);
  const rendered = await renderJob(fakeEngine(), params, { upscaleSource: source }, { ...noProgress, upscaleModel: '/no/such/model.onnx' });
  assert.equal(rendered.upscaleMethod, 'lanczos');
  assert.deepEqual([rendered.images[0]!.width, rendered.images[0]!.height], [32, 32]);
  assert.match(readPngParameters(rendered.images[0]!.png) ?? '', /^a lighthouse, Upscale: 2x lanczos$/);
  const result = await writeJobFiles(tempDir(t), params, rendered);
  assert.match(result.files[0]!.path, /upscaled-2x\.png$/);
  assert.equal(result.upscaleMethod, 'lanczos');
});

test('a preview that finishes encoding after later steps is reported with the newest step', async () => {
  const reports: JobProgress[] = [];
  const engine = fakeEngine((_request, hooks) => {
    // A preview at step 2, then steps 3 and 4 before its (async) encode can finish.
    hooks.onProgress?.({ step: 2, total: 4, elapsedMs: 20, preview: solid(512, 512, 128) });
    hooks.onProgress?.({ step: 3, total: 4, elapsedMs: 30, preview: solid(512, 512, 128) });
    hooks.onProgress?.({ step: 4, total: 4, elapsedMs: 40 });
  });
  await renderJob(engine, paramsFor({ steps: 4 }), {}, { signal: new AbortController().signal, onProgress: (p) => reports.push(p) });
  for (const deadline = Date.now() + 10_000; !reports.some((r) => r.preview) && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 10));
  // Step 2 starts an encode (reported when it finishes); step 3's preview is skipped (the encoder is busy); step 4
  // has none. The step-2 preview then arrives, labelled with step 4.
  assert.deepEqual(
    reports.map((r) => [r.step, Boolean(r.preview)]),
    [
      [3, false],
      [4, false],
      [4, true],
    ],
  );
  const withPreview = reports.at(-1)!;
  const meta = await sharp(Buffer.from(withPreview.preview!)).metadata();
  assert.equal(meta.format, 'webp');
  assert.ok(Math.max(meta.width ?? 0, meta.height ?? 0) <= 256);
});
