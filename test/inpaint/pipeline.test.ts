// Masked generation end to end on the closed-form models, whose output is known: closed-form-edit (a 4-channel UNet:
// the pipeline blends the init image's latents in after every step) and closed-form-inpaint (a 9-channel inpainting
// UNet, fed [latents, mask, masked-image latents]). The masked region must take the prompt's colour, the kept region
// the init image's, and inside the blur band the latent-level result must already be the init image (the overlay
// alone would give a mix there).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { StableDiffusionPipeline } from '../../src/pipeline/pipeline.ts';
import { InvalidRequestError } from '../../src/pipeline/pipeline.ts';
import { outpaintCanvas } from '../../src/pipeline/inpaint/outpaint.ts';
import type { MaskImage, RgbImage } from '../../src/pipeline/types.ts';
import { closedFormExpected } from '../fixtures/models.ts';
import { loadTestPipeline, pixel, request, tokenIds } from '../pipeline/helpers.ts';

const INIT_RGB = [90, 160, 60] as const;
const PROMPT = 'a photo of a cat';

function flat(width: number, height: number, rgb: readonly number[] = INIT_RGB): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return { data, width, height };
}

/** White over [x1, x2) x [y1, y2). */
function rectMask(width: number, height: number, x1: number, y1: number, x2: number, y2: number): MaskImage {
  const data = new Uint8Array(width * height);
  for (let y = y1; y < y2; y++) data.fill(255, y * width + x1, y * width + x2);
  return { data, width, height };
}

function near(got: readonly number[], want: readonly number[], tolerance = 1): boolean {
  return got.every((v, c) => Math.abs(v - want[c]!) <= tolerance);
}

/** Every pixel of the region passes `check`; returns the first that does not. */
function regionOff(image: RgbImage, x1: number, y1: number, x2: number, y2: number, want: readonly number[], tolerance = 1): string | undefined {
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      const got = pixel(image, x, y);
      if (!near(got, want, tolerance)) return `(${x}, ${y}) = ${got} (want ${want})`;
    }
  }
  return undefined;
}

