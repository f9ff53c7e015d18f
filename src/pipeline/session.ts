// ONNX Runtime sessions: execution-provider selection with a logged CPU fallback, and feeds built from each
// session's own input metadata (dtypes and ranks are never assumed: exports differ in both).
import { basename } from 'node:path';
import * as ort from 'onnxruntime-node';
import { rm, stat } from 'node:fs/promises';
import { filesOf } from './onnx/prefetch.ts';
import { newEntry, optimizedCacheKey, optimizedCachePaths, removeOptimizedCache, stampOptimizedCache, validOptimizedCache, writeOptions } from './onnx/optimizedCache.ts';
import type { ProviderName } from './types.ts';
import { float32ToFloat16 as toFloat16, float16ToFloat32 as toFloat32 } from './tensor.ts';

export interface SessionSettings {
  provider: ProviderName;
  intraOpThreads?: number;
  interOpThreads?: number;
  /**
   * Keep ONNX Runtime's optimized graph beside the model and load that next time (./onnx/optimizedCache.ts): the
   * optimization is most of a large model's load time. Costs disk about the model's size. Default false.
   */
  optimizedCache?: boolean;
  log?: (message: string) => void;
}

export interface LoadedSession {
  session: ort.InferenceSession;
  /** The provider that actually runs the graph (CPU when the requested one was unavailable). */
  provider: ProviderName;
  path: string;
}

/** onnxruntime-node names for our provider names. */
const ORT_PROVIDER: Record<ProviderName, string> = { cpu: 'cpu', cuda: 'cuda', dml: 'dml', coreml: 'coreml', webgpu: 'webgpu' };

function sessionOptions(settings: SessionSettings, provider: ProviderName): ort.InferenceSession.SessionOptions {
  const providers = provider === 'cpu' ? ['cpu'] : [ORT_PROVIDER[provider], 'cpu'];
  return {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    ...(settings.intraOpThreads ? { intraOpNumThreads: settings.intraOpThreads } : {}),
    ...(settings.interOpThreads ? { interOpNumThreads: settings.interOpThreads } : {}),
    logSeverityLevel: 3,
  };
}

/**
 * Create a session from a file path (so external weight files such as model.onnx_data resolve beside it).
 * A GPU provider that cannot start (no CUDA binaries, no driver) falls back to CPU with a log line instead of failing.
 */
export async function createSession(path: string, settings: SessionSettings): Promise<LoadedSession> {
  if (settings.provider !== 'cpu') {
    try {
      const session = await createOptimized(path, settings, settings.provider);
      return { session, provider: settings.provider, path };
    } catch (err) {
      settings.log?.(`execution provider "${settings.provider}" unavailable (${firstLine(err)}); falling back to CPU for ${path}`);
    }
  }
  const session = await createOptimized(path, settings, 'cpu');
  return { session, provider: 'cpu', path };
}

/**
 * One provider's session, through the optimized-graph cache when enabled: a valid entry loads with optimization off;
 * otherwise the session is created from the model as usual while ONNX Runtime writes the entry. A cache problem
 * (unwritable folder, a corrupt entry ONNX Runtime refuses) costs only the cache: the model still loads.
 */
async function createOptimized(path: string, settings: SessionSettings, provider: ProviderName): Promise<ort.InferenceSession> {
  const options = sessionOptions(settings, provider);
  if (!settings.optimizedCache) return ort.InferenceSession.create(path, options);
  const paths = optimizedCachePaths(path, provider);
  const key = await optimizedCacheKey(path, provider);
  const cached = await validOptimizedCache(paths, key);
  if (cached) {
    try {
      return await ort.InferenceSession.create(cached.graph, { ...options, graphOptimizationLevel: 'disabled' });
    } catch (err) {
      settings.log?.(`optimized-graph cache ${basename(cached.graph)} could not be loaded (${firstLine(err)}); rebuilding it`);
    }
  }
  const entry = newEntry(paths);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(path, { ...options, ...writeOptions(entry) });
  } catch (err) {
    // Perhaps only the writing failed (a read-only model folder): load without the cache, and say so.
    await rm(entry.graph, { force: true });
    await rm(entry.data, { force: true });
    const plain = await ort.InferenceSession.create(path, options);
    settings.log?.(`optimized-graph cache for ${basename(path)} not written (${firstLine(err)}); loading without it`);
    return plain;
  }
  try {
    await stampOptimizedCache(paths, entry, key);
    // Older builds (and a concurrent build that lost) are no longer named by the stamp.
    await removeOptimizedCache(paths, entry);
    settings.log?.(`optimized-graph cache written for ${basename(path)} (next loads skip graph optimization)`);
  } catch (err) {
    await rm(entry.graph, { force: true });
    await rm(entry.data, { force: true });
    settings.log?.(`optimized-graph cache for ${basename(path)} not kept (${firstLine(err)})`);
  }
  return session;
}

