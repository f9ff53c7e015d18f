// Stable Diffusion (1.x/2.x and SDXL) txt2img and img2img over a diffusers/optimum ONNX export, as diffusers' pipelines
// compute them: text conditioning (per family, ./conditioning.ts), seeded initial noise, the scheduler loop with
// classifier-free guidance, VAE decode, safety check.
// No Discord and no threads here: the inference process (./inferenceProcess) wraps this class so ONNX Runtime's blocking runs
// never stall the bot's event loop.
import { loadModelFolder, type ModelFolder } from './modelFolder.ts';
import { loadTokenizer } from './tokenizer.ts';
import { createScheduler, defaultSamplerFor, img2imgTimesteps, normalizeSchedulerConfig, stepProgress } from './schedulers/index.ts';
import type { SamplerName, Scheduler, SchedulerConfig } from './schedulers/types.ts';
import { perImageNoise, TorchGenerator } from './random.ts';
import type { SessionSettings } from './session.ts';
import { SessionPool, type Part } from './sessionPool.ts';
import { GenerationCancelledError, InvalidRequestError } from './errors.ts';
import { validateRequest } from './validateRequest.ts';
import { concatFloat32 } from './tensor.ts';
import type { TextTokenizer } from './textEncoder.ts';
import { sdConditioning, sdxlConditioning, type UnetConditioning } from './conditioning.ts';
import { guidanceEmbedding, Unet } from './unet.ts';
import { decodeLatents, encodeChw, encodeImage } from './vae.ts';
import { appendChannels, applyOverlay, maskStrength, inpaintConditioning, LatentBlend, latentMaskFor, maskedImageChw, planInpaint } from './inpaint/index.ts';
import { latentPreview } from './preview.ts';
import { clipPreprocessing, isFlagged, type ClipPreprocessing } from './safetyChecker.ts';
import { prefetch } from './onnx/prefetch.ts';
import { float32ModelPath } from './onnx/upcast.ts';
import type { ModelFamily } from './family.ts';
import { defaultStrength } from './request.ts';
import { isPreparedPart, prepareModel } from './prepareModel.ts';
import { tilingFor } from './vaeTiling.ts';
import { WARNING_PREFIX } from './logLevel.ts';
import type { GenerateRequest, GenerateResult, GeneratedImage, PipelineOptions, ProgressEvent, ProviderName, RgbImage } from './types.ts';


// Callers import these from here; they live in their own modules.
export { GenerationCancelledError, InvalidRequestError } from './errors.ts';
export { validateRequest } from './validateRequest.ts';

export interface GenerateHooks {
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

export interface PipelineInfo {
  modelName: string;
  modelDir: string;
  /** The pipeline family detected from the folder (sd: 1.x/2.x/LCM/turbo; sdxl: SDXL base/turbo and fine-tunes). */
  family: ModelFamily;
  provider: ProviderName;
  defaultSampler: SamplerName;
  hasSafetyChecker: boolean;
  supportsImg2Img: boolean;
  /** LCM-style UNet: guidance is embedded, not classifier-free. */
  embeddedGuidance: boolean;
  attention: string;
}


/** Per-run timing: total wall time and the part of it spent inside ONNX Runtime. */
export interface RunTimings {
  totalMs: number;
  onnxMs: number;
  /** UNet passes (PNDM runs one more than the steps asked for). */
  steps: number;
}


export class StableDiffusionPipeline {
  private lastTimings: RunTimings = { totalMs: 0, onnxMs: 0, steps: 0 };
  private actualProvider: ProviderName;
  private attentionNote = 'not loaded yet';
  private previewFailed = false;
  /** Whether the UNet takes guidance as an embedding (timestep_cond), read from it at load. */
  private unetEmbedsGuidance = false;
  /** VAE tiling geometry (vaeTiling.ts); undefined when tiling is off. */
  private get tiling() {
    return tilingFor(this.options.vaeTiling, this.folder.vaeSampleSize);
  }

