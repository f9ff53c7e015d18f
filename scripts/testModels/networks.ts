// The tiny ONNX networks of the test models. Each has the input/output names, dtypes and ranks of the real
// optimum / diffusers exports, with tiny sizes: 4 latent channels, text hidden 32, 8-wide UNet tokens, 2 heads of 4.
// The exact math of each is written beside it and in test/fixtures/README.md.
import type { ModelProto } from '../../src/pipeline/onnx/build.ts';
import { GraphBuilder, pseudoRandom, valueInfo, type FloatType } from './graph.ts';

export const TEXT_HIDDEN = 32;
export const LATENT_CHANNELS = 4;
const INNER = 8;
const HEADS = 2;
const HEAD_DIM = INNER / HEADS;
const ATTENTION_SCALE = 1 / Math.sqrt(HEAD_DIM); // 0.5
const MAX_POSITIONS = 77;

// ---------------------------------------------------------------------------------------------------------------
// Text encoder. input_ids [batch, sequence] (int32 or int64) -> last_hidden_state [batch, sequence, 32], pooler_output.
//   random:      h[b, s, :] = tanh(E[ids[b, s], :] + P[s, :])   (E, P fixed pseudo-random; depends on id and position)
//   closed-form: h[b, s, k] = ids[b, s] / 1000                  (for every k)
//   pooler_output[b, :] = mean_s h[b, s, :]  (real exports pool at EOS; nothing here reads it)

