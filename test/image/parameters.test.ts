import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLER_NAMES } from '../../src/pipeline/schedulers/types.ts';
import {
  formatParameters,
  parseParameters,
  samplerFromA1111,
  samplerToA1111,
  type GenerationParameters,
  type ParsedParameters,
} from '../../src/pipeline/parameters.ts';

const basic: GenerationParameters = {
  prompt: 'a watercolor fox, sunset',
  negativePrompt: 'blurry, lowres',
  steps: 20,
  sampler: 'euler-a',
  guidance: 7.5,
  seed: 1234567890,
  width: 512,
  height: 768,
  model: 'stable-diffusion-v1-5',
  modelHash: 'cc6cb27103',
};

function assertRoundTrip(p: GenerationParameters): ParsedParameters {
  const parsed = parseParameters(formatParameters(p));
  assert.equal(parsed.prompt, p.prompt);
  assert.equal(parsed.negativePrompt, p.negativePrompt ?? '');
  assert.equal(parsed.steps, p.steps);
  assert.equal(parsed.sampler, p.sampler);
  assert.equal(parsed.guidance, p.guidance);
  assert.equal(parsed.seed, p.seed);
  assert.equal(parsed.width, p.width);
  assert.equal(parsed.height, p.height);
  assert.equal(parsed.model, p.model);
  assert.equal(parsed.modelHash, p.modelHash);
  assert.equal(parsed.denoisingStrength, p.denoisingStrength);
  assert.deepEqual(parsed.extra, Object.fromEntries(Object.entries(p.extra ?? {}).map(([k, v]) => [k, String(v)])));
  return parsed;
}

test('writes the exact A1111 layout', () => {
  assert.equal(
    formatParameters(basic),
    'a watercolor fox, sunset\nNegative prompt: blurry, lowres\n' +
      'Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1234567890, Size: 512x768, Model hash: cc6cb27103, Model: stable-diffusion-v1-5',
  );
});

test('no Negative prompt line when it is empty', () => {
  const text = formatParameters({ ...basic, negativePrompt: '' });
  assert.ok(!text.includes('Negative prompt'));
  assert.equal(text.split('\n').length, 2);
  assertRoundTrip({ ...basic, negativePrompt: undefined });
});

test('img2img strength and extra keys round-trip, in order after the known keys', () => {
  const p: GenerationParameters = { ...basic, denoisingStrength: 0.8, extra: { 'Clip skip': 2, Version: 'imagine-bot 0.1.0' } };
  const text = formatParameters(p);
  assert.match(text, /Model: stable-diffusion-v1-5, Denoising strength: 0\.8, Clip skip: 2, Version: imagine-bot 0\.1\.0$/);
  assertRoundTrip(p);
});

test('values with commas, colons, quotes and newlines are JSON-quoted and come back intact', () => {
  const p: GenerationParameters = {
    ...basic,
    model: 'my model, v2: "final"',
    extra: { Note: 'line one\nline two', Lead: '  padded ', Quoted: '"hi"' },
  };
  const text = formatParameters(p);
  assert.ok(text.includes('Model: "my model, v2: \\"final\\""'), text);
  assert.equal(text.split('\n').length, 3, 'a newline inside a value must not break the line structure');
  assertRoundTrip(p);
});

test('multi-line prompts and negative prompts', () => {
  assertRoundTrip({ ...basic, prompt: 'first line\nsecond line, with comma\n\nfourth after a blank', negativePrompt: 'bad\nworse' });
});

test('a prompt that contains "Steps:" pairs is still a prompt', () => {
  const p = { ...basic, prompt: 'Steps: 3, Sampler: DDIM, CFG scale: 1, Seed: 9\nposter text', negativePrompt: 'Steps: 99, Seed: 1, Size: 8x8' };
  const parsed = assertRoundTrip(p);
  assert.equal(parsed.steps, 20);
});

test('unicode prompts round-trip', () => {
  assertRoundTrip({ ...basic, prompt: '富士山と桜, 🌸 ünïcödé — «quotes»', negativePrompt: 'размыто', model: 'モデル' });
});

test('every sampler id maps to an A1111 label and back', () => {
  for (const id of SAMPLER_NAMES) {
    assert.equal(samplerFromA1111(samplerToA1111(id)), id);
    assertRoundTrip({ ...basic, sampler: id });
  }
  assert.equal(samplerToA1111('pndm'), 'PLMS');
  assert.equal(samplerToA1111('dpmpp-2m-karras'), 'DPM++ 2M Karras');
});

test('parses what A1111 >= 1.9 writes: sampler and schedule type apart', () => {
  const text = 'castle\nSteps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 5, Size: 640x448, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.10.1';
  const parsed = parseParameters(text);
  assert.equal(parsed.sampler, 'dpmpp-2m-karras');
  assert.equal(parsed.samplerLabel, 'DPM++ 2M');
  assert.deepEqual(parsed.extra, { Version: 'v1.10.1' });
  assert.equal(parseParameters(text.replace('Karras', 'Automatic')).sampler, 'dpmpp-2m');
  const unknown = parseParameters(text.replace('Karras', 'Exponential'));
  assert.equal(unknown.sampler, undefined);
  assert.equal(unknown.extra['Schedule type'], 'Exponential');
});

test('parses the A1111 docstring example and tolerates CRLF and odd input', () => {
  const parsed = parseParameters(
    "girl with an artist's beret, ((eyeshadow))\r\nNegative prompt: ugly, [blurry]\r\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b\r\n",
  );
  assert.equal(parsed.prompt, "girl with an artist's beret, ((eyeshadow))");
  assert.equal(parsed.negativePrompt, 'ugly, [blurry]');
  assert.equal(parsed.seed, 965400086);
  assert.equal(parsed.modelHash, '45dee52b');
  const justPrompt = parseParameters('only a prompt, no params');
  assert.equal(justPrompt.prompt, 'only a prompt, no params');
  assert.equal(justPrompt.steps, undefined);
  assert.equal(parseParameters('x\nSteps: many, Sampler: Foo, CFG scale: 7').steps, undefined);
  assert.equal(parseParameters('x\nSteps: many, Sampler: Foo, CFG scale: 7').samplerLabel, 'Foo');
});

test('formatting refuses keys that would break the syntax', () => {
  assert.throws(() => formatParameters({ ...basic, extra: { 'Bad: key': 1 } }), /cannot be used as a key/);
  assert.throws(() => formatParameters({ ...basic, extra: { Seed: 1 } }), /built-in key/);
  assert.throws(() => formatParameters({ ...basic, guidance: Number.NaN }), /finite/);
});
