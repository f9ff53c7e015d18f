// CLIP tokenizer against hand-derived ids on the fixture vocabulary (test/fixtures/README.md explains the layout):
// byte symbol ids follow GPT-2's bytes_to_unicode order, so an ASCII printable character c has id code(c) - 33
// ('!' = 0, 'a' = 64) and its "</w>" form id + 256; merge k is 512 + k; <|startoftext|> = 534, <|endoftext|> = 535.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTokenizer, parseMerges } from '../../src/pipeline/tokenizer.ts';
import { ModelFolderError } from '../../src/pipeline/modelFolder.ts';

const fixtures = fileURLToPath(new URL('../fixtures/tokenizers/', import.meta.url));
const BOS = 534;
const EOS = 535;
const ascii = (c: string) => c.charCodeAt(0) - 33;
const word = (c: string) => ascii(c) + 256;

/** The content ids between BOS and EOS, checking the framing on the way. */
async function content(text: string, dir = 'sd15'): Promise<number[]> {
  const tok = await loadTokenizer(join(fixtures, dir));
  const { ids } = tok.encode(text);
  assert.equal(ids.length, 77);
  assert.equal(ids[0], BOS);
  const end = ids.indexOf(EOS, 1);
  assert.ok(end > 0, 'EOS present');
  assert.ok(ids.slice(end + 1).every((id) => id === tok.padId), 'only padding after EOS');
  return ids.slice(1, end);
}

test('special ids, pad and max length come from the files', async () => {
  const sd15 = await loadTokenizer(join(fixtures, 'sd15'));
  assert.deepEqual({ max: sd15.maxLength, bos: sd15.bosId, eos: sd15.eosId, pad: sd15.padId }, { max: 77, bos: BOS, eos: EOS, pad: EOS });
  const sd2 = await loadTokenizer(join(fixtures, 'sd2'));
  assert.equal(sd2.padId, 0, 'SD 2.x pads with "!" (id 0)');
});

test('framing and padding: SD 1.x pads with <|endoftext|>, SD 2.x with "!"', async () => {
  const sd15 = await loadTokenizer(join(fixtures, 'sd15'));
  const sd2 = await loadTokenizer(join(fixtures, 'sd2'));
  // a</w> = 320, photo</w> = 520, of</w> = 516, cat</w> = 515
  const body = [BOS, 320, 520, 516, 320, 515, EOS];
  assert.deepEqual(sd15.encode('a photo of a cat'), { ids: [...body, ...Array(70).fill(EOS)], truncated: false });
  assert.deepEqual(sd2.encode('a photo of a cat'), { ids: [...body, ...Array(70).fill(0)], truncated: false });
  assert.deepEqual(sd15.encode('').ids, [BOS, EOS, ...Array(75).fill(EOS)]);
  assert.deepEqual(sd2.encode('').ids, [BOS, EOS, ...Array(75).fill(0)]);
});

test('merges apply lowest rank first', async () => {
  assert.deepEqual(await content('the'), [513]); // t h (rank 0), then th e</w> (rank 1)
  assert.deepEqual(await content('he'), [528]); // h e</w> (rank 16)
  assert.deepEqual(await content('red'), [530]); // r e (17) before e d</w> (19), then re d</w> (18)
  assert.deepEqual(await content('bed'), [ascii('b'), 531]); // b, ed</w>
  assert.deepEqual(await content('dogs'), [521, ascii('g'), word('s')]); // do; "do g</w>" needs g at the word end
  assert.deepEqual(await content('xyz'), [ascii('x'), ascii('y'), word('z')]); // no merges: bytes, last with </w>
});

test('lowercasing and whitespace collapsing', async () => {
  const expected = [320, 520, 516, 320, 515];
  assert.deepEqual(await content('A PHOTO Of a CaT'), expected);
  assert.deepEqual(await content('  a \n\t photo   of\u00a0a\r\ncat  '), expected);
});

test("CLIP's regex: digits one by one, punctuation runs, contractions", async () => {
  assert.deepEqual(await content('123'), [word('1'), word('2'), word('3')]);
  assert.deepEqual(await content('cat2'), [515, word('2')]);
  assert.deepEqual(await content('cat!!!'), [515, 532, word('!')]); // "!!!" is one pre-token: !! (rank 20), !</w>
  assert.deepEqual(await content("cat's"), [515, 527]); // 's is its own pre-token -> 's</w>
  assert.deepEqual(await content('dog, cat.'), [522, word(','), 515, word('.')]);
  assert.deepEqual(await content('a-b'), [320, word('-'), word('b')]);
  assert.deepEqual(await content('in-ing'), [ascii('i'), word('n'), word('-'), 524]);
});

