// Small UNet-like graphs for the attention pass: transformer blocks (self- and cross-attention) in either export form,
// plus MatMul/Softmax uses that are not attention. Shared by the tests and bench/attention.ts.
import { model, node, tensor, valueInfo } from '../../src/pipeline/onnx/build.ts';
import type { ModelProto, NodeProto, TensorProto } from '../../src/pipeline/onnx/build.ts';

export interface UnetLikeSpec {
  /**
   * '3d': heads folded into the batch, matmul(q, kᵀ) * scale (older diffusers). '4d': SDPA export, scale on q and kᵀ.
   * 'baddbmm': diffusers' classic AttnProcessor as torch exports it: MatMul(q, kᵀ) -> Mul(scale) ->
   *   Add(·, Mul(ConstantOfShape(shape, 0), Cast(0))) -> [Cast(float) in fp16] -> Softmax(-1) -> Cast -> MatMul(·, v);
   *   with `mask`, cross-attention's term is the mask itself: Add(·, Mul(attention_mask, Cast(1))) (beta = 1).
   * 'einsum': einsum("b i d, b j d -> b i j") * scale -> Softmax -> einsum("b i j, b j d -> b i d").
   */
  form: '3d' | '4d' | 'baddbmm' | 'einsum';
  /** Add a graph input attention_mask [mask_batch, mask_rows, ctx] added to cross-attention's scores (baddbmm form). */
  mask?: boolean;
  heads: number;
  headDim: number;
  /** Width of the text embeddings fed to cross-attention. */
  contextDim: number;
  /** Transformer blocks, each with one self- and one cross-attention. */
  blocks: number;
  dtype?: 'float32' | 'float16';
  /** Add MatMul/Softmax uses that must not be matched (their results go to the `aux` output). */
  decoys?: boolean;
  seed?: number;
}

/** Attention blocks a spec's graph holds (self + cross per transformer block). */
export const attentionCount = (s: UnetLikeSpec) => s.blocks * 2;

/** Deterministic pseudo-random numbers in [-1, 1). */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >> 17; x ^= x << 5; x >>>= 0; return (x / 2 ** 32) * 2 - 1; };
}

/** float32 -> IEEE half bits (round to nearest). */
export function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >> 16) & 0x8000;
  const exp = ((u >> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) return exp < -10 ? sign : sign | ((mant | 0x800000) >> (1 - exp + 13));
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 8192);
}

