// Vary (Region) without a drawing surface: the picture is cut into a grid of numbered cells and the chosen cells are
// the mask. Cells are numbered 1..grid² row by row from the top left; a set of cells is a bit set (bit n-1 = cell n).
import type { MaskImage } from '../types.ts';

/** Pixel bounds of cell `n` (1-based) of a grid x grid split of width x height; x2/y2 exclusive. */
export function cellBounds(n: number, grid: number, width: number, height: number): { x1: number; y1: number; x2: number; y2: number } {
  const row = Math.floor((n - 1) / grid);
  const col = (n - 1) % grid;
  return { x1: Math.floor((col * width) / grid), y1: Math.floor((row * height) / grid), x2: Math.floor(((col + 1) * width) / grid), y2: Math.floor(((row + 1) * height) / grid) };
}

export function cellsFromNumbers(numbers: readonly number[], grid: number): number {
  let bits = 0;
  for (const n of numbers) {
    if (!Number.isInteger(n) || n < 1 || n > grid * grid) throw new RangeError(`cell ${n} is not on a ${grid}x${grid} grid`);
    bits |= 1 << (n - 1);
  }
  return bits;
}

export function numbersFromCells(bits: number, grid: number): number[] {
  return Array.from({ length: grid * grid }, (_, i) => i + 1).filter((n) => bits & (1 << (n - 1)));
}

/** White over the chosen cells, black elsewhere (the pipeline's mask blur softens the edges). */
export function cellMask(bits: number, grid: number, width: number, height: number): MaskImage {
  const data = new Uint8Array(width * height);
  for (const n of numbersFromCells(bits, grid)) {
    const b = cellBounds(n, grid, width, height);
    for (let y = b.y1; y < b.y2; y++) data.fill(255, y * width + b.x1, y * width + b.x2);
  }
  return { data, width, height };
}

/** The blur that softens a region mask: an eighth of a cell's short side, at least 2 pixels. */
export function regionBlur(grid: number, width: number, height: number): number {
  return Math.max(2, Math.round(Math.min(width, height) / grid / 8));
}
