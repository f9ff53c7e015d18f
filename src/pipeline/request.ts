// The rules of a generation request, defined once: the defaults used when neither the user nor the model's
// imagine.json gives a value. The slash commands, the CLI, the bot and the pipeline all take them from here, so the
// numbers cannot drift apart.
export { SAMPLER_NAMES, type SamplerName } from './schedulers/types.ts';

/** img2img strength when the request names none (diffusers' StableDiffusionImg2ImgPipeline default). */
export const DEFAULT_STRENGTH = 0.8;
/** diffusers' StableDiffusionXLImg2ImgPipeline default strength. */
export const SDXL_DEFAULT_STRENGTH = 0.3;

/** The pipeline's img2img strength for a request that names none: diffusers' default for the model's family. */
export function defaultStrength(family: 'sd' | 'sdxl'): number {
  return family === 'sdxl' ? SDXL_DEFAULT_STRENGTH : DEFAULT_STRENGTH;
}

/** Used when neither the request nor the model's imagine.json gives a value. */
export const FALLBACK_DEFAULTS = { steps: 30, guidance: 7.5, width: 512, height: 512, count: 1, strength: DEFAULT_STRENGTH } as const;
