// What Discord's REST API sends back, parsed with a schema instead of cast: the bot reads only a few fields of each
// reply, and those are checked here, so a reply of another shape (an API change, a proxy's error page, an emulator
// bug) fails at the call with the field named, not later as an undefined id written into the database.
// Objects are loose: Discord adds fields all the time, and the ones the bot does not read are kept as they are.
import { z } from 'zod';

/** A REST reply without the fields the bot needs; the message names the request and the fields. */
export class DiscordReplyError extends Error {
  override name = 'DiscordReplyError';
}

/** Discord sends null for many absent values; the bot's types say undefined. */
const optional = <S extends z.ZodType>(schema: S) => schema.nullish().transform((v) => v ?? undefined);
const snowflake = z.string().regex(/^\d{1,20}$/, 'expected a Discord id (a snowflake)');

/** A message the bot posted (POST .../messages) or a DM channel it opened: only the id is read. */
export const createdReply = z.looseObject({ id: snowflake });

/** An edited message (PATCH): the id when Discord sends one. */
export const editedReply = z.looseObject({ id: optional(snowflake) });

/** A message read back to find an earlier result by its embed footer. */
export const messageWithFooters = z.looseObject({
  id: snowflake,
  embeds: optional(z.array(z.looseObject({ footer: optional(z.looseObject({ text: optional(z.string()) })) }))),
});

/** A message read for its images (Reimagine): attachments and embed images. */
export const messageWithImages = z.looseObject({
  attachments: optional(z.array(z.looseObject({ url: z.string(), content_type: optional(z.string()), filename: optional(z.string()), size: optional(z.number()) }))),
  embeds: optional(z.array(z.looseObject({ image: optional(z.looseObject({ url: optional(z.string()) })) }))),
});

const words = optional(z.array(z.string()));

/** GET /guilds/{id}/auto-moderation/rules. */
export const autoModRulesReply = z.array(
  z.looseObject({
    id: optional(z.string()),
    name: optional(z.string()),
    enabled: optional(z.boolean()),
    trigger_type: optional(z.number()),
    trigger_metadata: optional(z.looseObject({ keyword_filter: words, regex_patterns: words, allow_list: words })),
  }),
);

/** PUT .../commands: the commands as registered. */
export const registeredCommandsReply = z.array(z.looseObject({ name: z.string() }));

/** Parse a REST reply; throws DiscordReplyError saying which request's reply lacked what. */
export function parseReply<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(the reply)'}: ${i.message}`).join('; ');
  throw new DiscordReplyError(`Discord's reply to ${what} is not what the bot expects (${fields})`);
}
