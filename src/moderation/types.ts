// Public types of the moderation engine, shared by the matcher, the store and the service.

/** Where a rule comes from: built in (always on), the built-in NSFW list, the server's own list, Discord AutoMod. */
export type RuleSource = 'default' | 'nsfw' | 'blocklist' | 'automod';

/** Terms matched as words of the prompt: whole words, phrases, or AutoMod's `cat*` / `*cat` / `*cat*` wildcards. */
export type LiteralKind = 'word' | 'phrase' | 'prefix' | 'suffix' | 'substring';
export type TermKind = LiteralKind | 'regex';
/** 'pair': a built-in co-occurrence rule (a minor term and a sexual term in the same prompt). */
export type RuleKind = TermKind | 'pair';

/** The kinds a moderator can add to a server's block or allow list. */
export type ServerTermKind = 'word' | 'phrase' | 'regex';
export type TermList = 'block' | 'allow';

export type PromptField = 'prompt' | 'negative';

export interface TermSpec {
  source: RuleSource;
  kind: TermKind;
  /** The term as written. */
  term: string;
  /** What to show the user instead of the term itself (for built-in regexes). */
  label?: string;
}

export interface Verdict {
  allowed: boolean;
  rule?: { source: RuleSource; term: string; kind: RuleKind; field: PromptField };
  /** The part of the user's text that matched, as they typed it. */
  matchedText?: string;
}

export type NsfwMode = 'off' | 'age-restricted';

/** Per-job limits; null means "no limit from this level". */
export interface Limits {
  maxSteps: number | null;
  maxPixels: number | null;
  maxImagesPerJob: number | null;
  jobsPerUserPerHour: number | null;
}

export interface GuildSettings {
  guildId: string;
  logChannelId: string | null;
  nsfw: NsfwMode;
  /** Post images the safety checker flags behind a spoiler instead of withholding them. */
  spoilerFlaggedImages: boolean;
  /** Also enforce the server's Discord AutoMod keyword rules on prompts. */
  useAutoModRules: boolean;
  limits: Limits;
}

/** Rejected or skipped term, with a reason a moderator can act on. */
export interface TermProblem {
  term: string;
  kind: TermKind;
  reason: string;
}
