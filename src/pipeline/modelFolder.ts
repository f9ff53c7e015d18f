// Reads a Stable Diffusion model folder in the diffusers / optimum ONNX export layout and checks it is complete
// before any ONNX session is created, so a broken folder fails at start with a message that names the file. The
// sessions' declared inputs and outputs are checked by ./modelSignatures.ts.
//
//   model_index.json                         the pipeline index (required)
//   text_encoder/model.onnx                  CLIP text encoder: input_ids -> last_hidden_state (required)
//   tokenizer/                               tokenizer.json, or vocab.json + merges.txt (+ special_tokens_map.json,
//                                            tokenizer_config.json) (required)
//   text_encoder_2/model.onnx, tokenizer_2/  SDXL only (required there): the second CLIP encoder, with projection:
//                                            input_ids -> text_embeds, hidden_states.0..N (see ./family.ts)
//   unet/model.onnx (+ unet/config.json)     sample, timestep, encoder_hidden_states[, timestep_cond] -> out_sample
//   vae_decoder/model.onnx (+ config.json)   latent_sample -> sample; config.json's scaling_factor (default 0.18215)
//   scheduler/scheduler_config.json          raw diffusers scheduler config (normalised by ./schedulers)
//   vae_encoder/model.onnx                   optional, for img2img: sample -> latent_sample | latent_parameters
//   safety_checker/model.onnx                optional: clip_input, images -> out_images, has_nsfw_concepts
//   feature_extractor/preprocessor_config.json  the safety checker's CLIP preprocessing (optional)
//   vae_decoder_tiny/model.onnx (+ config.json) optional TAESD-style preview decoder, same signature as vae_decoder;
//                                            its config.json scaling_factor defaults to 1.0 (TAESD takes the UNet's
//                                            latents as they are), as diffusers' AutoencoderTiny exports it
//   imagine.json                             optional per-model defaults for the bot (see ImagineDefaults)
//
// Weights kept outside model.onnx (model.onnx_data, weights.pb) sit beside it; ONNX Runtime resolves them relative to
// the model file when a session is created from the path, which is why every path here is a file path.
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { SAMPLER_NAMES } from './schedulers/types.ts';
import { detectFamily, type ModelFamily } from './family.ts';
import { describeProblem, generateRequestFields } from './request.ts';

type Json = Record<string, unknown>;

/** A model folder problem; the message starts with the offending file's path (as the folder was given). */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

const jsonObject = z.record(z.string(), z.unknown());

/** The value at a zod issue's path, for the message. */
function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[key] : undefined), value);
}

/**
 * Read a JSON file and parse it with a schema (by default: any JSON object). A missing file, bad JSON or a value the
 * schema refuses each raise a ModelFolderError naming the file and, for a bad key, the key and its value.
 */
