// A synthetic UNet with the real SD 1.5 export signature and the compute of SD 1.5's first level, so a benchmark step
// costs what it would in a real model at that level (hundreds of ms on CPU) and our own per-step JavaScript can be
// weighed against it. Not a denoiser: fixed pseudo-random weights; only shapes, operators and cost are realistic.
//
//   sample [b, 4, H, W] fp32, timestep int64 [1], encoder_hidden_states [b, 77, 768] -> out_sample [b, 4, H, W]
//   conv_in 3x3 (4 -> C) + sinusoidal time embedding (Linear C -> C)
//   ResBlock: GroupNorm(32) -> SiLU -> conv 3x3 -> + time -> GroupNorm -> SiLU -> conv 3x3 -> + residual
//   Transformer: GroupNorm -> tokens [b, H*W, C] -> LayerNorm -> self-attention (heads x headDim, the 3-D export form
//     that diffusers' classic attention processor produces and src/pipeline/attention rewrites) -> LayerNorm ->
//     cross-attention to encoder_hidden_states -> LayerNorm -> feed-forward (C -> 4C -> C, GELU) -> back to NCHW
//   GroupNorm -> SiLU -> conv_out 3x3 (C -> 4)
// GroupNorm is written as exports decompose it (Reshape -> InstanceNormalization -> Reshape -> affine) since
// GroupNormalization needs opset 18+ and the rest of the project targets opset 17.
import type { ModelProto } from '../src/pipeline/onnx/build.ts';
import { GraphBuilder, pseudoRandom, valueInfo } from '../scripts/testModels/graph.ts';

export interface SyntheticUnetSpec {
  /** Channels of the level (SD 1.5's first level: 320). Must be a multiple of `groups` and of `heads`. */
  channels: number;
  heads: number;
  /** Width of the text embeddings (SD 1.5: 768). */
  contextDim: number;
  /** GroupNorm groups (SD: 32). */
  groups: number;
}

/** SD 1.5's first UNet level: 320 channels, 8 heads of 40, cross-attention to 768-wide CLIP embeddings. */
export const SD15_FIRST_LEVEL: SyntheticUnetSpec = { channels: 320, heads: 8, contextDim: 768, groups: 32 };

export const LATENT_CHANNELS = 4;

/** Approximate weight count (for reporting the model size). */
export function syntheticUnetParams(s: SyntheticUnetSpec): number {
  const c = s.channels;
  return LATENT_CHANNELS * c * 9 + 2 * c * c * 9 + c * LATENT_CHANNELS * 9 + c * c + 6 * c * c + 2 * s.contextDim * c + 8 * c * c;
}

