// The handful of numpy/torch array routines diffusers builds its schedules from, reproduced with their exact
// rounding behaviour (numpy rounds half to even; arange/linspace have specific fill formulas), so that timestep
// lists come out identical to diffusers' rather than off by one where a value lands on .5.

const f32 = Math.fround;

/** numpy.round / numpy.rint for one value: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; undo that when it landed on an odd integer from an exact half.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy.linspace(start, stop, num, endpoint): y[i] = i * (stop - start) / div + start, last = stop exactly. */
export function linspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const div = endpoint ? num - 1 : num;
  const delta = stop - start;
  const out = new Array<number>(num);
  const step = div > 0 ? delta / div : Number.NaN;
  for (let i = 0; i < num; i++) out[i] = div > 0 ? (step === 0 ? (i / div) * delta : i * step) + start : i * delta + start;
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/**
 * numpy.arange(start, stop, step) for floats: length ceil((stop - start) / step); numpy fills it as
 * start + i * d with d = (start + step) - start, which can differ from `step` in the last bit.
 */
export function arange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const out = new Array<number>(length);
  if (length === 0) return out;
  out[0] = start;
  if (length === 1) return out;
  const d = start + step - start;
  for (let i = 1; i < length; i++) out[i] = start + i * d;
  return out;
}

/** numpy.interp(x, arange(len(fp)), fp) for one x: linear interpolation on unit-spaced knots, clamped at the ends. */
export function interpUnit(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  // 0 < x < last here, so j and j + 1 are both knots.
  const j = Math.floor(x);
  const slope = fp[j + 1]! - fp[j]!;
  return slope * (x - j) + fp[j]!;
}

/** torch.linspace(start, end, steps, dtype=float32) on CPU: float32 arithmetic, filled from both ends. */
export function torchLinspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f32(start);
  const e = f32(end);
  const step = f32(f32(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f32(s + f32(step * i)) : f32(e - f32(step * (steps - i - 1)));
  }
  return out;
}
