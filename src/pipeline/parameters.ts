// AUTOMATIC1111-compatible "parameters" text (the PNG text chunk that A1111, civitai and most image viewers read):
//
//   <prompt, possibly several lines>
//   Negative prompt: <negative prompt, possibly several lines>      (only when non-empty)
//   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512, Model hash: abc, Model: name, ...
//
// Format rules follow A1111's processing.create_infotext and infotext_utils.quote/parse_generation_parameters:
// the last line holds `Key: value` pairs joined by ", "; a value containing a comma, colon or newline is written as a
// JSON string; the parser treats the last line as parameters only when it holds at least three pairs, and every prompt
// line is trimmed. We quote a little more eagerly than A1111 (also values with quotes or edge whitespace) so that our
// own values always survive a round trip; A1111 parses those JSON strings the same way.
import { SAMPLER_NAMES, type SamplerName } from './schedulers/types.ts';

/** A1111's display names for our sampler ids (what its "Sampler" field holds). */
export const A1111_SAMPLER_LABELS: Readonly<Record<SamplerName, string>> = {
  pndm: 'PLMS',
  ddim: 'DDIM',
  euler: 'Euler',
  'euler-a': 'Euler a',
  'dpmpp-2m': 'DPM++ 2M',
  'dpmpp-2m-karras': 'DPM++ 2M Karras',
  lcm: 'LCM',
};

export interface GenerationParameters {
  prompt: string;
  negativePrompt?: string;
  steps: number;
  sampler: SamplerName;
  guidance: number;
  seed: number;
  width: number;
  height: number;
  /** Model name (A1111's "Model"). */
  model?: string;
  /** Short model hash (A1111's "Model hash"). */
  modelHash?: string;
  /** img2img strength (A1111's "Denoising strength"). */
  denoisingStrength?: number;
  /** Further `Key: value` pairs, written after the known ones in insertion order. */
  extra?: Record<string, string | number>;
}

/** What parseParameters recovers; fields are absent when the text does not hold them (or holds something unusable). */
export interface ParsedParameters {
  prompt: string;
  negativePrompt: string;
  steps?: number;
  sampler?: SamplerName;
  /** The Sampler field as written (set even when it names a sampler we do not have). */
  samplerLabel?: string;
  guidance?: number;
  seed?: number;
  width?: number;
  height?: number;
  model?: string;
  modelHash?: string;
  denoisingStrength?: number;
  /** Every other pair, values unquoted. */
  extra: Record<string, string>;
}

// Keys: A1111's `\w[\w \-/]+` (Python's \w is Unicode-aware, hence \p{L}\p{N}).
const KEY = String.raw`[\p{L}\p{N}_][\p{L}\p{N}_ \-/]+`;
const PARAM_RE = new RegExp(String.raw`\s*(${KEY}):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`, 'gu');
const KEY_RE = new RegExp(`^${KEY}$`, 'u');
const SIZE_RE = /^(\d+)x(\d+)$/;

const KNOWN_KEYS = new Set(['Steps', 'Sampler', 'Schedule type', 'CFG scale', 'Seed', 'Size', 'Model hash', 'Model', 'Denoising strength']);

/** A1111 label (case-insensitive) -> our id; "DPM++ 2M" with "Schedule type: Karras" is how A1111 >= 1.9 writes Karras. */
export function samplerFromA1111(label: string, scheduleType?: string): SamplerName | undefined {
  const wanted = label.trim().toLowerCase();
  const schedule = (scheduleType ?? '').trim().toLowerCase();
  const match = SAMPLER_NAMES.find((id) => A1111_SAMPLER_LABELS[id].toLowerCase() === wanted);
  if (!match) return undefined;
  if (schedule === '' || schedule === 'automatic') return match;
  if (schedule === 'karras' && match === 'dpmpp-2m') return 'dpmpp-2m-karras';
  if (schedule === 'karras' && match === 'dpmpp-2m-karras') return match;
  return undefined; // a schedule we do not implement for this sampler
}

export function samplerToA1111(id: SamplerName): string {
  return A1111_SAMPLER_LABELS[id];
}

/** Trim each line and the whole text, as A1111's parser does, so that format -> parse returns the same prompt. */
export function normalizePrompt(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .trim();
}

