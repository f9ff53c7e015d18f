// Checks a slash command's options against the command's own definition before its handler runs. Discord's app always
// sends them as registered, but any client can send anything: `seed` as text, `steps` as 2.5, no `prompt` at all.
// Such a request is answered with the option that is wrong, instead of failing inside the handler. Ranges, lengths
// and choices are left to the handlers, which explain them in their own words (src/discord/requests.ts).
import { ApplicationCommandOptionType as T, type APIApplicationCommandOption, type CommandInteractionOption } from 'discord.js';

export interface OptionProblem {
  /** The same for every request with this problem (for grouping log lines): never holds a value the client chose. */
  key: string;
  /** For the user: names the option and what is wrong. */
  message: string;
}

const EXPECTED: Partial<Record<T, string>> = {
  [T.String]: 'text',
  [T.Integer]: 'a whole number',
  [T.Number]: 'a number',
  [T.Boolean]: 'true or false',
  [T.User]: 'a user',
  [T.Channel]: 'a channel',
  [T.Role]: 'a role',
  [T.Mentionable]: 'a user or a role',
  [T.Attachment]: 'an attachment',
};

const SNOWFLAKE = /^\d{15,22}$/;

function valueFits(type: T, option: CommandInteractionOption): boolean {
  const value = option.value;
  switch (type) {
    case T.String:
      return typeof value === 'string';
    case T.Integer:
      return typeof value === 'number' && Number.isSafeInteger(value);
    case T.Number:
      return typeof value === 'number' && Number.isFinite(value);
    case T.Boolean:
      return typeof value === 'boolean';
    case T.Attachment:
      // discord.js attaches the resolved attachment; an id pointing at nothing in `resolved` is no attachment.
      return typeof value === 'string' && SNOWFLAKE.test(value) && option.attachment !== undefined;
    default:
      return typeof value === 'string' && SNOWFLAKE.test(value);
  }
}

/** How a value that does not fit arrived, in words (short: it is echoed to the user). */
function describe(value: unknown): string {
  if (value === undefined || value === null) return 'no value';
  if (typeof value === 'string') return 'text';
  if (typeof value === 'number') return Number.isFinite(value) ? `${value}` : 'not a number';
  if (typeof value === 'boolean') return String(value);
  return typeof value;
}

/** An option name as the client sent it, made safe to quote (it is not one the command defines). */
function quoted(name: unknown): string {
  return String(name).replace(/[^\w-]/g, '').slice(0, 32) || '(unnamed)';
}

const isGroup = (type: T) => type === T.Subcommand || type === T.SubcommandGroup;

/** The first thing wrong with `given` under `definitions` (a command's or a subcommand's options), or undefined. */
export function optionProblem(definitions: readonly APIApplicationCommandOption[] | undefined, given: readonly CommandInteractionOption[], path = ''): OptionProblem | undefined {
  const defs = definitions ?? [];
  const seen = new Set<string>();
  for (const option of given) {
    const def = defs.find((d) => d.name === option.name);
    if (!def) return { key: `${path}unknown`, message: `There is no option \`${quoted(option.name)}\`${path ? ` in \`${path.trim()}\`` : ''}.` };
    if (seen.has(def.name)) return { key: `${path}${def.name}:twice`, message: `The option \`${def.name}\` was given twice.` };
    seen.add(def.name);
    if (isGroup(def.type)) {
      if (option.type !== def.type) return { key: `${path}${def.name}:type`, message: `\`${def.name}\` must be a subcommand.` };
      const inner = optionProblem((def as { options?: APIApplicationCommandOption[] }).options, option.options ?? [], `${path}${def.name} `);
      if (inner) return inner;
      continue;
    }
    if (option.type !== def.type || !valueFits(def.type, option)) {
      return { key: `${path}${def.name}:type`, message: `The option \`${def.name}\` must be ${EXPECTED[def.type] ?? 'something else'}, but it came as ${describe(option.value)}.` };
    }
  }
  const subcommands = defs.filter((d) => isGroup(d.type));
  if (subcommands.length > 0 && !given.some((o) => subcommands.some((d) => d.name === o.name))) {
    return { key: `${path}subcommand`, message: `Choose one of ${subcommands.map((d) => `\`${path}${d.name}\``).join(', ')}.` };
  }
  for (const def of defs) {
    if (!isGroup(def.type) && (def as { required?: boolean }).required && !seen.has(def.name)) {
      return { key: `${path}${def.name}:missing`, message: `The option \`${def.name}\` is required.` };
    }
  }
  return undefined;
}
