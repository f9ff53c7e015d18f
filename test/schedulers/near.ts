import assert from 'node:assert/strict';

/** |actual - expected| < tol, with both numbers in the failure message. */
export function near(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}
