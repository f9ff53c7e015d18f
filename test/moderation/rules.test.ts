// Rule behaviour: allowlist masking, regex validation and linear-time matching, the built-in default list and the
// NSFW setting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileRegexTerm, literalPattern } from '../../src/moderation/termPattern.ts';
import { check, GUILD, MOD, newService, serviceWithBlocklist } from './helpers.ts';

describe('allowlist', () => {
  it('an allowlisted word is masked out before blocklist matching', () => {
    const service = serviceWithBlocklist([['regex', 'cunt']]);
    assert.equal(check(service, 'Scunthorpe United at home').allowed, false, 'substring regex catches Scunthorpe before the allowlist');
    assert.equal(service.addTerm(GUILD, { list: 'allow', kind: 'word', term: 'scunthorpe' }, MOD).ok, true);
    assert.equal(check(service, 'Scunthorpe United at home').allowed, true);
    assert.equal(check(service, 'SCUNTH0RPE at night').allowed, true, 'the allow term is normalised like any term');
    const verdict = check(service, 'Scunthorpe, cunt');
    assert.equal(verdict.allowed, false, 'only the allowlisted word is masked');
    assert.equal(verdict.matchedText, 'cunt');
  });

  it('allowlisted phrases mask AutoMod substring terms', () => {
    const service = newService();
    service.setAutoModRules(GUILD, [{ name: 'words', trigger_type: 1, trigger_metadata: { keyword_filter: ['*sex*'], allow_list: ['sussex', 'essex*'] } }]);
    assert.equal(check(service, 'sussex downs').allowed, true);
    assert.equal(check(service, 'Essexshire').allowed, true);
    assert.equal(check(service, 'sextant').allowed, false);
  });

  it('the allowlist cannot weaken the built-in lists', () => {
    const service = newService();
    const refused = service.addTerm(GUILD, { list: 'allow', kind: 'word', term: 'Loli' }, MOD);
    assert.equal(refused.ok, false);
    assert.equal(service.addTerm(GUILD, { list: 'allow', kind: 'regex', term: 'lol\\w+' }, MOD).ok, true);
    assert.equal(check(service, 'loli').allowed, false);
    assert.equal(check(service, 'loli').rule?.source, 'default');
  });
});

describe('regex terms', () => {
  it('invalid and unsupported regexes are refused when a moderator adds them', () => {
    const service = newService();
    for (const bad of ['(unclosed', '[a-z', '(?=lookahead)', '(a)\\1', '[a-z&&[^aeiou]]', '(?x) a b', 'x*', '\\b', '']) {
      const result = service.addTerm(GUILD, { list: 'block', kind: 'regex', term: bad }, MOD);
      assert.equal(result.ok, false, `accepted ${JSON.stringify(bad)}`);
      if (!result.ok) assert.ok(result.reason.length > 0);
    }
    assert.equal(service.listTerms(GUILD).length, 0);
    assert.equal(service.addTerm(GUILD, { list: 'block', kind: 'regex', term: 'b[a4]d\\s?w[o0]rd' }, MOD).ok, true);
    assert.equal(check(service, 'a B4D W0RD').allowed, false);
  });

  it('ReDoS-shaped regexes run in linear time', () => {
    const evil = ['(a+)+$', '(a|aa)+$', '(a*)*b', '(.*a){20}', '^(([a-z])+.)+[A-Z]([a-z])+$'];
    const service = serviceWithBlocklist(evil.map((p) => ['regex', p] as ['regex', string]));
    const input = `${'a'.repeat(1000)}!`;
    const started = performance.now();
    for (let i = 0; i < 3; i++) check(service, input);
    const elapsed = performance.now() - started;
    // A backtracking engine needs longer than the age of the universe for (a+)+$ on this input.
    assert.ok(elapsed < 2000, `took ${elapsed.toFixed(0)} ms`);
    for (const p of evil.slice(0, 3)) {
      const c = compileRegexTerm(p);
      assert.ok(c.ok);
      if (c.ok) assert.equal(c.regex.test(input), false);
    }
  });

  it('terms without letters or digits are refused', () => {
    assert.equal(literalPattern('+++', 'word').ok, false);
    assert.equal(literalPattern('c++', 'word').ok, false, 'one letter after normalisation');
    assert.equal(literalPattern('猫', 'word').ok, true, 'one character is a word in scripts without spaces');
    assert.equal(newService().addTerm(GUILD, { list: 'block', kind: 'phrase', term: ' -- ' }, MOD).ok, false);
  });

  it('terms in scripts written without spaces match inside a sentence', () => {
    const service = serviceWithBlocklist([['word', '猫']]);
    assert.equal(check(service, '黒猫の絵').allowed, false);
    assert.equal(check(service, '黒犬の絵').allowed, true);
  });
});

