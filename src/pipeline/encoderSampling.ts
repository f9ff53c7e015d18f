// VAE encoders that sample inside the graph. diffusers' convert_stable_diffusion_checkpoint_to_onnx.py exports
// vae_encoder as `vae.encode(sample).latent_dist.sample()`, so its `latent_sample` output is
//   mean + exp(0.5 * clamp(logvar, -30, 20)) * RandomNormalLike(mean)
// drawn by ONNX Runtime's own generator: a different picture on every run with the same seed, and not the one
// diffusers gives. diffusers' img2img draws that sample from the job's torch generator first (retrieve_latents ->
// DiagonalGaussianDistribution.sample(generator)), then the noise. So when the model loads, the sampling is cut out of
// the graph: the output becomes `latent_parameters` = concat(mean, logvar) on channels (optimum's form), which vae.ts
// samples with the job's TorchGenerator in diffusers' order. Cached beside the model like the attention rewrite.
import { basename, dirname, join } from 'node:path';
import { encodeModel, onnx } from './onnx/build.ts';
import type { ModelProto, INodeProto as NodeProto } from './onnx/build.ts';
import { loadModelFile, referenceInlineWeights, writeFileAtomic } from './onnx/modelFile.ts';
import { GraphIndex } from './attention/graphIndex.ts';
import { cacheKey, sha256, validStamp } from './attention/cache.ts';
import { withoutDeadNodes } from './attention/rewrite.ts';
import { WARNING_PREFIX } from './logLevel.ts';

const RANDOM_OPS = new Set(['RandomNormalLike', 'RandomNormal', 'RandomUniformLike', 'RandomUniform', 'Multinomial', 'Bernoulli']);
const PASSTHROUGH = new Set(['Identity', 'Cast']);
const MODE = 'latent-parameters';

/** The random nodes of a graph (none in a deterministic export). */
export function randomNodes(model: ModelProto): NodeProto[] {
  return (model.graph?.node ?? []).filter((n) => RANDOM_OPS.has(n.opType ?? ''));
}

/** The one element of a list, or undefined when it has none or several. */
function single<T>(list: readonly T[]): T | undefined {
  return list.length === 1 ? list[0] : undefined;
}

/** The input of a two-input node that is not `name` (its first input when `name` is not the first). */
function otherInput(node: NodeProto, name: string): string | undefined {
  const [a, b] = node.input ?? [];
  return a === name ? b : a;
}

/**
 * The model with its in-graph sample replaced by a `latent_parameters` output, or a string saying why the sampling
 * could not be taken apart.
 */
