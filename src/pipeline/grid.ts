// Several results as one picture: 1x2 for two images, 2x2 for three or four (the fourth cell stays background).
import sharp from 'sharp';
import { encodePng, type PngMeta } from './png.ts';
import type { RgbImage } from './types.ts';

export interface GridOptions {
  /** Pixels between cells and around the edge; 0 by default, like A1111's grids. */
  gap?: number;
  background?: { r: number; g: number; b: number };
}

export interface GridLayout {
  columns: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
}

export function gridLayout(images: readonly RgbImage[]): GridLayout {
  if (images.length < 1 || images.length > 4) throw new Error(`a grid holds 1 to 4 images, got ${images.length}`);
  const columns = images.length === 1 ? 1 : 2;
  const rows = images.length <= 2 ? 1 : 2;
  return {
    columns,
    rows,
    cellWidth: Math.max(...images.map((i) => i.width)),
    cellHeight: Math.max(...images.map((i) => i.height)),
  };
}

/** Compose into one RgbImage; images of different sizes are centred in equal cells. */
export async function composeGrid(images: readonly RgbImage[], options: GridOptions = {}): Promise<RgbImage> {
  const layout = gridLayout(images);
  if (images.length === 1) return images[0]!;
  const gap = options.gap ?? 0;
  const width = layout.columns * layout.cellWidth + (layout.columns + 1) * gap;
  const height = layout.rows * layout.cellHeight + (layout.rows + 1) * gap;
  const overlays = images.map((image, i) => {
    if (image.data.length !== image.width * image.height * 3) throw new Error(`grid image ${i} is not ${image.width}x${image.height} RGB`);
    const col = i % layout.columns;
    const row = Math.floor(i / layout.columns);
    return {
      input: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength),
      raw: { width: image.width, height: image.height, channels: 3 as const },
      left: gap + col * (layout.cellWidth + gap) + Math.floor((layout.cellWidth - image.width) / 2),
      top: gap + row * (layout.cellHeight + gap) + Math.floor((layout.cellHeight - image.height) / 2),
    };
  });
  const { data, info } = await sharp({ create: { width, height, channels: 3, background: options.background ?? { r: 0, g: 0, b: 0 } } })
    .composite(overlays)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`grid came out with ${info.channels} channels`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

/** The grid as a PNG carrying `meta` (usually the first image's parameters, as A1111 does for grids). */
export async function encodeGridPng(images: readonly RgbImage[], meta: PngMeta, options: GridOptions = {}): Promise<Buffer> {
  return encodePng(await composeGrid(images, options), meta);
}