describe('built-in default list', () => {
  const service = newService();
  service.setNsfwMode(GUILD, 'age-restricted', MOD);

  it('blocks a minor term together with a sexual term, in any channel', () => {
    for (const prompt of ['naked child on a bed', 'a s3xy t33n', 'sexy school girl', 'nude, 12 year old', 'lingerie, 15yo', 'k.i.d.s, n.u.d.e']) {
      for (const ageRestricted of [false, true]) {
        const verdict = check(service, prompt, { ageRestricted });
        assert.equal(verdict.allowed, false, prompt);
        assert.equal(verdict.rule?.source, 'default', prompt);
        assert.equal(verdict.rule?.kind, 'pair', prompt);
      }
    }
  });

  it('blocks unambiguous terms on their own', () => {
    for (const prompt of ['loli', 'L0L1', 'shotacon art', 'jailbait']) {
      const verdict = check(service, prompt, { ageRestricted: true });
      assert.equal(verdict.allowed, false, prompt);
      assert.equal(verdict.rule?.source, 'default');
    }
  });

  it('cannot be removed by moderators', () => {
    const result = service.removeTerm(GUILD, { list: 'block', term: 'loli' }, MOD);
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.reason, /built-in/);
    assert.equal(check(service, 'loli', { ageRestricted: true }).allowed, false);
  });

  it('tells the user which rule and which words matched', () => {
    const verdict = check(service, 'photo of a child, naked');
    assert.deepEqual(verdict.rule, { source: 'default', term: 'child + naked', kind: 'pair', field: 'prompt' });
    assert.equal(verdict.matchedText, 'child … naked');
  });
});

describe('NSFW setting', () => {
  it('NSFW terms pass only in age-restricted channels of servers that turned NSFW on', () => {
    const service = newService();
    const prompt = 'nude figure study, charcoal';
    assert.equal(check(service, prompt).allowed, false, 'default off, ordinary channel');
    assert.equal(check(service, prompt, { ageRestricted: true }).allowed, false, 'off, age-restricted channel');
    assert.equal(check(service, prompt).rule?.source, 'nsfw');
    service.setNsfwMode(GUILD, 'age-restricted', MOD);
    assert.equal(check(service, prompt).allowed, false, 'on, ordinary channel');
    assert.equal(check(service, prompt, { ageRestricted: true }).allowed, true, 'on, age-restricted channel');
    assert.equal(service.checkPrompt({ guildId: null, channelIsAgeRestricted: true, prompt }).allowed, false, 'never in DMs');
    service.setNsfwMode(GUILD, 'off', MOD);
    assert.equal(check(service, prompt, { ageRestricted: true }).allowed, false, 'turned off again');
  });

  it('the server blocklist still applies in NSFW channels', () => {
    const service = serviceWithBlocklist([['word', 'feet']]);
    service.setNsfwMode(GUILD, 'age-restricted', MOD);
    const verdict = check(service, 'nude, bare feet', { ageRestricted: true });
    assert.equal(verdict.allowed, false);
    assert.equal(verdict.rule?.source, 'blocklist');
  });
});
