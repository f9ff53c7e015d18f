// Rewrites attention blocks according to a plan: into query-token slices run one after another, or into one
// com.microsoft.MultiHeadAttention node. No static shapes are needed: every size is read at run time (Shape -> Slice),
// so the rewrite works on exports with symbolic batch/height/width and without value_info.
import { node, onnx, tensor } from '../onnx/build.ts';
import type { ModelProto, INodeProto as NodeProto, ITensorProto as TensorProto } from '../onnx/build.ts';
import type { AttentionBlock } from './find.ts';
import { defaultOpset, findAttentionBlocks } from './find.ts';
import { inputName } from './graphIndex.ts';
import type { AttentionPlan, FlashAction, SliceAction } from './plan.ts';

const INT64_MAX = 2n ** 63n - 1n;
/** Slice with negative axes and int64 Max need opset 12+; every UNet export we target is 14+. */
export const MIN_OPSET = 13;

/** Emits nodes and int64 constants with names that cannot collide with the graph's own. */
class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly constants: TensorProto[] = [];
  private readonly constNames = new Map<string, string>();
  private counter = 0;

  constructor(private readonly taken: Set<string>, private readonly prefix: string) {}

  fresh(hint: string): string {
    let name: string;
    do name = `${this.prefix}${hint}_${this.counter++}`; while (this.taken.has(name));
    this.taken.add(name);
    return name;
  }

  /** A 1-D int64 constant (shared between all uses of the same values). */
  ints(values: (number | bigint)[]): string {
    const key = values.join(',');
    const existing = this.constNames.get(key);
    if (existing) return existing;
    const name = this.fresh('const');
    this.constants.push(tensor(name, 'int64', [values.length], values.map((v) => BigInt(v))));
    this.constNames.set(key, name);
    return name;
  }

  op(opType: string, inputs: string[], attrs: Parameters<typeof node>[3] = {}, output?: string, domain?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    this.nodes.push(node(opType, inputs, [out], attrs, { name: this.fresh(`${opType}_node`), domain }));
    return out;
  }

  /** x's dims [from, to) as a 1-D int64 tensor, read at run time. */
  dims(x: string, from: number, to: number | null): string {
    const shape = this.op('Shape', [x]);
    return this.op('Slice', [shape, this.ints([from]), this.ints([to ?? INT64_MAX])]);
  }
}

/**
 * Apply `plan` to the attention blocks of `model` (found again here, matched to the plan by output name). Returns a new
 * model; the input model is not modified (nodes and tensors it holds are shared, not copied).
 */
export function rewriteAttention(model: ModelProto, plan: AttentionPlan): ModelProto {
  const graph = model.graph;
  if (!graph || plan.actions.size === 0) return model;
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET) throw new Error(`attention rewrite needs opset >= ${MIN_OPSET}, the model has ${opset}`);
  const blocks = findAttentionBlocks(graph, { opset }).filter((b) => plan.actions.has(b.output));
  if (blocks.length === 0) return model;

  const taken = new Set<string>();
  for (const n of graph.node ?? []) { for (const v of [...(n.input ?? []), ...(n.output ?? [])]) taken.add(v); if (n.name) taken.add(n.name); }
  for (const t of graph.initializer ?? []) taken.add(t.name ?? '');
  for (const v of graph.input ?? []) taken.add(v.name ?? '');

  const removed = new Set<NodeProto>();
  const replacementAt = new Map<NodeProto, NodeProto[]>();
  const constants: TensorProto[] = [];
  let usesMha = false;
  for (const b of blocks) {
    const action = plan.actions.get(b.output)!;
    const e = new Emitter(taken, `attn${b.index}/`);
    if (action.kind === 'flash') { emitFlash(e, b, action); usesMha = true; }
    else emitSlices(e, b, action);
    for (const n of b.nodes) removed.add(n);
    replacementAt.set(b.nodes[b.nodes.length - 1]!, e.nodes); // the PV MatMul (nodes is never empty): every input the block reads exists by then
    constants.push(...e.constants);
  }

  const spliced: NodeProto[] = [];
  for (const n of graph.node ?? []) {
    const replacement = replacementAt.get(n);
    if (replacement) spliced.push(...replacement);
    else if (!removed.has(n)) spliced.push(n);
  }
  // What only fed the dropped nodes goes too: above all the baddbmm export's ConstantOfShape, a zero tensor as large
  // as the scores that nothing reads any more.
  const nodes = withoutDeadNodes(spliced, new Set((graph.output ?? []).map((o) => o.name ?? '')));
  const gone = new Set<string>();
  for (const n of removed) for (const o of n.output ?? []) gone.add(o);
  for (const b of blocks) gone.delete(b.output);
  const valueInfo = (graph.valueInfo ?? []).filter((v) => !gone.has(v.name ?? ''));

  const newGraph = onnx.GraphProto.create({ ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...constants], valueInfo });
  const opsetImport = [...(model.opsetImport ?? [])];
  if (usesMha && !opsetImport.some((o) => o.domain === 'com.microsoft')) opsetImport.push(onnx.OperatorSetIdProto.create({ domain: 'com.microsoft', version: 1 }));
  return onnx.ModelProto.create({ ...model, graph: newGraph, opsetImport });
}

