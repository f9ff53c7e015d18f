// One pipeline benchmark case, run in its own process by bench/run.ts: load a model folder, run one txt2img
// generation in-process, and report per-step wall time, the share spent outside ONNX Runtime, and peak RSS.
//   npx tsx bench/pipelineCase.ts --model <dir> [--attention auto] [--width 512 --height 512 --steps 6
//     --guidance 7.5 --count 1 --threads 2]
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StableDiffusionPipeline } from '../src/pipeline/pipeline.ts';
import type { AttentionSlicing } from '../src/pipeline/types.ts';
import { sendResult } from './childProcess.ts';
import { stepTimings, traceOrtRuns, type StepTiming } from './ortTrace.ts';
import { mb } from './stats.ts';

export interface PipelineCaseArgs {
  model: string;
  attention: string;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  count: number;
  threads: number;
  /** Steps of an untimed generation run first (0 = none), so the timed one sees optimised JS and a grown ORT arena. */
  warmup: number;
}

export interface PipelineCaseResult {
  args: PipelineCaseArgs;
  attentionApplied: string;
  /** LCM-style UNet: guidance embedded, so no classifier-free doubling of the UNet batch. */
  embeddedGuidance: boolean;
  sampler: string;
  loadMs: number;
  /** RSS after loading the sessions, before generating. */
  rssAfterLoadMb: number;
  /** Peak RSS of the whole process (load + generation). */
  peakRssMb: number;
  /** From pipeline.timings: the whole generate() call and the part inside ONNX Runtime. */
  generation: { totalMs: number; onnxMs: number; tracedOrtMs: number };
  /** The warm-up generation (the first one in a fresh process), when there was one. */
  warmupGeneration?: { totalMs: number; onnxMs: number; steps: StepTiming[] };
  steps: StepTiming[];
}

export function toArgv(a: PipelineCaseArgs): string[] {
  return Object.entries(a).flatMap(([k, v]) => [`--${k}`, String(v)]);
}

export function parseAttention(value: string): AttentionSlicing {
  return /^\d+$/.test(value) ? Number(value) : (value as AttentionSlicing);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      attention: { type: 'string', default: 'auto' },
      width: { type: 'string', default: '512' },
      height: { type: 'string', default: '512' },
      steps: { type: 'string', default: '6' },
      guidance: { type: 'string', default: '7.5' },
      count: { type: 'string', default: '1' },
      threads: { type: 'string', default: '2' },
      warmup: { type: 'string', default: '0' },
    },
  });
  if (!values.model) throw new Error('--model <model folder> is required');
  const args: PipelineCaseArgs = {
    model: values.model,
    attention: values.attention!,
    width: Number(values.width),
    height: Number(values.height),
    steps: Number(values.steps),
    guidance: Number(values.guidance),
    count: Number(values.count),
    threads: Number(values.threads),
    warmup: Number(values.warmup),
  };

  const runs = traceOrtRuns();
  const loadStart = performance.now();
  const pipeline = await StableDiffusionPipeline.load({
    modelDir: args.model,
    provider: 'cpu',
    attentionSlicing: parseAttention(args.attention),
    lowMemory: false,
    intraOpThreads: args.threads,
    interOpThreads: 1,
  });
  const loadMs = performance.now() - loadStart;
  const rssAfterLoadMb = mb(process.memoryUsage().rss);

  const generate = async (steps: number) => {
    const runsBefore = runs.length;
    const progressAt: number[] = [];
    const result = await pipeline.generate(
      { prompt: 'a photo of a red cat', negativePrompt: '', seed: 42, steps, guidance: args.guidance, width: args.width, height: args.height, count: args.count },
      { onProgress: () => progressAt.push(performance.now()) },
    );
    const generationRuns = runs.slice(runsBefore);
    return { result, timings: pipeline.timings, runs: generationRuns, steps: stepTimings(generationRuns, progressAt) };
  };
  let warmupGeneration: PipelineCaseResult['warmupGeneration'];
  if (args.warmup > 0) {
    const w = await generate(args.warmup);
    warmupGeneration = { totalMs: w.timings.totalMs, onnxMs: w.timings.onnxMs, steps: w.steps };
  }
  const { result, timings, runs: generationRuns, steps } = await generate(args.steps);
  const out: PipelineCaseResult = {
    args,
    attentionApplied: pipeline.info.attention,
    embeddedGuidance: pipeline.info.embeddedGuidance,
    sampler: result.sampler,
    loadMs,
    rssAfterLoadMb,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    generation: { totalMs: timings.totalMs, onnxMs: timings.onnxMs, tracedOrtMs: generationRuns.reduce((s, r) => s + r.end - r.start, 0) },
    steps,
    warmupGeneration,
  };
  await pipeline.dispose();
  sendResult(out);
}

if (fileURLToPath(import.meta.url) === resolve(process.argv[1] ?? '')) await main();
