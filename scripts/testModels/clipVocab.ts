// A small vocabulary in exactly CLIP's layout, for the tokenizer tests and the tiny test models (no real CLIP vocab is
// available offline). Layout, as in openai/CLIP's simple_tokenizer and HF's vocab.json for SD:
//   ids 0..255    the 256 byte symbols, in GPT-2 bytes_to_unicode order ('!' = 0 ... '~' = 93, ..., 0xAD = 255)
//   ids 256..511  the same symbols with the "</w>" end-of-word suffix ('a</w>' = 320, as in the real vocab)
//   ids 512..     one token per merge, in merge order (the merge's two halves concatenated)
//   then "<|startoftext|>" and "<|endoftext|>".
// So every byte-level id can be worked out by hand; only the merges below differ from the real 49408-token vocab.

/** The merges, in rank order (rank 0 applies first). Chosen to cover the tests' cases; see test/fixtures/README.md. */
export const FIXTURE_MERGES: readonly (readonly [string, string])[] = [
  ['t', 'h'], // 512 th
  ['th', 'e</w>'], // 513 the</w>
  ['c', 'a'], // 514 ca
  ['ca', 't</w>'], // 515 cat</w>
  ['o', 'f</w>'], // 516 of</w>
  ['p', 'h'], // 517 ph
  ['o', 't'], // 518 ot
  ['ph', 'ot'], // 519 phot
  ['phot', 'o</w>'], // 520 photo</w>
  ['d', 'o'], // 521 do
  ['do', 'g</w>'], // 522 dog</w>
  ['i', 'n'], // 523 in
  ['in', 'g</w>'], // 524 ing</w>
  ['a', 'n'], // 525 an
  ['an', 'd</w>'], // 526 and</w>
  ["'", 's</w>'], // 527 's</w>
  ['h', 'e</w>'], // 528 he</w>
  ['r', 'e'], // 529 re
  ['re', 'd</w>'], // 530 red</w>
  ['e', 'd</w>'], // 531 ed</w>
  ['!', '!'], // 532 !!
  ['Ã', '©</w>'], // 533 Ã©</w>  (the UTF-8 bytes C3 A9 of "é" at the end of a word)
];

/** GPT-2 / CLIP bytes_to_unicode: byte value -> printable symbol, in vocabulary order. */
export function byteSymbols(): { byte: number; symbol: string }[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const out = printable.map((b) => ({ byte: b, symbol: String.fromCharCode(b) }));
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.includes(b)) out.push({ byte: b, symbol: String.fromCharCode(256 + n++) });
  }
  return out;
}

export interface ClipVocab {
  vocab: Record<string, number>;
  merges: readonly (readonly [string, string])[];
  bosId: number;
  eosId: number;
}

export function buildClipVocab(merges: readonly (readonly [string, string])[] = FIXTURE_MERGES): ClipVocab {
  const vocab: Record<string, number> = {};
  const symbols = byteSymbols().map((s) => s.symbol);
  symbols.forEach((s, i) => (vocab[s] = i));
  symbols.forEach((s, i) => (vocab[`${s}</w>`] = 256 + i));
  merges.forEach(([a, b], i) => (vocab[a + b] = 512 + i));
  const bosId = 512 + merges.length;
  vocab['<|startoftext|>'] = bosId;
  vocab['<|endoftext|>'] = bosId + 1;
  return { vocab, merges, bosId, eosId: bosId + 1 };
}

/** merges.txt as HF writes it for CLIP: a version header, then one "a b" pair per line. */
export function mergesTxt(merges: readonly (readonly [string, string])[]): string {
  return ['#version: 0.2', ...merges.map(([a, b]) => `${a} ${b}`)].join('\n') + '\n';
}

function addedToken(content: string) {
  return { content, lstrip: false, normalized: true, rstrip: false, single_word: false };
}

/** special_tokens_map.json: SD 1.x pads with <|endoftext|>, SD 2.x / sd-turbo with "!". */
export function specialTokensMap(pad: string) {
  return { bos_token: addedToken('<|startoftext|>'), eos_token: addedToken('<|endoftext|>'), pad_token: pad, unk_token: addedToken('<|endoftext|>') };
}

export function tokenizerConfig(pad: string) {
  const typed = (content: string) => ({ __type: 'AddedToken', ...addedToken(content) });
  return {
    add_prefix_space: false,
    bos_token: typed('<|startoftext|>'),
    do_lower_case: true,
    eos_token: typed('<|endoftext|>'),
    errors: 'replace',
    model_max_length: 77,
    pad_token: pad === '<|endoftext|>' ? typed(pad) : pad,
    tokenizer_class: 'CLIPTokenizer',
    unk_token: typed('<|endoftext|>'),
  };
}

/**
 * tokenizer.json in the structure HF's tokenizers library saves for CLIP (openai/clip-vit-large-patch14 and SD 2.x):
 * written out literally here, independently of src/pipeline/tokenizer.ts, so the tests can compare the two paths.
 */
export function tokenizerJson(v: ClipVocab) {
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(v.bosId, '<|startoftext|>'), special(v.eosId, '<|endoftext|>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Lowercase' }] },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: 'Removed',
          invert: true,
        },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: { type: 'RobertaProcessing', sep: ['<|endoftext|>', v.eosId], cls: ['<|startoftext|>', v.bosId], trim_offsets: false, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<|endoftext|>',
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab: v.vocab,
      merges: v.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

/** All files of a tokenizer/ folder. `withJson` adds tokenizer.json beside vocab.json + merges.txt. */
export function tokenizerFiles(pad: '<|endoftext|>' | '!', withJson: boolean): Record<string, string> {
  const v = buildClipVocab();
  const files: Record<string, string> = {
    'vocab.json': JSON.stringify(v.vocab),
    'merges.txt': mergesTxt(v.merges),
    'special_tokens_map.json': JSON.stringify(specialTokensMap(pad), null, 2) + '\n',
    'tokenizer_config.json': JSON.stringify(tokenizerConfig(pad), null, 2) + '\n',
  };
  if (withJson) files['tokenizer.json'] = JSON.stringify(tokenizerJson(v));
  return files;
}