  private constructor(
    readonly options: PipelineOptions,
    readonly folder: ModelFolder,
    private readonly tokenizer: TextTokenizer,
    /** SDXL's tokenizer_2; undefined for the SD family. */
    private readonly tokenizer2: TextTokenizer | undefined,
    private readonly schedulerConfig: SchedulerConfig,
    private readonly pool: SessionPool,
    private readonly clipPrep: ClipPreprocessing | undefined,
    private readonly log: (message: string) => void,
  ) {
    this.actualProvider = options.provider;
  }

  static async load(options: PipelineOptions, log: (message: string) => void = () => {}): Promise<StableDiffusionPipeline> {
    const folder = await loadModelFolder(options.modelDir);
    const tokenizer = await loadTokenizer(folder.tokenizerDir);
    const tokenizer2 = folder.tokenizer2Dir ? await loadTokenizer(folder.tokenizer2Dir) : undefined;
    const schedulerConfig = normalizeSchedulerConfig(folder.schedulerConfig);
    tilingFor(options.vaeTiling, folder.vaeSampleSize); // a bad tile size fails at load, not in the first job
    if (options.fastDecode && !folder.paths.previewDecoder) log(`${WARNING_PREFIX}fast decode asked for, but ${folder.name} has no TAESD decoder (vae_decoder_tiny/model.onnx); the full VAE decodes`);
    const settings: SessionSettings = { provider: options.provider, intraOpThreads: options.intraOpThreads, interOpThreads: options.interOpThreads, optimizedCache: options.graphCache ?? false, log };
    let pipeline: StableDiffusionPipeline | undefined;
    const pool = new SessionPool(
      {
        textEncoder: folder.paths.textEncoder,
        textEncoder2: folder.paths.textEncoder2,
        unet: folder.paths.unet,
        vaeDecoder: folder.paths.vaeDecoder,
        vaeEncoder: folder.paths.vaeEncoder,
        safetyChecker: folder.paths.safetyChecker,
        previewDecoder: folder.paths.previewDecoder,
      },
      settings,
      async (part, path) => {
        // StableDiffusionXL(Img2Img)Pipeline runs a float16 VAE in float32 when its config says force_upcast (SDXL's
        // VAE overflows in half precision; the fp16-fix VAE sets it false). The SD pipelines never upcast.
        const upcast = folder.family === 'sdxl' && ((part === 'vaeDecoder' && folder.vaeForceUpcast) || (part === 'vaeEncoder' && folder.vaeEncoderForceUpcast));
        const file = upcast ? await float32ModelPath(path, log) : path;
        if (!isPreparedPart(part)) return file;
        const prepared = await prepareModel(part, file, { attentionSlicing: options.attentionSlicing, provider: options.provider, log });
        if (pipeline && part === 'unet') pipeline.attentionNote = prepared.attention;
        return prepared.path;
      },
    );
    const clipPrep = folder.paths.safetyChecker ? clipPreprocessing(folder.featureExtractorConfig) : undefined;
    pipeline = new StableDiffusionPipeline(options, folder, tokenizer, tokenizer2, schedulerConfig, pool, clipPrep, log);
    if (!options.lowMemory) {
      // Load what every generation needs now, so the first job does not pay for it and a broken export fails at start.
      // Sessions are created one after another (onnxruntime-node creates them synchronously on this thread); the disk
      // works in parallel: the UNet's and the VAE's files are read ahead while the text encoders' sessions load.
      const ahead = prefetch((await Promise.all((['unet', 'vaeDecoder'] as const).map((part) => pool.sessionFiles(part)))).flat());
      if (ahead.bytes > 0) log(`reading ${Math.round(ahead.bytes / 2 ** 20)} MB of model files ahead while the text encoder loads`);
      for (const part of pipeline.textParts) await pool.get(part);
      for (const part of ['unet', 'vaeDecoder'] as const) await pool.get(part);
      const unet = new Unet(await pool.get('unet'));
      pipeline.checkUnetFamily(unet);
      pipeline.unetEmbedsGuidance = unet.timeCondDim !== undefined;
      pipeline.actualProvider = pool.provider ?? options.provider;
    } else {
      // Low-memory mode holds one sub-model at a time, so a generation loads the UNet only after the text encoders are
      // gone; what the text step needs to know of it (guidance as an embedding?) is read once here, then it is released.
      const unet = new Unet(await pool.get('unet'));
      pipeline.checkUnetFamily(unet);
      pipeline.unetEmbedsGuidance = unet.timeCondDim !== undefined;
      pipeline.actualProvider = pool.provider ?? options.provider;
      await pool.release('unet');
    }
    return pipeline;
  }