function needsQuoting(value: string): boolean {
  return /[,:\n\r"]/.test(value) || value !== value.trim();
}

/** A1111's quote(): JSON string when the value would otherwise break the `Key: value, ` syntax. */
export function quoteValue(value: string | number): string {
  const text = String(value);
  return needsQuoting(text) ? JSON.stringify(text) : text;
}

function unquoteValue(value: string): string {
  if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}

function formatNumber(n: number, what: string): string {
  if (!Number.isFinite(n)) throw new Error(`parameters: ${what} must be a finite number, got ${n}`);
  return String(n);
}

export function formatParameters(p: GenerationParameters): string {
  const pairs: [string, string | number][] = [
    ['Steps', formatNumber(p.steps, 'steps')],
    ['Sampler', samplerToA1111(p.sampler)],
    ['CFG scale', formatNumber(p.guidance, 'guidance')],
    ['Seed', formatNumber(p.seed, 'seed')],
    ['Size', `${formatNumber(p.width, 'width')}x${formatNumber(p.height, 'height')}`],
  ];
  if (p.modelHash) pairs.push(['Model hash', p.modelHash]);
  if (p.model) pairs.push(['Model', p.model]);
  if (p.denoisingStrength !== undefined) pairs.push(['Denoising strength', formatNumber(p.denoisingStrength, 'denoising strength')]);
  for (const [key, value] of Object.entries(p.extra ?? {})) {
    if (!KEY_RE.test(key)) throw new Error(`parameters: "${key}" cannot be used as a key (letters, digits, spaces, _ - / only)`);
    if (KNOWN_KEYS.has(key)) throw new Error(`parameters: "${key}" is a built-in key; set it through its own field`);
    pairs.push([key, value]);
  }
  const paramsLine = pairs.map(([k, v]) => `${k}: ${quoteValue(v)}`).join(', ');
  const prompt = normalizePrompt(p.prompt);
  const negative = normalizePrompt(p.negativePrompt ?? '');
  const negativeLine = negative ? `\nNegative prompt: ${negative}` : '';
  return `${prompt}${negativeLine}\n${paramsLine}`.trim();
}

function parseNumber(value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value.trim());
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return undefined;
  return n;
}

/** Parse A1111 "parameters" text (ours or anyone's). Unknown keys land in `extra`; nothing throws on odd input. */
export function parseParameters(text: string): ParsedParameters {
  const lines = text.replace(/\r\n?/g, '\n').trim().split('\n');
  let lastLine = lines.pop() ?? '';
  const pairs = [...lastLine.matchAll(PARAM_RE)].filter((m) => m[0].length > 0);
  if (pairs.length < 3) {
    lines.push(lastLine);
    lastLine = '';
  }

  let prompt = '';
  let negativePrompt = '';
  let inNegative = false;
  for (const raw of lines) {
    let line = raw.trim();
    if (line.startsWith('Negative prompt:')) {
      inNegative = true;
      line = line.slice('Negative prompt:'.length).trim();
    }
    if (inNegative) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }

  const values = new Map<string, string>();
  if (lastLine) {
    for (const [, key, v] of pairs) {
      if (key === undefined || v === undefined) continue;
      values.set(key, v.startsWith('"') && v.endsWith('"') ? unquoteValue(v) : v);
    }
  }

  const result: ParsedParameters = { prompt, negativePrompt, extra: {} };
  const steps = parseNumber(values.get('Steps'), true);
  if (steps !== undefined) result.steps = steps;
  const guidance = parseNumber(values.get('CFG scale'), false);
  if (guidance !== undefined) result.guidance = guidance;
  const seed = parseNumber(values.get('Seed'), true);
  if (seed !== undefined) result.seed = seed;
  const size = SIZE_RE.exec(values.get('Size') ?? '');
  if (size) {
    result.width = Number(size[1]);
    result.height = Number(size[2]);
  }
  const samplerLabel = values.get('Sampler');
  const scheduleType = values.get('Schedule type');
  let scheduleConsumed = false;
  if (samplerLabel !== undefined) {
    result.samplerLabel = samplerLabel;
    const sampler = samplerFromA1111(samplerLabel, scheduleType);
    if (sampler) {
      result.sampler = sampler;
      scheduleConsumed = true;
    }
  }
  if (values.has('Model hash')) result.modelHash = values.get('Model hash');
  if (values.has('Model')) result.model = values.get('Model');
  const strength = parseNumber(values.get('Denoising strength'), false);
  if (strength !== undefined) result.denoisingStrength = strength;

  for (const [key, value] of values) {
    if (key === 'Schedule type' && scheduleConsumed) continue;
    if (KNOWN_KEYS.has(key) && key !== 'Schedule type') continue;
    result.extra[key] = value;
  }
  return result;
}
