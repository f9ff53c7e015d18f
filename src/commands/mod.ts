// /mod: the server moderators' controls — block and allow lists, blocked users, the log channel, NSFW and flagged
// images, limits, AutoMod rules as a term source, the current settings, and finding/deleting who made an image.
// Registered with default_member_permissions = Manage Server and only in servers; the handler checks Manage Server
// again (see hasManageGuild in modShared.ts for why). Every answer is ephemeral and pings nobody. The moderation
// service does the work and writes each change to the audit log with the moderator's id.
import { ApplicationCommandOptionType, ApplicationCommandType, ChannelType, InteractionContextType, PermissionFlagsBits, RESTJSONErrorCodes, Routes, type APIApplicationCommandBasicOption, type APIEmbed, type AutocompleteInteraction, type ChatInputCommandInteraction } from 'discord.js';
import type { BotContext, SlashCommand } from '../bot/types.ts';
import type { AuditEntry, Limits, ServerTermKind, TermList } from '../moderation/index.ts';
import { MAX_TERM_LENGTH } from '../moderation/index.ts';
import { effectiveLimits } from '../discord/requests.ts';
import { rangeOf } from '../pipeline/request.ts';
import { quotePrompt, NO_PINGS } from '../discord/messageBodies.ts';
import { autoModStatus, refreshAutoModRules, type AutoModStatus } from '../discord/autoModSync.ts';
import { discordCode, isMissingPermission } from '../discord/jobMessage.ts';
import { clip, discordTime, hasManageGuild, NEEDS_MANAGE_GUILD, parseMessageRef, replyPrivately, type PrivateBody } from '../discord/modShared.ts';
import { modelChoiceLabel } from '../bot/models.ts';
import { deleteGeneratedImage, NO_RECORD, recordsInGuild, whoMadeBody } from './whoMade.ts';

const T = ApplicationCommandOptionType;

const KIND_CHOICES = [
  { name: 'word (whole word, with its evasions)', value: 'word' },
  { name: 'phrase (words in this order)', value: 'phrase' },
  { name: 'regex (RE2 syntax)', value: 'regex' },
];

function termListGroup(list: TermList): { type: ApplicationCommandOptionType.SubcommandGroup; name: string; description: string; options: { type: ApplicationCommandOptionType.Subcommand; name: string; description: string; options?: APIApplicationCommandBasicOption[] }[] } {
  const what = list === 'block' ? 'blocked terms' : 'exceptions to the blocked terms';
  return {
    type: T.SubcommandGroup,
    name: `${list}list`,
    description: `This server's ${what}`,
    options: [
      {
        type: T.Subcommand,
        name: 'add',
        description: list === 'block' ? 'Block a word, phrase or regex in prompts' : 'Allow a word or phrase that a blocked term would catch',
        options: [
          { type: T.String, name: 'term', description: 'The word, phrase or regex', required: true, max_length: 300 },
          { type: T.String, name: 'kind', description: 'How to match it (default: word)', choices: KIND_CHOICES },
        ],
      },
      {
        type: T.Subcommand,
        name: 'remove',
        description: `Remove one of the ${what}`,
        options: [
          { type: T.String, name: 'term', description: 'The term as it was added', required: true, max_length: 300 },
          { type: T.String, name: 'kind', description: 'Only the entry of this kind (default: any)', choices: KIND_CHOICES },
        ],
      },
      { type: T.Subcommand, name: 'list', description: `Show the ${what}` },
    ],
  };
}

const LIMIT_OPTIONS = [
  // A server limit above the request schema's own maximum would mean nothing.
  { option: 'max_steps', key: 'maxSteps', label: 'Max steps', max: rangeOf('steps').max },
  { option: 'max_pixels', key: 'maxPixels', label: 'Max pixels per image', max: rangeOf('width').max * rangeOf('height').max },
  { option: 'max_images', key: 'maxImagesPerJob', label: 'Max images per job', max: rangeOf('count').max },
  { option: 'jobs_per_hour', key: 'jobsPerUserPerHour', label: 'Jobs per user per hour', max: 10_000 },
] as const satisfies ReadonlyArray<{ option: string; key: keyof Limits; label: string; max: number }>;

