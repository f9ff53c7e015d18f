// The emulator's shared state and the effects every route needs: message events on the gateway, permission checks,
// interaction bookkeeping, registered commands. Routes and the test-facing API both work through this object.
import { AttachmentStore } from './attachments.ts';
import { EmulatorClock } from './clock.ts';
import { Errors } from './errors.ts';
import { Gateway } from './gateway.ts';
import { MessageStore } from './messages.ts';
import { channelPermissions, Perm } from './permissions.ts';
import { FaultInjector, RateLimiter, type RateLimitOptions } from './ratelimit.ts';
import { SnowflakeFactory } from './snowflake.ts';
import { MessageFlags } from './validate.ts';
import { ChangeNotifier } from './waiter.ts';
import { createWorld, type World, type WorldOptions } from './world.ts';
import type { Json, RecordedRequest, UploadedFile } from './types.ts';

export const Intents = { Guilds: 1 << 0, GuildMessages: 1 << 9, DirectMessages: 1 << 12, MessageContent: 1 << 15 } as const;

export interface EmulatorOptions extends WorldOptions {
  /** Bot token the client must present (REST `Bot <token>` and gateway IDENTIFY). */
  token?: string;
  /** Gateway heartbeat interval sent in HELLO (ms, default 41250 as Discord). */
  heartbeatIntervalMs?: number;
  /** Extra latency before every REST answer (ms). */
  latencyMs?: number;
  /** Time the app has to send the initial interaction callback (ms of emulator time, default 3000). */
  callbackDeadlineMs?: number;
  /** Lifetime of interaction tokens for webhook calls (ms of emulator time, default 15 minutes). */
  interactionTokenLifetimeMs?: number;
  /** Per-bucket rate-limit window reported (and enforced) on REST responses. */
  rateLimit?: RateLimitOptions;
  /** attachment_size_limit sent with interactions and enforced on uploads (bytes, default 10 MiB). */
  attachmentSizeLimit?: number;
}

export interface InteractionResponseRecord {
  kind: 'callback' | 'webhook';
  /** Emulator time of the call. */
  at: number;
  /** For the callback: ms between dispatching the interaction and the callback arriving. */
  latencyMs?: number;
  method: string;
  /** Route template, e.g. `/webhooks/:applicationId/:token/messages/:messageId`. */
  route: string;
  /** Callback type (4, 5, 6, 7, 8, 9) for callbacks. */
  type?: number;
  /** The message created/edited/fetched/deleted, resolved from `@original`. */
  messageId?: string;
  body: Json | undefined;
  files: UploadedFile[];
  status: number;
  /** Parsed response body (error bodies included). */
  response?: unknown;
}

export interface InteractionRecord {
  id: string;
  token: string;
  /** Interaction type: 2 command, 3 component, 4 autocomplete, 5 modal submit. */
  type: number;
  payload: Json;
  createdAt: number;
  channelId: string;
  guildId: string | null;
  user: Json;
  acknowledged: { type: number; at: number } | null;
  expired: boolean;
  originalMessageId: string | null;
  followUpIds: string[];
  /** The message a component sat on (component interactions, modal submits opened from one). */
  sourceMessageId: string | null;
  /** The modal sent with callback type 9. */
  modal: Json | null;
  responses: InteractionResponseRecord[];
}

export class Core {
  readonly clock = new EmulatorClock();
  readonly ids = new SnowflakeFactory(this.clock);
  readonly notifier = new ChangeNotifier();
  readonly world: World;
  readonly attachments: AttachmentStore;
  readonly messages: MessageStore;
  readonly gateway: Gateway;
  readonly faults = new FaultInjector();
  readonly rateLimiter: RateLimiter;
  readonly requests: RecordedRequest[] = [];
  readonly interactions = new Map<string, InteractionRecord>();
  readonly interactionsByToken = new Map<string, InteractionRecord>();
  /** Registered commands: key 'global' or a guild id. */
  readonly commands = new Map<string, Json[]>();
  readonly token: string;
  latencyMs: number;
  readonly callbackDeadlineMs: number;
  readonly tokenLifetimeMs: number;
  readonly attachmentSizeLimit: number;
  baseUrl = '';

  constructor(options: EmulatorOptions = {}) {
    this.token = options.token ?? 'emulator-bot-token.NOT-A-REAL-TOKEN';
    this.latencyMs = options.latencyMs ?? 0;
    this.callbackDeadlineMs = options.callbackDeadlineMs ?? 3000;
    this.tokenLifetimeMs = options.interactionTokenLifetimeMs ?? 15 * 60 * 1000;
    this.attachmentSizeLimit = options.attachmentSizeLimit ?? 10 * 1024 * 1024;
    this.world = createWorld(this.ids, this.clock, options);
    this.attachments = new AttachmentStore(this.ids, this.clock, () => this.baseUrl);
    this.messages = new MessageStore(this.ids, this.clock, this.attachments, this.world.userById);
    this.rateLimiter = new RateLimiter(this.clock, options.rateLimit ?? { limit: 50, windowMs: 1000 });
    this.gateway = new Gateway({
      world: this.world,
      clock: this.clock,
      token: this.token,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41250,
      url: () => this.baseUrl.replace(/^http/, 'ws') + '/gateway',
      onChange: () => this.notifier.notify(),
    });
  }

