// `npm run --silent generate -- --model DIR --prompt TEXT --out FILE.png [options]`: one generation from the command
// line, through the same inference process (InferenceProcess) the bot uses.
//
// Output contract: stdout holds only the paths written, one per line (FILE.png, or FILE-1.png ... FILE-N.png for
// --count N > 1), so scripts can read it. Each PNG carries A1111 "parameters" text; running again with those values
// (and the same init image, for img2img) gives the same pixels. Files are written atomically (temporary file +
// rename), so an interrupted or failed run never leaves a partial image; missing parent directories of --out are
// created, existing files are replaced. Progress goes to stderr, and only when stderr is a terminal.
//
// Exit codes: 0 written; 2 bad input (one line on stderr naming the problem); 1 the run failed; 130 cancelled by
// Ctrl-C / SIGTERM (the generation is cancelled in the inference process, nothing is written).
import sharp from 'sharp';
import { access, constants, readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadInitImage, InitImageError } from '../pipeline/initImage.ts';
import { loadMask } from '../pipeline/inpaint/loadMask.ts';
import { outpaintCanvas } from '../pipeline/inpaint/outpaint.ts';
import { loadModelFolder, ModelFolderError, type ModelFolder } from '../pipeline/modelFolder.ts';
import { formatParameters } from '../pipeline/parameters.ts';
import { GenerationCancelledError, InvalidRequestError, validateRequest } from '../pipeline/pipeline.ts';
import { encodePng } from '../pipeline/png.ts';
import { FALLBACK_DEFAULTS, randomSeed } from '../pipeline/request.ts';
import type { GenerateRequest, ProgressEvent, RgbImage } from '../pipeline/types.ts';
import { InferenceProcess, type WorkerResult } from '../pipeline/inferenceProcess/client.ts';
import { writeFileAtomic } from '../storage/files.ts';
import { modelFolderFix } from '../models/verify.ts';
import { outputPaths, parseGenerateArgs, UsageError, type GenerateArgs } from './generateArgs.ts';
import { isWarning } from '../pipeline/logLevel.ts';

/** Init images whose header claims more pixels than this are refused before decoding. */
const INIT_IMAGE_INPUT_LIMIT = 64_000_000;
const SOFTWARE = 'imagine-bot';

const EXIT = { ok: 0, failed: 1, badInput: 2, cancelled: 130 } as const;

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ').trim();

/** Refuse an --out that cannot be written before spending minutes on the generation. */
async function checkOutputs(paths: string[]): Promise<void> {
  const [first] = paths;
  if (first === undefined) throw new UsageError('--out: no output file');
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) throw new UsageError(`--out: ${path} is a directory; give a file name ending in .png`);
  }
  // The nearest existing ancestor must be a writable directory (missing ones are created when writing).
  let dir = resolve(dirname(first));
  for (;;) {
    const info = await stat(dir).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) throw new UsageError(`--out: ${dir} is not a directory`);
      try {
        await access(dir, constants.W_OK);
      } catch {
        throw new UsageError(`--out: cannot write in ${dir} (permission denied)`);
      }
      return;
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/** "Only the masked area" works on the init image at its own size, up to this many pixels (it generates a crop). */
const ONLY_MASKED_MAX_PIXELS = 2048 * 2048;

async function readFileArg(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(err)})`}`);
  }
}

/** The init image's own size in multiples of 8, shrunk (never enlarged) to fit `maxPixels`. */
function nativeSize(width: number, height: number, maxPixels: number): { width: number; height: number } {
  const s = Math.min(1, Math.sqrt(maxPixels / (width * height)));
  return { width: Math.max(8, Math.floor((width * s) / 8) * 8), height: Math.max(8, Math.floor((height * s) / 8) * 8) };
}

async function readMask(args: GenerateArgs, image: RgbImage): Promise<GenerateRequest['mask']> {
  const bytes = await readFileArg('--mask', args.mask!);
  try {
    return (await loadMask(bytes, { width: image.width, height: image.height, limitInputPixels: INIT_IMAGE_INPUT_LIMIT })).mask;
  } catch (err) {
    if (err instanceof InitImageError) throw new UsageError(`--mask ${args.mask}: ${err.message}`);
    throw err;
  }
}

