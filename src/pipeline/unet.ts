// The UNet call, fed exactly what the export declares: sample/encoder_hidden_states in fp32 or fp16, a timestep that
// is float32, float16 or int64 and shaped [1], [batch] or [] (scalar), LCM's optional timestep_cond, and SDXL's
// text_embeds / time_ids.
import type { LoadedSession, InputSpec } from './session.ts';
import { hasInput, inputSpec, outputAsFloat32, runSession, tensorFor } from './session.ts';
import { SDXL_UNET_INPUTS } from './family.ts';

export interface UnetInputs {
  /** [batch, channels, height, width] latents, already scaled by the scheduler. */
  sample: Float32Array;
  sampleDims: readonly [number, number, number, number];
  timestep: number;
  /** [batch, tokens, hidden] text embeddings. */
  encoderHiddenStates: Float32Array;
  hiddenDims: readonly [number, number, number];
  /** [batch, timeCondDim] guidance embedding for LCM UNets. */
  timestepCond?: Float32Array;
  /** Further [batch, width] inputs by name (SDXL: text_embeds, time_ids); fed when the UNet declares them. */
  extras?: Record<string, Float32Array>;
}

export class Unet {
  private readonly sample: InputSpec;
  private readonly timestep: InputSpec;
  private readonly hidden: InputSpec;
  private readonly cond?: InputSpec;
  private readonly extraSpecs: InputSpec[];

  constructor(readonly loaded: LoadedSession) {
    this.sample = inputSpec(loaded, 'sample');
    this.timestep = inputSpec(loaded, 'timestep');
    this.hidden = inputSpec(loaded, 'encoder_hidden_states');
    if (hasInput(loaded, 'timestep_cond')) this.cond = inputSpec(loaded, 'timestep_cond');
    this.extraSpecs = SDXL_UNET_INPUTS.filter((name) => hasInput(loaded, name)).map((name) => inputSpec(loaded, name));
  }

  /** The conditioning inputs beyond encoder_hidden_states this UNet declares (SDXL: text_embeds, time_ids). */
  get extraInputs(): string[] {
    return this.extraSpecs.map((s) => s.name);
  }

  /** Width of LCM's guidance embedding, or undefined when the UNet takes none. */
  get timeCondDim(): number | undefined {
    if (!this.cond) return undefined;
    const dim = this.cond.shape[1];
    return typeof dim === 'number' ? dim : 256;
  }

  /** Channels of the declared sample input (9 for inpainting UNets), when the export fixes it. */
  get inputChannels(): number {
    const c = this.sample.shape[1];
    return typeof c === 'number' ? c : 4;
  }

  /** An inpainting UNet: its sample is [latents (4), mask (1), masked-image latents (4)] on the channel axis. */
  get inpainting(): boolean {
    return this.inputChannels === 9;
  }

  /** Latent channels the UNet denoises (4 for SD 1.x/2.x and their inpainting variants). */
  get latentChannels(): number {
    return this.inpainting ? 4 : this.inputChannels;
  }

  /** How many timestep values to feed: scalar, one, or one per batch row (when the dim is the sample's batch dim). */
  timestepDims(batch: number): number[] {
    const shape = this.timestep.shape;
    if (shape.length === 0) return [];
    const dim = shape[0];
    if (typeof dim === 'number') return [dim];
    return dim === this.sample.shape[0] ? [batch] : [1];
  }

  async predict(inputs: UnetInputs): Promise<Float32Array> {
    const batch = inputs.sampleDims[0];
    const tDims = this.timestepDims(batch);
    const [tCount = 1] = tDims;
    const feeds: Record<string, ReturnType<typeof tensorFor>> = {
      sample: tensorFor(this.sample.type, inputs.sample, inputs.sampleDims),
      timestep: tensorFor(this.timestep.type, new Array<number>(tCount).fill(inputs.timestep), tDims),
      encoder_hidden_states: tensorFor(this.hidden.type, inputs.encoderHiddenStates, inputs.hiddenDims),
    };
    if (this.cond) {
      if (!inputs.timestepCond) throw new Error(`${this.loaded.path}: this UNet needs timestep_cond (an LCM guidance embedding)`);
      feeds.timestep_cond = tensorFor(this.cond.type, inputs.timestepCond, [batch, this.timeCondDim!]);
    }
    for (const spec of this.extraSpecs) {
      const data = inputs.extras?.[spec.name];
      if (!data) throw new Error(`${this.loaded.path}: this UNet takes "${spec.name}" (an SDXL UNet); the folder must be an SDXL export with text_encoder_2/`);
      feeds[spec.name] = tensorFor(spec.type, data, [batch, data.length / batch]);
    }
    const out = await runSession(this.loaded, feeds);
    const [firstOutput = 'out_sample'] = this.loaded.session.outputNames;
    const sample = out.out_sample ?? out[firstOutput];
    if (!sample) throw new Error(`${this.loaded.path}: the UNet returned no output`);
    return outputAsFloat32(sample);
  }
}

/**
 * LCM's guidance-scale embedding (w - 1 scaled by 1000, sinusoidal, sin half then cos half), as the latent consistency
 * pipeline builds it for `timestep_cond`.
 */
export function guidanceEmbedding(guidance: number, dim: number, batch: number): Float32Array {
  const w = (guidance - 1) * 1000;
  const half = Math.floor(dim / 2);
  const out = new Float32Array(batch * dim);
  const logStep = Math.log(10000) / (half - 1);
  for (let i = 0; i < half; i++) {
    const arg = w * Math.exp(-logStep * i);
    for (let b = 0; b < batch; b++) {
      out[b * dim + i] = Math.sin(arg);
      out[b * dim + half + i] = Math.cos(arg);
    }
  }
  return out; // an odd dim leaves the last column zero, as the reference pads it
}