export function textEncoder(opts: { idsType: 'int32' | 'int64'; float: FloatType; vocabSize: number; closedForm?: boolean }): ModelProto {
  const g = new GraphBuilder(opts.float);
  const table = opts.closedForm
    ? Array.from({ length: opts.vocabSize * TEXT_HIDDEN }, (_, i) => Math.floor(i / TEXT_HIDDEN) / 1000)
    : pseudoRandom(opts.vocabSize * TEXT_HIDDEN, 1, 1);
  const emb = g.op('Gather', [g.weight('token_embedding', [opts.vocabSize, TEXT_HIDDEN], table), 'input_ids'], { axis: 0 });
  let hidden: string;
  if (opts.closedForm) {
    hidden = g.op('Identity', [emb], {}, 'last_hidden_state');
  } else {
    const positions = g.weight('position_embedding', [MAX_POSITIONS, TEXT_HIDDEN], pseudoRandom(MAX_POSITIONS * TEXT_HIDDEN, 2, 0.5));
    const len = g.dims('input_ids', 1, 2);
    const pos = g.op('Slice', [positions, g.int64([0]), len, g.int64([0])]);
    hidden = g.op('Tanh', [g.op('Add', [emb, pos])], {}, 'last_hidden_state');
  }
  g.op('ReduceMean', [hidden], { axes: [1], keepdims: 0 }, 'pooler_output');
  return g.build(
    [valueInfo('input_ids', opts.idsType, ['batch_size', 'sequence_length'])],
    [valueInfo('last_hidden_state', opts.float, ['batch_size', 'sequence_length', TEXT_HIDDEN]), valueInfo('pooler_output', opts.float, ['batch_size', TEXT_HIDDEN])],
    'text_encoder',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// UNet. sample [b, 4, h, w], timestep, encoder_hidden_states [b, s, 32] (+ timestep_cond [b, 256]) -> out_sample.
//   x   = tokens(sample) @ Win                      tokens: [b, 4, h, w] -> [b, h*w, 4]; Win [4, 8]
//   emb = sin(float(t) * 0.001 * F)  (+ tanh(timestep_cond @ Wc) when present)   F [8] fixed frequencies
//   x  += emb
//   x  += Attn(x Wq1, x Wk1, x Wv1) Wo1             self-attention, 2 heads of 4, softmax(q kᵀ * 0.5) v
//   x  += Attn(x Wq2, c Wk2, c Wv2) Wo2             cross-attention on c = encoder_hidden_states
//   x  += softmax(x Wg, axis -1) * x                a MatMul -> Softmax that is NOT attention (a channel gate)
//   out_sample = tanh(untokens(x @ Wout))           Wout [8, 4]
// attention '3d': heads folded into the batch as diffusers' classic AttnProcessor exports it:
//   MatMul(q, Transpose(k)) -> Mul(scale) -> Softmax(-1) -> MatMul(., v) on [b*heads, tokens, 4]
// attention '4d': the torch SDPA export form on [b, heads, tokens, 4]:
//   MatMul(Mul(q, sqrt(scale)), Mul(Transpose(k), sqrt(scale))) -> Softmax(-1) -> MatMul(., v)

export interface UnetOptions {
  float: FloatType;
  timestepType: 'int64' | 'float32' | 'float16';
  /** Declared timestep shape: [1], ['batch_size'] or [] (scalar). */
  timestepShape: (number | string)[];
  attention: '3d' | '4d';
  /** Width of the LCM guidance embedding input timestep_cond, when present. */
  timeCondDim?: number;
  /** SDXL: cross-attention context width (both encoders side by side) and the text_embeds / time_ids inputs. */
  sdxl?: { contextWidth: number; pooledWidth: number; timeIds: number };
}

function splitHeads3d(g: GraphBuilder, x: string): string {
  // [b, n, 8] -> [b, n, 2, 4] -> [b, 2, n, 4] -> [b*2, n, 4]; shapes computed at run time as real exports do
  const b = g.dims(x, 0, 1);
  const n = g.dims(x, 1, 2);
  const heads = g.op('Transpose', [g.op('Reshape', [x, g.int64([0, 0, HEADS, HEAD_DIM])])], { perm: [0, 2, 1, 3] });
  const bh = g.op('Mul', [b, g.int64([HEADS])]);
  return g.op('Reshape', [heads, g.op('Concat', [bh, n, g.int64([HEAD_DIM])], { axis: 0 })]);
}

function mergeHeads3d(g: GraphBuilder, x: string, like: string): string {
  // [b*2, n, 4] -> [b, 2, n, 4] -> [b, n, 2, 4] -> [b, n, 8]
  const b = g.dims(like, 0, 1);
  const n = g.dims(x, 1, 2);
  const split = g.op('Reshape', [x, g.op('Concat', [b, g.int64([HEADS]), n, g.int64([HEAD_DIM])], { axis: 0 })]);
  return g.op('Reshape', [g.op('Transpose', [split], { perm: [0, 2, 1, 3] }), g.int64([0, 0, INNER])]);
}

function attention(g: GraphBuilder, kind: '3d' | '4d', q: string, k: string, v: string): string {
  if (kind === '3d') {
    const qh = splitHeads3d(g, q);
    const kh = splitHeads3d(g, k);
    const vh = splitHeads3d(g, v);
    const scores = g.op('Mul', [g.op('MatMul', [qh, g.op('Transpose', [kh], { perm: [0, 2, 1] })]), g.scalar(ATTENTION_SCALE)]);
    return mergeHeads3d(g, g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), vh]), q);
  }
  const heads = (x: string, perm: number[]) => g.op('Transpose', [g.op('Reshape', [x, g.int64([0, 0, HEADS, HEAD_DIM])])], { perm });
  const root = Math.sqrt(ATTENTION_SCALE);
  const qs = g.op('Mul', [heads(q, [0, 2, 1, 3]), g.scalar(root)]);
  const kt = g.op('Mul', [heads(k, [0, 2, 3, 1]), g.scalar(root)]);
  const probs = g.op('Softmax', [g.op('MatMul', [qs, kt])], { axis: -1 });
  const out = g.op('MatMul', [probs, heads(v, [0, 2, 1, 3])]);
  return g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1, 3] }), g.int64([0, 0, INNER])]);
}

