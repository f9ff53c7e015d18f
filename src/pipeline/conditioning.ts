// The text-conditioning step of each family: prompt and negative prompt -> the UNet's conditioning inputs, one row per
// UNet batch row. The denoising loop is shared; only this step differs between families.
//
//   sd    encoder_hidden_states = the text encoder's last_hidden_state (StableDiffusionPipeline.encode_prompt).
//   sdxl  as StableDiffusionXLPipeline.encode_prompt + __call__ do it:
//         - the same prompt goes through both tokenizers (each with its own pad token) and both encoders;
//         - encoder_hidden_states = hidden_states[-2] of text_encoder, then of text_encoder_2, side by side on the last
//           axis;
//         - text_embeds = text_encoder_2's pooled projection (its output 0, "text_embeds" in optimum's export);
//         - under guidance with no negative prompt and force_zeros_for_empty_prompt, the unconditional
//           encoder_hidden_states and text_embeds are zeros; otherwise the negative prompt ("" when none) is encoded
//           the same way;
//         - time_ids = original size (h, w) + crop top-left (0, 0) + target size (h, w), the same for both halves; the
//           img2img pipeline with requires_aesthetics_score uses (h, w, 0, 0, 6.0) and (h, w, 0, 0, 2.5) instead.
import type { Tensor } from 'onnxruntime-node';
import type { LoadedSession } from './session.ts';
import { inputSpec, outputAsFloat32, tensorFor } from './session.ts';
import { encodeText, type TextTokenizer } from './textEncoder.ts';
import { penultimateHiddenState } from './modelSignatures.ts';

/** Everything the UNet takes besides the latents and the timestep, with rows in the UNet batch's order. */
export interface UnetConditioning {
  /** [uncond x count; cond x count] under classifier-free guidance, else cond x count. */
  rows: number;
  /** [rows, tokens, width] flattened. */
  hidden: Float32Array;
  tokens: number;
  width: number;
  /** Further per-row inputs by UNet input name ([rows, width] flattened), e.g. SDXL's text_embeds and time_ids. */
  extras: Record<string, { data: Float32Array; width: number }>;
  /** True when the prompt or the negative prompt was cut to a tokenizer's limit. */
  truncated: boolean;
}

export interface ConditioningRequest {
  prompt: string;
  negativePrompt?: string;
  /** Classifier-free guidance: the unconditional rows come first. */
  guided: boolean;
  /** Images per prompt. */
  count: number;
  width: number;
  height: number;
  img2img: boolean;
}

/** One prompt's conditioning (batch 1). */
interface PromptRow {
  hidden: Float32Array;
  tokens: number;
  width: number;
  extras: Record<string, Float32Array>;
  truncated: boolean;
}

/** Repeat each prompt row `count` times: unconditional rows first, as the guidance step splits them. */
function stackRows(uncond: PromptRow | undefined, cond: PromptRow, count: number): UnetConditioning {
  const prompts = uncond ? [uncond, cond] : [cond];
  const rows = prompts.length * count;
  const repeat = (pick: (p: PromptRow) => Float32Array) => {
    const size = pick(cond).length;
    const out = new Float32Array(size * rows);
    prompts.forEach((p, k) => {
      const v = pick(p);
      if (v.length !== size) throw new Error(`conditioning rows differ in size (${v.length} vs ${size})`);
      for (let i = 0; i < count; i++) out.set(v, (k * count + i) * size);
    });
    return out;
  };
  const extras: UnetConditioning['extras'] = {};
  for (const [name, first] of Object.entries(cond.extras)) {
    const pick = (p: PromptRow) => {
      const v = p.extras[name];
      if (!v) throw new Error(`conditioning rows differ: one has no ${name}`);
      return v;
    };
    extras[name] = { data: repeat(pick), width: first.length };
  }
  return { rows, hidden: repeat((p) => p.hidden), tokens: cond.tokens, width: cond.width, extras, truncated: prompts.some((p) => p.truncated) };
}

// ---------------------------------------------------------------------------------------------------------------
// SD 1.x / 2.x

export async function sdConditioning(encoder: LoadedSession, tokenizer: TextTokenizer, r: ConditioningRequest): Promise<UnetConditioning> {
  const row = async (text: string): Promise<PromptRow> => {
    const e = await encodeText(encoder, tokenizer, text);
    return { hidden: e.data, tokens: e.tokens, width: e.hidden, extras: {}, truncated: e.truncated };
  };
  const cond = await row(r.prompt);
  const uncond = r.guided ? await row(r.negativePrompt ?? '') : undefined;
  return stackRows(uncond, cond, r.count);
}

// ---------------------------------------------------------------------------------------------------------------
// SDXL

export interface SdxlTextEncoder {
  session: LoadedSession;
  tokenizer: TextTokenizer;
}

export interface SdxlOptions {
  forceZerosForEmptyPrompt: boolean;
  requiresAestheticsScore: boolean;
}

/** diffusers' aesthetic_score and negative_aesthetic_score defaults (SDXL img2img with requires_aesthetics_score). */
export const AESTHETIC_SCORE = 6.0;
export const NEGATIVE_AESTHETIC_SCORE = 2.5;

/**
 * SDXL's micro-conditioning, as _get_add_time_ids builds it with diffusers' defaults: original_size = target_size =
 * (height, width), crops_coords_top_left = (0, 0), and the negative ids equal to the positive ones. With
 * requires_aesthetics_score (img2img only) the target size is replaced by the (negative) aesthetic score.
 */
