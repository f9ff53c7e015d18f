// The bot serves an SDXL MODEL_DIR as it is: the family is read from the folder, and the default size comes from the
// model (tiny-sdxl has no imagine.json; its UNet's sample_size 8 x 8 gives 64x64, as 128 x 8 gives SDXL base 1024).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startHarness, type Harness } from './harness.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ model: 'tiny-sdxl' });
});
after(async () => {
  await h?.close();
});

test('/imagine on an SDXL model folder posts an image at the model\'s native size', async () => {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { prompt: 'a photo of a cat', seed: 7, steps: 3 } });
  await handle.deferred();
  const final = await handle.waitFor((r) => r.files.some((f) => f.filename.endsWith('.png')), 60_000);
  const png = final.files.find((f) => f.filename.endsWith('.png'))!;
  const meta = await sharp(png.bytes).metadata();
  assert.deepEqual([meta.width, meta.height], [64, 64]);
  const params = readPngParameters(png.bytes) ?? '';
  assert.match(params, /Size: 64x64/);
  assert.match(params, /Model: tiny-sdxl/);
  assert.deepEqual(h.emulator.unknownRequests(), []);
});