export function unet(opts: UnetOptions): ModelProto {
  const g = new GraphBuilder(opts.float);
  let seed = 10;
  const w = (name: string, rows: number, cols: number, scale = 1 / Math.sqrt(rows)) => g.weight(name, [rows, cols], pseudoRandom(rows * cols, seed++, scale));
  const tokens = g.op('Transpose', [g.op('Reshape', ['sample', g.int64([0, LATENT_CHANNELS, -1])])], { perm: [0, 2, 1] });
  let x = g.op('MatMul', [tokens, w('conv_in', LATENT_CHANNELS, INNER, 1)]);

  const t = g.op('Reshape', [g.op('Cast', ['timestep'], { to: opts.float === 'float16' ? 10 : 1 }), g.int64([-1, 1])]);
  const freqs = g.weight('time_frequencies', [1, INNER], Array.from({ length: INNER }, (_, i) => 0.001 * (i + 1)));
  let emb = g.op('Sin', [g.op('Mul', [t, freqs])]);
  if (opts.timeCondDim) emb = g.op('Add', [emb, g.op('Tanh', [g.op('MatMul', ['timestep_cond', w('time_cond_proj', opts.timeCondDim, INNER)])])]);
  if (opts.sdxl) {
    // SDXL's added embedding: the pooled text projection and a sinusoidal embedding of the size/crop ids
    const ids = g.op('Sin', [g.op('Mul', ['time_ids', g.scalar(0.01)])]);
    const added = g.op('Add', [g.op('MatMul', ['text_embeds', w('add_text', opts.sdxl.pooledWidth, INNER)]), g.op('MatMul', [ids, w('add_time', opts.sdxl.timeIds, INNER)])]);
    emb = g.op('Add', [emb, g.op('Tanh', [added])]);
  }
  x = g.op('Add', [x, g.op('Unsqueeze', [emb, g.int64([1])])]);

  const self = attention(g, opts.attention, g.op('MatMul', [x, w('attn1_q', INNER, INNER)]), g.op('MatMul', [x, w('attn1_k', INNER, INNER)]), g.op('MatMul', [x, w('attn1_v', INNER, INNER)]));
  x = g.op('Add', [x, g.op('MatMul', [self, w('attn1_out', INNER, INNER)])]);
  const ctx = 'encoder_hidden_states';
  const ctxWidth = opts.sdxl?.contextWidth ?? TEXT_HIDDEN;
  const cross = attention(g, opts.attention, g.op('MatMul', [x, w('attn2_q', INNER, INNER)]), g.op('MatMul', [ctx, w('attn2_k', ctxWidth, INNER)]), g.op('MatMul', [ctx, w('attn2_v', ctxWidth, INNER)]));
  x = g.op('Add', [x, g.op('MatMul', [cross, w('attn2_out', INNER, INNER)])]);
  const gate = g.op('Softmax', [g.op('MatMul', [x, w('gate', INNER, INNER)])], { axis: -1 });
  x = g.op('Add', [x, g.op('Mul', [gate, x])]);

  const out = g.op('Transpose', [g.op('MatMul', [x, w('conv_out', INNER, LATENT_CHANNELS)])], { perm: [0, 2, 1] });
  g.op('Tanh', [g.op('Reshape', [out, g.op('Shape', ['sample'])])], {}, 'out_sample');

  const inputs = [
    valueInfo('sample', opts.float, ['batch_size', LATENT_CHANNELS, 'height', 'width']),
    valueInfo('timestep', opts.timestepType, opts.timestepShape),
    valueInfo('encoder_hidden_states', opts.float, ['batch_size', 'sequence_length', ctxWidth]),
  ];
  if (opts.timeCondDim) inputs.push(valueInfo('timestep_cond', opts.float, ['batch_size', opts.timeCondDim]));
  if (opts.sdxl) inputs.push(valueInfo('text_embeds', opts.float, ['batch_size', opts.sdxl.pooledWidth]), valueInfo('time_ids', opts.float, ['batch_size', opts.sdxl.timeIds]));
  return g.build(inputs, [valueInfo('out_sample', opts.float, ['batch_size', LATENT_CHANNELS, 'height', 'width'])], 'unet');
}

