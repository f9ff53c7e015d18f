// The benchmark suite: `npm run bench [-- <parts...>] [--quick] [--threads N] [--out file]`.
// Parts (default: all):
//   tiny        the test models (tiny-sd15, tiny-sd15-fp16, tiny-sd2-v, tiny-lcm): per-step time, JS share, peak RSS
//   synthetic   a UNet with SD 1.5's first-level compute at 512x512, attention auto vs off, each in its own process
//   eventloop   the requesting process's event-loop delay, generating in-process vs through InferenceProcess
//   pipeline    = tiny + synthetic + eventloop
//   attention   bench/attention.ts (attention modes on a UNet-like graph)
//   moderation  bench/moderation.ts (prompt matcher speed)
//   scale       bench/scale.ts: jobs per minute through Redis/BullMQ with one worker and with two (needs redis-server)
//   load        session creation of a full-size SD 1.5 UNet (random weights, 3.4 GB, built once under bench/.models/):
//               without the optimized-graph cache, the first load that writes it, and a load from it
// Every pipeline case runs in a fresh process, so peak RSS is per case. Numbers are compared as ratios within one
// run only: the machine (and whatever else runs on it) changes between runs. Results: bench/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureTestModels } from '../test/fixtures/models.ts';
import { runScript, type ChildOutput } from './childProcess.ts';
import type { EventLoopCaseResult } from './eventLoopCase.ts';
import { toArgv, type PipelineCaseArgs, type PipelineCaseResult } from './pipelineCase.ts';
import { compareAttention, compareEventLoop, eventLoopTable, pipelineRow, pipelineTable, type AttentionComparison, type PipelineRow } from './summary.ts';
import { syntheticModelFolder } from './syntheticModel.ts';
import { SD15_FIRST_LEVEL, syntheticUnetParams } from './syntheticUnet.ts';
import { BENCH_MODELS_ROOT } from './syntheticModel.ts';
import { fullUnetModel, scaledSpec, SD15_UNET } from './fullUnet.ts';
import type { LoadCaseResult } from './loadCase.ts';
import { optimizedCachePaths, removeOptimizedCache } from '../src/pipeline/onnx/optimizedCache.ts';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const PARTS = ['tiny', 'synthetic', 'eventloop', 'attention', 'vae', 'moderation', 'scale', 'load'] as const;
type Part = (typeof PARTS)[number];
const TINY_MODELS = ['tiny-sd15', 'tiny-sd15-fp16', 'tiny-sd2-v', 'tiny-lcm'] as const;

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
    out: { type: 'string', default: here('./results/latest.json') },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (opts.help) {
  console.log('npm run bench -- [tiny|synthetic|eventloop|pipeline|attention|vae|moderation|scale|load ...] [--quick] [--threads N] [--out file]');
  process.exit(0);
}

function selectedParts(words: string[]): Set<Part> {
  if (words.length === 0) return new Set(PARTS);
  const parts = new Set<Part>();
  for (const w of words) {
    if (w === 'pipeline') ['tiny', 'synthetic', 'eventloop'].forEach((p) => parts.add(p as Part));
    else if ((PARTS as readonly string[]).includes(w)) parts.add(w as Part);
    else throw new Error(`unknown part "${w}"; expected one of ${[...PARTS, 'pipeline'].join(', ')}`);
  }
  return parts;
}

const parts = selectedParts(positionals);
const quick = opts.quick!;
const threads = Number(opts.threads);
// Sizes: the default keeps the whole suite within ~5 minutes on 2 cores; --quick is a smoke run of every part.
const SIZES = quick
  ? { tiny: { size: 128, steps: 4, warmup: 2 }, synthetic: { size: 256, steps: 3, warmup: 1 }, eventloop: { size: 256, steps: 2 }, attentionArgs: ['--runs', '1', '--tokens', '1024', '--modes', 'off,auto'], attentionForms: ['3d', 'baddbmm'], vaeArgs: ['--size', '512', '--tile', '256'], moderationPrompts: '100' }
  : { tiny: { size: 256, steps: 8, warmup: 3 }, synthetic: { size: 512, steps: 6, warmup: 1 }, eventloop: { size: 512, steps: 3 }, attentionArgs: ['--runs', '1', '--tokens', '2048', '--modes', 'off,auto,flash'], attentionForms: ['3d', '4d', 'baddbmm', 'einsum'], vaeArgs: ['--size', '1024', '--tile', '512'], moderationPrompts: '300' };

