// Signature checks: open each session of a model folder and compare its declared inputs and outputs with what the
// pipeline feeds and reads, so a wrong export fails at load naming the file, the tensor and the fix.
import type * as ort from 'onnxruntime-node';
import { openForInspection } from './session.ts';
import { SDXL_UNET_INPUTS, type ModelFamily } from './family.ts';
import { MODEL_PARTS, type ModelFolder, type ModelPart } from './modelFolder.ts';


export interface SignatureProblem {
  part: ModelPart;
  file: string;
  problem: string;
  fix: string;
}

interface TensorRule {
  name: string;
  types: readonly string[];
  /** Accepted ranks (number of dims). */
  ranks: readonly number[];
  optional?: boolean;
}

interface PartRule {
  inputs: TensorRule[];
  /** Each entry: names of which exactly one must be present. */
  outputs: { names: string[]; types: readonly string[] }[];
  reexport: string;
}

const FLOAT = ['float32', 'float16'] as const;
const OPTIMUM = 'optimum-cli export onnx --model <diffusers model> <folder>';

/** What the pipeline needs of each sub-model; names and dtypes as optimum's model_configs.py and diffusers' ONNX pipelines use them. */
const RULES: Record<ModelPart, PartRule> = {
  textEncoder: {
    inputs: [{ name: 'input_ids', types: ['int32', 'int64'], ranks: [2] }],
    outputs: [{ names: ['last_hidden_state'], types: FLOAT }],
    reexport: `re-export the text encoder with ${OPTIMUM}`,
  },
  textEncoder2: {
    inputs: [{ name: 'input_ids', types: ['int32', 'int64'], ranks: [2] }],
    // CLIPTextModelWithProjection as optimum exports it: text_embeds, last_hidden_state, hidden_states.0..N
    outputs: [{ names: ['text_embeds'], types: FLOAT }],
    reexport: `re-export the SDXL model with ${OPTIMUM} (text_encoder_2 with its hidden states)`,
  },
  unet: {
    inputs: [
      { name: 'sample', types: FLOAT, ranks: [4] },
      // optimum declares a scalar; older diffusers scripts export [batch]; both are fed correctly by ./unet.ts
      { name: 'timestep', types: ['float32', 'float16', 'int64'], ranks: [0, 1] },
      { name: 'encoder_hidden_states', types: FLOAT, ranks: [3] },
      { name: 'timestep_cond', types: FLOAT, ranks: [2], optional: true },
    ],
    outputs: [{ names: ['out_sample'], types: FLOAT }],
    reexport: `re-export the UNet with ${OPTIMUM}`,
  },
  vaeDecoder: {
    inputs: [{ name: 'latent_sample', types: FLOAT, ranks: [4] }],
    outputs: [{ names: ['sample'], types: FLOAT }],
    reexport: `re-export the VAE decoder with ${OPTIMUM}`,
  },
  vaeEncoder: {
    inputs: [{ name: 'sample', types: FLOAT, ranks: [4] }],
    outputs: [{ names: ['latent_sample', 'latent_parameters'], types: FLOAT }],
    reexport: `re-export the VAE encoder with ${OPTIMUM}, or delete vae_encoder/ to run without img2img`,
  },
  safetyChecker: {
    inputs: [
      { name: 'clip_input', types: FLOAT, ranks: [4] },
      { name: 'images', types: FLOAT, ranks: [4] },
    ],
    outputs: [
      { names: ['out_images'], types: FLOAT },
      { names: ['has_nsfw_concepts'], types: ['bool'] },
    ],
    reexport: "re-export the safety checker with diffusers' ONNX conversion script, or delete safety_checker/ to run without it",
  },
  previewDecoder: {
    inputs: [{ name: 'latent_sample', types: FLOAT, ranks: [4] }],
    outputs: [{ names: ['sample'], types: FLOAT }],
    reexport: 'export the TAESD decoder (diffusers AutoencoderTiny) with optimum as vae_decoder_tiny/, or delete vae_decoder_tiny/',
  },
};

interface Meta {
  name: string;
  type: string;
  shape?: readonly (number | string)[];
}

function metas(list: readonly ort.InferenceSession.ValueMetadata[]): Meta[] {
  return list.map((m) => (m.isTensor ? { name: m.name, type: String(m.type), shape: m.shape as (number | string)[] } : { name: m.name, type: 'non-tensor' }));
}

