// Lists a Hugging Face repo (through @huggingface/hub's listFiles) and picks the files a model folder needs, mapped
// from their repo paths to folder paths. Repos often hold more than the ONNX export (PyTorch weights, sample images,
// OpenVINO files, alternative .onnx variants), so only the diffusers components are taken, and within them only
// ONNX graphs named model.onnx, their external weights, and configs / tokenizer files.
import { listFiles } from '@huggingface/hub';
import type { PresetSource } from './presets.ts';

/** What the bot reads of a model folder (see src/pipeline/modelFolder.ts); anything else in a repo is left out. */
export const COMPONENT_DIRS = [
  'text_encoder',
  'tokenizer',
  'text_encoder_2',
  'tokenizer_2',
  'unet',
  'vae_decoder',
  'vae_encoder',
  'safety_checker',
  'feature_extractor',
  'scheduler',
  'vae_decoder_tiny',
] as const;

/** Weights of other frameworks that sit beside ONNX exports in many repos. */
const FOREIGN_WEIGHTS = /\.(safetensors|bin|ckpt|pt|pth|msgpack|h5|xml|mlmodel|tflite|gguf|engine|plan)$/i;

export interface RemoteFile {
  /** Path in the repo. */
  repoPath: string;
  /** Path in the model folder. */
  path: string;
  size: number;
  /** sha256 of the content, for files stored in LFS/Xet. */
  sha256?: string;
  /** git blob sha1 of the content, for files stored in git itself. */
  gitOid?: string;
}

export interface HubAccess {
  /** HF_ENDPOINT, e.g. a mirror or a test server; the public hub when absent. */
  hubUrl?: string;
  /** HF_TOKEN, for gated or private repos. Never logged. */
  accessToken?: string;
  revision?: string;
}

export interface ListedEntry {
  type: string;
  path: string;
  size: number;
  oid?: string;
  lfs?: { oid: string; size: number };
}

export async function listRepo(repo: string, access: HubAccess): Promise<ListedEntry[]> {
  const entries: ListedEntry[] = [];
  for await (const entry of listFiles({ repo, recursive: true, revision: access.revision, hubUrl: access.hubUrl, accessToken: access.accessToken })) {
    if (entry.type === 'file') entries.push(entry);
  }
  return entries;
}

/** A component folder may keep only its ONNX graph(s) plus data and configs; `model.onnx` must be the graph. */
function keepInComponent(rest: string): boolean {
  const file = rest.split('/').pop()!;
  if (FOREIGN_WEIGHTS.test(file)) return false;
  // Variants such as model_fp16.onnx or model_layernorm.onnx are alternatives to model.onnx, not extra parts.
  if (file.endsWith('.onnx') && rest !== 'model.onnx') return false;
  if (file === '.gitattributes' || file === '.gitkeep' || /\.(md|png|jpe?g|webp|gif)$/i.test(file)) return false;
  return true;
}

/** The repo folder that holds the layout: the given subfolder, else the root, else onnx/ when only that has one. */
export function detectSubfolder(entries: readonly ListedEntry[], given?: string): string {
  if (given !== undefined) return given.replace(/^\/+|\/+$/g, '');
  const has = (p: string) => entries.some((e) => e.path === p);
  if (has('unet/model.onnx') || has('vae_decoder/model.onnx')) return '';
  for (const candidate of ['onnx', 'ONNX']) if (has(`${candidate}/unet/model.onnx`) || has(`${candidate}/vae_decoder/model.onnx`)) return candidate;
  return '';
}

/** Picks and maps the files to download. An empty result means the repo has nothing we can use. */
export function selectFiles(entries: readonly ListedEntry[], source: Pick<PresetSource, 'subfolder' | 'only' | 'rename'>): RemoteFile[] {
  const sub = detectSubfolder(entries, source.subfolder);
  const prefix = sub ? `${sub}/` : '';
  const dirs = new Set<string>(source.only ?? COMPONENT_DIRS);
  const picked: RemoteFile[] = [];
  for (const e of entries) {
    if (!e.path.startsWith(prefix)) continue;
    const rel = e.path.slice(prefix.length);
    const slash = rel.indexOf('/');
    let path: string;
    if (slash < 0) {
      // imagine.json: a repo made for this bot may ship its own defaults (a preset's defaults replace them)
      if ((rel !== 'model_index.json' && rel !== 'imagine.json') || source.only) continue;
      path = rel;
    } else {
      const dir = rel.slice(0, slash);
      const rest = rel.slice(slash + 1);
      if (!dirs.has(dir) || !keepInComponent(rest)) continue;
      path = `${source.rename?.[dir] ?? dir}/${rest}`;
    }
    picked.push({ repoPath: e.path, path, size: e.lfs?.size ?? e.size, sha256: e.lfs?.oid, gitOid: e.lfs ? undefined : e.oid });
  }
  // A component with configs but no ONNX graph (a PyTorch-only safety_checker, say) is dropped whole.
  const graphs = new Set(picked.filter((f) => f.path.endsWith('/model.onnx')).map((f) => f.path.split('/')[0]));
  const onnxComponents = new Set(['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder', 'safety_checker', 'vae_decoder_tiny']);
  return picked.filter((f) => {
    const dir = f.path.includes('/') ? f.path.slice(0, f.path.indexOf('/')) : '';
    return !onnxComponents.has(dir) || graphs.has(dir);
  });
}

/** Explains why a listing yields no usable model, with the command that would make one. */
export function describeUnusable(entries: readonly ListedEntry[], repo: string): string {
  const pytorch = entries.some((e) => /(^|\/)unet\/diffusion_pytorch_model\.(safetensors|bin)$/.test(e.path));
  const openvino = entries.some((e) => e.path.endsWith('openvino_model.xml'));
  if (openvino) return `${repo} holds an OpenVINO export, not ONNX; export the original model with optimum-cli (see models/README.md)`;
  if (pytorch) return `${repo} holds PyTorch weights only; export it: optimum-cli export onnx --model ${repo} --task text-to-image models/<name>`;
  return `${repo} has no diffusers ONNX layout (no unet/model.onnx, at the root or under onnx/)`;
}
