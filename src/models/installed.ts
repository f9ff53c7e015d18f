// The models installed under models/: every visible sub-folder (hidden ones, like the .partial staging area, are
// skipped), with its size on disk and whether it verifies.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readSourceRecord, verifyModelFolder, type VerifyReport } from './verify.ts';

export interface InstalledModel {
  name: string;
  dir: string;
  bytes: number;
  /** The repo it was fetched from, when this tool installed it. */
  repo?: string;
  revision?: string;
  hasPreviewDecoder: boolean;
  report: VerifyReport;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

export async function listInstalled(modelsDir: string, options: { signatures?: boolean } = {}): Promise<InstalledModel[]> {
  let entries;
  try {
    entries = await readdir(modelsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: InstalledModel[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = join(modelsDir, entry.name);
    const report = await verifyModelFolder(dir, options);
    const record = await readSourceRecord(dir);
    out.push({
      name: entry.name,
      dir,
      bytes: await folderBytes(dir),
      repo: record?.repo,
      revision: record?.revision,
      hasPreviewDecoder: Boolean(report.folder?.paths.previewDecoder),
      report,
    });
  }
  return out;
}