export const mod: SlashCommand = {
  kind: 'slash',
  data: {
    type: ApplicationCommandType.ChatInput,
    name: 'mod',
    description: 'Moderate what the bot makes in this server (Manage Server)',
    default_member_permissions: String(PermissionFlagsBits.ManageGuild),
    contexts: [InteractionContextType.Guild],
    options: [
      termListGroup('block'),
      termListGroup('allow'),
      {
        type: T.SubcommandGroup,
        name: 'user',
        description: 'Users blocked from the bot in this server',
        options: [
          {
            type: T.Subcommand,
            name: 'block',
            description: 'Stop a user from using the bot in this server',
            options: [
              { type: T.User, name: 'user', description: 'Who to block', required: true },
              { type: T.String, name: 'reason', description: 'Why (kept in the log)', max_length: 300 },
            ],
          },
          { type: T.Subcommand, name: 'unblock', description: 'Let a blocked user use the bot again', options: [{ type: T.User, name: 'user', description: 'Who to unblock', required: true }] },
          { type: T.Subcommand, name: 'list', description: 'Show the blocked users' },
        ],
      },
      {
        type: T.SubcommandGroup,
        name: 'logchannel',
        description: 'Where refused prompts and flagged images are reported',
        options: [
          { type: T.Subcommand, name: 'set', description: 'Report to this channel', options: [{ type: T.Channel, name: 'channel', description: 'A text channel the bot can post in', required: true, channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement] }] },
          { type: T.Subcommand, name: 'clear', description: 'Stop reporting' },
        ],
      },
      {
        type: T.Subcommand,
        name: 'nsfw',
        description: 'Whether NSFW prompts are allowed (only ever in age-restricted channels)',
        options: [{ type: T.String, name: 'mode', description: 'off, or allowed in age-restricted channels', required: true, choices: [{ name: 'off', value: 'off' }, { name: 'age-restricted channels only', value: 'age-restricted' }] }],
      },
      {
        type: T.Subcommand,
        name: 'spoiler',
        description: 'Post images the safety checker flags behind a spoiler instead of withholding them',
        options: [{ type: T.Boolean, name: 'enabled', description: 'true: spoiler; false: withhold (default)', required: true }],
      },
      {
        type: T.Subcommand,
        name: 'limits',
        description: 'Limits per job and per user (0 removes a limit; no options shows them)',
        options: [
          ...LIMIT_OPTIONS.map((l) => ({ type: ApplicationCommandOptionType.Integer as const, name: l.option, description: `${l.label} (0 = no server limit)`, min_value: 0, max_value: l.max })),
          { type: T.String, name: 'clear', description: 'Remove a server limit', choices: [{ name: 'all limits', value: 'all' }, ...LIMIT_OPTIONS.map((l) => ({ name: l.label, value: l.option }))] },
        ],
      },
      {
        type: T.Subcommand,
        name: 'automod',
        description: "Also refuse prompts that this server's AutoMod keyword rules would block",
        options: [{ type: T.Boolean, name: 'enabled', description: 'true: use the AutoMod rules (reloads them now)', required: true }],
      },
      {
        type: T.SubcommandGroup,
        name: 'model',
        description: "Which of the bot's models this server uses",
        options: [
          {
            type: T.Subcommand,
            name: 'default',
            description: "The model /imagine uses here when none is chosen (empty: the bot's default)",
            options: [{ type: T.String, name: 'model', description: 'A model installed on the bot', autocomplete: true, max_length: 100 }],
          },
          { type: T.Subcommand, name: 'hide', description: 'Stop this server from using a model', options: [{ type: T.String, name: 'model', description: 'The model to hide', required: true, autocomplete: true, max_length: 100 }] },
          { type: T.Subcommand, name: 'show', description: 'Let this server use a hidden model again', options: [{ type: T.String, name: 'model', description: 'The model to show', required: true, autocomplete: true, max_length: 100 }] },
          { type: T.Subcommand, name: 'list', description: 'The models, which one is the default here and which are hidden' },
        ],
      },
      { type: T.Subcommand, name: 'settings', description: 'Show the current moderation settings, term problems and recent changes' },
      { type: T.Subcommand, name: 'whomade', description: 'Who made an image the bot posted', options: [{ type: T.String, name: 'message', description: 'Message link or id', required: true, max_length: 200 }] },
      { type: T.Subcommand, name: 'delete', description: 'Delete an image the bot posted in this server', options: [{ type: T.String, name: 'message', description: 'Message link or id', required: true, max_length: 200 }] },
    ],
  },

  async execute(interaction: ChatInputCommandInteraction, ctx: BotContext): Promise<void> {
    const guildId = interaction.guildId;
    if (!guildId) return replyPrivately(interaction, '/mod only works in a server.');
    if (!hasManageGuild(interaction)) return replyPrivately(interaction, NEEDS_MANAGE_GUILD);
    const group = interaction.options.getSubcommandGroup(false);
    const sub = interaction.options.getSubcommand(true);
    const run = { interaction, ctx, guildId, actor: interaction.user.id };
    switch (group) {
      case 'blocklist':
      case 'allowlist':
        return termCommand(run, group === 'blocklist' ? 'block' : 'allow', sub);
      case 'user':
        return userCommand(run, sub);
      case 'logchannel':
        return logChannelCommand(run, sub);
      case 'model':
        return modelCommand(run, sub);
    }
    switch (sub) {
      case 'nsfw': {
        const mode = interaction.options.getString('mode', true) === 'age-restricted' ? 'age-restricted' : 'off';
        ctx.moderation.setNsfwMode(guildId, mode, run.actor);
        return replyPrivately(interaction, mode === 'off' ? 'NSFW prompts are now refused everywhere in this server.' : 'NSFW prompts are now allowed in age-restricted channels only (the built-in list still applies everywhere).');
      }
      case 'spoiler': {
        const enabled = interaction.options.getBoolean('enabled', true);
        ctx.moderation.setSpoilerFlaggedImages(guildId, enabled, run.actor);
        return replyPrivately(interaction, enabled ? 'Images the safety checker flags are now posted behind a spoiler outside age-restricted channels.' : 'Images the safety checker flags are now withheld outside age-restricted channels.');
      }
      case 'limits':
        return limitsCommand(run);
      case 'automod':
        return autoModCommand(run);
      case 'settings':
        return replyPrivately(interaction, settingsBody(ctx, guildId));
      case 'whomade':
      case 'delete':
        return imageCommand(run, sub);
    }
    return replyPrivately(interaction, 'Unknown /mod subcommand (the bot may be older than its registered commands).');
  },

  async autocomplete(interaction: AutocompleteInteraction, ctx: BotContext): Promise<void> {
    const focused = interaction.options.getFocused(true);
    if (focused.name !== 'model' || !interaction.guildId || !hasManageGuild(interaction)) return interaction.respond([]);
    const typed = String(focused.value).trim().toLowerCase();
    const { defaultModel } = ctx.models.forGuild(interaction.guildId);
    const hidden = new Set(ctx.models.guildSettings(interaction.guildId).hidden);
    // `show` offers the hidden ones; `hide` and `default` the visible ones.
    const wantHidden = interaction.options.getSubcommand(false) === 'show';
    const choices = ctx.models
      .all()
      .filter((m) => hidden.has(m.name) === wantHidden && m.name.toLowerCase().includes(typed))
      .slice(0, 25)
      .map((m) => ({ name: modelChoiceLabel(m, m.name === defaultModel), value: m.name }));
    await interaction.respond(choices);
  },
};

