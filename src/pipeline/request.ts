// The rules of a generation request, defined once as a zod schema: each field's type, range and default. Everything
// else derives from it: the pipeline's validateRequest, the bot's request builder (which may only narrow the ranges,
// with the server's limits), the slash commands' option min/max, the CLI's help, the imagine.json schema and the
// limits the configuration may set. To add a field, add it to `generateRequestFields`; a field that needs words of its
// own in error messages gets a label in FIELD_LABELS.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { SAMPLER_NAMES, type SamplerName } from './schedulers/types.ts';
import type { GenerateRequest } from './types.ts';

export { SAMPLER_NAMES, type SamplerName } from './schedulers/types.ts';

/** img2img strength when the request names none (diffusers' StableDiffusionImg2ImgPipeline default). Only used
 * with an init image, so it is not a schema default (a txt2img request has no strength). */
export const DEFAULT_STRENGTH = 0.8;
/** diffusers' StableDiffusionXLImg2ImgPipeline default strength. */
export const SDXL_DEFAULT_STRENGTH = 0.3;

/** The pipeline's img2img strength for a request that names none: diffusers' default for the model's family. */
export function defaultStrength(family: 'sd' | 'sdxl'): number {
  return family === 'sdxl' ? SDXL_DEFAULT_STRENGTH : DEFAULT_STRENGTH;
}

const prompt = z.string().max(1500);
const side = z.int().min(64).max(2048).multipleOf(8);

/** The checked fields of a generation request (GenerateRequest in ./types.ts adds the init image). */
export const generateRequestFields = {
  prompt,
  negativePrompt: prompt.optional(),
  // A1111's and the bot's seed range; image i of a batch uses seed + i.
  seed: z.int().min(0).max(2 ** 32 - 1),
  steps: z.int().min(1).max(150).default(30),
  // Classifier-free guidance scale (1 or less turns guidance off).
  guidance: z.number().min(0).max(30).default(7.5),
  sampler: z.enum(SAMPLER_NAMES).optional(),
  width: side.default(512),
  height: side.default(512),
  count: z.int().min(1).max(4).default(1),
  // Below 0.01 no step count up to the maximum runs a single denoising step.
  strength: z.number().min(0.01).max(1).optional(),
  /** Emit a preview every this many steps (0 = never). */
  previewEvery: z.int().min(0).max(10_000).optional(),
  // Inpainting: Gaussian blur of the mask, and the margin around it in "only the masked area" mode, in pixels.
  maskBlur: z.number().min(0).max(64).optional(),
  maskPadding: z.int().min(0).max(1024).optional(),
};

export type RequestField = keyof typeof generateRequestFields;

/** Unknown keys (the init image, fields checked elsewhere) pass through untouched. */
export const generateRequestSchema = z.looseObject(generateRequestFields);

// Compile-time: every schema field is a GenerateRequest field, and what the schema produces is what the type says.
type SchemaOutput = z.output<typeof generateRequestSchema>;
true satisfies RequestField extends keyof GenerateRequest ? true : false;
true satisfies SchemaOutput extends Pick<GenerateRequest, RequestField> ? true : false;
true satisfies Pick<GenerateRequest, RequestField> extends z.input<typeof generateRequestSchema> ? true : false;

/** Names used in messages where the key is not the word a user knows. */
const FIELD_LABELS: Partial<Record<RequestField, string>> = { negativePrompt: 'negative prompt', maskBlur: 'mask blur', maskPadding: 'mask padding' };

export function fieldLabel(field: string): string {
  return FIELD_LABELS[field as RequestField] ?? field;
}

/** What the schema says about one field, read back from the schema itself (via its JSON Schema form). */
export interface FieldRule {
  whole: boolean;
  min?: number;
  max?: number;
  multipleOf?: number;
  maxLength?: number;
  choices?: readonly string[];
  default?: unknown;
}

function ruleOf(schema: z.ZodType): FieldRule {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const num = (key: string) => (typeof json[key] === 'number' ? (json[key] as number) : undefined);
  const max = num('maximum');
  return {
    whole: json.type === 'integer',
    min: num('minimum'),
    // z.int() without a max reports the largest safe integer: not a rule anyone chose.
    max: max === Number.MAX_SAFE_INTEGER ? undefined : max,
    multipleOf: num('multipleOf'),
    maxLength: num('maxLength'),
    choices: Array.isArray(json.enum) ? (json.enum as string[]) : undefined,
    default: json.default,
  };
}

/** Every field's rule, derived once from the schema. */
export const REQUEST_RULES = Object.fromEntries(Object.entries(generateRequestFields).map(([key, schema]) => [key, ruleOf(schema)])) as Record<RequestField, FieldRule>;

