// Named models that `npm run models -- fetch <preset>` knows how to install, each with the per-model defaults
// (imagine.json) that suit it. Repo ids are real Hugging Face repositories holding ONNX exports in the diffusers /
// optimum layout; repositories move, so models/README.md says which ones these are and that the list may need
// updating. Any other repo can be fetched by id; these only save typing and pick sensible defaults.
import type { ImagineDefaults } from '../pipeline/modelFolder.ts';

export type PresetHardware = 'cpu' | 'gpu';

/** Where a preset's files come from and how their paths map into the model folder. */
export interface PresetSource {
  /** Hugging Face repo id ("owner/name"). */
  repo: string;
  /** Git revision (branch, tag or commit); the hub's default branch ("main") when absent. */
  revision?: string;
  /** Folder inside the repo that holds the layout (e.g. "onnx" when the export sits under onnx/). */
  subfolder?: string;
  /** Only these top-level component folders are taken (after subfolder); all known components when absent. */
  only?: readonly string[];
  /** Component folder renames, repo name -> model folder name (TAESD's vae_decoder -> vae_decoder_tiny). */
  rename?: Readonly<Record<string, string>>;
}

export interface Preset {
  name: string;
  /** One line for `models list`. */
  what: string;
  /** Approximate download size, for `models list` (what the hub reports once listed is what counts). */
  size: string;
  hardware: PresetHardware;
  /** Weight precision of the export. */
  precision: 'fp32' | 'fp16';
  /** A full model (its own folder under models/) or an add-on installed into an existing model folder. */
  kind: 'model' | 'preview-decoder';
  /** Where to download from; absent when no ready ONNX export is known and the model must be exported locally. */
  source?: PresetSource;
  /** The PyTorch/diffusers repo to export with optimum-cli when there is no `source` (or to re-export from). */
  exportFrom?: string;
  /** Written as imagine.json into the installed folder. */
  defaults?: ImagineDefaults;
}

