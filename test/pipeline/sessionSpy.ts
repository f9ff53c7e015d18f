// Watches every ONNX Runtime session the pipeline opens in this process: which sub-model was loaded, each run (with
// the batch size of its first input) and each release, in order. It wraps InferenceSession.create, so the pipeline
// runs unchanged; tests use it to see what a mode does with sessions, which the pixels alone cannot show.
import { basename, dirname, sep } from 'node:path';
import * as ort from 'onnxruntime-node';

export interface SessionEvent {
  kind: 'load' | 'run' | 'release';
  /** The sub-model's folder in the diffusers layout: unet, text_encoder, vae_decoder, safety_checker, ... */
  model: string;
  /** Runs only: the first dimension of the first input (the batch). */
  batch?: number;
}

const FOLDERS = ['text_encoder_2', 'text_encoder', 'unet', 'vae_decoder_tiny', 'vae_decoder', 'vae_encoder', 'safety_checker'];

function modelOf(path: string): string {
  const parts = path.split(sep);
  for (let i = parts.length - 1; i >= 0; i--) if (FOLDERS.includes(parts[i]!)) return parts[i]!;
  return basename(dirname(path));
}

export interface SessionSpy {
  readonly events: SessionEvent[];
  /** Most sessions open at the same time so far. */
  readonly maxOpen: number;
  /** Sessions open now, by model. */
  open(): string[];
  restore(): void;
}

export function spySessions(): SessionSpy {
  const events: SessionEvent[] = [];
  const live = new Map<ort.InferenceSession, string>();
  let maxOpen = 0;
  const original = ort.InferenceSession.create;
  const create = async (...args: unknown[]): Promise<ort.InferenceSession> => {
    const session = await (original as (...a: unknown[]) => Promise<ort.InferenceSession>).apply(ort.InferenceSession, args);
    const model = typeof args[0] === 'string' ? modelOf(args[0]) : 'buffer';
    events.push({ kind: 'load', model });
    live.set(session, model);
    maxOpen = Math.max(maxOpen, live.size);
    const run = session.run.bind(session) as (...a: unknown[]) => Promise<ort.InferenceSession.OnnxValueMapType>;
    (session as { run: unknown }).run = (feeds: Record<string, ort.Tensor>, ...rest: unknown[]) => {
      const first = feeds[session.inputNames[0]!];
      events.push({ kind: 'run', model, batch: first?.dims[0] });
      return run(feeds, ...rest);
    };
    const release = session.release.bind(session);
    (session as { release: unknown }).release = () => {
      if (live.delete(session)) events.push({ kind: 'release', model });
      return release();
    };
    return session;
  };
  (ort.InferenceSession as { create: unknown }).create = create;
  return {
    events,
    get maxOpen() {
      return maxOpen;
    },
    open: () => [...live.values()],
    restore: () => {
      (ort.InferenceSession as { create: unknown }).create = original;
    },
  };
}
