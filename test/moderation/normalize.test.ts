// The normaliser's forms: what the matchers see, and the map back to the user's text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PreparedText } from '../../src/moderation/normalize.ts';

const skeleton = (s: string): string => PreparedText.from(s).skeleton.text;

describe('skeleton', () => {
  it('folds width, case, diacritics, zero-width characters and look-alikes', () => {
    assert.equal(skeleton('ＮÜ\u200bDЕ'), ' nude ');
    assert.equal(skeleton('ɴᴜᴅᴇ 𝐧𝐮𝐝𝐞 ⓝⓤⓓⓔ'), ' nude nude nude ');
    assert.equal(skeleton('Straße'), ' strasse ');
  });

  it('joins only runs of single characters, and punctuation squeezed inside a word', () => {
    assert.equal(skeleton('n u d e'), ' n_u_d_e ');
    assert.equal(skeleton('a cat'), ' a cat ', '"a cat" stays two words');
    assert.equal(skeleton('nu-de, blue'), ' nu_de blue ');
    assert.equal(skeleton('red, blue'), ' red blue ', 'structural punctuation is a hard break');
    assert.equal(skeleton('1 2 3'), ' 1 2 3 ', 'a run of digits alone is not a spelled-out word');
  });

  it('folds look-alikes only in mixed or all-look-alike words', () => {
    assert.equal(skeleton('Привет'), ' привет ', 'a Russian word keeps its letters');
    assert.equal(skeleton('pеn'), ' pen ', 'a Cyrillic е inside a Latin word is folded');
    assert.equal(skeleton('ΗΕΑΤ'), ' heat ', 'upper-case Greek look-alikes fold to their upper-case twins');
  });

  it('keeps leetspeak characters for the term patterns to read', () => {
    assert.equal(skeleton('n00d$'), ' n00d$ ');
  });
});

describe('regex forms', () => {
  it('give a light form with punctuation and decoded plain variants', () => {
    const forms = PreparedText.from('G.0.R.3 v1deo, gooood').regexForms.map((f) => f.text);
    assert.ok(forms.includes('g.0.r.3 v1deo, gooood'));
    assert.ok(forms.includes('gore video gooood'));
    assert.ok(forms.includes('gore vldeo god'));
    assert.ok(forms.includes('gore video good'));
  });
});

describe('original mapping', () => {
  it('maps a range of a form back to the text as typed', () => {
    const text = PreparedText.from('xx ｎｕ\u200bｄｅ yy');
    const form = text.skeleton;
    const start = form.text.indexOf('nude');
    assert.equal(text.originalSlice(form, start, start + 4), 'ｎｕ\u200bｄｅ');
  });

  it('masks ranges of the original in every form', () => {
    const text = PreparedText.from('scunthorpe cunt');
    const masked = text.masked([[0, 10]]);
    assert.equal(masked.skeleton.text.trim(), 'cunt');
    assert.ok(masked.regexForms.every((f) => !f.text.includes('scunthorpe')));
  });
});
