// Small helpers for building and editing ONNX graphs with onnx-proto (protobufjs).
// Used by the attention rewrite (src/pipeline/attention) and by the test-model generator (scripts/).
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.GraphProto;
export type NodeProto = onnxProto.onnx.NodeProto;
export type TensorProto = onnxProto.onnx.TensorProto;
export type ValueInfoProto = onnxProto.onnx.ValueInfoProto;
export type AttributeProto = onnxProto.onnx.AttributeProto;
/** Plain-object forms of the same messages (what decoded/created messages' fields hold). */
export type INodeProto = onnxProto.onnx.INodeProto;
export type IGraphProto = onnxProto.onnx.IGraphProto;
export type ITensorProto = onnxProto.onnx.ITensorProto;
export type IModelProto = onnxProto.onnx.IModelProto;

/** ONNX TensorProto.DataType codes for the element types we use. */
export const DataType = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  double: 11,
} as const;
export type ElemType = keyof typeof DataType;

export type Dim = number | string;

/** A graph input/output declaration; string dims are symbolic (dim_param), numbers fixed (dim_value). */
export function valueInfo(name: string, elemType: ElemType, dims: Dim[] | null): ValueInfoProto {
  const shape = dims === null ? undefined : { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType[elemType], shape } } });
}

/** A constant tensor (initializer) stored as raw little-endian bytes. */
export function tensor(name: string, elemType: ElemType, dims: number[], values: ArrayLike<number> | ArrayLike<bigint>): TensorProto {
  let bytes: Uint8Array;
  switch (elemType) {
    case 'float32': bytes = new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer); break;
    case 'float16': bytes = new Uint8Array(Uint16Array.from(values as ArrayLike<number>).buffer); break; // values already fp16 bit patterns
    case 'int32': bytes = new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer); break;
    case 'int64': bytes = new Uint8Array(BigInt64Array.from(Array.from(values as ArrayLike<number | bigint>, (v) => BigInt(v))).buffer); break;
    case 'uint8': case 'bool': bytes = Uint8Array.from(values as ArrayLike<number>); break;
    case 'int8': bytes = new Uint8Array(Int8Array.from(values as ArrayLike<number>).buffer); break;
    case 'double': bytes = new Uint8Array(Float64Array.from(values as ArrayLike<number>).buffer); break;
  }
  return onnx.TensorProto.create({ name, dims, dataType: DataType[elemType], rawData: bytes });
}

export type AttrValue = number | string | number[] | TensorProto | { ints: number[] } | { floats: number[] } | { float: number };

/** A node; numeric attributes are ints unless wrapped as { float } / { floats }. */
export function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, extra: { name?: string; domain?: string } = {}): NodeProto {
  const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, attribute, name: extra.name ?? '', domain: extra.domain ?? '' });
}

function attr(name: string, v: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return onnx.AttributeProto.create({ name, type: T.INT, i: v });
  if (typeof v === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v });
  if ('ints' in v) return onnx.AttributeProto.create({ name, type: T.INTS, ints: v.ints });
  if ('floats' in v) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: v.floats });
  if ('float' in v) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: v.float });
  return onnx.AttributeProto.create({ name, type: T.TENSOR, t: v });
}

export interface ModelSpec {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
  opset?: number;
  /** Extra operator-set domains, e.g. { 'com.microsoft': 1 }. */
  domains?: Record<string, number>;
  name?: string;
}

export function model(spec: ModelSpec): ModelProto {
  const opsetImport = [{ domain: '', version: spec.opset ?? 17 }, ...Object.entries(spec.domains ?? {}).map(([domain, version]) => ({ domain, version }))];
  const graph = onnx.GraphProto.create({ name: spec.name ?? 'graph', node: spec.nodes, input: spec.inputs, output: spec.outputs, initializer: spec.initializers ?? [] });
  return onnx.ModelProto.create({ irVersion: 8, opsetImport, graph, producerName: 'imagine-bot' });
}

export function encodeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}
