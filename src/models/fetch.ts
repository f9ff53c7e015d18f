// Installs a model from a Hugging Face repo into models/<name>, or a preview decoder into an existing model folder.
//
// Everything is downloaded into a staging folder, models/.partial/<name>/, file by file (each through
// `<file>.partial`, checksum-verified before it takes its name). Only when every file is verified, imagine.json is
// written and the folder passes the same checks as `models verify`, is it renamed into place, so models/<name> is
// either complete or absent. A network failure keeps the staging folder: the same command resumes. A checksum
// mismatch removes it: bytes that disagree with the hub's listing are not kept.
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { imagineDefaultsSchema, type ImagineDefaults } from '../pipeline/modelFolder.ts';
import { ChecksumError, downloadVerified, errorText } from './downloadFile.ts';
import { silentProgress, type ProgressSink } from './progress.ts';
import type { PresetSource } from './presets.ts';
import { describeUnusable, listRepo, selectFiles, type HubAccess, type RemoteFile } from './repoFiles.ts';
import { SOURCE_FILE, verifyModelFolder, verifyPreviewDecoder, type SourceRecord } from './verify.ts';

/** A fetch that cannot go on; the message is written for the person running the command. */
export class FetchError extends Error {
  override name = 'FetchError';
}

export const STAGING_DIR = '.partial';
const MANIFEST = '.fetch-manifest.json';

export interface FetchOptions {
  /** The models root (models/). */
  modelsDir: string;
  source: PresetSource;
  /** Folder name under modelsDir (a model), or the staging name (a preview decoder). */
  name: string;
  kind: 'model' | 'preview-decoder';
  /** For a preview decoder: the model folder it goes into. */
  into?: string;
  /** Written as imagine.json (models only). */
  defaults?: ImagineDefaults;
  /** Hub URL and token; its revision is overridden by source.revision / options.revision. */
  access: Omit<HubAccess, 'revision'>;
  revision?: string;
  /** Replace an existing folder. */
  force?: boolean;
  /** Skip the ONNX signature check after download (layout is still checked). */
  skipSignatures?: boolean;
  progress?: ProgressSink;
  log?: (line: string) => void;
}

export interface FetchResult {
  /** Where the model (or preview decoder) now is. */
  dir: string;
  files: number;
  bytes: number;
}

type Manifest = { repo: string; revision: string; files: Record<string, string> };

const fileKey = (f: RemoteFile) => f.sha256 ?? f.gitOid ?? `size:${f.size}`;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Moves a folder, across file systems too. */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await cp(from, to, { recursive: true, errorOnExist: true, force: false });
    await rm(from, { recursive: true, force: true });
  }
}

/** Drops staged files from an earlier run whose remote content has changed (another revision, a re-upload). */
async function reconcileStaging(staging: string, manifest: Manifest, files: readonly RemoteFile[]): Promise<void> {
  let previous: Manifest | undefined;
  try {
    previous = JSON.parse(await readFile(join(staging, MANIFEST), 'utf8')) as Manifest;
  } catch {
    previous = undefined;
  }
  for (const f of files) {
    const before = previous?.files[f.path];
    if (before === undefined || before === manifest.files[f.path]) continue;
    await rm(join(staging, f.path), { force: true });
    await rm(join(staging, f.path) + '.partial', { force: true });
  }
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, MANIFEST), JSON.stringify(manifest, null, 2));
}

