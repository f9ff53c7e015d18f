// Converts a server's Discord AutoMod keyword rules into moderation terms, so prompts obey the same words as chat.
//
// Discord's keyword matching strategies (docs: resources/auto-moderation, "Keyword Matching Strategies"):
//   cat    whole word: the keyword is a full word or phrase surrounded by whitespace
//   cat*   prefix:     a word starting with the keyword ("catch", "Catapult")
//   *cat   suffix:     a word ending with the keyword ("wildcat")
//   *cat*  anywhere:   the keyword anywhere in the content ("location")
// All keywords are case-insensitive; allow_list entries use the same wildcards. regex_patterns are Rust-flavoured;
// RE2 accepts nearly all of Rust's syntax, and patterns it refuses (or would read differently) are skipped and
// reported. Only KEYWORD rules (trigger type 1) carry terms; preset lists (type 4) are Discord-internal.
// Simplification: each rule's allow_list is applied to all AutoMod terms of the server, not only its own rule.
import { literalPattern, compileRegexTerm } from './termPattern.ts';
import type { LiteralKind, TermSpec } from './types.ts';

export const AUTOMOD_KEYWORD_TRIGGER = 1;
const AUTOMOD_KEYWORD_PRESET_TRIGGER = 4;

interface ApiTriggerMetadata {
  keyword_filter?: string[];
  regex_patterns?: string[];
  allow_list?: string[];
}

interface DiscordJsTriggerMetadata {
  keywordFilter?: readonly string[];
  regexPatterns?: readonly string[];
  allowList?: readonly string[];
}

/** An AutoMod rule as the REST API returns it (snake_case) or as discord.js exposes it (camelCase). */
export interface AutoModRuleInput {
  id?: string;
  name?: string;
  enabled?: boolean;
  trigger_type?: number;
  trigger_metadata?: ApiTriggerMetadata | null;
  triggerType?: number;
  triggerMetadata?: DiscordJsTriggerMetadata | null;
}

export interface AutoModSkip {
  rule: string;
  pattern: string;
  reason: string;
}

export interface AutoModTerms {
  block: TermSpec[];
  allow: TermSpec[];
  /** Patterns that could not be used, with the reason (for the moderator). */
  skipped: AutoModSkip[];
}

/** Reads AutoMod's wildcard syntax: `cat*` prefix, `*cat` suffix, `*cat*` anywhere, otherwise whole word/phrase. */
export function parseAutoModKeyword(keyword: string): { kind: LiteralKind; term: string } | null {
  const trimmed = keyword.trim();
  const starts = trimmed.startsWith('*');
  const ends = trimmed.length > 1 && trimmed.endsWith('*');
  const term = trimmed.slice(starts ? 1 : 0, ends ? -1 : undefined).trim();
  if (term.length === 0) return null;
  const kind: LiteralKind = starts && ends ? 'substring' : ends ? 'prefix' : starts ? 'suffix' : /\s/u.test(term) ? 'phrase' : 'word';
  return { kind, term };
}

function ruleLabel(rule: AutoModRuleInput): string {
  return rule.name ?? rule.id ?? 'AutoMod rule';
}

export function termsFromAutoModRules(rules: readonly AutoModRuleInput[]): AutoModTerms {
  const out: AutoModTerms = { block: [], allow: [], skipped: [] };
  for (const rule of rules) {
    if (rule.enabled === false) continue;
    const trigger = rule.trigger_type ?? rule.triggerType;
    if (trigger === AUTOMOD_KEYWORD_PRESET_TRIGGER) {
      out.skipped.push({ rule: ruleLabel(rule), pattern: '(keyword presets)', reason: "Discord's preset word lists are not public; use the built-in lists" });
      continue;
    }
    if (trigger !== AUTOMOD_KEYWORD_TRIGGER) continue;
    const api = rule.trigger_metadata ?? {};
    const djs = rule.triggerMetadata ?? {};
    const keywords = api.keyword_filter ?? djs.keywordFilter ?? [];
    const regexes = api.regex_patterns ?? djs.regexPatterns ?? [];
    const allowList = api.allow_list ?? djs.allowList ?? [];
    const label = ruleLabel(rule);

    const addLiteral = (keyword: string, target: TermSpec[]): void => {
      const parsed = parseAutoModKeyword(keyword);
      const checked = parsed ? literalPattern(parsed.term, parsed.kind) : { ok: false as const, reason: 'empty keyword' };
      if (!parsed || !checked.ok) {
        out.skipped.push({ rule: label, pattern: keyword, reason: checked.ok ? 'empty keyword' : checked.reason });
        return;
      }
      target.push({ source: 'automod', kind: parsed.kind, term: parsed.term, label: keyword });
    };
    for (const keyword of keywords) addLiteral(keyword, out.block);
    for (const keyword of allowList) addLiteral(keyword, out.allow);
    for (const pattern of regexes) {
      const checked = compileRegexTerm(pattern);
      if (checked.ok) out.block.push({ source: 'automod', kind: 'regex', term: pattern });
      else out.skipped.push({ rule: label, pattern, reason: checked.reason });
    }
  }
  return out;
}
