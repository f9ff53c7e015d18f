import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildParams, MAX_PROMPT_LENGTH, MAX_SEED, RequestError, uploadLimitOf, type Limits, type ModelDefaults, type RequestOptions } from '../../src/discord/requests.ts';
import type { Config } from '../../src/config.ts';

const defaults: ModelDefaults = { sampler: 'pndm', steps: 30, guidance: 7.5, width: 512, height: 512 };
const limits: Limits = { maxSteps: 50, maxPixels: 1024 * 1024, maxImagesPerJob: 4 };
const base = { action: 'imagine' as const, channel: { ageRestricted: false, uploadLimit: 10 << 20 } };

function build(options: Partial<RequestOptions>, custom: Partial<Limits> = {}) {
  return buildParams({ prompt: 'a cat', ...options }, defaults, { ...limits, ...custom }, base);
}

function refused(options: Partial<RequestOptions>, pattern: RegExp, custom: Partial<Limits> = {}) {
  assert.throws(() => build(options, custom), (err: unknown) => err instanceof RequestError && pattern.test(err.message), JSON.stringify(options));
}

test('fills in the model defaults and a random seed', () => {
  const params = build({});
  assert.equal(params.kind, 'txt2img');
  assert.equal(params.prompt, 'a cat');
  assert.equal(params.negativePrompt, '');
  assert.deepEqual([params.steps, params.guidance, params.sampler, params.width, params.height, params.count], [30, 7.5, 'pndm', 512, 512, 1]);
  assert.ok(Number.isInteger(params.seed) && params.seed >= 0 && params.seed <= MAX_SEED);
  assert.equal(params.strength, undefined);
  const seeds = new Set(Array.from({ length: 20 }, () => build({}).seed));
  assert.ok(seeds.size > 1, 'seeds vary');
});

test('keeps what the user chose, trimmed', () => {
  const params = build({ prompt: '  a dog  ', negative: ' blurry ', seed: 0, steps: 50, guidance: 0, sampler: 'euler-a', width: 768, height: 512, count: 4 });
  assert.deepEqual(
    [params.prompt, params.negativePrompt, params.seed, params.steps, params.guidance, params.sampler, params.width, params.height, params.count],
    ['a dog', 'blurry', 0, 50, 0, 'euler-a', 768, 512, 4],
  );
  assert.equal(build({ seed: MAX_SEED }).seed, MAX_SEED);
});

test('the default steps never exceed a server’s lower limit', () => {
  assert.equal(build({}, { maxSteps: 20 }).steps, 20);
});

test('refuses values over the limits', () => {
  refused({ steps: 51 }, /steps must be from 1 to 50/);
  refused({ steps: 21 }, /steps must be from 1 to 20/, { maxSteps: 20 });
  refused({ count: 5 }, /count/);
  refused({ count: 3 }, /count must be from 1 to 2/, { maxImagesPerJob: 2 });
  refused({ width: 2048, height: 1024 }, /pixels/);
  refused({ width: 640, height: 640 }, /at most 262144/, { maxPixels: 512 * 512 });
  refused({ width: 4096 }, /width must be from 64 to 2048/);
  refused({ seed: MAX_SEED + 1 }, /seed/);
  refused({ prompt: 'x'.repeat(MAX_PROMPT_LENGTH + 1) }, /limit is 1500/);
  refused({ negative: 'x'.repeat(MAX_PROMPT_LENGTH + 1) }, /negative prompt/);
});

test('refuses NaN, infinities, negatives and non-integers (options can be crafted)', () => {
  refused({ steps: Number.NaN }, /steps must be a whole number/);
  refused({ steps: 4.5 }, /steps must be a whole number/);
  refused({ seed: -1 }, /seed must be from 0/);
  refused({ seed: 1.25 }, /seed must be a whole number/);
  refused({ seed: Number.POSITIVE_INFINITY }, /seed must be a whole number/);
  refused({ width: -512 }, /width/);
  refused({ height: 512.5 }, /height must be a whole number/);
  refused({ count: 0 }, /count/);
  refused({ count: Number.NaN }, /count/);
  refused({ guidance: Number.NaN }, /guidance/);
  refused({ guidance: -1 }, /guidance/);
  refused({ guidance: 31 }, /guidance/);
  refused({ strength: 0 }, /strength/);
  refused({ strength: -0.2 }, /strength/);
  refused({ strength: 1.01 }, /strength/);
  refused({ strength: Number.NaN }, /strength/);
});

test('sizes must be multiples of 8, with a suggestion', () => {
  refused({ width: 500 }, /width must be a multiple of 8; got 500 \(try 512\)/);
  refused({ height: 100 }, /height must be a multiple of 8/);
  assert.equal(build({ width: 520, height: 264 }).width, 520, 'multiples of 8 are fine');
});

test('refuses empty prompts and unknown samplers', () => {
  refused({ prompt: '' }, /empty/);
  refused({ prompt: '   \n ' }, /empty/);
  refused({ sampler: 'k_lms' }, /Unknown sampler "k_lms"/);
});

test('img2img gets a strength (0.8 unless chosen); txt2img only when asked', () => {
  const img = buildParams({ prompt: 'a cat' }, defaults, limits, { ...base, kind: 'img2img' });
  assert.equal(img.kind, 'img2img');
  assert.equal(img.strength, 0.8);
  assert.equal(buildParams({ prompt: 'a cat', strength: 0.3 }, defaults, limits, { ...base, kind: 'img2img' }).strength, 0.3);
  assert.equal(build({ strength: 1 }).strength, 1);
});

test('uploadLimitOf uses the interaction’s attachment_size_limit, else 10 MiB', () => {
  const config = {} as Config;
  assert.equal(uploadLimitOf({ attachmentSizeLimit: 25 * 1024 * 1024 }, config), 25 * 1024 * 1024);
  assert.equal(uploadLimitOf({}, config), 10 * 1024 * 1024);
  assert.equal(uploadLimitOf(undefined, config), 10 * 1024 * 1024);
  assert.equal(uploadLimitOf({ attachmentSizeLimit: 0 }, config), 10 * 1024 * 1024);
});