/** A numeric field's range (throws for a field that has none: a programming error). */
export function rangeOf(field: RequestField): { min: number; max: number } {
  const { min, max } = REQUEST_RULES[field];
  if (min === undefined || max === undefined) throw new Error(`request field ${field} has no range`);
  return { min, max };
}

export const MAX_PROMPT_LENGTH = REQUEST_RULES.prompt.maxLength!;
export const MAX_SEED = rangeOf('seed').max;

/** A seed for a request that names none: uniform over the schema's whole seed range. */
export function randomSeed(): number {
  return randomInt(rangeOf('seed').min, MAX_SEED + 1);
}

/** The schema's defaults: used when neither the request nor the model's imagine.json gives a value. */
export const FALLBACK_DEFAULTS = {
  steps: REQUEST_RULES.steps.default as number,
  guidance: REQUEST_RULES.guidance.default as number,
  width: REQUEST_RULES.width.default as number,
  height: REQUEST_RULES.height.default as number,
  count: REQUEST_RULES.count.default as number,
  strength: DEFAULT_STRENGTH,
} as const;

/** The values a request falls back to for one model: its imagine.json, else the folder's scheduler, else the schema. */
export interface ModelDefaults {
  sampler: SamplerName;
  steps: number;
  guidance: number;
  width: number;
  height: number;
}

/** `stored` is the model's imagine.json (every key optional), `folderSampler` the sampler its scheduler config names. */
export function modelDefaults(stored: Partial<ModelDefaults>, folderSampler: SamplerName): ModelDefaults {
  return {
    sampler: stored.sampler ?? folderSampler,
    steps: stored.steps ?? FALLBACK_DEFAULTS.steps,
    guidance: stored.guidance ?? FALLBACK_DEFAULTS.guidance,
    width: stored.width ?? FALLBACK_DEFAULTS.width,
    height: stored.height ?? FALLBACK_DEFAULTS.height,
  };
}

const shown = (value: unknown) => (typeof value === 'string' ? `"${value.slice(0, 40)}"` : String(value));

/** The nearest multiple of 64 (what the VAE and UNet are happiest with), for a size that is not a multiple of 8. */
function suggestedSize(value: number): number {
  return Math.max(64, Math.round(value / 64) * 64);
}

/** One sentence (no final full stop) saying what is wrong with a field's value and what is allowed. */
export function describeProblem(field: string, value: unknown, override: { min?: number; max?: number } = {}): string {
  const rule: FieldRule | undefined = REQUEST_RULES[field as RequestField];
  const label = fieldLabel(field);
  if (!rule) return `${label} is not a request field`;
  if (rule.choices) return `Unknown ${label} ${shown(value)}. Choose one of: ${rule.choices.join(', ')}`;
  if (rule.maxLength !== undefined) {
    if (typeof value !== 'string') return `the ${label} must be text`;
    return `The ${label} is ${value.length} characters long; the limit is ${rule.maxLength}`;
  }
  const min = override.min ?? rule.min;
  const max = override.max ?? rule.max;
  const range = min !== undefined && max !== undefined ? `from ${min} to ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${label} must be ${rule.whole ? 'a whole number' : `a number ${range}`}; got ${shown(value)}`;
  if (rule.whole && !Number.isInteger(value)) return `${label} must be a whole number; got ${value}`;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) return `${label} must be ${rule.whole ? '' : 'a number '}${range}; got ${value}`;
  if (rule.multipleOf !== undefined && value % rule.multipleOf !== 0) {
    return `${label} must be a multiple of ${rule.multipleOf}; got ${value} (try ${suggestedSize(value)})`;
  }
  return `${label} is not valid; got ${shown(value)}`;
}

/** The messages for a failed parse, one per field, in the schema's order. */
export function describeIssues(error: z.ZodError, input: unknown): string[] {
  const values = (input ?? {}) as Record<string, unknown>;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '');
    if (seen.has(field)) continue;
    seen.add(field);
    out.push(field ? describeProblem(field, values[field]) : issue.message);
  }
  return out;
}

export type ParsedRequest<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** Check a request's fields against the schema; defaults fill what is missing, other keys are kept as they are. */
export function parseRequestFields<T extends object>(input: T): ParsedRequest<T & z.output<typeof generateRequestSchema>> {
  const parsed = generateRequestSchema.safeParse(input);
  if (parsed.success) return { ok: true, value: { ...input, ...parsed.data } };
  return { ok: false, problems: describeIssues(parsed.error, input) };
}
