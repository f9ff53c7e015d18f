// float16 ONNX graph -> float32 graph: what diffusers' `vae.to(torch.float32)` does for SDXL's VAE, whose activations
// overflow half precision (needs_upcasting = vae.dtype == float16 and vae.config.force_upcast). An ONNX session cannot
// change dtype, so the graph itself is rewritten once: every float16 initializer, constant, Cast target and declared
// tensor type becomes float32. The result is cached beside the source (<name>.fp32.onnx, with a stamp of the source's
// size and mtime), so relative external-data locations keep resolving and the conversion runs once per file.
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { float16ToFloat32 } from '../tensor.ts';
import { DataType, encodeModel } from './build.ts';
import type { IGraphProto, ITensorProto, ModelProto } from './build.ts';
import { loadModelFile, saveModelWithExternalData, writeFileAtomic } from './modelFile.ts';

const F16 = DataType.float16;
const F32 = DataType.float32;
/** Above this the converted weights go to an external file (protobuf caps a single message at 2 GB). */
const INLINE_LIMIT = 1 << 30;

/** The float16 values of a tensor, wherever the file keeps them (raw bytes, int32_data, or an external file). */
async function halfBits(t: ITensorProto, dir: string): Promise<Uint16Array> {
  if (t.dataLocation === 1 /* EXTERNAL */) {
    const entry = (key: string) => t.externalData?.find((e) => e.key === key)?.value;
    const location = entry('location');
    if (!location) throw new Error(`tensor ${t.name}: external data without a location`);
    const data = await readFile(join(dir, location));
    const offset = Number(entry('offset') ?? 0);
    const length = entry('length') !== undefined ? Number(entry('length')) : data.length - offset;
    return new Uint16Array(Uint8Array.from(data.subarray(offset, offset + length)).buffer);
  }
  if (t.rawData && t.rawData.length > 0) return new Uint16Array(Uint8Array.from(t.rawData).buffer); // copy: alignment
  return Uint16Array.from(t.int32Data ?? []);
}

async function upcastTensor(t: ITensorProto, dir: string): Promise<void> {
  const values = float16ToFloat32(await halfBits(t, dir));
  t.dataType = F32;
  t.rawData = new Uint8Array(values.buffer);
  t.int32Data = [];
  t.externalData = [];
  t.dataLocation = 0;
}

/** Rewrite a graph (and its subgraphs) in place; returns how many things changed. */
async function upcastGraph(g: IGraphProto, dir: string): Promise<number> {
  let changed = 0;
  for (const t of g.initializer ?? []) {
    if (t.dataType === F16) {
      await upcastTensor(t, dir);
      changed++;
    }
  }
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) {
    const tt = v.type?.tensorType;
    if (tt && tt.elemType === F16) {
      tt.elemType = F32;
      changed++;
    }
  }
  for (const n of g.node ?? []) {
    for (const a of n.attribute ?? []) {
      // Cast's target type, and the dtype attribute of the generator ops (EyeLike, RandomNormal, ...)
      if ((a.name === 'to' || a.name === 'dtype') && Number(a.i) === F16) {
        a.i = F32;
        changed++;
      }
      // Constant / ConstantOfShape values
      if (a.t && a.t.dataType === F16) {
        await upcastTensor(a.t, dir);
        changed++;
      }
      if (a.g) changed += await upcastGraph(a.g, dir);
      for (const sub of a.graphs ?? []) changed += await upcastGraph(sub, dir);
    }
  }
  return changed;
}

/** Convert a decoded model to float32 in place. `dir` is where its external data files are. Returns the change count. */
export function upcastModel(model: ModelProto, dir: string): Promise<number> {
  return model.graph ? upcastGraph(model.graph, dir) : Promise.resolve(0);
}

/** Whether the graph takes or returns float16 tensors (what makes an ONNX VAE "float16" to diffusers' check). */
export function isHalfModel(model: ModelProto): boolean {
  const g = model.graph;
  return [...(g?.input ?? []), ...(g?.output ?? [])].some((v) => v.type?.tensorType?.elemType === F16);
}

interface UpcastStamp {
  version: number;
  source: string;
  size: number;
  mtimeMs: number;
  /** False when the source was not float16 and is used as it is. */
  upcast: boolean;
}
const VERSION = 1;

/**
 * The path of a float32 version of `modelPath`: the file itself when it is not float16, else a cached conversion
 * (<name>.fp32.onnx beside it), built on first use.
 */
export async function float32ModelPath(modelPath: string, log: (message: string) => void = () => {}): Promise<string> {
  const dir = dirname(modelPath);
  const base = basename(modelPath).replace(/\.onnx$/i, '');
  const target = join(dir, `${base}.fp32.onnx`);
  const stampPath = `${target}.json`;
  const s = await stat(modelPath);
  const key = { version: VERSION, source: basename(modelPath), size: s.size, mtimeMs: s.mtimeMs };
  try {
    const stamp = JSON.parse(await readFile(stampPath, 'utf8')) as UpcastStamp;
    if ((Object.keys(key) as (keyof typeof key)[]).every((k) => stamp[k] === key[k])) {
      if (!stamp.upcast) return modelPath;
      if ((await stat(target).catch(() => undefined))?.isFile()) return target;
    }
  } catch {
    /* no stamp or a broken one: rebuild */
  }
  const started = Date.now();
  const { model } = await loadModelFile(modelPath);
  const half = isHalfModel(model);
  const writeStamp = () => writeFileAtomic(stampPath, JSON.stringify({ ...key, upcast: half } satisfies UpcastStamp));
  if (!half) {
    // Already float32: remember that, so the file is not decoded again (a read-only folder just pays it again).
    await writeStamp().catch(() => undefined);
    return modelPath;
  }
  try {
    await upcastModel(model, dir);
    const bytes = (model.graph?.initializer ?? []).reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
    if (bytes > INLINE_LIMIT) await saveModelWithExternalData(model, target, `${base}.fp32.onnx_data`);
    else await writeFileAtomic(target, encodeModel(model));
    await writeStamp();
  } catch (err) {
    // A read-only model folder: run the file as it is rather than fail every job.
    log(`${modelPath}: cannot write the float32 copy (${err instanceof Error ? err.message : String(err)}); running it in float16, which may overflow`);
    return modelPath;
  }
  log(`${modelPath}: float16 with force_upcast; running a float32 copy (${basename(target)}, ${Date.now() - started} ms)`);
  return target;
}
