// The test model folders: which networks, configs and tokenizer each one gets. See test/fixtures/README.md.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelProto } from '../../src/pipeline/onnx/build.ts';
import { buildClipVocab } from './clipVocab.ts';
import { writeModel } from './graph.ts';
import { closedFormSdxlUnet, closedFormUnet, safetyChecker, sdxlTextEncoder, textEncoder, unet, vaeDecoder, vaeEncoder, INPAINT_CHANNELS, LATENT_CHANNELS, SDXL_POOLED, SDXL_TEXT_WIDTHS, SDXL_TIME_IDS, TEXT_HIDDEN } from './networks.ts';

const TOKENIZER_FIXTURES = fileURLToPath(new URL('../../test/fixtures/tokenizers/', import.meta.url));
const VOCAB_SIZE = Object.keys(buildClipVocab().vocab).length;

const SCALED_LINEAR = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, trained_betas: null };

/** runwayml/stable-diffusion-v1-5's scheduler_config.json (no prediction_type / timestep_spacing: defaults apply). */
const PNDM_SD15 = { _class_name: 'PNDMScheduler', _diffusers_version: '0.6.0', ...SCALED_LINEAR, clip_sample: false, set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1 };
/** stabilityai/stable-diffusion-2-1's: DDIM, v_prediction, no timestep_spacing (diffusers' default "leading"). */
const DDIM_SD2 = { _class_name: 'DDIMScheduler', _diffusers_version: '0.8.0', ...SCALED_LINEAR, clip_sample: false, prediction_type: 'v_prediction', set_alpha_to_one: false, skip_prk_steps: true, steps_offset: 1 };
/** SimianLuo/LCM_Dreamshaper_v7's LCMScheduler config. */
const LCM = {
  _class_name: 'LCMScheduler',
  _diffusers_version: '0.22.0',
  ...SCALED_LINEAR,
  clip_sample: false,
  clip_sample_range: 1.0,
  dynamic_thresholding_ratio: 0.995,
  original_inference_steps: 50,
  prediction_type: 'epsilon',
  rescale_betas_zero_snr: false,
  sample_max_value: 1.0,
  set_alpha_to_one: true,
  steps_offset: 1,
  thresholding: false,
  timestep_scaling: 10.0,
  timestep_spacing: 'leading',
};
/** Closed form: DDIM predicting x0 directly, final alpha 1, so the last step returns the model's prediction exactly. */
/** stabilityai/stable-diffusion-xl-base-1.0's scheduler_config.json. */
const EULER_SDXL = {
  _class_name: 'EulerDiscreteScheduler',
  _diffusers_version: '0.19.0.dev0',
  ...SCALED_LINEAR,
  clip_sample: false,
  interpolation_type: 'linear',
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'leading',
  use_karras_sigmas: false,
};
/** stabilityai/sdxl-turbo's: Euler ancestral with trailing spacing. */
const EULER_A_SDXL_TURBO = {
  _class_name: 'EulerAncestralDiscreteScheduler',
  _diffusers_version: '0.24.0.dev0',
  ...SCALED_LINEAR,
  clip_sample: false,
  interpolation_type: 'linear',
  prediction_type: 'epsilon',
  sample_max_value: 1.0,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  timestep_spacing: 'trailing',
  use_karras_sigmas: false,
};
const DDIM_CLOSED_FORM = { _class_name: 'DDIMScheduler', _diffusers_version: '0.30.0', ...SCALED_LINEAR, clip_sample: false, clip_sample_range: 1.0, prediction_type: 'sample', set_alpha_to_one: true, steps_offset: 1, timestep_spacing: 'leading' };

const CLIP_PREPROCESSOR = {
  crop_size: { height: 224, width: 224 },
  do_center_crop: true,
  do_convert_rgb: true,
  do_normalize: true,
  do_rescale: true,
  do_resize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_processor_type: 'CLIPImageProcessor',
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  rescale_factor: 0.00392156862745098,
  size: { shortest_edge: 224 },
};

