// Request body parsing. Multipart bodies (payload_json + files[n]) are parsed with the WHATWG FormData parser built
// into Node 20 (undici's Response.formData()), so no hand-written multipart code and no extra dependency.
import type { Json, UploadedFile } from './types.ts';

export class BodyParseError extends Error {}

export interface ParsedBody {
  json: Json | unknown[] | undefined;
  files: UploadedFile[];
}

export async function parseBody(raw: Buffer, contentType: string | undefined): Promise<ParsedBody> {
  if (raw.length === 0) return { json: undefined, files: [] };
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('application/json')) {
    try {
      return { json: JSON.parse(raw.toString('utf8')), files: [] };
    } catch {
      throw new BodyParseError('body is not valid JSON');
    }
  }
  if (type.startsWith('multipart/form-data')) return parseMultipart(raw, contentType!);
  throw new BodyParseError(`unsupported Content-Type ${contentType ?? '(none)'}`);
}

async function parseMultipart(raw: Buffer, contentType: string): Promise<ParsedBody> {
  let form: FormData;
  try {
    form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new BodyParseError(`malformed multipart body: ${(error as Error).message}`);
  }
  let json: Json | undefined;
  const files: UploadedFile[] = [];
  const fields: Json = {};
  for (const [field, value] of form.entries()) {
    if (typeof value === 'string') {
      if (field === 'payload_json') {
        try {
          json = JSON.parse(value);
        } catch {
          throw new BodyParseError('payload_json is not valid JSON');
        }
      } else fields[field] = value;
    } else {
      files.push({
        field,
        filename: value.name,
        contentType: value.type || 'application/octet-stream',
        bytes: Buffer.from(await value.arrayBuffer()),
      });
    }
  }
  // Without payload_json Discord reads the plain form fields (discord.js does this with appendToFormData).
  return { json: json ?? (Object.keys(fields).length > 0 ? fields : undefined), files };
}
