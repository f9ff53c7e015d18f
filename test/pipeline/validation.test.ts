// Requests the pipeline cannot run are refused before any work with InvalidRequestError and a message that says what
// to change; the same check runs in generate() (so the worker and the bot get it too).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InvalidRequestError, validateRequest, type StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import type { GenerateRequest } from '../../src/pipeline/types.ts';
import { loadTestPipeline, request } from './helpers.ts';

const init = (w: number, h: number) => ({ data: new Uint8Array(w * h * 3), width: w, height: h });

const invalid: [string, Partial<GenerateRequest>, RegExp][] = [
  ['width not a multiple of 8', { width: 100 }, /width must be a multiple of 8; got 100/],
  ['height not a multiple of 8', { height: 65 }, /height must be a multiple of 8; got 65/],
  ['width too small', { width: 32 }, /width must be from 64 to 2048; got 32/],
  ['count 0', { count: 0 }, /count must be from 1 to 4; got 0/],
  ['count 5', { count: 5 }, /count must be from 1 to 4; got 5/],
  ['steps 0', { steps: 0 }, /steps must be from 1 to 150; got 0/],
  ['fractional steps', { steps: 2.5 }, /steps must be a whole number/],
  ['strength 0', { strength: 0, initImage: init(64, 64) }, /strength must be a number from 0.01 to 1; got 0/],
  ['strength 1.5', { strength: 1.5, initImage: init(64, 64) }, /strength must be a number from 0.01 to 1; got 1.5/],
  ['NaN guidance', { guidance: NaN }, /guidance must be a number from 0 to 30; got NaN/],
  ['negative seed', { seed: -1 }, /seed must be from 0 to 4294967295; got -1/],
  ['guidance over the maximum', { guidance: 31 }, /guidance must be a number from 0 to 30; got 31/],
  ['two wrong fields are both named', { steps: 0, count: 9 }, /steps must be from 1 to 150; got 0; count must be from 1 to 4; got 9/],
  ['init image of another size', { initImage: init(128, 64) }, /init image is 128x64; it must be resized to 64x64/],
];

describe('invalid requests', () => {
  for (const [what, overrides, message] of invalid) {
    test(`validateRequest: ${what}`, () => {
      assert.throws(() => validateRequest(request(overrides)), (err: unknown) => err instanceof InvalidRequestError && message.test(err.message));
    });
  }

  test('a valid request passes', () => {
    assert.doesNotThrow(() => validateRequest(request({ width: 72, height: 2048, count: 4, steps: 150, guidance: 0, strength: 1, initImage: init(72, 2048) })));
  });

  describe('generate() refuses them too', () => {
    let pipeline: StableDiffusionPipeline;
    before(async () => {
      pipeline = await loadTestPipeline('tiny-sd15');
    });
    after(() => pipeline.dispose());

    test('every invalid case rejects with InvalidRequestError', async () => {
      for (const [what, overrides, message] of invalid) {
        await assert.rejects(pipeline.generate(request(overrides)), (err: unknown) => err instanceof InvalidRequestError && message.test(err.message), what);
      }
    });

    test('img2img whose strength leaves no step to run', async () => {
      await assert.rejects(
        pipeline.generate(request({ steps: 4, strength: 0.2, initImage: init(64, 64) })),
        (err: unknown) => err instanceof InvalidRequestError && /strength 0.2 with 4 steps leaves no denoising step to run/.test(err.message),
      );
    });

    test('img2img on a model without a VAE encoder', async () => {
      const closedForm = await loadTestPipeline('closed-form');
      try {
        assert.equal(closedForm.info.supportsImg2Img, false);
        await assert.rejects(
          closedForm.generate(request({ strength: 0.5, initImage: init(64, 64) })),
          (err: unknown) => err instanceof InvalidRequestError && /closed-form has no VAE encoder \(vae_encoder\/model.onnx\)/.test(err.message),
        );
      } finally {
        await closedForm.dispose();
      }
    });
  });
});
