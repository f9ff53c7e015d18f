// Command-line arguments of `npm run generate`: parsed with commander into typed values. Only the syntax of each value
// is checked here (a number is a number, a sampler exists); ranges and defaults come from the request schema
// (src/pipeline/request.ts): the help text quotes them, and validateRequest enforces them, so the CLI and the bot
// refuse the same requests with the same words.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { samplerFromA1111 } from '../pipeline/parameters.ts';
import { DEFAULT_STRENGTH, FALLBACK_DEFAULTS, REQUEST_RULES, SAMPLER_NAMES, type RequestField, type SamplerName } from '../pipeline/request.ts';
import type { AttentionSlicing, ProviderName, VaeTiling } from '../pipeline/types.ts';
import { PROVIDER_NAMES } from '../config.ts';
import { PAN_DIRECTIONS, ZOOM_RANGE, type PanDirection } from '../pipeline/inpaint/outpaint.ts';

/** Bad input on the command line; the message is one line meant for the person who typed it. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The same execution providers as the bot's PROVIDER; one that cannot start falls back to CPU with a warning. */
export const CLI_PROVIDERS: readonly ProviderName[] = PROVIDER_NAMES;
export type CliProvider = ProviderName;

export interface GenerateArgs {
  model: string;
  prompt: string;
  out: string;
  negative?: string;
  seed?: number;
  steps?: number;
  guidance?: number;
  sampler?: SamplerName;
  width?: number;
  height?: number;
  count: number;
  initImage?: string;
  strength?: number;
  /** Inpainting: white = repaint, black = keep (or a transparent PNG's opaque part). */
  mask?: string;
  maskBlur?: number;
  onlyMasked: boolean;
  /** Outpainting: shrink the picture into the centre of a same-size canvas by this factor (1.1-2). */
  zoomOut?: number;
  /** Outpainting: grow the canvas by half on this side. */
  pan?: PanDirection;
  attentionSlicing: AttentionSlicing;
  provider: CliProvider;
  lowMemory: boolean;
  vaeTiling: VaeTiling;
  fastDecode: boolean;
  threads?: number;
  verbose: boolean;
}

/** What parseGenerateArgs returns: arguments to run with, or text already printed (--help) and the exit code. */
export type ParsedCommandLine = { kind: 'run'; args: GenerateArgs } | { kind: 'exit'; code: number };