/** Every value a node reads, including what nodes in its subgraphs (If/Loop bodies) read from the outer scope. */
function addReads(n: NodeProto, read: Set<string>): void {
  for (const i of n.input ?? []) if (i) read.add(i);
  for (const a of n.attribute ?? []) for (const g of [...(a.g ? [a.g] : []), ...(a.graphs ?? [])]) for (const inner of g.node ?? []) addReads(inner, read);
}

/** Drop nodes none of whose outputs is read by another node or is a graph output, until none is left. */
export function withoutDeadNodes(nodes: NodeProto[], graphOutputs: Set<string>): NodeProto[] {
  let current = nodes;
  for (;;) {
    const read = new Set<string>(graphOutputs);
    for (const n of current) addReads(n, read);
    const kept = current.filter((n) => (n.output ?? []).some((o) => o && read.has(o)));
    if (kept.length === current.length) return current;
    current = kept;
  }
}

/**
 * N pieces along the query tokens (axis -2 of q): piece i computes softmax(q[i] kᵀ) v for its rows only, and a Concat
 * joins the pieces. ONNX Runtime frees each piece's scores before the next starts, so the peak is one piece's scores.
 * Slicing the queries (not the heads) works identically for the 3-D and 4-D forms and needs no head count. Every node
 * of the chain (scales, Casts with their dtypes, masks, the Softmax) is replayed on each piece; provably zero additive
 * terms are dropped; a mask with one row per query is cut into the same pieces.
 */
function emitSlices(e: Emitter, b: AttentionBlock, action: SliceAction): void {
  const n = Math.max(1, Math.floor(action.slices));
  const rows = e.dims(b.query, -2, -1); // S, as a [1] tensor
  let chunk = e.op('Div', [e.op('Add', [rows, e.ints([n - 1])]), e.ints([n])]); // ceil(S / n)
  if (action.minRowsBudget > 0) {
    const lead = e.op('ReduceProd', [e.dims(b.query, 0, -2)], { keepdims: 1 }); // batch*heads (1 when q is 2-D)
    const keys = b.keyTransposed ? e.dims(b.key, -1, null) : e.dims(b.key, -2, -1);
    const perRow = e.op('Max', [e.op('Mul', [lead, keys]), e.ints([1])]);
    const budgetRows = e.op('Div', [e.ints([action.minRowsBudget]), perRow]);
    chunk = e.op('Max', [chunk, budgetRows]);
  }
  // Masks as at least 2-D (Expand to [1, 1] only adds leading 1s), and whether each has one row per query (f = 1) or
  // one row for all (f = 0): a piece [start, end) then reads rows [start*f, end*f + 1 - f).
  const masks = new Map<string, { mask: string; f: string; notF: string }>();
  for (const m of b.masks) {
    const mask = e.op('Expand', [m, e.ints([1, 1])]);
    const f = e.op('Min', [e.op('Sub', [e.dims(mask, -2, -1), e.ints([1])]), e.ints([1])]);
    masks.set(m, { mask, f, notF: e.op('Sub', [e.ints([1]), f]) });
  }
  const pieces: string[] = [];
  let start = e.ints([0]);
  for (let i = 0; i < n; i++) {
    const end = e.op('Mul', [chunk, e.ints([i + 1])]); // Slice clamps ends past S, so the last piece ends at S
    const q = e.op('Slice', [b.query, start, end, e.ints([-2])]);
    let cur = replay(e, b.qk, { [b.query]: q }, 'scores');
    for (const step of b.chain) {
      if (step.kind === 'zero') continue;
      const scoresIn = inputName(step.node, step.scoresInput);
      const renames: Record<string, string> = {};
      if (step.kind === 'mask') {
        const other = inputName(step.node, 1 - step.scoresInput);
        const m = masks.get(other)!;
        const from = e.op('Mul', [start, m.f]);
        const to = e.op('Add', [e.op('Mul', [end, m.f]), m.notF]);
        renames[other] = e.op('Slice', [m.mask, from, to, e.ints([-2])]);
      }
      cur = replay(e, step.node, { ...renames, [scoresIn]: cur }, (step.node.opType ?? 'op').toLowerCase(), step.scoresInput);
    }
    pieces.push(replay(e, b.pv, { [inputName(b.pv, 0)]: cur }, 'out', 0));
    start = end;
  }
  e.op('Concat', pieces, { axis: -2 }, b.output);
}

