// Attachment bytes served by the emulated CDN at /attachments/<channel>/<id>/<name>, both those tests register
// (user uploads) and those the bot uploads. Image dimensions come from sharp, as Discord reports width/height.
import sharp from 'sharp';
import type { SnowflakeFactory } from './snowflake.ts';
import type { EmulatorClock } from './clock.ts';
import type { Json } from './types.ts';

export interface StoredAttachment {
  attachment: Json;
  bytes: Buffer;
}

export class AttachmentStore {
  private readonly byId = new Map<string, StoredAttachment>();

  constructor(
    private readonly ids: SnowflakeFactory,
    private readonly clock: EmulatorClock,
    private readonly baseUrl: () => string,
  ) {}

  /** Stores bytes and returns the Discord attachment object pointing at the CDN. */
  async create(bytes: Buffer, filename: string, contentType: string, channelId: string, extra: Json = {}): Promise<Json> {
    const id = this.ids.next();
    const name = sanitizeFilename(filename);
    const path = `/attachments/${channelId}/${id}/${encodeURIComponent(name)}`;
    // Discord appends signed expiry parameters; bots must not assume a bare path.
    const expires = Math.floor(this.clock.now() / 1000) + 86400;
    const signature = `?ex=${expires.toString(16)}&is=${Math.floor(this.clock.now() / 1000).toString(16)}&hm=${id.slice(-12)}&`;
    const attachment: Json = {
      id,
      filename: name,
      size: bytes.length,
      url: `${this.baseUrl()}${path}${signature}`,
      proxy_url: `${this.baseUrl()}${path}${signature}`,
      content_type: contentType,
      ...(await imageSize(bytes, contentType)),
      ...extra,
    };
    this.byId.set(id, { attachment, bytes });
    return attachment;
  }

  get(id: string): StoredAttachment | undefined {
    return this.byId.get(id);
  }
}

/** Discord replaces characters outside a safe set; spaces become underscores. */
export function sanitizeFilename(filename: string): string {
  const cleaned = filename.replace(/\s+/g, '_').replace(/[^\w.\-]/g, '');
  return cleaned.length > 0 ? cleaned : 'unknown';
}

async function imageSize(bytes: Buffer, contentType: string): Promise<Json> {
  if (!contentType.startsWith('image/')) return {};
  try {
    const meta = await sharp(bytes).metadata();
    return meta.width && meta.height ? { width: meta.width, height: meta.height } : {};
  } catch {
    return {};
  }
}