  /** The text encoders this family runs, in diffusers' order. */
  private get textParts(): Part[] {
    return this.folder.family === 'sdxl' ? ['textEncoder', 'textEncoder2'] : ['textEncoder'];
  }

  /** A UNet that takes SDXL's extra inputs in a folder not detected as SDXL (or the reverse) cannot run. */
  private checkUnetFamily(unet: Unet): void {
    const takesSdxl = unet.extraInputs.length > 0;
    if (takesSdxl && this.folder.family !== 'sdxl') {
      throw new Error(`${unet.loaded.path}: this UNet takes ${unet.extraInputs.join(' and ')} (an SDXL UNet), but ${this.folder.dir} has no text_encoder_2/ and no SDXL model_index.json; export the whole SDXL pipeline with optimum-cli`);
    }
    if (!takesSdxl && this.folder.family === 'sdxl') {
      throw new Error(`${unet.loaded.path}: ${this.folder.dir} is an SDXL folder but its UNet declares no text_embeds/time_ids inputs; use the UNet exported with this SDXL model`);
    }
  }

  /** The family's text-conditioning step: the UNet's conditioning rows for this request. */
  private async encodePrompts(request: GenerateRequest, guided: boolean): Promise<UnetConditioning> {
    const r = { prompt: request.prompt, negativePrompt: request.negativePrompt, guided, count: request.count, width: request.width, height: request.height, img2img: Boolean(request.initImage) };
    if (this.folder.family === 'sdxl') {
      const encoders = [
        { session: await this.pool.get('textEncoder'), tokenizer: this.tokenizer },
        { session: await this.pool.get('textEncoder2'), tokenizer: this.tokenizer2! },
      ];
      return sdxlConditioning(encoders, this.folder, r);
    }
    return sdConditioning(await this.pool.get('textEncoder'), this.tokenizer, r);
  }

  /**
   * A cheap picture of the current x0 estimate (first image): the folder's TAESD decoder when it has one (a few
   * milliseconds, close to the final colours), else a linear latent-to-RGB map. Low-memory mode keeps to the linear
   * map so that no extra model is resident.
   */
  private async preview(x0: Float32Array, dims: [number, number, number, number], lowMemory: boolean): Promise<RgbImage> {
    if (!lowMemory && this.pool.has('previewDecoder') && !this.previewFailed) {
      try {
        const [, channels, lh, lw] = dims;
        const first = x0.subarray(0, channels * lh * lw).map((v) => v / this.folder.previewScalingFactor);
        return await decodeLatents(await this.pool.get('previewDecoder'), first, [1, channels, lh, lw]);
      } catch (err) {
        // A broken preview decoder must not fail the job: fall back for the rest of this process's life.
        this.previewFailed = true;
        this.log(`preview decoder failed (${err instanceof Error ? err.message : String(err)}); using linear previews`);
      }
    }
    return latentPreview(x0, dims, 0, this.folder.family);
  }

  get info(): PipelineInfo {
    return {
      modelName: this.folder.name,
      modelDir: this.folder.dir,
      family: this.folder.family,
      provider: this.actualProvider,
      defaultSampler: defaultSamplerFor(this.schedulerConfig._class_name, this.schedulerConfig),
      hasSafetyChecker: this.pool.has('safetyChecker'),
      supportsImg2Img: this.pool.has('vaeEncoder'),
      embeddedGuidance: this.folder.unetHasTimestepCond ?? false,
      attention: this.attentionNote,
    };
  }

