// A full-size SD 1.5 UNet for the load-time benchmark: diffusers' UNet2DConditionModel with SD 1.5's configuration
// (block_out_channels 320/640/1280/1280, two ResNets per down block and three per up block, transformer blocks with
// 8 heads and 768-wide cross-attention in the first three levels, GEGLU feed-forward, 1280-wide time embedding), in
// the optimum export's signature and fp32, about 860M weights (3.4 GB). The weights are pseudo-random: loading cost
// (graph size, weight bytes, what ONNX Runtime's optimizer finds to fuse) is what this is for, not its output.
// Weights go to model.onnx_data beside model.onnx, as optimum writes models over protobuf's 2 GB limit; they are
// generated and written in chunks, never held whole in memory. `scale` < 1 shrinks every width (for a quick run).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, encodeModel, model, node, onnx, tensor, valueInfo, type NodeProto, type TensorProto } from '../src/pipeline/onnx/build.ts';

export interface FullUnetSpec {
  /** SD 1.5: [320, 640, 1280, 1280]. */
  channels: number[];
  /** Which levels have transformer blocks (SD 1.5: the first three). */
  attention: boolean[];
  heads: number;
  contextDim: number;
  groups: number;
  /** Time embedding width (SD 1.5: 4 x 320). */
  timeDim: number;
}

export const SD15_UNET: FullUnetSpec = { channels: [320, 640, 1280, 1280], attention: [true, true, true, false], heads: 8, contextDim: 768, groups: 32, timeDim: 1280 };

/** The same architecture with every width divided by `divisor` (multiples of 32 kept): for --quick runs. */
export function scaledSpec(divisor: number): FullUnetSpec {
  const w = (c: number) => Math.max(32, Math.round(c / divisor / 32) * 32);
  return { ...SD15_UNET, channels: SD15_UNET.channels.map(w), contextDim: w(SD15_UNET.contextDim), timeDim: w(SD15_UNET.timeDim) };
}

/** Streams weights into the external data file; returns initializers that point into it. */
class WeightWriter {
  readonly initializers: TensorProto[] = [];
  readonly #fd: number;
  #offset = 0;
  #state = 0x9e3779b9;
  readonly #chunk = new Float32Array(1 << 20);
  params = 0;

  constructor(
    path: string,
    private readonly location: string,
  ) {
    this.#fd = openSync(path, 'w');
  }

  /** Uniform in [-scale, scale] (xorshift32: fast, deterministic). */
  weight(name: string, dims: number[], scale: number): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const pad = (16 - (this.#offset % 16)) % 16;
    if (pad) writeSync(this.#fd, new Uint8Array(pad));
    this.#offset += pad;
    const start = this.#offset;
    let left = count;
    while (left > 0) {
      const n = Math.min(left, this.#chunk.length);
      let s = this.#state;
      for (let i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        this.#chunk[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * scale;
      }
      this.#state = s;
      writeSync(this.#fd, new Uint8Array(this.#chunk.buffer, 0, n * 4));
      left -= n;
    }
    this.#offset += count * 4;
    this.params += count;
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims,
        dataType: DataType.float32,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: this.location },
          { key: 'offset', value: String(start) },
          { key: 'length', value: String(count * 4) },
        ],
      }),
    );
    return name;
  }

  close(): number {
    closeSync(this.#fd);
    return this.#offset;
  }
}