// ---- models ----

async function modelCommand({ interaction, ctx, guildId, actor }: Run, sub: string): Promise<void> {
  if (sub === 'list') return replyPrivately(interaction, { embeds: [{ title: 'Models', description: modelLines(ctx, guildId), color: 0x5865f2 }] });
  const model = interaction.options.getString('model');
  if (sub === 'default') {
    const refusal = ctx.models.setGuildDefault(guildId, model, actor);
    if (refusal) return replyPrivately(interaction, `Not changed: ${refusal}`);
    return replyPrivately(interaction, model ? `/imagine now uses **${model}** here when no model is chosen.` : `/imagine now uses the bot's default model (**${ctx.models.defaultModel}**) here.`);
  }
  const hide = sub === 'hide';
  const refusal = ctx.models.setHidden(guildId, model!, hide, actor);
  if (refusal) return replyPrivately(interaction, `Not changed: ${refusal}`);
  return replyPrivately(interaction, hide ? `**${model}** is hidden here: nobody in this server can choose it, and its buttons stop working here.` : `**${model}** can be used here again.`);
}

function modelLines(ctx: BotContext, guildId: string): string {
  const { defaultModel } = ctx.models.forGuild(guildId);
  const hidden = new Set(ctx.models.guildSettings(guildId).hidden);
  const lines = ctx.models.all().map((m) => `• **${m.name}** · ${m.family} · ${m.width}×${m.height}${m.name === defaultModel ? ' · default here' : ''}${hidden.has(m.name) ? ' · hidden' : ''}`);
  return joinLines(lines, 4000);
}