function integer(what: string) {
  return (value: string): number => {
    if (!/^\s*[+-]?\d+\s*$/.test(value)) throw new InvalidArgumentError(`${what} must be a whole number.`);
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${what} is too large.`);
    return n;
  };
}

function decimal(what: string) {
  return (value: string): number => {
    // Number('') is 0 and Number('0x10') is 16: accept plain decimal notation only.
    if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(value)) throw new InvalidArgumentError(`${what} must be a number.`);
    return Number(value);
  };
}

/** Our sampler ids, or A1111's labels ("Euler a", "DPM++ 2M Karras") as they appear in PNG parameters. */
function sampler(value: string): SamplerName {
  const wanted = value.trim().toLowerCase();
  const id = SAMPLER_NAMES.find((name) => name === wanted) ?? samplerFromA1111(value);
  if (!id) throw new InvalidArgumentError(`unknown sampler; choose one of ${SAMPLER_NAMES.join(', ')}.`);
  return id;
}

function attentionSlicing(value: string): AttentionSlicing {
  const v = value.trim().toLowerCase();
  if (v === 'off' || v === 'auto' || v === 'max' || v === 'flash') return v;
  if (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 1024) return Number(v);
  throw new InvalidArgumentError('use off, auto, max, flash, or a slice size from 1 to 1024.');
}

/** "1-150" for a field of the request schema. */
function span(field: RequestField): string {
  const { min, max } = REQUEST_RULES[field];
  return `${min}-${max}`;
}

function vaeTiling(value: string): VaeTiling {
  const v = value.trim().toLowerCase();
  if (v === 'auto' || v === 'off') return v;
  if (/^\d+$/.test(v) && Number(v) >= 64 && Number(v) % 64 === 0) return Number(v);
  throw new InvalidArgumentError('use auto, off, or a tile size in pixels (a multiple of 64).');
}

function buildCommand(): Command {
  return new Command('generate')
    .description('Generate images with a local Stable Diffusion ONNX model and write them as PNG files (paths printed on stdout).')
    .requiredOption('--model <dir>', 'model folder in the diffusers/optimum ONNX layout')
    .requiredOption('--prompt <text>', 'what to draw')
    .requiredOption('--out <file.png>', 'output file (missing folders are created, an existing file replaced); with --count N > 1, FILE-1.png ... FILE-N.png instead')
    .option('--negative <text>', 'negative prompt')
    .option('--seed <n>', `seed, ${span('seed')} (default: random; written into the PNG parameters)`, integer('seed'))
    .option('--steps <n>', `denoising steps, ${span('steps')} (default: the model's imagine.json, else ${FALLBACK_DEFAULTS.steps})`, integer('steps'))
    .option('--guidance <f>', `guidance scale, ${span('guidance')} (default: the model's imagine.json, else ${FALLBACK_DEFAULTS.guidance})`, decimal('guidance'))
    .option('--sampler <name>', `${SAMPLER_NAMES.join('|')} (default: the model's imagine.json, else its scheduler)`, sampler)
    .option('--width <w>', `width in pixels, ${span('width')}, a multiple of ${REQUEST_RULES.width.multipleOf} (default: the model's imagine.json, else ${FALLBACK_DEFAULTS.width})`, integer('width'))
    .option('--height <h>', `height in pixels, ${span('height')}, a multiple of ${REQUEST_RULES.height.multipleOf} (default: the model's imagine.json, else ${FALLBACK_DEFAULTS.height})`, integer('height'))
    .option('--count <n>', `images to generate, ${span('count')}; image i uses seed + i`, integer('count'), FALLBACK_DEFAULTS.count)
    .option('--init-image <file>', 'img2img: start from this image (resized to --width/--height, or fitted to the default size)')
    .option('--strength <f>', `img2img strength, ${span('strength')} (default ${DEFAULT_STRENGTH}); needs --init-image`, decimal('strength'))
    .option('--mask <file>', 'inpainting: repaint the white part of this mask (a transparent PNG: its opaque part) and keep the black; needs --init-image, resized to it')
    .option('--mask-blur <n>', `blur the mask by this many pixels, ${span('maskBlur')}, so the new part fades into the kept one (default 0)`, decimal('mask blur'))
    .option('--only-masked', 'inpaint only the area around the mask, at the full --width/--height, and paste it back (small regions get full detail)', false)
    .option('--zoom-out <f>', `outpainting: shrink the init image into the centre of a canvas of the same size and paint around it (${ZOOM_RANGE.min}-${ZOOM_RANGE.max})`, decimal('zoom out'))
    .addOption(new Option('--pan <side>', 'outpainting: grow the init image by half on this side and paint the new part').choices(PAN_DIRECTIONS))
    .option('--attention-slicing <mode>', 'off|auto|max|flash|N', attentionSlicing, 'auto' as AttentionSlicing)
    .addOption(new Option('--provider <name>', 'ONNX Runtime execution provider').choices(CLI_PROVIDERS).default('cpu'))
    .option('--vae-tiling <mode>', 'auto|off|PIXELS: decode/encode the VAE in overlapping tiles (auto: above its sample size)', vaeTiling, 'auto' as VaeTiling)
    .option('--fast-decode', "decode the final image with the model's TAESD decoder (vae_decoder_tiny) when it has one: much faster on a CPU", false)
    .option('--low-memory', 'load one sub-model at a time and run guidance as batch-1 passes (small GPUs)', false)
    .option('--threads <n>', 'ONNX Runtime intra-op threads (default: ONNX Runtime chooses)', integer('threads'))
    .option('--verbose', 'log what the inference process does on stderr', false)
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false);
}

/**
 * Parse argv (without node and the script). Throws UsageError with one line for bad input; --help is printed to
 * stdout and reported as { kind: 'exit', code: 0 }.
 */
export function parseGenerateArgs(argv: readonly string[]): ParsedCommandLine {
  const command = buildCommand()
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {}, outputError: () => {} });
  try {
    command.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return { kind: 'exit', code: 0 };
      throw new UsageError(err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim());
    }
    throw err;
  }
  const o = command.opts();
  const args: GenerateArgs = {
    model: o.model,
    prompt: o.prompt,
    out: o.out,
    negative: o.negative,
    seed: o.seed,
    steps: o.steps,
    guidance: o.guidance,
    sampler: o.sampler,
    width: o.width,
    height: o.height,
    count: o.count,
    initImage: o.initImage,
    strength: o.strength,
    mask: o.mask,
    maskBlur: o.maskBlur,
    onlyMasked: o.onlyMasked,
    zoomOut: o.zoomOut,
    pan: o.pan,
    attentionSlicing: o.attentionSlicing,
    provider: o.provider,
    lowMemory: o.lowMemory,
    vaeTiling: o.vaeTiling,
    fastDecode: o.fastDecode,
    threads: o.threads,
    verbose: o.verbose,
  };
  if (args.threads !== undefined && (args.threads < 1 || args.threads > 256)) throw new UsageError(`--threads must be from 1 to 256; got ${args.threads}`);
  if (args.strength !== undefined && args.initImage === undefined) throw new UsageError('--strength needs --init-image (strength is how far img2img moves away from the init image)');
  const edits = [args.mask && '--mask', args.zoomOut !== undefined && '--zoom-out', args.pan && '--pan'].filter(Boolean);
  if (edits.length > 1) throw new UsageError(`${edits.join(' and ')} cannot be combined; use one at a time`);
  if (edits.length === 1 && args.initImage === undefined) throw new UsageError(`${edits[0]} needs --init-image (the picture to edit)`);
  if (args.onlyMasked && !args.mask) throw new UsageError('--only-masked needs --mask');
  if (args.maskBlur !== undefined && edits.length === 0) throw new UsageError('--mask-blur needs --mask, --zoom-out or --pan');
  if (args.maskBlur !== undefined && !(args.maskBlur >= 0 && args.maskBlur <= 64)) throw new UsageError(`--mask-blur must be from 0 to 64; got ${args.maskBlur}`);
  if (args.zoomOut !== undefined && !(args.zoomOut >= ZOOM_RANGE.min && args.zoomOut <= ZOOM_RANGE.max)) throw new UsageError(`--zoom-out must be from ${ZOOM_RANGE.min} to ${ZOOM_RANGE.max}; got ${args.zoomOut}`);
  if (!/\.png$/i.test(args.out)) throw new UsageError(`--out must name a .png file; got "${args.out}"`);
  return { kind: 'run', args };
}

/** The files a run writes: FILE.png for one image; FILE-1.png ... FILE-N.png for N > 1. */
export function outputPaths(out: string, count: number): string[] {
  if (count === 1) return [out];
  const stem = out.replace(/\.png$/i, '');
  const ext = out.slice(stem.length);
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${ext}`);
}
