// CLIP's byte-level BPE tokenizer, read from a model folder's tokenizer/ files and run by @huggingface/tokenizers.
//
// The library loads tokenizer.json and implements every piece CLIP's needs (NFC + whitespace-collapse + lowercase
// normaliser, the CLIP regex Split with invert, ByteLevel without its own regex, BPE with the "</w>" end-of-word
// suffix, added special tokens), so there is no hand-written BPE here. Most Stable Diffusion exports ship only
// vocab.json + merges.txt, so for those we build the tokenizer.json object HF's tokenizers library would save for
// CLIP. We always ask the library for the bare tokens and frame them ourselves ([BOS] tokens [EOS] pad...), so that
// truncation keeps EOS last and the pad token comes from the folder (SD 1.x: <|endoftext|>, SD 2.x: "!").
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelFolderError, readJsonFile, pathExists } from './modelFolder.ts';

export interface ClipTokenizer {
  /** Exactly maxLength ids: BOS, the text's tokens (cut to fit), EOS, then padding. */
  encode(text: string): { ids: number[]; truncated: boolean };
  maxLength: number;
  padId: number;
  bosId: number;
  eosId: number;
}

/** CLIP's position-embedding length; used when tokenizer_config.json gives no usable model_max_length. */
export const CLIP_MAX_LENGTH = 77;

/** The pre-tokenizer regex of CLIP (openai/CLIP simple_tokenizer.py), in the Oniguruma form tokenizer.json stores. */
export const CLIP_SPLIT_REGEX = "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

type Json = Record<string, unknown>;

/** A special token as configs store it: a bare string or an AddedToken object ({ content, ... }). */
function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string;
  return undefined;
}

/** Parse merges.txt: skip the "#version" header and blank lines; each line is "left right". */
export function parseMerges(text: string, file: string): [string, string][] {
  const merges: [string, string][] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const [left, right, ...extra] = line.split(' ');
    if (left === undefined || right === undefined || extra.length > 0) {
      throw new ModelFolderError(file, `line ${i + 1} is "${line}"; expected two space-separated symbols`);
    }
    merges.push([left, right]);
  });
  return merges;
}

/**
 * The tokenizer.json object equivalent to CLIPTokenizerFast built from vocab.json + merges.txt: what HF's
 * tokenizers library saves for openai/clip-vit-large-patch14 (normaliser, pre-tokenizer, BPE settings, the BOS/EOS
 * template), so both kinds of folder go through the same code.
 */
export function clipTokenizerJson(vocab: Record<string, number>, merges: [string, string][], specials: { bos: string; eos: string; unk: string }): Json {
  let nextId = Math.max(-1, ...Object.values(vocab)) + 1;
  const idOf = (token: string) => vocab[token] ?? nextId++;
  const bosId = idOf(specials.bos);
  const eosId = idOf(specials.eos);
  const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [added(bosId, specials.bos), added(eosId, specials.eos)],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_REGEX }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: [specials.eos, eosId], cls: [specials.bos, bosId], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: specials.unk,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

async function optionalJson(file: string): Promise<Json> {
  return (await pathExists(file)) ? readJsonFile(file) : {};
}

/** Load the tokenizer of a model folder's tokenizer/ directory. Errors name the file and what was expected. */
export async function loadTokenizer(dir: string): Promise<ClipTokenizer> {
  const config = await optionalJson(join(dir, 'tokenizer_config.json'));
  const specialMap = await optionalJson(join(dir, 'special_tokens_map.json'));
  // special_tokens_map.json wins where both name a token: transformers applies it after tokenizer_config.json.
  const special = (key: string, fallback: string) => tokenContent(specialMap[key]) ?? tokenContent(config[key]) ?? fallback;
  const bos = special('bos_token', '<|startoftext|>');
  const eos = special('eos_token', '<|endoftext|>');
  const unk = special('unk_token', '<|endoftext|>');
  // CLIPTokenizer's own default pad token is <|endoftext|>, which is what SD 1.x uses.
  const pad = special('pad_token', '<|endoftext|>');

  const jsonFile = join(dir, 'tokenizer.json');
  let tokenizerJson: Json;
  let source: string;
  if (await pathExists(jsonFile)) {
    tokenizerJson = await readJsonFile(jsonFile);
    source = jsonFile;
  } else {
    const vocabFile = join(dir, 'vocab.json');
    const mergesFile = join(dir, 'merges.txt');
    for (const f of [vocabFile, mergesFile]) {
      if (!(await pathExists(f))) throw new ModelFolderError(f, 'missing; expected tokenizer/tokenizer.json or CLIP\'s tokenizer/vocab.json + tokenizer/merges.txt');
    }
    const vocab = await readJsonFile(vocabFile);
    for (const [token, id] of Object.entries(vocab)) {
      if (!Number.isInteger(id)) throw new ModelFolderError(vocabFile, `token "${token}" has id ${JSON.stringify(id)}; expected an object of token -> integer id`);
    }
    const merges = parseMerges(await readFile(mergesFile, 'utf8'), mergesFile);
    tokenizerJson = clipTokenizerJson(vocab as Record<string, number>, merges, { bos, eos, unk });
    source = vocabFile;
  }

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, config);
  } catch (err) {
    throw new ModelFolderError(source, `not a usable tokenizer (${err instanceof Error ? err.message : String(err)})`);
  }
  const idOf = (token: string, role: string) => {
    const id = tokenizer.token_to_id(token);
    if (id === undefined) throw new ModelFolderError(source, `the ${role} token "${token}" is not in the vocabulary`);
    return id;
  };
  const bosId = idOf(bos, 'BOS');
  const eosId = idOf(eos, 'EOS');
  const padId = idOf(pad, 'pad');

  const declared = config.model_max_length;
  // Configs without a real limit carry a huge sentinel (int(1e30)); CLIP text encoders always take 77 positions.
  const maxLength = typeof declared === 'number' && Number.isInteger(declared) && declared >= 2 && declared <= 4096 ? declared : CLIP_MAX_LENGTH;

  return {
    maxLength,
    padId,
    bosId,
    eosId,
    encode(text: string) {
      const content = tokenizer.encode(text, { add_special_tokens: false }).ids;
      const room = maxLength - 2;
      const truncated = content.length > room;
      const ids = [bosId, ...(truncated ? content.slice(0, room) : content), eosId];
      while (ids.length < maxLength) ids.push(padId);
      return { ids, truncated };
    },
  };
}
