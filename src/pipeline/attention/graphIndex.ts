// Read-only lookups over an ONNX graph for the attention pass: who produces and who consumes each value, small constant
// values, and the little static facts the matcher needs (is this value a single element? what is its rank?) derived
// from the graph structure itself, because exported graphs often lack value_info shapes.
import type { IGraphProto as GraphProto, INodeProto as NodeProto, ITensorProto as TensorProto } from '../onnx/build.ts';
import { DataType } from '../onnx/build.ts';
import { float16Value } from '../tensor.ts';

const UNARY_ELEMENTWISE = new Set(['Cast', 'Sqrt', 'Reciprocal', 'Neg', 'Identity', 'Exp', 'Log', 'Abs', 'Floor', 'Ceil', 'Relu', 'Erf', 'Softmax', 'Sigmoid', 'Tanh']);
const BINARY_ELEMENTWISE = new Set(['Mul', 'Div', 'Add', 'Sub', 'Pow', 'Max', 'Min']);
const MAX_DEPTH = 24;
/** Ops that pass a scalar (or a zero tensor) through unchanged in value. */
const SCALAR_PASSTHROUGH = new Set(['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze']);

/** A string attribute (ONNX stores it as bytes). */
export function stringAttr(n: NodeProto, name: string): string | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  if (!a?.s) return undefined;
  return typeof a.s === 'string' ? a.s : new TextDecoder().decode(a.s);
}

/**
 * Input `i` of a node by name. ONNX writes an absent optional input as ''; a missing entry reads the same, and every
 * lookup below treats '' as an unknown value (no producer, no consumers, no declared shape).
 */
export function inputName(n: NodeProto, i: number): string {
  return n.input?.[i] ?? '';
}

/** Output `i` of a node by name, '' when the node has none (read as unknown, as for inputName). */
export function outputName(n: NodeProto, i: number): string {
  return n.output?.[i] ?? '';
}

export class GraphIndex {
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly initializers = new Map<string, TensorProto>();
  readonly graphOutputs = new Set<string>();
  /** Declared ranks from graph inputs/outputs/value_info (only where a shape is declared). */
  private readonly declaredDims = new Map<string, number[] | null>();
  /** Declared element types (ONNX TensorProto.DataType numbers) from graph inputs/outputs/value_info. */
  private readonly declaredTypes = new Map<string, number>();
  private readonly inferredTypes = new Map<string, number>();
  private typesComputed = false;

