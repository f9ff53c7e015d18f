// `npm run models` end to end: verify on good and broken folders, list, the taesd preset installed into a model, and
// HF_TOKEN sent as a bearer token but never printed (checked on a real child process's whole output).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ensureTestModels } from '../fixtures/models.ts';
import { runModelsCli, type CliIo } from '../../src/cli/models.ts';
import { readTree, TestHub } from './hubServer.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t + '\n'), err: (t) => (err += t + '\n'), env, progressStream: { write: () => true, isTTY: false } as unknown as NodeJS.WriteStream };
  const code = await runModelsCli(argv, io);
  return { code, out, err };
}

/** The real command in a child process, so everything it could print is captured. */
function runChild(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/models.ts'), ...argv], { cwd: root, env: { PATH: process.env.PATH, ...env } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => done({ code, output }));
  });
}

/** Copies only the canonical files (not the attention caches other tests leave beside the UNet). */
async function copyModel(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true, filter: (src) => !src.includes('.attn-') && !src.endsWith('.cache') });
}

describe('models command', () => {
  let models: string;
  let work: string;
  let hub: TestHub;
  const token = 'hf_testSECRETtoken0123456789';

  before(async () => {
    models = await ensureTestModels();
    work = await mkdtemp(join(tmpdir(), 'models-cli-'));
    const tiny = await readTree(join(models, 'tiny-sd15'));
    const taesd = new Map([
      ['vae_decoder/model.onnx', tiny.get('vae_decoder_tiny/model.onnx')!],
      ['vae_decoder/config.json', tiny.get('vae_decoder_tiny/config.json')!],
      ['vae_encoder/model.onnx', tiny.get('vae_encoder/model.onnx')!],
      ['README.md', Buffer.from('# taesd\n')],
    ]);
    hub = new TestHub({
      'gated/tiny-sd15': { revisions: { main: tiny }, token },
      'deinferno/taesd-onnx': { revisions: { main: taesd } },
    });
    await hub.start();
  });
  after(async () => {
    await hub.close();
    await rm(work, { recursive: true, force: true });
  });

  test('verify: a good folder exits 0', async () => {
    const r = await run(['verify', join(models, 'tiny-sd15')]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /: ok \(textEncoder, unet, vaeDecoder/);
  });

  test('verify: a missing UNet is named, with how to fix it', async () => {
    const dir = join(work, 'no-unet');
    await copyModel(join(models, 'tiny-sd15'), dir);
    await rm(join(dir, 'unet'), { recursive: true });
    const r = await run(['verify', dir]);
    assert.equal(r.code, 1);
    assert.match(r.out, /unet\/model\.onnx: missing; expected the UNet exported by optimum/);
    assert.match(r.out, /Fix: fetch the model again/);
  });

  test('verify: a UNet with the wrong input names is explained', async () => {
    const dir = join(work, 'wrong-inputs');
    await copyModel(join(models, 'tiny-sd15'), dir);
    // a text encoder in the UNet's place: a loadable ONNX file whose inputs are not the UNet's
    await copyFile(join(dir, 'text_encoder/model.onnx'), join(dir, 'unet/model.onnx'));
    const r = await run(['verify', dir]);
    assert.equal(r.code, 1);
    assert.match(r.out, /unet\/model\.onnx: expected an input named "sample"; the model has input_ids/);
    assert.match(r.out, /unexpected input "input_ids" that the pipeline does not feed/);
    assert.match(r.out, /Fix: re-export the UNet with optimum-cli export onnx/);
  });

  test('verify: a missing folder exits 1', async () => {
    const r = await run(['verify', join(work, 'nothing-here')]);
    assert.equal(r.code, 1);
    assert.match(r.out, /missing; expected a model folder/);
    assert.match(r.out, /Fix: there is no model there yet: `npm run models -- list` shows the presets.*`npm run models -- fetch <preset>`.*MODEL_DIR/);
  });

  test('list: presets and installed models with their status', async () => {
    const dir = join(work, 'list-models');
    await copyModel(join(models, 'tiny-sd15'), join(dir, 'good'));
    await copyModel(join(models, 'tiny-sd15'), join(dir, 'broken'));
    await rm(join(dir, 'broken', 'vae_decoder'), { recursive: true });
    const r = await run(['list', '--models-dir', dir]);
    assert.equal(r.code, 0, r.err);
    for (const name of ['sd-turbo', 'sd15', 'lcm-dreamshaper-v7', 'taesd', 'sd-turbo-fp16']) assert.match(r.out, new RegExp(`^${name}\\s`, 'm'));
    assert.match(r.out, /^good\s+\S+ \S+\s+ok\s+taesd/m);
    assert.match(r.out, /^broken\s+\S+ \S+\s+BROKEN \(1 problem\)/m);
    assert.match(r.out, /vae_decoder\/model\.onnx: missing/);
  });

  test('fetch taesd --into installs the preview decoder as vae_decoder_tiny/', async () => {
    const modelsDir = join(work, 'taesd-models');
    await copyModel(join(models, 'tiny-sd15'), join(modelsDir, 'mine'));
    await rm(join(modelsDir, 'mine', 'vae_decoder_tiny'), { recursive: true });
    const env = { HF_ENDPOINT: hub.url };
    const without = await run(['fetch', 'taesd', '--models-dir', modelsDir], env);
    assert.equal(without.code, 2);
    assert.match(without.err, /add --into <model/);

    const r = await run(['fetch', 'taesd', '--into', 'mine', '--models-dir', modelsDir], env);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), join(modelsDir, 'mine', 'vae_decoder_tiny'));
    assert.ok((await stat(join(modelsDir, 'mine', 'vae_decoder_tiny', 'model.onnx'))).size > 0);
    const check = await run(['verify', join(modelsDir, 'mine')]);
    assert.equal(check.code, 0, check.out);
    assert.match(check.out, /previewDecoder/);
    // only the decoder was taken from the repo
    assert.ok(!hub.requests.some((q) => q.url.includes('taesd-onnx/resolve/main/vae_encoder')));
    await assert.rejects(stat(join(modelsDir, '.partial', 'taesd--mine')));
  });

  test('fetch of an export-only preset explains the optimum-cli export', async () => {
    const r = await run(['fetch', 'sd-turbo', '--models-dir', join(work, 'x')]);
    assert.equal(r.code, 1);
    assert.match(r.err, /optimum-cli export onnx --model stabilityai\/sd-turbo --task text-to-image/);
    assert.match(r.err, /npm run models -- defaults/);
  });

  test('bad usage exits 2', async () => {
    assert.equal((await run(['fetch', 'not a repo'])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
    const badToken = await run(['fetch', 'gated/tiny-sd15'], { HF_TOKEN: 'not-a-token', HF_ENDPOINT: hub.url });
    assert.equal(badToken.code, 2);
    assert.ok(!badToken.err.includes('not-a-token'));
  });

  test('HF_TOKEN is sent as Authorization and never printed', async () => {
    const modelsDir = join(work, 'gated');
    const before = hub.requests.length;
    const denied = await runChild(['fetch', 'gated/tiny-sd15', '--models-dir', modelsDir], { HF_ENDPOINT: hub.url });
    assert.equal(denied.code, 1, denied.output);
    assert.match(denied.output, /restricted.*set HF_TOKEN/s);

    const wrong = 'hf_wrongTOKEN987654321';
    const refused = await runChild(['fetch', 'gated/tiny-sd15', '--models-dir', modelsDir], { HF_ENDPOINT: hub.url, HF_TOKEN: wrong });
    assert.equal(refused.code, 1, refused.output);
    assert.ok(!refused.output.includes(wrong), 'a rejected token is not printed');

    const ok = await runChild(['fetch', 'gated/tiny-sd15', '--models-dir', modelsDir, '--name', 'tiny'], { HF_ENDPOINT: hub.url, HF_TOKEN: token });
    assert.equal(ok.code, 0, ok.output);
    assert.ok(!ok.output.includes(token), 'the token is never printed');
    assert.match(ok.output, /installed \d+ files/);
    const authorized = hub.requests.slice(before).filter((q) => q.authorization === `Bearer ${token}`);
    assert.ok(authorized.some((q) => q.url.includes('/tree/main')));
    assert.ok(authorized.some((q) => q.url.includes('/resolve/main/unet/model.onnx')));
    const verified = await run(['verify', join(modelsDir, 'tiny')]);
    assert.equal(verified.code, 0, verified.out);
  });
});
