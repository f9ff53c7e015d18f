// The inference process. ONNX Runtime's run() blocks its thread for the whole call, so the pipeline lives here, in
// a child process of the bot: the bot's event loop keeps answering Discord, and a native crash (out of memory, an
// abort inside a provider) takes down this process only.
import { StableDiffusionPipeline } from '../pipeline.ts';
import { OnnxUpscaler, upscale } from '../upscale.ts';
import type { FromWorker, ToWorker, WireError } from './protocol.ts';

if (!process.send) {
  console.error('src/pipeline/inferenceProcess/host.ts is started by InferenceProcess (client.ts), not directly');
  process.exit(2);
}

const send = (message: FromWorker) => process.send!(message);
const log = (message: string) => send({ type: 'log', message });
const toWire = (err: unknown): WireError => (err instanceof Error ? { name: err.name, message: err.message } : { name: 'Error', message: String(err) });

let pipeline: StableDiffusionPipeline | undefined;
let pipelineOptions: { provider?: StableDiffusionPipeline['options']['provider']; intraOpThreads?: number } = {};
/** The upscaler stays loaded between requests (keyed by path); released with the pipeline's sessions when idle. */
let upscaler: OnnxUpscaler | undefined;
let idleTimer: NodeJS.Timeout | undefined;
let idleReleaseMs = 0;
const controllers = new Map<string, AbortController>();
// One generation at a time in this process; further requests wait their turn here.
let chain: Promise<void> = Promise.resolve();

function armIdleRelease(): void {
  if (idleTimer) clearTimeout(idleTimer);
  if (idleReleaseMs > 0 && pipeline) {
    idleTimer = setTimeout(() => {
      const loadedUpscaler = upscaler;
      upscaler = undefined;
      void Promise.all([pipeline?.releaseSessions(), loadedUpscaler?.release()]).then(([parts = []]) =>
        log(`released model sessions (${[...parts, ...(loadedUpscaler ? ['upscaler'] : [])].join(', ') || 'none loaded'}) after ${idleReleaseMs} ms idle`),
      );
    }, idleReleaseMs);
    idleTimer.unref();
  }
}

process.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      idleReleaseMs = message.idleReleaseMs ?? 0;
      pipelineOptions = { provider: message.options.provider, intraOpThreads: message.options.intraOpThreads };
      StableDiffusionPipeline.load(message.options, log).then(
        (p) => {
          pipeline = p;
          send({ type: 'loaded', info: p.info });
          armIdleRelease();
        },
        (err) => send({ type: 'load-failed', error: toWire(err) }),
      );
      break;
    case 'generate': {
      const controller = new AbortController();
      controllers.set(message.id, controller);
      chain = chain.then(async () => {
        try {
          if (!pipeline) throw new Error('the pipeline is not loaded');
          if (idleTimer) clearTimeout(idleTimer);
          const result = await pipeline.generate(message.request, {
            signal: controller.signal,
            onProgress: (event) => send({ type: 'progress', id: message.id, event }),
          });
          send({ type: 'result', id: message.id, result, onnxMs: pipeline.timings.onnxMs });
        } catch (err) {
          send({ type: 'error', id: message.id, error: toWire(err) });
        } finally {
          controllers.delete(message.id);
          armIdleRelease();
        }
      });
      break;
    }
    case 'upscale': {
      const { id, image, factor, modelPath } = message;
      chain = chain.then(async () => {
        try {
          if (idleTimer) clearTimeout(idleTimer);
          if (modelPath && upscaler?.path !== modelPath) {
            await upscaler?.release();
            upscaler = await OnnxUpscaler.load(modelPath, { ...pipelineOptions, log });
          }
          const result = await upscale(image, factor, modelPath ? { upscaler } : {});
          send({ type: 'upscaled', id, result });
        } catch (err) {
          send({ type: 'error', id, error: toWire(err) });
        } finally {
          armIdleRelease();
        }
      });
      break;
    }
    case 'cancel':
      controllers.get(message.id)?.abort(message.reason);
      break;
    case 'dispose':
      void (pipeline?.dispose() ?? Promise.resolve()).finally(() => process.exit(0));
      break;
  }
});

// Ctrl-C in a terminal signals the whole foreground process group, this process included. The parent decides what an
// interrupt means (the CLI cancels the job, the bot shuts down and disposes us); dying here would turn a clean cancel
// into a crash. If the parent dies instead, 'disconnect' below ends this process.
process.on('SIGINT', () => {});
// The parent went away: nothing left to serve.
process.on('disconnect', () => process.exit(0));