/** The graph plus the names of its attention results (what the pass should find, in graph order). */
export function buildUnetLike(spec: UnetLikeSpec): { model: ModelProto; attentionOutputs: string[] } {
  const { heads, headDim: d, contextDim, form } = spec;
  const dtype = spec.dtype ?? 'float32';
  const hidden = heads * d;
  const rand = rng(spec.seed ?? 1234);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let id = 0;
  const fresh = (h: string) => `${h}_${id++}`;
  const op = (type: string, inputs: string[], attrs: Parameters<typeof node>[3] = {}) => {
    const out = fresh(type.toLowerCase());
    nodes.push(node(type, inputs, [out], attrs, { name: fresh(`/blk/${type}`) }));
    return out;
  };
  const floats = (dims: number[], scale: number, name = fresh('w')) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const vals = Array.from({ length: n }, () => rand() * scale);
    inits.push(dtype === 'float32' ? tensor(name, 'float32', dims, vals) : tensor(name, 'float16', dims, vals.map(toHalf)));
    return name;
  };
  const scalar = (v: number) => {
    const name = fresh('s');
    inits.push(dtype === 'float32' ? tensor(name, 'float32', [], [v]) : tensor(name, 'float16', [], [toHalf(v)]));
    return name;
  };
  const ints = (vals: number[]) => { const name = fresh('i'); inits.push(tensor(name, 'int64', [vals.length], vals)); return name; };
  const ints0 = (v: number) => { const name = fresh('i'); inits.push(tensor(name, 'int64', [], [v])); return name; };
  const elemType = dtype === 'float32' ? 1 : 10;

  // [B, T, hidden] -> [B, heads, T, d]
  const splitHeads = (x: string) => op('Transpose', [op('Reshape', [x, ints([0, 0, heads, d])])], { perm: [0, 2, 1, 3] });
  // [B, heads, T, d] -> [B*heads, T, d], with T read at run time as exports do
  const foldHeads = (x: string) => op('Reshape', [x, op('Concat', [ints([-1]), op('Slice', [op('Shape', [x]), ints([2]), ints([4])])], { axis: 0 })]);
  const mergeHeads4d = (x: string) => op('Reshape', [op('Transpose', [x], { perm: [0, 2, 1, 3] }), ints([0, 0, hidden])]);

  const attentionOutputs: string[] = [];
  const attention = (x: string, ctx: string, ctxWidth: number) => {
    const w = 1 / Math.sqrt(hidden);
    const q = op('MatMul', [x, floats([hidden, hidden], 2 * w)]);
    const k = op('MatMul', [ctx, floats([ctxWidth, hidden], 2 / Math.sqrt(ctxWidth))]);
    const v = op('MatMul', [ctx, floats([ctxWidth, hidden], 1 / Math.sqrt(ctxWidth))]);
    let out: string;
    if (form === 'baddbmm' || form === 'einsum') {
      const q3 = foldHeads(splitHeads(q));
      const k3 = foldHeads(splitHeads(k));
      const v3 = foldHeads(splitHeads(v));
      let o3: string;
      if (form === 'einsum') {
        const scores = op('Mul', [op('Einsum', [q3, k3], { equation: 'b i d, b j d -> b i j' }), scalar(1 / Math.sqrt(d))]);
        o3 = op('Einsum', [op('Softmax', [scores], { axis: -1 }), v3], { equation: 'b i j, b j d -> b i d' });
      } else {
        const castScalar = (v: number) => { const c = fresh('c'); nodes.push(node('Constant', [], [c], { value: tensor(fresh('t'), 'float32', [], [v]) })); return op('Cast', [c], { to: elemType }); };
        const product = op('Mul', [op('MatMul', [q3, op('Transpose', [k3], { perm: [0, 2, 1] })]), castScalar(1 / Math.sqrt(d))]);
        const masked = spec.mask && ctx === 'encoder_hidden_states';
        let term: string;
        if (masked) {
          term = op('Mul', ['attention_mask', castScalar(1)]);
        } else {
          // torch.empty(q.shape[0], q.shape[1], k.shape[1]) exported as ConstantOfShape(0), times beta = 0
          const dim = (x: string, i: number) => op('Unsqueeze', [op('Gather', [op('Shape', [x]), ints0(i)], { axis: 0 }), ints([0])]);
          const shape = op('Concat', [dim(q3, 0), dim(q3, 1), dim(k3, 1)], { axis: 0 });
          const empty = op('ConstantOfShape', [shape], { value: dtype === 'float32' ? tensor(fresh('z'), 'float32', [1], [0]) : tensor(fresh('z'), 'float16', [1], [0]) });
          term = op('Mul', [empty, castScalar(0)]);
        }
        let scores = op('Add', [product, term]);
        if (dtype === 'float16') scores = op('Cast', [scores], { to: 1 }); // upcast_softmax
        const probs = op('Cast', [op('Softmax', [scores], { axis: -1 })], { to: elemType }); // .to(value.dtype)
        o3 = op('MatMul', [probs, v3]);
      }
      attentionOutputs.push(o3);
      const batch = op('Slice', [op('Shape', [x]), ints([0]), ints([1])]);
      const o4 = op('Reshape', [o3, op('Concat', [batch, ints([heads, -1, d])], { axis: 0 })]);
      out = mergeHeads4d(o4);
    } else if (form === '3d') {
      const q3 = foldHeads(splitHeads(q));
      const kT = op('Transpose', [foldHeads(splitHeads(k))], { perm: [0, 2, 1] });
      const v3 = foldHeads(splitHeads(v));
      const scores = op('Mul', [op('MatMul', [q3, kT]), scalar(1 / Math.sqrt(d))]);
      const o3 = op('MatMul', [op('Softmax', [scores], { axis: -1 }), v3]);
      attentionOutputs.push(o3);
      // [B*heads, T, d] -> [B, heads, T, d] -> [B, T, hidden]
      const batch = op('Slice', [op('Shape', [x]), ints([0]), ints([1])]);
      const o4 = op('Reshape', [o3, op('Concat', [batch, ints([heads, -1, d])], { axis: 0 })]);
      out = mergeHeads4d(o4);
    } else {
      const q4 = splitHeads(q);
      const kT = op('Transpose', [op('Reshape', [k, ints([0, 0, heads, d])])], { perm: [0, 2, 3, 1] });
      const v4 = splitHeads(v);
      // torch's SDPA export: scale = 1/sqrt(q.shape[-1]) computed at run time, sqrt(scale) applied to q and to kᵀ.
      const dimF = op('Cast', [op('Slice', [op('Shape', [q4]), ints([-1]), ints([2 ** 53])])], { to: elemType });
      const sqrtScale = op('Sqrt', [op('Div', [scalar(1), op('Sqrt', [dimF])])]);
      const scores = op('MatMul', [op('Mul', [q4, sqrtScale]), op('Mul', [kT, sqrtScale])]);
      const o4 = op('MatMul', [op('Softmax', [scores], { axis: -1 }), v4]);
      attentionOutputs.push(o4);
      out = mergeHeads4d(o4);
    }
    return op('Add', [x, op('MatMul', [out, floats([hidden, hidden], w)])]);
  };

  let h = 'sample';
  const aux: string[] = [];
  for (let b = 0; b < spec.blocks; b++) {
    h = attention(h, h, hidden);
    h = attention(h, 'encoder_hidden_states', contextDim);
    if (spec.decoys) {
      // Softmax over the tokens (axis 1), between two MatMuls: a pooling, not attention.
      const logits = op('MatMul', [h, floats([hidden, 4], 0.5)]);
      aux.push(op('MatMul', [op('Softmax', [logits], { axis: 1 }), floats([4, 4], 0.5)]));
      // Softmax whose input is not a MatMul, feeding a MatMul.
      aux.push(op('MatMul', [op('Softmax', [op('Add', [logits, floats([4], 1)])], { axis: -1 }), floats([4, 4], 0.5)]));
      // MatMul -> Softmax(last axis) not followed by a MatMul.
      aux.push(op('ReduceSum', [op('Softmax', [op('MatMul', [h, floats([hidden, 4], 0.5)])], { axis: -1 }), ints([-1])], { keepdims: 1 }));
    }
  }
  nodes.push(node('Identity', [h], ['out_sample']));
  const outputs = [valueInfo('out_sample', dtype, ['batch', 'tokens', hidden])];
  if (aux.length) {
    nodes.push(node('Concat', aux, ['aux'], { axis: -1 }));
    outputs.push(valueInfo('aux', dtype, null));
  }
  const m = model({
    nodes,
    inputs: [
      valueInfo('sample', dtype, ['batch', 'tokens', hidden]),
      valueInfo('encoder_hidden_states', dtype, ['batch', 'ctx', contextDim]),
      ...(spec.mask ? [valueInfo('attention_mask', dtype, ['mask_batch', 'mask_rows', 'ctx'])] : []),
    ],
    outputs,
    initializers: inits,
    opset: 17,
    name: `unet-like-${form}`,
  });
  return { model: m, attentionOutputs };
}

/** Random inputs for a built graph: [batch, tokens, hidden] and [batch, ctx, contextDim]. */
export function unetLikeInputs(spec: UnetLikeSpec, batch: number, tokens: number, ctxTokens: number, seed = 7) {
  const rand = rng(seed);
  const hidden = spec.heads * spec.headDim;
  const sample = Float32Array.from({ length: batch * tokens * hidden }, () => rand());
  const context = Float32Array.from({ length: batch * ctxTokens * spec.contextDim }, () => rand());
  return { sample, sampleDims: [batch, tokens, hidden], context, contextDims: [batch, ctxTokens, spec.contextDim] };
}
