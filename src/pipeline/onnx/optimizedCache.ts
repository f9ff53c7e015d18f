// The optimized-graph cache: ONNX Runtime spends most of a large model's session creation optimizing the graph
// (constant folding, fusions, layout changes). It can write the result (SessionOptions.optimizedModelFilePath) and a
// later session can load that with optimization off. The cache sits beside the model file it was made from:
//
//   <name>.ort-<provider>.onnx         the optimized graph
//   <name>.ort-<provider>.onnx.data    its weights (external, so models over protobuf's 2 GB limit work)
//   <name>.ort-<provider>.onnx.json    the stamp, written last: what it was built from and the two files' sizes
//
// An entry is used only when its stamp parses and matches the source (the model file and every weight file beside
// it: size and mtime), the ONNX Runtime version, the provider and this CPU (the optimized graph may hold layouts for
// this CPU's vector width); otherwise it is rebuilt. A crash mid-build leaves no stamp, or sizes that do not match.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { writeFileAtomic } from './modelFile.ts';

/** Bump when what we ask ONNX Runtime to write changes, so old entries are rebuilt. */
export const OPTIMIZED_CACHE_VERSION = 1;

export interface OptimizedCachePaths {
  graph: string;
  data: string;
  stamp: string;
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
  graphBytes: number;
  dataBytes: number;
}

/** Our own cache files are not sources. (The attention rewrite's are: a rewritten UNet is a source in its own right.) */
const CACHE_FILE = /\.ort-[^/]*$/;

export function optimizedCachePaths(modelPath: string, provider: string): OptimizedCachePaths {
  const base = basename(modelPath).replace(/\.onnx$/i, '');
  const graph = join(dirname(modelPath), `${base}.ort-${provider}.onnx`);
  return { graph, data: `${graph}.data`, stamp: `${graph}.json` };
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

/** True when the stamp is intact, matches `key`, and both cache files have the sizes it recorded. */
export async function validOptimizedCache(paths: OptimizedCachePaths, key: OptimizedCacheKey): Promise<boolean> {
  let stamp: Stamp;
  try {
    stamp = JSON.parse(await readFile(paths.stamp, 'utf8')) as Stamp;
  } catch {
    return false;
  }
  if (JSON.stringify({ ...key }) !== JSON.stringify({ version: stamp.version, ort: stamp.ort, provider: stamp.provider, cpu: stamp.cpu, sources: stamp.sources })) return false;
  const [graph, data] = await Promise.all([stat(paths.graph).catch(() => undefined), stat(paths.data).catch(() => undefined)]);
  return graph?.size === stamp.graphBytes && (data?.size ?? 0) === stamp.dataBytes;
}

/**
 * Session options that make ONNX Runtime write the optimized graph while it creates the session: the graph to
 * paths.graph, every initializer to paths.data (the location is stored relative to the graph, so the pair must stay
 * together under these names).
 */
export function writeOptions(paths: OptimizedCachePaths): Pick<ort.InferenceSession.SessionOptions, 'optimizedModelFilePath' | 'extra'> {
  return {
    optimizedModelFilePath: paths.graph,
    extra: {
      'session.optimized_model_external_initializers_file_name': basename(paths.data),
      // Weights go to the data file, so the graph file stays small whatever the model's size; small constants (shape
      // tensors) stay inline, where shape inference must read them when the graph loads.
      'session.optimized_model_external_initializers_min_size_in_bytes': '1024',
    },
  };
}

/** Records a freshly written entry (call after the session that wrote it was created). */
export async function stampOptimizedCache(paths: OptimizedCachePaths, key: OptimizedCacheKey): Promise<void> {
  const [graph, data] = await Promise.all([stat(paths.graph), stat(paths.data).catch(() => undefined)]);
  const stamp: Stamp = { ...key, graphBytes: graph.size, dataBytes: data?.size ?? 0 };
  await writeFileAtomic(paths.stamp, JSON.stringify(stamp, null, 1));
}

/** Removes an entry (stamp first, so a half-removed entry is never trusted). */
export async function removeOptimizedCache(paths: OptimizedCachePaths): Promise<void> {
  await rm(paths.stamp, { force: true });
  await Promise.all([rm(paths.graph, { force: true }), rm(paths.data, { force: true })]);
}
