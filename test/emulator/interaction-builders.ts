// Builds realistic INTERACTION_CREATE payloads (slash commands, components, modal submits, message context menus)
// from registered commands and stored messages, and registers them so callbacks and webhooks can find them.
import { randomBytes } from 'node:crypto';
import type { Core, InteractionRecord } from './core.ts';
import { dmChannelFor } from './routes-core.ts';
import { InteractionType } from './routes-interactions.ts';
import type { Json } from './types.ts';

export type UserRef = Json | string;
export type MessageRef = Json | string;

export interface InteractionContext {
  user: Json;
  /** null for a DM with the bot. */
  guildId: string | null;
  channelId: string;
  locale?: string;
}

export function resolveUser(core: Core, ref: UserRef | undefined): Json {
  if (ref === undefined) return core.world.users.member;
  const id = typeof ref === 'string' ? ref : ref.id;
  const user = core.world.userById.get(id);
  if (!user) throw new Error(`Emulator: unknown user ${id}; use emulator.users.* or emulator.addUser()`);
  return user;
}

export function resolveMessage(core: Core, ref: MessageRef): Json {
  const id = typeof ref === 'string' ? ref : ref.id;
  const message = core.messages.get(id);
  if (!message) throw new Error(`Emulator: message ${id} does not exist (deleted, or never sent through the emulator)`);
  return message;
}

function interactionToken(id: string): string {
  // Same shape as Discord's: "aW50ZXJhY3Rpb246" (base64 "interaction:") + id + random tail, well over 100 chars.
  return `${Buffer.from(`interaction:${id}:`).toString('base64url')}${randomBytes(72).toString('base64url')}`;
}

/** Common interaction fields: who, where, permissions, locale, token. Registers the interaction. */
export function createInteraction(core: Core, type: number, data: Json, context: InteractionContext, extra: Json = {}): InteractionRecord {
  const { world } = core;
  const id = core.ids.next();
  const token = interactionToken(id);
  const locale = context.locale ?? 'en-US';
  const payload: Json = {
    id,
    application_id: world.application.id,
    type,
    data,
    token,
    version: 1,
    locale,
    entitlements: [],
    attachment_size_limit: core.attachmentSizeLimit,
    ...extra,
  };
  if (context.guildId) {
    const guild = world.guilds.get(context.guildId);
    if (!guild) throw new Error(`Emulator: unknown guild ${context.guildId}`);
    const channel = core.channel(context.channelId);
    if (channel.guild_id !== guild.id) throw new Error(`Emulator: channel ${channel.id} is not in guild ${guild.id}`);
    const member = core.member(guild.id, context.user.id);
    if (!member) throw new Error(`Emulator: user ${context.user.username} is not a member of guild ${guild.id}`);
    const userPermissions = core.permissionsIn(channel, context.user.id);
    Object.assign(payload, {
      guild_id: guild.id,
      guild: { id: guild.id, locale: guild.preferred_locale, features: guild.features },
      guild_locale: guild.preferred_locale,
      channel_id: channel.id,
      channel: { ...channel, permissions: userPermissions.toString() },
      member: { ...member, permissions: userPermissions.toString() },
      app_permissions: core.permissionsIn(channel, world.botUser.id).toString(),
      authorizing_integration_owners: { '0': guild.id },
      context: 0,
    });
  } else {
    const channel = dmChannelFor(core, context.user);
    Object.assign(payload, {
      channel_id: channel.id,
      channel,
      user: context.user,
      app_permissions: core.permissionsIn(channel, world.botUser.id).toString(),
      authorizing_integration_owners: { '0': '0' },
      context: 1,
    });
  }
  const record: InteractionRecord = {
    id,
    token,
    type,
    payload,
    createdAt: core.clock.now(),
    channelId: payload.channel_id,
    guildId: context.guildId,
    user: context.user,
    acknowledged: null,
    expired: false,
    originalMessageId: null,
    followUpIds: [],
    sourceMessageId: null,
    modal: null,
    responses: [],
  };
  core.registerInteraction(record);
  return record;
}

// ---- slash commands -------------------------------------------------------------------------------------------

const OptionType = { SubCommand: 1, SubCommandGroup: 2, String: 3, Integer: 4, Boolean: 5, User: 6, Channel: 7, Role: 8, Mentionable: 9, Number: 10, Attachment: 11 } as const;

/** Turns `{ prompt: 'a cat', steps: 20 }` into typed options using the registered definition, filling `resolved`. */
export function buildCommandOptions(core: Core, definitions: Json[] | undefined, values: Record<string, unknown>, resolved: Json, guildId: string | null, path: string): Json[] {
  const defs = definitions ?? [];
  for (const name of Object.keys(values)) {
    if (!defs.some((d) => d.name === name)) throw new Error(`Emulator: /${path} has no option "${name}" (registered: ${defs.map((d) => d.name).join(', ') || 'none'})`);
  }
  const options: Json[] = [];
  for (const def of defs) {
    const value = values[def.name];
    if (value === undefined) {
      if (def.required) throw new Error(`Emulator: /${path} needs required option "${def.name}"`);
      continue;
    }
    options.push({ name: def.name, type: def.type, value: optionValue(core, def, value, resolved, guildId, path) });
  }
  return options;
}