export function buildSyntheticUnet(s: SyntheticUnetSpec): ModelProto {
  const { channels: c, heads, contextDim, groups } = s;
  if (c % groups !== 0 || c % heads !== 0) throw new Error(`channels ${c} must be a multiple of groups ${groups} and heads ${heads}`);
  const headDim = c / heads;
  const g = new GraphBuilder('float32');
  let seed = 100;
  // Uniform weights with variance 1/fanIn (scale sqrt(3/fanIn)), so activations keep a sane magnitude through the
  // graph: no overflow to Inf/NaN and no denormals, either of which would distort the timing.
  const weight = (name: string, dims: number[], fanIn: number, gain = 1) =>
    g.weight(name, dims, pseudoRandom(dims.reduce((a, b) => a * b, 1), seed++, gain * Math.sqrt(3 / fanIn)));
  const constant = (name: string, dims: number[], value: number) => g.weight(name, dims, new Array<number>(dims.reduce((a, b) => a * b, 1)).fill(value));
  const conv = (x: string, name: string, inC: number, outC: number, output?: string) =>
    g.op('Conv', [x, weight(`${name}.weight`, [outC, inC, 3, 3], inC * 9), constant(`${name}.bias`, [outC], 0)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, output);
  const linear = (x: string, name: string, inC: number, outC: number, gain = 1) => g.op('MatMul', [x, weight(`${name}.weight`, [inC, outC], inC, gain)]);
  const silu = (x: string) => g.op('Mul', [x, g.op('Sigmoid', [x])]);
  const groupNorm = (x: string, name: string) => {
    const grouped = g.op('Reshape', [x, g.int64([0, groups, -1])]);
    const normed = g.op('InstanceNormalization', [grouped, constant(`${name}.inst_scale`, [groups], 1), constant(`${name}.inst_bias`, [groups], 0)], { epsilon: { float: 1e-5 } });
    const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
    return g.op('Add', [g.op('Mul', [back, constant(`${name}.weight`, [c, 1, 1], 1)]), constant(`${name}.bias`, [c, 1, 1], 0)]);
  };
  const layerNorm = (x: string, name: string) =>
    g.op('LayerNormalization', [x, constant(`${name}.weight`, [c], 1), constant(`${name}.bias`, [c], 0)], { axis: -1, epsilon: { float: 1e-5 } });

  // [b, n, C] -> [b*heads, n, headDim], shapes read at run time as torch exports do
  const splitHeads = (x: string) => {
    const b = g.dims(x, 0, 1);
    const n = g.dims(x, 1, 2);
    const perHead = g.op('Transpose', [g.op('Reshape', [x, g.int64([0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
    return g.op('Reshape', [perHead, g.op('Concat', [g.op('Mul', [b, g.int64([heads])]), n, g.int64([headDim])], { axis: 0 })]);
  };
  // [b*heads, n, headDim] -> [b, n, C]
  const mergeHeads = (x: string, like: string) => {
    const split = g.op('Reshape', [x, g.op('Concat', [g.dims(like, 0, 1), g.int64([heads]), g.dims(x, 1, 2), g.int64([headDim])], { axis: 0 })]);
    return g.op('Reshape', [g.op('Transpose', [split], { perm: [0, 2, 1, 3] }), g.int64([0, 0, c])]);
  };
  const attention = (x: string, name: string, context: string, contextWidth: number) => {
    const q = splitHeads(linear(x, `${name}.to_q`, c, c));
    const k = splitHeads(linear(context, `${name}.to_k`, contextWidth, c));
    const v = splitHeads(linear(context, `${name}.to_v`, contextWidth, c));
    const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 2, 1] })]), g.scalar(1 / Math.sqrt(headDim))]);
    const out = mergeHeads(g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]), x);
    return linear(out, `${name}.to_out`, c, c, 0.5);
  };

  // conv_in and the time embedding
  let h = conv('sample', 'conv_in', LATENT_CHANNELS, c);
  const t = g.op('Reshape', [g.op('Cast', ['timestep'], { to: 1 }), g.int64([-1, 1])]);
  const freqs = g.weight('time_frequencies', [1, c], Array.from({ length: c }, (_, i) => Math.exp((-Math.log(10000) * (i % (c / 2))) / (c / 2))));
  const temb = g.op('Reshape', [linear(silu(g.op('Sin', [g.op('Mul', [t, freqs])])), 'time_embedding', c, c), g.int64([-1, c, 1, 1])]);

  // ResBlock
  let r = conv(silu(groupNorm(h, 'resnet.norm1')), 'resnet.conv1', c, c);
  r = g.op('Add', [r, temb]);
  r = conv(silu(groupNorm(r, 'resnet.norm2')), 'resnet.conv2', c, c);
  h = g.op('Add', [h, r]);

  // Transformer block on the H*W tokens
  const tokens = g.op('Transpose', [g.op('Reshape', [groupNorm(h, 'attn.norm'), g.int64([0, c, -1])])], { perm: [0, 2, 1] });
  const n1 = layerNorm(tokens, 'attn.norm1');
  let x = g.op('Add', [tokens, attention(n1, 'attn.attn1', n1, c)]);
  x = g.op('Add', [x, attention(layerNorm(x, 'attn.norm2'), 'attn.attn2', 'encoder_hidden_states', contextDim)]);
  const ff = linear(layerNorm(x, 'attn.norm3'), 'attn.ff.in', c, 4 * c);
  const gelu = g.op('Mul', [ff, g.op('Sigmoid', [g.op('Mul', [ff, g.scalar(1.702)])])]);
  x = g.op('Add', [x, linear(gelu, 'attn.ff.out', 4 * c, c, 0.5)]);
  h = g.op('Add', [h, g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1] }), g.op('Shape', [h])])]);

  conv(silu(groupNorm(h, 'norm_out')), 'conv_out', c, LATENT_CHANNELS, 'out_sample');

  return g.build(
    [
      valueInfo('sample', 'float32', ['batch', LATENT_CHANNELS, 'height', 'width']),
      valueInfo('timestep', 'int64', [1]),
      valueInfo('encoder_hidden_states', 'float32', ['batch', 'sequence', contextDim]),
    ],
    [valueInfo('out_sample', 'float32', ['batch', LATENT_CHANNELS, 'height', 'width'])],
    'synthetic_unet',
  );
}