export async function fetchModel(options: FetchOptions): Promise<FetchResult> {
  const log = options.log ?? (() => {});
  const progress = options.progress ?? silentProgress;
  const { source } = options;
  const revision = options.revision ?? source.revision ?? 'main';
  const access: HubAccess = { ...options.access, revision };
  const modelsDir = resolve(options.modelsDir);

  let target: string;
  if (options.kind === 'model') {
    target = join(modelsDir, options.name);
  } else {
    if (!options.into) throw new FetchError('a preview decoder goes into a model folder: add --into <model name or folder>');
    const model = resolve(options.into);
    if (!(await exists(join(model, 'model_index.json')))) throw new FetchError(`${options.into} is not a model folder (no model_index.json); fetch a model first`);
    target = join(model, 'vae_decoder_tiny');
  }
  if ((await exists(target)) && !options.force) {
    throw new FetchError(`${target} already exists; use --force to replace it, or check it with: npm run models -- verify ${options.kind === 'model' ? target : options.into}`);
  }

  log(`listing ${source.repo}@${revision}${access.hubUrl ? ` on ${access.hubUrl}` : ''}`);
  const entries = await listRepo(source.repo, access);
  const writesDefaults = options.kind === 'model' && options.defaults !== undefined && Object.keys(options.defaults).length > 0;
  // the preset's defaults replace a repo's own imagine.json, so that one is not downloaded
  const files = selectFiles(entries, source).filter((f) => !(writesDefaults && f.path === 'imagine.json'));
  const needed = options.kind === 'model' ? 'unet/model.onnx' : 'vae_decoder_tiny/model.onnx';
  if (!files.some((f) => f.path === needed)) {
    throw new FetchError(options.kind === 'model' ? describeUnusable(entries, source.repo) : `${source.repo} has no vae_decoder/model.onnx to install as a preview decoder`);
  }
  const total = files.reduce((n, f) => n + f.size, 0);
  log(`${files.length} files, ${(total / 1024 ** 3).toFixed(2)} GB`);

  const staging = join(modelsDir, STAGING_DIR, options.name);
  const manifest: Manifest = { repo: source.repo, revision, files: Object.fromEntries(files.map((f) => [f.path, fileKey(f)])) };
  await reconcileStaging(staging, manifest, files);

  for (const file of files) {
    const dest = join(staging, file.path);
    const size = await stat(dest).then((s) => s.size, () => undefined);
    // A file under its final name in staging was verified by an earlier run (the manifest says it is the same one).
    if (size === file.size) continue;
    try {
      await downloadVerified({ repo: source.repo, file, dest, access, progress });
    } catch (err) {
      if (err instanceof ChecksumError) {
        await rm(staging, { recursive: true, force: true });
        throw new FetchError(`${err.message}. Nothing was installed; the download was discarded. If it happens again, the repo changed during the download or a proxy altered it.`);
      }
      throw new FetchError(`${errorText(err)}\nThe files downloaded so far are kept in ${staging}; run the same command again to resume.`);
    }
  }

  if (options.kind === 'model') {
    if (writesDefaults) {
      const defaults = imagineDefaultsSchema.parse(options.defaults);
      await writeFile(join(staging, 'imagine.json'), JSON.stringify(defaults, null, 2) + '\n');
    }
    const record: SourceRecord = {
      repo: source.repo,
      revision,
      fetchedAt: new Date().toISOString(),
      files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256, gitOid: f.gitOid })),
    };
    await writeFile(join(staging, SOURCE_FILE), JSON.stringify(record, null, 2) + '\n');
    log('checking the model folder');
    const report = await verifyModelFolder(staging, { signatures: !options.skipSignatures });
    if (!report.ok) {
      throw new FetchError(`the downloaded files do not make a usable model:\n  ${report.problems.join('\n  ')}\nThe files are kept in ${staging} for inspection; nothing was installed.`);
    }
    await rm(join(staging, MANIFEST), { force: true });
    await replace(staging, target, options.force);
  } else {
    const decoder = join(staging, 'vae_decoder_tiny');
    const problems = await verifyPreviewDecoder(join(decoder, 'model.onnx'));
    if (problems.length) throw new FetchError(`the downloaded preview decoder is not usable:\n  ${problems.join('\n  ')}`);
    await replace(decoder, target, options.force);
    await rm(staging, { recursive: true, force: true });
  }
  return { dir: target, files: files.length, bytes: total };
}

/** Puts `from` at `to`; an existing `to` (only with force) is moved aside first and removed after. */
async function replace(from: string, to: string, force?: boolean): Promise<void> {
  let aside: string | undefined;
  if (await exists(to)) {
    if (!force) throw new FetchError(`${to} appeared during the download; not replacing it`);
    aside = `${to}.replaced-${Date.now()}`;
    await rename(to, aside);
  }
  try {
    await move(from, to);
  } catch (err) {
    if (aside) await rename(aside, to).catch(() => {});
    throw err;
  }
  if (aside) await rm(aside, { recursive: true, force: true });
}

/** The folder name for a repo fetched by id: its last segment, lower-cased, safe for a path. */
export function folderNameForRepo(repo: string): string {
  return basename(repo)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[.-]+|-+$/g, '') || 'model';
}
