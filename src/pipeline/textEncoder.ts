// Prompt -> CLIP hidden states. One prompt per run with batch 1: every export accepts that, and the pipeline only
// ever needs two distinct texts (negative and positive), which it then repeats for the batch.
import type { LoadedSession } from './session.ts';
import { inputSpec, outputAsFloat32, runSession, tensorFor } from './session.ts';

export interface TextTokenizer {
  encode(text: string): { ids: number[]; truncated: boolean };
}

export interface Embedding {
  /** [1, tokens, hidden] flattened. */
  data: Float32Array;
  tokens: number;
  hidden: number;
  truncated: boolean;
}

export async function encodeText(encoder: LoadedSession, tokenizer: TextTokenizer, text: string): Promise<Embedding> {
  const { ids, truncated } = tokenizer.encode(text);
  const spec = inputSpec(encoder, 'input_ids');
  const out = await runSession(encoder, { input_ids: tensorFor(spec.type, ids, [1, ids.length]) });
  const [firstOutput = 'last_hidden_state'] = encoder.session.outputNames;
  const hiddenTensor = out.last_hidden_state ?? out[firstOutput];
  if (!hiddenTensor) throw new Error(`${encoder.path}: the text encoder returned no last_hidden_state`);
  const dims = hiddenTensor.dims;
  const [, tokens, hidden] = dims;
  if (dims.length !== 3 || tokens === undefined || hidden === undefined) throw new Error(`${encoder.path}: last_hidden_state has shape [${dims.join(', ')}]; expected [1, tokens, hidden]`);
  return { data: outputAsFloat32(hiddenTensor), tokens, hidden, truncated };
}

/** Stack embeddings into one [n, tokens, hidden] batch, in the given order. */
export function stackEmbeddings(parts: Embedding[]): Float32Array {
  const [first] = parts;
  if (!first) throw new Error('stackEmbeddings: no embeddings to stack');
  const size = first.data.length;
  const out = new Float32Array(size * parts.length);
  parts.forEach((p, i) => out.set(p.data, i * size));
  return out;
}
