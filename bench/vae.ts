// VAE benchmark: one decode of a VAE-like decoder (test/vae/vaeLike.ts: 3x3 convolutions, a mid-block attention over
// every latent pixel, rewritten as the pipeline does, an 8x upsample and full-resolution convolutions) at 1024x1024,
// untiled vs tiled (diffusers' enable_vae_tiling geometry), and a 512x512 decode by that full decoder vs a TAESD-sized
// one (the --fast-decode path). Each case runs in its own process so its peak RSS is its own.
//   npx tsx bench/vae.ts [--size 1024] [--tile 512] [--threads 2]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encodeModel } from '../src/pipeline/onnx/build.ts';
import { prepareModel } from '../src/pipeline/prepareModel.ts';
import { createSession } from '../src/pipeline/session.ts';
import { decodeLatents } from '../src/pipeline/vae.ts';
import { decodeGeometry } from '../src/pipeline/vaeTiling.ts';
import { buildVaeDecoderLike, type VaeLikeSpec } from '../test/vae/vaeLike.ts';
import { runScript, sendResult } from './childProcess.ts';

const { values: args } = parseArgs({
  options: {
    child: { type: 'string' },
    model: { type: 'string' },
    size: { type: 'string', default: '1024' },
    tile: { type: 'string', default: '512' },
    tiled: { type: 'boolean', default: false },
    threads: { type: 'string', default: '2' },
  },
});

/** Channels chosen so a decode costs seconds, not minutes, on 2 cores, while keeping the VAE's shape of cost. */
const FULL: VaeLikeSpec = { midChannels: 64, outChannels: 32, attention: true, fullResConvs: 1 };
const TINY: VaeLikeSpec = { midChannels: 16, outChannels: 8, attention: false, fullResConvs: 1 };

interface CaseResult { ms: number; peakRssMb: number; baseRssMb: number }

async function child(): Promise<void> {
  const session = await createSession(args.model!, { provider: 'cpu', intraOpThreads: Number(args.threads) });
  const size = Number(args.size);
  const l = size / 8;
  const latents = Float32Array.from({ length: 4 * l * l }, (_, i) => Math.sin(i * 0.01));
  const baseRssMb = process.memoryUsage().rss / 2 ** 20;
  const t = performance.now();
  await decodeLatents(session, latents, [1, 4, l, l], args.tiled ? decodeGeometry(Number(args.tile)) : undefined);
  sendResult({ ms: performance.now() - t, peakRssMb: process.resourceUsage().maxRSS / 1024, baseRssMb } satisfies CaseResult);
}

async function main(): Promise<void> {
  const dir = join(tmpdir(), 'imagine-bot-vae-bench');
  mkdirSync(dir, { recursive: true });
  const paths = {} as Record<'full' | 'tiny', string>; // both filled by the loop below
  for (const [name, spec] of [['full', FULL], ['tiny', TINY]] as const) {
    const path = join(dir, `${name}.onnx`);
    if (!existsSync(path)) writeFileSync(path, encodeModel(buildVaeDecoderLike(spec)));
    paths[name] = (await prepareModel('vaeDecoder', path, { attentionSlicing: 'auto', provider: 'cpu' })).path;
  }
  const size = Number(args.size);
  const self = fileURLToPath(import.meta.url);
  const run = async (label: string, model: string, caseSize: number, tiled: boolean) => {
    const out = await runScript(self, ['--child', '1', '--model', model, '--size', String(caseSize), '--tile', args.tile!, '--threads', args.threads!, ...(tiled ? ['--tiled'] : [])]);
    if (!out.result) throw new Error(`${label} failed (exit ${out.status}): ${out.stderr.slice(-2000)}`);
    const r = out.result as CaseResult;
    console.log(`  ${label.padEnd(34)} ${r.ms.toFixed(0).padStart(7)} ms   peak RSS ${r.peakRssMb.toFixed(0).padStart(6)} MB (${(r.peakRssMb - r.baseRssMb).toFixed(0)} MB for the decode)`);
    return r;
  };
  console.log(`VAE-like decoder (${FULL.midChannels} mid / ${FULL.outChannels} full-resolution channels, mid-block attention) and a TAESD-sized one (${TINY.midChannels}/${TINY.outChannels}), ${args.threads} threads`);
  const untiled = await run(`${size}x${size} untiled`, paths.full, size, false);
  const tiled = await run(`${size}x${size} tiled (${args.tile} px tiles)`, paths.full, size, true);
  const full512 = await run('512x512 full decoder', paths.full, 512, false);
  const taesd512 = await run('512x512 TAESD-sized decoder', paths.tiny, 512, false);
  const extra = (r: CaseResult) => r.peakRssMb - r.baseRssMb;
  console.log(`\nVAE ratios:`);
  console.log(`  tiled / untiled at ${size}x${size}: decode memory ${(extra(tiled) / extra(untiled)).toFixed(2)}x, peak RSS ${(tiled.peakRssMb / untiled.peakRssMb).toFixed(2)}x, time ${(tiled.ms / untiled.ms).toFixed(2)}x`);
  console.log(`  TAESD-sized / full at 512x512: time ${(taesd512.ms / full512.ms).toFixed(2)}x, decode memory ${(extra(taesd512) / extra(full512)).toFixed(2)}x`);
}

if (args.child) await child();
else await main();
