// The rewritten-UNet cache: <model>.attn-<mode>-<provider>.onnx beside the original (so relative external-data
// locations still resolve) plus a JSON stamp saying which source file and mode it was built from and the SHA-256 of the
// cached graph. An entry is used only when the stamp parses, matches the source's size and mtime, and the graph's
// hash matches: anything else (crash mid-write, truncation, edits) is rebuilt, never trusted.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ProviderName } from '../types.ts';

/** Bump when the rewrite's output changes, so old cache entries are rebuilt. */
export const REWRITE_VERSION = 2; // 2: baddbmm/Einsum/mask/upcast forms found, so v1's pass-through stamps are stale

export interface CacheKey {
  version: number;
  source: string;
  size: number;
  mtimeMs: number;
  mode: string;
  provider: ProviderName;
}

export interface CacheStamp extends CacheKey {
  /** SHA-256 of the cached .onnx; null when the model had no attention and is used unchanged. */
  sha256: string | null;
  blocks: number;
  applied: string;
  /** The one-line report logged when the entry was made, repeated when it is used. */
  summary?: string;
}

export interface CachePaths {
  graph: string;
  stamp: string;
}

export function cachePaths(modelPath: string, mode: string, provider: ProviderName): CachePaths {
  const base = basename(modelPath).replace(/\.onnx$/i, '');
  const graph = join(dirname(modelPath), `${base}.attn-${mode}-${provider}.onnx`);
  return { graph, stamp: `${graph}.json` };
}

export async function cacheKey(modelPath: string, mode: string, provider: ProviderName): Promise<CacheKey> {
  const s = await stat(modelPath);
  return { version: REWRITE_VERSION, source: basename(modelPath), size: s.size, mtimeMs: s.mtimeMs, mode, provider };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The stamp when it is intact, matches `key`, and (for a rewritten graph) the graph file's hash matches; else null. */
export async function validStamp(paths: CachePaths, key: CacheKey): Promise<CacheStamp | null> {
  let stamp: CacheStamp;
  try {
    stamp = JSON.parse(await readFile(paths.stamp, 'utf8')) as CacheStamp;
  } catch {
    return null;
  }
  const same = (Object.keys(key) as (keyof CacheKey)[]).every((k) => stamp[k] === key[k]);
  if (!same || typeof stamp.blocks !== 'number' || typeof stamp.applied !== 'string') return null;
  if (stamp.sha256 === null) return stamp;
  try {
    return sha256(await readFile(paths.graph)) === stamp.sha256 ? stamp : null;
  } catch {
    return null;
  }
}
