import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mt19937, TorchGenerator } from '../../src/pipeline/random.ts';

/** Published torch outputs (CPU generator): |ours - torch| must stay below 1e-6 (2e-6 for the 4-decimal ones). */
function close(actual: Float32Array, expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

test('mt19937 matches the reference generator (default seed 5489 -> 3499211612)', () => {
  const mt = new Mt19937(5489);
  assert.equal(mt.nextUint32(), 3499211612);
  // The 10000th output of std::mt19937 with the default seed (C++11 [rand.predef]).
  const ref = new Mt19937(5489);
  let v = 0;
  for (let i = 0; i < 10000; i++) v = ref.nextUint32();
  assert.equal(v, 4123659995);
});

test('torch.manual_seed(0); torch.randn(4, 4) (blocked Box-Muller path)', () => {
  close(new TorchGenerator(0).randn(16), [
    -1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152, 0.3223, -1.2633, 0.35, 0.3081, 0.1198,
    1.2377, 1.1168, -0.2473,
  ], 5e-5, 'seed 0');
});

test('torch.manual_seed(0); torch.randn(5) (scalar path with cached second value)', () => {
  close(new TorchGenerator(0).randn(5), [1.541, -0.2934, -2.1788, 0.5684, -1.0845], 5e-5, 'seed 0 scalar');
});

test('torch.manual_seed(42) float32 randn 16 / 17 / 32 and scalar draws', () => {
  const first16 = [
    1.9269150496, 1.4872841835, 0.9007171988, -2.1055214405, 0.6784184575, -1.2345449924, -0.0430674814,
    -1.6046669483, -0.7521361709, 1.648722887, -0.3924786448, -1.4036067724, -0.7278812528, -0.559429884,
    -0.7688389421, 0.7624453902,
  ];
  close(new TorchGenerator(42).randn(16), first16, 1e-6, 'randn(16)');
  close(new TorchGenerator(42).randn(32), [
    ...first16, 1.6423169374, -0.1595973223, -0.4973974824, 0.4395892322, -0.7581311464, 1.0783176422,
    0.8008005023, 1.6806205511, 1.2791243792, 1.2964228392, 0.6104664803, 1.3347377777, -0.2316243201,
    0.041759491, -0.2515752614, 0.8598585129,
  ], 1e-6, 'randn(32)');
  // 17 is not a multiple of 16: the last 16 elements are redrawn from 16 fresh uniforms.
  close(new TorchGenerator(42).randn(17), [
    1.9269150496, -0.1595973223, -0.4973974824, 0.4395892322, -0.7581311464, 1.0783176422, 0.8008005023,
    1.6806205511, 0.3558597863, 1.2964228392, 0.6104664803, 1.3347377777, -0.2316243201, 0.041759491,
    -0.2515752614, 0.8598585129, -0.3097269237,
  ], 1e-6, 'randn(17)');
  // One scalar at a time: the cached Box-Muller value carries over between calls.
  const g = new TorchGenerator(42);
  const scalars = Array.from({ length: 8 }, () => g.randn(1)[0]);
  close(Float32Array.from(scalars), [
    0.3366903544, 0.1288094051, 0.2344623634, 0.2303330279, -1.1228563767, -0.1863282993, 2.2082013356,
    -0.6379970568,
  ], 1e-6, 'scalar draws');
});

test('torch.manual_seed(0); torch.randn(32) and torch.manual_seed(0); torch.rand(10)', () => {
  close(new TorchGenerator(0).randn(32), [
    -1.1258398294, -1.1523602009, -0.2505785823, -0.433878839, 0.8487103581, 0.6920092106, -0.3160127699,
    -2.115219593, 0.3222749233, -1.2633347511, 0.3499831855, 0.3081339002, 0.1198415086, 1.2376579046,
    1.1167771816, -0.2472776473, -1.3526537418, -1.6959313154, 0.5666505098, 0.7935084105, 0.5988394618,
    -1.5550950766, -0.3413603008, 1.8530061245, 0.7501894236, -0.5854971409, -0.1733970195, 0.1834779233,
    1.3893661499, 1.5863343477, 0.9462983608, -0.8436768055,
  ], 1e-6, 'randn(32)');
  const g = new TorchGenerator(0);
  const u = Float32Array.from({ length: 10 }, () => g.uniformFloat32());
  close(u, [0.4963, 0.7682, 0.0885, 0.132, 0.3074, 0.6341, 0.4901, 0.8964, 0.4556, 0.6323], 5e-5, 'rand(10)');
});

test('successive randn calls continue the stream like one larger call (multiples of 16)', () => {
  const whole = new TorchGenerator(7).randn(64);
  const parts = new TorchGenerator(7);
  const joined = [...parts.randn(32), ...parts.randn(16), ...parts.randn(16)];
  assert.deepEqual(joined, Array.from(whole));
});

test('seeds: only the low 32 bits count, bigint and number agree, bad seeds throw', () => {
  const a = new TorchGenerator(5).randn(16);
  assert.deepEqual(new TorchGenerator(2 ** 32 + 5).randn(16), a);
  assert.deepEqual(new TorchGenerator(5n).randn(16), a);
  assert.notDeepEqual(new TorchGenerator(6).randn(16), a);
  assert.throws(() => new TorchGenerator(1.5), /safe integer/);
  assert.throws(() => new TorchGenerator(0).randn(-1), /non-negative/);
  assert.equal(new TorchGenerator(0).randn(0).length, 0);
});
