// prepareUnet: the pipeline's entry point. Finds the UNet's attention blocks, rewrites them for the chosen mode, and
// caches the result beside the model so the rewrite runs once per model file and mode.
import { basename } from 'node:path';
import { encodeModel } from '../onnx/build.ts';
import { loadModelFile, referenceInlineWeights, writeFileAtomic } from '../onnx/modelFile.ts';
import type { AttentionSlicing, ProviderName } from '../types.ts';
import { cacheKey, cachePaths, sha256, validStamp } from './cache.ts';
import type { CacheStamp } from './cache.ts';
import { defaultOpset, findAttention } from './find.ts';
import { WARNING_PREFIX } from '../logLevel.ts';
import { modeName, planAttention } from './plan.ts';
import { MIN_OPSET, rewriteAttention } from './rewrite.ts';

export interface PrepareOptions {
  provider: ProviderName;
  log?: (msg: string) => void;
}

export interface PreparedUnet {
  /** The model file to load: the cached rewrite, or the original when nothing was changed. */
  path: string;
  /** Attention blocks found in the graph. */
  blocks: number;
  /** What was done, e.g. "flash x16", "slice(16) x32", "off", "none". */
  applied: string;
  /** True when a valid cache entry was used and nothing was rewritten in this call. */
  fromCache: boolean;
}

export async function prepareUnet(modelPath: string, mode: AttentionSlicing, opts: PrepareOptions): Promise<PreparedUnet> {
  const log = opts.log ?? (() => {});
  const name = modeName(mode);
  const file = basename(modelPath);
  if (planAttention([], mode, opts).applied === 'off') {
    log(`attention: ${file}: mode off, not searched or rewritten`);
    return { path: modelPath, blocks: 0, applied: 'off', fromCache: false };
  }
  const key = await cacheKey(modelPath, name, opts.provider);
  const paths = cachePaths(modelPath, name, opts.provider);
  const cached = await validStamp(paths, key);
  if (cached) {
    log(`${cached.summary ?? `attention: ${file}: ${cached.blocks} blocks -> ${cached.applied}`} (cached ${cached.sha256 ? basename(paths.graph) : 'pass-through'})`);
    return { path: cached.sha256 ? paths.graph : modelPath, blocks: cached.blocks, applied: cached.applied, fromCache: true };
  }

  const started = Date.now();
  const { model, bytes } = await loadModelFile(modelPath);
  const opset = defaultOpset(model);
  const { blocks, skipped } = model.graph ? findAttention(model.graph, { opset }) : { blocks: [], skipped: [] };
  const stamp = async (s: Omit<CacheStamp, keyof typeof key>) => {
    try {
      await writeFileAtomic(paths.stamp, JSON.stringify({ ...key, ...s }, null, 1));
    } catch (err) {
      log(`attention: could not write cache stamp ${paths.stamp}: ${String(err)}`);
    }
  };
  const context = `(mode ${name}, ${opts.provider})`;
  if (blocks.length === 0 || opset < MIN_OPSET) {
    const why = blocks.length === 0 ? (skipped.length ? 'no block it can rewrite' : 'no attention pattern found') : `opset ${opset} < ${MIN_OPSET}, needed to rewrite`;
    const leftAlone = [...skipped.map((s) => s.reason), ...blocks.map(() => `opset ${opset} < ${MIN_OPSET}`)];
    const summary = reportLine(file, blocks.length, 0, 0, new Map(), leftAlone, `: ${why}; using it unchanged ${context}`);
    log(summary);
    await stamp({ sha256: null, blocks: blocks.length, applied: 'none', summary });
    return { path: modelPath, blocks: blocks.length, applied: 'none', fromCache: false };
  }

  const plan = planAttention(blocks, mode, opts);
  const rewritten = rewriteAttention(model, plan);
  // Large inline weights become references into the original file; external-data locations are relative and the
  // cache sits in the same folder, so they keep resolving. Either way no weights are copied.
  referenceInlineWeights(rewritten, bytes, basename(modelPath));
  const encoded = encodeModel(rewritten);
  try {
    await writeFileAtomic(paths.graph, encoded);
  } catch (err) {
    log(`attention: cannot write ${paths.graph} (${String(err)}); using ${basename(modelPath)} unchanged`);
    return { path: modelPath, blocks: blocks.length, applied: 'none', fromCache: false };
  }
  const summary = reportLine(file, blocks.length, plan.fused, plan.sliced, plan.notFused, skipped.map((s) => s.reason), ` -> ${plan.applied} ${context}`);
  await stamp({ sha256: sha256(encoded), blocks: blocks.length, applied: plan.applied, summary });
  log(`${summary} in ${Date.now() - started} ms`);
  return { path: paths.graph, blocks: blocks.length, applied: plan.applied, fromCache: false };
}

/**
 * The one line per model: blocks found, fused, sliced (and why not fused), left alone (and why). Attention-shaped
 * chains left alone make it a warning: they keep their full-size score tensors, so silence must mean nothing to save.
 */
export function reportLine(file: string, found: number, fused: number, sliced: number, notFused: Map<string, number>, leftAlone: string[], tail: string): string {
  const counts = (reasons: Iterable<[string, number]>) => [...reasons].map(([why, n]) => `${n}x ${why}`).join('; ');
  const grouped = new Map<string, number>();
  for (const r of leftAlone) grouped.set(r, (grouped.get(r) ?? 0) + 1);
  const parts = [
    `${found} attention blocks found`,
    `${fused} fused`,
    `${sliced} sliced${notFused.size ? ` (not fusable: ${counts(notFused)})` : ''}`,
    `${leftAlone.length} left alone${grouped.size ? ` (${counts(grouped)})` : ''}`,
  ];
  const line = `attention: ${file}: ${parts.join(', ')}${tail}`;
  return leftAlone.length ? `${WARNING_PREFIX}${line}; the chains left alone keep their full-size attention scores` : line;
}
