import { encodeModel, model, node, tensor, valueInfo, type Dim, type ElemType } from '../../src/pipeline/onnx/build.ts';

// A tiny 2x "super-resolution" model: 3x3 conv (3 -> 12 channels, zero padding) then DepthToSpace(2).
// The 3x3 kernel makes tile borders matter: without overlap, pixels next to a seam see zero padding.
export function srModel(opts: { io: ElemType; inputDims: Dim[] }): Uint8Array {
  const weights: number[] = [];
  for (let o = 0; o < 12; o++) {
    const target = Math.floor(o / 4); // CRD: output channel c uses conv channels 4c..4c+3
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 9; k++) {
        const centre = k === 4;
        const w = i === target ? (centre ? 0.55 + 0.03 * (o % 4) : 0.04 * (((o + k) % 3) - 0.5)) : 0.02 * (((o * 7 + i * 3 + k) % 5) - 2);
        weights.push(w);
      }
    }
  }
  const nodes = [];
  let input = 'x';
  if (opts.io === 'float16') {
    nodes.push(node('Cast', ['input'], ['x'], { to: 1 }));
  } else {
    input = 'input';
  }
  nodes.push(node('Conv', [input, 'W', 'B'], ['conv'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }));
  nodes.push(node('DepthToSpace', ['conv'], [opts.io === 'float16' ? 'y' : 'output'], { blocksize: 2, mode: 'CRD' }));
  if (opts.io === 'float16') nodes.push(node('Cast', ['y'], ['output'], { to: 10 }));
  const outDims = opts.inputDims.map((d, i) => (i >= 2 ? (typeof d === 'number' ? d * 2 : `${d}_x2`) : d));
  return encodeModel(
    model({
      nodes,
      inputs: [valueInfo('input', opts.io, opts.inputDims)],
      outputs: [valueInfo('output', opts.io, outDims)],
      initializers: [tensor('W', 'float32', [12, 3, 3, 3], weights), tensor('B', 'float32', [12], Array.from({ length: 12 }, (_, i) => 0.03 + 0.005 * i))],
    }),
  );
}

