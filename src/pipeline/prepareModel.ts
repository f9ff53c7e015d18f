// What a sub-model file becomes before a session loads it: the UNet and the VAE (decoder and encoder: their
// mid-block self-attention has 4096 tokens at 512x512, 16384 at 1024x1024) get the memory-saving attention rewrite,
// and an encoder that samples inside its graph gets its sampling taken out.
// Each step caches its result beside the model file, so this costs a stat and a hash check after the first run.
import type { AttentionSlicing, ProviderName } from './types.ts';
import { prepareUnet } from './attention/index.ts';
import { withoutInGraphSampling } from './encoderSampling.ts';

export type PreparedPart = 'unet' | 'vaeDecoder' | 'vaeEncoder';

export interface PrepareModelOptions {
  attentionSlicing: AttentionSlicing;
  provider: ProviderName;
  log?: (message: string) => void;
}

export interface PreparedModel {
  path: string;
  /** The attention rewrite applied (e.g. "flash x16"), or 'none'/'off'. */
  attention: string;
}

export function isPreparedPart(part: string): part is PreparedPart {
  return part === 'unet' || part === 'vaeDecoder' || part === 'vaeEncoder';
}

export async function prepareModel(part: PreparedPart, path: string, options: PrepareModelOptions): Promise<PreparedModel> {
  // An encoder that samples inside its graph first loses the sampling (./encoderSampling.ts), then gets the attention rewrite.
  const source = part === 'vaeEncoder' ? await withoutInGraphSampling(path, options.log) : path;
  const prepared = await prepareUnet(source, options.attentionSlicing, { provider: options.provider, log: options.log });
  return { path: prepared.path, attention: prepared.applied };
}
