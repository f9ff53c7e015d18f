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
  x = g.op('Add', [x, g.op('Unsqueeze', [emb, g.int64([1])])]);

  const self = attention(g, opts.attention, g.op('MatMul', [x, w('attn1_q', INNER, INNER)]), g.op('MatMul', [x, w('attn1_k', INNER, INNER)]), g.op('MatMul', [x, w('attn1_v', INNER, INNER)]));
  x = g.op('Add', [x, g.op('MatMul', [self, w('attn1_out', INNER, INNER)])]);
  const ctx = 'encoder_hidden_states';
  const cross = attention(g, opts.attention, g.op('MatMul', [x, w('attn2_q', INNER, INNER)]), g.op('MatMul', [ctx, w('attn2_k', TEXT_HIDDEN, INNER)]), g.op('MatMul', [ctx, w('attn2_v', TEXT_HIDDEN, INNER)]));
  x = g.op('Add', [x, g.op('MatMul', [cross, w('attn2_out', INNER, INNER)])]);
  const gate = g.op('Softmax', [g.op('MatMul', [x, w('gate', INNER, INNER)])], { axis: -1 });
  x = g.op('Add', [x, g.op('Mul', [gate, x])]);

  const out = g.op('Transpose', [g.op('MatMul', [x, w('conv_out', INNER, LATENT_CHANNELS)])], { perm: [0, 2, 1] });
  g.op('Tanh', [g.op('Reshape', [out, g.op('Shape', ['sample'])])], {}, 'out_sample');

  const inputs = [
    valueInfo('sample', opts.float, ['batch_size', LATENT_CHANNELS, 'height', 'width']),
    valueInfo('timestep', opts.timestepType, opts.timestepShape),
    valueInfo('encoder_hidden_states', opts.float, ['batch_size', 'sequence_length', TEXT_HIDDEN]),
  ];
  if (opts.timeCondDim) inputs.push(valueInfo('timestep_cond', opts.float, ['batch_size', opts.timeCondDim]));
  return g.build(inputs, [valueInfo('out_sample', opts.float, ['batch_size', LATENT_CHANNELS, 'height', 'width'])], 'unet');
}

// Closed-form UNet (prediction_type "sample"): ignores sample and timestep and predicts the clean latents
//   out_sample[b, c, y, x] = C[c] + 10 * (mean(encoder_hidden_states[b]) - 0.5),   C = CLOSED_FORM_LATENT
export const CLOSED_FORM_LATENT = [0.2, -0.1, 0.0, -0.3] as const;
export const CLOSED_FORM_GAIN = 10;

export function closedFormUnet(): ModelProto {
  const g = new GraphBuilder('float32');
  const mean = g.op('ReduceMean', ['encoder_hidden_states'], { axes: [1, 2], keepdims: 1 }); // [b, 1, 1]
  const term = g.op('Mul', [g.op('Sub', [g.op('Unsqueeze', [mean, g.int64([3])]), g.scalar(0.5)]), g.scalar(CLOSED_FORM_GAIN)]); // [b, 1, 1, 1]
  const perChannel = g.op('Add', [term, g.weight('latent_constant', [1, LATENT_CHANNELS, 1, 1], [...CLOSED_FORM_LATENT])]); // [b, 4, 1, 1]
  g.op('Expand', [perChannel, g.op('Shape', ['sample'])], {}, 'out_sample');
  return g.build(
    [
      valueInfo('sample', 'float32', ['batch_size', LATENT_CHANNELS, 'height', 'width']),
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

export function vaeDecoder(opts: { float: FloatType; closedForm?: boolean; name?: string }): ModelProto {
  const g = new GraphBuilder(opts.float);
  const A = opts.closedForm ? CLOSED_FORM_DECODER.A.flat() : pseudoRandom(3 * LATENT_CHANNELS, 40, 0.8);
  const bias = opts.closedForm ? [...CLOSED_FORM_DECODER.bias] : pseudoRandom(3, 41, 0.2);
  const rgb = g.op('Conv', ['latent_sample', g.weight('conv_weight', [3, LATENT_CHANNELS, 1, 1], A), g.weight('conv_bias', [3], bias)]);
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
export function vaeEncoder(opts: { float: FloatType; output: 'latent_sample' | 'latent_parameters' }): ModelProto {
  const g = new GraphBuilder(opts.float);
  const channels = opts.output === 'latent_sample' ? LATENT_CHANNELS : 2 * LATENT_CHANNELS;
  const pooled = g.op('AveragePool', ['sample'], { kernel_shape: [8, 8], strides: [8, 8] });
  const bias = Array.from({ length: channels }, (_, i) => (i < LATENT_CHANNELS ? 0 : -6));
  g.op('Conv', [pooled, g.weight('conv_weight', [channels, 3, 1, 1], pseudoRandom(channels * 3, 50, 0.5)), g.weight('conv_bias', [channels], bias)], {}, opts.output);
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