interface Run {
  interaction: ChatInputCommandInteraction;
  ctx: BotContext;
  guildId: string;
  actor: string;
}

// ---- block and allow lists ----

async function termCommand({ interaction, ctx, guildId, actor }: Run, list: TermList, sub: string): Promise<void> {
  const name = `${list}list`;
  if (sub === 'list') return replyPrivately(interaction, termListBody(ctx, guildId, list));
  const term = interaction.options.getString('term', true);
  const kind = interaction.options.getString('kind') as ServerTermKind | null;
  if (sub === 'add') {
    const added = ctx.moderation.addTerm(guildId, { list, kind: kind ?? 'word', term }, actor);
    if (!added.ok) return replyPrivately(interaction, `Not added: ${added.reason}`);
    const effect = list === 'block' ? 'Prompts containing it are now refused.' : 'It no longer counts as a blocked term here (the built-in list still applies).';
    return replyPrivately(interaction, `Added ${quotePrompt(added.term.term, MAX_TERM_LENGTH + 20)} (${added.term.kind}) to the ${name}. ${effect}`);
  }
  const removed = ctx.moderation.removeTerm(guildId, { list, term, kind: kind ?? undefined }, actor);
  if (!removed.ok) return replyPrivately(interaction, `Not removed: ${removed.reason}`);
  return replyPrivately(interaction, `Removed ${removed.removed.map((t) => `${quotePrompt(t.term, 120)} (${t.kind})`).join(', ')} from the ${name}.`);
}

function termListBody(ctx: BotContext, guildId: string, list: TermList): PrivateBody | string {
  const terms = ctx.moderation.listTerms(guildId, list);
  const title = list === 'block' ? 'Blocklist' : 'Allowlist';
  if (terms.length === 0) return `The ${title.toLowerCase()} is empty.${list === 'block' ? ' The built-in list always applies.' : ''}`;
  const lines = terms.map((t) => `• ${quotePrompt(t.term, 120)} · ${t.kind} · <@${t.addedBy}> ${discordTime(t.addedAt, 'd')}`);
  return { embeds: [{ title: `${title} (${terms.length})`, description: joinLines(lines, 4000), color: 0x5865f2 }] };
}

/** Joins lines up to a length, saying how many did not fit. */
function joinLines(lines: readonly string[], max: number): string {
  const out: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const more = `…and ${lines.length - i} more`;
    if (length + line.length + 1 + more.length > max) {
      out.push(more);
      break;
    }
    out.push(line);
    length += line.length + 1;
  }
  return out.join('\n');
}

// ---- users ----

async function userCommand({ interaction, ctx, guildId, actor }: Run, sub: string): Promise<void> {
  if (sub === 'list') {
    const blocked = ctx.moderation.listBlockedUsers(guildId);
    if (blocked.length === 0) return replyPrivately(interaction, 'No users are blocked in this server.');
    const lines = blocked.map((b) => `• <@${b.userId}> · ${b.reason ? quotePrompt(b.reason, 150) : 'no reason given'} · by <@${b.blockedBy}> ${discordTime(b.blockedAt, 'd')}`);
    return replyPrivately(interaction, { embeds: [{ title: `Blocked users (${blocked.length})`, description: joinLines(lines, 4000), color: 0xed4245 }] });
  }
  const user = interaction.options.getUser('user', true);
  if (sub === 'block') {
    if (user.id === actor) return replyPrivately(interaction, 'You cannot block yourself.');
    if (user.bot) return replyPrivately(interaction, 'Bots cannot use the bot anyway; nothing to block.');
    const reason = interaction.options.getString('reason');
    ctx.moderation.blockUser(guildId, user.id, reason, actor);
    return replyPrivately(interaction, `<@${user.id}> can no longer use the bot in this server.${reason ? ` Reason: ${quotePrompt(reason, 300)}` : ''}`);
  }
  const unblocked = ctx.moderation.unblockUser(guildId, user.id, actor);
  return replyPrivately(interaction, unblocked ? `<@${user.id}> can use the bot again.` : `<@${user.id}> was not blocked.`);
}

