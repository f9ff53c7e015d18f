// Broken model folders each give an error (or a signature problem) naming the file and what was expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureTestModels } from '../fixtures/models.ts';
import { loadModelFolder, ModelFolderError } from '../../src/pipeline/modelFolder.ts';
import { checkSignature, formatProblem, inspectSignatures } from '../../src/pipeline/modelSignatures.ts';
import { writeModel } from '../../scripts/testModels/graph.ts';
import { textEncoder, unet } from '../../scripts/testModels/networks.ts';

const root = await ensureTestModels();

/** A scratch copy of a test model, addressed by a relative path as a user would type it. */
function scratch(name = 'tiny-sd15'): { dir: string; done: () => void } {
  const base = mkdtempSync(join(tmpdir(), 'broken-'));
  cpSync(join(root, name), join(base, 'x'), { recursive: true });
  return { dir: relative(process.cwd(), join(base, 'x')), done: () => rmSync(base, { recursive: true, force: true }) };
}

async function rejectsWith(dir: string, message: string | RegExp): Promise<void> {
  await assert.rejects(loadModelFolder(dir), (e: unknown) => {
    assert.ok(e instanceof ModelFolderError, String(e));
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('missing folder and missing model_index.json', async () => {
  await rejectsWith('models/nope', 'models/nope: missing; expected a model folder in the diffusers ONNX layout (model_index.json, unet/model.onnx, ...)');
  const s = scratch();
  try {
    unlinkSync(join(s.dir, 'model_index.json'));
    await rejectsWith(s.dir, `${join(s.dir, 'model_index.json')}: missing; expected the pipeline index written by optimum/diffusers (model_index.json)`);
  } finally {
    s.done();
  }
});

test('missing UNet, and a PyTorch folder gets a conversion hint', async () => {
  const s = scratch();
  try {
    unlinkSync(join(s.dir, 'unet/model.onnx'));
    await rejectsWith(s.dir, `${join(s.dir, 'unet/model.onnx')}: missing; expected the UNet exported by optimum (unet/model.onnx)`);
    writeFileSync(join(s.dir, 'unet/diffusion_pytorch_model.safetensors'), 'x');
    await rejectsWith(s.dir, /unet\/model\.onnx: missing; expected the UNet exported by optimum \(unet\/model\.onnx\) \(found unet\/diffusion_pytorch_model\.safetensors: this is a PyTorch diffusers folder; export it with `optimum-cli export onnx/);
    writeFileSync(join(s.dir, 'unet/model.onnx'), '');
    await rejectsWith(s.dir, `${join(s.dir, 'unet/model.onnx')}: is empty; expected the UNet exported by optimum (unet/model.onnx)`);
  } finally {
    s.done();
  }
});

test('missing text encoder, VAE decoder, tokenizer and scheduler config', async () => {
  const cases: [string, string][] = [
    ['text_encoder/model.onnx', 'missing; expected the CLIP text encoder exported by optimum (text_encoder/model.onnx)'],
    ['vae_decoder/model.onnx', 'missing; expected the VAE decoder exported by optimum (vae_decoder/model.onnx)'],
    ['tokenizer/merges.txt', "missing; expected CLIP's tokenizer files (tokenizer/tokenizer.json, or tokenizer/vocab.json + tokenizer/merges.txt)"],
    ['scheduler/scheduler_config.json', 'missing; expected the diffusers scheduler config (scheduler/scheduler_config.json)'],
  ];
  for (const [file, problem] of cases) {
    const s = scratch();
    try {
      unlinkSync(join(s.dir, file));
      await rejectsWith(s.dir, `${join(s.dir, file)}: ${problem}`);
    } finally {
      s.done();
    }
  }
});

test('bad JSON names the file and the parse error', async () => {
  for (const file of ['model_index.json', 'scheduler/scheduler_config.json', 'vae_decoder/config.json', 'imagine.json', 'feature_extractor/preprocessor_config.json']) {
    const s = scratch();
    try {
      writeFileSync(join(s.dir, file), '{"steps": 4,,}');
      await rejectsWith(s.dir, new RegExp(`^${join(s.dir, file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: invalid JSON \\(.+\\)$`));
    } finally {
      s.done();
    }
  }
  const s = scratch();
  try {
    writeFileSync(join(s.dir, 'scheduler/scheduler_config.json'), '[1, 2]');
    await rejectsWith(s.dir, `${join(s.dir, 'scheduler/scheduler_config.json')}: expected a JSON object`);
  } finally {
    s.done();
  }
});

test('scaling factor and imagine.json are validated', async () => {
  const s = scratch();
  try {
    writeFileSync(join(s.dir, 'vae_decoder/config.json'), JSON.stringify({ scaling_factor: -1 }));
    await rejectsWith(s.dir, `${join(s.dir, 'vae_decoder/config.json')}: "scaling_factor" is -1; expected a positive number`);
    writeFileSync(join(s.dir, 'vae_decoder/config.json'), JSON.stringify({ latent_channels: 4 }));
    assert.equal((await loadModelFolder(s.dir)).vaeScalingFactor, 0.18215, 'default when the key is absent');
    unlinkSync(join(s.dir, 'vae_decoder/config.json'));
    assert.equal((await loadModelFolder(s.dir)).vaeScalingFactor, 0.18215, 'default when the file is absent');
    writeFileSync(join(s.dir, 'imagine.json'), JSON.stringify({ sampler: 'heun', steps: 0, width: 500, colour: 'red' }));
    await assert.rejects(loadModelFolder(s.dir), (e: Error) => {
      assert.ok(e.message.startsWith(`${join(s.dir, 'imagine.json')}: invalid per-model defaults (`));
      for (const part of ['"sampler"', '"steps"', '"width": width must be a multiple of 8', 'colour']) assert.ok(e.message.includes(part), `${part} in ${e.message}`);
      return true;
    });
    unlinkSync(join(s.dir, 'imagine.json'));
    assert.deepEqual((await loadModelFolder(s.dir)).defaults, {});
  } finally {
    s.done();
  }
});

test('wrong input name and wrong dtype are reported by inspectSignatures with a fix', async () => {
  const s = scratch();
  try {
    // a UNet whose first input is "x" instead of "sample"
    const badUnet = unet({ float: 'float32', timestepType: 'int64', timestepShape: [1], attention: '3d' });
    badUnet.graph!.input![0]!.name = 'x';
    for (const n of badUnet.graph!.node!) n.input = n.input!.map((i) => (i === 'sample' ? 'x' : i));
    writeModel(join(s.dir, 'unet/model.onnx'), badUnet);
    // a text encoder taking float input_ids
    const badText = textEncoder({ idsType: 'int32', float: 'float32', vocabSize: 536 });
    badText.graph!.input![0]!.type!.tensorType!.elemType = 1;
    badText.graph!.node!.unshift({ opType: 'Cast', input: ['input_ids'], output: ['ids_int'], attribute: [{ name: 'to', type: 2, i: 7 }], name: 'cast_ids', domain: '' } as never);
    for (const n of badText.graph!.node!.slice(1)) n.input = n.input!.map((i) => (i === 'input_ids' ? 'ids_int' : i));
    writeModel(join(s.dir, 'text_encoder/model.onnx'), badText);
    const problems = await inspectSignatures(await loadModelFolder(s.dir));
    const lines = problems.map(formatProblem);
    assert.equal(problems.length, 3, lines.join('\n'));
    assert.match(lines[0]!, /text_encoder\/model\.onnx: input "input_ids" is float32; expected int32 or int64\. Fix: re-export the text encoder with optimum-cli export onnx/);
    assert.match(lines[1]!, /unet\/model\.onnx: expected an input named "sample"; the model has x \(float32 \[batch_size, 4, height, width\]\), timestep \(int64 \[1\]\), encoder_hidden_states/);
    assert.match(lines[2]!, /unet\/model\.onnx: unexpected input "x" that the pipeline does not feed/);
  } finally {
    s.done();
  }
});

test('a missing external weight file is reported with the fix', async () => {
  const s = scratch('tiny-sd2-v');
  try {
    unlinkSync(join(s.dir, 'unet/model.onnx_data'));
    const problems = await inspectSignatures(await loadModelFolder(s.dir));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.part, 'unet');
    assert.match(problems[0]!.problem, /^ONNX Runtime cannot load it/);
    assert.match(problems[0]!.fix, /keep the external weight file/);
  } finally {
    s.done();
  }
});

test('checkSignature rules: timestep ranks, SDXL inputs, outputs, safety checker', () => {
  const f32 = (name: string, shape: (number | string)[]) => ({ name, type: 'float32', shape });
  const unetIn = [f32('sample', ['b', 4, 'h', 'w']), f32('encoder_hidden_states', ['b', 77, 768])];
  const ok = (t: { name: string; type: string; shape: (number | string)[] }) => checkSignature('unet', 'u', [...unetIn, t], [f32('out_sample', ['b', 4, 'h', 'w'])]);
  assert.deepEqual(ok({ name: 'timestep', type: 'int64', shape: [] }), []);
  assert.deepEqual(ok({ name: 'timestep', type: 'float16', shape: ['batch'] }), []);
  assert.match(ok({ name: 'timestep', type: 'int32', shape: [1] })[0]!.problem, /input "timestep" is int32; expected float32 or float16 or int64/);
  assert.match(ok({ name: 'timestep', type: 'int64', shape: [1, 1] })[0]!.problem, /input "timestep" has shape \[1, 1\]; expected 0 dimensions or 1 dimension/);
  const sdxl = checkSignature('unet', 'u', [...unetIn, { name: 'timestep', type: 'int64', shape: [1] }, f32('text_embeds', ['b', 1280]), f32('time_ids', ['b', 6])], [f32('out_sample', [])]);
  assert.equal(sdxl.length, 2);
  assert.match(sdxl[0]!.problem, /SDXL/);
  const enc = checkSignature('vaeEncoder', 'e', [f32('sample', ['b', 3, 'h', 'w'])], [f32('latent_dist', ['b', 8, 'h', 'w'])]);
  assert.match(enc[0]!.problem, /expected an output named "latent_sample" or "latent_parameters"; the model has latent_dist/);
  const checker = checkSignature('safetyChecker', 's', [f32('clip_input', ['b', 3, 224, 224]), f32('images', ['b', 'h', 'w', 3])], [f32('out_images', []), f32('has_nsfw_concepts', ['b'])]);
  assert.match(checker[0]!.problem, /output "has_nsfw_concepts" is float32; expected bool/);
});

test('a folder given with a trailing slash or as an absolute path loads the same', async () => {
  const a = await loadModelFolder(join(root, 'tiny-sd15') + '/');
  assert.equal(a.name, 'tiny-sd15');
  assert.ok(a.paths.unet.endsWith('/tiny-sd15/unet/model.onnx'));
  mkdirSync(join(tmpdir(), 'empty-model-dir'), { recursive: true });
  await rejectsWith(join(tmpdir(), 'empty-model-dir'), /model_index\.json: missing/);
});