function optionValue(core: Core, def: Json, value: unknown, resolved: Json, guildId: string | null, path: string): unknown {
  const fail = (why: string) => new Error(`Emulator: option "${def.name}" of /${path}: ${why}`);
  const put = (kind: string, id: string, object: Json) => {
    resolved[kind] ??= {};
    resolved[kind][id] = object;
  };
  switch (def.type) {
    case OptionType.String:
      if (typeof value !== 'string') throw fail('must be a string');
      if (def.min_length !== undefined && value.length < def.min_length) throw fail(`shorter than min_length ${def.min_length}`);
      if (def.max_length !== undefined && value.length > def.max_length) throw fail(`longer than max_length ${def.max_length}`);
      break;
    case OptionType.Integer:
    case OptionType.Number:
      if (typeof value !== 'number' || (def.type === OptionType.Integer && !Number.isInteger(value))) throw fail('must be a number (integer for INTEGER options)');
      if (def.min_value !== undefined && value < def.min_value) throw fail(`below min_value ${def.min_value}`);
      if (def.max_value !== undefined && value > def.max_value) throw fail(`above max_value ${def.max_value}`);
      break;
    case OptionType.Boolean:
      if (typeof value !== 'boolean') throw fail('must be a boolean');
      break;
    case OptionType.Attachment: {
      const id = typeof value === 'string' ? value : (value as Json).id;
      const stored = core.attachments.get(id);
      if (!stored) throw fail('pass an attachment from emulator.addAttachment()');
      put('attachments', id, { ...stored.attachment, ephemeral: true });
      return id;
    }
    case OptionType.User:
    case OptionType.Mentionable: {
      const user = resolveUser(core, value as UserRef);
      put('users', user.id, user);
      const member = guildId ? core.member(guildId, user.id) : undefined;
      if (member) {
        const { user: _u, ...partial } = member;
        put('members', user.id, { ...partial, permissions: '0' });
      }
      return user.id;
    }
    case OptionType.Channel: {
      const channel = core.channel(typeof value === 'string' ? value : (value as Json).id);
      put('channels', channel.id, { id: channel.id, name: channel.name, type: channel.type, permissions: '0', nsfw: channel.nsfw ?? false, parent_id: channel.parent_id ?? null });
      return channel.id;
    }
    case OptionType.Role: {
      const roleId = typeof value === 'string' ? value : (value as Json).id;
      const role = guildId ? (core.world.guilds.get(guildId)!.roles as Json[]).find((r) => r.id === roleId) : undefined;
      if (!role) throw fail(`unknown role ${roleId}`);
      put('roles', role.id, role);
      return role.id;
    }
    default:
      throw fail(`option type ${def.type} is not emulated`);
  }
  if (Array.isArray(def.choices) && def.choices.length > 0 && !def.choices.some((c: Json) => c.value === value)) {
    throw fail(`${JSON.stringify(value)} is not one of the choices`);
  }
  return value;
}

// ---- components and modals ------------------------------------------------------------------------------------

/** Depth-first search for a component with the given custom_id (rows, sections' accessories, containers). */
export function findComponent(components: unknown, customId: string): Json | undefined {
  if (!Array.isArray(components)) return undefined;
  for (const component of components as Json[]) {
    if (component.custom_id === customId) return component;
    const nested = findComponent(component.components, customId) ?? findComponent(component.accessory ? [component.accessory] : [], customId);
    if (nested) return nested;
  }
  return undefined;
}

/** Lists custom_ids in a component tree, for error messages. */
export function customIds(components: unknown): string[] {
  if (!Array.isArray(components)) return [];
  return (components as Json[]).flatMap((c) => [
    ...(typeof c.custom_id === 'string' ? [c.custom_id] : []),
    ...customIds(c.components),
    ...customIds(c.accessory ? [c.accessory] : []),
    ...customIds(c.component ? [c.component] : []),
  ]);
}

/** Mirrors the shown modal's layout (action rows or labels) with the user's values, as the Discord client does. */
export function modalSubmitComponents(modal: Json, fields: Record<string, string | string[]>): Json[] {
  const used = new Set<string>();
  let nextId = 1;
  const submitted = (component: Json): Json => {
    const id = component.id ?? nextId++;
    if (component.type === 4) {
      const value = fields[component.custom_id];
      if (Array.isArray(value)) throw new Error(`Emulator: text input "${component.custom_id}" takes a string`);
      const text = value ?? component.value ?? '';
      const required = component.required ?? true;
      if (required && text.length === 0) throw new Error(`Emulator: modal field "${component.custom_id}" is required`);
      if (text.length > 0 && component.min_length !== undefined && text.length < component.min_length) throw new Error(`Emulator: modal field "${component.custom_id}" is shorter than ${component.min_length}`);
      if (component.max_length !== undefined && text.length > component.max_length) throw new Error(`Emulator: modal field "${component.custom_id}" is longer than ${component.max_length}`);
      used.add(component.custom_id);
      return { type: 4, id, custom_id: component.custom_id, value: text };
    }
    if (component.type === 3) {
      const value = fields[component.custom_id];
      const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
      const allowed = new Set((component.options as Json[] | undefined)?.map((o) => o.value));
      for (const v of values) if (!allowed.has(v)) throw new Error(`Emulator: "${v}" is not an option of select "${component.custom_id}"`);
      used.add(component.custom_id);
      return { type: 3, id, custom_id: component.custom_id, values };
    }
    if (component.type === 1) return { type: 1, id, components: (component.components as Json[]).map(submitted) };
    if (component.type === 18) return { type: 18, id, component: submitted(component.component) };
    return { type: component.type, id };
  };
  const components = (modal.components as Json[]).map(submitted);
  for (const key of Object.keys(fields)) {
    if (!used.has(key)) throw new Error(`Emulator: modal "${modal.custom_id}" has no field "${key}" (has: ${customIds(modal.components).join(', ')})`);
  }
  return components;
}

export { InteractionType, OptionType };
