// The generate command as a user runs it: a child process, its stdout/stderr/exit code, and the files it leaves.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { parseParameters } from '../../src/pipeline/parameters.ts';
import { readPngParameters } from '../../src/pipeline/png.ts';
import { closedFormExpected, closedFormSdxlExpected, ensureTestModels, sdxlClosedFormRow } from '../fixtures/models.ts';
import { loadTokenizer } from '../../src/pipeline/tokenizer.ts';
import { firstPixelOff, tokenIds } from '../pipeline/helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'src/cli/generate.ts');

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], opts: { onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

async function pixels(file: string) {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

let models: string;
let work: string;
let counter = 0;
/** A fresh, empty directory per test case. */
async function freshDir(): Promise<string> {
  const dir = join(work, `case-${++counter}`);
  await mkdir(dir);
  return dir;
}

before(async () => {
  models = await ensureTestModels();
  work = await mkdtemp(join(tmpdir(), 'imagine-cli-'));
});
after(() => rm(work, { recursive: true, force: true }));

describe('generate CLI: success', () => {
  test('prints exactly the written path; the PNG has the closed-form colour and A1111 parameters', async () => {
    const dir = await freshDir();
    const out = join(dir, 'cat.png');
    const run = await runCli(['--model', join(models, 'closed-form'), '--prompt', 'a photo of a cat', '--out', out, '--seed', '5', '--steps', '3', '--width', '64', '--height', '64', '--guidance', '7.5']);
    assert.equal(run.stderr, '');
    assert.equal(run.code, 0);
    assert.equal(run.stdout, `${out}\n`);
    assert.deepEqual(await readdir(dir), ['cat.png']);
    const image = await pixels(out);
    assert.equal(image.width, 64);
    const expected = closedFormExpected(await tokenIds('closed-form', 'a photo of a cat'), await tokenIds('closed-form', ''), 7.5);
    assert.equal(firstPixelOff(image, expected.rgb, 1), undefined);
    const parameters = readPngParameters(await readFile(out));
    assert.equal(parameters, 'a photo of a cat\nSteps: 3, Sampler: DDIM, CFG scale: 7.5, Seed: 5, Size: 64x64, Model: closed-form');
  });

  test('an SDXL folder needs no flag: the closed-form SDXL colour at the model\'s native size', async () => {
    const dir = await freshDir();
    const out = join(dir, 'xl.png');
    const run = await runCli(['--model', join(models, 'closed-form-sdxl'), '--prompt', 'a photo of a cat', '--out', out, '--seed', '5', '--steps', '2', '--guidance', '1', '--sampler', 'ddim']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${out}\n`);
    const image = await pixels(out);
    // no --width/--height and no imagine.json: unet sample_size 8 x 8
    assert.deepEqual([image.width, image.height], [64, 64]);
    const t1 = await loadTokenizer(join(models, 'closed-form-sdxl', 'tokenizer'));
    const t2 = await loadTokenizer(join(models, 'closed-form-sdxl', 'tokenizer_2'));
    const row = sdxlClosedFormRow(t1.encode('a photo of a cat').ids, t2.encode('a photo of a cat').ids, 64, 64);
    assert.equal(firstPixelOff(image, closedFormSdxlExpected(row, undefined, 1).rgb, 1), undefined);
  });

  test("defaults come from the model's imagine.json; a random seed is recorded; re-running with the parameters gives the same pixels", async () => {
    const dir = await freshDir();
    const first = join(dir, 'first.png');
    const run = await runCli(['--model', join(models, 'tiny-sd15'), '--prompt', 'the red dog, photo', '--negative', 'a cat', '--out', first]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${first}\n`);
    const parsed = parseParameters(readPngParameters(await readFile(first))!);
    // tiny-sd15/imagine.json: pndm, 4 steps, guidance 7.5, 64x64.
    assert.equal(parsed.prompt, 'the red dog, photo');
    assert.equal(parsed.negativePrompt, 'a cat');
    assert.equal(parsed.steps, 4);
    assert.equal(parsed.sampler, 'pndm');
    assert.equal(parsed.guidance, 7.5);
    assert.equal(parsed.width, 64);
    assert.equal(parsed.height, 64);
    assert.equal(parsed.model, 'tiny-sd15');
    assert.ok(Number.isSafeInteger(parsed.seed) && parsed.seed! >= 0, 'a seed was chosen and recorded');

    const second = join(dir, 'second.png');
    const again = await runCli([
      '--model', join(models, 'tiny-sd15'), '--out', second,
      '--prompt', parsed.prompt, '--negative', parsed.negativePrompt, '--seed', String(parsed.seed), '--steps', String(parsed.steps),
      '--guidance', String(parsed.guidance), '--sampler', parsed.samplerLabel!, '--width', String(parsed.width), '--height', String(parsed.height),
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((await pixels(second)).data, (await pixels(first)).data);
    assert.equal(readPngParameters(await readFile(second)), readPngParameters(await readFile(first)));
  });

  test('count 2 writes FILE-1.png and FILE-2.png; image 2 is the single image of seed + 1', async () => {
    const dir = await freshDir();
    const out = join(dir, 'batch.png');
    const run = await runCli(['--model', join(models, 'tiny-sd2-v'), '--prompt', 'a cat', '--out', out, '--count', '2', '--seed', '77', '--steps', '3', '--width', '64', '--height', '64', '--sampler', 'euler-a']);
    assert.equal(run.code, 0, run.stderr);
    const files = [join(dir, 'batch-1.png'), join(dir, 'batch-2.png')];
    assert.equal(run.stdout, files.map((f) => `${f}\n`).join(''));
    assert.deepEqual((await readdir(dir)).sort(), ['batch-1.png', 'batch-2.png']);
    const p2 = parseParameters(readPngParameters(await readFile(files[1]!))!);
    assert.equal(p2.seed, 78);
    assert.equal(p2.sampler, 'euler-a');

    const single = join(dir, 'single.png');
    const again = await runCli(['--model', join(models, 'tiny-sd2-v'), '--prompt', 'a cat', '--out', single, '--seed', '78', '--steps', '3', '--width', '64', '--height', '64', '--sampler', 'Euler a']);
    assert.equal(again.code, 0, again.stderr);
    const a = await pixels(files[1]!);
    const b = await pixels(single);
    assert.ok(a.data.every((v, i) => Math.abs(v - b.data[i]!) <= 1), 'batch image 2 = seed 78 alone');
  });

  test('img2img: the init image is fitted to the default size, or resized to --width/--height; strength is recorded', async () => {
    const dir = await freshDir();
    const init = join(dir, 'init.png');
    await sharp({ create: { width: 100, height: 80, channels: 3, background: { r: 200, g: 120, b: 60 } } }).png().toFile(init);
    const fitted = join(dir, 'fitted.png');
    const run = await runCli(['--model', join(models, 'tiny-sd15'), '--prompt', 'a cat', '--out', fitted, '--init-image', init, '--strength', '0.5', '--seed', '1']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${fitted}\n`);
    const image = await pixels(fitted);
    // imagine.json's 64x64 is the pixel budget; sizes are multiples of 64.
    assert.deepEqual([image.width, image.height], [64, 64]);
    const parsed = parseParameters(readPngParameters(await readFile(fitted))!);
    assert.equal(parsed.denoisingStrength, 0.5);

    const sized = join(dir, 'sized.png');
    const run2 = await runCli(['--model', join(models, 'tiny-sd2-v'), '--prompt', 'a cat', '--out', sized, '--init-image', init, '--width', '128', '--height', '64', '--steps', '5']);
    assert.equal(run2.code, 0, run2.stderr);
    const image2 = await pixels(sized);
    assert.deepEqual([image2.width, image2.height], [128, 64]);
    assert.equal(parseParameters(readPngParameters(await readFile(sized))!).denoisingStrength, 0.8, 'default strength 0.8');
  });

  test('missing parent directories of --out are created', async () => {
    const dir = await freshDir();
    const out = join(dir, 'a', 'b', 'deep.png');
    const run = await runCli(['--model', join(models, 'closed-form'), '--prompt', 'x', '--out', out, '--steps', '1', '--width', '64', '--height', '64']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${out}\n`);
  });
});

// Each case is a separate process that mostly waits on start-up: two at a time halves the wall time.
describe('generate CLI: bad input exits 2 with one line on stderr and writes nothing', { concurrency: 2 }, () => {
  const cases: [string, (dir: string) => Promise<string[]>, RegExp][] = [
    ['missing --model', async (d) => ['--prompt', 'x', '--out', join(d, 'o.png')], /required option '--model <dir>' not specified/],
    ['missing --prompt', async (d) => ['--model', join(models, 'closed-form'), '--out', join(d, 'o.png')], /required option '--prompt <text>' not specified/],
    ['missing --out', async () => ['--model', join(models, 'closed-form'), '--prompt', 'x'], /required option '--out <file.png>' not specified/],
    ['steps not a number', async (d) => [...base(d), '--steps', 'ten'], /'--steps <n>' argument 'ten' is invalid\. steps must be a whole number/],
    ['NaN guidance', async (d) => [...base(d), '--guidance', 'NaN'], /'--guidance <f>' argument 'NaN' is invalid\. guidance must be a number/],
    ['fractional seed', async (d) => [...base(d), '--seed', '1.5'], /seed must be a whole number/],
    ['unknown sampler', async (d) => [...base(d), '--sampler', 'heun'], /argument 'heun' is invalid\. unknown sampler; choose one of pndm, ddim/],
    ['width not a multiple of 8', async (d) => [...base(d), '--width', '100'], /width must be a multiple of 8; got 100 \(try 128\)/],
    ['count 5', async (d) => [...base(d), '--count', '5'], /count must be from 1 to 4; got 5/],
    ['count 0', async (d) => [...base(d), '--count', '0'], /count must be from 1 to 4; got 0/],
    ['steps 0', async (d) => [...base(d), '--steps', '0'], /steps must be from 1 to 150; got 0/],
    ['--strength without --init-image', async (d) => [...base(d), '--strength', '0.5'], /--strength needs --init-image/],
    ['strength 1.5', async (d) => [...base(d, 'tiny-sd15'), '--init-image', await initFile(d), '--strength', '1.5'], /strength must be a number from 0.01 to 1; got 1.5/],
    ['strength 0', async (d) => [...base(d, 'tiny-sd15'), '--init-image', await initFile(d), '--strength', '0'], /strength must be a number from 0.01 to 1; got 0/],
    ['strength too low for the steps', async (d) => [...base(d, 'tiny-sd15'), '--init-image', await initFile(d), '--strength', '0.1'], /strength 0.1 with 4 steps leaves no denoising step to run/],
    ['missing init image', async (d) => [...base(d, 'tiny-sd15'), '--init-image', join(d, 'nope.png')], /--init-image .*nope\.png: no such file/],
    ['init image that is not an image', async (d) => [...base(d, 'tiny-sd15'), '--init-image', await textFile(d)], /--init-image .*notes\.txt: That file is not an image I can read/],
    ['img2img on a model without a VAE encoder', async (d) => [...base(d), '--init-image', await initFile(d)], /the model closed-form has no vae_encoder\/model\.onnx/],
    ['missing model folder', async (d) => ['--model', join(d, 'no-model'), '--prompt', 'x', '--out', join(d, 'o.png')], /no-model: missing; expected a model folder.*\. Fix: there is no model there yet: `npm run models -- list` shows the presets.*`npm run models -- fetch <preset>`.*pass its folder with --model/],
    ['model folder without model_index.json', async (d) => ['--model', await emptyModel(d), '--prompt', 'x', '--out', join(d, 'o.png')], /model_index\.json: missing.*\. Fix: fetch the model again \(npm run models -- fetch <preset or repo> --force\)/],
    ['--out not a .png', async (d) => ['--model', join(models, 'closed-form'), '--prompt', 'x', '--out', join(d, 'o.jpg')], /--out must name a \.png file/],
    ['--out is a directory', async (d) => ['--model', join(models, 'closed-form'), '--prompt', 'x', '--out', await mkdirPng(d)], /--out: .*dir\.png is a directory/],
    ['unknown option', async (d) => [...base(d), '--sed', '1'], /unknown option '--sed'/],
    ['bad attention slicing', async (d) => [...base(d), '--attention-slicing', 'lots'], /'--attention-slicing <mode>' argument 'lots' is invalid/],
    ['bad provider', async (d) => [...base(d), '--provider', 'tpu'], /argument 'tpu' is invalid\. Allowed choices are cpu, cuda, dml, coreml, webgpu\./],
  ];

  function base(dir: string, model = 'closed-form'): string[] {
    return ['--model', join(models, model), '--prompt', 'x', '--out', join(dir, 'o.png')];
  }
  async function initFile(dir: string): Promise<string> {
    const file = join(dir, 'init.png');
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toFile(file);
    return file;
  }
  async function textFile(dir: string): Promise<string> {
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'hello, not an image');
    return file;
  }
  async function emptyModel(dir: string): Promise<string> {
    const model = join(dir, 'empty-model');
    await mkdir(model);
    return model;
  }
  async function mkdirPng(dir: string): Promise<string> {
    const out = join(dir, 'dir.png');
    await mkdir(out);
    return out;
  }

  for (const [what, args, message] of cases) {
    test(what, async () => {
      const dir = await freshDir();
      const argv = await args(dir);
      const before = (await readdir(dir)).sort();
      const run = await runCli(argv);
      assert.equal(run.code, 2, `exit code (stderr: ${run.stderr})`);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /^generate: [^\n]+\n$/, 'exactly one line on stderr');
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /\bat .*\.ts:\d+/, 'no stack trace');
      assert.deepEqual((await readdir(dir)).sort(), before, 'no file written (temporary files included)');
    });
  }
});

describe('generate CLI: interruption', () => {
  test('SIGINT cancels: exit 130, one line, nothing written', async () => {
    const dir = await freshDir();
    const out = join(dir, 'long.png');
    let sent = false;
    const run = await runCli(['--model', join(models, 'tiny-sd15'), '--prompt', 'x', '--out', out, '--steps', '150', '--width', '512', '--height', '512', '--verbose'], {
      // --verbose logs the attention preparation while loading; interrupt shortly after, mid-generation.
      onStderr: (text, child) => {
        if (!sent && /attention:/.test(text)) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 1500);
        }
      },
    });
    assert.ok(sent, `the run logged its loading (stderr: ${run.stderr})`);
    assert.equal(run.code, 130, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /generate: cancelled; nothing was written\n$/);
    assert.deepEqual(await readdir(dir), []);
  });
});
