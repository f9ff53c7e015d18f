// Fetch a user's attachment without becoming an open proxy (SSRF) or a memory sink:
// - only https (plain http only when the caller allows it, for tests against 127.0.0.1);
// - the host must equal an allowed host exactly: no subdomains, no userinfo, no IP literals unless listed, and a
//   non-default port only when the allowed entry names it ("127.0.0.1:8080");
// - redirects are followed by hand (at most a few) and every hop is checked by the same rules;
// - the size is checked against Content-Length up front and counted while streaming, aborting as soon as it is over;
// - one timeout covers the whole exchange, headers and body, across redirects.
// Error messages are written for the person who posted the link.

export const DISCORD_CDN_HOSTS: readonly string[] = ['cdn.discordapp.com', 'media.discordapp.net'];

export type DownloadErrorCode = 'bad-url' | 'host' | 'protocol' | 'redirect' | 'too-large' | 'timeout' | 'http' | 'network';

export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface DownloadOptions {
  /** Lower-case host names, optionally with ":port". */
  allowedHosts: readonly string[];
  maxBytes: number;
  /** Total time for the whole download, redirects included. */
  timeoutMs: number;
  /** Accept http: URLs (tests on 127.0.0.1 only). */
  allowHttp?: boolean;
  /** Same-rules redirects to follow; 0 refuses every redirect. Default 3. */
  maxRedirects?: number;
}

export interface DownloadedFile {
  bytes: Buffer;
  /** The Content-Type header as sent (may be absent or wrong: decode by content, not by this). */
  contentType?: string;
  /** The URL the bytes finally came from. */
  url: string;
}

/** "10 MB" / "7.5 MB" (MiB, as Discord counts its limits). */
export function formatSize(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  if (mb >= 1) return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
  const kb = bytes / 1024;
  return `${Number.isInteger(kb) ? kb : kb.toFixed(1)} KB`;
}

/** Parse and check a URL against the rules above; throws DownloadError. */
export function checkAttachmentUrl(raw: string, options: Pick<DownloadOptions, 'allowedHosts' | 'allowHttp'>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadError('bad-url', 'That is not a valid link.');
  }
  const protocolOk = url.protocol === 'https:' || (options.allowHttp === true && url.protocol === 'http:');
  if (!protocolOk) throw new DownloadError('protocol', 'Only https links are accepted.');
  if (url.username || url.password) throw new DownloadError('bad-url', 'Links with a user name or password are not accepted.');
  // url.host is the normalised host plus the port when it is not the scheme's default (IPv4 forms such as
  // "2130706433" come out as "127.0.0.1", IPv6 as "[::1]"), so an exact comparison is all the checking we need.
  const allowed = options.allowedHosts.map((h) => h.toLowerCase());
  if (!allowed.includes(url.host.toLowerCase())) {
    const names = allowed.join(', ');
    throw new DownloadError('host', `Attachments are only accepted from ${names}.`);
  }
  return url;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

async function readLimited(response: Response, maxBytes: number, controller: AbortController): Promise<Buffer> {
  const tooLarge = (): DownloadError => new DownloadError('too-large', `The file is larger than ${formatSize(maxBytes)}.`);
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    controller.abort();
    throw tooLarge();
  }
  if (!response.body) return Buffer.alloc(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(value);
  }
  return Buffer.concat(parts, total);
}

export async function downloadAttachment(url: string, options: DownloadOptions): Promise<DownloadedFile> {
  const maxRedirects = options.maxRedirects ?? 3;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const seconds = Math.round(options.timeoutMs / 100) / 10;

  try {
    let current = checkAttachmentUrl(url, options);
    for (let hop = 0; ; hop++) {
      const response = await fetch(current, {
        redirect: 'manual',
        signal: controller.signal,
        headers: { accept: 'image/*,*/*;q=0.5' },
      });
      if (REDIRECT_STATUSES.has(response.status)) {
        await response.body?.cancel().catch(() => undefined);
        const location = response.headers.get('location');
        if (!location || hop >= maxRedirects) throw new DownloadError('redirect', 'The link redirects too often (or without saying where).', response.status);
        let next: URL;
        try {
          next = checkAttachmentUrl(new URL(location, current).href, options);
        } catch (err) {
          if (err instanceof DownloadError) throw new DownloadError('redirect', `The link redirects somewhere not allowed. ${err.message}`, response.status, { cause: err });
          throw err;
        }
        current = next;
        continue;
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        const why = response.status === 404 ? ' (not found: the attachment may have expired or been deleted)' : '';
        throw new DownloadError('http', `The download failed with HTTP ${response.status}${why}.`, response.status);
      }
      const bytes = await readLimited(response, options.maxBytes, controller);
      return { bytes, contentType: response.headers.get('content-type') ?? undefined, url: current.href };
    }
  } catch (err) {
    if (timedOut) throw new DownloadError('timeout', `The download took longer than ${seconds} s.`, undefined, { cause: err });
    if (err instanceof DownloadError) throw err;
    throw new DownloadError('network', 'The file could not be downloaded (network error).', undefined, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