for (const model of ['closed-form-edit', 'closed-form-inpaint'] as const) {
  describe(`inpainting on ${model}`, () => {
    let pipeline: StableDiffusionPipeline;
    let promptRgb: readonly number[];
    before(async () => {
      pipeline = await loadTestPipeline(model);
      promptRgb = closedFormExpected(await tokenIds(model, PROMPT), await tokenIds(model, ''), 7.5).rgb;
      assert.ok(!near(promptRgb, INIT_RGB, 20), 'the prompt colour must differ from the init colour');
    });
    after(() => pipeline.dispose());

    test('lower-left quadrant: the prompt colour there, the init image exactly elsewhere', async () => {
      const init = flat(64, 64);
      const result = await pipeline.generate(request({ prompt: PROMPT, sampler: 'ddim', steps: 3, initImage: init, mask: rectMask(64, 64, 0, 32, 32, 64), count: 2 }));
      assert.equal(result.stepsRun, 3, 'default strength with a mask is 1: every step runs');
      for (const image of result.images) {
        assert.equal(regionOff(image, 0, 32, 32, 64, promptRgb), undefined);
        assert.equal(regionOff(image, 32, 0, 64, 64, INIT_RGB, 0), undefined);
        assert.equal(regionOff(image, 0, 0, 64, 32, INIT_RGB, 0), undefined);
      }
    });

    test('with mask blur: a soft band, and the kept side of the band is the init image already before the overlay', async () => {
      const init = flat(64, 64);
      const result = await pipeline.generate(request({ prompt: PROMPT, sampler: 'ddim', steps: 3, initImage: init, mask: rectMask(64, 64, 0, 32, 32, 64), maskBlur: 4 }));
      const image = result.images[0]!;
      // Deep inside the mask: the prompt's colour; far outside: the init image exactly.
      assert.equal(regionOff(image, 0, 48, 16, 64, promptRgb), undefined);
      assert.equal(regionOff(image, 48, 0, 64, 24, INIT_RGB, 0), undefined);
      // x = 34..39 lies in latent column 4, kept by the binarized mask (its top-left pixel x = 32 is below 0.5 after
      // the blur), while the blurred mask there is well above 0: a mix would show if the latents were not kept.
      assert.equal(regionOff(image, 34, 40, 40, 64, INIT_RGB, 1), undefined);
      // And the band on the masked side blends: neither colour.
      const mid = pixel(image, 30, 50);
      assert.ok(!near(mid, INIT_RGB, 2) && !near(mid, promptRgb, 2), `blend band pixel ${mid}`);
    });

    test('only the masked area: a large picture, the crop generated at 64x64 and pasted back', async () => {
      const init = flat(160, 128);
      const result = await pipeline.generate(request({ prompt: PROMPT, sampler: 'ddim', steps: 3, width: 64, height: 64, initImage: init, mask: rectMask(160, 128, 16, 80, 48, 112), onlyMasked: true, maskPadding: 8 }));
      const image = result.images[0]!;
      assert.equal(image.width, 160);
      assert.equal(image.height, 128);
      // The interior (the edge of the crop's latent blocks, resized back, is soft: latent granularity at the crop's scale).
      assert.equal(regionOff(image, 26, 90, 40, 104, promptRgb, 1), undefined);
      assert.equal(regionOff(image, 64, 0, 160, 128, INIT_RGB, 0), undefined);
      assert.equal(regionOff(image, 0, 0, 160, 72, INIT_RGB, 0), undefined);
    });

    test('zoom out 2x: the picture shrunk into the centre, the prompt colour around it', async () => {
      // Two colours side by side, so that "shrunk" can be told from "cropped".
      const init = flat(64, 64);
      for (let y = 0; y < 64; y++) for (let x = 32; x < 64; x++) init.data.set([200, 80, 120], (y * 64 + x) * 3);
      const canvas = await outpaintCanvas(init, { zoomOut: 2 }, 64 * 64);
      const result = await pipeline.generate(request({ prompt: PROMPT, sampler: 'ddim', steps: 3, initImage: canvas.image, mask: canvas.mask, maskPrefilled: true }));
      const image = result.images[0]!;
      assert.deepEqual([image.width, image.height], [64, 64]);
      const shrunk = await sharp(init.data, { raw: { width: 64, height: 64, channels: 3 } }).resize(32, 32, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
      const inner = 16 + canvas.overlap;
      for (let y = inner; y < 48 - canvas.overlap; y++) {
        for (let x = inner; x < 48 - canvas.overlap; x++) {
          const i = ((y - 16) * 32 + (x - 16)) * 3;
          assert.deepEqual(pixel(image, x, y), [shrunk[i]!, shrunk[i + 1]!, shrunk[i + 2]!], `centre pixel (${x}, ${y})`);
        }
      }
      assert.ok(near(pixel(image, 26, 32), INIT_RGB), 'left half of the shrunk picture');
      assert.ok(near(pixel(image, 37, 32), [200, 80, 120]), 'right half of the shrunk picture');
      for (const [x, y] of [[2, 2], [61, 2], [2, 61], [61, 61], [32, 4], [4, 32]] as const) assert.ok(near(pixel(image, x, y), promptRgb), `border pixel (${x}, ${y}) = ${pixel(image, x, y)}`);
    });

    for (const pan of ['left', 'right', 'up', 'down'] as const) {
      test(`pan ${pan}: the canvas grows by half on that side, new content there`, async () => {
        const init = flat(64, 64);
        const canvas = await outpaintCanvas(init, { pan }, 64 * 64 * 2);
        const horizontal = pan === 'left' || pan === 'right';
        assert.deepEqual([canvas.image.width, canvas.image.height], horizontal ? [96, 64] : [64, 96]);
        const result = await pipeline.generate(request({ prompt: PROMPT, sampler: 'ddim', steps: 3, width: canvas.image.width, height: canvas.image.height, initImage: canvas.image, mask: canvas.mask, maskPrefilled: true }));
        const image = result.images[0]!;
        const o = canvas.overlap;
        const [newArea, kept] = ({
          left: [[0, 0, 32, 64], [32 + o, 0, 96, 64]],
          right: [[64, 0, 96, 64], [0, 0, 64 - o, 64]],
          up: [[0, 0, 64, 32], [0, 32 + o, 64, 96]],
          down: [[0, 64, 64, 96], [0, 0, 64, 64 - o]],
        } as const)[pan];
        assert.equal(regionOff(image, newArea[0], newArea[1], newArea[2], newArea[3], promptRgb), undefined);
        assert.equal(regionOff(image, kept[0], kept[1], kept[2], kept[3], INIT_RGB, 0), undefined);
      });
    }
  });
}

describe('inpainting on SDXL (closed-form-sdxl, a 4-channel UNet with its own text conditioning)', () => {
  test("the masked quarter takes the prompt's txt2img colour, the rest the init image; diffusers' SDXL default strength 0.9999", async () => {
    const pipeline = await loadTestPipeline('closed-form-sdxl');
    try {
      const plain = await pipeline.generate(request({ prompt: PROMPT, sampler: 'ddim', steps: 4 }));
      const promptRgb = pixel(plain.images[0]!, 0, 0);
      assert.ok(!near(promptRgb, INIT_RGB, 20));
      const result = await pipeline.generate(request({ prompt: PROMPT, sampler: 'ddim', steps: 4, initImage: flat(64, 64), mask: rectMask(64, 64, 0, 32, 32, 64) }));
      assert.equal(result.strength, 0.9999);
      assert.equal(result.stepsRun, 3, 'int(4 * 0.9999) = 3 steps');
      const image = result.images[0]!;
      assert.equal(regionOff(image, 0, 32, 32, 64, promptRgb), undefined);
      assert.equal(regionOff(image, 32, 0, 64, 64, INIT_RGB, 0), undefined);
      assert.equal(regionOff(image, 0, 0, 64, 32, INIT_RGB, 0), undefined);
    } finally {
      await pipeline.dispose();
    }
  });
});

describe('inpainting requests that cannot run', () => {
  test('clear errors for a missing init image, a wrong-size mask, an all-black mask, a bad blur', async () => {
    const pipeline = await loadTestPipeline('closed-form-edit');
    try {
      const cases: [Parameters<typeof request>[0], RegExp][] = [
        [{ mask: rectMask(64, 64, 0, 0, 8, 8) }, /a mask needs an init image/],
        [{ initImage: flat(64, 64), mask: rectMask(32, 32, 0, 0, 8, 8) }, /the mask is 32x32 but the init image is 64x64/],
        [{ initImage: flat(64, 64), mask: rectMask(64, 64, 0, 0, 0, 0) }, /the mask is all black/],
        [{ initImage: flat(64, 64), mask: rectMask(64, 64, 0, 0, 8, 8), maskBlur: -1 }, /mask blur must be a number from 0 to 64/],
        [{ onlyMasked: true }, /needs a mask/],
      ];
      for (const [extra, message] of cases) {
        await assert.rejects(pipeline.generate(request(extra)), (err: unknown) => err instanceof InvalidRequestError && message.test(err.message), String(message));
      }
    } finally {
      await pipeline.dispose();
    }
  });
});
