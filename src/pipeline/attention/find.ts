// Finds attention blocks: QK product -> [scale, additive term, Cast]* -> Softmax(last axis) -> [Cast]* -> PV product.
// Covers the forms real exports use:
//   - 3-D with heads folded into the batch (diffusers' classic AttnProcessor), scale after QKᵀ;
//   - the same written as torch.baddbmm(empty, q, kᵀ, beta=0, alpha=scale): Add(Mul(QKᵀ, scale),
//     Mul(ConstantOfShape(shape, 0), 0)) — a provably zero term, dropped — or with beta=1 and a real attention mask,
//     which is kept;
//   - upcast softmax: Cast to float before the Softmax and back after (fp16 exports), or a Cast after it (fp32);
//   - 4-D [B, heads, tokens, dim] (torch's scaled_dot_product_attention export, scale applied to q and kᵀ beforehand);
//   - Einsum for either product (older diffusers: einsum("b i d, b j d -> b i j") and einsum("b i j, b j d -> b i d")).
// Besides the blocks it reports attention-shaped chains (two activations multiplied, a last-axis Softmax, another
// product) it could not match, and why, so a model that keeps its full-size attention never does so silently.
import type { IGraphProto as GraphProto, INodeProto as NodeProto } from '../onnx/build.ts';
import { DataType } from '../onnx/build.ts';
import { GraphIndex, inputName, outputName, stringAttr } from './graphIndex.ts';

/** A scalar factor applied to the attention scores between the two products. */
export interface ScoreScale {
  op: 'Mul' | 'Div';
  /** The one-element value multiplied by (or divided by). */
  operand: string;
  /** Its value when it is a constant; undefined when it is computed at run time (e.g. from Shape(q)). */
  value?: number;
}

/** One node between the QK product and the PV product, and what it does to the scores. */
export interface ChainStep {
  node: NodeProto;
  /** scale: scalar Mul/Div; cast; zero: Add of a provably zero term (dropped); mask: Add of a real term; softmax. */
  kind: 'scale' | 'cast' | 'zero' | 'mask' | 'softmax';
  /** Index of the input that carries the scores. */
  scoresInput: number;
}

export interface AttentionBlock {
  /** Position in findAttentionBlocks' result (graph order). */
  index: number;
  /** q (possibly pre-scaled), [..., S, d]. */
  query: string;
  /** The key as the QK product reads it: kᵀ [..., d, L] when keyTransposed, else k [..., L, d] (Einsum forms). */
  key: string;
  keyTransposed: boolean;
  /** v, [..., L, dv]. */
  value: string;
  /** The attention result [..., S, dv]: the PV product's output, kept as the name of the rewritten result. */
  output: string;
  /** Rank of the scores when the graph fixes it (3 for heads-in-batch, 4 for [B, heads, S, L]). */
  rank?: number;
  form: '3d' | '4d' | 'unknown';
  /** Which op computes the two products. */
  product: 'MatMul' | 'Einsum';
  scales: ScoreScale[];
  /** Additive masks kept (the second input of each 'mask' step), in chain order. */
  masks: string[];
  qk: NodeProto;
  chain: ChainStep[];
  pv: NodeProto;
  /** Every node the block replaces, in graph order: QK product, chain, PV product. */
  nodes: NodeProto[];
  /** Whether the block can become one MultiHeadAttention node. */
  fusable: boolean;
  /** Why it cannot, when it cannot. */
  notFusable?: string;
  /** Element type of q, k, v and the result (ONNX DataType), when known. */
  dtype?: number;
}

/** An attention-shaped chain (product of activations -> last-axis Softmax -> product) that was not matched. */
export interface SkippedChain {
  softmax: string;
  reason: string;
}

export interface FindOptions {
  /** The model's default-domain opset; decides Softmax's default axis (1 before opset 13, -1 from 13 on). */
  opset?: number;
}

/** Default-domain opset version of a model. */
export function defaultOpset(model: { opsetImport?: { domain?: string | null; version?: number | Long | null }[] | null }): number {
  const entry = model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry?.version != null ? Number(entry.version) : 17;
}
type Long = { toNumber(): number };

export function findAttentionBlocks(graph: GraphProto, options: FindOptions = {}): AttentionBlock[] {
  return findAttention(graph, options).blocks;
}

