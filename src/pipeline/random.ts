// A seeded standard-normal generator that reproduces PyTorch's CPU generator, so that a seed gives the same initial
// latents (and the same per-step noise for ancestral/LCM samplers) as diffusers run on CPU, on every machine.
//
// What torch does (ATen: core/MT19937RNGEngine.h, CPUGeneratorImpl, core/DistributionsHelper.h,
// core/TransformationHelper.h, native/cpu/DistributionTemplates.h):
// - The engine is a 32-bit Mersenne Twister (mt19937). `manual_seed(seed)` takes a 64-bit seed but only its low
//   32 bits initialise the state (init_genrand). Seeding also drops the cached Box-Muller value.
// - A float32 uniform in [0, 1) uses one 32-bit draw: (draw & (2^24 - 1)) * 2^-24.
//   A float64 uniform uses a 64-bit draw made of two 32-bit draws (first = high word), keeping its low 53 bits.
// - `randn` on a contiguous float32 tensor with numel >= 16 goes through `normal_fill`: first one float uniform per
//   element, then Box-Muller over blocks of 16, pairing element j with j + 8 (u1 = 1 - data[j] so the log sees
//   (0, 1]); if numel is not a multiple of 16, the last 16 elements are refilled with 16 fresh uniforms and redone.
// - With numel < 16 each element comes from `normal_distribution<double>`: two float64 uniforms u1, u2,
//   r = sqrt(-2 log(1 - u2)), theta = 2 pi u1; it returns r cos(theta) and caches r sin(theta) in the generator,
//   which the next scalar normal draw (even in a later call) returns first.
// Box-Muller here is evaluated in float64 and rounded once to float32; torch's float32 (or AVX2) evaluation differs
// from that by at most a couple of float32 ulps, far below anything a diffusion model can notice.
import type { NoiseSource } from './schedulers/types.ts';

const STATE_SIZE = 624;
const SHIFT_SIZE = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const TWO_POW_M24 = 2 ** -24;
const TWO_POW_M53 = 2 ** -53;
const TWO_POW_32 = 2 ** 32;
const TWO_PI = 2 * Math.PI;

/** 32-bit Mersenne Twister, state and output identical to at::mt19937 (and std::mt19937). */
export class Mt19937 {
  private readonly state = new Uint32Array(STATE_SIZE);
  private index = STATE_SIZE;

  constructor(seed32: number) {
    const s = this.state;
    s[0] = seed32 >>> 0;
    for (let i = 1; i < STATE_SIZE; i++) {
      const prev = s[i - 1]! ^ (s[i - 1]! >>> 30);
      s[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = STATE_SIZE;
  }

  /** The next 32-bit output, as an unsigned number. */
  nextUint32(): number {
    if (this.index >= STATE_SIZE) this.twist();
    let y = this.state[this.index++]!; // twist() above keeps index < STATE_SIZE
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < STATE_SIZE; i++) {
      const y = (s[i]! & UPPER_MASK) | (s[(i + 1) % STATE_SIZE]! & LOWER_MASK);
      let v = s[(i + SHIFT_SIZE) % STATE_SIZE]! ^ (y >>> 1);
      if (y & 1) v ^= MATRIX_A;
      s[i] = v >>> 0;
    }
    this.index = 0;
  }
}

/** The low 32 bits of a seed that torch reads as uint64 (negative values wrap modulo 2^64, as a C++ cast would). */
function low32(seed: number | bigint): number {
  if (typeof seed === 'bigint') return Number(BigInt.asUintN(32, seed));
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  return Number(BigInt.asUintN(32, BigInt(seed)));
}

/**
 * torch.Generator().manual_seed(seed) on CPU, with torch.randn(..., dtype=float32) semantics.
 * Successive `randn` calls continue the stream exactly as successive torch.randn calls on one generator do.
 */
export class TorchGenerator implements NoiseSource {
  private readonly engine: Mt19937;
  /** Box-Muller's second value, kept between scalar draws like CPUGeneratorImpl::next_double_normal_sample. */
  private cachedNormal: number | null = null;

  constructor(seed: number | bigint) {
    this.engine = new Mt19937(low32(seed));
  }

  /** A float32 uniform in [0, 1) from one 32-bit draw (24 random mantissa bits). */
  uniformFloat32(): number {
    return (this.engine.nextUint32() & 0xffffff) * TWO_POW_M24;
  }

  /** A float64 uniform in [0, 1) from the low 53 bits of a 64-bit draw (first 32-bit draw is the high word). */
  uniformFloat64(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    return ((hi & 0x1fffff) * TWO_POW_32 + lo) * TWO_POW_M53;
  }

  /** `count` standard-normal float32 values, as torch.randn(count) (or any shape with that numel) would give. */
  randn(count: number): Float32Array {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`randn count must be a non-negative integer, got ${count}`);
    const out = new Float32Array(count);
    if (count >= 16) this.fillBlocked(out);
    else for (let i = 0; i < count; i++) out[i] = this.scalarNormal();
    return out;
  }

  private fillBlocked(data: Float32Array): void {
    const n = data.length;
    for (let i = 0; i < n; i++) data[i] = this.uniformFloat32();
    for (let i = 0; i + 16 <= n; i += 16) boxMuller16(data, i);
    if (n % 16 !== 0) {
      const start = n - 16;
      for (let i = 0; i < 16; i++) data[start + i] = this.uniformFloat32();
      boxMuller16(data, start);
    }
  }

  private scalarNormal(): number {
    if (this.cachedNormal !== null) {
      const cached = this.cachedNormal;
      this.cachedNormal = null;
      return cached;
    }
    const u1 = this.uniformFloat64();
    const u2 = this.uniformFloat64();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = TWO_PI * u1;
    this.cachedNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

/** In place: 16 uniforms at data[at..at+16) become 16 normals (element j pairs with j + 8). */
function boxMuller16(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = 1 - data[at + j]!;
    const u2 = data[at + j + 8]!;
    const radius = Math.sqrt(-2 * Math.log(u1));
    const theta = TWO_PI * u2;
    data[at + j] = radius * Math.cos(theta);
    data[at + j + 8] = radius * Math.sin(theta);
  }
}

/** Each image draws from its own generator, so a batch of 4 gives the same images as 4 single runs of seed..seed+3. */
export function perImageNoise(generators: TorchGenerator[], perImage: number): NoiseSource {
  return {
    randn(n: number): Float32Array {
      const per = n / generators.length;
      if (!Number.isInteger(per) || per !== perImage) {
        // A scheduler asking for an unexpected amount: fall back to the first generator rather than misalign.
        const first = generators[0];
        if (!first) throw new Error('no noise generators for this batch');
        return first.randn(n);
      }
      const out = new Float32Array(n);
      generators.forEach((g, i) => out.set(g.randn(per), i * per));
      return out;
    },
  };
}
