// Writes the committed tokenizer fixtures under test/fixtures/tokenizers/ from clipVocab.ts.
// Run after changing the fixture vocabulary: npx tsx scripts/testModels/writeTokenizerFixtures.ts
// (test/tokenizer/fixtures.test.ts fails when the committed files and this generator disagree.)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenizerFiles } from './clipVocab.ts';

/** Fixture folder name -> (pad token, whether it carries tokenizer.json). */
export const TOKENIZER_FIXTURES = {
  sd15: { pad: '<|endoftext|>', withJson: false },
  sd2: { pad: '!', withJson: false },
  json: { pad: '<|endoftext|>', withJson: true },
} as const;

export function writeTokenizerFixtures(root: string): void {
  for (const [name, { pad, withJson }] of Object.entries(TOKENIZER_FIXTURES)) {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(tokenizerFiles(pad, withJson))) writeFileSync(join(dir, file), text);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeTokenizerFixtures(fileURLToPath(new URL('../../test/fixtures/tokenizers/', import.meta.url)));
}