export function findAttention(graph: GraphProto, options: FindOptions = {}): { blocks: AttentionBlock[]; skipped: SkippedChain[] } {
  const index = new GraphIndex(graph, options.opset ?? 17);
  const blocks: AttentionBlock[] = [];
  const skipped: SkippedChain[] = [];
  for (const softmax of graph.node ?? []) {
    if (softmax.opType !== 'Softmax' || (softmax.domain && softmax.domain !== 'ai.onnx')) continue;
    const match = matchAround(index, softmax);
    if (typeof match !== 'string') blocks.push({ ...match, index: blocks.length });
    else if (attentionShaped(index, softmax)) skipped.push({ softmax: softmax.name || outputName(softmax, 0), reason: match });
  }
  return { blocks, skipped };
}

const isDefaultDomain = (n: NodeProto) => !n.domain || n.domain === 'ai.onnx';

/**
 * An Einsum that is a batched matrix product over the last two axes, with identical leading (batch) letters:
 * returns how its operands are laid out, or undefined. `role` qk: a[..., i, d] with b[..., j, d] (b is k) or
 * b[..., d, j] (b is kᵀ) -> out[..., i, j]. `role` pv: a[..., i, j] with b[..., j, d] -> out[..., i, d].
 */
export function einsumLayout(n: NodeProto, role: 'qk' | 'pv'): { bTransposed: boolean } | undefined {
  const eq = (stringAttr(n, 'equation') ?? '').replace(/\s/g, '');
  const m = /^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$/.exec(eq);
  if (!m) return undefined;
  const [, a, b, out] = m;
  if (!a || !b || !out) return undefined; // unreachable: the pattern's three groups are required
  if (a.length < 2 || a.length !== b.length || a.length !== out.length) return undefined;
  const batch = a.slice(0, -2);
  if (b.slice(0, -2) !== batch || out.slice(0, -2) !== batch) return undefined;
  const [ai, ak] = [a.at(-2)!, a.at(-1)!];
  const [b0, b1] = [b.at(-2)!, b.at(-1)!];
  const [oi, oj] = [out.at(-2)!, out.at(-1)!];
  const letters = new Set([...batch, ai, ak]);
  if (letters.size !== batch.length + 2 || oi !== ai) return undefined;
  if (role === 'pv') return b0 === ak && oj === b1 && !letters.has(b1) ? { bTransposed: false } : undefined;
  // qk: contraction over a's last letter, output's last letter is b's other letter.
  if (b1 === ak && oj === b0 && !letters.has(b0)) return { bTransposed: false };
  if (b0 === ak && oj === b1 && !letters.has(b1)) return { bTransposed: true };
  return undefined;
}

/** The QK product a value comes from, if `name` is produced by one (MatMul, or an Einsum of the QK form). */
function qkProduct(g: GraphIndex, name: string): { node: NodeProto; keyTransposed: boolean } | undefined {
  const p = g.producer.get(name);
  if (!p || !isDefaultDomain(p)) return undefined;
  if (p.opType === 'MatMul') return { node: p, keyTransposed: true };
  if (p.opType === 'Einsum' && (p.input ?? []).length === 2) {
    const layout = einsumLayout(p, 'qk');
    if (layout) return { node: p, keyTransposed: layout.bTransposed };
  }
  return undefined;
}

/** Whether walking back from `name` through score-preserving ops reaches a QK product (which side of an Add is the scores). */
function leadsToProduct(g: GraphIndex, name: string, depth = 0): boolean {
  if (depth > 8) return false;
  if (qkProduct(g, name)) return true;
  const p = g.producer.get(name);
  if (!p || !isDefaultDomain(p)) return false;
  if (p.opType === 'Cast') return leadsToProduct(g, inputName(p, 0), depth + 1);
  if (p.opType === 'Mul' || p.opType === 'Div' || p.opType === 'Add') return (p.input ?? []).some((i) => i && !g.isOneElement(i) && leadsToProduct(g, i, depth + 1));
  return false;
}