export function sdxlTimeIds(o: { width: number; height: number; img2img: boolean; requiresAestheticsScore: boolean }): { cond: number[]; uncond: number[] } {
  const original = [o.height, o.width];
  const crop = [0, 0];
  if (o.img2img && o.requiresAestheticsScore) {
    return { cond: [...original, ...crop, AESTHETIC_SCORE], uncond: [...original, ...crop, NEGATIVE_AESTHETIC_SCORE] };
  }
  const ids = [...original, ...crop, o.height, o.width];
  return { cond: ids, uncond: [...ids] };
}

/** One encoder's penultimate hidden states (and, when asked, its pooled projection) for one text. */
async function encodeHiddenStates(encoder: SdxlTextEncoder, text: string, pooled: boolean): Promise<{ hidden: Float32Array; tokens: number; width: number; pooled?: Float32Array; truncated: boolean }> {
  const { session } = encoder.session;
  const path = encoder.session.path;
  const penultimate = penultimateHiddenState(session.outputNames);
  if (!penultimate) {
    throw new Error(`${path}: expected hidden_states.0 ... hidden_states.N outputs (SDXL conditions on the penultimate layer); the model has ${session.outputNames.join(', ')}`);
  }
  if (pooled && !session.outputNames.includes('text_embeds')) {
    throw new Error(`${path}: expected an output named "text_embeds" (the pooled projection SDXL feeds the UNet); the model has ${session.outputNames.join(', ')}`);
  }
  const { ids, truncated } = encoder.tokenizer.encode(text);
  const spec = inputSpec(encoder.session, 'input_ids');
  const out = (await session.run({ input_ids: tensorFor(spec.type, ids, [1, ids.length]) }, pooled ? [penultimate, 'text_embeds'] : [penultimate])) as Record<string, Tensor>;
  const h = out[penultimate];
  if (!h) throw new Error(`${path}: the model returned no ${penultimate}`);
  const [, tokens, width] = h.dims;
  if (h.dims.length !== 3 || tokens === undefined || width === undefined) throw new Error(`${path}: ${penultimate} has shape [${h.dims.join(', ')}]; expected [1, tokens, hidden]`);
  const textEmbeds = out.text_embeds;
  if (pooled && !textEmbeds) throw new Error(`${path}: the model returned no text_embeds`);
  return { hidden: outputAsFloat32(h), tokens, width, pooled: textEmbeds && pooled ? outputAsFloat32(textEmbeds) : undefined, truncated };
}

/** Concatenate [tokens, a] and [tokens, b] row by row into [tokens, a + b] (torch.concat(..., dim=-1)). */
export function concatLastAxis(parts: { data: Float32Array; width: number }[], tokens: number): Float32Array {
  const total = parts.reduce((n, p) => n + p.width, 0);
  const out = new Float32Array(tokens * total);
  for (let t = 0; t < tokens; t++) {
    let offset = t * total;
    for (const p of parts) {
      out.set(p.data.subarray(t * p.width, (t + 1) * p.width), offset);
      offset += p.width;
    }
  }
  return out;
}

async function sdxlPromptRow(encoders: SdxlTextEncoder[], text: string, timeIds: number[]): Promise<PromptRow> {
  const states = [];
  for (const [i, encoder] of encoders.entries()) states.push(await encodeHiddenStates(encoder, text, i === encoders.length - 1));
  const first = states[0];
  const last = states[states.length - 1];
  if (!first || !last) throw new Error('SDXL conditioning needs its text encoders; none were given');
  const tokens = first.tokens;
  for (const s of states) if (s.tokens !== tokens) throw new Error(`the SDXL text encoders returned ${s.tokens} and ${tokens} tokens; both tokenizers must pad to the same length`);
  const width = states.reduce((n, s) => n + s.width, 0);
  return {
    hidden: concatLastAxis(states.map((s) => ({ data: s.hidden, width: s.width })), tokens),
    tokens,
    width,
    // "We are only ALWAYS interested in the pooled output of the final text encoder"
    extras: { text_embeds: last.pooled!, time_ids: Float32Array.from(timeIds) },
    truncated: states.some((s) => s.truncated),
  };
}

/** encoders: [text_encoder, text_encoder_2] in that order. */
export async function sdxlConditioning(encoders: SdxlTextEncoder[], options: SdxlOptions, r: ConditioningRequest): Promise<UnetConditioning> {
  const ids = sdxlTimeIds({ width: r.width, height: r.height, img2img: r.img2img, requiresAestheticsScore: options.requiresAestheticsScore });
  const cond = await sdxlPromptRow(encoders, r.prompt, ids.cond);
  let uncond: PromptRow | undefined;
  if (r.guided) {
    // The bot and the CLI send "" for "no negative prompt", which diffusers spells negative_prompt=None.
    const negative = r.negativePrompt ?? '';
    if (negative === '' && options.forceZerosForEmptyPrompt) {
      const pooledCond = cond.extras.text_embeds;
      if (!pooledCond) throw new Error('SDXL conditioning: the final text encoder gave no pooled text_embeds');
      uncond = {
        hidden: new Float32Array(cond.hidden.length),
        tokens: cond.tokens,
        width: cond.width,
        extras: { text_embeds: new Float32Array(pooledCond.length), time_ids: Float32Array.from(ids.uncond) },
        truncated: false,
      };
    } else {
      uncond = await sdxlPromptRow(encoders, negative, ids.uncond);
    }
  }
  return stackRows(uncond, cond, r.count);
}