function fail(what: string, out: ChildOutput): never {
  throw new Error(`${what} failed (exit ${out.status}):\n${out.stderr.slice(-4000)}`);
}

async function pipelineCase(label: string, args: PipelineCaseArgs): Promise<PipelineRow & { raw: PipelineCaseResult }> {
  process.stdout.write(`  ${label} ... `);
  const out = await runScript(here('./pipelineCase.ts'), toArgv(args));
  if (!out.result) fail(label, out);
  const raw = out.result as PipelineCaseResult;
  const row = pipelineRow(label, raw);
  console.log(`${row.stepMedianMs.toFixed(1)} ms/step, ${row.outsideOrtStepsPct.toFixed(2)}% outside ORT, peak RSS ${row.peakRssMb.toFixed(0)} MB`);
  return { ...row, raw };
}

async function main(): Promise<void> {
  const started = new Date();
  const report: Record<string, unknown> = {
    startedAt: started.toISOString(),
    quick,
    parts: [...parts],
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` },
    intraOpThreads: threads,
  };
  const rows: (PipelineRow & { raw: PipelineCaseResult })[] = [];
  const summary: string[] = [];
  let attentionComparison: AttentionComparison | undefined;
  let eventLoop: EventLoopCaseResult[] | undefined;

  if (parts.has('tiny')) {
    const root = await ensureTestModels();
    const { size, steps, warmup } = SIZES.tiny;
    console.log(`\n[tiny] test models at ${size}x${size}, ${steps} steps (after a ${warmup}-step warm-up generation), guidance 7.5`);
    for (const name of TINY_MODELS) {
      rows.push(await pipelineCase(name, { model: join(root, name), attention: 'auto', width: size, height: size, steps, guidance: 7.5, count: 1, threads, warmup }));
    }
  }

  let syntheticDir: string | undefined;
  if (parts.has('synthetic') || parts.has('eventloop')) {
    const t = performance.now();
    syntheticDir = await syntheticModelFolder(SD15_FIRST_LEVEL);
    report.syntheticUnet = { spec: SD15_FIRST_LEVEL, params: syntheticUnetParams(SD15_FIRST_LEVEL), folder: syntheticDir, buildMs: performance.now() - t };
  }

  if (parts.has('synthetic')) {
    const { size, steps, warmup } = SIZES.synthetic;
    console.log(`\n[synthetic] SD 1.5 first-level UNet (${SD15_FIRST_LEVEL.channels} ch, ${SD15_FIRST_LEVEL.heads} heads, ~${(syntheticUnetParams(SD15_FIRST_LEVEL) / 1e6).toFixed(1)}M weights) at ${size}x${size}, guidance 7.5, ${steps} steps after a ${warmup}-step warm-up`);
    const byMode: Record<string, PipelineRow> = {};
    for (const attention of ['auto', 'off']) {
      const row = await pipelineCase(`synthetic-sd15 ${attention}`, { model: syntheticDir!, attention, width: size, height: size, steps, guidance: 7.5, count: 1, threads, warmup });
      rows.push(row);
      byMode[attention] = row;
    }
    attentionComparison = compareAttention(byMode.auto!, byMode.off!); // both filled by the loop above
  }

  if (rows.length) {
    summary.push('Pipeline (CPU, in-process; per-step numbers over the timed generation; "JS/step" = step wall time minus ONNX Runtime time)', pipelineTable(rows));
    if (attentionComparison) summary.push(`Attention on the synthetic UNet: ${attentionComparison.text}`);
    report.pipeline = rows.map(({ raw, ...row }) => ({ ...row, raw }));
    if (attentionComparison) report.attentionOnSyntheticUnet = attentionComparison;
  }

  if (parts.has('eventloop')) {
    const { size, steps } = SIZES.eventloop;
    console.log(`\n[eventloop] synthetic UNet at ${size}x${size}, ${steps} steps, attention auto: in-process vs InferenceProcess`);
    eventLoop = [];
    for (const mode of ['in-process', 'worker']) {
      process.stdout.write(`  ${mode} ... `);
      const out = await runScript(here('./eventLoopCase.ts'), ['--mode', mode, '--model', syntheticDir!, '--width', String(size), '--height', String(size), '--steps', String(steps), '--threads', String(threads)]);
      if (!out.result) fail(`event loop (${mode})`, out);
      const r = out.result as EventLoopCaseResult;
      console.log(`max delay ${r.delay.max.toFixed(0)} ms over ${r.generationMs.toFixed(0)} ms`);
      eventLoop.push(r);
    }
    const [inProcess, worker] = eventLoop;
    if (!inProcess || !worker) throw new Error('event loop bench: expected an in-process and a worker result');
    summary.push('Event loop of the requesting process while one generation runs', eventLoopTable(eventLoop), compareEventLoop(inProcess, worker));
    report.eventLoop = { cases: eventLoop, comparison: compareEventLoop(inProcess, worker) };
  }

  if (parts.has('attention')) {
    // One UNet call per mode, for each export form (SDPA, the classic processor's baddbmm form, matmul*scale, einsum).
    const outputs: Record<string, string> = {};
    for (const form of SIZES.attentionForms) {
      const args = [...SIZES.attentionArgs, '--form', form];
      console.log(`\n[attention] npx tsx bench/attention.ts ${args.join(' ')}`);
      const out = await runScript(here('./attention.ts'), [...args, '--threads', String(threads)], { echo: true });
      if (out.status !== 0) fail(`bench/attention.ts --form ${form}`, out);
      outputs[form] = out.stdout;
      const tableStart = out.stdout.indexOf('\nmode ');
      if (tableStart >= 0) summary.push(`Attention modes, ${form} export form (bench/attention.ts; one UNet-like call)`, out.stdout.slice(tableStart + 1).split('\n\n')[0]!);
    }
    report.attention = { args: SIZES.attentionArgs, forms: SIZES.attentionForms, output: outputs };
  }

  if (parts.has('vae')) {
    console.log(`\n[vae] npx tsx bench/vae.ts ${SIZES.vaeArgs.join(' ')}`);
    const out = await runScript(here('./vae.ts'), [...SIZES.vaeArgs, '--threads', String(threads)], { echo: true });
    if (out.status !== 0) fail('bench/vae.ts', out);
    report.vae = { args: SIZES.vaeArgs, output: out.stdout };
    const at = out.stdout.indexOf('VAE ratios:');
    if (at >= 0) summary.push('VAE decode: tiled vs untiled, TAESD-sized vs full (bench/vae.ts)', out.stdout.slice(at).trim());
  }

  if (parts.has('moderation')) {
    console.log(`\n[moderation] npx tsx bench/moderation.ts ${SIZES.moderationPrompts}`);
    const out = await runScript(here('./moderation.ts'), [SIZES.moderationPrompts], { echo: true });
    if (out.status !== 0) fail('bench/moderation.ts', out);
    report.moderation = { output: out.stdout };
    const lines = out.stdout.split('\n').filter((l) => /^(terms|check, second pass)/.test(l));
    summary.push('Moderation (bench/moderation.ts)', lines.join('\n'));
  }

  if (parts.has('scale')) {
    const args = quick ? ['--jobs', '4', '--size', '128', '--steps', '4'] : ['--jobs', '6', '--size', '512', '--steps', '8'];
    console.log(`\n[scale] npx tsx bench/scale.ts ${args.join(' ')}`);
    const out = await runScript(here('./scale.ts'), [...args, '--threads', String(threads)], { echo: true });
    if (out.status !== 0) {
      // redis-server missing is not a failure of the suite: say why and go on.
      const why = (out.stderr || out.stdout).split('\n').find((l) => /redis/i.test(l)) ?? 'bench/scale.ts failed';
      summary.push('Scale-out (bench/scale.ts)', `skipped: ${why.trim()}`);
      report.scale = { skipped: why.trim() };
    } else {
      report.scale = { args, output: out.stdout };
      summary.push('Scale-out through Redis/BullMQ (bench/scale.ts)', out.stdout.trim().split('\n').slice(-4).join('\n'));
    }
  }

  if (parts.has('load')) {
    // --quick: the same architecture at an eighth of the width (a few MB), to smoke-test the part.
    const spec = quick ? scaledSpec(8) : SD15_UNET;
    const t = performance.now();
    const unet = fullUnetModel(BENCH_MODELS_ROOT, spec);
    const buildS = (performance.now() - t) / 1000;
    const sizeGb = unet.bytes / 2 ** 30;
    console.log(`\n[load] ${quick ? 'SD 1.5 UNet architecture at 1/8 width' : 'full-size SD 1.5 UNet'}: ${(unet.params / 1e6).toFixed(1)}M weights, ${sizeGb.toFixed(2)} GB fp32 (${unet.built ? `built in ${buildS.toFixed(0)} s` : 'reused'}); each load in a fresh process`);
    await removeOptimizedCache(optimizedCachePaths(unet.path, 'cpu'));
    const cases: { label: string; cache: string; result: LoadCaseResult }[] = [];
    for (const [label, cache] of [['no cache', 'off'], ['first load, writing the cache', 'on'], ['from the cache', 'on']] as const) {
      process.stdout.write(`  ${label} ... `);
      const out = await runScript(here('./loadCase.ts'), ['--model', unet.path, '--cache', cache, '--threads', String(threads)]);
      if (!out.result) fail(`load (${label})`, out);
      const result = out.result as LoadCaseResult;
      console.log(`${(result.ms / 1000).toFixed(1)} s, peak RSS ${result.peakRssMb.toFixed(0)} MB`);
      cases.push({ label, cache, result });
    }
    await removeOptimizedCache(optimizedCachePaths(unet.path, 'cpu'));
    const [plain, writing, cached] = cases.map((c) => c.result);
    const ratio = plain!.ms / cached!.ms;
    const text = [
      `session creation, ${(unet.params / 1e6).toFixed(0)}M-weight UNet (${sizeGb.toFixed(2)} GB), CPU, ${threads} threads:`,
      ...cases.map((c) => `  ${c.label.padEnd(32)} ${(c.result.ms / 1000).toFixed(1).padStart(7)} s   peak RSS ${c.result.peakRssMb.toFixed(0).padStart(6)} MB`),
      `  without cache / with cache: ${ratio.toFixed(2)}x  (the load that writes the cache: ${(writing!.ms / plain!.ms).toFixed(2)}x the plain load, once)`,
    ].join('\n');
    summary.push('Model load time with and without the optimized-graph cache (ORT_GRAPH_CACHE)', text);
    report.load = { spec, params: unet.params, bytes: unet.bytes, cases, ratio };
  }

  report.durationS = (Date.now() - started.getTime()) / 1000;
  report.summary = summary.join('\n\n');
  mkdirSync(dirname(opts.out!), { recursive: true });
  writeFileSync(opts.out!, `${JSON.stringify(report, null, 2)}\n`);

  console.log(`\n${'='.repeat(100)}\nSUMMARY (${quick ? 'quick' : 'default'} sizes, ${threads} intra-op threads, ${cpus().length} cores; compare ratios within this run only)\n`);
  console.log(summary.join('\n\n'));
  console.log(`\n${report.durationS} s in all; results written to ${opts.out}`);
}

await main();