  constructor(readonly graph: GraphProto, readonly opset: number) {
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.set(t.name, t);
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) if (o) this.producer.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
    }
    for (const o of graph.output ?? []) if (o.name) this.graphOutputs.add(o.name);
    for (const vi of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
      const elemType = vi.type?.tensorType?.elemType;
      if (vi.name && elemType) this.declaredTypes.set(vi.name, elemType);
      const shape = vi.type?.tensorType?.shape;
      if (!vi.name || !shape) continue;
      this.declaredDims.set(vi.name, (shape.dim ?? []).map((d) => (d.dimValue != null && !d.dimParam ? Number(d.dimValue) : -1)));
    }
  }

  consumersOf(name: string): NodeProto[] {
    return this.consumers.get(name) ?? [];
  }

  /** True when exactly one node reads `name` and it is not also a graph output (so it can be replaced). */
  isPrivate(name: string): boolean {
    return this.consumersOf(name).length === 1 && !this.graphOutputs.has(name);
  }

  /** The constant tensor behind a name: an initializer or a Constant node's value. */
  constantTensor(name: string): TensorProto | undefined {
    const init = this.initializers.get(name);
    if (init) return init;
    const p = this.producer.get(name);
    if (p?.opType !== 'Constant') return undefined;
    return p.attribute?.find((a) => a.name === 'value')?.t ?? undefined;
  }

  /** Numeric values of a small constant (initializer or Constant node), or undefined when not a readable constant. */
  constantValues(name: string): number[] | undefined {
    const p = this.producer.get(name);
    if (p?.opType === 'Constant' && !this.initializers.has(name)) {
      const a = p.attribute?.[0];
      if (a?.name === 'value_float') return [a.f ?? 0];
      if (a?.name === 'value_floats') return [...(a.floats ?? [])];
      if (a?.name === 'value_int') return [Number(a.i ?? 0)];
      if (a?.name === 'value_ints') return (a.ints ?? []).map(Number);
    }
    const t = this.constantTensor(name);
    return t ? tensorValues(t) : undefined;
  }

  /**
   * The single number a one-element constant holds, also behind the Cast/Identity/Reshape nodes exporters put around
   * scalars (torch's baddbmm export casts its alpha and beta).
   */
  scalarValue(name: string, depth = 0): number | undefined {
    const v = this.constantValues(name);
    if (v) return v.length === 1 ? v[0] : undefined;
    const p = this.producer.get(name);
    if (!p || depth > MAX_DEPTH || !SCALAR_PASSTHROUGH.has(p.opType ?? '')) return undefined;
    return this.scalarValue(inputName(p, 0), depth + 1);
  }

  /**
   * Whether `name` is provably all zeros: a ConstantOfShape of 0, a constant of zeros, a product with such a value
   * (torch.empty(...) * beta=0 in the baddbmm export), or a reshaping/cast of one.
   */
  isZero(name: string, depth = 0): boolean {
    if (depth > MAX_DEPTH) return false;
    const v = this.constantValues(name);
    if (v) return v.length > 0 && v.every((x) => x === 0);
    const p = this.producer.get(name);
    if (!p) return false;
    const op = p.opType ?? '';
    if (op === 'ConstantOfShape') {
      const value = p.attribute?.find((a) => a.name === 'value')?.t;
      const values = value ? tensorValues(value) : [0]; // no value attribute: float 0
      return values !== undefined && values.every((x) => x === 0);
    }
    if (op === 'Mul') return (p.input ?? []).some((i) => i && this.isZero(i, depth + 1));
    if (SCALAR_PASSTHROUGH.has(op) || op === 'Expand' || op === 'Transpose' || op === 'Slice') return this.isZero(inputName(p, 0), depth + 1);
    return false;
  }

  /** Whether a value is computed from constants only (a weight, or a reshaped/cast weight): never an activation. */
  isConstantDerived(name: string, depth = 0): boolean {
    if (depth > MAX_DEPTH) return false;
    if (this.initializers.has(name)) return true;
    const p = this.producer.get(name);
    if (!p) return false; // a graph input
    if (p.opType === 'Constant') return true;
    const ins = (p.input ?? []).filter((i) => i);
    return ins.length > 0 && ins.every((i) => this.isConstantDerived(i, depth + 1));
  }

  /** The element type (ONNX DataType number) of a value when declarations or the producing ops fix it. */
  elemTypeOf(name: string): number | undefined {
    if (!this.typesComputed) this.computeElemTypes();
    return this.declaredTypes.get(name) ?? this.inferredTypes.get(name);
  }

  /** One pass in graph order (ONNX graphs are topologically sorted), so deep graphs cost no recursion. */
  private computeElemTypes(): void {
    this.typesComputed = true;
    const types = this.inferredTypes;
    for (const [name, t] of this.initializers) if (t.dataType) types.set(name, t.dataType);
    const typeOf = (n: string | null | undefined) => (n ? this.declaredTypes.get(n) ?? types.get(n) : undefined);
    for (const p of this.graph.node ?? []) {
      const out = p.output?.[0];
      if (!out) continue;
      const op = p.opType ?? '';
      const attr = (n: string) => p.attribute?.find((a) => a.name === n);
      let t: number | undefined;
      switch (op) {
        case 'Constant': {
          const a = p.attribute?.[0];
          t = a?.t?.dataType ?? (a?.name === 'value_float' || a?.name === 'value_floats' ? DataType.float32 : a?.name === 'value_int' || a?.name === 'value_ints' ? DataType.int64 : undefined);
          break;
        }
        case 'Cast': t = attr('to')?.i != null ? Number(attr('to')!.i) : undefined; break;
        case 'Shape': case 'Size': case 'NonZero': case 'ArgMax': case 'ArgMin': t = DataType.int64; break;
        case 'Equal': case 'Less': case 'Greater': case 'LessOrEqual': case 'GreaterOrEqual': case 'Not': case 'And': case 'Or': case 'IsNaN': case 'IsInf':
          t = DataType.bool; break;
        case 'ConstantOfShape': t = attr('value')?.t?.dataType ?? DataType.float32; break;
        case 'RandomNormalLike': case 'RandomUniformLike': t = attr('dtype')?.i != null ? Number(attr('dtype')!.i) : typeOf(p.input![0]); break;
        case 'RandomNormal': case 'RandomUniform': t = attr('dtype')?.i != null ? Number(attr('dtype')!.i) : DataType.float32; break;
        case 'Where': t = typeOf(p.input![1]); break;
        default:
          if (!p.domain || p.domain === 'ai.onnx' || op === 'MultiHeadAttention') t = typeOf((p.input ?? []).find((i) => i));
      }
      if (t !== undefined) types.set(out, t);
    }
  }

  /**
   * Whether `name` is known to hold exactly one element (a scalar or a [1]-like tensor), so it broadcasts over any
   * slice of the tensor it multiplies. Follows the scale computations exports emit, e.g. 1/sqrt(Cast(Shape(q)[-1])).
   */
  isOneElement(name: string, depth = 0): boolean {
    if (depth > MAX_DEPTH) return false;
    const declared = this.declaredDims.get(name);
    if (declared && declared.every((d) => d === 1)) return true;
    const t = this.constantTensor(name);
    if (t) return (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1) === 1;
    const p = this.producer.get(name);
    if (!p) return false;
    const ins = (p.input ?? []).filter((i) => i);
    const [in0 = '', in1 = ''] = ins; // a missing input reads as '' (unknown), as with inputName
    const op = p.opType ?? '';
    if (op === 'Constant') return (this.constantValues(name)?.length ?? 0) === 1;
    if (UNARY_ELEMENTWISE.has(op) || op === 'Unsqueeze' || op === 'Squeeze' || op === 'Reshape') return this.isOneElement(in0, depth + 1);
    if (BINARY_ELEMENTWISE.has(op)) return ins.every((i) => this.isOneElement(i, depth + 1));
    if (op === 'Gather') {
      const data = this.producer.get(in0);
      return data?.opType === 'Shape' && this.scalarValue(in1) !== undefined;
    }
    if (op === 'Slice' || op === 'Shape') return this.shapeSliceLength(name) === 1;
    return false;
  }

  /** The rank of a value when the graph structure or declarations fix it, else undefined. */
  rankOf(name: string, depth = 0): number | undefined {
    if (depth > MAX_DEPTH) return undefined;
    const declared = this.declaredDims.get(name);
    if (declared) return declared.length;
    const t = this.constantTensor(name);
    if (t) return (t.dims ?? []).length;
    const p = this.producer.get(name);
    if (!p) return undefined;
    const ins = (p.input ?? []).filter((i) => i);
    const [in0 = '', in1 = ''] = ins; // a missing input reads as '' (unknown), as with inputName
    const op = p.opType ?? '';
    const intAttr = (n: string) => p.attribute?.find((a) => a.name === n);
    switch (op) {
      case 'Transpose': {
        const perm = intAttr('perm')?.ints;
        return perm && perm.length ? perm.length : this.rankOf(in0, depth + 1);
      }
      case 'Reshape': return this.shapeLength(in1, depth + 1);
      case 'Unsqueeze': {
        const axes = intAttr('axes')?.ints?.length ?? (in1 ? this.constantValues(in1)?.length : undefined);
        const r = this.rankOf(in0, depth + 1);
        return axes !== undefined && r !== undefined ? r + axes : undefined;
      }
      case 'MatMul': {
        const [a, b] = [this.rankOf(in0, depth + 1), this.rankOf(in1, depth + 1)];
        return a !== undefined && b !== undefined ? Math.max(a, b) : undefined;
      }
      case 'Shape': return 1;
      case 'ConstantOfShape': return this.shapeLength(in0, depth + 1);
      case 'Expand': {
        const [r, s] = [this.rankOf(in0, depth + 1), this.shapeLength(in1, depth + 1)];
        return r !== undefined && s !== undefined ? Math.max(r, s) : undefined;
      }
      case 'Einsum': {
        const eq = String(stringAttr(p, 'equation') ?? '');
        const arrow = eq.indexOf('->');
        return arrow >= 0 && !eq.includes('.') ? eq.slice(arrow + 2).replace(/\s/g, '').length : undefined;
      }
      case 'Slice': case 'Concat': return this.rankOf(in0, depth + 1);
      case 'Gather': {
        const [data, indices] = [this.rankOf(in0, depth + 1), this.rankOf(in1, depth + 1)];
        return data !== undefined && indices !== undefined ? data - 1 + indices : undefined;
      }
      default:
        if (UNARY_ELEMENTWISE.has(op)) return this.rankOf(in0, depth + 1);
        if (BINARY_ELEMENTWISE.has(op)) {
          // A single element of unknown rank is almost always a scalar factor: it cannot raise the other side's rank.
          const ranks = ins.map((i) => this.rankOf(i, depth + 1) ?? (this.isOneElement(i, depth + 1) ? 0 : undefined));
          return ranks.every((r) => r !== undefined) ? Math.max(...(ranks as number[])) : undefined;
        }
        return undefined;
    }
  }

  /** Element count of a 1-D shape tensor: a constant, or a Concat of constants and single elements. */
  private shapeLength(name: string, depth: number): number | undefined {
    const v = this.constantValues(name);
    if (v) return v.length;
    const p = this.producer.get(name);
    if (p?.opType !== 'Concat') return undefined;
    let total = 0;
    for (const i of p.input ?? []) {
      const c = this.constantValues(i);
      const sliced = this.shapeSliceLength(i);
      if (c) total += c.length;
      else if (sliced !== undefined) total += sliced;
      else if (this.isOneElement(i, depth + 1)) total += 1;
      else return undefined;
    }
    return total;
  }

  /**
   * Length of a piece of a shape, Slice(Shape(x), start, end) or Shape(x) with start/end attributes (opset 15), when the
   * bounds alone fix it (both non-negative, or a negative start running to the end).
   */
  private shapeSliceLength(name: string): number | undefined {
    const p = this.producer.get(name);
    let s: number | undefined;
    let e: number | undefined;
    if (p?.opType === 'Shape') {
      const start = p.attribute?.find((a) => a.name === 'start');
      const end = p.attribute?.find((a) => a.name === 'end');
      if (!start && !end) return this.rankOf(inputName(p, 0));
      s = start ? Number(start.i ?? 0) : 0;
      e = end ? Number(end.i ?? 0) : 2 ** 62;
    } else if (p?.opType === 'Slice' && this.producer.get(inputName(p, 0))?.opType === 'Shape') {
      const starts = p.input![1] ? this.constantValues(p.input![1]) : undefined;
      const ends = p.input![2] ? this.constantValues(p.input![2]) : undefined;
      if (starts?.length !== 1 || ends?.length !== 1 || (p.input![3] && this.constantValues(p.input![3])?.[0] !== 0)) return undefined;
      [s, e] = [starts[0]!, ends[0]!]; // both hold exactly one value (checked above)
    } else {
      return undefined;
    }
    if (s >= 0 && e >= s && e < 2 ** 31) return e - s;
    if (s < 0 && e >= 2 ** 31) return -s;
    if (s < 0 && e < 0 && e >= s) return e - s;
    return undefined;
  }

  /** The value of an integer attribute, or `fallback`. */
  static intAttr(n: NodeProto, name: string, fallback: number): number {
    const a = n.attribute?.find((x) => x.name === name);
    return a?.i != null ? Number(a.i) : fallback;
  }
}

