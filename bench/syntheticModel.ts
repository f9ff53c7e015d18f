// A complete model folder around the synthetic UNet: tiny-sd15's tokenizer, scheduler, VAE and safety checker, a
// tiny text encoder that outputs 768-wide embeddings (the UNet's encoder_hidden_states width must match it), and the
// synthetic UNet. Written under bench/.models/ (git-ignored) and rebuilt only when the spec or these sources change.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelProto } from '../src/pipeline/onnx/build.ts';
import { GraphBuilder, pseudoRandom, valueInfo, writeModel } from '../scripts/testModels/graph.ts';
import { ensureTestModels } from '../test/fixtures/models.ts';
import { buildSyntheticUnet, LATENT_CHANNELS, type SyntheticUnetSpec } from './syntheticUnet.ts';

export const BENCH_MODELS_ROOT = fileURLToPath(new URL('.models/', import.meta.url));
const SEQUENCE = 77;

/** input_ids [b, s] int32 -> last_hidden_state = tanh(E[ids] + P[s]) [b, s, hidden]: a CLIP-shaped embedding, cheaply. */
export function buildWideTextEncoder(vocabSize: number, hidden: number): ModelProto {
  const g = new GraphBuilder('float32');
  const emb = g.op('Gather', [g.weight('token_embedding', [vocabSize, hidden], pseudoRandom(vocabSize * hidden, 1, 1)), 'input_ids'], { axis: 0 });
  const positions = g.weight('position_embedding', [SEQUENCE, hidden], pseudoRandom(SEQUENCE * hidden, 2, 0.5));
  const pos = g.op('Slice', [positions, g.int64([0]), g.dims('input_ids', 1, 2), g.int64([0])]);
  const last = g.op('Tanh', [g.op('Add', [emb, pos])], {}, 'last_hidden_state');
  g.op('ReduceMean', [last], { axes: [1], keepdims: 0 }, 'pooler_output');
  return g.build(
    [valueInfo('input_ids', 'int32', ['batch_size', 'sequence_length'])],
    [valueInfo('last_hidden_state', 'float32', ['batch_size', 'sequence_length', hidden]), valueInfo('pooler_output', 'float32', ['batch_size', hidden])],
    'text_encoder',
  );
}

function fingerprint(spec: SyntheticUnetSpec): string {
  const hash = createHash('sha256').update(JSON.stringify(spec));
  for (const f of ['./syntheticUnet.ts', './syntheticModel.ts', '../scripts/testModels/graph.ts', '../src/pipeline/onnx/build.ts']) {
    hash.update(readFileSync(fileURLToPath(new URL(f, import.meta.url))));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Build (or reuse) the synthetic model folder for a spec; returns its absolute path. */
export async function syntheticModelFolder(spec: SyntheticUnetSpec, root = BENCH_MODELS_ROOT): Promise<string> {
  const dir = join(root, `synthetic-sd15-c${spec.channels}-h${spec.heads}-ctx${spec.contextDim}`);
  const stampPath = join(dir, '.stamp');
  const stamp = fingerprint(spec);
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return dir;

  const base = join(await ensureTestModels(), 'tiny-sd15');
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  // Everything but the two networks that must change width; their folders (with any cached attention rewrites) are rebuilt.
  cpSync(base, building, { recursive: true, filter: (src) => !/[/\\](unet|text_encoder)([/\\]|$)/.test(src.slice(base.length)) });
  const vocab = Object.keys(JSON.parse(readFileSync(join(base, 'tokenizer', 'vocab.json'), 'utf8')) as Record<string, number>).length;
  writeModel(join(building, 'text_encoder', 'model.onnx'), buildWideTextEncoder(vocab, spec.contextDim));
  writeModel(join(building, 'unet', 'model.onnx'), buildSyntheticUnet(spec));
  writeFileSync(
    join(building, 'unet', 'config.json'),
    JSON.stringify({ _class_name: 'UNet2DConditionModel', in_channels: LATENT_CHANNELS, out_channels: LATENT_CHANNELS, cross_attention_dim: spec.contextDim, attention_head_dim: spec.channels / spec.heads, sample_size: 64 }, null, 2),
  );
  writeFileSync(join(building, 'imagine.json'), JSON.stringify({ sampler: 'pndm', steps: 4, guidance: 7.5, width: 512, height: 512 }, null, 2));
  writeFileSync(join(building, '.stamp'), stamp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return dir;
}
