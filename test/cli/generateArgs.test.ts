// The argument parser alone (no process spawned): typed values, A1111 sampler labels, output naming.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { outputPaths, parseGenerateArgs, UsageError } from '../../src/cli/generateArgs.ts';
import { PROVIDER_NAMES } from '../../src/config.ts';

const required = ['--model', 'm', '--prompt', 'p', '--out', 'o.png'];

describe('parseGenerateArgs', () => {
  test('defaults and typed values', () => {
    const parsed = parseGenerateArgs([...required, '--seed', '12', '--guidance', '6.5', '--attention-slicing', '4', '--low-memory', '--threads', '2']);
    assert.equal(parsed.kind, 'run');
    if (parsed.kind !== 'run') return;
    const a = parsed.args;
    assert.deepEqual([a.model, a.prompt, a.out, a.seed, a.guidance, a.attentionSlicing, a.lowMemory, a.threads], ['m', 'p', 'o.png', 12, 6.5, 4, true, 2]);
    assert.deepEqual([a.count, a.provider, a.steps, a.sampler, a.strength, a.verbose], [1, 'cpu', undefined, undefined, undefined, false]);
  });

  test("sampler ids and A1111's labels", () => {
    const sampler = (s: string) => {
      const p = parseGenerateArgs([...required, '--sampler', s]);
      return p.kind === 'run' ? p.args.sampler : undefined;
    };
    assert.equal(sampler('euler-a'), 'euler-a');
    assert.equal(sampler('Euler a'), 'euler-a');
    assert.equal(sampler('DPM++ 2M Karras'), 'dpmpp-2m-karras');
    assert.equal(sampler('PLMS'), 'pndm');
    assert.throws(() => sampler('heun'), UsageError);
  });

  test('--provider takes every provider PROVIDER takes', () => {
    assert.ok(PROVIDER_NAMES.length >= 5);
    for (const name of PROVIDER_NAMES) {
      const p = parseGenerateArgs([...required, '--provider', name]);
      assert.equal(p.kind === 'run' ? p.args.provider : undefined, name);
    }
  });

  test('syntax errors are UsageErrors with one line', () => {
    for (const bad of [['--steps', '1e3'], ['--guidance', ''], ['--guidance', '0x10'], ['--width', '64px'], ['--attention-slicing', '0'], ['--threads', '0']]) {
      assert.throws(() => parseGenerateArgs([...required, ...bad]), (err: unknown) => err instanceof UsageError && !err.message.includes('\n'), bad.join(' '));
    }
  });
});

test('outputPaths: one file as given, several numbered from 1', () => {
  assert.deepEqual(outputPaths('out/cat.png', 1), ['out/cat.png']);
  assert.deepEqual(outputPaths('out/cat.png', 3), ['out/cat-1.png', 'out/cat-2.png', 'out/cat-3.png']);
  assert.deepEqual(outputPaths('CAT.PNG', 2), ['CAT-1.PNG', 'CAT-2.PNG']);
});
