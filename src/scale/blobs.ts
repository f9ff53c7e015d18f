// Image bytes between bot and workers, as Redis strings with a time to live. Redis is the one thing both sides
// already share (no shared filesystem is assumed), a PNG is a few hundred KB, and a TTL cleans up after a side that
// died before the other fetched its bytes. Bytes stay out of BullMQ's job data, return values and events stream:
// those are copied into the events stream and job hashes and kept for a while, a blob is read once and deleted.
import type { Redis } from 'ioredis';
import { blobKey } from './keys.ts';

/** Long enough for a bot restart between a worker finishing and the bot collecting. */
export const BLOB_TTL_MS = 24 * 60 * 60 * 1000;

export class BlobStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs = BLOB_TTL_MS,
  ) {}

  /** Stores bytes; returns the key to hand to the other side. */
  async put(jobId: string, name: string, bytes: Uint8Array): Promise<string> {
    const key = blobKey(jobId, name);
    await this.redis.set(key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'PX', this.ttlMs);
    return key;
  }

  /** The bytes under a key, or undefined when they expired or were never written. */
  async get(key: string): Promise<Buffer | undefined> {
    return (await this.redis.getBuffer(key)) ?? undefined;
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length) await this.redis.del(...keys);
  }
}
