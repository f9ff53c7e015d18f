import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DISCORD_CDN_HOSTS, DownloadError, checkAttachmentUrl, downloadAttachment, formatSize, type DownloadOptions } from '../../src/net/download.ts';

let server: Server;
let base: string;
let host: string;
/** How many bytes the slow/streaming routes had written when the client went away. */
const written: Record<string, number> = {};

before(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/ok') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': '5' });
      res.end('hello');
    } else if (path === '/big-declared') {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      res.write(Buffer.alloc(1024)); // then hang: the client must stop on the header alone
    } else if (path === '/big-chunked') {
      // No Content-Length: keep streaming until the client disconnects.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      written[path] = 0;
      const chunk = Buffer.alloc(16 * 1024, 1);
      const timer = setInterval(() => {
        if (res.destroyed || written[path]! > 64 * 1024 * 1024) return clearInterval(timer);
        res.write(chunk);
        written[path]! += chunk.length;
      }, 1);
      res.on('close', () => clearInterval(timer));
    } else if (path === '/slow') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write('a');
      const timer = setTimeout(() => res.end('b'), 5000);
      res.on('close', () => clearTimeout(timer));
    } else if (path === '/redirect-same') {
      res.writeHead(302, { location: '/ok' });
      res.end();
    } else if (path === '/redirect-other') {
      res.writeHead(302, { location: 'http://evil.example/x.png' });
      res.end();
    } else if (path === '/redirect-ip') {
      // Same machine, other spelling of the host: must not pass the exact-host rule.
      res.writeHead(301, { location: base.replace('127.0.0.1', 'localhost') + '/ok' });
      res.end();
    } else if (path === '/redirect-loop') {
      res.writeHead(307, { location: '/redirect-loop' });
      res.end();
    } else {
      res.writeHead(404);
      res.end('nope');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  base = `http://${host}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const opts = (over: Partial<DownloadOptions> = {}): DownloadOptions => ({ allowedHosts: [host], maxBytes: 1024 * 1024, timeoutMs: 2000, allowHttp: true, ...over });

async function failsWith(p: Promise<unknown>, code: DownloadError['code'], message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DownloadError, `expected DownloadError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

test('downloads a small file with its content type', async () => {
  const file = await downloadAttachment(`${base}/ok`, opts());
  assert.equal(file.bytes.toString(), 'hello');
  assert.equal(file.contentType, 'image/png');
});

test('Content-Length over the limit is refused before reading the body', async () => {
  const started = Date.now();
  await failsWith(downloadAttachment(`${base}/big-declared`, opts({ maxBytes: 10 * 1024 * 1024 })), 'too-large', /larger than 10 MB/);
  assert.ok(Date.now() - started < 1000);
});

test('a stream without Content-Length is cut off as soon as it passes the limit', async () => {
  await failsWith(downloadAttachment(`${base}/big-chunked`, opts({ maxBytes: 256 * 1024, timeoutMs: 10_000 })), 'too-large', /larger than 256 KB/);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(written['/big-chunked']! < 8 * 1024 * 1024, `server kept writing: ${written['/big-chunked']} bytes`);
});

test('a slow server hits the total timeout', async () => {
  const started = Date.now();
  await failsWith(downloadAttachment(`${base}/slow`, opts({ timeoutMs: 300 })), 'timeout', /longer than 0\.3 s/);
  assert.ok(Date.now() - started < 2000);
});

test('404 gives an HTTP error with the status', async () => {
  await assert.rejects(downloadAttachment(`${base}/missing`, opts()), (err: unknown) => {
    assert.ok(err instanceof DownloadError);
    assert.equal(err.status, 404);
    assert.match(err.message, /HTTP 404/);
    return true;
  });
});

test('redirects: same host followed, other hosts refused, loops bounded, none when disabled', async () => {
  assert.equal((await downloadAttachment(`${base}/redirect-same`, opts())).bytes.toString(), 'hello');
  await failsWith(downloadAttachment(`${base}/redirect-other`, opts()), 'redirect', /not allowed/);
  await failsWith(downloadAttachment(`${base}/redirect-ip`, opts()), 'redirect', /not allowed/);
  await failsWith(downloadAttachment(`${base}/redirect-loop`, opts()), 'redirect', /too often/);
  await failsWith(downloadAttachment(`${base}/redirect-same`, opts({ maxRedirects: 0 })), 'redirect', /too often/);
});

test('wrong host, wrong scheme, userinfo, IP literals and subdomain tricks are refused before any request', async () => {
  const discord = { allowedHosts: DISCORD_CDN_HOSTS };
  assert.equal(checkAttachmentUrl('https://cdn.discordapp.com/attachments/1/2/a.png?ex=1', discord).host, 'cdn.discordapp.com');
  assert.equal(checkAttachmentUrl('https://MEDIA.discordapp.net/x.png', discord).host, 'media.discordapp.net');
  const refused: [string, DownloadError['code']][] = [
    ['https://evil.example/a.png', 'host'],
    ['https://cdn.discordapp.com.evil.example/a.png', 'host'],
    ['https://evil.cdn.discordapp.com/a.png', 'host'],
    ['https://cdn.discordapp.com./a.png', 'host'],
    ['https://cdn.discordapp.com:8443/a.png', 'host'],
    ['https://cdn.discordapp.com@evil.example/a.png', 'bad-url'], // userinfo, really evil.example,
    ['https://user:pw@cdn.discordapp.com/a.png', 'bad-url'],
    ['https://127.0.0.1/a.png', 'host'],
    ['https://2130706433/a.png', 'host'],
    ['https://[::1]/a.png', 'host'],
    ['http://cdn.discordapp.com/a.png', 'protocol'],
    ['file:///etc/passwd', 'protocol'],
    ['not a url', 'bad-url'],
  ];
  for (const [url, code] of refused) {
    assert.throws(() => checkAttachmentUrl(url, discord), (err: unknown) => err instanceof DownloadError && err.code === code, url);
  }
  await failsWith(downloadAttachment('https://evil.example/a.png', { ...discord, maxBytes: 1, timeoutMs: 1000 }), 'host', /^Attachments are only accepted from cdn\.discordapp\.com, media\.discordapp\.net\.$/);
  // Our own test server is only reachable because it is listed, and only over http when allowHttp is set.
  await failsWith(downloadAttachment(`${base}/ok`, opts({ allowHttp: false })), 'protocol', /https/);
  await failsWith(downloadAttachment(`${base}/ok`, opts({ allowedHosts: ['127.0.0.1'] })), 'host', /only accepted/);
});

test('formatSize speaks in MB/KB', () => {
  assert.equal(formatSize(10 * 1024 * 1024), '10 MB');
  assert.equal(formatSize(7.5 * 1024 * 1024), '7.5 MB');
  assert.equal(formatSize(256 * 1024), '256 KB');
});