function matchAround(g: GraphIndex, softmax: NodeProto): Omit<AttentionBlock, 'index'> | string {
  const scoresIn = softmax.input?.[0];
  if (!scoresIn) return 'Softmax without input';
  // Walk back from the Softmax through scales, casts and additive terms to the QK product.
  const before: ChainStep[] = [];
  const scales: ScoreScale[] = [];
  const masks: string[] = [];
  let cur = scoresIn;
  let qk: { node: NodeProto; keyTransposed: boolean } | undefined;
  for (;;) {
    if (!g.isPrivate(cur)) return 'the scores are also read by another node';
    qk = qkProduct(g, cur);
    if (qk) break;
    const p = g.producer.get(cur);
    if (!p) return 'the scores come from a graph input';
    if (!isDefaultDomain(p)) return `${p.domain}.${p.opType} between the product and the Softmax`;
    if (p.opType === 'Cast') { before.unshift({ node: p, kind: 'cast', scoresInput: 0 }); cur = inputName(p, 0); continue; }
    if (p.opType === 'Mul' || p.opType === 'Div') {
      const [a, b] = [inputName(p, 0), inputName(p, 1)];
      // Mul is commutative: the scores may be either input. Div only scales when the scores are the numerator.
      const scoresSide = p.opType === 'Mul' && g.isOneElement(a) && !g.isOneElement(b) ? 1 : 0;
      const operand = scoresSide === 0 ? b : a;
      if (!g.isOneElement(operand)) return `${p.opType} by a tensor that is not a single number`;
      scales.unshift({ op: p.opType, operand, value: g.scalarValue(operand) });
      before.unshift({ node: p, kind: 'scale', scoresInput: scoresSide });
      cur = inputName(p, scoresSide);
      continue;
    }
    if (p.opType === 'Add') {
      const [a, b] = [inputName(p, 0), inputName(p, 1)];
      if (g.isZero(b) || g.isZero(a)) {
        const scoresSide = g.isZero(b) ? 0 : 1;
        before.unshift({ node: p, kind: 'zero', scoresInput: scoresSide });
        cur = inputName(p, scoresSide);
        continue;
      }
      const [fromA, fromB] = [leadsToProduct(g, a), leadsToProduct(g, b)];
      if (fromA === fromB) return 'an Add whose scores side cannot be told';
      const scoresSide = fromA ? 0 : 1;
      masks.unshift(inputName(p, 1 - scoresSide));
      before.unshift({ node: p, kind: 'mask', scoresInput: scoresSide });
      cur = inputName(p, scoresSide);
      continue;
    }
    return `${p.opType} between the product and the Softmax`;
  }
  const qkNode = qk.node;
  // Softmax must normalise over the last axis (the keys).
  const rank = g.rankOf(outputName(qkNode, 0));
  const axis = GraphIndex.intAttr(softmax, 'axis', g.opset >= 13 ? -1 : 1);
  if (!(axis === -1 || (rank !== undefined && axis === rank - 1))) return 'the Softmax is not over the last axis';
  // Walk forward through casts to the PV product, which must take the probabilities as its first input.
  const after: ChainStep[] = [];
  let probs = outputName(softmax, 0);
  let pv: NodeProto | undefined;
  for (;;) {
    if (!g.isPrivate(probs)) return 'the probabilities are also read by another node';
    const c = g.consumersOf(probs)[0]!; // isPrivate: exactly one consumer
    if (!isDefaultDomain(c)) return `${c.domain}.${c.opType} after the Softmax`;
    if (c.opType === 'Cast') { after.push({ node: c, kind: 'cast', scoresInput: 0 }); probs = outputName(c, 0); continue; }
    if (c.input![0] === probs && c.input![1] !== probs) {
      if (c.opType === 'MatMul' || (c.opType === 'Einsum' && c.input!.length === 2 && einsumLayout(c, 'pv'))) { pv = c; break; }
    }
    return `${c.opType} after the Softmax`;
  }
  const [query, key] = [inputName(qkNode, 0), inputName(qkNode, 1)];
  const value = inputName(pv, 1);
  // Attention multiplies activations: a product with a weight is a projection (a gate, a pooling), not attention.
  if ([query, key, value].some((x) => g.isConstantDerived(x))) return 'a product with a constant (a projection, not attention)';

  const chain = [...before, { node: softmax, kind: 'softmax' as const, scoresInput: 0 }, ...after];
  const dtypes = fusionCheck(g, query, key, value, outputName(pv, 0), chain, masks, rank);
  return {
    query,
    key,
    keyTransposed: qk.keyTransposed,
    value,
    output: outputName(pv, 0),
    rank,
    form: rank === 3 ? '3d' : rank === 4 ? '4d' : 'unknown',
    product: qkNode.opType === 'Einsum' || pv.opType === 'Einsum' ? 'Einsum' : 'MatMul',
    scales,
    masks,
    qk: qkNode,
    chain,
    pv,
    nodes: [qkNode, ...chain.map((s) => s.node), pv],
    fusable: dtypes.fusable,
    notFusable: dtypes.why,
    dtype: dtypes.dtype,
  };
}

