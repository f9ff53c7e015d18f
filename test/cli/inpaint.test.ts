// Inpainting and outpainting from the command line (--mask, --mask-blur, --only-masked, --zoom-out, --pan), on the
// closed-form-edit model whose colours are known: the repainted part takes the prompt's colour, the rest keeps the
// init image's pixels exactly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { parseGenerateArgs, UsageError } from '../../src/cli/generateArgs.ts';
import { parseParameters } from '../../src/pipeline/parameters.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import { readFile } from 'node:fs/promises';
import { closedFormExpected, ensureTestModels } from '../fixtures/models.ts';
import { pixel, tokenIds } from '../pipeline/helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'src/cli/generate.ts');
const INIT = { r: 90, g: 160, b: 60 };
const INIT_RGB = [INIT.r, INIT.g, INIT.b];
const PROMPT = 'a photo of a cat';

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function pixels(file: string) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

const near = (got: number[], want: readonly number[], t = 1) => got.every((v, c) => Math.abs(v - want[c]!) <= t);

function regionOff(image: Awaited<ReturnType<typeof pixels>>, [x1, y1, x2, y2]: readonly [number, number, number, number], want: readonly number[], t = 1): string | undefined {
  for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) if (!near(pixel(image, x, y), want, t)) return `(${x}, ${y}) = ${pixel(image, x, y)}, want ${want}`;
  return undefined;
}

let models: string;
let work: string;
let initFile: string;
let promptRgb: readonly number[];
before(async () => {
  models = await ensureTestModels();
  work = await mkdtemp(join(tmpdir(), 'imagine-cli-inpaint-'));
  initFile = join(work, 'init.png');
  await sharp({ create: { width: 64, height: 64, channels: 3, background: INIT } }).png().toFile(initFile);
  promptRgb = closedFormExpected(await tokenIds('closed-form-edit', PROMPT), await tokenIds('closed-form-edit', ''), 7.5).rgb;
});
after(() => rm(work, { recursive: true, force: true }));

function base(out: string): string[] {
  return ['--model', join(models, 'closed-form-edit'), '--prompt', PROMPT, '--out', out, '--seed', '3', '--init-image', initFile];
}

describe('generate CLI: --mask', () => {
  test('a transparent PNG mask of another size: its opaque lower-left quarter is repainted, the rest kept exactly', async () => {
    // 32x32 mask, opaque (black, even) over the lower-left quarter, transparent elsewhere: alpha is the mask.
    const rgba = Buffer.alloc(32 * 32 * 4);
    for (let y = 16; y < 32; y++) for (let x = 0; x < 16; x++) rgba[(y * 32 + x) * 4 + 3] = 255;
    const maskFile = join(work, 'mask.png');
    await sharp(rgba, { raw: { width: 32, height: 32, channels: 4 } }).png().toFile(maskFile);
    const out = join(work, 'masked.png');
    const run = await runCli([...base(out), '--mask', maskFile, '--mask-blur', '2']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${out}\n`);
    const image = await pixels(out);
    assert.equal(regionOff(image, [0, 40, 24, 64], promptRgb), undefined);
    assert.equal(regionOff(image, [40, 0, 64, 64], INIT_RGB, 0), undefined);
    assert.equal(regionOff(image, [0, 0, 64, 24], INIT_RGB, 0), undefined);
    const params = parseParameters(readPngParameters(await readFile(out))!);
    assert.equal(params.extra['Mask blur'], '2');
    assert.equal(params.denoisingStrength, 1);
  });
});

describe('generate CLI: outpainting', () => {
  test('--zoom-out 2: the picture in the centre, new content around it, same size', async () => {
    const out = join(work, 'zoom.png');
    const run = await runCli([...base(out), '--zoom-out', '2']);
    assert.equal(run.code, 0, run.stderr);
    const image = await pixels(out);
    assert.deepEqual([image.width, image.height], [64, 64]);
    assert.equal(regionOff(image, [24, 24, 40, 40], INIT_RGB, 0), undefined);
    for (const [x, y] of [[2, 2], [61, 61], [2, 61], [61, 2]] as const) assert.ok(near(pixel(image, x, y), promptRgb), `corner (${x}, ${y})`);
  });

  for (const [pan, size, fresh, kept] of [
    ['left', [96, 64], [0, 0, 32, 64], [40, 0, 96, 64]],
    ['right', [96, 64], [64, 0, 96, 64], [0, 0, 56, 64]],
    ['up', [64, 96], [0, 0, 64, 32], [0, 40, 64, 96]],
    ['down', [64, 96], [0, 64, 64, 96], [0, 0, 64, 56]],
  ] as const) {
    test(`--pan ${pan}: the picture grows by half on that side`, async () => {
      const out = join(work, `pan-${pan}.png`);
      const run = await runCli([...base(out), '--pan', pan]);
      assert.equal(run.code, 0, run.stderr);
      const image = await pixels(out);
      assert.deepEqual([image.width, image.height], size);
      assert.equal(regionOff(image, [...fresh], promptRgb), undefined);
      assert.equal(regionOff(image, [...kept], INIT_RGB, 0), undefined);
      assert.equal(parseParameters(readPngParameters(await readFile(out))!).extra.Outpaint, `pan ${pan}`);
    });
  }
});

describe('generate CLI: mask arguments that cannot work', () => {
  const required = ['--model', 'm', '--prompt', 'p', '--out', 'o.png'];
  for (const [args, message] of [
    [['--mask', 'm.png'], /--mask needs --init-image/],
    [['--init-image', 'i.png', '--only-masked'], /--only-masked needs --mask/],
    [['--init-image', 'i.png', '--mask', 'm.png', '--pan', 'left'], /--mask and --pan cannot be combined/],
    [['--init-image', 'i.png', '--zoom-out', '3'], /--zoom-out must be from 1.1 to 2; got 3/],
    [['--init-image', 'i.png', '--pan', 'north'], /argument 'north' is invalid\. Allowed choices are left, right, up, down/],
    [['--init-image', 'i.png', '--mask-blur', '2'], /--mask-blur needs --mask, --zoom-out or --pan/],
  ] as const) {
    test(args.join(' '), () => {
      assert.throws(() => parseGenerateArgs([...required, ...args]), (err: unknown) => err instanceof UsageError && message.test(err.message));
    });
  }

  test('a mask file that is not an image: exit 2, one line naming --mask', async () => {
    const out = join(work, 'bad.png');
    const run = await runCli([...base(out), '--mask', CLI]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^generate: --mask .*generate\.ts: The mask is not an image I can read/);
  });
});
