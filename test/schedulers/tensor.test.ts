import assert from 'node:assert/strict';
import { test } from 'node:test';
import { float16Bits, float16ToFloat32, float16Value, float32ToFloat16, linearCombination, meanAbs, scale, sumAbs } from '../../src/pipeline/tensor.ts';

const toHalf = (values: number[]) => Array.from(float32ToFloat16(Float32Array.from(values)));

test('float32 -> float16 bit patterns, including rounding ties, overflow and subnormals', () => {
  assert.deepEqual(toHalf([1, -2, 0.5, 0, -0]), [0x3c00, 0xc000, 0x3800, 0x0000, 0x8000]);
  assert.deepEqual(toHalf([65504, 65519, 65520, 1e6]), [0x7bff, 0x7bff, 0x7c00, 0x7c00]);
  assert.deepEqual(toHalf([0.1, 1 / 3, -0.3]), [0x2e66, 0x3555, 0xb4cd]);
  // ties go to even: 1 + 2^-11 -> 1.0, 1 + 3 * 2^-11 -> 1 + 2^-9
  assert.deepEqual(toHalf([1 + 2 ** -11, 1 + 3 * 2 ** -11]), [0x3c00, 0x3c02]);
  // subnormals: 2^-24 is the smallest, 2^-25 ties to 0, 1.5 * 2^-25 rounds up, 2^-14 is the smallest normal
  assert.deepEqual(toHalf([2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 2 ** -14, 2 ** -14 - 2 ** -24, 1e-10]), [
    0x0001, 0x0000, 0x0001, 0x0400, 0x03ff, 0x0000,
  ]);
  assert.deepEqual(toHalf([Infinity, -Infinity]), [0x7c00, 0xfc00]);
  const nan = toHalf([NaN])[0]!;
  assert.equal(nan & 0x7c00, 0x7c00);
  assert.notEqual(nan & 0x03ff, 0);
});

test('float16 -> float32 decodes normals, subnormals, infinities and NaN exactly', () => {
  const out = float16ToFloat32(Uint16Array.from([0x3c00, 0x3555, 0x0001, 0x03ff, 0x7bff, 0xfc00, 0x7e00, 0x8000]));
  assert.equal(out[0], 1);
  assert.equal(out[1], 0.333251953125);
  assert.equal(out[2], 2 ** -24);
  assert.equal(out[3], 1023 * 2 ** -24);
  assert.equal(out[4], 65504);
  assert.equal(out[5], -Infinity);
  assert.ok(Number.isNaN(out[6]));
  assert.ok(Object.is(out[7], -0));
});

test('every non-NaN half value survives float16 -> float32 -> float16', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const back = float32ToFloat16(float16ToFloat32(all));
  for (let h = 0; h < 65536; h++) {
    const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x03ff) !== 0;
    if (!isNaN) assert.equal(back[h], h, `0x${h.toString(16)}`);
  }
});

test('element-wise helpers', () => {
  const x = Float32Array.from([1, -2, 3]);
  const y = Float32Array.from([0.5, 0.5, -1]);
  assert.equal(sumAbs(x), 6);
  assert.equal(meanAbs(x), 2);
  assert.deepEqual(Array.from(scale(x, 2)), [2, -4, 6]);
  assert.deepEqual(Array.from(linearCombination(1, x, 2, y)), [2, -1, 1]);
  assert.throws(() => linearCombination(1, x, 1, new Float32Array(2)), /length/);
});

test('single values: float16Bits and float16Value round-trip and agree with the array converters', () => {
  for (const v of [0, 1, 0.5, 0.1, 1 / 255, 200 / 255, 65504, -2.5, 6e-8]) {
    const back = float16Value(float16Bits(v));
    assert.ok(Math.abs(back - v) <= Math.abs(v) * 1e-3 + 6e-8, `${v} -> ${back}`);
  }
  assert.equal(float16Bits(1), 0x3c00);
  assert.equal(float16Bits(Number.POSITIVE_INFINITY), 0x7c00);
  const values = [0.1, -3.3, 1e-6, 70000, 2 ** -25 * 3];
  assert.deepEqual(values.map(float16Bits), Array.from(float32ToFloat16(Float32Array.from(values))));
  assert.deepEqual(Array.from(Uint16Array.from([0x3555, 0x0001, 0xfc00]), float16Value), Array.from(float16ToFloat32(Uint16Array.from([0x3555, 0x0001, 0xfc00]))));
});