// Closed-form UNet (prediction_type "sample"): ignores sample and timestep and predicts the clean latents
//   out_sample[b, c, y, x] = C[c] + 10 * (mean(encoder_hidden_states[b]) - 0.5),   C = CLOSED_FORM_LATENT
// The inpainting variant takes diffusers' 9-channel input [latents (4), mask (1), masked-image latents (4)] and is a
// perfect inpainter: it predicts the prompt's latent where the mask is 1 and the masked image's latents elsewhere,
//   out_sample = m * P + (1 - m) * M,   m = sample[:, 4],  M = sample[:, 5:9],  P = the prediction above
export const CLOSED_FORM_LATENT = [0.2, -0.1, 0.0, -0.3] as const;
export const CLOSED_FORM_GAIN = 10;
export const INPAINT_CHANNELS = 2 * LATENT_CHANNELS + 1;

export function closedFormUnet(opts: { inpainting?: boolean } = {}): ModelProto {
  const g = new GraphBuilder('float32');
  const channels = opts.inpainting ? INPAINT_CHANNELS : LATENT_CHANNELS;
  const mean = g.op('ReduceMean', ['encoder_hidden_states'], { axes: [1, 2], keepdims: 1 }); // [b, 1, 1]
  const term = g.op('Mul', [g.op('Sub', [g.op('Unsqueeze', [mean, g.int64([3])]), g.scalar(0.5)]), g.scalar(CLOSED_FORM_GAIN)]); // [b, 1, 1, 1]
  const perChannel = g.op('Add', [term, g.weight('latent_constant', [1, LATENT_CHANNELS, 1, 1], [...CLOSED_FORM_LATENT])]); // [b, 4, 1, 1]
  if (opts.inpainting) {
    const slice = (from: number, to: number) => g.op('Slice', ['sample', g.int64([from]), g.int64([to]), g.int64([1])]);
    const mask = slice(LATENT_CHANNELS, LATENT_CHANNELS + 1); // [b, 1, h, w]
    const masked = slice(LATENT_CHANNELS + 1, INPAINT_CHANNELS); // [b, 4, h, w]
    g.op('Add', [masked, g.op('Mul', [mask, g.op('Sub', [perChannel, masked])])], {}, 'out_sample');
  } else {
    g.op('Expand', [perChannel, g.op('Shape', ['sample'])], {}, 'out_sample');
  }
  return g.build(
    [
      valueInfo('sample', 'float32', ['batch_size', channels, 'height', 'width']),
      valueInfo('timestep', 'int64', [1]),
      valueInfo('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', TEXT_HIDDEN]),
    ],
    [valueInfo('out_sample', 'float32', ['batch_size', LATENT_CHANNELS, 'height', 'width'])],
    'unet',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// VAE decoder. latent_sample [b, 4, h, w] -> sample [b, 3, 8h, 8w]:
//   sample = [tanh](nearest_upsample_x8(A z + β))   A [3, 4], β [3]; 1x1 Conv, then Resize (asymmetric, floor)
// The closed-form model uses A = CLOSED_FORM_DECODER.A, β = CLOSED_FORM_DECODER.bias and no tanh.
export const CLOSED_FORM_DECODER = {
  A: [
    [0.5, 0, 0, 0],
    [0, 0.5, 0, 0],
    [0, 0, 0.25, 0.25],
  ],
  bias: [0.01, 0.1, -0.1],
} as const;

// overflowInHalf (closed form): y = ((z + 8) * 4096)^2 / ((z + 8) * 4096 * 4096) - 8 = z before the 1x1 Conv. Exact in
// float32; in float16 the square overflows (inf / inf = NaN), as SDXL's real VAE overflows without force_upcast.
export function vaeDecoder(opts: { float: FloatType; closedForm?: boolean; name?: string; weightScale?: number; overflowInHalf?: boolean }): ModelProto {
  const g = new GraphBuilder(opts.float);
  let z = 'latent_sample';
  if (opts.overflowInHalf) {
    const h = g.op('Mul', [g.op('Add', [z, g.scalar(8)]), g.scalar(4096)]);
    // ONNX Runtime's CPU provider computes float16 arithmetic in float32 between inserted Casts; a Concat (which has a
    // float16 kernel) makes the square materialise as float16, so it overflows as it would on a GPU.
    const square = g.op('Slice', [g.op('Concat', [g.op('Mul', [h, h]), h], { axis: 1 }), g.int64([0]), g.int64([LATENT_CHANNELS]), g.int64([1])]);
    z = g.op('Sub', [g.op('Div', [square, g.op('Mul', [h, g.scalar(4096)])]), g.scalar(8)]);
  }
  // weightScale: SDXL's VAE takes latents divided by 0.13025, larger than SD's 0.18215 ones, so its tiny stand-in uses
  // smaller weights to keep the tanh out of saturation.
  const A = opts.closedForm ? CLOSED_FORM_DECODER.A.flat() : pseudoRandom(3 * LATENT_CHANNELS, 40, opts.weightScale ?? 0.8);
  const bias = opts.closedForm ? [...CLOSED_FORM_DECODER.bias] : pseudoRandom(3, 41, 0.2);
  const rgb = g.op('Conv', [z, g.weight('conv_weight', [3, LATENT_CHANNELS, 1, 1], A), g.weight('conv_bias', [3], bias)]);
  const up = g.op('Resize', [rgb, '', g.float32([1, 1, 8, 8])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, opts.closedForm ? 'sample' : undefined);
  if (!opts.closedForm) g.op('Tanh', [up], {}, 'sample');
  return g.build(
    [valueInfo('latent_sample', opts.float, ['batch_size', LATENT_CHANNELS, 'latent_height', 'latent_width'])],
    [valueInfo('sample', opts.float, ['batch_size', 3, 'height', 'width'])],
    opts.name ?? 'vae_decoder',
  );
}

// VAE encoder. sample [b, 3, H, W] -> 8x8 average pool -> 1x1 Conv:
//   'latent_sample':     [b, 4, H/8, W/8]  (diffusers' legacy export, already sampled)
//   'latent_parameters': [b, 8, H/8, W/8]  (optimum: channels 0-3 mean, 4-7 log-variance, biased to about -6)
// The closed-form encoder ('latent_sample') is the exact inverse of the closed-form decoder on 8x8 blocks of one
// colour: W = CLOSED_FORM_ENCODER.W, bias CLOSED_FORM_ENCODER.bias, so that A (W x + b) + β = x.
export const CLOSED_FORM_ENCODER = {
  W: [
    [2, 0, 0],
    [0, 2, 0],
    [0, 0, 2],
    [0, 0, 2],
  ],
  bias: [-0.02, -0.2, 0.2, 0.2],
} as const;

export function vaeEncoder(opts: { float: FloatType; output: 'latent_sample' | 'latent_parameters'; closedForm?: boolean }): ModelProto {
  const g = new GraphBuilder(opts.float);
  const channels = opts.output === 'latent_sample' ? LATENT_CHANNELS : 2 * LATENT_CHANNELS;
  const pooled = g.op('AveragePool', ['sample'], { kernel_shape: [8, 8], strides: [8, 8] });
  const bias = opts.closedForm ? [...CLOSED_FORM_ENCODER.bias] : Array.from({ length: channels }, (_, i) => (i < LATENT_CHANNELS ? 0 : -6));
  const weight = opts.closedForm ? CLOSED_FORM_ENCODER.W.flat() : pseudoRandom(channels * 3, 50, 0.5);
  g.op('Conv', [pooled, g.weight('conv_weight', [channels, 3, 1, 1], weight), g.weight('conv_bias', [channels], bias)], {}, opts.output);
  return g.build(
    [valueInfo('sample', opts.float, ['batch_size', 3, 'sample_height', 'sample_width'])],
    [valueInfo(opts.output, opts.float, ['batch_size', channels, 'latent_height', 'latent_width'])],
    'vae_encoder',
  );
}

// Safety checker. clip_input [b, 3, 224, 224] (read by the real checker; ignored here), images [b, H, W, 3] in [0, 1]:
//   has_nsfw_concepts[b] = mean(images[b]) > 0.5;   out_images = images * (1 - has_nsfw_concepts)  (blacked out)
export const SAFETY_BRIGHTNESS_THRESHOLD = 0.5;

export function safetyChecker(): ModelProto {
  const g = new GraphBuilder('float32');
  const mean = g.op('ReduceMean', ['images'], { axes: [1, 2, 3], keepdims: 0 });
  const flagged = g.op('Greater', [mean, g.scalar(SAFETY_BRIGHTNESS_THRESHOLD)], {}, 'has_nsfw_concepts');
  const keep = g.op('Sub', [g.scalar(1), g.op('Cast', [flagged], { to: 1 })]);
  g.op('Mul', ['images', g.op('Reshape', [keep, g.int64([-1, 1, 1, 1])])], {}, 'out_images');
  return g.build(
    [valueInfo('clip_input', 'float32', ['batch_size', 3, 224, 224]), valueInfo('images', 'float32', ['batch_size', 'height', 'width', 3])],
    [valueInfo('out_images', 'float32', ['batch_size', 'height', 'width', 3]), valueInfo('has_nsfw_concepts', 'bool', ['batch_size'])],
    'safety_checker',
  );
}

// A safety checker whose verdict depends only on clip_input, the pixels after CLIP preprocessing (resize, centre
// crop, rescale, normalise), so a test can tell whether that preprocessing was right:
//   has_nsfw_concepts[b] = max over the crop of (clip_input[b, 0] - clip_input[b, 1]) > CLIP_CHECKER_THRESHOLD
// i.e. some pixel that is far redder than it is green *after normalisation*. out_images passes images through.
export const CLIP_CHECKER_THRESHOLD = 6;

export function clipSafetyChecker(): ModelProto {
  const g = new GraphBuilder('float32');
  const red = g.op('Gather', ['clip_input', g.int64([0])], { axis: 1 });
  const green = g.op('Gather', ['clip_input', g.int64([1])], { axis: 1 });
  const most = g.op('ReduceMax', [g.op('Sub', [red, green])], { axes: [1, 2, 3], keepdims: 0 });
  g.op('Greater', [most, g.scalar(CLIP_CHECKER_THRESHOLD)], {}, 'has_nsfw_concepts');
  g.op('Identity', ['images'], {}, 'out_images');
  return g.build(
    [valueInfo('clip_input', 'float32', ['batch_size', 3, 'clip_height', 'clip_width']), valueInfo('images', 'float32', ['batch_size', 'height', 'width', 3])],
    [valueInfo('out_images', 'float32', ['batch_size', 'height', 'width', 3]), valueInfo('has_nsfw_concepts', 'bool', ['batch_size'])],
    'clip_safety_checker',
  );
}

// ---------------------------------------------------------------------------------------------------------------
// SDXL. Two text encoders of different widths, exported as optimum does for SDXL (output_hidden_states):
//   text_encoder   (CLIPTextModel):               last_hidden_state, pooler_output, hidden_states.0 .. hidden_states.L
//   text_encoder_2 (CLIPTextModelWithProjection): text_embeds [b, P], last_hidden_state, hidden_states.0 .. L
// random:      h0 = E[ids] + Pos;  h(k+1) = tanh(h(k) @ Wk);  last_hidden_state = h(L);  text_embeds = mean_s h(L) @ Wproj
// closed-form: hidden_states.k[b, s, :] = sign * ids[b, s] / 1000 + (k - (L - 1)) * 0.5, so the penultimate layer
//              (k = L - 1) is exactly sign * ids / 1000 and every other layer is off by a multiple of 0.5;
//              text_embeds[b, :] = mean_s(ids[b, s]) / 1000;  last_hidden_state = hidden_states.L;  pooler_output = mean_s

export const SDXL_TEXT_WIDTHS = [32, 48] as const;
export const SDXL_POOLED = 16;
export const SDXL_TIME_IDS = 6;
/** Layers per encoder (hidden_states has one more entry than this). */
export const SDXL_LAYERS = [2, 3] as const;
/** Closed form: the sign of each encoder's hidden states (they differ, so swapping the two halves shows). */
export const SDXL_CLOSED_FORM_SIGN = [1, -1] as const;

export function sdxlTextEncoder(opts: { index: 0 | 1; idsType: 'int32' | 'int64'; float: FloatType; vocabSize: number; closedForm?: boolean }): ModelProto {
  const g = new GraphBuilder(opts.float);
  const width = SDXL_TEXT_WIDTHS[opts.index];
  const layers = SDXL_LAYERS[opts.index];
  const withProjection = opts.index === 1;
  const states: string[] = [];
  if (opts.closedForm) {
    const sign = SDXL_CLOSED_FORM_SIGN[opts.index];
    const ids = g.op('Gather', [g.weight('token_value', [opts.vocabSize, width], Array.from({ length: opts.vocabSize * width }, (_, i) => (sign * Math.floor(i / width)) / 1000)), 'input_ids'], { axis: 0 });
    for (let k = 0; k <= layers; k++) states.push(g.op('Add', [ids, g.scalar((k - (layers - 1)) * 0.5)], {}, `hidden_states.${k}`));
  } else {
    let seed = 60 + opts.index * 10;
    const emb = g.op('Gather', [g.weight('token_embedding', [opts.vocabSize, width], pseudoRandom(opts.vocabSize * width, seed++, 1)), 'input_ids'], { axis: 0 });
    const positions = g.weight('position_embedding', [MAX_POSITIONS, width], pseudoRandom(MAX_POSITIONS * width, seed++, 0.5));
    const pos = g.op('Slice', [positions, g.int64([0]), g.dims('input_ids', 1, 2), g.int64([0])]);
    let h = g.op('Add', [emb, pos], {}, 'hidden_states.0');
    states.push(h);
    for (let k = 1; k <= layers; k++) {
      h = g.op('Tanh', [g.op('MatMul', [h, g.weight(`layer_${k}`, [width, width], pseudoRandom(width * width, seed++, 1 / Math.sqrt(width)))])], {}, `hidden_states.${k}`);
      states.push(h);
    }
  }
  const last = g.op('Identity', [states[layers]!], {}, 'last_hidden_state'); // states holds layers + 1 entries
  const outputs = [valueInfo('last_hidden_state', opts.float, ['batch_size', 'sequence_length', width])];
  if (withProjection) {
    if (opts.closedForm) {
      const ids = g.op('Cast', ['input_ids'], { to: opts.float === 'float16' ? 10 : 1 });
      g.op('Expand', [g.op('Div', [g.op('ReduceMean', [ids], { axes: [1], keepdims: 1 }), g.scalar(1000)]), g.int64([1, SDXL_POOLED])], {}, 'text_embeds');
    } else {
      const pooled = g.op('ReduceMean', [last], { axes: [1], keepdims: 0 });
      g.op('MatMul', [pooled, g.weight('text_projection', [width, SDXL_POOLED], pseudoRandom(width * SDXL_POOLED, 79, 1 / Math.sqrt(width)))], {}, 'text_embeds');
    }
    outputs.unshift(valueInfo('text_embeds', opts.float, ['batch_size', SDXL_POOLED]));
  } else {
    g.op('ReduceMean', [last], { axes: [1], keepdims: 0 }, 'pooler_output');
    outputs.push(valueInfo('pooler_output', opts.float, ['batch_size', width]));
  }
  for (let k = 0; k <= layers; k++) outputs.push(valueInfo(`hidden_states.${k}`, opts.float, ['batch_size', 'sequence_length', width]));
  return g.build([valueInfo('input_ids', opts.idsType, ['batch_size', 'sequence_length'])], outputs, withProjection ? 'text_encoder_2' : 'text_encoder');
}

// Closed-form SDXL UNet (prediction_type "sample"): ignores sample and timestep; each latent channel reads one input:
//   out[b, 0] = G0 * (mean(encoder_hidden_states[b, :, 0:32]) - 0.5)    text_encoder's half
//   out[b, 1] = G1 * mean(encoder_hidden_states[b, :, 32:80])          text_encoder_2's half
//   out[b, 2] = G2 * mean(text_embeds[b])                               the pooled projection
//   out[b, 3] = G3 * (time_ids[b] . W)                                  the micro-conditioning, W = SDXL_TIME_WEIGHTS
export const SDXL_CLOSED_FORM_GAINS = [0.2, 2, 2, 1] as const;
export const SDXL_CLOSED_FORM_OFFSET0 = 0.5;
/** (original h, original w, crop top, crop left, target h, target w): h and w weigh differently, so a swap shows. */
export const SDXL_TIME_WEIGHTS = [0.002, -0.001, 0.05, 0.07, 0.002, -0.001] as const;

export function closedFormSdxlUnet(): ModelProto {
  const g = new GraphBuilder('float32');
  const [w1, w2] = SDXL_TEXT_WIDTHS;
  const half = (start: number, end: number) => g.op('ReduceMean', [g.op('Slice', ['encoder_hidden_states', g.int64([start]), g.int64([end]), g.int64([2])])], { axes: [1, 2], keepdims: 0 });
  const col = (x: string) => g.op('Unsqueeze', [x, g.int64([1])]); // [b] -> [b, 1]
  const f0 = col(g.op('Sub', [half(0, w1), g.scalar(SDXL_CLOSED_FORM_OFFSET0)]));
  const f1 = col(half(w1, w1 + w2));
  const f2 = g.op('ReduceMean', ['text_embeds'], { axes: [1], keepdims: 1 });
  const f3 = g.op('MatMul', ['time_ids', g.weight('time_weights', [SDXL_TIME_IDS, 1], [...SDXL_TIME_WEIGHTS])]);
  const features = g.op('Concat', [f0, f1, f2, f3], { axis: 1 }); // [b, 4]
  const scaled = g.op('Mul', [features, g.weight('gains', [1, LATENT_CHANNELS], [...SDXL_CLOSED_FORM_GAINS])]);
  g.op('Expand', [g.op('Unsqueeze', [scaled, g.int64([2, 3])]), g.op('Shape', ['sample'])], {}, 'out_sample');
  return g.build(
    [
      valueInfo('sample', 'float32', ['batch_size', LATENT_CHANNELS, 'height', 'width']),
      valueInfo('timestep', 'int64', [1]),
      valueInfo('encoder_hidden_states', 'float32', ['batch_size', 'sequence_length', w1 + w2]),
      valueInfo('text_embeds', 'float32', ['batch_size', SDXL_POOLED]),
      valueInfo('time_ids', 'float32', ['batch_size', SDXL_TIME_IDS]),
    ],
    [valueInfo('out_sample', 'float32', ['batch_size', LATENT_CHANNELS, 'height', 'width'])],
    'unet',
  );
}
