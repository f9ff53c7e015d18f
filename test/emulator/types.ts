// Shared shapes. Discord payloads are kept as loose JSON objects on purpose: the emulator stores and echoes what
// clients send (including fields it does not know), and tests read them back without casts.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = { [key: string]: any };

export interface UploadedFile {
  /** Multipart field name, e.g. `files[0]`. */
  field: string;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

export interface RecordedRequest {
  seq: number;
  /** Emulator time (ms) when the request arrived. */
  at: number;
  method: string;
  /** Path after the /api/v10 prefix, decoded, e.g. `/webhooks/1/abc/messages/@original`. */
  path: string;
  /** Route template, e.g. `/webhooks/:applicationId/:token/messages/:messageId`; null when no route matched. */
  route: string | null;
  params: Record<string, string>;
  query: Record<string, string>;
  /** Lower-cased request headers without Authorization. */
  headers: Record<string, string>;
  /** Parsed JSON body, or payload_json of a multipart body; undefined when there was none. */
  body: unknown;
  files: UploadedFile[];
  /** Response status once answered. */
  status?: number;
  /** Parsed response body once answered (undefined for 204). */
  response?: unknown;
  /** Set when the response came from an injected fault. */
  fault?: boolean;
}
