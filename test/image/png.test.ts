import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import {
  AI_DIGITAL_SOURCE_TYPE,
  PngFormatError,
  XMP_KEYWORD,
  encodeJpegPreview,
  encodePng,
  encodeWebpPreview,
  readPngParameters,
  readPngText,
  withPngText,
} from '../../src/pipeline/png.ts';
import { testImage } from './helpers.ts';

const require = createRequire(import.meta.url);
const extractChunks = require('png-chunks-extract') as (data: Uint8Array) => { name: string; data: Uint8Array }[];
const encodeChunks = require('png-chunks-encode') as (chunks: { name: string; data: Uint8Array }[]) => Uint8Array;

const params = 'a fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 64x48';

test('encodePng keeps the pixels and writes parameters as tEXt', async () => {
  const image = testImage(64, 48);
  const png = await encodePng(image, { parameters: params, software: 'imagine-bot 0.1.0' });
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height, info.channels], [64, 48, 3]);
  assert.ok(Buffer.from(image.data).equals(data), 'PNG is lossless');

  const chunks = readPngText(png);
  const p = chunks.find((c) => c.keyword === 'parameters');
  assert.equal(p?.type, 'tEXt');
  assert.equal(p?.text, params);
  assert.equal(chunks.find((c) => c.keyword === 'Software')?.text, 'imagine-bot 0.1.0');
  assert.equal(readPngParameters(png), params);
  // Text goes before the image data, as PIL writes it.
  const names = extractChunks(png).map((c) => c.name);
  assert.ok(names.indexOf('tEXt') < names.indexOf('IDAT'));
});

test('non-Latin-1 parameters go into a UTF-8 iTXt chunk', async () => {
  const text = '富士山 🌸\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 8x8';
  const png = await encodePng(testImage(8, 8), { parameters: text });
  const p = readPngText(png).find((c) => c.keyword === 'parameters');
  assert.equal(p?.type, 'iTXt');
  assert.equal(p?.text, text);
  // Latin-1 accents still fit tEXt (as PIL decides).
  const latin = await encodePng(testImage(8, 8), { parameters: 'café crème' });
  assert.equal(readPngText(latin).find((c) => c.keyword === 'parameters')?.type, 'tEXt');
  assert.equal(readPngParameters(latin), 'café crème');
});

test('marks the image AI-generated in an iTXt XMP packet that libvips reads back', async () => {
  const png = await encodePng(testImage(8, 8), { parameters: 'x', software: 'bot <&>' });
  const xmp = readPngText(png).find((c) => c.keyword === XMP_KEYWORD);
  assert.equal(xmp?.type, 'iTXt');
  assert.match(xmp!.text, /<Iptc4xmpExt:DigitalSourceType>http:\/\/cv\.iptc\.org\/newscodes\/digitalsourcetype\/trainedAlgorithmicMedia<\/Iptc4xmpExt:DigitalSourceType>/);
  assert.ok(xmp!.text.includes('bot &lt;&amp;&gt;'));
  const meta = await sharp(png).metadata();
  assert.ok(meta.xmp?.toString('utf8').includes(AI_DIGITAL_SOURCE_TYPE), 'sharp/libvips sees the XMP');
});

test('withPngText replaces chunks with the same keyword instead of duplicating', async () => {
  const png = await encodePng(testImage(8, 8), { parameters: 'old' });
  const updated = withPngText(png, [{ keyword: 'parameters', text: 'new' }, { keyword: 'Comment', text: 'hi' }]);
  const chunks = readPngText(updated);
  assert.deepEqual(chunks.filter((c) => c.keyword === 'parameters').map((c) => c.text), ['new']);
  assert.equal(chunks.find((c) => c.keyword === 'Comment')?.text, 'hi');
  assert.ok(chunks.some((c) => c.keyword === XMP_KEYWORD), 'other chunks survive');
});

test('readPngText reads zTXt and compressed iTXt written by others', async () => {
  const plain = await sharp(Buffer.from(testImage(4, 4).data), { raw: { width: 4, height: 4, channels: 3 } }).png().toBuffer();
  const [ihdr, ...rest] = extractChunks(plain);
  const ztxt = Buffer.concat([Buffer.from('Comment\0\0', 'latin1'), deflateSync(Buffer.from('zipped text', 'latin1'))]);
  const itxt = Buffer.concat([Buffer.from('Title\0\x01\0en\0', 'latin1'), Buffer.from('Titel\0', 'utf8'), deflateSync(Buffer.from('héllo ✓', 'utf8'))]);
  const png = encodeChunks([ihdr!, { name: 'zTXt', data: ztxt }, { name: 'iTXt', data: itxt }, ...rest]);
  const chunks = readPngText(png);
  assert.deepEqual(chunks.map((c) => [c.type, c.keyword, c.text]), [['zTXt', 'Comment', 'zipped text'], ['iTXt', 'Title', 'héllo ✓']]);
  assert.equal(chunks[1]!.language, 'en');
  assert.equal(chunks[1]!.translatedKeyword, 'Titel');
});

test('readPngText rejects non-PNG bytes', () => {
  assert.throws(() => readPngText(Buffer.from('GIF89a not a png')), PngFormatError);
});

test('previews are small JPEG/WebP, never enlarged', async () => {
  const big = testImage(512, 384);
  const jpg = await encodeJpegPreview(big);
  const jm = await sharp(jpg).metadata();
  assert.deepEqual([jm.format, jm.width, jm.height], ['jpeg', 256, 192]);
  const webp = await encodeWebpPreview(big, { maxSide: 128 });
  const wm = await sharp(webp).metadata();
  assert.deepEqual([wm.format, wm.width, wm.height], ['webp', 128, 96]);
  const small = await sharp(await encodeWebpPreview(testImage(64, 64))).metadata();
  assert.deepEqual([small.width, small.height], [64, 64]);
  assert.ok(jpg.length < 40_000);
});
