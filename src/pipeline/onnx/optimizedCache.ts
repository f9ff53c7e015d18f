// The optimized-graph cache: ONNX Runtime spends most of a large model's session creation optimizing the graph
// (constant folding, fusions, layout changes). It can write the result (SessionOptions.optimizedModelFilePath) and a
// later session can load that with optimization off. The cache sits beside the model file it was made from:
//
//   <name>.ort-<provider>.json               the stamp: what the entry was built from, and which files hold it
//   <name>.ort-<provider>.<id>.onnx          the optimized graph
//   <name>.ort-<provider>.<id>.onnx.data     its weights (external, so models over protobuf's 2 GB limit work)
//
// <id> is unique per build: ONNX Runtime records the data file's name inside the graph, so a pair cannot be renamed
// after it is written. Two processes that build at once (a bot and a worker sharing a folder, parallel tests) each
// write their own pair; the stamp, replaced atomically and written last, names the pair in use, and a build removes
// the pairs the stamp no longer names. An entry is used only when its stamp parses and matches the source (the model
// file and every file beside it that may hold weights: size and mtime), the ONNX Runtime version, the provider and
// this CPU (the optimized graph may hold layouts for this CPU's vector width), and its files have the recorded sizes.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeFileAtomic } from './modelFile.ts';

/** Bump when what we ask ONNX Runtime to write changes, so old entries are rebuilt. */
export const OPTIMIZED_CACHE_VERSION = 1;

export interface OptimizedCachePaths {
  dir: string;
  /** File names start with this. */
  prefix: string;
  stamp: string;
}

/** One build's files. */
export interface OptimizedCacheEntry {
  graph: string;
  data: string;
}

export interface OptimizedCacheKey {
  version: number;
  ort: string;
  provider: string;
  cpu: string;
  /** The source graph and each weight file beside it: name -> "size:mtimeMs". */
  sources: Record<string, string>;
}

interface Stamp extends OptimizedCacheKey {
  /** File names (in the model's folder) of the graph and its data. */
  graphFile: string;
  dataFile: string;
  graphBytes: number;
  dataBytes: number;
}

/** Our own cache files are not sources. (The attention rewrite's are: a rewritten UNet is a source in its own right.) */
const CACHE_FILE = /\.ort-[^/]*$/;

export function optimizedCachePaths(modelPath: string, provider: string): OptimizedCachePaths {
  const prefix = `${basename(modelPath).replace(/\.onnx$/i, '')}.ort-${provider}.`;
  const dir = dirname(modelPath);
  return { dir, prefix, stamp: join(dir, `${prefix}json`) };
}

/** A new build's file names. */
export function newEntry(paths: OptimizedCachePaths): OptimizedCacheEntry {
  const graph = join(paths.dir, `${paths.prefix}${randomBytes(4).toString('hex')}.onnx`);
  return { graph, data: `${graph}.data` };
}

export async function optimizedCacheKey(modelPath: string, provider: string): Promise<OptimizedCacheKey> {
  const dir = dirname(modelPath);
  const sources: Record<string, string> = {};
  const own = basename(modelPath);
  for (const name of (await readdir(dir)).sort()) {
    // The graph and every file beside it that may hold its weights (an attention-rewritten graph keeps its weights in
    // the original model.onnx): an edited weight file must invalidate the entry even when the graph is untouched.
    if (name !== own && (name.endsWith('.json') || CACHE_FILE.test(name))) continue;
    const s = await stat(join(dir, name)).catch(() => undefined);
    if (s?.isFile()) sources[name] = `${s.size}:${Math.round(s.mtimeMs)}`;
  }
  return { version: OPTIMIZED_CACHE_VERSION, ort: ort.env.versions.node ?? ort.env.versions.common, provider, cpu: `${process.arch} ${cpus()[0]?.model ?? 'unknown'}`, sources };
}

/** The entry the stamp names, when the stamp is intact, matches `key`, and both files have the recorded sizes. */
export async function validOptimizedCache(paths: OptimizedCachePaths, key: OptimizedCacheKey): Promise<OptimizedCacheEntry | undefined> {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(paths.stamp, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  if (JSON.stringify(key) !== JSON.stringify({ version: stamp.version, ort: stamp.ort, provider: stamp.provider, cpu: stamp.cpu, sources: stamp.sources })) return undefined;
  if (typeof stamp.graphFile !== 'string' || typeof stamp.dataFile !== 'string' || !stamp.graphFile.startsWith(paths.prefix) || !stamp.dataFile.startsWith(paths.prefix)) return undefined;
  const entry = { graph: join(paths.dir, stamp.graphFile), data: join(paths.dir, stamp.dataFile) };
  const [graph, data] = await Promise.all([stat(entry.graph).catch(() => undefined), stat(entry.data).catch(() => undefined)]);
  return graph?.size === stamp.graphBytes && (data?.size ?? 0) === stamp.dataBytes ? entry : undefined;
}

/**
 * Session options that make ONNX Runtime write the optimized graph while it creates the session: the graph to
 * paths.graph, every initializer to paths.data (the location is stored relative to the graph, so the pair must stay
 * together under these names).
 */
export function writeOptions(entry: OptimizedCacheEntry): Pick<ort.InferenceSession.SessionOptions, 'optimizedModelFilePath' | 'extra'> {
  return {
    optimizedModelFilePath: entry.graph,
    extra: {
      'session.optimized_model_external_initializers_file_name': basename(entry.data),
      // Weights go to the data file, so the graph file stays small whatever the model's size; small constants (shape
      // tensors) stay inline, where shape inference must read them when the graph loads.
      'session.optimized_model_external_initializers_min_size_in_bytes': '1024',
    },
  };
}

/** Records a freshly written entry as the one to use (call after the session that wrote it was created). */
export async function stampOptimizedCache(paths: OptimizedCachePaths, entry: OptimizedCacheEntry, key: OptimizedCacheKey): Promise<void> {
  const [graph, data] = await Promise.all([stat(entry.graph), stat(entry.data).catch(() => undefined)]);
  const stamp: Stamp = { ...key, graphFile: basename(entry.graph), dataFile: basename(entry.data), graphBytes: graph.size, dataBytes: data?.size ?? 0 };
  await writeFileAtomic(paths.stamp, JSON.stringify(stamp, null, 1));
}

/** Removes every entry's files except `keep` (the stamp goes too unless it names `keep`). */
export async function removeOptimizedCache(paths: OptimizedCachePaths, keep?: OptimizedCacheEntry): Promise<void> {
  const kept = new Set(keep ? [basename(keep.graph), basename(keep.data)] : []);
  if (!keep) await rm(paths.stamp, { force: true });
  const names = await readdir(paths.dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(paths.prefix) && !kept.has(name) && join(paths.dir, name) !== paths.stamp && !name.includes('.json.'))
      .map((name) => rm(join(paths.dir, name), { force: true })),
  );
}
