// Reading a model's files ahead, in parallel with session creation. onnxruntime-node creates a session synchronously
// on the calling thread, so sub-models cannot be created side by side in one process; what can run in parallel is the
// disk: while the text encoder's session is being created, a worker thread reads the UNet's and the VAE's files into
// the OS page cache, and their sessions then load from memory instead of a cold disk. Only done when the files fit in
// free memory (otherwise the pages would be evicted again before use and the disk read twice).
import { readdir, stat } from 'node:fs/promises';
import { freemem } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** Reads each file once, front to back, in 8 MB chunks; the bytes are dropped (the page cache keeps them). */
const READER = `
const { readSync, openSync, closeSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const buffer = Buffer.allocUnsafe(8 * 1024 * 1024);
for (const file of workerData) {
  let fd;
  try {
    fd = openSync(file, 'r');
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } catch {
    // a file that cannot be read now will fail, with a proper message, when its session is created
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
`;

/** The files a session for `modelPath` reads: the graph and the weight files beside it (JSON left out). */
export async function filesOf(modelPath: string): Promise<{ path: string; bytes: number }[]> {
  const dir = dirname(modelPath);
  const out: { path: string; bytes: number }[] = [];
  for (const name of await readdir(dir)) {
    if (name.endsWith('.json')) continue;
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (s?.isFile()) out.push({ path, bytes: s.size });
  }
  return out;
}

export interface Prefetch {
  /** Bytes being read ahead (0 when skipped). */
  bytes: number;
  /** Resolves when the reading is over (never rejects); keeps the process alive until then. */
  wait(): Promise<void>;
}

/**
 * Starts reading `files` in a worker thread when they fit in free memory (with `headroom` to spare); returns at once.
 * The worker is unref'd: it never keeps the process alive.
 */
export function prefetch(files: readonly { path: string; bytes: number }[], headroom = 512 * 1024 * 1024): Prefetch {
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  if (files.length === 0 || bytes + headroom > freemem()) return { bytes: 0, wait: () => Promise.resolve() };
  const worker = new Worker(READER, { eval: true, workerData: files.map((f) => f.path) });
  worker.unref();
  const done = new Promise<void>((resolve) => {
    worker.once('exit', () => resolve());
    worker.once('error', () => resolve());
  });
  return {
    bytes,
    wait: () => {
      worker.ref();
      return done;
    },
  };
}
