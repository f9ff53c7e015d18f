// Finds attention blocks: MatMul(q, kᵀ) -> [scalar Mul/Div, Cast]* -> Softmax(last axis) -> [Cast]* -> MatMul(p, v).
// Covers both forms real UNet exports use: 3-D with heads folded into the batch (torch's classic attention processor)
// and 4-D [B, heads, tokens, dim] (torch's scaled_dot_product_attention export, scale applied to q and kᵀ beforehand).
import type { IGraphProto as GraphProto, INodeProto as NodeProto } from '../onnx/build.ts';
import { GraphIndex } from './graphIndex.ts';

/** A scalar factor applied to the attention scores between the two MatMuls. */
export interface ScoreScale {
  op: 'Mul' | 'Div';
  /** The one-element value multiplied by (or divided by). */
  operand: string;
  /** Its value when it is a constant; undefined when it is computed at run time (e.g. from Shape(q)). */
  value?: number;
}

export interface AttentionBlock {
  /** Position in findAttentionBlocks' result (graph order). */
  index: number;
  /** q (possibly pre-scaled), [..., S, d]: the first MatMul's first input. */
  query: string;
  /** kᵀ (possibly pre-scaled), [..., d, L]: the first MatMul's second input. */
  keyT: string;
  /** v, [..., L, dv]: the second MatMul's second input. */
  value: string;
  /** The attention result [..., S, dv]: the second MatMul's output, kept as the name of the rewritten result. */
  output: string;
  /** Rank of the scores when the graph fixes it (3 for heads-in-batch, 4 for [B, heads, S, L]). */
  rank?: number;
  form: '3d' | '4d' | 'unknown';
  scales: ScoreScale[];
  /** Every node the block replaces, in graph order: QK MatMul, scale/Cast nodes, Softmax, Casts, PV MatMul. */
  nodes: NodeProto[];
  /** Whether the block can become one MultiHeadAttention node (no dtype changes inside it). */
  fusable: boolean;
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
  const index = new GraphIndex(graph, options.opset ?? 17);
  const blocks: AttentionBlock[] = [];
  for (const softmax of graph.node ?? []) {
    if (softmax.opType !== 'Softmax' || (softmax.domain && softmax.domain !== 'ai.onnx')) continue;
    const block = matchAround(index, softmax);
    if (block) blocks.push({ ...block, index: blocks.length });
  }
  return blocks;
}

function matchAround(g: GraphIndex, softmax: NodeProto): Omit<AttentionBlock, 'index'> | undefined {
  const scoresIn = softmax.input?.[0];
  if (!scoresIn) return undefined;
  // Walk back from the Softmax through scalar scales and casts to the QK MatMul.
  const before: NodeProto[] = [];
  const scales: ScoreScale[] = [];
  let cur = scoresIn;
  let qk: NodeProto | undefined;
  for (;;) {
    if (!g.isPrivate(cur)) return undefined;
    const p = g.producer.get(cur);
    if (!p || (p.domain && p.domain !== 'ai.onnx')) return undefined;
    if (p.opType === 'MatMul') { qk = p; break; }
    if (p.opType === 'Cast') { before.unshift(p); cur = p.input![0]; continue; }
    if (p.opType === 'Mul' || p.opType === 'Div') {
      const [a, b] = p.input!;
      // Mul is commutative: the scores may be either input. Div only scales when the scores are the numerator.
      const scoresSide = p.opType === 'Mul' && g.isOneElement(a) && !g.isOneElement(b) ? 1 : 0;
      const operand = scoresSide === 0 ? b : a;
      if (!g.isOneElement(operand)) return undefined;
      scales.unshift({ op: p.opType, operand, value: g.scalarValue(operand) });
      before.unshift(p);
      cur = p.input![scoresSide];
      continue;
    }
    return undefined;
  }
  // Softmax must normalise over the last axis.
  const rank = g.rankOf(qk.output![0]);
  const axis = GraphIndex.intAttr(softmax, 'axis', g.opset >= 13 ? -1 : 1);
  if (!(axis === -1 || (rank !== undefined && axis === rank - 1))) return undefined;
  // Walk forward through casts to the PV MatMul, which must take the probabilities as its first input.
  const after: NodeProto[] = [];
  let probs = softmax.output![0];
  let pv: NodeProto | undefined;
  for (;;) {
    if (!g.isPrivate(probs)) return undefined;
    const c = g.consumersOf(probs)[0];
    if (c.domain && c.domain !== 'ai.onnx') return undefined;
    if (c.opType === 'Cast') { after.push(c); probs = c.output![0]; continue; }
    if (c.opType === 'MatMul' && c.input![0] === probs && c.input![1] !== probs) { pv = c; break; }
    return undefined;
  }
  const [query, keyT] = qk.input!;
  const hasCast = before.some((n) => n.opType === 'Cast') || after.length > 0;
  return {
    query,
    keyT,
    value: pv.input![1],
    output: pv.output![0],
    rank,
    form: rank === 3 ? '3d' : rank === 4 ? '4d' : 'unknown',
    scales,
    nodes: [qk, ...before, softmax, ...after, pv],
    fusable: !hasCast,
  };
}