const describe = (m: Meta) => `${m.name} (${m.type}${m.shape ? ` [${m.shape.join(', ')}]` : ''})`;

/** SDXL's extra requirements on top of RULES (optimum's SDXL export: hidden states out of both encoders). */
function familyRule(part: ModelPart, family: ModelFamily): PartRule {
  const rule = RULES[part];
  if (family !== 'sdxl' || part !== 'unet') return rule;
  return { ...rule, inputs: [...rule.inputs, ...SDXL_UNET_INPUTS.map((name) => ({ name, types: FLOAT, ranks: [2] }))] };
}

/** The `hidden_states.K` outputs of a text encoder exported with output_hidden_states, by K. */
export function hiddenStateOutputs(names: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const n of names) {
    const m = /^hidden_states\.(\d+)$/.exec(n);
    if (m) out.set(Number(m[1]), n);
  }
  return out;
}

/**
 * The output holding hidden_states[-2] (the penultimate layer, what SDXL conditions on): of hidden_states.0..N,
 * hidden_states.(N-1). Undefined when the export has fewer than two of them.
 */
export function penultimateHiddenState(names: readonly string[]): string | undefined {
  const found = hiddenStateOutputs(names);
  if (found.size < 2) return undefined;
  const last = Math.max(...found.keys());
  return found.get(last - 1);
}

/** Check one session's declared signature against its rule (the family adds SDXL's inputs and outputs). */
export function checkSignature(part: ModelPart, file: string, inputs: Meta[], outputs: Meta[], family: ModelFamily = 'sd'): SignatureProblem[] {
  const rule = familyRule(part, family);
  const problems: SignatureProblem[] = [];
  const add = (problem: string, fix = rule.reexport) => problems.push({ part, file, problem, fix });
  const have = inputs.map(describe).join(', ') || 'none';
  for (const r of rule.inputs) {
    const m = inputs.find((i) => i.name === r.name);
    if (!m) {
      if (!r.optional) add(`expected an input named "${r.name}"; the model has ${have}`);
      continue;
    }
    if (!r.types.includes(m.type)) add(`input "${r.name}" is ${m.type}; expected ${r.types.join(' or ')}`);
    if (m.shape && !r.ranks.includes(m.shape.length)) add(`input "${r.name}" has shape [${m.shape.join(', ')}]; expected ${r.ranks.map((k) => `${k} dimension${k === 1 ? '' : 's'}`).join(' or ')}`);
  }
  for (const m of inputs) {
    if (rule.inputs.some((r) => r.name === m.name)) continue;
    const sdxl = part === 'unet' && (SDXL_UNET_INPUTS as readonly string[]).includes(m.name);
    add(
      `unexpected input "${m.name}" that the pipeline does not feed${sdxl ? ' (an SDXL UNet in a folder without text_encoder_2/ and an SDXL model_index.json)' : ''}`,
      sdxl ? `export the whole SDXL pipeline with ${OPTIMUM}, so text_encoder_2/ and tokenizer_2/ sit beside the UNet` : rule.reexport,
    );
  }
  const haveOut = outputs.map(describe).join(', ') || 'none';
  for (const o of rule.outputs) {
    const found = outputs.filter((m) => o.names.includes(m.name));
    if (found.length === 0) {
      add(`expected an output named ${o.names.map((n) => `"${n}"`).join(' or ')}; the model has ${haveOut}`);
      continue;
    }
    for (const m of found) if (!o.types.includes(m.type)) add(`output "${m.name}" is ${m.type}; expected ${o.types.join(' or ')}`);
  }
  if (family === 'sdxl' && (part === 'textEncoder' || part === 'textEncoder2') && !penultimateHiddenState(outputs.map((m) => m.name))) {
    add(`expected hidden_states.0 ... hidden_states.N outputs (SDXL conditions on the penultimate layer); the model has ${haveOut}`);
  }
  return problems;
}