test('unicode and emoji go through UTF-8 bytes', async () => {
  // é = C3 A9: 'Ã' (byte 0xC3, id 106 + 0xC3 - 0xAE = 127) and '©' (0xA9, id 94 + 8 = 102); merge 21 makes Ã©</w> = 533
  assert.deepEqual(await content('café'), [514, ascii('f'), 533]);
  assert.deepEqual(await content('CAFÉ'), [514, ascii('f'), 533]);
  assert.deepEqual(await content('cafe\u0301'), [514, ascii('f'), 533], 'NFC composes e + combining acute');
  assert.deepEqual(await content('éa'), [127, 102, 320]);
  // 🐱 = F0 9F 90 B1: 0xF0 -> 106 + 66 = 172; 0x9F -> 221 + 32 = 253; 0x90 -> 221 + 17 = 238; 0xB1 -> 106 + 3 = 109 (+256)
  assert.deepEqual(await content('🐱'), [172, 253, 238, 365]);
  assert.deepEqual(await content('a🐱'), [320, 172, 253, 238, 365]);
  // 猫 = E7 8C AB (a letter): 0xE7 -> 163; 0x8C -> 234; 0xAB -> 94 + 10 = 104 (+256)
  assert.deepEqual(await content('猫'), [163, 234, 360]);
  assert.deepEqual(await content('a<|endoftext|>'), [320], 'special token text becomes the token itself');
});

test('truncation keeps BOS first and EOS last and reports it', async () => {
  const tok = await loadTokenizer(join(fixtures, 'sd15'));
  const exact = tok.encode(Array(75).fill('a').join(' '));
  assert.deepEqual(exact, { ids: [BOS, ...Array(75).fill(320), EOS], truncated: false });
  const over = tok.encode(Array(76).fill('a').join(' '));
  assert.deepEqual(over, { ids: [BOS, ...Array(75).fill(320), EOS], truncated: true });
  const long = tok.encode(`${Array(74).fill('a').join(' ')} the cat`);
  assert.deepEqual(long.ids.slice(-3), [320, 513, EOS]);
  assert.equal(long.truncated, true);
});

test('tokenizer.json and vocab.json + merges.txt give identical ids', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-json-'));
  try {
    // only tokenizer.json + tokenizer_config.json: the library path on its own
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(fixtures, 'json', f), join(dir, f));
    const fromJson = await loadTokenizer(dir);
    const fromMerges = await loadTokenizer(join(fixtures, 'sd15'));
    const prompts = ['a photo of a cat', 'THE red dog, 123!!!', "cat's café 🐱 猫", '  \t', Array(90).fill('in').join(' ')];
    for (const p of prompts) assert.deepEqual(fromJson.encode(p), fromMerges.encode(p), p);
    assert.equal(fromJson.padId, EOS);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('model_max_length is read from tokenizer_config.json; a sentinel value falls back to 77', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-len-'));
  try {
    for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(fixtures, 'sd15', f), join(dir, f));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 8, pad_token: '!' }));
    const short = await loadTokenizer(dir);
    assert.deepEqual(short.encode('a photo of a cat the dog'), { ids: [BOS, 320, 520, 516, 320, 515, 513, EOS], truncated: true });
    assert.deepEqual(short.encode('a').ids, [BOS, 320, EOS, 0, 0, 0, 0, 0]);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 1e30 }));
    assert.equal((await loadTokenizer(dir)).maxLength, 77);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('broken tokenizer folders name the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-bad-'));
  try {
    await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof ModelFolderError && e.message === `${join(dir, 'vocab.json')}: missing; expected tokenizer/tokenizer.json or CLIP's tokenizer/vocab.json + tokenizer/merges.txt`);
    copyFileSync(join(fixtures, 'sd15', 'merges.txt'), join(dir, 'merges.txt'));
    writeFileSync(join(dir, 'vocab.json'), '{"a": 1,');
    await assert.rejects(loadTokenizer(dir), (e: unknown) => e instanceof Error && e.message.startsWith(`${join(dir, 'vocab.json')}: invalid JSON (`));
    copyFileSync(join(fixtures, 'sd15', 'vocab.json'), join(dir, 'vocab.json'));
    writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: '<pad>' }));
    await assert.rejects(loadTokenizer(dir), /the pad token "<pad>" is not in the vocabulary/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => parseMerges('#version: 0.2\na b c\n', 'merges.txt'), /merges.txt: line 2 is "a b c"/);
});