/**
 * Whether one MultiHeadAttention node computes the block: q, k, v and the result share one float type T, every value
 * inside is T or float32 (an upcast softmax, which MultiHeadAttention's own accumulation covers), at most one mask,
 * added after every scale, shaped so it can be the node's attention bias.
 */
function fusionCheck(g: GraphIndex, q: string, k: string, v: string, out: string, chain: ChainStep[], masks: string[], rank: number | undefined): { fusable: boolean; why?: string; dtype?: number } {
  const t = g.elemTypeOf(q);
  const fail = (why: string) => ({ fusable: false, why, dtype: t });
  if (t !== DataType.float32 && t !== DataType.float16) return fail(t === undefined ? 'element type unknown' : `element type ${t}`);
  if ([k, v, out].some((x) => g.elemTypeOf(x) !== t)) return fail('q, k, v and the result differ in type');
  for (const s of chain) {
    const o = g.elemTypeOf(outputName(s.node, 0));
    if (o !== t && o !== DataType.float32) return fail('a Cast to a lower precision inside the block');
  }
  if (masks.length > 1) return fail('more than one additive mask');
  if (masks.length === 1) {
    const maskAt = chain.findIndex((s) => s.kind === 'mask');
    if (chain.slice(maskAt).some((s) => s.kind === 'scale')) return fail('a scale applied after the mask');
    const r = g.rankOf(masks[0]!); // masks.length === 1 here
    if (r === undefined) return fail('a mask of unknown rank');
    // MultiHeadAttention's bias is [batch or 1, heads or 1, S, L]; with the heads folded into the batch, a mask fits
    // when its leading dims are the folded batch (3-D scores) or absent.
    if (!(r <= 2 || (rank === 3 && r === 3))) return fail(`a rank-${r} mask on rank-${rank ?? '?'} scores`);
  }
  return { fusable: true, dtype: t };
}

/**
 * Softmax over the last axis with a product of two activations a few score-preserving steps before it and a product
 * of the probabilities with an activation a few steps after: something that computes attention, matched or not.
 */
function attentionShaped(g: GraphIndex, softmax: NodeProto): boolean {
  const axis = GraphIndex.intAttr(softmax, 'axis', g.opset >= 13 ? -1 : 1);
  const inputRank = g.rankOf(inputName(softmax, 0));
  if (!(axis === -1 || (inputRank !== undefined && axis === inputRank - 1))) return false;
  const isActivationProduct = (n: NodeProto) =>
    (n.opType === 'MatMul' || n.opType === 'Einsum') && (n.input ?? []).length === 2 && n.input!.every((i) => !g.isConstantDerived(i));
  const passthrough = new Set(['Cast', 'Mul', 'Div', 'Add', 'Sub', 'Where', 'Identity', 'Dropout', 'Clip', 'Max', 'Min']);
  let back = false;
  const stack: [string, number][] = [[inputName(softmax, 0), 0]];
  while (stack.length && !back) {
    const [name, depth] = stack.pop()!;
    const p = g.producer.get(name);
    if (!p || depth > 6) continue;
    if (isActivationProduct(p)) back = true;
    else if (passthrough.has(p.opType ?? '')) for (const i of p.input ?? []) if (i) stack.push([i, depth + 1]);
  }
  if (!back) return false;
  const forward: [string, number][] = [[outputName(softmax, 0), 0]];
  while (forward.length) {
    const [name, depth] = forward.pop()!;
    if (depth > 4) continue;
    for (const c of g.consumersOf(name)) {
      if (isActivationProduct(c)) return true;
      if (passthrough.has(c.opType ?? '')) forward.push([outputName(c, 0), depth + 1]);
    }
  }
  return false;
}