async function readInitImage(args: GenerateArgs, folder: ModelFolder, size: { width: number; height: number }): Promise<RgbImage> {
  if (!folder.paths.vaeEncoder) throw new UsageError(`--init-image: the model ${folder.name} has no vae_encoder/model.onnx, so it cannot do img2img`);
  const bytes = await readFileArg('--init-image', args.initImage!);
  try {
    let exact: { width?: number; height?: number } = { width: args.width, height: args.height };
    if (args.onlyMasked) {
      // The picture keeps its own size; --width/--height are the size the masked crop is generated at.
      const meta = await sharp(bytes).metadata().catch(() => undefined);
      const swap = (meta?.orientation ?? 1) >= 5;
      const w = (swap ? meta?.height : meta?.width) ?? size.width;
      const h = (swap ? meta?.width : (meta?.pageHeight ?? meta?.height)) ?? size.height;
      exact = nativeSize(w, h, ONLY_MASKED_MAX_PIXELS);
    }
    const loaded = await loadInitImage(bytes, {
      ...exact,
      // Without an explicit size the image keeps its aspect ratio at about the model's default pixel count.
      maxPixels: size.width * size.height,
      multiple: 64,
      limitInputPixels: INIT_IMAGE_INPUT_LIMIT,
    });
    return loaded.image;
  } catch (err) {
    if (err instanceof InitImageError) throw new UsageError(`--init-image ${args.initImage}: ${err.message}`);
    throw err;
  }
}

/** The request the arguments describe, with the model's defaults filled in and every value checked. */
export async function buildRequest(args: GenerateArgs, folder: ModelFolder): Promise<GenerateRequest> {
  const d = folder.defaults;
  const size = { width: args.width ?? d.width ?? FALLBACK_DEFAULTS.width, height: args.height ?? d.height ?? FALLBACK_DEFAULTS.height };
  const request: GenerateRequest = {
    prompt: args.prompt,
    negativePrompt: args.negative,
    seed: args.seed ?? randomSeed(),
    steps: args.steps ?? d.steps ?? FALLBACK_DEFAULTS.steps,
    guidance: args.guidance ?? d.guidance ?? FALLBACK_DEFAULTS.guidance,
    sampler: args.sampler ?? d.sampler,
    width: size.width,
    height: size.height,
    count: args.count,
    // With a mask the pipeline chooses (1, as diffusers' inpainting; a little less for outpainting on 4-channel UNets).
    strength: args.initImage ? (args.strength ?? (isEdit(args) ? undefined : FALLBACK_DEFAULTS.strength)) : undefined,
  };
  // Check sizes and numbers before decoding the init image: its size follows from them.
  validateRequest(request);
  if (args.initImage) {
    request.initImage = await readInitImage(args, folder, size);
    if (!args.onlyMasked) {
      request.width = request.initImage.width;
      request.height = request.initImage.height;
    }
    if (args.mask) {
      request.mask = await readMask(args, request.initImage);
      request.maskBlur = args.maskBlur;
      request.onlyMasked = args.onlyMasked || undefined;
    } else if (args.zoomOut !== undefined || args.pan) {
      // The canvas may grow (pan) to half again the default pixel count; beyond that the picture shrinks to fit.
      const canvas = await outpaintCanvas(request.initImage, args.pan ? { pan: args.pan } : { zoomOut: args.zoomOut! }, Math.floor(size.width * size.height * 1.5));
      Object.assign(request, { initImage: canvas.image, mask: canvas.mask, maskPrefilled: true, maskBlur: args.maskBlur, width: canvas.image.width, height: canvas.image.height });
    }
    validateRequest(request);
  }
  return request;
}

function isEdit(args: GenerateArgs): boolean {
  return Boolean(args.mask || args.pan || args.zoomOut !== undefined);
}

/** A1111's infotext keys for inpainting, plus ours for outpainting (the mask itself is not in the PNG). */
function maskParameters(request: GenerateRequest, args?: GenerateArgs): Record<string, string | number> {
  const extra: Record<string, string | number> = {};
  if (!request.mask) return extra;
  if (request.maskBlur) extra['Mask blur'] = request.maskBlur;
  if (request.onlyMasked) extra['Inpaint area'] = 'Only masked';
  if (args?.zoomOut !== undefined) extra['Outpaint'] = `zoom out ${args.zoomOut}`;
  if (args?.pan) extra['Outpaint'] = `pan ${args.pan}`;
  return extra;
}

export function parametersFor(request: GenerateRequest, result: WorkerResult, seed: number, args?: GenerateArgs): string {
  return formatParameters({
    prompt: request.prompt,
    negativePrompt: request.negativePrompt,
    steps: request.steps,
    sampler: result.sampler,
    guidance: request.guidance,
    seed,
    width: request.onlyMasked ? request.initImage!.width : request.width,
    height: request.onlyMasked ? request.initImage!.height : request.height,
    model: result.modelName,
    denoisingStrength: request.initImage ? (request.strength ?? (request.mask ? result.strength : undefined)) : undefined,
    extra: maskParameters(request, args),
  });
}

