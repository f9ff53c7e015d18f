// Rate-limit bookkeeping and fault injection. Normal responses carry Discord's X-RateLimit-* headers from a real
// per-bucket window, so discord.js's limiter behaves as in production; faults let tests force 429/5xx answers.
import { createHash } from 'node:crypto';
import type { EmulatorClock } from './clock.ts';
import type { RecordedRequest } from './types.ts';

export interface RateLimitOptions {
  /** Requests allowed per bucket window (default 50; real buckets are often 5, which only slows tests). */
  limit: number;
  windowMs: number;
}

interface Bucket {
  remaining: number;
  resetAt: number;
}

export interface RateLimitVerdict {
  limited: boolean;
  headers: Record<string, string>;
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: EmulatorClock,
    private readonly options: RateLimitOptions,
  ) {}

  /** Counts a request against its bucket (route + major parameter, as Discord scopes them). */
  take(route: string, majorParameter: string): RateLimitVerdict {
    const key = `${route}:${majorParameter}`;
    const now = this.clock.now();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.resetAt <= now) {
      bucket = { remaining: this.options.limit, resetAt: now + this.options.windowMs };
      this.buckets.set(key, bucket);
    }
    const limited = bucket.remaining <= 0;
    if (!limited) bucket.remaining -= 1;
    const resetAfter = Math.max(0, bucket.resetAt - now) / 1000;
    return {
      limited,
      retryAfterSeconds: resetAfter,
      headers: rateLimitHeaders(route, this.options.limit, bucket.remaining, bucket.resetAt, resetAfter),
    };
  }
}

export function bucketHash(route: string): string {
  return createHash('sha1').update(route).digest('hex').slice(0, 32);
}

export function rateLimitHeaders(route: string, limit: number, remaining: number, resetAtMs: number, resetAfterSeconds: number): Record<string, string> {
  return {
    'x-ratelimit-bucket': bucketHash(route),
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': (resetAtMs / 1000).toFixed(3),
    'x-ratelimit-reset-after': resetAfterSeconds.toFixed(3),
  };
}

export interface FaultSpec {
  /** Which requests this fault hits (the request is already parsed: route, params, body, files ...). */
  match: (request: RecordedRequest) => boolean;
  /** Status to answer with; omit to only delay the matched requests (then they are handled normally). */
  status?: 429 | 500 | 502 | 503;
  /** How many matching requests to hit (default 1). */
  times?: number;
  /** For 429: seconds to wait (default 0.25). Sent as-is in Retry-After, which discord.js reads as a float. */
  retryAfter?: number;
  /** Delay before answering, in ms. */
  delayMs?: number;
}

export interface ActiveFault extends FaultSpec {
  id: number;
  /** How many requests it has hit so far. */
  hits: number;
}

export class FaultInjector {
  private nextId = 1;
  readonly active: ActiveFault[] = [];

  add(spec: FaultSpec): ActiveFault {
    const fault: ActiveFault = { times: 1, ...spec, id: this.nextId++, hits: 0 };
    this.active.push(fault);
    return fault;
  }

  clear(): void {
    this.active.length = 0;
  }

  /** The first live fault matching the request, consumed by one. */
  take(request: RecordedRequest): ActiveFault | undefined {
    const fault = this.active.find((f) => f.hits < (f.times ?? 1) && f.match(request));
    if (fault) fault.hits += 1;
    return fault;
  }

  /** Faults that were added but have not been used up yet. */
  pending(): ActiveFault[] {
    return this.active.filter((f) => f.hits < (f.times ?? 1));
  }
}