/** Decode a tensor's values (raw little-endian bytes or the typed repeated fields) as plain numbers. */
export function tensorValues(t: TensorProto): number[] | undefined {
  const type = t.dataType ?? 0;
  const raw = t.rawData;
  if (raw && raw.byteLength > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    const read = (size: number, get: (o: number) => number) => { for (let o = 0; o + size <= raw.byteLength; o += size) out.push(get(o)); return out; };
    switch (type) {
      case DataType.float32: return read(4, (o) => view.getFloat32(o, true));
      case DataType.double: return read(8, (o) => view.getFloat64(o, true));
      case DataType.float16: return read(2, (o) => float16Value(view.getUint16(o, true)));
      case DataType.int32: return read(4, (o) => view.getInt32(o, true));
      case DataType.int64: return read(8, (o) => Number(view.getBigInt64(o, true)));
      case DataType.int8: return read(1, (o) => view.getInt8(o));
      case DataType.uint8: return read(1, (o) => view.getUint8(o));
      default: return undefined;
    }
  }
  if (t.dataLocation === 1) return undefined; // external data: not read here
  switch (type) {
    case DataType.float32: return [...(t.floatData ?? [])];
    case DataType.double: return [...(t.doubleData ?? [])];
    case DataType.float16: return (t.int32Data ?? []).map(float16Value);
    case DataType.int32: case DataType.int8: case DataType.uint8: return [...(t.int32Data ?? [])];
    case DataType.int64: return (t.int64Data ?? []).map(Number);
    default: return undefined;
  }
}
