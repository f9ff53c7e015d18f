// What a job is, as the bot persists it: everything needed to run it again after a restart and to deliver it to
// the right place. No Discord objects here, only ids.
import type { SamplerName } from '../pipeline/schedulers/types.ts';
import type { GenerateRequest } from '../pipeline/types.ts';

/** How the job came to be; buttons and menus set it so the result can say "Variation of …". */
export type JobAction = 'imagine' | 'reroll' | 'vary' | 'remix' | 'upscale' | 'reimagine' | 'reply' | 'vary-region' | 'zoom' | 'pan';

/**
 * The generation settings are the pipeline's own (GenerateRequest), stored as plain JSON: the init image travels as
 * a file path, and the negative prompt is always present (empty when none).
 */
export interface JobParams extends Pick<GenerateRequest, 'prompt' | 'seed' | 'steps' | 'guidance' | 'width' | 'height' | 'count' | 'strength' | 'maskBlur' | 'maskPrefilled'> {
  kind: 'txt2img' | 'img2img' | 'upscale';
  action: JobAction;
  negativePrompt: string;
  /** Undefined: the model folder's default. */
  sampler?: SamplerName;
  /**
   * The model (its folder name under MODELS_DIR) that runs it; set when the job is accepted (the server's default
   * when the user chose none), so buttons and restarts keep it. Undefined only in rows from before models were
   * selectable: the bot's default model.
   */
  model?: string;
  /** img2img: the init image, saved under DATA_DIR when the job was accepted (so a restart can run it). */
  initImagePath?: string;
  /**
   * Inpainting/outpainting (Vary (Region), Zoom Out, Pan, an uploaded mask): the mask PNG (white = repaint) at the
   * init image's size, saved beside it. Strength is then left to the pipeline unless the job names one.
   */
  maskPath?: string;
  /** Zoom Out / Pan: what was done, for the result's title and the PNG parameters. */
  outpaint?: { zoomOut?: number; pan?: 'left' | 'right' | 'up' | 'down' };
  /** upscale: the PNG to enlarge and the factor. */
  upscale?: { sourcePath: string; factor: 2 | 4; sourceIndex: number };
  /** The job this one derives from (reroll, vary, remix, upscale). */
  parentJobId?: string;
  /** Which image of the parent (vary, upscale). */
  parentIndex?: number;
  /** Channel facts captured at submission: where the result may go and how. */
  channel: {
    ageRestricted: boolean;
    /** The guild's per-file upload limit in bytes, from the interaction. */
    uploadLimit: number;
    /** A message-created job answers as a reply to this message. */
    replyToMessageId?: string;
  };
}

/** What is known of each finished image wherever its bytes are: a file here, PNG bytes on a worker, a Redis blob. */
export interface ImageFacts {
  seed: number;
  nsfw: boolean;
  width: number;
  height: number;
}

export interface JobResultFile extends ImageFacts {
  path: string;
}

/** What a finished job reports besides its images; the same in local mode, on a worker and over the wire. */
export interface JobOutcome {
  sampler: SamplerName;
  model: string;
  stepsRun: number;
  promptTruncated: boolean;
  elapsedMs: number;
  /** Upscale jobs: how it was done (onnx model or lanczos). */
  upscaleMethod?: string;
}

export interface JobResult extends JobOutcome {
  files: JobResultFile[];
  /** count > 1: the grid PNG shown first. */
  gridPath?: string;
}

/**
 * What progress subscribers get (a preview already encoded small for Discord). `Preview` is the preview's form in
 * transit: bytes in a process, base64 text in a BullMQ progress update (src/scale/protocol.ts).
 */
export interface JobProgress<Preview = Uint8Array> {
  step: number;
  total: number;
  elapsedMs: number;
  preview?: Preview;
}
