// PNG output with generation metadata, plus small lossy previews.
//
// Text chunks are written the way A1111 (through PIL's PngInfo.add_text) writes them: a tEXt chunk when the text is
// Latin-1, otherwise an uncompressed iTXt chunk holding UTF-8. The image is also marked as AI-generated with an XMP
// packet carrying IPTC's DigitalSourceType "trainedAlgorithmicMedia". We write that XMP ourselves as an iTXt chunk
// with the keyword "XML:com.adobe.xmp", as the XMP specification asks: sharp's withXmp() makes libvips store it in a
// compressed zTXt chunk, which several XMP readers skip.
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import type { RgbImage } from './types.ts';

interface RawChunk {
  name: string;
  data: Uint8Array;
}

// The png-chunks-* packages are CommonJS without type declarations; type the two functions we use here.
const require = createRequire(import.meta.url);
const extractChunks = require('png-chunks-extract') as (data: Uint8Array) => RawChunk[];
const encodeChunks = require('png-chunks-encode') as (chunks: RawChunk[]) => Uint8Array;

export const PARAMETERS_KEYWORD = 'parameters';
export const XMP_KEYWORD = 'XML:com.adobe.xmp';
export const AI_DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** Compressed text larger than this is not inflated (a zTXt/iTXt chunk can otherwise be a zip bomb). */
const MAX_INFLATED_TEXT = 8 * 1024 * 1024;

export interface PngMeta {
  /** A1111 "parameters" text (see parameters.ts). */
  parameters: string;
  /** Written as the standard "Software" keyword and as XMP CreatorTool. */
  software?: string;
}

export interface PngEncodeOptions {
  /** zlib level 0-9; 6 is fast and close to 9 on generated images. */
  compressionLevel?: number;
  /** Slower, usually smaller; fitUpload turns it on. */
  adaptiveFiltering?: boolean;
}

export interface PngTextEntry {
  keyword: string;
  text: string;
}

export interface PngTextChunk extends PngTextEntry {
  type: 'tEXt' | 'iTXt' | 'zTXt';
  /** iTXt only. */
  language?: string;
  translatedKeyword?: string;
}

export class PngFormatError extends Error {
  override name = 'PngFormatError';
}

function checkRgb(image: RgbImage): void {
  if (!Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width <= 0 || image.height <= 0) {
    throw new Error(`invalid image size ${image.width}x${image.height}`);
  }
  if (image.data.length !== image.width * image.height * 3) {
    throw new Error(`image data holds ${image.data.length} bytes; ${image.width}x${image.height} RGB needs ${image.width * image.height * 3}`);
  }
}

/** A sharp pipeline reading an RgbImage without copying its pixels. */
export function sharpFromRgb(image: RgbImage): Sharp {
  checkRgb(image);
  const view = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return sharp(view, { raw: { width: image.width, height: image.height, channels: 3 } });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** The XMP packet that marks an image as produced by a trained generative model (IPTC DigitalSourceType). */
export function aiGeneratedXmp(software?: string): string {
  const creatorTool = software ? `\n   <xmp:CreatorTool>${escapeXml(software)}</xmp:CreatorTool>` : '';
  return [
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>',
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    '  <rdf:Description rdf:about=""',
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"',
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/">',
    `   <Iptc4xmpExt:DigitalSourceType>${AI_DIGITAL_SOURCE_TYPE}</Iptc4xmpExt:DigitalSourceType>${creatorTool}`,
    '  </rdf:Description>',
    ' </rdf:RDF>',
    '</x:xmpmeta>',
    '<?xpacket end="r"?>',
  ].join('\n');
}

const isLatin1 = (text: string): boolean => /^[\u0000-\u00ff]*$/.test(text);

function checkKeyword(keyword: string): void {
  // PNG keywords: 1-79 Latin-1 printable characters.
  if (keyword.length < 1 || keyword.length > 79 || !/^[\u0020-\u007e\u00a1-\u00ff]+$/.test(keyword)) {
    throw new Error(`invalid PNG text keyword "${keyword}"`);
  }
}

/** One text chunk: tEXt for Latin-1 text, else uncompressed iTXt with UTF-8 (what PIL's add_text does). NULs are dropped: neither chunk may hold one. */
export function textChunk(keyword: string, text: string, forceItxt = false): RawChunk {
  checkKeyword(keyword);
  const clean = text.replace(/\u0000/g, '');
  if (!forceItxt && isLatin1(clean)) {
    return { name: 'tEXt', data: Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(clean, 'latin1')]) };
  }
  // keyword \0 compressionFlag compressionMethod language \0 translatedKeyword \0 text
  return {
    name: 'iTXt',
    data: Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(clean, 'utf8')]),
  };
}

