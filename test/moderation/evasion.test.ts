// Evasion corpus: every variant class from the moderation issue must still be caught, for word, phrase and regex terms.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { check, GUILD, MOD, serviceWithBlocklist } from './helpers.ts';

const service = serviceWithBlocklist([
  ['word', 'nude'],
  ['phrase', 'blood bath'],
  ['regex', 'gore\\w*'],
  ['word', 'kill'],
  ['word', 'ass'],
]);
// "nude" is also on the built-in NSFW list; let that list pass (NSFW on, age-restricted channel) so these tests see
// the server's own blocklist at work.
service.setNsfwMode(GUILD, 'age-restricted', MOD);
const inNsfwChannel = { ageRestricted: true };

// Each variant is tried alone and inside an ordinary sentence.
function assertBlocked(variant: string, term: string): void {
  for (const prompt of [variant, `portrait of a ${variant} figure, 4k, trending on artstation`]) {
    const verdict = check(service, prompt, inNsfwChannel);
    assert.equal(verdict.allowed, false, `${JSON.stringify(prompt)} should be blocked by ${term}`);
    assert.equal(verdict.rule?.term, term, `${JSON.stringify(prompt)} matched ${verdict.rule?.term}`);
    assert.equal(verdict.rule?.source, 'blocklist');
  }
}

describe('evasion corpus', () => {
  const nude = [
    'NUDE', 'Nude', 'nüde', 'núdé', 'ｎｕｄｅ', 'nu\u200bde', 'n\u200du\u2060d\ufeffe', 'nu\u00adde', 'nudе' /* Cyrillic е */,
    'ηude' /* Greek η */, 'nud3', 'n.u.d.e', 'n-u-d-e', 'n u d e', 'n_u_d_e', 'n * u * d * e', 'nuuuude', 'nudeeee',
    'N.ü.D.3', 'N U D 3', '(nude)', '"nude"', 'nude!', '𝐧𝐮𝐝𝐞', 'ɴᴜᴅᴇ', 'ⓝⓤⓓⓔ', 'nu-de', 'nu.de', 'n\tu\td\te', 'NU\u0301DE', 'nu😀de', 'n🍑u🍑d🍑e',
  ];
  for (const v of nude) it(`word "nude": ${JSON.stringify(v)}`, () => assertBlocked(v, 'nude'));

  const bloodBath = [
    'BLOOD BATH', 'blood  bath', 'blood-bath', 'blood_bath', 'bloodbath', 'blood\nbath', 'bl00d b4th', 'b l o o d b a t h',
    'blооd bаth' /* Cyrillic о, а */, 'bloo\u200bd bath', 'ｂｌｏｏｄ ｂａｔｈ', 'bloooood baaath', '(blood bath)', 'b.l.o.o.d-b.a.t.h',
    'blööd bäth', 'BL00D_B4TH',
  ];
  for (const v of bloodBath) it(`phrase "blood bath": ${JSON.stringify(v)}`, () => assertBlocked(v, 'blood bath'));

  const gore = [
    'GORE', 'görë', 'ｇｏｒｅ', 'go\u200bre', 'gоre' /* Cyrillic о */, 'gοre' /* Greek ο */, 'g0r3', 'g.o.r.e', 'g-o-r-e',
    'g o r e', 'gooooore', 'G.ö.R.3', '(gore)', 'gorefest', 'GoreFest', 'g0r3f3st',
  ];
  for (const v of gore) it(`regex gore\\w*: ${JSON.stringify(v)}`, () => assertBlocked(v, 'gore\\w*'));

  it('"1" is read as either i or l', () => {
    for (const v of ['ki11', 'k1ll', 'KI1L']) assertBlocked(v, 'kill');
  });

  it('double letters in a term still meet their evasions but not shorter words', () => {
    for (const v of ['ass', 'a55', 'a$$', '@ss', 'a s s', 'asssss', 'ASS']) assertBlocked(v, 'ass');
    for (const prompt of ['as above so below', 'a cat as big as a house', 'a.s. roma football club']) {
      assert.equal(check(service, prompt, inNsfwChannel).allowed, true, prompt);
    }
  });

  it('the user is shown the part of their prompt that matched, as typed', () => {
    const verdict = check(service, 'a portrait, N.ü.D.3, studio light', inNsfwChannel);
    assert.equal(verdict.matchedText, 'N.ü.D.3');
    assert.equal(check(service, 'a ｂｌｏｏｄ ｂａｔｈ scene').matchedText, 'ｂｌｏｏｄ ｂａｔｈ');
    assert.equal(check(service, 'the g0r3fest poster').matchedText, 'g0r3fest');
  });

  it('the built-in NSFW list sees through the same evasions outside age-restricted channels', () => {
    for (const v of nude) {
      const verdict = check(service, `a ${v} statue`);
      assert.equal(verdict.allowed, false, v);
      assert.equal(verdict.rule?.source, 'nsfw', v);
    }
  });

  it('negative prompts are checked against the server list too', () => {
    const verdict = check(service, 'a quiet lake', { negative: 'n u d e', ageRestricted: true });
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.rule?.field, 'negative');
  });
});
