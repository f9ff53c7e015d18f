// The models the bot offers: MODEL_DIR (the default, required to be valid) plus every valid model folder under
// MODELS_DIR. A model's name is its folder name; that is the value of /imagine's `model` option and what the PNG's
// `Model:` field says. Reading a folder is cheap (JSON and file sizes only, no ONNX session), so the catalog is built
// at start; a broken folder under MODELS_DIR is skipped with the loader's message instead of stopping the bot.
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { loadModelFolder, type ImagineDefaults, type ModelFolder } from '../pipeline/modelFolder.ts';
import { defaultSamplerFor, normalizeSchedulerConfig, type SamplerName } from '../pipeline/schedulers/index.ts';

export interface CatalogModel {
  /** The folder's name: the `model` option's value. */
  name: string;
  dir: string;
  /** A short architecture label for menus: "SD 1.x", "SD 2.x", "LCM". */
  family: string;
  /** imagine.json as validated (may be empty). */
  defaults: ImagineDefaults;
  /** The sampler its scheduler config implies (what runs when neither the user nor imagine.json names one). */
  folderSampler: SamplerName;
  /** Default image size (imagine.json, else 512x512). */
  width: number;
  height: number;
  /** Estimated memory once loaded: the size of its ONNX files (weights included). */
  bytes: number;
}

export interface SkippedFolder {
  dir: string;
  reason: string;
}

export class ModelCatalog {
  readonly #byName = new Map<string, CatalogModel>();

  constructor(
    readonly models: readonly CatalogModel[],
    /** The default model's name (MODEL_DIR's folder name). */
    readonly defaultModel: string,
    /** Folders under MODELS_DIR that are not usable models, with why. */
    readonly skipped: readonly SkippedFolder[] = [],
  ) {
    for (const model of models) this.#byName.set(model.name, model);
    if (!this.#byName.has(defaultModel)) throw new Error(`the default model ${defaultModel} is not in the catalog`);
  }

  get(name: string): CatalogModel | undefined {
    return this.#byName.get(name);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  get names(): string[] {
    return this.models.map((m) => m.name);
  }
}

/** A short label of the architecture, from the configs the export carries. */
export function modelFamily(folder: ModelFolder): string {
  if (folder.family === 'sdxl') return folder.unetHasTimestepCond ? 'SDXL LCM' : 'SDXL';
  if (folder.unetHasTimestepCond) return 'LCM';
  const cross = folder.unetConfig?.cross_attention_dim;
  const prediction = folder.schedulerConfig.prediction_type;
  if (cross === 1024 || prediction === 'v_prediction') return 'SD 2.x';
  if (cross === 768) return 'SD 1.x';
  return 'SD';
}

/** Files the pipeline's caches write beside a model (attention rewrite, optimized graph): not part of its size. */
const CACHE_FILE = /\.(attn|ort)-[^/]*$/;

/** Bytes of the ONNX sub-models (each part's folder, weights included; JSON and caches left out). */
export async function modelBytes(folder: ModelFolder): Promise<number> {
  let total = 0;
  for (const path of Object.values(folder.paths)) {
    if (!path) continue;
    const dir = dirname(path);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isFile() || entry.name.endsWith('.json') || CACHE_FILE.test(entry.name)) continue;
      total += (await stat(join(dir, entry.name))).size;
    }
  }
  return total;
}

function folderSampler(folder: ModelFolder): SamplerName {
  const config = normalizeSchedulerConfig(folder.schedulerConfig);
  return defaultSamplerFor(config._class_name, config);
}

export async function describeModel(folder: ModelFolder): Promise<CatalogModel> {
  return {
    name: folder.name,
    dir: folder.dir,
    family: modelFamily(folder),
    defaults: folder.defaults,
    folderSampler: folderSampler(folder),
    width: folder.defaults.width ?? 512,
    height: folder.defaults.height ?? 512,
    bytes: await modelBytes(folder),
  };
}

export interface CatalogOptions {
  /** The default model; a broken one fails (the bot cannot start without it). */
  modelDir: string;
  modelsDir: string;
  log?: (message: string) => void;
}

/**
 * Reads MODEL_DIR and every visible sub-folder of MODELS_DIR. A missing MODELS_DIR is fine (only the default is
 * offered). Two folders with one name: MODEL_DIR's wins.
 */
export async function loadModelCatalog(options: CatalogOptions): Promise<ModelCatalog> {
  const log = options.log ?? (() => undefined);
  const primary = await describeModel(await loadModelFolder(options.modelDir));
  const models: CatalogModel[] = [primary];
  const skipped: SkippedFolder[] = [];
  let entries: { name: string; isDirectory(): boolean; isSymbolicLink(): boolean }[] = [];
  try {
    entries = await readdir(options.modelsDir, { withFileTypes: true });
  } catch {
    entries = [];
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.') || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
    const dir = join(options.modelsDir, entry.name);
    if (resolve(dir) === primary.dir) continue;
    // A plain folder without model_index.json (e.g. a README folder, a download in progress) is not a model.
    if (!(await stat(join(dir, 'model_index.json')).catch(() => undefined))) continue;
    try {
      const model = await describeModel(await loadModelFolder(dir));
      if (model.name === primary.name) {
        log(`model folder ${dir} has the same name as MODEL_DIR (${primary.dir}); using MODEL_DIR's`);
        continue;
      }
      models.push(model);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      skipped.push({ dir, reason });
      log(`model folder ${basename(dir)} skipped: ${reason}`);
    }
  }
  return new ModelCatalog(models, primary.name, skipped);
}

/** "1.2 GB", "640 MB", "96 KB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