export async function readJsonFile(file: string): Promise<Json>;
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S): Promise<z.output<S>>;
export async function readJsonFile(file: string, schema: z.ZodType = jsonObject): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ModelFolderError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelFolderError(file, `invalid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ModelFolderError(file, 'expected a JSON object');
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ModelFolderError(file, issue.path.length ? `"${issue.path.join('.')}" is ${JSON.stringify(valueAt(value, issue.path))}; ${issue.message}` : issue.message);
}

const positive = z.number({ error: 'expected a positive number' }).positive({ error: 'expected a positive number' }).nullish();
const trueOrFalse = z.boolean({ error: 'expected true or false' }).nullish();
/** model_index.json: the pipeline class and the SDXL flags diffusers registers from it. */
const modelIndexSchema = z.looseObject({
  _class_name: z.string({ error: 'expected the pipeline class name' }).optional(),
  force_zeros_for_empty_prompt: trueOrFalse,
  requires_aesthetics_score: trueOrFalse,
});
/** vae_decoder|vae_encoder|vae_decoder_tiny/config.json: the keys the pipeline reads (AutoencoderKL's config). */
const vaeConfigSchema = z.looseObject({
  scaling_factor: positive,
  // AutoencoderKL's tile side in pixels when tiling (an int; some configs give a [h, w] pair, which we leave alone).
  sample_size: z.union([positive, z.array(z.number())]).transform((v) => (typeof v === 'number' ? v : undefined)),
  force_upcast: trueOrFalse,
  block_out_channels: z.array(z.int().positive(), { error: 'expected a list of channel counts' }).nullish(),
});
/** unet/config.json: the keys the pipeline reads (UNet2DConditionModel's config). */
const unetConfigSchema = z.looseObject({
  // Set on LCM UNets, which take a guidance embedding.
  time_cond_proj_dim: z.int({ error: 'expected a whole number or null' }).positive({ error: 'expected a positive whole number or null' }).nullish(),
  addition_embed_type: z.string({ error: 'expected a string or null' }).nullish(),
  sample_size: positive,
});

/** The ONNX sub-models, by the names the pipeline uses. */
export const MODEL_PARTS = ['textEncoder', 'textEncoder2', 'unet', 'vaeDecoder', 'vaeEncoder', 'safetyChecker', 'previewDecoder'] as const;
export type ModelPart = (typeof MODEL_PARTS)[number];

const PART_FILES: Record<ModelPart, { rel: string; required: boolean; what: string }> = {
  textEncoder: { rel: 'text_encoder/model.onnx', required: true, what: 'the CLIP text encoder exported by optimum (text_encoder/model.onnx)' },
  textEncoder2: { rel: 'text_encoder_2/model.onnx', required: false, what: "SDXL's second text encoder exported by optimum (text_encoder_2/model.onnx)" },
  unet: { rel: 'unet/model.onnx', required: true, what: 'the UNet exported by optimum (unet/model.onnx)' },
  vaeDecoder: { rel: 'vae_decoder/model.onnx', required: true, what: 'the VAE decoder exported by optimum (vae_decoder/model.onnx)' },
  vaeEncoder: { rel: 'vae_encoder/model.onnx', required: false, what: 'the VAE encoder exported by optimum (vae_encoder/model.onnx)' },
  safetyChecker: { rel: 'safety_checker/model.onnx', required: false, what: 'the safety checker (safety_checker/model.onnx)' },
  previewDecoder: { rel: 'vae_decoder_tiny/model.onnx', required: false, what: 'a TAESD-style preview decoder (vae_decoder_tiny/model.onnx)' },
};

export type ModelPaths = { textEncoder: string; unet: string; vaeDecoder: string } & Partial<Record<'textEncoder2' | 'vaeEncoder' | 'safetyChecker' | 'previewDecoder', string>>;

/** imagine.json: per-model defaults the bot applies when a user leaves an option out. Every key is optional. */
export const imagineDefaultsSchema = z
  .object({
    // The request schema's own rules, without its defaults (a key left out means "no preference").
    sampler: generateRequestFields.sampler.unwrap(),
    steps: generateRequestFields.steps.unwrap(),
    guidance: generateRequestFields.guidance.unwrap(),
    width: generateRequestFields.width.unwrap(),
    height: generateRequestFields.height.unwrap(),
  })
  .partial()
  .strict();
export type ImagineDefaults = z.infer<typeof imagineDefaultsSchema>;

export const DEFAULT_VAE_SCALING_FACTOR = 0.18215;
/** SDXL UNets' sample_size (128 latents = 1024 pixels) when unet/config.json is absent. */
export const SDXL_DEFAULT_SAMPLE_SIZE = 128;

export interface ModelFolder {
  /** Absolute path of the folder. */
  dir: string;
  /** The folder's base name: what the bot shows as the model name. */
  name: string;
  /** Which pipeline family the folder holds, detected from its files (./family.ts). */
  family: ModelFamily;
  /** model_index.json as written by the exporter. */
  modelIndex: Json;
  /** Absolute paths of the ONNX files present. */
  paths: ModelPaths;
  tokenizerDir: string;
  /** tokenizer_2/ (SDXL only). */
  tokenizer2Dir?: string;
  /**
   * SDXL: model_index.json force_zeros_for_empty_prompt (diffusers' default true): with no negative prompt, the
   * unconditional embeddings are zeros instead of the encoded empty string.
   */
  forceZerosForEmptyPrompt: boolean;
  /** SDXL img2img: model_index.json requires_aesthetics_score (the refiner's time ids carry an aesthetic score). */
  requiresAestheticsScore: boolean;
  /**
   * vae_decoder/config.json force_upcast (AutoencoderKL's default true): diffusers decodes in float32 when the VAE is
   * float16 and this is set, because SDXL's VAE overflows in half precision; the fp16-fix VAE sets it false.
   */
  vaeForceUpcast: boolean;
  /** vae_encoder/config.json force_upcast (else the decoder's): the same for img2img's encode. */
  vaeEncoderForceUpcast: boolean;
  /** scheduler/scheduler_config.json, unmodified. */
  schedulerConfig: Json;
  /** vae_decoder/config.json scaling_factor (latents are divided by it before decoding). */
  vaeScalingFactor: number;
  /** vae_decoder/config.json sample_size: the VAE's tile side in pixels when decoding/encoding tile by tile. */
  vaeSampleSize?: number;
  /** vae_decoder_tiny/config.json scaling_factor; 1.0 when absent (TAESD decodes the UNet's latents directly). */
  previewScalingFactor: number;
  /** feature_extractor/preprocessor_config.json, when present. */
  featureExtractorConfig?: Json;
  /** unet/config.json, when present (optimum copies the diffusers config beside the export). */
  unetConfig?: Json;
  /**
   * True when unet/config.json declares time_cond_proj_dim (an LCM UNet with a timestep_cond input); undefined when
   * the folder has no unet/config.json. inspectSignatures() reads the real inputs.
   */
  unetHasTimestepCond?: boolean;
  /**
   * imagine.json, validated; {} when the folder has none. For SDXL, width and height not given there default to the
   * UNet's native size (unet/config.json sample_size x the VAE's scale factor: 1024 for SDXL), as diffusers does.
   */
  defaults: ImagineDefaults;
}

async function requireFile(shown: string, actual: string, what: string, hint = ''): Promise<void> {
  let info;
  try {
    info = await stat(actual);
  } catch {
    throw new ModelFolderError(shown, `missing; expected ${what}${hint}`);
  }
  if (!info.isFile()) throw new ModelFolderError(shown, `is not a file; expected ${what}`);
  if (info.size === 0) throw new ModelFolderError(shown, `is empty; expected ${what}`);
}

/** A PyTorch diffusers folder has the same sub-folders but no ONNX files: say how to convert it. */
async function pytorchHint(dir: string, sub: string): Promise<string> {
  for (const f of ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin', 'model.safetensors', 'pytorch_model.bin']) {
    if (await pathExists(join(dir, sub, f))) return ` (found ${sub}/${f}: this is a PyTorch diffusers folder; export it with \`optimum-cli export onnx --model <folder> <out>\`)`;
  }
  return '';
}

