// Downloads one repo file through @huggingface/hub into `<dest>.partial`, resuming from what is already there, checks
// its size and checksum (LFS/Xet files: the sha256 the hub lists; small git files: the git blob sha1), and only then
// renames it to `<dest>`. A checksum mismatch deletes the partial file (its bytes cannot be trusted for a resume);
// any other failure keeps it, so running the same command again continues where it stopped.
//
// Resuming uses the library's Blob: downloadFile() returns a WebBlob (or an XetBlob for Xet-backed files) whose
// slice(start) fetches with `Range: bytes=start-`, so only the missing tail travels again.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { downloadFile, fileDownloadInfo } from '@huggingface/hub';
import type { ProgressSink } from './progress.ts';
import type { HubAccess, RemoteFile } from './repoFiles.ts';

/** The bytes arrived but are not the bytes the hub lists: nothing of them is kept. */
export class ChecksumError extends Error {
  override name = 'ChecksumError';
}

/** Any other download failure; the partial file is kept for a resume. */
export class DownloadFailedError extends Error {
  override name = 'DownloadFailedError';
}

export const PARTIAL_SUFFIX = '.partial';

/** An error's message with its cause: undici reports network failures as "fetch failed" and puts the reason below. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as (Error & { code?: string }) | undefined;
  const detail = cause instanceof Error ? `${cause.code ? `${cause.code}: ` : ''}${cause.message}` : undefined;
  return detail && !err.message.includes(detail) ? `${err.message} (${detail})` : err.message;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

function newHasher(file: RemoteFile): { hash: Hash; expected: string; kind: string } | undefined {
  if (file.sha256) return { hash: createHash('sha256'), expected: file.sha256.toLowerCase(), kind: 'sha256' };
  if (file.gitOid) {
    // git hashes "blob <size>\0" followed by the content
    const hash = createHash('sha1');
    hash.update(`blob ${file.size}\0`);
    return { hash, expected: file.gitOid.toLowerCase(), kind: 'git sha1' };
  }
  return undefined;
}

/** Counts and hashes the bytes on their way to disk; refuses more than `limit` (a server that ignored Range). */
function tap(hasher: Hash | undefined, progress: ProgressSink, limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) {
        cb(new DownloadFailedError(`the server sent more bytes than the file has (${seen} > ${limit}); it may have ignored the Range request`));
        return;
      }
      hasher?.update(chunk);
      progress.advance(chunk.length);
      cb(null, chunk);
    },
  });
}

export interface DownloadOneOptions {
  repo: string;
  file: RemoteFile;
  /** Final path; the download goes to `${dest}.partial` first. */
  dest: string;
  access: HubAccess;
  progress: ProgressSink;
}

export async function downloadVerified({ repo, file, dest, access, progress }: DownloadOneOptions): Promise<void> {
  const partial = dest + PARTIAL_SUFFIX;
  await mkdir(dirname(dest), { recursive: true });
  const common = { repo, path: file.repoPath, revision: access.revision, hubUrl: access.hubUrl, accessToken: access.accessToken };

  const info = await fileDownloadInfo(common);
  if (!info) throw new DownloadFailedError(`${file.repoPath} is listed but the hub has no such file at this revision`);
  if (info.size !== file.size) throw new ChecksumError(`${file.repoPath}: the hub lists ${file.size} bytes but serves ${info.size}`);

  let have = (await sizeOf(partial)) ?? 0;
  if (have > file.size) {
    await unlink(partial);
    have = 0;
  }
  const hasher = newHasher(file);
  if (hasher && have > 0) await pipeline(createReadStream(partial, { end: have - 1 }), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) hasher.hash.update(chunk);
  });

  progress.start(file.path, file.size, have);
  if (have < file.size) {
    const blob = await downloadFile({ ...common, downloadInfo: info });
    if (!blob) throw new DownloadFailedError(`${file.repoPath} disappeared from the hub during the download`);
    const part = have > 0 ? blob.slice(have) : blob;
    try {
      await pipeline(Readable.fromWeb(part.stream() as WebReadableStream<Uint8Array>), tap(hasher?.hash, progress, file.size - have), createWriteStream(partial, { flags: 'a' }));
    } catch (err) {
      progress.done('interrupted');
      // a server that ignored Range appended a whole copy: that partial cannot be resumed
      if (err instanceof DownloadFailedError) await unlink(partial).catch(() => {});
      throw new DownloadFailedError(`${file.repoPath}: download interrupted (${errorText(err)})`, { cause: err });
    }
  }

  const got = (await sizeOf(partial)) ?? 0;
  if (got !== file.size) {
    progress.done('incomplete');
    throw new DownloadFailedError(`${file.repoPath}: got ${got} of ${file.size} bytes`);
  }
  if (hasher) {
    const actual = hasher.hash.digest('hex');
    if (actual !== hasher.expected) {
      progress.done('checksum mismatch');
      await unlink(partial).catch(() => {});
      throw new ChecksumError(`${file.repoPath}: ${hasher.kind} is ${actual} but the hub lists ${hasher.expected}`);
    }
  }
  await rename(partial, dest);
  progress.done(hasher ? `${hasher.kind} ok` : 'done (no checksum listed)');
}
