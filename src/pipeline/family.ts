// Which pipeline family a model folder belongs to, read from the folder itself (never from a user flag):
//   sd    Stable Diffusion 1.x / 2.x, LCM and SD-Turbo: one CLIP text encoder, UNet conditioned on its last hidden state.
//   sdxl  SDXL base, SDXL-Turbo and their fine-tunes: two text encoders (text_encoder + text_encoder_2), the UNet also
//         takes the second encoder's pooled projection (text_embeds) and the size/crop micro-conditioning (time_ids).
// The evidence, any one of which makes a folder SDXL: model_index.json's _class_name (diffusers' and optimum's SDXL
// pipeline classes all contain "StableDiffusionXL"), a text_encoder_2/ sub-folder, unet/config.json's
// addition_embed_type "text_time" (what makes diffusers' UNet take text_embeds/time_ids). The UNet's declared inputs
// are checked against the family when its session is opened (see ./unet.ts and inspectSignatures).

export type ModelFamily = 'sd' | 'sdxl';

export interface FamilyEvidence {
  /** model_index.json's _class_name, when it is a string. */
  pipelineClass?: string;
  /** Whether text_encoder_2/ exists in the folder. */
  hasTextEncoder2: boolean;
  /** unet/config.json's addition_embed_type, when present. */
  unetAdditionEmbedType?: unknown;
}

export function detectFamily(e: FamilyEvidence): { family: ModelFamily; reason: string } {
  if (e.pipelineClass && /StableDiffusionXL/.test(e.pipelineClass)) return { family: 'sdxl', reason: `model_index.json names ${e.pipelineClass}` };
  if (e.hasTextEncoder2) return { family: 'sdxl', reason: 'the folder has text_encoder_2/' };
  if (e.unetAdditionEmbedType === 'text_time') return { family: 'sdxl', reason: 'unet/config.json has addition_embed_type "text_time"' };
  return { family: 'sd', reason: 'one text encoder and no SDXL pipeline class' };
}

/** The UNet inputs that only SDXL UNets declare (optimum's UNetOnnxConfig adds them for addition_embed_type "text_time"). */
export const SDXL_UNET_INPUTS = ['text_embeds', 'time_ids'] as const;