function lastDim(m: Meta | undefined): number | undefined {
  const d = m?.shape?.[m.shape.length - 1];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function dim(m: Meta | undefined, i: number): number | undefined {
  const d = m?.shape?.[i];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

/**
 * Open every ONNX file of the folder (CPU, one thread, no graph optimisation: this only reads signatures) and report
 * each mismatch with what the pipeline needs, with a fix. An empty list means the folder is usable.
 */
export async function inspectSignatures(folder: ModelFolder): Promise<SignatureProblem[]> {
  const problems: SignatureProblem[] = [];
  const seen: Partial<Record<ModelPart, { inputs: Meta[]; outputs: Meta[] }>> = {};
  for (const part of MODEL_PARTS) {
    const file = folder.paths[part];
    if (!file) continue;
    let session: ort.InferenceSession;
    try {
      session = await openForInspection(file);
    } catch (err) {
      const message = String(err instanceof Error ? err.message : err).split('\n', 1)[0] ?? '';
      const external = /external|onnx_data|weights\.pb|No such file/i.test(message);
      problems.push({
        part,
        file,
        problem: `ONNX Runtime cannot load it (${message})`,
        fix: external ? 'keep the external weight file (model.onnx_data / weights.pb) beside model.onnx, under the name the export gave it' : RULES[part].reexport,
      });
      continue;
    }
    try {
      const inputs = metas(session.inputMetadata);
      const outputs = metas(session.outputMetadata);
      seen[part] = { inputs, outputs };
      problems.push(...checkSignature(part, file, inputs, outputs, folder.family));
    } finally {
      await session.release();
    }
  }

  // Cross-model agreement, where the exports declare fixed sizes.
  const unetInput = (name: string) => seen.unet?.inputs.find((m) => m.name === name);
  const unetHidden = lastDim(unetInput('encoder_hidden_states'));
  if (folder.family === 'sdxl') {
    // encoder_hidden_states is both encoders' penultimate states side by side; text_embeds is text_encoder_2's projection.
    const width = (part: 'textEncoder' | 'textEncoder2') => {
      const outs = seen[part]?.outputs ?? [];
      const name = penultimateHiddenState(outs.map((m) => m.name));
      return lastDim(outs.find((m) => m.name === name));
    };
    const w1 = width('textEncoder');
    const w2 = width('textEncoder2');
    if (w1 && w2 && unetHidden && w1 + w2 !== unetHidden) {
      problems.push({ part: 'unet', file: folder.paths.unet, problem: `encoder_hidden_states has width ${unetHidden} but the two text encoders give ${w1} + ${w2}`, fix: 'use the text encoders and UNet of the same model' });
    }
    const pooled = lastDim(seen.textEncoder2?.outputs.find((m) => m.name === 'text_embeds'));
    const unetPooled = lastDim(unetInput('text_embeds'));
    if (pooled && unetPooled && pooled !== unetPooled) {
      problems.push({ part: 'unet', file: folder.paths.unet, problem: `text_embeds has width ${unetPooled} but text_encoder_2's text_embeds has ${pooled}`, fix: 'use the text encoders and UNet of the same model' });
    }
    const timeIds = lastDim(unetInput('time_ids'));
    const expected = folder.requiresAestheticsScore ? 5 : 6;
    if (timeIds && timeIds !== expected) {
      problems.push({
        part: 'unet',
        file: folder.paths.unet,
        problem: `time_ids has width ${timeIds} but model_index.json's requires_aesthetics_score ${folder.requiresAestheticsScore ? 'true gives 5' : 'false gives 6'}`,
        fix: 'use the model_index.json exported with this UNet',
      });
    }
  } else {
    const textHidden = lastDim(seen.textEncoder?.outputs.find((m) => m.name === 'last_hidden_state'));
    if (textHidden && unetHidden && textHidden !== unetHidden) {
      problems.push({ part: 'unet', file: folder.paths.unet, problem: `encoder_hidden_states has width ${unetHidden} but the text encoder outputs ${textHidden}`, fix: 'use the text encoder and UNet of the same model' });
    }
  }
  const sampleChannels = dim(seen.unet?.inputs.find((m) => m.name === 'sample'), 1);
  // An inpainting UNet takes [latents, mask, masked-image latents]: 2 * latent channels + 1.
  const unetChannels = sampleChannels === 9 ? 4 : sampleChannels;
  const vaeChannels = dim(seen.vaeDecoder?.inputs.find((m) => m.name === 'latent_sample'), 1);
  if (unetChannels && vaeChannels && unetChannels !== vaeChannels) {
    problems.push({ part: 'vaeDecoder', file: folder.paths.vaeDecoder, problem: `latent_sample has ${vaeChannels} channels but the UNet works on ${unetChannels}`, fix: 'use the VAE of the same model family' });
  }
  return problems;
}

/** One line per problem, for `npm run models -- verify` and logs. */
export function formatProblem(p: SignatureProblem): string {
  return `${p.file}: ${p.problem}. Fix: ${p.fix}`;
}
