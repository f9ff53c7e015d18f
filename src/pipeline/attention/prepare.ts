// prepareUnet: the pipeline's entry point. Finds the UNet's attention blocks, rewrites them for the chosen mode, and
// caches the result beside the model so the rewrite runs once per model file and mode.
import { basename } from 'node:path';
import { encodeModel } from '../onnx/build.ts';
import { loadModelFile, referenceInlineWeights, writeFileAtomic } from '../onnx/modelFile.ts';
import type { AttentionSlicing, ProviderName } from '../types.ts';
import { cacheKey, cachePaths, sha256, validStamp } from './cache.ts';
import type { CacheStamp } from './cache.ts';
import { defaultOpset, findAttentionBlocks } from './find.ts';
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
  if (planAttention([], mode, opts).applied === 'off') {
    return { path: modelPath, blocks: 0, applied: 'off', fromCache: false };
  }
  const key = await cacheKey(modelPath, name, opts.provider);
  const paths = cachePaths(modelPath, name, opts.provider);
  const cached = await validStamp(paths, key);
  if (cached) {
    log(`attention: using cached ${cached.sha256 ? basename(paths.graph) : 'pass-through'} for ${basename(modelPath)} (${cached.applied})`);
    return { path: cached.sha256 ? paths.graph : modelPath, blocks: cached.blocks, applied: cached.applied, fromCache: true };
  }

  const started = Date.now();
  const { model, bytes } = await loadModelFile(modelPath);
  const opset = defaultOpset(model);
  const blocks = model.graph ? findAttentionBlocks(model.graph, { opset }) : [];
  const stamp = async (s: Omit<CacheStamp, keyof typeof key>) => {
    try {
      await writeFileAtomic(paths.stamp, JSON.stringify({ ...key, ...s }, null, 1));
    } catch (err) {
      log(`attention: could not write cache stamp ${paths.stamp}: ${String(err)}`);
    }
  };
  if (blocks.length === 0 || opset < MIN_OPSET) {
    const why = blocks.length === 0 ? 'no attention pattern found' : `opset ${opset} < ${MIN_OPSET}`;
    log(`attention: ${why} in ${basename(modelPath)}; using it unchanged`);
    await stamp({ sha256: null, blocks: blocks.length, applied: 'none' });
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
  await stamp({ sha256: sha256(encoded), blocks: blocks.length, applied: plan.applied });
  log(`attention: ${blocks.length} blocks in ${basename(modelPath)} -> ${plan.applied} (mode ${name}, ${opts.provider}) in ${Date.now() - started} ms`);
  return { path: paths.graph, blocks: blocks.length, applied: plan.applied, fromCache: false };
}
