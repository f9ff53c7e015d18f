// Crash-safe file writes: the data goes to a temporary file in the same directory, is flushed to disk, and is then
// renamed over the target. rename() within one filesystem is atomic, so readers see the old file or the complete
// new one, never a half-written image; on any failure the temporary file is removed.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export type FileData = Uint8Array | string | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface WriteFileAtomicOptions {
  /** Permission bits of a newly created file; default 0o644. */
  mode?: number;
}

/** Writes `data` (bytes, text, or a stream of chunks) to `path` atomically, creating parent directories. */
export async function writeFileAtomic(path: string, data: FileData, options: WriteFileAtomicOptions = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  // Hidden, unique per process and call, and in the same directory (so rename never crosses filesystems).
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', options.mode ?? 0o644);
  let renamed = false;
  try {
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) {
        await handle.writeFile(data);
      } else {
        // writeFile on a handle writes at the current position and retries short writes.
        for await (const chunk of data) await handle.writeFile(chunk);
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    renamed = true;
  } finally {
    if (!renamed) await rm(temp, { force: true });
  }
  await syncDirectory(dir);
}

/** Persists the rename itself (the directory entry). Not supported everywhere (e.g. Windows): best effort. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // A directory that cannot be opened or synced here leaves the file written; only power-loss durability suffers.
  } finally {
    await handle?.close();
  }
}
