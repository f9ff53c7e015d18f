// One rule per request field: the schema in src/pipeline/request.ts is the only place a range or a default is
// written. These tests read the rule back from every place that shows or enforces it (the slash command, the bot's
// request builder, the pipeline, the CLI's help, imagine.json, the configuration) and fail if any of them drifts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { APIApplicationCommandBasicOption } from 'discord.js';
import { imagine } from '../../src/commands/imagine.ts';
import { mod } from '../../src/commands/mod.ts';
import { buildParams, RequestError, type Limits, type ModelDefaults } from '../../src/discord/requests.ts';
import { InvalidRequestError, validateRequest } from '../../src/pipeline/pipeline.ts';
import { FALLBACK_DEFAULTS, MAX_PROMPT_LENGTH, rangeOf, REQUEST_RULES, SAMPLER_NAMES, type RequestField } from '../../src/pipeline/request.ts';
import { imagineDefaultsSchema } from '../../src/pipeline/modelFolder.ts';
import { loadConfig } from '../../src/config.ts';
import { parseGenerateArgs } from '../../src/cli/generateArgs.ts';
import { request } from './helpers.ts';

const options = (imagine.data as { options: APIApplicationCommandBasicOption[] }).options;
const option = (name: string) => options.find((o) => o.name === name) as APIApplicationCommandBasicOption & { min_value?: number; max_value?: number; max_length?: number; choices?: { value: string }[] };

test('/imagine: every numeric option’s min and max are the schema’s range; the prompt length and samplers too', () => {
  for (const field of ['seed', 'steps', 'guidance', 'width', 'height', 'count', 'strength'] as const) {
    const o = option(field);
    assert.deepEqual({ min: o.min_value, max: o.max_value }, rangeOf(field), field);
  }
  assert.equal(option('prompt').max_length, MAX_PROMPT_LENGTH);
  assert.equal(option('negative').max_length, REQUEST_RULES.negativePrompt.maxLength);
  assert.deepEqual(option('sampler').choices?.map((c) => c.value), [...SAMPLER_NAMES]);
});

test('/mod limits cannot be set above what a request may ask for', () => {
  const limits = (mod.data as { options: { name: string; options?: { name: string; max_value?: number }[] }[] }).options.find((o) => o.name === 'limits')!.options!;
  assert.equal(limits.find((o) => o.name === 'max_steps')?.max_value, rangeOf('steps').max);
  assert.equal(limits.find((o) => o.name === 'max_images')?.max_value, rangeOf('count').max);
});

// The bot with limits as wide as the schema: it must then accept and refuse exactly what the pipeline does.
const wide: Limits = { maxSteps: rangeOf('steps').max, maxPixels: rangeOf('width').max * rangeOf('height').max, maxImagesPerJob: rangeOf('count').max };
const defaults: ModelDefaults = { sampler: 'pndm', steps: 4, guidance: 7.5, width: 64, height: 64 };
const base = { action: 'imagine' as const, channel: { ageRestricted: false, uploadLimit: 8 << 20 } };

function botVerdict(field: RequestField, value: number): string {
  try {
    buildParams({ prompt: 'a cat', [field]: value }, defaults, wide, { ...base, kind: field === 'strength' ? 'img2img' : 'txt2img' });
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof RequestError, String(err));
    return err.message.replace(/\.$/, '');
  }
}

function pipelineVerdict(field: RequestField, value: number): string {
  try {
    validateRequest(request({ [field]: value }));
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof InvalidRequestError, String(err));
    return err.message;
  }
}

test('the bot and the pipeline accept the same edges and refuse just past them, in the same words', () => {
  const numeric = ['seed', 'steps', 'guidance', 'width', 'height', 'count', 'strength'] as const;
  for (const field of numeric) {
    const { min, max } = rangeOf(field);
    const step = REQUEST_RULES[field].whole ? (REQUEST_RULES[field].multipleOf ?? 1) : 0.001;
    for (const value of [min, max]) {
      assert.equal(botVerdict(field, value), 'ok', `bot ${field}=${value}`);
      assert.equal(pipelineVerdict(field, value), 'ok', `pipeline ${field}=${value}`);
    }
    for (const value of [min - step, max + step, Number.NaN]) {
      const bot = botVerdict(field, value);
      assert.notEqual(bot, 'ok', `bot ${field}=${value}`);
      assert.equal(bot, pipelineVerdict(field, value), `${field}=${value}: the same sentence`);
      assert.match(bot, new RegExp(`^${field} must be`));
    }
  }
  assert.equal(botVerdict('guidance', 31), 'guidance must be a number from 0 to 30; got 31');
});

test('defaults: the bot’s fallbacks, the CLI’s --count default and the config’s limits come from the schema', () => {
  assert.deepEqual(
    { steps: FALLBACK_DEFAULTS.steps, guidance: FALLBACK_DEFAULTS.guidance, width: FALLBACK_DEFAULTS.width, height: FALLBACK_DEFAULTS.height, count: FALLBACK_DEFAULTS.count },
    { steps: REQUEST_RULES.steps.default, guidance: REQUEST_RULES.guidance.default, width: REQUEST_RULES.width.default, height: REQUEST_RULES.height.default, count: REQUEST_RULES.count.default },
  );
  const parsed = parseGenerateArgs(['--model', 'm', '--prompt', 'p', '--out', 'o.png']);
  assert.equal(parsed.kind === 'run' && parsed.args.count, REQUEST_RULES.count.default);
  const config = (env: Record<string, string>) => () => loadConfig({ DISCORD_TOKEN: 'x', ...env });
  assert.doesNotThrow(config({ MAX_STEPS: String(rangeOf('steps').max), MAX_IMAGES_PER_JOB: String(rangeOf('count').max) }));
  assert.throws(config({ MAX_STEPS: String(rangeOf('steps').max + 1) }), /MAX_STEPS/);
  assert.throws(config({ MAX_IMAGES_PER_JOB: String(rangeOf('count').max + 1) }), /MAX_IMAGES_PER_JOB/);
});

test('imagine.json is held to the same ranges, without the defaults', () => {
  const { max } = rangeOf('steps');
  assert.ok(imagineDefaultsSchema.safeParse({ steps: max }).success);
  assert.ok(!imagineDefaultsSchema.safeParse({ steps: max + 1 }).success);
  assert.ok(!imagineDefaultsSchema.safeParse({ guidance: rangeOf('guidance').max + 0.5 }).success);
  assert.ok(!imagineDefaultsSchema.safeParse({ width: 100 }).success, 'multiple of 8');
  assert.deepEqual(imagineDefaultsSchema.parse({}), {}, 'a key left out stays out');
});
