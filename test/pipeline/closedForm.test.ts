// End to end against the closed-form model, whose txt2img output is known exactly (test/fixtures/README.md): text
// encoding, classifier-free guidance (and its absence at guidance <= 1), the negative prompt, DDIM's last step, the
// VAE scaling factor, the 8-bit conversion and the safety checker are all checked against the formula.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { closedFormExpected } from '../fixtures/models.ts';
import { firstPixelOff, loadTestPipeline, request, tokenIds } from './helpers.ts';

describe('closed-form model: pixels match the closed-form expectation', () => {
  let pipeline: StableDiffusionPipeline;
  before(async () => {
    pipeline = await loadTestPipeline('closed-form');
  });
  after(() => pipeline.dispose());

  async function expectClosedForm(prompt: string, negative: string | undefined, guidance: number, extra: Parameters<typeof request>[0] = {}) {
    const cond = await tokenIds('closed-form', prompt);
    const uncond = await tokenIds('closed-form', negative ?? '');
    const expected = closedFormExpected(cond, uncond, guidance);
    const result = await pipeline.generate(request({ prompt, negativePrompt: negative, guidance, sampler: 'ddim', ...extra }));
    assert.equal(result.sampler, 'ddim');
    for (const [i, image] of result.images.entries()) {
      const off = firstPixelOff(image, expected.rgb, 1);
      assert.equal(off, undefined, `image ${i}, guidance ${guidance}: pixel ${JSON.stringify(off)} vs expected ${expected.rgb}`);
      assert.equal(image.nsfw, expected.nsfw, `image ${i}, guidance ${guidance}: nsfw flag`);
    }
    return { result, expected };
  }

  test('the README worked example: guidance 1 (no CFG) and 7.5', async () => {
    const { expected: g1 } = await expectClosedForm('a photo of a cat', undefined, 1);
    assert.deepEqual(g1.rgb, [191, 164, 132]);
    assert.equal(g1.nsfw, true);
    const { expected: g75 } = await expectClosedForm('a photo of a cat', undefined, 7.5);
    assert.deepEqual(g75.rgb, [139, 112, 80]);
    assert.equal(g75.nsfw, false);
  });

  test('guidance <= 1 ignores the negative prompt; other values follow the CFG formula', async () => {
    for (const g of [0, 0.5, 1]) {
      const { expected } = await expectClosedForm('a photo of a dog', 'the red cat', g);
      assert.deepEqual(expected.rgb, closedFormExpected(await tokenIds('closed-form', 'a photo of a dog'), [], 1).rgb);
    }
    for (const g of [1.5, 3, 7.5, 12]) await expectClosedForm('a photo of a dog', 'the red cat', g);
  });

  test('the negative prompt changes the result under CFG', async () => {
    const withEmpty = await expectClosedForm('the cat and the dog', '', 7.5);
    const withNegative = await expectClosedForm('the cat and the dog', 'photo', 7.5);
    assert.notDeepEqual(withEmpty.expected.rgb, withNegative.expected.rgb, 'the chosen prompts must lead to different colours');
  });

  test('count 2, any seed and step count: every image is the expected colour', async () => {
    await expectClosedForm('a cat', 'a dog', 7.5, { count: 2, seed: 7 });
    await expectClosedForm('a cat', undefined, 2, { count: 3, seed: 123456, steps: 1 });
    await expectClosedForm('a cat', undefined, 2, { steps: 9, width: 72, height: 64 });
  });

  test('the image has the requested size', async () => {
    const result = await pipeline.generate(request({ width: 128, height: 64, sampler: 'ddim' }));
    assert.equal(result.images[0]!.width, 128);
    assert.equal(result.images[0]!.height, 64);
    assert.equal(result.images[0]!.data.length, 128 * 64 * 3);
  });
});