interface FolderSpec {
  tokenizer: 'sd15' | 'sd2';
  scheduler: Record<string, unknown>;
  scalingFactor: number;
  parts: { textEncoder: ModelProto; unet: ModelProto; vaeDecoder: ModelProto; vaeEncoder?: ModelProto; safetyChecker?: ModelProto; previewDecoder?: ModelProto };
  /** External weight file name per sub-folder, e.g. { unet: 'model.onnx_data' }. */
  externalData?: Partial<Record<'text_encoder' | 'unet', string>>;
  unetConfig?: Record<string, unknown>;
  imagine?: Record<string, unknown>;
  pipelineClass?: string;
  /** An SDXL folder: text_encoder_2/ + tokenizer_2/ (SDXL base's: pad "!"), and model_index.json's SDXL flags. */
  sdxl?: { textEncoder2: ModelProto; forceZerosForEmptyPrompt?: boolean; vaeForceUpcast?: boolean };
}

function json(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

function writeFolder(dir: string, spec: FolderSpec): void {
  const p = spec.parts;
  const onnx = (library: string, present: boolean) => (present ? [library, 'OnnxRuntimeModel'] : [null, null]);
  mkdirSync(dir, { recursive: true });
  const sdxlIndex = spec.sdxl
    ? { force_zeros_for_empty_prompt: spec.sdxl.forceZerosForEmptyPrompt ?? true, text_encoder_2: onnx('diffusers', true), tokenizer_2: ['transformers', 'CLIPTokenizer'] }
    : {};
  json(join(dir, 'model_index.json'), {
    _class_name: spec.pipelineClass ?? 'OnnxStableDiffusionPipeline',
    _diffusers_version: '0.30.0',
    ...sdxlIndex,
    feature_extractor: p.safetyChecker ? ['transformers', 'CLIPImageProcessor'] : [null, null],
    requires_safety_checker: Boolean(p.safetyChecker),
    safety_checker: onnx('diffusers', Boolean(p.safetyChecker)),
    scheduler: ['diffusers', String(spec.scheduler._class_name)],
    text_encoder: onnx('diffusers', true),
    tokenizer: ['transformers', 'CLIPTokenizer'],
    unet: onnx('diffusers', true),
    vae_decoder: onnx('diffusers', true),
    vae_encoder: onnx('diffusers', Boolean(p.vaeEncoder)),
  });
  writeModel(join(dir, 'text_encoder/model.onnx'), p.textEncoder, spec.externalData?.text_encoder);
  if (spec.sdxl) {
    writeModel(join(dir, 'text_encoder_2/model.onnx'), spec.sdxl.textEncoder2);
    mkdirSync(join(dir, 'tokenizer_2'), { recursive: true });
    const tok2 = join(TOKENIZER_FIXTURES, 'sd2');
    for (const f of readdirSync(tok2)) copyFileSync(join(tok2, f), join(dir, 'tokenizer_2', f));
  }
  writeModel(join(dir, 'unet/model.onnx'), p.unet, spec.externalData?.unet);
  writeModel(join(dir, 'vae_decoder/model.onnx'), p.vaeDecoder);
  if (p.vaeEncoder) writeModel(join(dir, 'vae_encoder/model.onnx'), p.vaeEncoder);
  if (p.safetyChecker) {
    writeModel(join(dir, 'safety_checker/model.onnx'), p.safetyChecker);
    mkdirSync(join(dir, 'feature_extractor'), { recursive: true });
    json(join(dir, 'feature_extractor/preprocessor_config.json'), CLIP_PREPROCESSOR);
  }
  if (p.previewDecoder) {
    writeModel(join(dir, 'vae_decoder_tiny/model.onnx'), p.previewDecoder);
    json(join(dir, 'vae_decoder_tiny/config.json'), { _class_name: 'AutoencoderTiny', latent_channels: LATENT_CHANNELS, scaling_factor: 1.0 });
  }
  const vaeSdxl = spec.sdxl ? { block_out_channels: [128, 256, 512, 512], force_upcast: spec.sdxl.vaeForceUpcast ?? true } : {};
  json(join(dir, 'vae_decoder/config.json'), { _class_name: 'AutoencoderKL', latent_channels: LATENT_CHANNELS, out_channels: 3, sample_size: 64, scaling_factor: spec.scalingFactor, ...vaeSdxl });
  const unetSdxl = spec.sdxl
    ? { addition_embed_type: 'text_time', addition_time_embed_dim: 256, projection_class_embeddings_input_dim: 256 * SDXL_TIME_IDS + SDXL_POOLED, cross_attention_dim: SDXL_TEXT_WIDTHS[0] + SDXL_TEXT_WIDTHS[1] }
    : {};
  json(join(dir, 'unet/config.json'), { _class_name: 'UNet2DConditionModel', in_channels: LATENT_CHANNELS, out_channels: LATENT_CHANNELS, cross_attention_dim: TEXT_HIDDEN, sample_size: 8, ...unetSdxl, ...spec.unetConfig });
  mkdirSync(join(dir, 'scheduler'), { recursive: true });
  json(join(dir, 'scheduler/scheduler_config.json'), spec.scheduler);
  mkdirSync(join(dir, 'tokenizer'), { recursive: true });
  const tokDir = join(TOKENIZER_FIXTURES, spec.tokenizer);
  for (const f of readdirSync(tokDir)) copyFileSync(join(tokDir, f), join(dir, 'tokenizer', f));
  if (spec.imagine) json(join(dir, 'imagine.json'), spec.imagine);
}

/** Every test model, by folder name. Built lazily so a caller can generate just one. */
export const TEST_MODELS: Record<string, () => FolderSpec> = {
  'tiny-sd15': () => ({
    tokenizer: 'sd15',
    scheduler: PNDM_SD15,
    scalingFactor: 0.18215,
    parts: {
      textEncoder: textEncoder({ idsType: 'int32', float: 'float32', vocabSize: VOCAB_SIZE }),
      unet: unet({ float: 'float32', timestepType: 'int64', timestepShape: [1], attention: '3d' }),
      vaeDecoder: vaeDecoder({ float: 'float32' }),
      vaeEncoder: vaeEncoder({ float: 'float32', output: 'latent_sample' }),
      safetyChecker: safetyChecker(),
      previewDecoder: vaeDecoder({ float: 'float32', name: 'taesd_decoder' }),
    },
    imagine: { sampler: 'pndm', steps: 4, guidance: 7.5, width: 64, height: 64 },
  }),
  'tiny-sd15-fp16': () => ({
    tokenizer: 'sd15',
    scheduler: PNDM_SD15,
    scalingFactor: 0.18215,
    parts: {
      textEncoder: textEncoder({ idsType: 'int32', float: 'float16', vocabSize: VOCAB_SIZE }),
      unet: unet({ float: 'float16', timestepType: 'float16', timestepShape: [1], attention: '4d' }),
      vaeDecoder: vaeDecoder({ float: 'float16' }),
      vaeEncoder: vaeEncoder({ float: 'float16', output: 'latent_sample' }),
    },
  }),
  'tiny-sd2-v': () => ({
    tokenizer: 'sd2',
    scheduler: DDIM_SD2,
    scalingFactor: 0.18215,
    parts: {
      textEncoder: textEncoder({ idsType: 'int64', float: 'float32', vocabSize: VOCAB_SIZE }),
      unet: unet({ float: 'float32', timestepType: 'float32', timestepShape: [], attention: '3d' }),
      vaeDecoder: vaeDecoder({ float: 'float32' }),
      vaeEncoder: vaeEncoder({ float: 'float32', output: 'latent_parameters' }),
    },
    externalData: { unet: 'model.onnx_data' },
    pipelineClass: 'ORTStableDiffusionPipeline',
  }),
  'tiny-lcm': () => ({
    tokenizer: 'sd15',
    scheduler: LCM,
    scalingFactor: 0.18215,
    parts: {
      textEncoder: textEncoder({ idsType: 'int32', float: 'float32', vocabSize: VOCAB_SIZE }),
      unet: unet({ float: 'float32', timestepType: 'int64', timestepShape: ['batch_size'], attention: '3d', timeCondDim: 256 }),
      vaeDecoder: vaeDecoder({ float: 'float32' }),
    },
    externalData: { text_encoder: 'weights.pb' },
    unetConfig: { time_cond_proj_dim: 256 },
    imagine: { sampler: 'lcm', steps: 4, guidance: 1 },
    pipelineClass: 'ORTLatentConsistencyModelPipeline',
  }),
  'tiny-sdxl': () => ({
    tokenizer: 'sd15',
    scheduler: EULER_SDXL,
    // SDXL's VAE: stabilityai/sdxl-vae's scaling_factor
    scalingFactor: 0.13025,
    parts: {
      textEncoder: sdxlTextEncoder({ index: 0, idsType: 'int64', float: 'float32', vocabSize: VOCAB_SIZE }),
      unet: unet({ float: 'float32', timestepType: 'float32', timestepShape: [], attention: '3d', sdxl: { contextWidth: SDXL_TEXT_WIDTHS[0] + SDXL_TEXT_WIDTHS[1], pooledWidth: SDXL_POOLED, timeIds: SDXL_TIME_IDS } }),
      vaeDecoder: vaeDecoder({ float: 'float32', weightScale: 0.1 }),
      vaeEncoder: vaeEncoder({ float: 'float32', output: 'latent_parameters' }),
    },
    sdxl: { textEncoder2: sdxlTextEncoder({ index: 1, idsType: 'int64', float: 'float32', vocabSize: VOCAB_SIZE }) },
    externalData: { unet: 'model.onnx_data' },
    pipelineClass: 'ORTStableDiffusionXLPipeline',
  }),
  'tiny-sdxl-turbo': () => ({
    tokenizer: 'sd15',
    scheduler: EULER_A_SDXL_TURBO,
    scalingFactor: 0.13025,
    parts: {
      textEncoder: sdxlTextEncoder({ index: 0, idsType: 'int64', float: 'float16', vocabSize: VOCAB_SIZE }),
      unet: unet({ float: 'float16', timestepType: 'float16', timestepShape: [], attention: '4d', sdxl: { contextWidth: SDXL_TEXT_WIDTHS[0] + SDXL_TEXT_WIDTHS[1], pooledWidth: SDXL_POOLED, timeIds: SDXL_TIME_IDS } }),
      vaeDecoder: vaeDecoder({ float: 'float32', weightScale: 0.1 }),
    },
    // model_index.json names the SD pipeline class (as some hand-made exports do): detected from text_encoder_2/ and unet/config.json
    sdxl: { textEncoder2: sdxlTextEncoder({ index: 1, idsType: 'int64', float: 'float16', vocabSize: VOCAB_SIZE }), vaeForceUpcast: false },
    imagine: { sampler: 'euler-a', steps: 1, guidance: 0, width: 64, height: 64 },
    pipelineClass: 'OnnxStableDiffusionPipeline',
  }),
  'closed-form-sdxl': () => ({
    tokenizer: 'sd15',
    scheduler: DDIM_CLOSED_FORM,
    scalingFactor: 0.13025,
    parts: {
      textEncoder: sdxlTextEncoder({ index: 0, idsType: 'int64', float: 'float32', vocabSize: VOCAB_SIZE, closedForm: true }),
      unet: closedFormSdxlUnet(),
      vaeDecoder: vaeDecoder({ float: 'float32', closedForm: true }),
      // The decoder's exact inverse, for img2img and inpainting on SDXL (test/inpaint).
      vaeEncoder: vaeEncoder({ float: 'float32', output: 'latent_sample', closedForm: true }),
    },
    sdxl: { textEncoder2: sdxlTextEncoder({ index: 1, idsType: 'int64', float: 'float32', vocabSize: VOCAB_SIZE, closedForm: true }) },
    pipelineClass: 'StableDiffusionXLPipeline',
  }),
  'closed-form-sdxl-fp16-vae': () => ({
    tokenizer: 'sd15',
    scheduler: DDIM_CLOSED_FORM,
    scalingFactor: 0.13025,
    parts: {
      textEncoder: sdxlTextEncoder({ index: 0, idsType: 'int64', float: 'float32', vocabSize: VOCAB_SIZE, closedForm: true }),
      unet: closedFormSdxlUnet(),
      // float16, overflowing in half precision; force_upcast true (SDXL's VAE config) makes the pipeline run it in float32
      vaeDecoder: vaeDecoder({ float: 'float16', closedForm: true, overflowInHalf: true }),
    },
    sdxl: { textEncoder2: sdxlTextEncoder({ index: 1, idsType: 'int64', float: 'float32', vocabSize: VOCAB_SIZE, closedForm: true }), vaeForceUpcast: true },
    pipelineClass: 'ORTStableDiffusionXLPipeline',
  }),
  'closed-form': () => ({
    tokenizer: 'sd15',
    scheduler: DDIM_CLOSED_FORM,
    scalingFactor: 0.5,
    parts: {
      textEncoder: textEncoder({ idsType: 'int32', float: 'float32', vocabSize: VOCAB_SIZE, closedForm: true }),
      unet: closedFormUnet(),
      vaeDecoder: vaeDecoder({ float: 'float32', closedForm: true }),
      safetyChecker: safetyChecker(),
    },
  }),
  // closed-form with the decoder's exact inverse as VAE encoder: img2img and inpainting by blending on a 4-channel UNet.
  'closed-form-edit': () => ({
    tokenizer: 'sd15',
    scheduler: DDIM_CLOSED_FORM,
    scalingFactor: 0.5,
    parts: {
      textEncoder: textEncoder({ idsType: 'int32', float: 'float32', vocabSize: VOCAB_SIZE, closedForm: true }),
      unet: closedFormUnet(),
      vaeDecoder: vaeDecoder({ float: 'float32', closedForm: true }),
      vaeEncoder: vaeEncoder({ float: 'float32', output: 'latent_sample', closedForm: true }),
    },
    imagine: { sampler: 'ddim', steps: 3, guidance: 7.5, width: 64, height: 64 },
  }),
  // The same as an inpainting export (runwayml/stable-diffusion-inpainting's layout): a 9-channel UNet.
  'closed-form-inpaint': () => ({
    tokenizer: 'sd15',
    scheduler: DDIM_CLOSED_FORM,
    scalingFactor: 0.5,
    parts: {
      textEncoder: textEncoder({ idsType: 'int32', float: 'float32', vocabSize: VOCAB_SIZE, closedForm: true }),
      unet: closedFormUnet({ inpainting: true }),
      vaeDecoder: vaeDecoder({ float: 'float32', closedForm: true }),
      vaeEncoder: vaeEncoder({ float: 'float32', output: 'latent_sample', closedForm: true }),
    },
    unetConfig: { in_channels: INPAINT_CHANNELS },
    pipelineClass: 'OnnxStableDiffusionInpaintPipeline',
    imagine: { sampler: 'ddim', steps: 3, guidance: 7.5, width: 64, height: 64 },
  }),
};

/** Write test model `name` into `dir` (the folder itself, not its parent). */
export function writeTestModel(dir: string, name: string): void {
  const make = TEST_MODELS[name];
  if (!make) throw new Error(`unknown test model "${name}"; known: ${Object.keys(TEST_MODELS).join(', ')}`);
  writeFolder(dir, make());
}