export function exposeLatentParameters(model: ModelProto): ModelProto | string {
  const graph = model.graph!;
  const g = new GraphIndex(graph, 17);
  const random = randomNodes(model);
  const draw = single(random);
  if (!draw || draw.opType !== 'RandomNormalLike' && draw.opType !== 'RandomNormal') return `${random.map((n) => n.opType).join(', ')} is not one normal draw`;
  const noise = draw.output?.[0];
  if (noise === undefined) return `the ${draw.opType} node has no output`;
  const mul = single(g.consumersOf(noise));
  const std = mul && otherInput(mul, noise);
  const scaledNoise = mul?.output?.[0];
  if (mul?.opType !== 'Mul' || std === undefined || scaledNoise === undefined) return 'the noise is not multiplied by a standard deviation';
  const add = single(g.consumersOf(scaledNoise));
  const mean = add && otherInput(add, scaledNoise);
  const sample = add?.output?.[0];
  if (add?.opType !== 'Add' || mean === undefined || sample === undefined) return 'the scaled noise is not added to a mean';
  // Follow Identity/Cast to the graph output.
  let out: string = sample;
  const tail: NodeProto[] = [];
  while (!g.graphOutputs.has(out)) {
    const next = single(g.consumersOf(out));
    const nextOut = next?.output?.[0];
    if (!next || !PASSTHROUGH.has(next.opType ?? '') || nextOut === undefined) return 'the sample does not go straight to a graph output';
    tail.push(next);
    out = nextOut;
  }
  if (out !== 'latent_sample') return `the sample is the output "${out}", not latent_sample`;
  if (tail.some((n) => n.opType === 'Cast')) return 'the sample is cast on its way out';

  // logvar: the x in std = Exp(x * 0.5) (or Exp(x / 2)), as DiagonalGaussianDistribution computes it; else 2 log(std).
  const nodes = [...(graph.node ?? [])];
  const initializers = [...(graph.initializer ?? [])];
  let logvar: string | undefined;
  const exp = g.producer.get(std);
  const expInput = exp?.opType === 'Exp' ? exp.input?.[0] : undefined;
  const half = expInput === undefined ? undefined : g.producer.get(expInput);
  const [a, b] = half?.input ?? [];
  if ((half?.opType === 'Mul' || half?.opType === 'Div') && a !== undefined && b !== undefined) {
    const want = half.opType === 'Mul' ? 0.5 : 2;
    if (g.scalarValue(b) === want) logvar = a;
    else if (half.opType === 'Mul' && g.scalarValue(a) === want) logvar = b;
  }
  if (!logvar) {
    const two = 'latent_parameters/two';
    const type = g.elemTypeOf(std) ?? 1;
    initializers.push(onnx.TensorProto.create({ name: two, dataType: 1, dims: [], floatData: [2] }));
    const twoCast = 'latent_parameters/two_cast';
    const log = 'latent_parameters/log_std';
    logvar = 'latent_parameters/logvar';
    nodes.push(
      onnx.NodeProto.create({ opType: 'Cast', input: [two], output: [twoCast], name: 'latent_parameters/Cast', attribute: [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: type })] }),
      onnx.NodeProto.create({ opType: 'Log', input: [std], output: [log], name: 'latent_parameters/Log' }),
      onnx.NodeProto.create({ opType: 'Mul', input: [log, twoCast], output: [logvar], name: 'latent_parameters/Mul' }),
    );
  }
  const dropped = new Set<NodeProto>([draw, mul, add, ...tail]);
  const kept = nodes.filter((n) => !dropped.has(n));
  kept.push(onnx.NodeProto.create({ opType: 'Concat', input: [mean, logvar], output: ['latent_parameters'], name: 'latent_parameters/Concat', attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })] }));
  const declared = (graph.output ?? []).find((o) => o.name === 'latent_sample')!;
  const elemType = declared.type?.tensorType?.elemType ?? 1;
  const output = onnx.ValueInfoProto.create({
    name: 'latent_parameters',
    type: { tensorType: { elemType, shape: { dim: ['batch', 'channels', 'latent_height', 'latent_width'].map((p) => ({ dimParam: p })) } } },
  });
  const outputs = (graph.output ?? []).map((o) => (o.name === 'latent_sample' ? output : o));
  const newGraph = onnx.GraphProto.create({
    ...graph,
    node: withoutDeadNodes(kept, new Set(outputs.map((o) => o.name ?? ''))),
    initializer: initializers,
    output: outputs,
    valueInfo: (graph.valueInfo ?? []).filter((v) => v.name !== 'latent_sample'),
  });
  return onnx.ModelProto.create({ ...model, graph: newGraph });
}

/**
 * The encoder file to load: the model itself when it does not sample, else the rewritten copy beside it (built once,
 * checked by size, mtime and hash on later loads).
 */
export async function withoutInGraphSampling(modelPath: string, log: (message: string) => void = () => {}): Promise<string> {
  const base = basename(modelPath).replace(/\.onnx$/i, '');
  const paths = { graph: join(dirname(modelPath), `${base}.${MODE}.onnx`), stamp: join(dirname(modelPath), `${base}.${MODE}.onnx.json`) };
  const key = await cacheKey(modelPath, MODE, 'cpu');
  const cached = await validStamp(paths, key);
  if (cached) return cached.sha256 ? paths.graph : modelPath;
  const { model, bytes } = await loadModelFile(modelPath);
  const stamp = async (sha: string | null, applied: string) => {
    try {
      await writeFileAtomic(paths.stamp, JSON.stringify({ ...key, sha256: sha, blocks: 0, applied }, null, 1));
    } catch (err) {
      log(`vae_encoder: could not write ${paths.stamp}: ${String(err)}`);
    }
  };
  const random = randomNodes(model);
  if (random.length === 0) {
    await stamp(null, 'deterministic');
    return modelPath;
  }
  const rewritten = exposeLatentParameters(model);
  if (typeof rewritten === 'string') {
    // Not cached: the warning should be seen on every start until the export is replaced.
    log(`${WARNING_PREFIX}${basename(modelPath)} draws random numbers inside the graph (${random.map((n) => n.opType).join(', ')}) and they cannot be taken out (${rewritten}): img2img from it will differ on every run with the same seed`);
    return modelPath;
  }
  referenceInlineWeights(rewritten, bytes, basename(modelPath));
  const encoded = encodeModel(rewritten);
  await writeFileAtomic(paths.graph, encoded);
  await stamp(sha256(encoded), 'latent_parameters');
  log(`vae_encoder: ${basename(modelPath)} samples latent_sample inside the graph (${random.map((n) => n.opType).join(', ')}); it now outputs latent_parameters, sampled with the job's seed as diffusers does (${basename(paths.graph)})`);
  return paths.graph;
}
