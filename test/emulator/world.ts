// The fixed world the emulator starts with: one application and its bot user, one guild with roles, members and
// channels (a normal text channel, an age-restricted one, one where the bot may not post), and a few users.
import { Perm } from './permissions.ts';
import type { SnowflakeFactory } from './snowflake.ts';
import type { EmulatorClock } from './clock.ts';
import type { Json } from './types.ts';

export interface WorldOptions {
  /** Permissions of the bot's managed role in the guild (default: a typical image-bot set incl. MANAGE_GUILD). */
  botPermissions?: bigint;
  /** Application flags reported in READY and GET /applications/@me. */
  applicationFlags?: number;
  /** Automod rules of the guild (default: one keyword rule, see README). */
  autoModerationRules?: Json[];
}

export const DEFAULT_BOT_PERMISSIONS =
  Perm.ViewChannel |
  Perm.SendMessages |
  Perm.SendMessagesInThreads |
  Perm.EmbedLinks |
  Perm.AttachFiles |
  Perm.ReadMessageHistory |
  Perm.AddReactions |
  Perm.UseExternalEmojis |
  Perm.ManageGuild;

const EVERYONE_PERMISSIONS =
  Perm.ViewChannel |
  Perm.SendMessages |
  Perm.SendMessagesInThreads |
  Perm.EmbedLinks |
  Perm.AttachFiles |
  Perm.ReadMessageHistory |
  Perm.AddReactions |
  Perm.UseApplicationCommands |
  Perm.UseExternalEmojis |
  Perm.ChangeNickname;

export interface World {
  application: Json;
  botUser: Json;
  /** Named users: `owner` (guild owner), `admin` (has MANAGE_GUILD via the Moderators role), `member` (plain). */
  users: { owner: Json; admin: Json; member: Json };
  guild: Json;
  /** Named channels of the guild. `nsfw` is age-restricted; the bot lacks SEND_MESSAGES in `readonly`. */
  channels: { general: Json; nsfw: Json; readonly: Json };
  roles: { everyone: Json; moderator: Json; bot: Json };
  guilds: Map<string, Json>;
  channelById: Map<string, Json>;
  userById: Map<string, Json>;
  /** guildId -> userId -> member (without guild-specific extras). */
  members: Map<string, Map<string, Json>>;
  autoModerationRules: Map<string, Json[]>;
}

function user(id: string, username: string, globalName: string | null, bot = false): Json {
  return {
    id,
    username,
    discriminator: bot ? '4821' : '0',
    global_name: globalName,
    avatar: null,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
    public_flags: 0,
    flags: 0,
    ...(bot ? { bot: true } : {}),
  };
}

function role(id: string, name: string, permissions: bigint, position: number, extra: Json = {}): Json {
  return {
    id,
    name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: permissions.toString(),
    managed: false,
    mentionable: false,
    flags: 0,
    ...extra,
  };
}

function textChannel(id: string, guildId: string, name: string, position: number, extra: Json = {}): Json {
  return {
    id,
    type: 0,
    guild_id: guildId,
    name,
    position,
    permission_overwrites: [],
    nsfw: false,
    topic: null,
    rate_limit_per_user: 0,
    parent_id: null,
    last_message_id: null,
    last_pin_timestamp: null,
    flags: 0,
    ...extra,
  };
}