  /** Timings of the last generate() call. */
  get timings(): RunTimings {
    return this.lastTimings;
  }

  /** Release every session; they are recreated on the next generate(). */
  /** Frees every loaded sub-model (they load again on the next use); returns the ones that were loaded. */
  releaseSessions(): Promise<string[]> {
    return this.pool.releaseAll();
  }

  async dispose(): Promise<void> {
    await this.pool.releaseAll();
  }

  async generate(input: GenerateRequest, hooks: GenerateHooks = {}): Promise<GenerateResult> {
    const started = performance.now();
    const onnxAtStart = this.pool.onnxMs;
    const request = validateRequest(input);
    if (request.initImage && !this.pool.has('vaeEncoder')) {
      throw new InvalidRequestError(`the model ${this.folder.name} has no VAE encoder (vae_encoder/model.onnx), so it cannot start from an image`);
    }
    const { signal, onProgress } = hooks;
    const checkAborted = () => {
      if (signal?.aborted) throw new GenerationCancelledError(signal.reason === 'timeout' ? 'timed out' : 'cancelled');
    };
    checkAborted();
    const sampler = request.sampler ?? this.info.defaultSampler;
    const scheduler = createScheduler(sampler, this.schedulerConfig);
    const lowMemory = this.options.lowMemory;

    // 1. Text: the family's conditioning rows ([uncond; cond] under guidance).
    // LCM-style UNets take guidance as an embedding (timestep_cond) instead of a second, unconditional batch.
    const embedded = this.unetEmbedsGuidance;
    const guided = !embedded && request.guidance > 1;
    const conditioning = await this.encodePrompts(request, guided);
    if (lowMemory) for (const part of this.textParts) await this.pool.release(part);
    checkAborted();
    const unet = new Unet(await this.pool.get('unet'));

    // 2. Timesteps and initial latents: one torch-compatible generator per image (seed, seed + 1, ...).
    const count = request.count;
    const channels = unet.latentChannels;
    // Inpainting: the picture the model works on (the crop in "only masked" mode) and its binary mask.
    const masked = request.mask ? await planInpaint(request) : undefined;
    const initImage = masked?.image ?? request.initImage;
    let blend: LatentBlend | undefined;
    let maskedLatents: Float32Array[] | undefined;
    let strengthUsed: number | undefined;
    const lh = request.height / 8;
    const lw = request.width / 8;
    const perImage = channels * lh * lw;
    const generators = Array.from({ length: count }, (_, i) => new TorchGenerator(BigInt(request.seed) + BigInt(i)));
    const noise = perImageNoise(generators, perImage);
    scheduler.setTimesteps(request.steps);
    let timesteps = scheduler.timesteps;
    // The steps the user counts; a scheduler may run more UNet passes than that (stepProgress).
    let userSteps = request.steps;
    let latents: Float32Array = new Float32Array(perImage * count);
    const scaling = this.folder.vaeScalingFactor;
    if (initImage) {
      const strength = request.strength ?? (masked ? maskStrength(request, unet.inpainting, this.folder.family) : defaultStrength(this.folder.family));
      strengthUsed = strength;
      // img2imgTimesteps throws a RangeError when steps x strength rounds down to no step: that is the user's request.
      const plan = (() => {
        try {
          return img2imgTimesteps(scheduler, request.steps, strength);
        } catch (err) {
          if (err instanceof RangeError) throw new InvalidRequestError(`strength ${strength} with ${request.steps} steps leaves no denoising step to run; raise strength or steps`);
          throw err;
        }
      })();
      timesteps = plan.timesteps;
      userSteps = plan.steps;
      const [firstTimestep] = timesteps;
      if (firstTimestep === undefined) throw new InvalidRequestError('strength is too low: no denoising step would run; raise strength or steps');
      const encoder = await this.pool.get('vaeEncoder');
      // diffusers' inpainting starts from pure noise at full strength, and encodes the image only when it needs it
      // (a 4-channel UNet blends with it); img2img always noises the image's latents.
      const pureNoise = masked !== undefined && strength === 1;
      const blendWithImage = masked !== undefined && !unet.inpainting;
      const imageLatents: Float32Array[] = [];
      const noises: Float32Array[] = [];
      for (const [i, generator] of generators.entries()) {
        // As diffusers does with one generator per image: sample the encoder's distribution, then draw the noise.
        const scaled = !pureNoise || blendWithImage ? (await encodeImage(encoder, initImage, generator, this.tiling?.encode)).latents.map((v) => v * scaling) : undefined;
        const eps = generator.randn(perImage);
        latents.set(pureNoise ? eps.map((v) => v * scheduler.initNoiseSigma) : scheduler.addNoise(scaled!, eps, firstTimestep), i * perImage);
        if (blendWithImage) {
          imageLatents.push(scaled!);
          noises.push(eps);
        }
      }
      if (masked && unet.inpainting) {
        // Then the masked image (the repainted pixels greyed out), with the same generators, as prepare_mask_latents.
        const chw = maskedImageChw(initImage, masked.binary);
        maskedLatents = [];
        for (const generator of generators) maskedLatents.push((await encodeChw(encoder, chw, initImage.width, initImage.height, generator, this.tiling?.encode)).latents.map((v) => v * scaling));
      }
      if (masked && blendWithImage) blend = new LatentBlend(latentMaskFor(masked, request.width, request.height), imageLatents, noises, channels);
      if (lowMemory) await this.pool.release('vaeEncoder');
    } else {
      for (const [i, generator] of generators.entries()) latents.set(generator.randn(perImage), i * perImage);
      const sigma = scheduler.initNoiseSigma;
      if (sigma !== 1) for (let j = 0; j < latents.length; j++) latents[j]! *= sigma;
    }
    checkAborted();

    // 3. Denoise.
    const timeCond = embedded ? guidanceEmbedding(request.guidance, unet.timeCondDim!, count) : undefined;
    const passes = timesteps.length;
    const progress = stepProgress(passes, userSteps);
    const total = progress.total;
    const previewEvery = request.previewEvery ?? 0;
    const maskInput = unet.inpainting ? inpaintConditioning(count, lh * lw, masked ? latentMaskFor(masked, request.width, request.height) : undefined, maskedLatents) : undefined;
    for (const [i, t] of timesteps.entries()) {
      const scaled = scheduler.scaleModelInput(latents, t);
      const prediction = await this.predictNoise(unet, scaled, t, { count, channels, lh, lw, conditioning, guided, guidance: request.guidance, timeCond, lowMemory, maskInput });
      const out = scheduler.step(prediction, t, latents, noise);
      latents = blend ? blend.apply(out.prevSample, scheduler, timesteps[i + 1]) : out.prevSample;
      const step = progress.stepAfter(i);
      if (step > 0) {
        const event: ProgressEvent = { step, total, elapsedMs: performance.now() - started };
        if (previewEvery > 0 && step % previewEvery === 0 && step < total) {
          event.preview = await this.preview(out.predOriginalSample ?? latents, [count, channels, lh, lw], lowMemory);
        }
        onProgress?.(event);
      }
      // Let cancel messages and timers in (ONNX runs block the thread; this is the only gap between steps).
      await new Promise((resolve) => setImmediate(resolve));
      checkAborted();
    }
    if (lowMemory) await this.pool.release('unet');

    // 4. Decode each image, then the safety checker.
    // Fast decode: the folder's TAESD decoder (the preview decoder) makes the final image too, a fraction of the full
    // VAE's cost on a CPU; it takes the latents divided by its own scaling factor (1.0 for TAESD).
    const fast = this.options.fastDecode === true && this.pool.has('previewDecoder');
    const decoderPart = fast ? 'previewDecoder' : 'vaeDecoder';
    const decoder = await this.pool.get(decoderPart);
    const divisor = fast ? this.folder.previewScalingFactor : scaling;
    const images: GeneratedImage[] = [];
    for (let i = 0; i < count; i++) {
      const one = latents.subarray(i * perImage, (i + 1) * perImage).map((v) => v / divisor);
      const rgb = await decodeLatents(decoder, one, [1, channels, lh, lw], fast ? undefined : this.tiling?.decode);
      // Inpainting: the original comes back over the result outside the mask (and the crop is pasted back).
      images.push({ ...(masked ? await applyOverlay(rgb, masked.overlay) : rgb), seed: request.seed + i });
      checkAborted();
    }
    if (lowMemory) await this.pool.release(decoderPart);
    if (this.clipPrep && this.pool.has('safetyChecker')) {
      const checker = await this.pool.get('safetyChecker');
      for (const image of images) image.nsfw = await isFlagged(checker, image, this.clipPrep);
      if (lowMemory) await this.pool.release('safetyChecker');
    }
    this.actualProvider = this.pool.provider ?? this.actualProvider;

    const elapsedMs = performance.now() - started;
    this.lastTimings = { totalMs: elapsedMs, onnxMs: this.pool.onnxMs - onnxAtStart, steps: passes };
    return {
      images,
      stepsRun: total,
      sampler,
      ...(strengthUsed !== undefined ? { strength: strengthUsed } : {}),
      promptTruncated: conditioning.truncated,
      modelName: this.folder.name,
      elapsedMs,
    };
  }