/**
 * A copy of `n` (same op, domain and attributes) with some inputs renamed and a fresh output. When `onlyInput` is
 * given, only that input position takes the rename of its name (a node may read the same value twice).
 */
function replay(e: Emitter, n: NodeProto, renames: Record<string, string>, hint: string, onlyInput?: number): string {
  const out = e.fresh(hint);
  const inputs = (n.input ?? []).map((x, i) => {
    if (onlyInput !== undefined && i === onlyInput) return renames[x] ?? x;
    if (onlyInput !== undefined && x === n.input![onlyInput]) return x; // the same value at another position stays
    return renames[x] ?? x;
  });
  e.nodes.push(onnx.NodeProto.create({ ...n, input: inputs, output: [out], name: e.fresh(`${n.opType}_node`) }));
  return out;
}

/**
 * One MultiHeadAttention node with num_heads = 1 over [batch*heads, S, d]: folding the heads into the batch is exact
 * (each batch row is an independent attention), needs no head count, and is a free reshape for both forms. The scale
 * attribute carries the constant factors between the products; factors computed at run time (and the 4-D form's
 * factors already applied to q and kᵀ) stay as multiplications of q, so the node gets scale 1 for them. A mask becomes
 * the node's attention bias, [batch*heads or 1, 1, S, L].
 */
function emitFlash(e: Emitter, b: AttentionBlock, _action: FlashAction): void {
  const lastTwo = (x: string) => e.op('Concat', [e.ints([-1]), e.dims(x, -2, null)], { axis: 0 });
  let q = e.op('Reshape', [b.query, lastTwo(b.query)]);
  const k = b.keyTransposed ? e.op('Transpose', [e.op('Reshape', [b.key, lastTwo(b.key)])], { perm: [0, 2, 1] }) : e.op('Reshape', [b.key, lastTwo(b.key)]);
  const v = e.op('Reshape', [b.value, lastTwo(b.value)]);
  let scale = 1;
  for (const s of b.scales) {
    if (s.value !== undefined && Number.isFinite(s.value) && s.value !== 0) scale = s.op === 'Mul' ? scale * s.value : scale / s.value;
    else q = e.op(s.op, [q, e.op('Cast', [e.op('Reshape', [s.operand, e.ints([])])], { to: b.dtype! })]); // scalar at run time; scales q the same way
  }
  const inputs = [q, k, v];
  if (b.masks.length === 1) {
    const rowsCols = e.op('Concat', [e.ints([1]), e.dims(q, -2, -1), e.dims(k, -2, -1)], { axis: 0 }); // [1, S, L]
    const bias = e.op('Unsqueeze', [e.op('Expand', [b.masks[0]!, rowsCols]), e.ints([1])]);
    inputs.push('', '', e.op('Cast', [bias], { to: b.dtype! }));
  }
  const o = e.op('MultiHeadAttention', inputs, { num_heads: 1, scale: { float: scale } }, undefined, 'com.microsoft');
  const outShape = e.op('Concat', [e.dims(b.query, 0, -1), e.dims(b.value, -1, null)], { axis: 0 });
  e.op('Reshape', [o, outShape], {}, b.output);
}