/** Load and validate a model folder. Throws ModelFolderError naming the first file that is missing or malformed. */
export async function loadModelFolder(dir: string): Promise<ModelFolder> {
  const shown = (rel: string) => join(dir, rel);
  const abs = resolve(dir);
  const info = await stat(abs).catch(() => undefined);
  if (!info) throw new ModelFolderError(dir, 'missing; expected a model folder in the diffusers ONNX layout (model_index.json, unet/model.onnx, ...)');
  if (!info.isDirectory()) throw new ModelFolderError(dir, 'is not a directory; expected a model folder in the diffusers ONNX layout');

  const indexFile = 'model_index.json';
  if (!(await pathExists(join(abs, indexFile)))) throw new ModelFolderError(shown(indexFile), 'missing; expected the pipeline index written by optimum/diffusers (model_index.json)');
  const modelIndex = await readJsonFile(join(abs, indexFile), modelIndexSchema).catch(rename(dir));

  // SDXL's refiner (StableDiffusionXLImg2ImgPipeline with text_encoder null) conditions on text_encoder_2 alone.
  const noTextEncoder = Array.isArray(modelIndex.text_encoder) && modelIndex.text_encoder[0] === null;
  if (noTextEncoder && !(await pathExists(join(abs, PART_FILES.textEncoder.rel))) && (await pathExists(join(abs, 'text_encoder_2')))) {
    throw new ModelFolderError(shown(PART_FILES.textEncoder.rel), 'missing: this SDXL pipeline has text_encoder_2 only (the SDXL refiner); the bot runs SDXL models with both text encoders (base, turbo and their fine-tunes)');
  }
  const paths: Partial<Record<ModelPart, string>> = {};
  for (const part of MODEL_PARTS) {
    const { rel, required, what } = PART_FILES[part];
    const actual = join(abs, rel);
    if (required) await requireFile(shown(rel), actual, what, await pytorchHint(abs, rel.split('/', 1)[0] ?? rel));
    else if (await pathExists(actual)) await requireFile(shown(rel), actual, what);
    else continue;
    paths[part] = actual;
  }

  const requireTokenizer = async (sub: string) => {
    const tokDir = join(abs, sub);
    if (await pathExists(join(tokDir, 'tokenizer.json'))) return tokDir;
    for (const f of ['vocab.json', 'merges.txt']) {
      await requireFile(shown(`${sub}/${f}`), join(tokDir, f), `CLIP's tokenizer files (${sub}/tokenizer.json, or ${sub}/vocab.json + ${sub}/merges.txt)`);
    }
    return tokDir;
  };
  const tokenizerDir = await requireTokenizer('tokenizer');

  const schedulerRel = 'scheduler/scheduler_config.json';
  await requireFile(shown(schedulerRel), join(abs, schedulerRel), 'the diffusers scheduler config (scheduler/scheduler_config.json)');
  const schedulerConfig = await readJsonFile(join(abs, schedulerRel)).catch(rename(dir));

  const optionalJson = async <S extends z.ZodType>(rel: string, schema: S): Promise<z.output<S> | undefined> =>
    (await pathExists(join(abs, rel))) ? readJsonFile(join(abs, rel), schema).catch(rename(dir)) : undefined;
  const vaeConfig = await optionalJson('vae_decoder/config.json', vaeConfigSchema);
  const vaeScalingFactor = vaeConfig?.scaling_factor ?? DEFAULT_VAE_SCALING_FACTOR;
  const vaeSampleSize = vaeConfig?.sample_size ?? undefined;
  const previewConfig = paths.previewDecoder ? await optionalJson('vae_decoder_tiny/config.json', vaeConfigSchema) : undefined;
  const previewScalingFactor = previewConfig?.scaling_factor ?? 1;
  const featureExtractorConfig = await optionalJson('feature_extractor/preprocessor_config.json', jsonObject);
  const unetConfig = await optionalJson('unet/config.json', unetConfigSchema);
  const unetHasTimestepCond = unetConfig ? typeof unetConfig.time_cond_proj_dim === 'number' : undefined;

  const { family, reason } = detectFamily({
    pipelineClass: modelIndex._class_name,
    hasTextEncoder2: await pathExists(join(abs, 'text_encoder_2')),
    unetAdditionEmbedType: unetConfig?.addition_embed_type,
  });
  let tokenizer2Dir: string | undefined;
  if (family === 'sdxl') {
    const rel = PART_FILES.textEncoder2.rel;
    if (!paths.textEncoder2) await requireFile(shown(rel), join(abs, rel), `${PART_FILES.textEncoder2.what}: this is an SDXL folder (${reason})`, await pytorchHint(abs, 'text_encoder_2'));
    paths.textEncoder2 = join(abs, rel);
    tokenizer2Dir = await requireTokenizer('tokenizer_2');
  }

  // StableDiffusionXLPipeline registers force_zeros_for_empty_prompt=True unless the index says otherwise.
  const forceZerosForEmptyPrompt = family === 'sdxl' && (modelIndex.force_zeros_for_empty_prompt ?? true);
  const requiresAestheticsScore = family === 'sdxl' && (modelIndex.requires_aesthetics_score ?? false);
  // AutoencoderKL's force_upcast defaults to True.
  const vaeForceUpcast = vaeConfig?.force_upcast ?? true;
  const vaeEncoderConfig = paths.vaeEncoder ? await optionalJson('vae_encoder/config.json', vaeConfigSchema) : undefined;
  const vaeEncoderForceUpcast = vaeEncoderConfig?.force_upcast ?? vaeForceUpcast;

  const imagine = await optionalJson('imagine.json', jsonObject);
  let defaults: ImagineDefaults = {};
  if (imagine) {
    const parsed = imagineDefaultsSchema.safeParse(imagine);
    if (!parsed.success) {
      // Known keys get the request schema's own words; unknown keys zod's.
      const issues = parsed.error.issues
        .map((i) => (i.path.length === 1 && String(i.path[0]) in imagineDefaultsSchema.shape ? `"${String(i.path[0])}": ${describeProblem(String(i.path[0]), imagine[String(i.path[0])])}` : i.path.length ? `"${i.path.join('.')}" ${i.message}` : i.message))
        .join('; ');
      throw new ModelFolderError(shown('imagine.json'), `invalid per-model defaults (${issues}); expected keys sampler (${SAMPLER_NAMES.join('|')}), steps, guidance, width, height`);
    }
    defaults = parsed.data;
  }
  if (family === 'sdxl') {
    // diffusers: height = width = unet.config.sample_size * vae_scale_factor, the scale factor being
    // 2 ** (len(vae.config.block_out_channels) - 1).
    const sampleSize = unetConfig?.sample_size ?? SDXL_DEFAULT_SAMPLE_SIZE;
    const blocks = vaeConfig?.block_out_channels;
    const vaeScale = blocks && blocks.length > 0 ? 2 ** (blocks.length - 1) : 8;
    const native = Math.round(sampleSize * vaeScale);
    if (native >= 64 && native <= 2048 && native % 8 === 0) defaults = { width: native, height: native, ...defaults };
  }

  return {
    dir: abs,
    name: basename(abs),
    family,
    modelIndex,
    paths: paths as ModelPaths,
    tokenizerDir,
    tokenizer2Dir,
    forceZerosForEmptyPrompt,
    requiresAestheticsScore,
    vaeForceUpcast,
    vaeEncoderForceUpcast,
    schedulerConfig,
    vaeScalingFactor,
    vaeSampleSize,
    previewScalingFactor,
    featureExtractorConfig,
    unetConfig,
    unetHasTimestepCond,
    defaults,
  };
}

/** readJsonFile reports absolute paths; report them relative to the folder as the caller gave it. */
function rename(dir: string) {
  const abs = resolve(dir);
  return (err: unknown): never => {
    if (err instanceof ModelFolderError && err.file.startsWith(abs)) throw new ModelFolderError(join(dir, err.file.slice(abs.length)), err.problem);
    throw err;
  };
}

