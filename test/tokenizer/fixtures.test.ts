// The committed tokenizer fixtures must be what scripts/testModels/clipVocab.ts generates (the tests' hand-derived ids
// rely on that layout). Regenerate with: npx tsx scripts/testModels/writeTokenizerFixtures.ts
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenizerFiles, buildClipVocab } from '../../scripts/testModels/clipVocab.ts';
import { TOKENIZER_FIXTURES } from '../../scripts/testModels/writeTokenizerFixtures.ts';

const root = fileURLToPath(new URL('../fixtures/tokenizers/', import.meta.url));

test('committed tokenizer fixtures match the generator', () => {
  for (const [name, { pad, withJson }] of Object.entries(TOKENIZER_FIXTURES)) {
    const expected = tokenizerFiles(pad, withJson);
    assert.deepEqual(readdirSync(join(root, name)).sort(), Object.keys(expected).sort(), name);
    for (const [file, text] of Object.entries(expected)) assert.equal(readFileSync(join(root, name, file), 'utf8'), text, `${name}/${file}`);
  }
});

test('fixture vocabulary has the CLIP layout', () => {
  const v = buildClipVocab();
  assert.equal(v.vocab['!'], 0);
  assert.equal(v.vocab['a</w>'], 320);
  assert.equal(v.vocab['<|endoftext|>'], v.eosId);
  assert.equal(Object.keys(v.vocab).length, 512 + v.merges.length + 2);
  assert.equal(new Set(Object.values(v.vocab)).size, Object.keys(v.vocab).length, 'ids are unique');
});
