// VAE-like decoder and encoder graphs with the export signatures (latent_sample -> sample, sample ->
// latent_parameters) and the parts that matter for tiling and the attention rewrite: 3x3 convolutions (a local
// receptive field), an optional mid-block self-attention over every latent pixel in the classic AttnProcessor export
// form (heads = 1, baddbmm with its zero term, Cast after the Softmax), and an 8x nearest upsample (or 8x8 pooling).
// Used by the VAE tests and by bench/vae.ts.
import type { ModelProto } from '../../src/pipeline/onnx/build.ts';
import { node, tensor } from '../../src/pipeline/onnx/build.ts';
import { GraphBuilder, pseudoRandom, valueInfo, type FloatType } from '../../scripts/testModels/graph.ts';

export interface VaeLikeSpec {
  float?: FloatType;
  /** Channels at latent resolution (SD: 512). */
  midChannels: number;
  /** Channels at image resolution (SD: 128). */
  outChannels: number;
  attention: boolean;
  /** 3x3 convolutions at image resolution (decoder) after the upsample. */
  fullResConvs?: number;
  seed?: number;
}

const LATENT = 4;

function builder(spec: VaeLikeSpec) {
  const g = new GraphBuilder(spec.float ?? 'float32');
  let seed = spec.seed ?? 300;
  const conv = (x: string, inC: number, outC: number) =>
    g.op('Conv', [x, g.weight(`w${seed}`, [outC, inC, 3, 3], pseudoRandom(outC * inC * 9, seed++, Math.sqrt(3 / (inC * 9)))), g.weight(`b${seed}`, [outC], pseudoRandom(outC, seed++, 0.1))], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const elemType = (spec.float ?? 'float32') === 'float16' ? 10 : 1;
  /** diffusers' mid-block attention (heads 1) in the classic processor's export form, with a residual. */
  const attention = (x: string, c: number) => {
    const tokens = g.op('Transpose', [g.op('Reshape', [x, g.int64([0, c, -1])])], { perm: [0, 2, 1] });
    const lin = (name: string) => g.op('MatMul', [tokens, g.weight(`${name}${seed}`, [c, c], pseudoRandom(c * c, seed++, 2 / Math.sqrt(c)))]);
    const [q, k, v] = [lin('q'), lin('k'), lin('v')];
    const cast = (value: number) => g.op('Cast', [g.op('Constant', [], { value: tensor(`c${seed++}`, 'float32', [], [value]) })], { to: elemType });
    const product = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 2, 1] })]), cast(1 / Math.sqrt(c))]);
    const dim = (t: string, i: number) => g.op('Unsqueeze', [g.op('Gather', [g.op('Shape', [t]), g.int64([i], [])], { axis: 0 }), g.int64([0])]);
    const empty = g.op('ConstantOfShape', [g.op('Concat', [dim(q, 0), dim(q, 1), dim(k, 1)], { axis: 0 })], { value: elemType === 1 ? tensor(`z${seed++}`, 'float32', [1], [0]) : tensor(`z${seed++}`, 'float16', [1], [0]) });
    const scores = g.op('Add', [product, g.op('Mul', [empty, cast(0)])]);
    const probs = g.op('Cast', [g.op('Softmax', [scores], { axis: -1 })], { to: elemType });
    const out = g.op('MatMul', [g.op('MatMul', [probs, v]), g.weight(`o${seed}`, [c, c], pseudoRandom(c * c, seed++, 1 / Math.sqrt(c)))]);
    return g.op('Add', [x, g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1] }), g.op('Shape', [x])])]);
  };
  return { g, conv, attention };
}

export function buildVaeDecoderLike(spec: VaeLikeSpec): ModelProto {
  const { g, conv, attention } = builder(spec);
  let h = conv('latent_sample', LATENT, spec.midChannels);
  if (spec.attention) h = attention(h, spec.midChannels);
  h = g.op('Resize', [conv(h, spec.midChannels, spec.outChannels), '', g.float32([1, 1, 8, 8])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  for (let i = 0; i < (spec.fullResConvs ?? 1); i++) h = g.op('Relu', [conv(h, spec.outChannels, spec.outChannels)]);
  g.op('Tanh', [conv(h, spec.outChannels, 3)], {}, 'sample');
  const float = spec.float ?? 'float32';
  return g.build([valueInfo('latent_sample', float, ['batch', LATENT, 'latent_height', 'latent_width'])], [valueInfo('sample', float, ['batch', 3, 'height', 'width'])], 'vae_decoder');
}

/**
 * With `inGraphSampling`, the encoder as diffusers' convert_stable_diffusion_checkpoint_to_onnx.py exports it:
 * latent_sample = mean + exp(0.5 * clip(logvar, -30, 20)) * RandomNormalLike(mean), with (mean, logvar) =
 * Split(moments) on channels; otherwise optimum's latent_parameters (the moments). Same weights either way.
 */
export function buildVaeEncoderLike(spec: VaeLikeSpec, opts: { inGraphSampling?: boolean } = {}): ModelProto {
  const { g, conv, attention } = builder(spec);
  let h = g.op('AveragePool', [conv('sample', 3, spec.outChannels)], { kernel_shape: [8, 8], strides: [8, 8] });
  h = conv(h, spec.outChannels, spec.midChannels);
  if (spec.attention) h = attention(h, spec.midChannels);
  const moments = conv(h, spec.midChannels, 2 * LATENT);
  // log-variance biased low, as a trained VAE's is
  const float = spec.float ?? 'float32';
  const biased = g.op('Add', [moments, g.weight('logvar_bias', [1, 2 * LATENT, 1, 1], [0, 0, 0, 0, -3, -3, -3, -3])], {}, opts.inGraphSampling ? undefined : 'latent_parameters');
  if (!opts.inGraphSampling) {
    return g.build([valueInfo('sample', float, ['batch', 3, 'height', 'width'])], [valueInfo('latent_parameters', float, ['batch', 2 * LATENT, 'latent_height', 'latent_width'])], 'vae_encoder');
  }
  g.nodes.push(node('Split', [biased, g.int64([LATENT, LATENT])], ['mean', 'logvar'], { axis: 1 }, { name: 'Split_moments' }));
  const clipped = g.op('Clip', ['logvar', g.scalar(-30), g.scalar(20)]);
  const std = g.op('Exp', [g.op('Mul', [clipped, g.scalar(0.5)])]);
  const noise = g.op('RandomNormalLike', ['mean'], { dtype: float === 'float16' ? 10 : 1 });
  g.op('Add', ['mean', g.op('Mul', [std, noise])], {}, 'latent_sample');
  return g.build([valueInfo('sample', float, ['batch', 3, 'height', 'width'])], [valueInfo('latent_sample', float, ['batch', LATENT, 'latent_height', 'latent_width'])], 'vae_encoder');
}