/** SD 1.x/2.x- and SDXL-architecture models (the family is detected from the folder); SD3 and Flux are not run. */
export const PRESETS: readonly Preset[] = [
  {
    name: 'sd-turbo',
    what: 'SD-Turbo (SD 2.1 distilled): 1-4 steps, no guidance, 512x512; export locally to fp32 with optimum-cli',
    size: '5.2 GB',
    hardware: 'cpu',
    precision: 'fp32',
    kind: 'model',
    // No maintained fp32 ONNX export of sd-turbo was found on the hub (the public ones are fp16 for GPUs or browsers),
    // so this preset prints the optimum-cli command and `models defaults` writes imagine.json afterwards.
    exportFrom: 'stabilityai/sd-turbo',
    // sd-turbo ships EulerDiscreteScheduler with trailing spacing; guidance 0 disables classifier-free guidance.
    defaults: { sampler: 'euler', steps: 1, guidance: 0, width: 512, height: 512 },
  },
  {
    name: 'sd15',
    what: 'Stable Diffusion 1.5 (fp32 ONNX, with safety checker): 20-30 steps, 512x512',
    size: '5.5 GB',
    hardware: 'cpu',
    precision: 'fp32',
    kind: 'model',
    source: { repo: 'onnx-community/stable-diffusion-v1-5-ONNX' },
    exportFrom: 'stable-diffusion-v1-5/stable-diffusion-v1-5',
    defaults: { sampler: 'dpmpp-2m-karras', steps: 20, guidance: 7.5, width: 512, height: 512 },
  },
  {
    name: 'lcm-dreamshaper-v7',
    what: 'LCM Dreamshaper v7 (fp32 ONNX by the optimum team): 4 steps, guidance embedded in the UNet',
    size: '4.3 GB',
    hardware: 'cpu',
    precision: 'fp32',
    kind: 'model',
    // The repo also holds the PyTorch weights; only the ONNX files and configs are downloaded.
    source: { repo: 'SimianLuo/LCM_Dreamshaper_v7' },
    exportFrom: 'SimianLuo/LCM_Dreamshaper_v7',
    // An LCM UNet takes the guidance scale as an embedding (timestep_cond), so it costs nothing per step;
    // 8 is the model card's value (1 would embed w = 0, a weakly prompted image).
    defaults: { sampler: 'lcm', steps: 4, guidance: 8, width: 512, height: 512 },
  },
  {
    name: 'taesd',
    what: 'TAESD tiny VAE decoder for fast previews (install into a model with --into <model>)',
    size: '5 MB',
    hardware: 'cpu',
    precision: 'fp32',
    kind: 'preview-decoder',
    source: { repo: 'deinferno/taesd-onnx', only: ['vae_decoder'], rename: { vae_decoder: 'vae_decoder_tiny' } },
    exportFrom: 'madebyollin/taesd',
  },
  {
    name: 'sdxl-turbo',
    what: "SDXL-Turbo (fp32 ONNX by the optimum team, in Stability's repo): 1-4 steps, no guidance, 512x512",
    size: '13.9 GB',
    hardware: 'cpu',
    precision: 'fp32',
    kind: 'model',
    // The repo also holds the PyTorch weights; only the ONNX graphs, their weights and the configs are downloaded.
    source: { repo: 'stabilityai/sdxl-turbo' },
    exportFrom: 'stabilityai/sdxl-turbo',
    // Its scheduler is EulerAncestralDiscreteScheduler with trailing spacing; it was trained at 512x512 (its UNet's
    // sample_size 64 x 8) and guidance 0 is what the model card uses.
    defaults: { sampler: 'euler-a', steps: 1, guidance: 0, width: 512, height: 512 },
  },
  {
    name: 'sdxl-base',
    what: 'Stable Diffusion XL base 1.0 (fp32 ONNX by the optimum team, in Stability\'s repo): 30 steps, 1024x1024',
    size: '13.9 GB',
    hardware: 'cpu',
    precision: 'fp32',
    kind: 'model',
    source: { repo: 'stabilityai/stable-diffusion-xl-base-1.0' },
    exportFrom: 'stabilityai/stable-diffusion-xl-base-1.0',
    // EulerDiscreteScheduler as shipped; guidance 5 is StableDiffusionXLPipeline's default; 1024 its native size.
    defaults: { sampler: 'euler', steps: 30, guidance: 5, width: 1024, height: 1024 },
  },
  {
    name: 'sd-turbo-fp16',
    what: 'SD-Turbo fp16, optimised by ONNX Runtime/Olive for CUDA and DirectML: 1-4 steps, 512x512',
    size: '2.6 GB',
    hardware: 'gpu',
    precision: 'fp16',
    kind: 'model',
    source: { repo: 'onnxruntime/sd-turbo' },
    exportFrom: 'stabilityai/sd-turbo',
    defaults: { sampler: 'euler', steps: 1, guidance: 0, width: 512, height: 512 },
  },
  {
    name: 'sdxl-turbo-fp16',
    what: 'SDXL-Turbo fp16, optimised by ONNX Runtime/Olive for CUDA and DirectML: 1-4 steps, 512x512',
    size: '7 GB',
    hardware: 'gpu',
    precision: 'fp16',
    kind: 'model',
    source: { repo: 'onnxruntime/sdxl-turbo' },
    exportFrom: 'stabilityai/sdxl-turbo',
    defaults: { sampler: 'euler-a', steps: 1, guidance: 0, width: 512, height: 512 },
  },
  {
    name: 'sd15-fp16',
    what: 'Stable Diffusion 1.5 fp16 ONNX for GPUs: 20-30 steps, 512x512',
    size: '2.7 GB',
    hardware: 'gpu',
    precision: 'fp16',
    kind: 'model',
    source: { repo: 'nmkd/stable-diffusion-1.5-onnx-fp16' },
    exportFrom: 'stable-diffusion-v1-5/stable-diffusion-v1-5',
    defaults: { sampler: 'dpmpp-2m-karras', steps: 25, guidance: 7.5, width: 512, height: 512 },
  },
  {
    name: 'lcm-dreamshaper-v7-fp16',
    what: 'LCM Dreamshaper v7 fp16 ONNX for GPUs: 4 steps, 768x768',
    size: '2.0 GB',
    hardware: 'gpu',
    precision: 'fp16',
    kind: 'model',
    source: { repo: 'aislamov/lcm-dreamshaper-v7-onnx' },
    exportFrom: 'SimianLuo/LCM_Dreamshaper_v7',
    defaults: { sampler: 'lcm', steps: 4, guidance: 8, width: 768, height: 768 },
  },
];

export function findPreset(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name.toLowerCase());
}

/** The optimum-cli command that exports a diffusers model into our layout. */
export function exportCommand(repo: string, outDir: string, fp16 = false): string {
  return `optimum-cli export onnx --model ${repo} --task text-to-image${fp16 ? ' --dtype fp16 --device cuda' : ''} ${outDir}`;
}
