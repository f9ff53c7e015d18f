// Small readers over what the emulator recorded, shared by the bot's end-to-end tests.
import sharp from 'sharp';
import type { DiscordEmulator, InteractionResponseRecord, Json, UploadedFile } from '../emulator/index.ts';
import type { InteractionHandle } from '../emulator/index.ts';

/** The message body a response carried: a webhook's JSON, or a callback's `data`. */
export function bodyOf(r: { body: unknown }): Json {
  const body = (r.body ?? {}) as Json;
  return body.data && typeof body.data === 'object' && body.type !== undefined ? body.data : body;
}

export function contentOf(r: { body: unknown }): string {
  return String(bodyOf(r).content ?? '');
}

export function pngsOf(r: { files: UploadedFile[] }): UploadedFile[] {
  return r.files.filter((f) => f.filename.endsWith('.png'));
}

/** Resolves with the response that posted the job's result (PNG files). */
export function finalOf(handle: InteractionHandle, timeoutMs = 60_000): Promise<InteractionResponseRecord> {
  return handle.waitFor((r) => r.status < 300 && pngsOf(r).length > 0, timeoutMs, 'the result upload');
}

/** Resolves with the response whose text matches (e.g. the cancelled or refused message). */
export function responseMatching(handle: InteractionHandle, pattern: RegExp, timeoutMs = 30_000): Promise<InteractionResponseRecord> {
  return handle.waitFor((r) => r.status < 300 && pattern.test(contentOf(r)), timeoutMs, `a response matching ${pattern}`);
}

export function customIdsOf(message: Json | undefined): string[] {
  return ((message?.components ?? []) as Json[]).flatMap((row) => ((row.components ?? []) as Json[]).map((c) => String(c.custom_id)));
}

export function customIdStarting(message: Json | undefined, prefix: string): string {
  const id = customIdsOf(message).find((c) => c.startsWith(prefix));
  if (!id) throw new Error(`no component starting with ${prefix}: ${customIdsOf(message).join(', ')}`);
  return id;
}

/** A smooth, deterministic test picture (gradients compress well, like real photos do not, but decoding is real). */
export async function testPng(width: number, height: number, seed = 1): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = (seed * 37 + x + y) % 256;
    }
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Every ephemeral reply (flags 64) a handle produced, and whether anything public was said. */
export function ephemeralText(handle: InteractionHandle): string {
  return handle.responses.filter((r) => r.status < 300 && (Number(bodyOf(r).flags ?? 0) & 64) !== 0).map(contentOf).join('\n');
}

export function channelPostsSince(emulator: DiscordEmulator, seq: number, channelId: string) {
  return emulator.requests.filter((r) => r.seq > seq && r.method === 'POST' && r.route === '/channels/:channelId/messages' && r.params.channelId === channelId);
}

export function lastSeq(emulator: DiscordEmulator): number {
  return emulator.requests.at(-1)?.seq ?? 0;
}

export function embedFields(message: Json | undefined): Record<string, string> {
  const fields = (message?.embeds?.[0]?.fields ?? []) as { name: string; value: string }[];
  return Object.fromEntries(fields.map((f) => [f.name, f.value]));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
