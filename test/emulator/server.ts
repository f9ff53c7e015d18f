// The HTTP side: /api/v10 REST with recording, latency, fault injection, auth and rate-limit headers; the CDN for
// attachments; and the WebSocket upgrade for the gateway at /gateway.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BodyParseError, parseBody } from './body.ts';
import type { Core, InteractionResponseRecord } from './core.ts';
import { ApiError, Errors } from './errors.ts';
import { rateLimitHeaders } from './ratelimit.ts';
import { pathSegments, Router, type RouteRequest, type RouteResponse } from './router.ts';
import { registerCoreRoutes } from './routes-core.ts';
import { registerInteractionRoutes } from './routes-interactions.ts';
import type { Json, RecordedRequest } from './types.ts';

const API_PREFIX = /^\/api\/v(\d+)(\/.*)?$/;

export class EmulatorServer {
  private readonly server: Server;
  private readonly router = new Router();
  private seq = 0;

  constructor(private readonly core: Core) {
    registerCoreRoutes(this.router, core);
    registerInteractionRoutes(this.router, core);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in the emulator itself: answer 500 and keep the process alive so the test reports it.
        console.error('[discord-emulator] internal error', error);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Emulator internal error', code: 0 }));
      });
    });
    this.server.on('upgrade', (req, socket, head) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '');
      if (path === '/gateway') core.gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    await this.core.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.startsWith('/attachments/')) return this.serveAttachment(url.pathname, res);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const core = this.core;

    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (name !== 'authorization' && value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const prefix = API_PREFIX.exec(url.pathname);
    const path = prefix ? (prefix[2] ?? '/') : url.pathname;
    const segments = pathSegments(path);
    const match = prefix?.[1] === '10' && segments ? this.router.match(req.method ?? 'GET', segments) : null;
    const record: RecordedRequest = {
      seq: ++this.seq,
      at: core.clock.now(),
      method: req.method ?? 'GET',
      path: segments ? '/' + segments.join('/') : path,
      route: match?.route.template ?? null,
      params: match?.params ?? {},
      query: Object.fromEntries(url.searchParams),
      headers,
      body: undefined,
      files: [],
    };
    core.requests.push(record);

    const send = (response: RouteResponse) => {
      record.status = response.status;
      record.response = response.body;
      const out: Record<string, string> = { ...response.headers };
      let payload: string | undefined;
      // A 204 must not claim a JSON body: discord.js would try to parse the empty body.
      if (response.status !== 204 && response.body !== undefined) {
        if (typeof response.body === 'string') {
          out['content-type'] ??= 'text/plain';
          payload = response.body;
        } else {
          out['content-type'] = 'application/json';
          payload = JSON.stringify(response.body);
        }
      }
      res.writeHead(response.status, out);
      res.end(payload);
      core.notifier.notify();
    };

    let parsed;
    try {
      parsed = await parseBody(raw, req.headers['content-type']);
    } catch (error) {
      if (!(error instanceof BodyParseError)) throw error;
      return send({ status: 400, body: { message: `The request body contains invalid JSON. (${error.message})`, code: 50109 } });
    }
    record.body = parsed.json;
    record.files = parsed.files;

    if (core.latencyMs > 0) await sleep(core.latencyMs);

    const fault = core.faults.take(record);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.status) {
      record.fault = true;
      return send(faultResponse(fault.status, fault.retryAfter ?? 0.25, record.route ?? record.path, core.clock.now()));
    }

    if (!match) {
      console.warn(`[discord-emulator] unknown route ${record.method} ${url.pathname}`);
      return send({ status: 404, body: { message: '404: Not Found', code: 0 } });
    }

    const request: RouteRequest = {
      record,
      params: match.params,
      query: url.searchParams,
      body: parsed.json && !Array.isArray(parsed.json) ? (parsed.json as Json) : undefined,
      bodyArray: Array.isArray(parsed.json) ? parsed.json : undefined,
      files: parsed.files,
      headers,
      notes: {},
    };
    let response: RouteResponse;
    const major = majorParameter(match.route.template, match.params);
    const limit = core.rateLimiter.take(match.route.template, major);
    if (match.route.auth && req.headers.authorization !== `Bot ${core.token}`) {
      response = errorResponse(Errors.unauthorized());
    } else if (limit.limited) {
      response = tooManyRequests(limit.retryAfterSeconds, limit.headers);
    } else {
      try {
        response = await match.route.handler(request);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        response = errorResponse(error);
      }
      response.headers = { ...limit.headers, ...response.headers };
    }
    send(response);
    this.recordInteractionResponse(request, response);
  }

  /** Adds callback and webhook calls to their interaction's response list (failed ones too). */
  private recordInteractionResponse(request: RouteRequest, response: RouteResponse): void {
    const interactionId = request.notes.interactionId;
    if (!interactionId) return;
    const interaction = this.core.interactions.get(interactionId);
    if (!interaction) return;
    const isCallback = request.record.route!.startsWith('/interactions/');
    const entry: InteractionResponseRecord = {
      kind: isCallback ? 'callback' : 'webhook',
      at: request.record.at,
      method: request.record.method,
      route: request.record.route!,
      body: request.body ?? (request.bodyArray as Json | undefined),
      files: request.files,
      status: response.status,
      response: response.body,
    };
    if (isCallback) {
      entry.type = request.notes.callbackType;
      entry.latencyMs = request.record.at - interaction.createdAt;
    }
    if (request.notes.messageId) entry.messageId = request.notes.messageId;
    interaction.responses.push(entry);
    this.core.notifier.notify();
  }

  private serveAttachment(pathname: string, res: ServerResponse): void {
    const id = pathname.split('/')[3];
    const stored = id ? this.core.attachments.get(id) : undefined;
    if (!stored) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('This content is no longer available.');
      return;
    }
    res.writeHead(200, { 'content-type': stored.attachment.content_type ?? 'application/octet-stream', 'content-length': String(stored.bytes.length) });
    res.end(stored.bytes);
  }
}

/** Discord scopes buckets by channel, guild or webhook (id + token). */
function majorParameter(template: string, params: Record<string, string>): string {
  if (template.startsWith('/channels/')) return params.channelId ?? 'global';
  if (template.startsWith('/guilds/')) return params.guildId ?? 'global';
  if (template.startsWith('/webhooks/')) return `${params.applicationId}/${params.token}`;
  if (template.startsWith('/interactions/')) return params.interactionId ?? 'global';
  return 'global';
}

function errorResponse(error: ApiError): RouteResponse {
  return { status: error.status, body: error.body };
}

function tooManyRequests(retryAfter: number, headers: Record<string, string>): RouteResponse {
  return {
    status: 429,
    headers: { ...headers, 'retry-after': retryAfter.toFixed(3), 'x-ratelimit-remaining': '0', 'x-ratelimit-scope': 'user' },
    body: { message: 'You are being rate limited.', retry_after: Number(retryAfter.toFixed(3)), global: false },
  };
}

function faultResponse(status: number, retryAfter: number, route: string, now: number): RouteResponse {
  if (status === 429) {
    return tooManyRequests(retryAfter, rateLimitHeaders(route, 5, 0, now + retryAfter * 1000, retryAfter));
  }
  if (status === 502) return { status, headers: { 'content-type': 'text/html' }, body: '<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>' };
  if (status === 503) return { status, body: { message: 'upstream connect error or disconnect/reset before headers. reset reason: overflow', code: 0 } };
  return { status, body: { message: '500: Internal Server Error', code: 0 } };
}
