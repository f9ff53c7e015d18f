// Shared set-up for the moderation tests: a service on an in-memory database with a server blocklist.
import Database from 'better-sqlite3';
import { ModerationService } from '../../src/moderation/service.ts';
import type { ServerTermKind } from '../../src/moderation/types.ts';

export const GUILD = '100000000000000001';
export const MOD = '200000000000000002';

export function newService(now = () => 1_700_000_000_000): ModerationService {
  return new ModerationService(new Database(':memory:'), { now });
}

/** A service whose server blocks `terms` (each [kind, term]); fails loudly if a term is refused. */
export function serviceWithBlocklist(terms: Array<[ServerTermKind, string]>): ModerationService {
  const service = newService();
  for (const [kind, term] of terms) {
    const added = service.addTerm(GUILD, { list: 'block', kind, term }, MOD);
    if (!added.ok) throw new Error(`could not add ${term}: ${added.reason}`);
  }
  return service;
}

export function check(service: ModerationService, prompt: string, opts: { negative?: string; ageRestricted?: boolean } = {}) {
  return service.checkPrompt({ guildId: GUILD, channelIsAgeRestricted: opts.ageRestricted ?? false, prompt, negative: opts.negative });
}