function parseChunks(png: Uint8Array): RawChunk[] {
  try {
    return extractChunks(png);
  } catch (err) {
    throw new PngFormatError(`not a valid PNG: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Insert text chunks right after IHDR (before any image data, where PIL puts them), replacing existing chunks with
 * the same keywords so that re-encoding or re-tagging never duplicates metadata.
 */
export function insertTextChunks(png: Uint8Array, chunks: RawChunk[]): Buffer {
  const existing = parseChunks(png);
  if (existing[0]?.name !== 'IHDR') throw new PngFormatError('not a valid PNG: IHDR is not the first chunk');
  const replaced = new Set(chunks.map((c) => decodeTextChunk(c)?.keyword).filter((k): k is string => k !== undefined));
  const kept = existing.slice(1).filter((c) => {
    const text = decodeTextChunk(c);
    return !text || !replaced.has(text.keyword);
  });
  return Buffer.from(encodeChunks([existing[0], ...chunks, ...kept]));
}

/** Add (or replace) plain text entries, choosing tEXt or iTXt per entry. */
export function withPngText(png: Uint8Array, entries: PngTextEntry[]): Buffer {
  return insertTextChunks(png, entries.map((e) => textChunk(e.keyword, e.text)));
}

/** The metadata chunks encodePng writes for `meta`. */
export function metadataChunks(meta: PngMeta): RawChunk[] {
  const chunks = [textChunk(PARAMETERS_KEYWORD, meta.parameters)];
  if (meta.software) chunks.push(textChunk('Software', meta.software));
  chunks.push(textChunk(XMP_KEYWORD, aiGeneratedXmp(meta.software), true));
  return chunks;
}

export async function encodePng(image: RgbImage, meta: PngMeta, options: PngEncodeOptions = {}): Promise<Buffer> {
  const png = await sharpFromRgb(image)
    .png({ compressionLevel: options.compressionLevel ?? 6, adaptiveFiltering: options.adaptiveFiltering ?? false })
    .toBuffer();
  return insertTextChunks(png, metadataChunks(meta));
}

function cString(data: Uint8Array, start: number): { value: Uint8Array; next: number } | undefined {
  const end = data.indexOf(0, start);
  if (end < 0) return undefined;
  return { value: data.subarray(start, end), next: end + 1 };
}

function inflateText(data: Uint8Array): Buffer {
  return inflateSync(data, { maxOutputLength: MAX_INFLATED_TEXT });
}

/** Decode a tEXt/zTXt/iTXt chunk; undefined for other chunks and for malformed text chunks. */
function decodeTextChunk(chunk: RawChunk): PngTextChunk | undefined {
  const { name, data } = chunk;
  if (name !== 'tEXt' && name !== 'zTXt' && name !== 'iTXt') return undefined;
  const key = cString(data, 0);
  if (!key) return undefined;
  const keyword = Buffer.from(key.value).toString('latin1');
  try {
    if (name === 'tEXt') return { type: name, keyword, text: Buffer.from(data.subarray(key.next)).toString('latin1') };
    if (name === 'zTXt') return { type: name, keyword, text: inflateText(data.subarray(key.next + 1)).toString('latin1') };
    const compressed = data[key.next] === 1;
    const lang = cString(data, key.next + 2);
    if (!lang) return undefined;
    const tkey = cString(data, lang.next);
    if (!tkey) return undefined;
    const body = data.subarray(tkey.next);
    return {
      type: name,
      keyword,
      text: (compressed ? inflateText(body) : Buffer.from(body)).toString('utf8'),
      language: Buffer.from(lang.value).toString('latin1'),
      translatedKeyword: Buffer.from(tkey.value).toString('utf8'),
    };
  } catch {
    return undefined; // corrupt or oversized compressed text: skip it rather than fail the whole read
  }
}

/** Every text chunk (tEXt, zTXt, iTXt) in file order. Throws PngFormatError when the bytes are not a PNG. */
export function readPngText(png: Uint8Array): PngTextChunk[] {
  return parseChunks(png)
    .map(decodeTextChunk)
    .filter((c): c is PngTextChunk => c !== undefined);
}

/** The A1111 "parameters" text, if the PNG has one. */
export function readPngParameters(png: Uint8Array): string | undefined {
  return readPngText(png).find((c) => c.keyword === PARAMETERS_KEYWORD)?.text;
}

export interface PreviewOptions {
  /** Longest side in pixels; the preview is never enlarged. */
  maxSide?: number;
  quality?: number;
}

function previewPipeline(image: RgbImage, maxSide: number): Sharp {
  const pipeline = sharpFromRgb(image);
  if (Math.max(image.width, image.height) <= maxSide) return pipeline;
  return pipeline.resize(maxSide, maxSide, { fit: 'inside', kernel: 'linear' });
}

/** A small JPEG for progress messages (no metadata: previews are throwaway). */
export async function encodeJpegPreview(image: RgbImage, options: PreviewOptions = {}): Promise<Buffer> {
  return previewPipeline(image, options.maxSide ?? 256).jpeg({ quality: options.quality ?? 70, mozjpeg: false }).toBuffer();
}

/** A small WebP for progress messages; effort 0 because speed matters more than bytes here. */
export async function encodeWebpPreview(image: RgbImage, options: PreviewOptions = {}): Promise<Buffer> {
  return previewPipeline(image, options.maxSide ?? 256).webp({ quality: options.quality ?? 70, effort: 0 }).toBuffer();
}