function progressPrinter(): { onProgress?: (e: ProgressEvent) => void; finish: () => void } {
  if (!process.stderr.isTTY) return { finish: () => {} };
  let drawn = false;
  return {
    onProgress: (e) => {
      drawn = true;
      process.stderr.write(`\r\x1b[Kstep ${e.step}/${e.total} (${(e.elapsedMs / 1000).toFixed(1)} s)`);
    },
    finish: () => {
      if (drawn) process.stderr.write('\r\x1b[K');
      drawn = false;
    },
  };
}

async function run(argv: readonly string[]): Promise<number> {
  const parsed = parseGenerateArgs(argv);
  if (parsed.kind === 'exit') return parsed.code;
  const args = parsed.args;
  // Warnings (e.g. attention left at full size) are printed even without --verbose.
  const log = (m: string) => { if (args.verbose || isWarning(m)) process.stderr.write(`${m}\n`); };

  const folder = await loadModelFolder(args.model);
  const request = await buildRequest(args, folder);
  const outputs = outputPaths(args.out, request.count);
  await checkOutputs(outputs);

  // Ctrl-C while loading: exit at once (the inference process exits when its parent goes). While generating: cancel
  // it cleanly. While writing: finish the atomic writes first. A second Ctrl-C always exits at once.
  let phase: 'prepare' | 'generate' | 'write' = 'prepare';
  let interrupts = 0;
  let worker: InferenceProcess | undefined;
  const controller = new AbortController();
  const onSignal = () => {
    interrupts++;
    if (phase === 'prepare' || interrupts > 1) {
      worker?.kill();
      process.stderr.write(`generate: cancelled${phase === 'write' ? '' : '; nothing was written'}\n`);
      process.exit(EXIT.cancelled);
    }
    if (phase === 'generate') controller.abort('cancelled');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const progress = progressPrinter();
  try {
    worker = await InferenceProcess.start(
      { modelDir: folder.dir, provider: args.provider, attentionSlicing: args.attentionSlicing, lowMemory: args.lowMemory, vaeTiling: args.vaeTiling, fastDecode: args.fastDecode, intraOpThreads: args.threads },
      { log },
    );
    if (args.provider !== 'cpu' && worker.info.provider === 'cpu') process.stderr.write(`warning: the ${args.provider} execution provider is unavailable; running on CPU\n`);
    phase = 'generate';
    let result: WorkerResult;
    try {
      result = await worker.generate(request, { signal: controller.signal, onProgress: progress.onProgress });
    } catch (err) {
      // The inference process may have died of the same Ctrl-C (it shares the terminal's process group).
      if (controller.signal.aborted) throw new GenerationCancelledError();
      throw err;
    } finally {
      progress.finish();
    }
    if (controller.signal.aborted) throw new GenerationCancelledError();
    phase = 'write';
    if (result.promptTruncated) process.stderr.write('warning: the prompt was cut to the text encoder\'s 77-token limit\n');
    // Encode everything before writing anything: an encoding failure then leaves no file at all.
    const files = await Promise.all(result.images.map(async (image, i) => {
      const path = outputs[i];
      if (path === undefined) throw new Error(`the pipeline returned ${result.images.length} images for ${outputs.length} output files`);
      return { path, png: await encodePng(image, { parameters: parametersFor(request, result, image.seed, args), software: SOFTWARE }), nsfw: image.nsfw };
    }));
    for (const { path, png, nsfw } of files) {
      await writeFileAtomic(path, png);
      process.stdout.write(`${path}\n`);
      if (nsfw) process.stderr.write(`warning: the safety checker flagged ${path}\n`);
    }
    return EXIT.ok;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await worker?.dispose();
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof ModelFolderError || err instanceof InvalidRequestError || err instanceof InitImageError) return EXIT.badInput;
  // Errors from the inference process arrive as plain Errors carrying the original name.
  if (err instanceof Error && (err.name === 'ModelFolderError' || err.name === 'InvalidRequestError')) return EXIT.badInput;
  if (err instanceof GenerationCancelledError) return EXIT.cancelled;
  return EXIT.failed;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    const code = exitCodeFor(err);
    // A model folder that does not load gets the same "Fix:" as `npm run models -- verify`.
    const message = err instanceof ModelFolderError ? `${err.message}. Fix: ${modelFolderFix(err, 'pass its folder with --model')}` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`generate: ${oneLine(code === EXIT.cancelled ? 'cancelled; nothing was written' : message)}\n`);
    if (code === EXIT.failed && process.env.IMAGINE_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return code;
  }
}

// Run only as a script, so tests can import buildRequest and friends.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
