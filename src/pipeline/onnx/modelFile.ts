// Loading and saving ONNX model files whose weights live outside the graph: external-data initializers stay referenced
// by location (never read), and large inline weights can be turned into references into the file they came from, so a
// rewritten graph can sit beside the original without copying gigabytes of weights.
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decodeModel, encodeModel, onnx } from './build.ts';
import type { ModelProto, ITensorProto as TensorProto } from './build.ts';

export interface LoadedModelFile {
  model: ModelProto;
  /** The file's bytes; inline tensors' rawData are views into this buffer (protobufjs slices Buffers without copying). */
  bytes: Buffer;
}

/** Decode a .onnx file. External-data initializers keep their location entries; their data files are not opened. */
export async function loadModelFile(path: string): Promise<LoadedModelFile> {
  const bytes = await readFile(path);
  return { model: decodeModel(bytes), bytes };
}

const EXTERNAL = onnx.TensorProto.DataLocation.EXTERNAL;

function externalEntries(location: string, offset: number, length: number) {
  return [
    onnx.StringStringEntryProto.create({ key: 'location', value: location }),
    onnx.StringStringEntryProto.create({ key: 'offset', value: String(offset) }),
    onnx.StringStringEntryProto.create({ key: 'length', value: String(length) }),
  ];
}

/**
 * Replace the graph's inline initializers of at least `minBytes` with external-data references into the file they were
 * decoded from (`bytes`, named `fileName` relative to where the new model will be written). ONNX Runtime reads
 * external data at any offset, so the weights are shared, not copied. Returns how many tensors were redirected.
 * The initializer objects are replaced with shallow copies: `model` is changed, the tensors it shared are not.
 */
export function referenceInlineWeights(model: ModelProto, bytes: Buffer, fileName: string, minBytes = 1024): number {
  const graph = model.graph;
  if (!graph?.initializer) return 0;
  let count = 0;
  graph.initializer = graph.initializer.map((t) => {
    const raw = t.rawData;
    if (!raw || raw.byteLength < minBytes || t.dataLocation === EXTERNAL) return t;
    if (raw.buffer !== bytes.buffer) return t; // not a view into the source file: nothing to point at
    const offset = raw.byteOffset - bytes.byteOffset;
    count++;
    const copy = onnx.TensorProto.create({ ...t, rawData: new Uint8Array(0), dataLocation: EXTERNAL, externalData: externalEntries(fileName, offset, raw.byteLength) });
    return copy;
  });
  return count;
}

/**
 * Write a model with its initializers of at least `minBytes` in one external file `dataFileName` beside `path` (the
 * layout real fp32 UNet exports use: model.onnx + model.onnx_data). Small tensors stay inline, as onnx's own writer
 * keeps them: ONNX Runtime's shape inference must read shape constants from the graph itself.
 */
export async function saveModelWithExternalData(model: ModelProto, path: string, dataFileName: string, minBytes = 1024): Promise<void> {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializer = (model.graph?.initializer ?? []).map((t): TensorProto => {
    const raw = t.rawData;
    if (!raw || raw.byteLength < minBytes) return t;
    const pad = (4096 - (offset % 4096)) % 4096; // page-aligned like onnx's own writer, so mmap can be used
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(raw);
    const entry = onnx.TensorProto.create({ ...t, rawData: new Uint8Array(0), dataLocation: EXTERNAL, externalData: externalEntries(dataFileName, offset, raw.byteLength) });
    offset += raw.byteLength;
    return entry;
  });
  const graph = onnx.GraphProto.create({ ...model.graph, initializer });
  const out = onnx.ModelProto.create({ ...model, graph });
  await writeFileAtomic(join(dirname(path), dataFileName), Buffer.concat(chunks));
  await writeFileAtomic(path, encodeModel(out));
}

/** Names of the files the model's initializers reference through external data (relative to the model's folder). */
export function externalDataFiles(model: ModelProto): string[] {
  const files = new Set<string>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataLocation !== EXTERNAL) continue;
    const loc = t.externalData?.find((e) => e.key === 'location')?.value;
    if (loc) files.add(loc);
  }
  return [...files];
}

/** Write through a temp file in the same folder and rename over the target, so readers never see half a file. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
