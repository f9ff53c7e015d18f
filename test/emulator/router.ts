// A tiny method + path-template router. Path segments are matched after percent-decoding, so `%40original`
// and `@original` are the same segment (discord.js sends the former).
import type { Json, RecordedRequest, UploadedFile } from './types.ts';

export interface RouteRequest {
  record: RecordedRequest;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Json | undefined;
  /** The raw JSON body when it is an array (bulk command overwrite). */
  bodyArray: unknown[] | undefined;
  files: UploadedFile[];
  headers: Record<string, string>;
  /** Facts a handler leaves for the request log, e.g. which interaction and message a webhook call touched. */
  notes: { interactionId?: string; messageId?: string; callbackType?: number };
}

export interface RouteResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type RouteHandler = (request: RouteRequest) => Promise<RouteResponse> | RouteResponse;

export interface RouteDefinition {
  method: string;
  template: string;
  /** Whether a `Bot <token>` Authorization header is required (interaction callbacks/webhooks: no). */
  auth: boolean;
  handler: RouteHandler;
}

export interface RouteMatch {
  route: RouteDefinition;
  params: Record<string, string>;
}

export class Router {
  private readonly routes: RouteDefinition[] = [];

  add(method: string, template: string, handler: RouteHandler, options: { auth?: boolean } = {}): void {
    this.routes.push({ method, template, handler, auth: options.auth ?? true });
  }

  match(method: string, segments: string[]): RouteMatch | null {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const params = matchTemplate(route.template, segments);
      if (params) return { route, params };
    }
    return null;
  }
}

function matchTemplate(template: string, segments: string[]): Record<string, string> | null {
  const parts = template.split('/').filter(Boolean);
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i]!;
    if (part.startsWith(':')) params[part.slice(1)] = segment;
    else if (part !== segment) return null;
  }
  return params;
}

/** Splits and percent-decodes a path; returns null for malformed escapes. */
export function pathSegments(path: string): string[] | null {
  try {
    return path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}
