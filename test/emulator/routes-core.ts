// REST routes outside interactions: gateway discovery, users, application, application commands, guilds,
// channels and channel messages.
import { ApiError, Errors, invalidFormBody } from './errors.ts';
import type { Core } from './core.ts';
import { basePermissions, Perm } from './permissions.ts';
import type { RouteRequest, Router } from './router.ts';
import { isEmptyMessage, validateCommands, validateMessagePayload } from './validate.ts';
import { restGuild } from './world.ts';
import type { Json } from './types.ts';

const ok = (body: unknown) => ({ status: 200, body });
const noContent = () => ({ status: 204 });

export function registerCoreRoutes(router: Router, core: Core): void {
  const { world } = core;
  const requireApplication = (request: RouteRequest) => {
    if (request.params.applicationId !== world.application.id) throw Errors.unknownApplication();
  };
  const requireGuild = (guildId: string) => {
    const guild = world.guilds.get(guildId);
    if (!guild) throw Errors.unknownGuild();
    return guild;
  };

  router.add('GET', '/gateway', () => ok({ url: core.baseUrl.replace(/^http/, 'ws') + '/gateway' }), { auth: false });
  router.add('GET', '/gateway/bot', () =>
    ok({
      url: core.baseUrl.replace(/^http/, 'ws') + '/gateway',
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    }),
  );

  router.add('GET', '/users/@me', () => ok({ ...world.botUser, verified: true, mfa_enabled: true, locale: 'en-US', email: null }));
  router.add('GET', '/users/:userId', (request) => {
    const user = world.userById.get(request.params.userId!);
    if (!user) throw Errors.unknownUser();
    return ok(user);
  });
  router.add('POST', '/users/@me/channels', (request) => {
    const recipient = world.userById.get(String(request.body?.recipient_id));
    if (!recipient) throw invalidFormBody([{ path: ['recipient_id'], code: 'NUMBER_TYPE_COERCE', message: `Value "${request.body?.recipient_id}" is not snowflake.` }]);
    return ok(dmChannelFor(core, recipient));
  });

  router.add('GET', '/applications/@me', () => ok(world.application));

  // Application commands, global ('global') and per guild: bulk overwrite keeps ids of commands that survive.
  const commandRoutes = (base: string, scopeOf: (request: RouteRequest) => string) => {
    router.add('GET', base, (request) => {
      requireApplication(request);
      return ok(core.commands.get(scopeOf(request)) ?? []);
    });
    router.add('PUT', base, (request) => {
      requireApplication(request);
      const scope = scopeOf(request);
      const input = request.bodyArray;
      const errors = validateCommands(input);
      if (errors.length > 0) throw invalidFormBody(errors);
      const previous = core.commands.get(scope) ?? [];
      const next = (input as Json[]).map((command) => normalizeCommand(core, command, scope, previous));
      core.commands.set(scope, next);
      return ok(next);
    });
    router.add('POST', base, (request) => {
      requireApplication(request);
      const scope = scopeOf(request);
      const errors = validateCommands([request.body]);
      if (errors.length > 0) throw invalidFormBody(errors.map((e) => ({ ...e, path: e.path.slice(1) })));
      const previous = core.commands.get(scope) ?? [];
      const command = normalizeCommand(core, request.body!, scope, previous);
      const existed = previous.some((c) => c.id === command.id);
      core.commands.set(scope, [...previous.filter((c) => c.id !== command.id), command]);
      return { status: existed ? 200 : 201, body: command };
    });
    router.add('GET', `${base}/:commandId`, (request) => {
      requireApplication(request);
      const command = core.commands.get(scopeOf(request))?.find((c) => c.id === request.params.commandId);
      if (!command) throw Errors.unknownCommand();
      return ok(command);
    });
    router.add('DELETE', `${base}/:commandId`, (request) => {
      requireApplication(request);
      const scope = scopeOf(request);
      const list = core.commands.get(scope) ?? [];
      if (!list.some((c) => c.id === request.params.commandId)) throw Errors.unknownCommand();
      core.commands.set(scope, list.filter((c) => c.id !== request.params.commandId));
      return noContent();
    });
  };
  commandRoutes('/applications/:applicationId/commands', () => 'global');
  commandRoutes('/applications/:applicationId/guilds/:guildId/commands', (request) => {
    requireGuild(request.params.guildId!);
    return request.params.guildId!;
  });

  router.add('GET', '/guilds/:guildId', (request) => ok(restGuild(requireGuild(request.params.guildId!))));
  router.add('GET', '/guilds/:guildId/channels', (request) => {
    requireGuild(request.params.guildId!);
    return ok([...world.channelById.values()].filter((c) => c.guild_id === request.params.guildId));
  });
  router.add('GET', '/guilds/:guildId/roles', (request) => ok(requireGuild(request.params.guildId!).roles));
  router.add('GET', '/guilds/:guildId/members/:userId', (request) => {
    requireGuild(request.params.guildId!);
    const member = core.member(request.params.guildId!, request.params.userId!);
    if (!member) throw Errors.unknownMember();
    return ok(member);
  });
  const autoModeration = (request: RouteRequest): Json[] => {
    const guildId = request.params.guildId!;
    const guild = requireGuild(guildId);
    const botMember = core.member(guildId, world.botUser.id)!;
    if ((basePermissions(guild, botMember) & Perm.ManageGuild) === 0n) throw Errors.missingPermissions();
    return core.world.autoModerationRules.get(guildId) ?? [];
  };
  router.add('GET', '/guilds/:guildId/auto-moderation/rules', (request) => ok(autoModeration(request)));
  router.add('GET', '/guilds/:guildId/auto-moderation/rules/:ruleId', (request) => {
    const rule = autoModeration(request).find((r) => r.id === request.params.ruleId);
    if (!rule) throw new ApiError(404, { message: 'Unknown Auto Moderation Rule', code: 10066 });
    return ok(rule);
  });

  router.add('GET', '/channels/:channelId', (request) => {
    const channel = core.channel(request.params.channelId!);
    core.requireBotPermissions(channel, Perm.ViewChannel);
    return ok(channel);
  });
  router.add('POST', '/channels/:channelId/typing', (request) => {
    core.requireBotPermissions(core.channel(request.params.channelId!), Perm.ViewChannel, Perm.SendMessages);
    return noContent();
  });

  router.add('GET', '/channels/:channelId/messages', (request) => {
    const channel = core.channel(request.params.channelId!);
    core.requireBotPermissions(channel, Perm.ViewChannel, Perm.ReadMessageHistory);
    const limit = Math.min(100, Math.max(1, Number(request.query.get('limit') ?? 50)));
    const before = request.query.get('before');
    const after = request.query.get('after');
    let list = core.messages.list(channel.id).filter((m) => !(m.flags & 64));
    if (before) list = list.filter((m) => BigInt(m.id) < BigInt(before));
    if (after) list = list.filter((m) => BigInt(m.id) > BigInt(after));
    // Newest first, as Discord returns them.
    return ok((after ? list.slice(0, limit) : list.slice(-limit)).reverse());
  });
  router.add('GET', '/channels/:channelId/messages/:messageId', (request) => {
    const channel = core.channel(request.params.channelId!);
    core.requireBotPermissions(channel, Perm.ViewChannel, Perm.ReadMessageHistory);
    return ok(channelMessage(core, channel.id, request.params.messageId!));
  });
  router.add('POST', '/channels/:channelId/messages', async (request) => {
    const channel = core.channel(request.params.channelId!);
    core.requireBotPermissions(channel, Perm.ViewChannel, Perm.SendMessages);
    if (request.files.length > 0) core.requireBotPermissions(channel, Perm.AttachFiles);
    const payload = request.body ?? {};
    const errors = validateMessagePayload(payload, { fileCount: request.files.length });
    if (errors.length > 0) throw invalidFormBody(errors);
    if (isEmptyMessage(payload, request.files.length)) throw Errors.emptyMessage();
    core.checkUploadSize(request.files);
    const extra: Json = {};
    let type = 0;
    if (payload.message_reference) {
      const ref = payload.message_reference as Json;
      const referenced = core.messages.get(String(ref.message_id));
      if (referenced && referenced.channel_id === (ref.channel_id ?? channel.id)) {
        type = ref.type === 1 ? 0 : 19;
        extra.message_reference = { type: ref.type ?? 0, message_id: referenced.id, channel_id: referenced.channel_id, ...(channel.guild_id ? { guild_id: channel.guild_id } : {}) };
        extra.referenced_message = structuredClone(referenced);
      } else if (ref.fail_if_not_exists !== false) {
        throw invalidFormBody([{ path: ['message_reference'], code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' }]);
      }
    }
    const message = await core.messages.create({ channelId: channel.id, author: world.botUser, payload, files: request.files, type, extra });
    core.dispatchMessageCreate(message);
    return ok(message);
  });
  router.add('PATCH', '/channels/:channelId/messages/:messageId', async (request) => {
    const channel = core.channel(request.params.channelId!);
    const message = channelMessage(core, channel.id, request.params.messageId!);
    if (message.author.id !== world.botUser.id) throw Errors.editOthersMessage();
    const payload = request.body ?? {};
    const errors = validateMessagePayload(payload, { fileCount: request.files.length });
    if (errors.length > 0) throw invalidFormBody(errors);
    core.checkUploadSize(request.files);
    await core.messages.edit(message, payload, request.files);
    core.dispatchMessageUpdate(message);
    return ok(message);
  });
  router.add('DELETE', '/channels/:channelId/messages/:messageId', (request) => {
    const channel = core.channel(request.params.channelId!);
    const message = channelMessage(core, channel.id, request.params.messageId!);
    if (message.author.id !== world.botUser.id) core.requireBotPermissions(channel, Perm.ManageMessages);
    core.messages.delete(message.id);
    core.dispatchMessageDelete(message);
    return noContent();
  });
}

function channelMessage(core: Core, channelId: string, messageId: string): Json {
  const message = core.messages.get(messageId);
  // Ephemeral messages only exist for their interaction's webhook.
  if (!message || message.channel_id !== channelId || message.flags & 64) throw Errors.unknownMessage();
  return message;
}

/** Normalises a command the way Discord echoes it back: id, version, defaults. Keeps the id of a same-named command. */
function normalizeCommand(core: Core, command: Json, scope: string, previous: Json[]): Json {
  const type = command.type ?? 1;
  const existing = previous.find((c) => c.name === command.name && c.type === type);
  return {
    id: existing?.id ?? core.ids.next(),
    application_id: core.world.application.id,
    version: core.ids.next(),
    default_member_permissions: command.default_member_permissions ?? null,
    type,
    name: command.name,
    name_localizations: command.name_localizations ?? null,
    description: command.description ?? '',
    description_localizations: command.description_localizations ?? null,
    ...(scope === 'global' ? {} : { guild_id: scope }),
    dm_permission: command.dm_permission ?? true,
    contexts: command.contexts ?? null,
    integration_types: command.integration_types ?? [0],
    nsfw: command.nsfw ?? false,
    ...(command.options ? { options: command.options } : {}),
  };
}

/** The DM channel between the bot and a user, created on first use. */
export function dmChannelFor(core: Core, recipient: Json): Json {
  const existing = [...core.world.channelById.values()].find((c) => c.type === 1 && c.recipients?.[0]?.id === recipient.id);
  if (existing) return existing;
  const channel = { id: core.ids.next(), type: 1, last_message_id: null, flags: 0, recipients: [recipient] };
  core.world.channelById.set(channel.id, channel);
  return channel;
}
