// A local stand-in for the Hugging Face Hub, serving the endpoints @huggingface/hub calls for a download:
//   GET /api/models/<owner>/<name>/tree/<revision>?recursive=true   the listing, with git oids, sizes and lfs sha256
//   GET /<owner>/<name>/resolve/<revision>/<path>                    file bytes, with Range (206) and ETag
// It records every request, and can corrupt a file, drop a connection half-way, or demand a token.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, sep } from 'node:path';

export interface TestRepo {
  /** Files per revision: path -> bytes. */
  revisions: Record<string, Map<string, Buffer>>;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
}

export interface RecordedRequest {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

/** Reads a folder into path -> bytes, skipping caches other tests write beside ONNX files. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  async function walk(d: string): Promise<void> {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.endsWith('.cache')) await walk(path);
      } else if (entry.isFile() && !entry.name.includes('.attn-') && !entry.name.includes('.ort-')) {
        // Caches written beside the model files (attention rewrite, ONNX Runtime's optimized graph) are no part of a
        // hub repo, and other tests may be replacing them right now.
        files.set(relative(dir, path).split(sep).join('/'), await readFile(path));
      }
    }
  }
  await walk(dir);
  return files;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gitOid = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
/** Like the hub: binary model files live in LFS (listed with their sha256), small text files in git. */
const isLfs = (path: string, b: Buffer) => /\.(onnx|onnx_data|pb)$/.test(path) || b.length > 10_000;

export class TestHub {
  readonly requests: RecordedRequest[] = [];
  /** Paths whose next body download is cut after this many bytes (once each). */
  readonly dropAfter = new Map<string, number>();
  /** Paths served with one byte changed (same size), so the checksum fails. */
  readonly corrupt = new Set<string>();
  private server: Server | undefined;
  url = '';

  constructor(readonly repos: Record<string, TestRepo>) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range, authorization: req.headers.authorization });
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/(.+)$/.exec(url.pathname);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const repoName = tree?.[1] ?? resolve?.[1];
    const repo = repoName ? this.repos[repoName] : undefined;
    if (!repo) return this.json(res, 404, { error: 'Repository not found' }, { 'x-error-code': 'RepoNotFound' });
    if (repo.token && req.headers.authorization !== `Bearer ${repo.token}`) {
      return this.json(res, 401, { error: `Access to model ${repoName} is restricted. You must have access to it and be authenticated to access it.` }, { 'x-error-code': 'GatedRepo' });
    }
    const revision = decodeURIComponent((tree?.[2] ?? resolve?.[2])!);
    const files = repo.revisions[revision];
    if (!files) return this.json(res, 404, { error: `Invalid rev id: ${revision}` }, { 'x-error-code': 'RevisionNotFound' });
    if (tree) return this.listing(res, files);
    return this.file(req, res, files, decodeURIComponent(resolve![3]!));
  }

  private listing(res: ServerResponse, files: Map<string, Buffer>): void {
    const dirs = new Set<string>();
    const entries: unknown[] = [];
    for (const [path, bytes] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
      const parts = path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!dirs.has(dir)) {
          dirs.add(dir);
          entries.push({ type: 'directory', oid: gitOid(Buffer.from(dir)), size: 0, path: dir });
        }
      }
      const lfs = isLfs(path, bytes);
      const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.length}\n`);
      entries.push({
        type: 'file',
        oid: lfs ? gitOid(pointer) : gitOid(bytes),
        size: bytes.length,
        path,
        ...(lfs ? { lfs: { oid: sha256(bytes), size: bytes.length, pointerSize: pointer.length } } : {}),
      });
    }
    this.json(res, 200, entries);
  }

  private file(req: IncomingMessage, res: ServerResponse, files: Map<string, Buffer>, path: string): void {
    let bytes = files.get(path);
    if (!bytes) return this.json(res, 404, { error: 'Entry not found' }, { 'x-error-code': 'EntryNotFound' });
    const etag = `"${sha256(bytes)}"`;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const probe = range?.[1] === '0' && range[2] === '0';
    if (this.corrupt.has(path) && !probe) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1]! ^= 0xff;
    }
    let start = 0;
    let end = bytes.length - 1;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), end) : end;
    }
    const body = bytes.subarray(start, end + 1);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes', etag, 'content-length': String(body.length) };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
    res.writeHead(range ? 206 : 200, headers);
    const cut = probe ? undefined : this.dropAfter.get(path);
    if (cut !== undefined && cut < body.length) {
      this.dropAfter.delete(path);
      // send part of the promised body, then drop the connection as a flaky network would
      res.write(body.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  }
}
