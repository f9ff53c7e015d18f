// Attention memory/speed benchmark: a UNet-like graph whose attention matches SD 1.5's first level at 512x512
// (8 heads x 40 dims, 4096 tokens, batch 2, 77 text tokens), or with --model sdxl SDXL's first attention level at
// 1024x1024 (10 heads x 64 dims, 4096 tokens, 2048-wide text states), rewritten for each mode and run in a fresh child
// process per mode so each peak RSS belongs to that mode alone.
//   npx tsx bench/attention.ts [--model sd15|sdxl] [--runs 3] [--threads 2] [--form 3d|4d|baddbmm|einsum] [--blocks 1] [--modes off,auto,max,flash]
// Forms: 3d = matmul(q, kᵀ) * scale, 4d = torch SDPA export, baddbmm = diffusers' classic AttnProcessor export (zero
// term, Cast after the Softmax), einsum = older diffusers' einsum products.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../src/pipeline/onnx/build.ts';
import { prepareUnet } from '../src/pipeline/attention/prepare.ts';
import type { AttentionSlicing, ProviderName } from '../src/pipeline/types.ts';
import { buildUnetLike, unetLikeInputs } from '../test/attention/unetLike.ts';
import type { UnetLikeSpec } from '../test/attention/unetLike.ts';

const BATCH = 2;
const CONTEXT_TOKENS = 77;

const { values: args } = parseArgs({
  options: {
    child: { type: 'string' },
    runs: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '4096' }, // (512 / 8)^2 latent pixels
    threads: { type: 'string', default: '2' },
    form: { type: 'string', default: '3d' },
    model: { type: 'string', default: 'sd15' },
    blocks: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'off,auto,max,flash,4,16,auto@coreml' },
  },
});

const SHAPES = { sd15: { heads: 8, headDim: 40, contextDim: 768 }, sdxl: { heads: 10, headDim: 64, contextDim: 2048 } } as const;
const shape = SHAPES[args.model === 'sdxl' ? 'sdxl' : 'sd15'];
const TOKENS = Number(args.tokens);
const FORMS = ['3d', '4d', 'baddbmm', 'einsum'] as const;
if (!(FORMS as readonly string[]).includes(args.form!)) throw new Error(`--form must be one of ${FORMS.join(', ')}`);
const spec: UnetLikeSpec = { form: args.form as UnetLikeSpec['form'], ...shape, blocks: Number(args.blocks) };

interface ChildResult { loadMs: number; rssBeforeRunMb: number; peakRssMb: number; minMs: number; medianMs: number; runsMs: number[] }

/** Child: load one graph, run it, report peak RSS and time per call. */
async function child(path: string): Promise<void> {
  const started = performance.now();
  const threads = Number(args.threads);
  const session = await ort.InferenceSession.create(path, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  const loadMs = performance.now() - started;
  const i = unetLikeInputs(spec, BATCH, TOKENS, CONTEXT_TOKENS);
  const feeds = { sample: new ort.Tensor('float32', i.sample, i.sampleDims), encoder_hidden_states: new ort.Tensor('float32', i.context, i.contextDims) };
  const rssBeforeRunMb = process.memoryUsage().rss / 2 ** 20;
  const runsMs: number[] = [];
  for (let r = 0; r <= Number(args.runs); r++) {
    const t = performance.now();
    await session.run(feeds);
    if (r > 0) runsMs.push(performance.now() - t); // run 0 is warm-up
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  const minMs = sorted[0];
  const medianMs = sorted[Math.floor(sorted.length / 2)];
  if (minMs === undefined || medianMs === undefined) throw new Error(`--runs must be at least 1 (got ${args.runs})`);
  const result: ChildResult = { loadMs, rssBeforeRunMb, peakRssMb: process.resourceUsage().maxRSS / 1024, minMs, medianMs, runsMs };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

function parseMode(m: string): { mode: AttentionSlicing; provider: ProviderName; label: string } {
  const [name = '', provider] = m.split('@');
  const mode: AttentionSlicing = /^\d+$/.test(name) ? Number(name) : (name as AttentionSlicing);
  return { mode, provider: (provider ?? 'cpu') as ProviderName, label: provider ? `${name} (plan for ${provider})` : name };
}

async function main(): Promise<void> {
  const dir = join(tmpdir(), 'imagine-bot-attention-bench');
  mkdirSync(dir, { recursive: true });
  const modelPath = join(dir, `unet-like-${args.model === 'sdxl' ? 'sdxl-' : ''}${spec.form}-${spec.blocks}.onnx`);
  if (!existsSync(modelPath)) writeFileSync(modelPath, encodeModel(buildUnetLike(spec).model));
  console.log(`UNet-like ${spec.form} graph: ${spec.blocks} transformer block(s) (self + cross attention), ${spec.heads} heads x ${spec.headDim}, ` +
    `${TOKENS} tokens, batch ${BATCH}, ${CONTEXT_TOKENS} text tokens; ${args.threads} intra-op threads, ${args.runs} timed runs after 1 warm-up`);
  const self = fileURLToPath(import.meta.url);
  const rows: { label: string; applied: string; r: ChildResult }[] = [];
  for (const m of args.modes!.split(',')) {
    const { mode, provider, label } = parseMode(m);
    const prepared = await prepareUnet(modelPath, mode, { provider });
    const out = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', prepared.path, '--runs', args.runs!, '--threads', args.threads!, '--form', spec.form, '--blocks', args.blocks!, '--tokens', args.tokens!, '--model', args.model!], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) { console.error(`${label}: child failed (status ${out.status})\n${out.stderr}`); continue; }
    rows.push({ label, applied: prepared.applied, r: JSON.parse(line.slice(7)) as ChildResult });
  }
  const off = rows.find((x) => x.label === 'off')?.r;
  const pad = (s: string, n: number) => s.padEnd(n);
  const ratio = (a: number, b: number | undefined) => (b ? `${(b / a).toFixed(1)}x` : '-');
  console.log(`\n${pad('mode', 22)}${pad('rewrite', 16)}${pad('peak RSS', 11)}${pad('run extra', 11)}${pad('mem saved', 11)}${pad('min ms', 9)}${pad('median', 9)}${pad('speedup', 9)}load ms`);
  for (const { label, applied, r } of rows) {
    const extra = r.peakRssMb - r.rssBeforeRunMb;
    console.log(`${pad(label, 22)}${pad(applied, 16)}${pad(`${r.peakRssMb.toFixed(0)} MB`, 11)}${pad(`${extra.toFixed(0)} MB`, 11)}` +
      `${pad(off ? ratio(extra, off.peakRssMb - off.rssBeforeRunMb) : '-', 11)}${pad(r.minMs.toFixed(0), 9)}${pad(r.medianMs.toFixed(0), 9)}${pad(ratio(r.minMs, off?.minMs), 9)}${r.loadMs.toFixed(0)}`);
  }
  console.log('\nrun extra = peak RSS minus RSS after loading the session and making the inputs (the attention working memory);');
  console.log('mem saved and speedup (on the fastest run, the least disturbed by other load) are ratios to off (higher is better).');
}

if (args.child) await child(args.child);
else await main();
