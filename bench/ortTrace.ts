// Records every ONNX Runtime run in this process (start, end, which sub-model) by wrapping
// InferenceSession.prototype.run. Installed before the pipeline creates its sessions, so the pipeline's own per-session
// wrapper (which binds session.run at creation) binds this one. The pipeline's `timings` only gives totals per
// generation; the trace lets the benchmark split each denoising step into time inside and outside ONNX Runtime.
import * as ort from 'onnxruntime-node';

export type OrtPart = 'unet' | 'textEncoder' | 'vae' | 'safetyChecker' | 'other';

export interface OrtRun {
  part: OrtPart;
  start: number;
  end: number;
}

function partOf(session: ort.InferenceSession): OrtPart {
  const inputs = session.inputNames;
  if (inputs.includes('encoder_hidden_states')) return 'unet';
  if (inputs.includes('input_ids')) return 'textEncoder';
  if (inputs.includes('latent_sample') || (inputs.includes('sample') && inputs.length === 1)) return 'vae';
  if (inputs.includes('clip_input')) return 'safetyChecker';
  return 'other';
}

type Run = (this: ort.InferenceSession, ...args: unknown[]) => Promise<unknown>;

/** Start recording; returns the (live) list of runs. Call once per process, before any session is created. */
export function traceOrtRuns(): OrtRun[] {
  const runs: OrtRun[] = [];
  // The exported value is typed as a factory; at run time it is the class, whose prototype holds run().
  const proto = (ort.InferenceSession as unknown as { prototype: { run: Run } }).prototype;
  const original = proto.run;
  proto.run = async function traced(this: ort.InferenceSession, ...args: unknown[]) {
    const start = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      runs.push({ part: partOf(this), start, end: performance.now() });
    }
  };
  return runs;
}

export interface StepTiming {
  /** 1-based step number. */
  step: number;
  wallMs: number;
  /** Time inside ONNX Runtime runs (the UNet pass or passes) within the step. */
  ortMs: number;
}

/**
 * Per-step wall and ORT time. Step i (i >= 2) runs from progress event i-1 to progress event i: scheduler input
 * scaling, the guidance batch copies, the UNet run, the guidance combination, the scheduler step, the yield to the
 * event loop. Step 1 starts when the last ORT run before the first UNet run (text encoding) ended, so it also holds
 * the initial-noise draw.
 */
export function stepTimings(runs: readonly OrtRun[], progressAt: readonly number[]): StepTiming[] {
  const firstUnet = runs.find((r) => r.part === 'unet');
  if (!firstUnet || progressAt.length === 0) return [];
  const before = runs.filter((r) => r.end <= firstUnet.start);
  const loopStart = before.length ? Math.max(...before.map((r) => r.end)) : firstUnet.start;
  return progressAt.map((end, i) => {
    const start = i === 0 ? loopStart : progressAt[i - 1]!; // i >= 1 here
    const ortMs = runs.filter((r) => r.start >= start && r.end <= end).reduce((sum, r) => sum + (r.end - r.start), 0);
    return { step: i + 1, wallMs: end - start, ortMs };
  });
}