  channel(channelId: string): Json {
    const channel = this.world.channelById.get(channelId);
    if (!channel) throw Errors.unknownChannel();
    return channel;
  }

  member(guildId: string, userId: string): Json | undefined {
    return this.world.members.get(guildId)?.get(userId);
  }

  /** Permissions of a user in a channel (guild channels only; DMs get everything a DM allows). */
  permissionsIn(channel: Json, userId: string): bigint {
    if (!channel.guild_id) return DM_PERMISSIONS;
    const member = this.member(channel.guild_id, userId);
    if (!member) return 0n;
    return channelPermissions(this.world.guilds.get(channel.guild_id)!, member, channel);
  }

  requireBotPermissions(channel: Json, ...bits: bigint[]): void {
    const permissions = this.permissionsIn(channel, this.world.botUser.id);
    if (!bits.every((bit) => (permissions & bit) === bit)) {
      throw (permissions & Perm.ViewChannel) === 0n ? Errors.missingAccess() : Errors.missingPermissions();
    }
  }

  /** Gateway form of a message: REST form plus guild_id and the author's partial member. */
  private gatewayMessage(message: Json): Json {
    const channel = this.world.channelById.get(message.channel_id);
    const guildId = channel?.guild_id;
    if (!guildId) return message;
    const member = this.member(guildId, message.author.id);
    const out: Json = { ...message, guild_id: guildId };
    if (member && !message.webhook_id) {
      const { user: _user, ...partial } = member;
      out.member = partial;
    }
    out.mentions = (message.mentions as Json[]).map((user) => {
      const mentioned = this.member(guildId, user.id);
      if (!mentioned) return user;
      const { user: _u, ...partial } = mentioned;
      return { ...user, member: partial };
    });
    return out;
  }

  private messageIntent(message: Json): number {
    return this.world.channelById.get(message.channel_id)?.guild_id ? Intents.GuildMessages : Intents.DirectMessages;
  }

  /** Without the MessageContent intent Discord blanks content of messages that neither mention nor come from the bot. */
  private contentGate = (d: Json, session: { intents: number }): Json => {
    if (session.intents & Intents.MessageContent) return d;
    const botId = this.world.botUser.id;
    const isDm = !this.world.channelById.get(d.channel_id)?.guild_id;
    if (isDm || d.author?.id === botId || (d.mentions as Json[] | undefined)?.some((u) => u.id === botId)) return d;
    return { ...d, content: '', embeds: [], attachments: [], components: [], poll: undefined };
  };

  dispatchMessageCreate(message: Json): void {
    if (message.flags & MessageFlags.Ephemeral) return;
    const channel = this.world.channelById.get(message.channel_id);
    if (channel) channel.last_message_id = message.id;
    this.gateway.dispatch('MESSAGE_CREATE', this.gatewayMessage(message), { intent: this.messageIntent(message), transform: this.contentGate });
  }

  dispatchMessageUpdate(message: Json): void {
    if (message.flags & MessageFlags.Ephemeral) return;
    this.gateway.dispatch('MESSAGE_UPDATE', this.gatewayMessage(message), { intent: this.messageIntent(message), transform: this.contentGate });
  }

  dispatchMessageDelete(message: Json): void {
    if (message.flags & MessageFlags.Ephemeral) return;
    const guildId = this.world.channelById.get(message.channel_id)?.guild_id;
    this.gateway.dispatch('MESSAGE_DELETE', { id: message.id, channel_id: message.channel_id, ...(guildId ? { guild_id: guildId } : {}) }, { intent: this.messageIntent(message) });
  }

  /** Rejects uploads over the attachment size limit the way Discord does (413, 40005). */
  checkUploadSize(files: UploadedFile[]): void {
    if (files.some((file) => file.bytes.length > this.attachmentSizeLimit)) throw Errors.entityTooLarge();
  }

  isTokenExpired(record: InteractionRecord): boolean {
    return record.expired || this.clock.now() - record.createdAt > this.tokenLifetimeMs;
  }

  registerInteraction(record: InteractionRecord): void {
    this.interactions.set(record.id, record);
    this.interactionsByToken.set(record.token, record);
  }

  /** Looks up a registered command by type and name, guild commands first. */
  findCommand(name: string, type: number, guildId: string | null): Json | undefined {
    const scopes = guildId ? [guildId, 'global'] : ['global'];
    for (const scope of scopes) {
      const found = this.commands.get(scope)?.find((c) => c.name === name && (c.type ?? 1) === type);
      if (found) return found;
    }
    return undefined;
  }
}

/** What a bot may do in a DM channel. */
const DM_PERMISSIONS =
  Perm.AddReactions | Perm.ViewChannel | Perm.SendMessages | Perm.EmbedLinks | Perm.AttachFiles | Perm.ReadMessageHistory | Perm.UseExternalEmojis | Perm.UseApplicationCommands;