// ---- log channel ----

async function logChannelCommand({ interaction, ctx, guildId, actor }: Run, sub: string): Promise<void> {
  if (sub === 'clear') {
    ctx.moderation.setLogChannel(guildId, null, actor);
    return replyPrivately(interaction, 'The moderation log is off: refused prompts and flagged images are no longer reported.');
  }
  const channel = interaction.options.getChannel('channel', true);
  // Say hello in the channel first: if the bot cannot post there, the moderator learns it now, not when it matters.
  try {
    await ctx.client.rest.post(Routes.channelMessages(channel.id), {
      body: { content: `📋 This channel is now the moderation log of the image bot (set by <@${actor}>). Refused prompts and flagged images will be reported here.`, allowed_mentions: NO_PINGS },
    });
  } catch (err) {
    if (isMissingPermission(err) || discordCode(err) === RESTJSONErrorCodes.UnknownChannel) {
      return replyPrivately(interaction, `The bot cannot post in <#${channel.id}>. Give it View Channel, Send Messages and Embed Links there, then try again.`);
    }
    throw err;
  }
  ctx.moderation.setLogChannel(guildId, channel.id, actor);
  return replyPrivately(interaction, `Refused prompts and flagged images will be reported in <#${channel.id}>.`);
}

// ---- limits ----

async function limitsCommand({ interaction, ctx, guildId, actor }: Run): Promise<void> {
  const patch: Partial<Limits> = {};
  for (const l of LIMIT_OPTIONS) {
    const value = interaction.options.getInteger(l.option);
    if (value !== null) patch[l.key] = value === 0 ? null : value;
  }
  const clear = interaction.options.getString('clear');
  for (const l of LIMIT_OPTIONS) if (clear === 'all' || clear === l.option) patch[l.key] = null;
  if (Object.keys(patch).length === 0) return replyPrivately(interaction, { embeds: [{ title: 'Limits', description: limitLines(ctx, guildId), color: 0x5865f2 }] });
  const result = ctx.moderation.setLimits(guildId, patch, actor);
  if (!result.ok) return replyPrivately(interaction, `Not changed: ${result.reason}`);
  return replyPrivately(interaction, { content: 'Limits updated.', embeds: [{ title: 'Limits', description: limitLines(ctx, guildId), color: 0x5865f2 }] });
}

/** Each limit: the server's own value and the one jobs run under (the tighter of the server's and the bot's). */
function limitLines(ctx: BotContext, guildId: string): string {
  const own = ctx.moderation.getSettings(guildId).limits;
  const job = effectiveLimits(ctx, guildId);
  const hourly = ctx.moderation.effectiveLimits(guildId).jobsPerUserPerHour;
  const effective: Record<keyof Limits, number | null> = { maxSteps: job.maxSteps, maxPixels: job.maxPixels, maxImagesPerJob: job.maxImagesPerJob, jobsPerUserPerHour: hourly };
  return LIMIT_OPTIONS.map((l) => `**${l.label}**: server ${own[l.key] ?? 'none'} · in effect ${effective[l.key] ?? 'none'}`).join('\n');
}

// ---- AutoMod ----

async function autoModCommand({ interaction, ctx, guildId, actor }: Run): Promise<void> {
  const enabled = interaction.options.getBoolean('enabled', true);
  ctx.moderation.setUseAutoModRules(guildId, enabled, actor);
  if (!enabled) return replyPrivately(interaction, "This server's AutoMod keyword rules no longer apply to prompts.");
  await interaction.deferReply({ flags: 64 });
  const status = await refreshAutoModRules(ctx, guildId);
  await interaction.editReply({ content: clip(`This server's AutoMod keyword rules now apply to prompts.\n${autoModSummary(status)}`, 2000), allowedMentions: NO_PINGS });
}

function autoModSummary(status: AutoModStatus | undefined): string {
  if (!status) return 'Rules not loaded yet.';
  const lines: string[] = [];
  if (status.fetchedAt !== null) lines.push(`${status.rules} rule(s) read ${discordTime(status.fetchedAt, 'R')}: ${status.blockTerms} blocked term(s), ${status.allowTerms} exception(s).`);
  if (status.error) lines.push(`⚠️ ${status.error}`);
  for (const skip of status.skipped.slice(0, 5)) lines.push(`Skipped ${quotePrompt(skip.pattern, 80)} in "${clip(skip.rule, 60)}": ${skip.reason}`);
  if (status.skipped.length > 5) lines.push(`…and ${status.skipped.length - 5} more skipped.`);
  return lines.join('\n');
}

