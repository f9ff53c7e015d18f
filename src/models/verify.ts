// Checks a model folder the way the bot will use it: layout and configs (loadModelFolder), then every ONNX file's
// declared inputs and outputs (inspectSignatures), and, for folders this tool installed, that each downloaded file
// still has the size the hub listed. Every problem comes as one line that says what is wrong and how to fix it.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { openForInspection } from '../pipeline/session.ts';
import { loadModelFolder, ModelFolderError, type ModelFolder } from '../pipeline/modelFolder.ts';
import { checkSignature, formatProblem, inspectSignatures } from '../pipeline/modelSignatures.ts';

/** Written beside an installed model: where it came from and what was verified. */
export const SOURCE_FILE = '.imagine-source.json';

export interface SourceRecord {
  repo: string;
  revision: string;
  fetchedAt: string;
  files: { path: string; size: number; sha256?: string; gitOid?: string }[];
}

export interface VerifyReport {
  dir: string;
  ok: boolean;
  /** Present when the layout loaded. */
  folder?: ModelFolder;
  /** One line each: "<file>: <problem>. Fix: <fix>". */
  problems: string[];
}

const REFETCH = 'fetch the model again (npm run models -- fetch <preset or repo> --force) or re-export it with optimum-cli (see models/README.md)';

export async function readSourceRecord(dir: string): Promise<SourceRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, SOURCE_FILE), 'utf8')) as SourceRecord;
  } catch {
    return undefined;
  }
}

async function checkRecordedSizes(dir: string, record: SourceRecord): Promise<string[]> {
  const problems: string[] = [];
  for (const f of record.files) {
    const file = join(dir, f.path);
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size === undefined) problems.push(`${file}: missing (it was downloaded from ${record.repo}). Fix: ${REFETCH}`);
    else if (size !== f.size) problems.push(`${file}: ${size} bytes, but ${f.size} were downloaded from ${record.repo} (truncated or replaced). Fix: ${REFETCH}`);
  }
  return problems;
}

/**
 * Verify a model folder. `signatures: false` checks layout and configs only (fast: no ONNX file is opened).
 * Never throws for a broken folder: the report says what is wrong.
 */
export async function verifyModelFolder(dir: string, options: { signatures?: boolean } = {}): Promise<VerifyReport> {
  let folder: ModelFolder;
  try {
    folder = await loadModelFolder(dir);
  } catch (err) {
    if (!(err instanceof ModelFolderError)) throw err;
    return { dir, ok: false, problems: [`${err.message}. Fix: ${modelFolderFix(err)}`] };
  }
  const problems: string[] = [];
  const record = await readSourceRecord(dir);
  if (record) problems.push(...(await checkRecordedSizes(dir, record)));
  if (options.signatures !== false) problems.push(...(await inspectSignatures(folder)).map(formatProblem));
  return { dir, ok: problems.length === 0, folder, problems };
}

/** How to get a model in the first place: the presets, and the setting that picks the folder. */
export const GET_A_MODEL = '`npm run models -- list` shows the presets and what is installed, `npm run models -- fetch <preset>` installs one under models/';

/** What to do about a folder that did not load (the "Fix:" of `models verify`, of the bot's start and of `generate`). */
export function modelFolderFix(err: ModelFolderError, use = 'set MODEL_DIR in .env to its folder'): string {
  if (err.problem.startsWith('missing; expected a model folder')) return `there is no model there yet: ${GET_A_MODEL}; then ${use}`;
  if (err.problem.includes('PyTorch diffusers folder')) return 'export it to ONNX as the message says';
  if (err.file.endsWith('imagine.json')) return 'correct imagine.json (schema in models/README.md) or delete it';
  if (err.file.includes('vae_decoder_tiny')) return 'reinstall the preview decoder (npm run models -- fetch taesd --into <model> --force) or delete vae_decoder_tiny/';
  return REFETCH;
}

/** Checks a TAESD-style preview decoder file on its own, before it is moved into a model folder. */
export async function verifyPreviewDecoder(file: string): Promise<string[]> {
  let session: ort.InferenceSession;
  try {
    session = await openForInspection(file);
  } catch (err) {
    return [`${file}: ONNX Runtime cannot load it (${String(err instanceof Error ? err.message : err).split('\n')[0]}). Fix: ${REFETCH}`];
  }
  try {
    const meta = (list: readonly ort.InferenceSession.ValueMetadata[]) =>
      list.map((m) => (m.isTensor ? { name: m.name, type: String(m.type), shape: m.shape as (number | string)[] } : { name: m.name, type: 'non-tensor' }));
    return checkSignature('previewDecoder', file, meta(session.inputMetadata), meta(session.outputMetadata)).map(formatProblem);
  } finally {
    await session.release();
  }
}
