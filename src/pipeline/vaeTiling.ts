// Tiled VAE decode and encode, as diffusers' AutoencoderKL does after enable_vae_tiling(): the input is cut into
// overlapping square tiles (a quarter of a tile of overlap), each tile runs through the network on its own, and each
// tile's top and left edges are blended linearly into the neighbour above and to the left over a quarter of the output
// tile before the tiles are cropped and joined. The peak memory is one tile's activations instead of the whole image's.
//
// diffusers (autoencoder_kl.py): tile_sample_min_size = config.sample_size, tile_latent_min_size = sample_size / 8,
// tile_overlap_factor = 0.25; tiled_decode steps over the latents by int(tile_latent * 0.75), blends over
// int(tile_sample * 0.25) pixels and keeps tile_sample - blend pixels of each tile; _tiled_encode mirrors it with the
// roles swapped. blend_v/blend_h write into the lower/right tile in place, so later blends see already-blended tiles.
// Tiling starts when either side of the input is larger than one tile.

/** One image as planar float data [channels, height, width] (the batch is always 1 here). */
export interface Planar {
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

export interface TileGeometry {
  /** Input tile side (latents for decode, pixels for encode). */
  tileIn: number;
  /** Output tile side for a full input tile. */
  tileOut: number;
  /** Fraction of a tile shared with the neighbour (diffusers: 0.25). */
  overlap: number;
}

export const TILE_OVERLAP = 0.25;

/** Decode geometry for a VAE whose config.sample_size is `sampleSize` pixels (latents are 8x smaller). */
export function decodeGeometry(sampleSize: number, scale = 8): TileGeometry {
  return { tileIn: Math.floor(sampleSize / scale), tileOut: sampleSize, overlap: TILE_OVERLAP };
}

export function encodeGeometry(sampleSize: number, scale = 8): TileGeometry {
  return { tileIn: sampleSize, tileOut: Math.floor(sampleSize / scale), overlap: TILE_OVERLAP };
}

/** SD 1.x's AutoencoderKL sample_size, used when the folder's VAE config does not say. */
export const DEFAULT_VAE_SAMPLE_SIZE = 512;

/** Decode and encode geometry for a tiling setting ('auto' | 'off' | tile side in pixels); undefined: never tile. */
export function tilingFor(setting: 'auto' | 'off' | number | undefined, vaeSampleSize: number | undefined): { decode: TileGeometry; encode: TileGeometry } | undefined {
  if (setting === 'off') return undefined;
  const side = typeof setting === 'number' ? setting : (vaeSampleSize ?? DEFAULT_VAE_SAMPLE_SIZE);
  if (!Number.isInteger(side) || side < 64 || side % 64 !== 0) throw new RangeError(`VAE tile size must be a multiple of 64 pixels, at least 64; got ${side}`);
  return { decode: decodeGeometry(side), encode: encodeGeometry(side) };
}

/** Whether diffusers would tile this input: either side larger than one input tile. */
export function needsTiling(height: number, width: number, g: TileGeometry): boolean {
  return height > g.tileIn || width > g.tileIn;
}

/** A rectangle of `img` (clamped to its bounds), as its own planar image. */
export function crop(img: Planar, y0: number, x0: number, h: number, w: number): Planar {
  const height = Math.max(0, Math.min(h, img.height - y0));
  const width = Math.max(0, Math.min(w, img.width - x0));
  const data = new Float32Array(img.channels * height * width);
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < height; y++) {
      const from = c * img.height * img.width + (y0 + y) * img.width + x0;
      data.set(img.data.subarray(from, from + width), (c * height + y) * width);
    }
  }
  return { data, channels: img.channels, height, width };
}

/** diffusers' blend_v: b's first rows fade in from a's last rows (in place on b). */
export function blendV(a: Planar, b: Planar, extent: number): void {
  const e = Math.min(a.height, b.height, extent);
  const w = b.width;
  for (let c = 0; c < b.channels; c++) {
    for (let y = 0; y < e; y++) {
      const t = y / e;
      const rowA = c * a.height * a.width + (a.height - e + y) * a.width;
      const rowB = c * b.height * w + y * w;
      for (let x = 0; x < w; x++) b.data[rowB + x] = a.data[rowA + x]! * (1 - t) + b.data[rowB + x]! * t;
    }
  }
}

/** diffusers' blend_h: b's first columns fade in from a's last columns (in place on b). */
export function blendH(a: Planar, b: Planar, extent: number): void {
  const e = Math.min(a.width, b.width, extent);
  for (let c = 0; c < b.channels; c++) {
    for (let y = 0; y < b.height; y++) {
      const rowA = c * a.height * a.width + y * a.width + a.width - e;
      const rowB = c * b.height * b.width + y * b.width;
      for (let x = 0; x < e; x++) {
        const t = x / e;
        b.data[rowB + x] = a.data[rowA + x]! * (1 - t) + b.data[rowB + x]! * t;
      }
    }
  }
}

/** Start offsets of the tiles along one side: range(0, size, stride). */
export function tileStarts(size: number, stride: number): number[] {
  const starts: number[] = [];
  for (let s = 0; s < size; s += stride) starts.push(s);
  return starts;
}

/** Run `network` tile by tile over `input` and join the outputs with diffusers' blending. */
export async function runTiled(input: Planar, g: TileGeometry, network: (tile: Planar) => Promise<Planar>): Promise<Planar> {
  const stride = Math.floor(g.tileIn * (1 - g.overlap));
  const blend = Math.floor(g.tileOut * g.overlap);
  const keep = g.tileOut - blend;
  if (stride < 1 || keep < 1) throw new RangeError(`VAE tile of ${g.tileIn} is too small to tile`);
  const rows: Planar[][] = [];
  for (const y of tileStarts(input.height, stride)) {
    const row: Planar[] = [];
    for (const x of tileStarts(input.width, stride)) row.push(await network(crop(input, y, x, g.tileIn, g.tileIn)));
    rows.push(row);
  }
  const kept: Planar[][] = rows.map((row, i) =>
    row.map((tile, j) => {
      const above = rows[i - 1]?.[j];
      const left = row[j - 1];
      if (above) blendV(above, tile, blend);
      if (left) blendH(left, tile, blend);
      return crop(tile, 0, 0, keep, keep);
    }),
  );
  const firstRow = kept[0];
  const firstTile = firstRow?.[0];
  if (!firstRow || !firstTile) throw new RangeError(`VAE tiling: no tiles for a ${input.width}x${input.height} input`);
  const channels = firstTile.channels;
  const width = firstRow.reduce((sum, t) => sum + t.width, 0);
  const height = kept.reduce((sum, row) => sum + (row[0]?.height ?? 0), 0);
  const data = new Float32Array(channels * height * width);
  let y0 = 0;
  for (const row of kept) {
    let x0 = 0;
    for (const t of row) {
      for (let c = 0; c < channels; c++) {
        for (let y = 0; y < t.height; y++) {
          const from = (c * t.height + y) * t.width;
          data.set(t.data.subarray(from, from + t.width), c * height * width + (y0 + y) * width + x0);
        }
      }
      x0 += t.width;
    }
    y0 += row[0]?.height ?? 0;
  }
  return { data, channels, height, width };
}
