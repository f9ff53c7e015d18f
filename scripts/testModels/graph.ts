// A small graph-building layer over src/pipeline/onnx/build.ts for the test-model generator: unique value names,
// weights stored in the model's float type (fp32 or fp16), deterministic pseudo-random values, external weight files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataType, encodeModel, model, node, onnx, tensor, valueInfo, type AttrValue, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../../src/pipeline/onnx/build.ts';
import { float16Bits } from '../../src/pipeline/tensor.ts';

export type FloatType = 'float32' | 'float16';

/** Deterministic values in [-scale, scale]: a fixed hash of (seed, index), so regenerated models are byte-identical. */
export function pseudoRandom(count: number, seed: number, scale = 1): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = Math.sin(seed * 12.9898 + i * 78.233 + seed * i * 0.013) * 43758.5453;
    out.push((s - Math.floor(s) - 0.5) * 2 * scale);
  }
  return out;
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counter = 0;

  constructor(readonly float: FloatType) {}

  private fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** Add a node; returns its (first) output name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, name?: string): string {
    const out = name ?? this.fresh(opType.toLowerCase());
    this.nodes.push(node(opType, inputs, [out], attrs, { name: `${opType}_${this.counter++}` }));
    return out;
  }

  /** A weight in the graph's float type. */
  weight(name: string, dims: number[], values: readonly number[]): string {
    if (values.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`weight ${name}: ${values.length} values for dims [${dims}]`);
    this.initializers.push(this.float === 'float16' ? tensor(name, 'float16', dims, values.map(float16Bits)) : tensor(name, 'float32', dims, values));
    return name;
  }

  /** A scalar constant in the graph's float type. */
  scalar(value: number): string {
    return this.weight(this.fresh('const'), [], [value]);
  }

  int64(values: readonly number[], dims: number[] = [values.length]): string {
    const name = this.fresh('shape');
    this.initializers.push(tensor(name, 'int64', dims, values));
    return name;
  }

  float32(values: readonly number[], dims: number[] = [values.length]): string {
    const name = this.fresh('f32');
    this.initializers.push(tensor(name, 'float32', dims, values));
    return name;
  }

  /** Dimensions start..end-1 of a value's shape, as a 1-D int64 tensor (Shape with start/end, opset >= 15). */
  dims(x: string, start: number, end: number): string {
    return this.op('Shape', [x], { start, end });
  }

  build(inputs: ValueInfoProto[], outputs: ValueInfoProto[], name: string): ModelProto {
    return model({ nodes: this.nodes, inputs, outputs, initializers: this.initializers, opset: 17, name });
  }
}

export { valueInfo };

/**
 * Write a model; with `externalData`, every initializer's bytes go to that file beside model.onnx (the way optimum
 * writes model.onnx_data and some exports weights.pb), so ONNX Runtime must resolve it relative to the model path.
 */
export function writeModel(path: string, m: ModelProto, externalData?: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (externalData) {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const t of m.graph!.initializer!) {
      const raw = t.rawData as Uint8Array;
      // weights only: shape constants stay inline (ONNX Runtime's shape inference must read them at load time)
      if (!raw || raw.length === 0 || (t.dataType !== DataType.float32 && t.dataType !== DataType.float16)) continue;
      const pad = (16 - (offset % 16)) % 16; // keep each tensor 16-byte aligned, as onnx's own writer does for mmap
      if (pad) chunks.push(new Uint8Array(pad));
      offset += pad;
      t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
      t.externalData = [
        { key: 'location', value: externalData },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.length) },
      ];
      chunks.push(raw);
      offset += raw.length;
      t.rawData = new Uint8Array(0);
    }
    writeFileSync(join(dirname(path), externalData), Buffer.concat(chunks));
  }
  writeFileSync(path, encodeModel(m));
}
