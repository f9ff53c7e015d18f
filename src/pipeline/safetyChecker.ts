// The model folder's own safety checker: CLIP preprocessing as feature_extractor/preprocessor_config.json says, then
// one run per image. We only read the verdict (has_nsfw_concepts); what to do with a flagged image is moderation policy.
import sharp from 'sharp';
import type { LoadedSession } from './session.ts';
import { inputSpec, runSession, tensorFor } from './session.ts';
import type { RgbImage } from './types.ts';

export interface ClipPreprocessing {
  shortestEdge: number;
  crop: { width: number; height: number };
  mean: [number, number, number];
  std: [number, number, number];
  rescale: number;
}

const CLIP_DEFAULTS: ClipPreprocessing = {
  shortestEdge: 224,
  crop: { width: 224, height: 224 },
  mean: [0.48145466, 0.4578275, 0.40821073],
  std: [0.26862954, 0.26130258, 0.27577711],
  rescale: 1 / 255,
};

/** Read a CLIPImageProcessor / CLIPFeatureExtractor config (old configs give sizes as bare numbers). */
export function clipPreprocessing(config: Record<string, unknown> | undefined): ClipPreprocessing {
  if (!config) return CLIP_DEFAULTS;
  const size = config.size as number | { shortest_edge?: number; height?: number } | undefined;
  const crop = config.crop_size as number | { height?: number; width?: number } | undefined;
  const shortestEdge = typeof size === 'number' ? size : size?.shortest_edge ?? size?.height ?? CLIP_DEFAULTS.shortestEdge;
  const cropSize = typeof crop === 'number' ? { width: crop, height: crop } : { width: crop?.width ?? shortestEdge, height: crop?.height ?? shortestEdge };
  return {
    shortestEdge,
    crop: cropSize,
    mean: (config.image_mean as [number, number, number]) ?? CLIP_DEFAULTS.mean,
    std: (config.image_std as [number, number, number]) ?? CLIP_DEFAULTS.std,
    rescale: (config.rescale_factor as number) ?? CLIP_DEFAULTS.rescale,
  };
}

/** Resize the shortest edge (bicubic), centre-crop, rescale and normalise into planar [3, h, w]. */
export async function clipPixels(image: RgbImage, prep: ClipPreprocessing): Promise<Float32Array> {
  const scale = prep.shortestEdge / Math.min(image.width, image.height);
  const width = Math.max(prep.crop.width, Math.round(image.width * scale));
  const height = Math.max(prep.crop.height, Math.round(image.height * scale));
  const left = Math.floor((width - prep.crop.width) / 2);
  const top = Math.floor((height - prep.crop.height) / 2);
  const raw = await sharp(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { kernel: 'cubic', fit: 'fill' })
    .extract({ left, top, width: prep.crop.width, height: prep.crop.height })
    .raw()
    .toBuffer();
  const plane = prep.crop.width * prep.crop.height;
  const out = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = (raw[i * 3 + c]! * prep.rescale - prep.mean[c]!) / prep.std[c]!;
  }
  return out;
}

/** True when the checker flags the image. */
export async function isFlagged(checker: LoadedSession, image: RgbImage, prep: ClipPreprocessing): Promise<boolean> {
  const clipSpec = inputSpec(checker, 'clip_input');
  const imagesSpec = inputSpec(checker, 'images');
  const pixels = await clipPixels(image, prep);
  const nhwc = Float32Array.from(image.data, (v) => v / 255);
  const out = await runSession(checker, {
    clip_input: tensorFor(clipSpec.type, pixels, [1, 3, prep.crop.height, prep.crop.width]),
    images: tensorFor(imagesSpec.type, nhwc, [1, image.height, image.width, 3]),
  });
  const lastOutput = checker.session.outputNames.at(-1);
  const verdict = out.has_nsfw_concepts ?? (lastOutput === undefined ? undefined : out[lastOutput]);
  if (!verdict) throw new Error(`${checker.path}: the safety checker returned no has_nsfw_concepts output`);
  return Boolean(Number((verdict.data as ArrayLike<number | boolean | bigint>)[0]));
}