  /**
   * One guided noise prediction. Normally one UNet pass over [uncond rows; cond rows]; in low-memory mode each
   * image and each half of the guidance batch is its own batch-1 pass, trading speed for peak memory.
   */
  private async predictNoise(
    unet: Unet,
    scaled: Float32Array,
    t: number,
    s: { count: number; channels: number; lh: number; lw: number; conditioning: UnetConditioning; guided: boolean; guidance: number; timeCond?: Float32Array; lowMemory: boolean; maskInput?: Float32Array },
  ): Promise<Float32Array> {
    const perImage = s.channels * s.lh * s.lw;
    const c = s.conditioning;
    const perText = c.tokens * c.width;
    const rows = s.guided ? 2 * s.count : s.count;
    const latentRows = s.guided ? concatFloat32(scaled, scaled) : scaled;
    // An inpainting UNet also takes the mask and the masked image's latents, after the latents on the channel axis.
    const sample = s.maskInput ? appendChannels(latentRows, s.maskInput, rows, s.count) : latentRows;
    const inputChannels = sample.length / (rows * s.lh * s.lw);
    const perInput = inputChannels * s.lh * s.lw;
    let out: Float32Array;
    if (!s.lowMemory) {
      out = await unet.predict({
        sample,
        sampleDims: [rows, inputChannels, s.lh, s.lw],
        timestep: t,
        encoderHiddenStates: c.hidden,
        hiddenDims: [rows, c.tokens, c.width],
        timestepCond: s.timeCond,
        extras: Object.fromEntries(Object.entries(c.extras).map(([name, e]) => [name, e.data])),
      });
    } else {
      out = new Float32Array(rows * perImage);
      for (let r = 0; r < rows; r++) {
        const img = r % s.count;
        const part = await unet.predict({
          sample: sample.subarray(r * perInput, (r + 1) * perInput),
          sampleDims: [1, inputChannels, s.lh, s.lw],
          timestep: t,
          encoderHiddenStates: c.hidden.subarray(r * perText, (r + 1) * perText),
          hiddenDims: [1, c.tokens, c.width],
          timestepCond: s.timeCond?.subarray(img * (s.timeCond.length / s.count), (img + 1) * (s.timeCond.length / s.count)),
          extras: Object.fromEntries(Object.entries(c.extras).map(([name, e]) => [name, e.data.subarray(r * e.width, (r + 1) * e.width)])),
        });
        out.set(part, r * perImage);
      }
    }
    if (!s.guided) return out;
    const half = s.count * perImage;
    const guidedOut = new Float32Array(half);
    for (let j = 0; j < half; j++) {
      const u = out[j]!;
      guidedOut[j] = u + s.guidance * (out[half + j]! - u);
    }
    return guidedOut;
  }
}