export function createWorld(ids: SnowflakeFactory, clock: EmulatorClock, options: WorldOptions = {}): World {
  const applicationId = ids.next();
  const botUser = user(applicationId, 'imagine-bot', 'Imagine', true);
  const users = {
    owner: user(ids.next(), 'guild-owner', 'Guild Owner'),
    admin: user(ids.next(), 'alice-admin', 'Alice'),
    member: user(ids.next(), 'bob-member', 'Bob'),
  };
  const application = {
    id: applicationId,
    name: 'Imagine (emulated)',
    icon: null,
    description: 'Local Stable Diffusion bot',
    summary: '',
    type: null,
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: '0'.repeat(64),
    flags: options.applicationFlags ?? 1 << 19, // GATEWAY_MESSAGE_CONTENT_LIMITED, as for a bot in < 100 guilds
    owner: users.owner,
    team: null,
    bot: botUser,
    approximate_guild_count: 1,
    interactions_endpoint_url: null,
    integration_types_config: { '0': {}, '1': {} },
    tags: [],
  };

  const guildId = ids.next();
  const joinedAt = clock.iso();
  const roles = {
    everyone: role(guildId, '@everyone', EVERYONE_PERMISSIONS, 0),
    moderator: role(ids.next(), 'Moderators', EVERYONE_PERMISSIONS | Perm.ManageGuild | Perm.ManageMessages, 1),
    bot: role(ids.next(), 'Imagine', options.botPermissions ?? DEFAULT_BOT_PERMISSIONS, 2, {
      managed: true,
      tags: { bot_id: applicationId },
    }),
  };
  const channels = {
    general: textChannel(ids.next(), guildId, 'general', 0, { topic: 'Prompts welcome' }),
    nsfw: textChannel(ids.next(), guildId, 'nsfw-art', 1, { nsfw: true }),
    readonly: textChannel(ids.next(), guildId, 'announcements', 2, {
      permission_overwrites: [
        { id: guildId, type: 0, allow: '0', deny: Perm.SendMessages.toString() },
        { id: roles.bot.id, type: 0, allow: '0', deny: Perm.SendMessages.toString() },
      ],
    }),
  };
  const guild: Json = {
    id: guildId,
    name: 'Emulator Guild',
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: users.owner.id,
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    verification_level: 1,
    default_message_notifications: 1,
    explicit_content_filter: 2,
    roles: [roles.everyone, roles.moderator, roles.bot],
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: channels.general.id,
    system_channel_flags: 0,
    rules_channel_id: null,
    public_updates_channel_id: null,
    safety_alerts_channel_id: null,
    max_members: 500000,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    premium_subscription_count: 0,
    preferred_locale: 'en-US',
    nsfw_level: 0,
    nsfw: false,
    premium_progress_bar_enabled: false,
    incidents_data: null,
    joined_at: joinedAt,
  };

  const member = (u: Json, roleIds: string[]): Json => ({
    user: u,
    nick: null,
    avatar: null,
    banner: null,
    roles: roleIds,
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  });
  const guildMembers = new Map<string, Json>([
    [botUser.id, member(botUser, [roles.bot.id])],
    [users.owner.id, member(users.owner, [])],
    [users.admin.id, member(users.admin, [roles.moderator.id])],
    [users.member.id, member(users.member, [])],
  ]);

  const autoModerationRules = options.autoModerationRules ?? [
    {
      id: ids.next(),
      guild_id: guildId,
      name: 'Block banned words',
      creator_id: users.owner.id,
      event_type: 1, // MESSAGE_SEND
      trigger_type: 1, // KEYWORD
      trigger_metadata: { keyword_filter: ['forbiddenword', 'badprompt*'], regex_patterns: ['gr[a4]phic\\s+gore'], allow_list: [] },
      actions: [{ type: 1, metadata: {} }],
      enabled: true,
      exempt_roles: [roles.moderator.id],
      exempt_channels: [],
    },
  ];

  const allUsers = [botUser, users.owner, users.admin, users.member];
  return {
    application,
    botUser,
    users,
    guild,
    channels,
    roles,
    guilds: new Map([[guildId, guild]]),
    channelById: new Map(Object.values(channels).map((c) => [c.id as string, c])),
    userById: new Map(allUsers.map((u) => [u.id as string, u])),
    members: new Map([[guildId, guildMembers]]),
    autoModerationRules: new Map([[guildId, autoModerationRules]]),
  };
}

/** The guild as GET /guilds/:id returns it (no gateway-only fields). */
export function restGuild(guild: Json): Json {
  const { joined_at: _joinedAt, ...rest } = guild;
  return rest;
}

/** The full GUILD_CREATE payload: guild plus members, channels and the gateway-only lists. */
export function guildCreatePayload(world: World, guildId: string): Json {
  const guild = world.guilds.get(guildId)!;
  const members = [...(world.members.get(guildId)?.values() ?? [])];
  const channels = [...world.channelById.values()].filter((c) => c.guild_id === guildId).map(({ guild_id: _g, ...c }) => c);
  return {
    ...guild,
    unavailable: false,
    large: false,
    lazy: true,
    member_count: members.length,
    members,
    channels,
    threads: [],
    presences: [],
    voice_states: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}
