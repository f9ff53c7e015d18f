// Generic helpers for flat float tensors: IEEE half-precision conversion (fp16 ONNX models take and return float16
// as raw Uint16 bit patterns; this is the project's one converter, for arrays and single values alike) and the few
// element-wise reductions the samplers and tests need.

let halfToFloatTable: Float32Array | null = null;

/** Every one of the 65536 half bit patterns decoded once; decoding is then a table lookup. */
function halfTable(): Float32Array {
  if (halfToFloatTable) return halfToFloatTable;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      // Zero or subnormal: mantissa * 2^-24, exact in float32.
      table[h] = (sign ? -1 : 1) * mantissa * 2 ** -24;
    } else if (exponent === 0x1f) {
      bits[h] = (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
    } else {
      bits[h] = (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
    }
  }
  halfToFloatTable = table;
  return table;
}

/** One float32 bit pattern to the nearest float16 bit pattern (round half to even; overflow goes to infinity). */
export function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) {
    // Infinity stays infinity; NaN stays a (quiet) NaN with its top payload bits.
    return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0);
  }
  const halfExponent = exponent - 112; // rebias 127 -> 15
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half (or zero): value = m * 2^-24 with m = full significand >> (14 - halfExponent).
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and reaches infinity at the top).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

const scalarFloat = new Float32Array(1);
const scalarBits = new Uint32Array(scalarFloat.buffer);

/** One number to the nearest float16 bit pattern (via float32, as numpy's astype(float16) of a float32 array does). */
export function float16Bits(value: number): number {
  scalarFloat[0] = value;
  return float32BitsToFloat16Bits(scalarBits[0]!);
}

/** One float16 bit pattern to its exact value. */
export function float16Value(bits: number): number {
  return halfTable()[bits & 0xffff]!; // the table covers all 65536 patterns
}

/** float32 array -> float16 bit patterns (round to nearest, ties to even). */
export function float32ToFloat16(src: Float32Array, dst: Uint16Array = new Uint16Array(src.length)): Uint16Array {
  if (dst.length !== src.length) throw new RangeError(`float32ToFloat16: length ${src.length} != ${dst.length}`);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) dst[i] = float32BitsToFloat16Bits(bits[i]!);
  return dst;
}

/** float16 bit patterns -> float32 array (exact). */
export function float16ToFloat32(src: Uint16Array, dst: Float32Array = new Float32Array(src.length)): Float32Array {
  if (dst.length !== src.length) throw new RangeError(`float16ToFloat32: length ${src.length} != ${dst.length}`);
  const table = halfTable();
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]!]!;
  return dst;
}

/** sum(|x|), accumulated in float64. */
export function sumAbs(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]!);
  return s;
}

/** mean(|x|), accumulated in float64. */
export function meanAbs(x: ArrayLike<number>): number {
  return x.length === 0 ? 0 : sumAbs(x) / x.length;
}

/** out = a * x (element-wise, new array unless `out` is given; `out` may be `x`). */
export function scale(x: Float32Array, a: number, out: Float32Array = new Float32Array(x.length)): Float32Array {
  for (let i = 0; i < x.length; i++) out[i] = a * x[i]!;
  return out;
}

/** out = a * x + b * y (element-wise; `out` may alias x or y). */
export function linearCombination(
  a: number,
  x: Float32Array,
  b: number,
  y: Float32Array,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  if (x.length !== y.length) throw new RangeError(`linearCombination: length ${x.length} != ${y.length}`);
  for (let i = 0; i < x.length; i++) out[i] = a * x[i]! + b * y[i]!;
  return out;
}

/** Throws unless the arrays have the same length: schedulers take model output and sample pairwise. */
export function assertSameLength(what: string, a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`${what}: length ${a.length} != ${b.length}`);
}

/** [a; b] as one array (two batch halves stacked). */
export function concatFloat32(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