/** Writes the UNet into `dir` (model.onnx + model.onnx_data); returns the weight count. */
export function writeFullUnet(dir: string, spec: FullUnetSpec): { params: number; bytes: number } {
  mkdirSync(dir, { recursive: true });
  const weights = new WeightWriter(join(dir, 'model.onnx_data'), 'model.onnx_data');
  const nodes: NodeProto[] = [];
  const small: TensorProto[] = [];
  let counter = 0;
  const fresh = (p: string) => `${p}_${counter++}`;
  const op = (type: string, inputs: string[], attrs: Record<string, unknown> = {}, out?: string): string => {
    const name = out ?? fresh(type.toLowerCase());
    nodes.push(node(type, inputs, [name], attrs as never, { name: fresh(type) }));
    return name;
  };
  const ints = (values: number[]) => {
    const name = fresh('shape');
    small.push(tensor(name, 'int64', [values.length], values));
    return name;
  };
  const floats = (values: number[], dims: number[] = [values.length]) => {
    const name = fresh('const');
    small.push(tensor(name, 'float32', dims, values));
    return name;
  };
  const w = (name: string, dims: number[], fanIn: number) => weights.weight(name, dims, Math.sqrt(3 / fanIn));
  const bias = (name: string, c: number) => weights.weight(name, [c], 0.01);
  const conv = (x: string, name: string, inC: number, outC: number, k = 3, stride = 1) =>
    op('Conv', [x, w(`${name}.weight`, [outC, inC, k, k], inC * k * k), bias(`${name}.bias`, outC)], { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0], strides: [stride, stride] });
  const linear = (x: string, name: string, inC: number, outC: number, withBias = true) => {
    const y = op('MatMul', [x, w(`${name}.weight`, [inC, outC], inC)]);
    return withBias ? op('Add', [y, bias(`${name}.bias`, outC)]) : y;
  };
  const silu = (x: string) => op('Mul', [x, op('Sigmoid', [x])]);
  const groupNorm = (x: string, name: string, c: number) => {
    const grouped = op('Reshape', [x, ints([0, spec.groups, -1])]);
    const normed = op('InstanceNormalization', [grouped, floats(new Array(spec.groups).fill(1)), floats(new Array(spec.groups).fill(0))], { epsilon: { float: 1e-5 } });
    const back = op('Reshape', [normed, op('Shape', [x])]);
    return op('Add', [op('Mul', [back, weights.weight(`${name}.weight`, [c, 1, 1], 1)]), weights.weight(`${name}.bias`, [c, 1, 1], 0.01)]);
  };
  const layerNorm = (x: string, name: string, c: number) =>
    op('LayerNormalization', [x, weights.weight(`${name}.weight`, [c], 1), bias(`${name}.bias`, c)], { axis: -1, epsilon: { float: 1e-5 } });

  const resnet = (x: string, name: string, inC: number, outC: number, temb: string) => {
    let h = conv(silu(groupNorm(x, `${name}.norm1`, inC)), `${name}.conv1`, inC, outC);
    const t = op('Reshape', [linear(silu(temb), `${name}.time_emb_proj`, spec.timeDim, outC), ints([-1, outC, 1, 1])]);
    h = op('Add', [h, t]);
    h = conv(silu(groupNorm(h, `${name}.norm2`, outC)), `${name}.conv2`, outC, outC);
    const skip = inC === outC ? x : conv(x, `${name}.conv_shortcut`, inC, outC, 1);
    return op('Add', [skip, h]);
  };

  const attention = (x: string, name: string, c: number, context: string, contextC: number) => {
    const heads = spec.heads;
    const headDim = c / heads;
    const split = (t: string) => op('Transpose', [op('Reshape', [t, ints([0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
    const q = split(linear(x, `${name}.to_q`, c, c, false));
    const k = split(linear(context, `${name}.to_k`, contextC, c, false));
    const v = split(linear(context, `${name}.to_v`, contextC, c, false));
    const scores = op('Mul', [op('MatMul', [q, op('Transpose', [k], { perm: [0, 1, 3, 2] })]), floats([1 / Math.sqrt(headDim)], [])]);
    const out = op('Reshape', [op('Transpose', [op('MatMul', [op('Softmax', [scores], { axis: -1 }), v])], { perm: [0, 2, 1, 3] }), ints([0, 0, c])]);
    return linear(out, `${name}.to_out.0`, c, c);
  };

  const transformer = (x: string, name: string, c: number) => {
    const shape = op('Shape', [x]);
    let h = conv(groupNorm(x, `${name}.norm`, c), `${name}.proj_in`, c, c, 1);
    let t = op('Transpose', [op('Reshape', [h, ints([0, c, -1])])], { perm: [0, 2, 1] });
    const block = `${name}.transformer_blocks.0`;
    const n1 = layerNorm(t, `${block}.norm1`, c);
    t = op('Add', [t, attention(n1, `${block}.attn1`, c, n1, c)]);
    t = op('Add', [t, attention(layerNorm(t, `${block}.norm2`, c), `${block}.attn2`, c, 'encoder_hidden_states', spec.contextDim)]);
    // GEGLU: one projection to 2 x 4c, split into value and gate, value * gelu(gate), then back to c.
    const proj = linear(layerNorm(t, `${block}.norm3`, c), `${block}.ff.net.0.proj`, c, 8 * c);
    const value = op('Slice', [proj, ints([0]), ints([4 * c]), ints([-1])]);
    const gate = op('Slice', [proj, ints([4 * c]), ints([8 * c]), ints([-1])]);
    const gelu = op('Mul', [op('Mul', [gate, floats([0.5], [])]), op('Add', [op('Erf', [op('Mul', [gate, floats([Math.SQRT1_2], [])])]), floats([1], [])])]);
    t = op('Add', [t, linear(op('Mul', [value, gelu]), `${block}.ff.net.2`, 4 * c, c)]);
    h = op('Reshape', [op('Transpose', [t], { perm: [0, 2, 1] }), shape]);
    return op('Add', [conv(h, `${name}.proj_out`, c, c, 1), x]);
  };

  // Time embedding: sinusoidal (flip_sin_to_cos: cos first), then Linear -> SiLU -> Linear.
  const c0 = spec.channels[0]!;
  const half = c0 / 2;
  const freqs = floats(Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half)), [1, half]);
  const args = op('Mul', [op('Reshape', [op('Cast', ['timestep'], { to: 1 }), ints([-1, 1])]), freqs]);
  const sinusoid = op('Concat', [op('Cos', [args]), op('Sin', [args])], { axis: 1 });
  const temb = linear(silu(linear(sinusoid, 'time_embedding.linear_1', c0, spec.timeDim)), 'time_embedding.linear_2', spec.timeDim, spec.timeDim);

  let h = conv('sample', 'conv_in', 4, c0);
  const skips: { value: string; channels: number }[] = [{ value: h, channels: c0 }];
  let channels = c0;
  spec.channels.forEach((out, level) => {
    for (let j = 0; j < 2; j++) {
      h = resnet(h, `down_blocks.${level}.resnets.${j}`, channels, out, temb);
      channels = out;
      if (spec.attention[level]) h = transformer(h, `down_blocks.${level}.attentions.${j}`, out);
      skips.push({ value: h, channels });
    }
    if (level < spec.channels.length - 1) {
      h = conv(h, `down_blocks.${level}.downsamplers.0.conv`, channels, channels, 3, 2);
      skips.push({ value: h, channels });
    }
  });
  const last = spec.channels[spec.channels.length - 1]!;
  h = resnet(h, 'mid_block.resnets.0', last, last, temb);
  h = transformer(h, 'mid_block.attentions.0', last);
  h = resnet(h, 'mid_block.resnets.1', last, last, temb);
  const reversed = [...spec.channels].reverse();
  const reversedAttention = [...spec.attention].reverse();
  reversed.forEach((out, level) => {
    for (let j = 0; j < 3; j++) {
      const skip = skips.pop()!;
      h = op('Concat', [h, skip.value], { axis: 1 });
      h = resnet(h, `up_blocks.${level}.resnets.${j}`, channels + skip.channels, out, temb);
      channels = out;
      if (reversedAttention[level]) h = transformer(h, `up_blocks.${level}.attentions.${j}`, out);
    }
    if (level < reversed.length - 1) {
      h = op('Resize', [h, '', floats([1, 1, 2, 2])], { mode: 'nearest' });
      h = conv(h, `up_blocks.${level}.upsamplers.0.conv`, channels, channels);
    }
  });
  h = silu(groupNorm(h, 'conv_norm_out', channels));
  const outName = 'out_sample';
  op('Conv', [h, w('conv_out.weight', [4, channels, 3, 3], channels * 9), bias('conv_out.bias', 4)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, outName);

  const bytes = weights.close();
  const m = model({
    nodes,
    inputs: [
      valueInfo('sample', 'float32', ['batch', 4, 'height', 'width']),
      valueInfo('timestep', 'int64', [1]),
      valueInfo('encoder_hidden_states', 'float32', ['batch', 'sequence', spec.contextDim]),
    ],
    outputs: [valueInfo(outName, 'float32', ['batch', 4, 'height', 'width'])],
    initializers: [...small, ...weights.initializers],
    opset: 17,
    name: 'unet',
  });
  writeFileSync(join(dir, 'model.onnx'), encodeModel(m));
  return { params: weights.params, bytes };
}

/** Builds (or reuses, by a stamp of the spec) the UNet under `root`; returns the model.onnx path. */
export function fullUnetModel(root: string, spec: FullUnetSpec): { path: string; params: number; bytes: number; built: boolean } {
  const name = `sd15-unet-${spec.channels.join('-')}`;
  const dir = join(root, name);
  const stampPath = join(dir, '.stamp.json');
  const key = JSON.stringify(spec);
  if (existsSync(stampPath)) {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as { key: string; params: number; bytes: number };
    if (stamp.key === key) return { path: join(dir, 'model.onnx'), params: stamp.params, bytes: stamp.bytes, built: false };
  }
  const building = `${dir}.building-${process.pid}`;
  const { params, bytes } = writeFullUnet(building, spec);
  writeFileSync(join(building, '.stamp.json'), JSON.stringify({ key, params, bytes }));
  // Replace any older build in one step (renaming a folder over a non-empty one fails, so move it aside first).
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(building, dir);
  rmSync(old, { recursive: true, force: true });
  return { path: join(dir, 'model.onnx'), params, bytes, built: true };
}
