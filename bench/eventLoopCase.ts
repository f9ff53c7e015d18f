// Event-loop responsiveness of the process that asks for an image (the bot): the generation runs either in this
// process (StableDiffusionPipeline) or in the inference process (InferenceProcess). ONNX Runtime's run() holds the
// calling thread for the whole UNet pass, so in-process every step freezes the loop; through the worker, only the
// progress messages reach it. Run in its own process by bench/run.ts.
//   npx tsx bench/eventLoopCase.ts --mode in-process|worker --model <dir> [--attention auto --width 512 --height 512
//     --steps 3 --guidance 7.5 --threads 2]
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StableDiffusionPipeline } from '../src/pipeline/pipeline.ts';
import type { GenerateRequest, PipelineOptions } from '../src/pipeline/types.ts';
import { InferenceProcess } from '../src/pipeline/inferenceProcess/client.ts';
import { sendResult } from './childProcess.ts';
import { parseAttention } from './pipelineCase.ts';

export type EventLoopMode = 'in-process' | 'worker';

export interface EventLoopCaseResult {
  mode: EventLoopMode;
  generationMs: number;
  /** monitorEventLoopDelay over the generation (resolution 10 ms), in ms. */
  delay: { max: number; p99: number; mean: number };
  /** Longest gap between the 10 ms heartbeats of a setInterval: how long a Discord heartbeat or reply would wait. */
  maxHeartbeatGapMs: number;
  heartbeats: number;
}

const HEARTBEAT_MS = 10;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'worker' },
      model: { type: 'string' },
      attention: { type: 'string', default: 'auto' },
      width: { type: 'string', default: '512' },
      height: { type: 'string', default: '512' },
      steps: { type: 'string', default: '3' },
      guidance: { type: 'string', default: '7.5' },
      threads: { type: 'string', default: '2' },
    },
  });
  if (!values.model) throw new Error('--model <model folder> is required');
  const mode = values.mode as EventLoopMode;
  const options: PipelineOptions = {
    modelDir: values.model,
    provider: 'cpu',
    attentionSlicing: parseAttention(values.attention!),
    lowMemory: false,
    intraOpThreads: Number(values.threads),
    interOpThreads: 1,
  };
  const request: GenerateRequest = {
    prompt: 'a photo of a red cat',
    seed: 42,
    steps: Number(values.steps),
    guidance: Number(values.guidance),
    width: Number(values.width),
    height: Number(values.height),
    count: 1,
  };

  // Load first (outside the measurement): loading blocks the loop too, but happens once at start-up.
  let generate: () => Promise<unknown>;
  let close: () => Promise<void>;
  if (mode === 'worker') {
    const worker = await InferenceProcess.start(options);
    generate = () => worker.generate(request);
    close = () => worker.dispose();
  } else {
    const pipeline = await StableDiffusionPipeline.load(options);
    generate = () => pipeline.generate(request);
    close = () => pipeline.dispose();
  }

  const histogram = monitorEventLoopDelay({ resolution: HEARTBEAT_MS });
  let last = performance.now();
  let maxGap = 0;
  let heartbeats = 0;
  const heartbeat = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    heartbeats++;
  }, HEARTBEAT_MS);
  histogram.enable();
  const started = performance.now();
  await generate();
  const generationMs = performance.now() - started;
  // Give the timers one more turn, so a stall that ended with the generation is recorded too.
  await new Promise((r) => setTimeout(r, 3 * HEARTBEAT_MS));
  histogram.disable();
  clearInterval(heartbeat);
  await close();

  const ms = (ns: number) => ns / 1e6;
  const result: EventLoopCaseResult = {
    mode,
    generationMs,
    delay: { max: ms(histogram.max), p99: ms(histogram.percentile(99)), mean: ms(histogram.mean) },
    maxHeartbeatGapMs: maxGap,
    heartbeats,
  };
  sendResult(result);
}

if (fileURLToPath(import.meta.url) === resolve(process.argv[1] ?? '')) await main();
