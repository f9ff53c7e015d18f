// Discord AutoMod keyword rules as a term source.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAutoModKeyword, termsFromAutoModRules } from '../../src/moderation/automod.ts';
import { check, GUILD, MOD, newService } from './helpers.ts';

describe('AutoMod wildcards', () => {
  it('parses the four matching strategies', () => {
    assert.deepEqual(parseAutoModKeyword('cat'), { kind: 'word', term: 'cat' });
    assert.deepEqual(parseAutoModKeyword('the mat'), { kind: 'phrase', term: 'the mat' });
    assert.deepEqual(parseAutoModKeyword('cat*'), { kind: 'prefix', term: 'cat' });
    assert.deepEqual(parseAutoModKeyword('*cat'), { kind: 'suffix', term: 'cat' });
    assert.deepEqual(parseAutoModKeyword('*cat*'), { kind: 'substring', term: 'cat' });
    assert.equal(parseAutoModKeyword('*'), null);
    assert.equal(parseAutoModKeyword('**'), null);
  });

  it("matches like Discord's documented examples", () => {
    const service = newService();
    service.setAutoModRules(GUILD, [
      { id: '1', name: 'Keyword Filter 1', trigger_type: 1, trigger_metadata: { keyword_filter: ['cat*', '*dog', '*ana*', 'train', 'the mat*'] } },
    ]);
    const blocked = (p: string): boolean => !check(service, p).allowed;
    // prefix: catch, Catapult, CAttLE; suffix: wildcat-like; anywhere: banana; whole word: train only
    for (const p of ['catch', 'Catapult', 'CAttLE', 'hotdog', 'bulldog', 'banana', 'analysis', 'a train', 'the matrix']) assert.ok(blocked(p), p);
    for (const p of ['bobcat', 'dogma', 'trains', 'training day', 'bread']) assert.ok(!blocked(p), p);
    assert.equal(check(service, 'Catapult').rule?.source, 'automod');
    assert.equal(check(service, 'Catapult').rule?.term, 'cat*');
    assert.equal(check(service, 'Catapult').rule?.kind, 'prefix');
  });
});

describe('AutoMod rule conversion', () => {
  it('converts keyword filters, regexes and allow lists, and reports what it skips', () => {
    const terms = termsFromAutoModRules([
      {
        id: '10', name: 'words', enabled: true, trigger_type: 1,
        trigger_metadata: { keyword_filter: ['badword', '*'], regex_patterns: ['(b|c)at', '(?=x)y', '[a-z&&[^aeiou]]+', 'x*'], allow_list: ['scat*'] },
      },
      { id: '11', name: 'disabled', enabled: false, trigger_type: 1, trigger_metadata: { keyword_filter: ['ignored'] } },
      { id: '12', name: 'presets', trigger_type: 4, trigger_metadata: {} },
      { id: '13', name: 'spam', trigger_type: 3, trigger_metadata: {} },
    ]);
    assert.deepEqual(terms.block.map((t) => [t.kind, t.term]), [['word', 'badword'], ['regex', '(b|c)at']]);
    assert.deepEqual(terms.allow.map((t) => [t.kind, t.term]), [['prefix', 'scat']]);
    assert.deepEqual(terms.skipped.map((s) => s.pattern), ['*', '(?=x)y', '[a-z&&[^aeiou]]+', 'x*', '(keyword presets)']);
    assert.ok(terms.skipped.every((s) => s.reason.length > 0));
  });

  it('accepts discord.js-shaped rules (camelCase)', () => {
    const terms = termsFromAutoModRules([{ name: 'djs', triggerType: 1, triggerMetadata: { keywordFilter: ['foo*'], regexPatterns: ['ba+r'], allowList: [] } }]);
    assert.deepEqual(terms.block.map((t) => t.kind), ['prefix', 'regex']);
  });

  it('AutoMod terms apply only while the server setting is on', () => {
    const service = newService();
    service.setAutoModRules(GUILD, [{ name: 'r', trigger_type: 1, trigger_metadata: { regex_patterns: ['d[o0]nkey'] } }]);
    assert.equal(check(service, 'a d0nkey').allowed, false);
    service.setUseAutoModRules(GUILD, false, MOD);
    assert.equal(check(service, 'a d0nkey').allowed, true);
    service.setUseAutoModRules(GUILD, true, MOD);
    assert.equal(check(service, 'a d0nkey').allowed, false);
    service.setAutoModRules(GUILD, []);
    assert.equal(check(service, 'a d0nkey').allowed, true, 'rules replaced');
  });
});