/**
 * The files createSession(path) will read: the cached optimized graph and its data when the cache is on and valid,
 * else the model file and the files beside it that may hold its weights (JSON and our caches left out).
 */
export async function sessionFiles(path: string, settings: Pick<SessionSettings, 'provider' | 'optimizedCache'>): Promise<{ path: string; bytes: number }[]> {
  if (settings.optimizedCache) {
    const entry = await validOptimizedCache(optimizedCachePaths(path, settings.provider), await optimizedCacheKey(path, settings.provider));
    // A small model's entry may have no data file (every initializer stayed inline).
    if (entry) return (await Promise.all([entry.graph, entry.data].map(async (p) => ({ path: p, bytes: (await stat(p).catch(() => undefined))?.size ?? 0 })))).filter((f) => f.bytes > 0);
  }
  return (await filesOf(path)).filter((f) => !/\.ort-[^/]*$/.test(f.path));
}

/** A CPU session opened only to read a file's input/output signatures: one thread, no graph optimisation. */
export function openForInspection(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
}

export function firstLine(err: unknown): string {
  const [first = ''] = String(err instanceof Error ? err.message : err).split('\n');
  return first;
}

export type InputType = 'float32' | 'float16' | 'int32' | 'int64';

export interface InputSpec {
  name: string;
  type: InputType;
  /** Declared dims: numbers are fixed, strings symbolic; an empty array is a scalar. */
  shape: readonly (number | string)[];
}

/** Declared metadata of one input; throws naming the model and the input when it is absent or of an unusable type. */
export function inputSpec(loaded: LoadedSession, name: string): InputSpec {
  const meta = loaded.session.inputMetadata.find((m) => m.name === name);
  if (!meta) throw new Error(`${loaded.path}: expected an input named "${name}"; the model has ${loaded.session.inputNames.join(', ')}`);
  if (!meta.isTensor) throw new Error(`${loaded.path}: input "${name}" is not a tensor`);
  const type = meta.type as string;
  if (type !== 'float32' && type !== 'float16' && type !== 'int32' && type !== 'int64') {
    throw new Error(`${loaded.path}: input "${name}" has type ${type}; expected float32, float16, int32 or int64`);
  }
  return { name, type, shape: meta.shape as (number | string)[] };
}

export function hasInput(loaded: LoadedSession, name: string): boolean {
  return loaded.session.inputNames.includes(name);
}

/** A tensor of the input's declared element type built from float values (ints are truncated, as numpy's astype does). */
export function tensorFor(type: InputType, values: Float32Array | readonly number[], dims: readonly number[]): ort.Tensor {
  switch (type) {
    case 'float32':
      return new ort.Tensor('float32', values instanceof Float32Array ? values : Float32Array.from(values), dims);
    case 'float16':
      return new ort.Tensor('float16', toFloat16(values instanceof Float32Array ? values : Float32Array.from(values)), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values, (v) => Math.trunc(v)), dims);
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v)))), dims);
  }
}

/** Any float output as float32 (fp16 models hand back Uint16Array bit patterns). */
export function outputAsFloat32(tensor: ort.Tensor): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') return toFloat32(tensor.data as Uint16Array);
  throw new Error(`expected a float output, got ${tensor.type}`);
}

export async function runSession(loaded: LoadedSession, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  return loaded.session.run(feeds) as Promise<Record<string, ort.Tensor>>;
}

export async function releaseSession(loaded: LoadedSession | undefined): Promise<void> {
  if (loaded) await loaded.session.release();
}