// ---- settings ----

function settingsBody(ctx: BotContext, guildId: string): PrivateBody {
  const s = ctx.moderation.getSettings(guildId);
  const block = ctx.moderation.listTerms(guildId, 'block');
  const allow = ctx.moderation.listTerms(guildId, 'allow');
  const blocked = ctx.moderation.listBlockedUsers(guildId);
  const problems = ctx.moderation.termProblems(guildId);
  const audit = ctx.moderation.listAudit(guildId, 10);
  const sample = (terms: typeof block) => (terms.length === 0 ? 'none' : clip(`${terms.length}: ${terms.slice(0, 15).map((t) => quotePrompt(t.term, 40)).join(', ')}${terms.length > 15 ? ', …' : ''}`, 1024));
  const fields: NonNullable<APIEmbed['fields']> = [
    { name: 'Log channel', value: s.logChannelId ? `<#${s.logChannelId}>` : 'none', inline: true },
    { name: 'NSFW prompts', value: s.nsfw === 'off' ? 'off' : 'age-restricted channels only', inline: true },
    { name: 'Flagged images', value: s.spoilerFlaggedImages ? 'spoilered' : 'withheld', inline: true },
    { name: 'AutoMod rules', value: clip(s.useAutoModRules ? `on\n${autoModSummary(autoModStatus(ctx, guildId))}` : 'off', 1024) },
    { name: 'Limits', value: clip(limitLines(ctx, guildId), 1024) },
    { name: 'Blocklist', value: sample(block), inline: true },
    { name: 'Allowlist', value: sample(allow), inline: true },
    { name: 'Blocked users', value: String(blocked.length), inline: true },
  ];
  if (problems.length > 0) fields.push({ name: 'Term problems', value: clip(problems.map((p) => `${quotePrompt(p.term, 60)} (${p.kind}): ${p.reason}`).join('\n'), 1024) });
  fields.push({ name: 'Recent changes', value: audit.length === 0 ? 'none yet' : clip(audit.map(auditLine).join('\n'), 1024) });
  return { embeds: [{ title: 'Moderation settings', fields, color: 0x5865f2 }] };
}

function auditLine(entry: AuditEntry): string {
  const d = entry.detail;
  let what: string;
  switch (entry.action) {
    case 'term.add':
      what = `added ${quotePrompt(String(d.term), 40)} to the ${String(d.list)}list`;
      break;
    case 'term.remove':
      what = `removed ${quotePrompt(String(d.term), 40)} from the ${String(d.list)}list`;
      break;
    case 'user.block':
      what = `blocked <@${String(d.userId)}>`;
      break;
    case 'user.unblock':
      what = `unblocked <@${String(d.userId)}>`;
      break;
    default:
      what = `set ${Object.entries(d).map(([key, change]) => `${key} → ${JSON.stringify((change as { to?: unknown }).to ?? null)}`).join(', ')}`;
  }
  return clip(`${discordTime(entry.at, 'R')} <@${entry.actorId}> ${what}`, 200);
}

// ---- images ----

async function imageCommand({ interaction, ctx, guildId, actor }: Run, sub: 'whomade' | 'delete' | string): Promise<void> {
  const ref = parseMessageRef(interaction.options.getString('message', true));
  if (!ref) return replyPrivately(interaction, 'Give a message link (right-click the message → Copy Message Link) or a message id.');
  if (ref.guildId && ref.guildId !== guildId) return replyPrivately(interaction, 'That message is in another server.');
  if (sub === 'whomade') {
    const records = recordsInGuild(ctx, guildId, ref.messageId);
    if (records.length === 0) return replyPrivately(interaction, NO_RECORD);
    return replyPrivately(interaction, whoMadeBody(records));
  }
  const outcome = await deleteGeneratedImage(ctx, guildId, ref.messageId, actor);
  if (!outcome.ok) return replyPrivately(interaction, outcome.reason);
  return replyPrivately(interaction, outcome.alreadyGone ? 'The message was already gone; its images are now marked deleted.' : 'Deleted. The record stays, marked deleted by you.');
}
