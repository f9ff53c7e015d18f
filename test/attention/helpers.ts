// Running graphs in onnxruntime-node for the attention tests: same inputs, every output, max abs difference.
import * as ort from 'onnxruntime-node';
import { toHalf } from './unetLike.ts';
import type { UnetLikeSpec } from './unetLike.ts';
import { unetLikeInputs } from './unetLike.ts';
import { float16Value } from '../../src/pipeline/tensor.ts';

export type Outputs = Record<string, Float32Array>;

export async function runModel(source: string | Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Outputs> {
  const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };
  const session = typeof source === 'string' ? await ort.InferenceSession.create(source, opts) : await ort.InferenceSession.create(source, opts);
  try {
    const out = await session.run(feeds);
    const result: Outputs = {};
    for (const [k, t] of Object.entries(out)) result[k] = asFloat32(t);
    return result;
  } finally {
    await session.release();
  }
}

export function asFloat32(t: ort.Tensor): Float32Array {
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, float16Value);
  return Float32Array.from(t.data as Float32Array);
}

export function floatTensor(dtype: 'float32' | 'float16', data: Float32Array, dims: number[]): ort.Tensor {
  return dtype === 'float32' ? new ort.Tensor('float32', data, dims) : new ort.Tensor('float16', Uint16Array.from(data, toHalf), dims);
}

/**
 * Inputs for a built graph. With spec.mask, `maskShape` picks the attention_mask's leading dims: 'keys' [batch*heads,
 * 1, ctx] (diffusers' prepare_attention_mask), 'shared' [1, 1, ctx], 'rows' [batch*heads, tokens, ctx]; masked
 * positions get -10000 as diffusers' mask does.
 */
export function unetLikeFeeds(spec: UnetLikeSpec, batch: number, tokens: number, ctxTokens: number, maskShape: 'keys' | 'shared' | 'rows' = 'keys'): Record<string, ort.Tensor> {
  const i = unetLikeInputs(spec, batch, tokens, ctxTokens);
  const dtype = spec.dtype ?? 'float32';
  const feeds: Record<string, ort.Tensor> = { sample: floatTensor(dtype, i.sample, i.sampleDims), encoder_hidden_states: floatTensor(dtype, i.context, i.contextDims) };
  if (spec.mask) {
    const dims = maskShape === 'shared' ? [1, 1, ctxTokens] : maskShape === 'keys' ? [batch * spec.heads, 1, ctxTokens] : [batch * spec.heads, tokens, ctxTokens];
    const n = dims.reduce((a, b) => a * b, 1);
    // Mask a pseudo-random third of the keys, never all of one row.
    const values = Float32Array.from({ length: n }, (_, j) => (j % ctxTokens !== 0 && (j * 7919) % 3 === 0 ? -10000 : 0));
    feeds.attention_mask = floatTensor(dtype, values, dims);
  }
  return feeds;
}

/** Largest |a - b| over all outputs; throws when the output sets or sizes differ. */
export function maxAbsDiff(a: Outputs, b: Outputs): number {
  const keys = Object.keys(a).sort();
  if (keys.join() !== Object.keys(b).sort().join()) throw new Error(`outputs differ: ${keys} vs ${Object.keys(b)}`);
  let worst = 0;
  for (const k of keys) {
    const x = a[k]!, y = b[k]!; // both hold every key (checked above)
    if (x.length !== y.length) throw new Error(`${k}: ${x.length} vs ${y.length} elements`);
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i]! - y[i]!);
      if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    }
  }
  return worst;
}
