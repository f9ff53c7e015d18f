// Which repo files become which model-folder files: ONNX parts and configs only, subfolders mapped, renames applied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectSubfolder, describeUnusable, selectFiles, type ListedEntry } from '../../src/models/repoFiles.ts';
import { findPreset, PRESETS } from '../../src/models/presets.ts';
import { imagineDefaultsSchema } from '../../src/pipeline/modelFolder.ts';

const file = (path: string, size = 10, lfs = false): ListedEntry => ({ type: 'file', path, size, oid: 'a'.repeat(40), ...(lfs ? { lfs: { oid: 'b'.repeat(64), size } } : {}) });

test('only the ONNX layout is taken from a mixed repo', () => {
  const entries = [
    file('model_index.json'),
    file('README.md'),
    file('teaser.png'),
    file('LCM_Dreamshaper_v7_4k.safetensors', 1000, true),
    file('unet/config.json'),
    file('unet/model.onnx', 100, true),
    file('unet/model.onnx_data', 1000, true),
    file('unet/diffusion_pytorch_model.safetensors', 1000, true),
    file('unet/model_fp16.onnx', 100, true),
    file('text_encoder/model.onnx', 100, true),
    file('text_encoder/model.safetensors', 100, true),
    file('vae_decoder/model.onnx', 100, true),
    file('vae/diffusion_pytorch_model.safetensors', 100, true),
    file('tokenizer/vocab.json'),
    file('tokenizer/merges.txt'),
    file('scheduler/scheduler_config.json'),
    file('safety_checker/config.json'),
    file('safety_checker/model.safetensors', 100, true),
    file('controlnet/model.onnx', 100, true),
  ];
  const picked = selectFiles(entries, {});
  assert.deepEqual(picked.map((f) => f.path).sort(), [
    'model_index.json',
    'scheduler/scheduler_config.json',
    'text_encoder/model.onnx',
    'tokenizer/merges.txt',
    'tokenizer/vocab.json',
    'unet/config.json',
    'unet/model.onnx',
    'unet/model.onnx_data',
    'vae_decoder/model.onnx',
  ]);
  const data = picked.find((f) => f.path === 'unet/model.onnx_data')!;
  assert.equal(data.sha256, 'b'.repeat(64), 'LFS files are checked by sha256');
  assert.equal(data.gitOid, undefined);
  assert.equal(picked.find((f) => f.path === 'model_index.json')!.gitOid, 'a'.repeat(40), 'git files by their blob id');
});

test('an export under onnx/ is found and mapped to the folder root', () => {
  const entries = [file('README.md'), file('onnx/model_index.json'), file('onnx/unet/model.onnx', 100, true), file('onnx/vae_decoder/model.onnx'), file('unet/diffusion_pytorch_model.bin')];
  assert.equal(detectSubfolder(entries), 'onnx');
  assert.deepEqual(selectFiles(entries, {}).map((f) => [f.repoPath, f.path]), [
    ['onnx/model_index.json', 'model_index.json'],
    ['onnx/unet/model.onnx', 'unet/model.onnx'],
    ['onnx/vae_decoder/model.onnx', 'vae_decoder/model.onnx'],
  ]);
  assert.deepEqual(selectFiles([file('x/unet/model.onnx')], { subfolder: 'x' }).map((f) => f.path), ['unet/model.onnx']);
});

test('the taesd preset takes the decoder only, as vae_decoder_tiny/', () => {
  const taesd = findPreset('taesd')!;
  const picked = selectFiles([file('vae_decoder/model.onnx'), file('vae_decoder/config.json'), file('vae_encoder/model.onnx'), file('README.md')], taesd.source!);
  assert.deepEqual(picked.map((f) => [f.repoPath, f.path]), [
    ['vae_decoder/model.onnx', 'vae_decoder_tiny/model.onnx'],
    ['vae_decoder/config.json', 'vae_decoder_tiny/config.json'],
  ]);
});

test('unusable repos are explained', () => {
  assert.match(describeUnusable([file('unet/diffusion_pytorch_model.safetensors')], 'a/b'), /PyTorch weights only; export it/);
  assert.match(describeUnusable([file('text_encoder_2/diffusion_pytorch_model.safetensors'), file('unet/diffusion_pytorch_model.safetensors')], 'a/b'), /PyTorch weights only/);
  assert.match(describeUnusable([file('unet/openvino_model.xml')], 'a/b'), /OpenVINO/);
});

test('every preset has valid defaults and a source or an export recipe', () => {
  for (const p of PRESETS) {
    assert.ok(p.source || p.exportFrom, p.name);
    if (p.defaults) assert.ok(imagineDefaultsSchema.safeParse(p.defaults).success, p.name);
    if (p.kind === 'model') assert.ok(p.defaults, `${p.name} ships defaults`);
  }
  assert.deepEqual(findPreset('lcm-dreamshaper-v7')!.defaults, { sampler: 'lcm', steps: 4, guidance: 8, width: 512, height: 512 });
  assert.equal(findPreset('sd-turbo')!.defaults!.steps, 1);
  assert.deepEqual(findPreset('sdxl-turbo')!.defaults, { sampler: 'euler-a', steps: 1, guidance: 0, width: 512, height: 512 });
  assert.deepEqual(findPreset('sdxl-base')!.defaults, { sampler: 'euler', steps: 30, guidance: 5, width: 1024, height: 1024 });
});

test('an SDXL repo (diffusers layout with ONNX beside the PyTorch weights) yields both encoders and tokenizers', () => {
  const repo = [
    'model_index.json',
    'text_encoder/model.onnx',
    'text_encoder/model.safetensors',
    'text_encoder_2/model.onnx',
    'text_encoder_2/model.onnx_data',
    'text_encoder_2/model.fp16.safetensors',
    'text_encoder_2/config.json',
    'tokenizer/vocab.json',
    'tokenizer_2/vocab.json',
    'tokenizer_2/merges.txt',
    'unet/model.onnx',
    'unet/model.onnx_data',
    'unet/openvino_model.bin',
    'vae_decoder/model.onnx',
    'scheduler/scheduler_config.json',
    'sd_xl_turbo_1.0.safetensors',
  ].map((p) => file(p));
  assert.deepEqual(selectFiles(repo, findPreset('sdxl-turbo')!.source!).map((f) => f.path), [
    'model_index.json',
    'text_encoder/model.onnx',
    'text_encoder_2/model.onnx',
    'text_encoder_2/model.onnx_data',
    'text_encoder_2/config.json',
    'tokenizer/vocab.json',
    'tokenizer_2/vocab.json',
    'tokenizer_2/merges.txt',
    'unet/model.onnx',
    'unet/model.onnx_data',
    'vae_decoder/model.onnx',
    'scheduler/scheduler_config.json',
  ]);
});
