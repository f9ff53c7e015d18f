// Shared steps of the moderation end-to-end tests: run a /mod subcommand as someone, read the bot's answer (its
// text, embeds and flags), and list what was posted publicly in a channel.
import assert from 'node:assert/strict';
import type { Harness } from '../bot/harness.ts';
import type { InteractionHandle } from '../emulator/index.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const EPHEMERAL = 64;

export interface Answer {
  /** The message the user sees (after edits). */
  message: Json;
  ephemeral: boolean;
  /** Content, embed titles, descriptions and fields in one string, for matching. */
  text: string;
  customIds: string[];
}

export function textOf(message: Json): string {
  const parts: string[] = [message.content ?? ''];
  for (const embed of (message.embeds ?? []) as Json[]) {
    parts.push(embed.title ?? '', embed.description ?? '');
    for (const field of (embed.fields ?? []) as Json[]) parts.push(`${field.name}: ${field.value}`);
  }
  return parts.join('\n');
}

export function customIdsOf(message: Json): string[] {
  return ((message.components ?? []) as Json[]).flatMap((row) => ((row.components ?? []) as Json[]).map((c) => c.custom_id as string).filter(Boolean));
}

/** Waits for the bot's first visible answer to an interaction (an immediate reply, or the edit after a deferral). */
export async function answerOf(handle: InteractionHandle, timeoutMs = 15_000): Promise<Answer> {
  const callback = await handle.deferred(timeoutMs);
  assert.equal(callback.status < 300, true, `callback failed: ${JSON.stringify(callback.response)}`);
  let message: Json | undefined;
  if (callback.type === 5) {
    await handle.waitFor((r) => r.kind === 'webhook' && (r.method === 'PATCH' || r.method === 'POST') && r.status < 300, timeoutMs, 'the deferred answer');
    message = handle.original() ?? handle.followUps()[0];
  } else if (callback.type === 4) {
    message = handle.original();
  } else {
    throw new Error(`unexpected callback type ${callback.type}`);
  }
  assert.ok(message, 'the answer message exists');
  const allowed = (message.allowed_mentions ?? (callback.body as Json)?.data?.allowed_mentions) as Json | undefined;
  if (allowed) assert.deepEqual(allowed.parse, [], 'answers never ping');
  return { message, ephemeral: ((message.flags ?? 0) & EPHEMERAL) !== 0, text: textOf(message), customIds: customIdsOf(message) };
}

/** Runs `/mod <name>` (e.g. 'blocklist add') as a user (default: the admin, who has Manage Server). */
export async function mod(h: Harness, name: string, options: Record<string, unknown> = {}, user: Json = h.emulator.users.admin): Promise<Answer> {
  const answer = await answerOf(h.emulator.slashCommand({ name: `mod ${name}`, options, user }));
  assert.ok(answer.ephemeral, `/mod ${name} answers privately`);
  return answer;
}

/** Messages in a channel that everyone can see (not ephemeral). */
export function publicMessages(h: Harness, channelId: string): Json[] {
  return h.emulator.messages(channelId).filter((m) => ((m.flags ?? 0) & EPHEMERAL) === 0);
}

/** Runs /imagine and returns the handle and the first callback. */
export async function imagine(h: Harness, options: Record<string, unknown>, extra: { user?: Json; channelId?: string } = {}) {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { steps: 2, ...options }, user: extra.user, channelId: extra.channelId });
  const callback = await handle.deferred(15_000);
  return { handle, callback };
}

/** An /imagine that was refused: an ephemeral answer and no job. Returns the refusal text. */
export async function expectRefused(h: Harness, options: Record<string, unknown>, extra: { user?: Json; channelId?: string } = {}): Promise<string> {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { steps: 2, ...options }, user: extra.user, channelId: extra.channelId });
  const answer = await answerOf(handle);
  assert.ok(answer.ephemeral, `refusal is ephemeral: ${answer.text}`);
  assert.doesNotMatch(answer.text, /Queued|Starting/);
  return answer.text;
}

/** An /imagine that was accepted and finished with at least one image. Returns the final message. */
export async function expectImage(h: Harness, options: Record<string, unknown>, extra: { user?: Json; channelId?: string } = {}): Promise<Json> {
  const handle = h.emulator.slashCommand({ name: 'imagine', options: { steps: 2, ...options }, user: extra.user, channelId: extra.channelId });
  const answer = await answerOf(handle);
  assert.ok(!answer.ephemeral, `accepted: ${answer.text}`);
  await handle.waitFor((r) => r.files.some((f) => f.filename.endsWith('.png')) || /withheld/.test(JSON.stringify(r.body ?? '')), 60_000, 'the result');
  const message = handle.original()!;
  // The generation record is written right after the post succeeds.
  await h.emulator.waitFor(() => h.bot.ctx.generations.byMessageId(message.id).length > 0, 10_000, 'the generation record');
  return message;
}

/** The newest message in a channel that satisfies a predicate, waiting for it. */
export function waitForMessage(h: Harness, channelId: string, predicate: (m: Json) => boolean, timeoutMs = 10_000): Promise<Json> {
  return h.emulator.waitFor(() => [...h.emulator.messages(channelId)].reverse().find(predicate), timeoutMs, 'a message in the channel');
}
