// Local Discord API emulator for end-to-end tests: REST v10 over HTTP, the v10 gateway over WebSocket, a CDN for
// attachments, and a test-facing API to play users (slash commands, buttons, modals, messages) and inspect what the
// bot did. Start it with startDiscordEmulator(), hand `apiUrl` to discord.js as `rest: { api }`. See README.md.
import { Core, type EmulatorOptions, type InteractionRecord, type InteractionResponseRecord } from './core.ts';
import type { DisconnectOptions, GatewayLogEntry, GatewaySession } from './gateway.ts';
import {
  buildCommandOptions,
  createInteraction,
  customIds,
  findComponent,
  InteractionType,
  modalSubmitComponents,
  resolveMessage,
  resolveUser,
  type MessageRef,
  type UserRef,
} from './interaction-builders.ts';
import type { ActiveFault, FaultSpec } from './ratelimit.ts';
import { EmulatorServer } from './server.ts';
import { Perm } from './permissions.ts';
import type { Json, RecordedRequest, UploadedFile } from './types.ts';

export type { EmulatorOptions, InteractionResponseRecord, RecordedRequest, UploadedFile, Json, FaultSpec, ActiveFault, DisconnectOptions, GatewayLogEntry };

export interface SlashCommandInput {
  /** Command name; `'settings show'` / `'admin models list'` address subcommands (and groups). */
  name: string;
  /** Option values by name (typed from the registered definition), or a raw APIApplicationCommandInteractionDataOption[]. */
  options?: Record<string, unknown> | Json[];
  /** Attachment option values by option name (objects from addAttachment). Merged into `options`. */
  attachments?: Record<string, Json>;
  user?: UserRef;
  /** Guild to run in (default: the emulator's guild); null for a DM with the bot. */
  guildId?: string | null;
  /** Channel (default: #general, or the DM channel when guildId is null). */
  channelId?: string;
  locale?: string;
}

export interface AutocompleteInput extends Omit<SlashCommandInput, 'attachments' | 'options'> {
  options?: Record<string, unknown>;
  /** The option being typed into; its current text is options[focused] (default ''). */
  focused: string;
}

export interface ComponentInput {
  message: MessageRef;
  customId: string;
  user?: UserRef;
  locale?: string;
}

export interface SubmitModalInput {
  customId: string;
  /** Values by text-input (or select) custom_id. Omitted optional fields are submitted empty. */
  fields: Record<string, string | string[]>;
  /** Who submits (default: the user the modal was shown to; must be that user). */
  user?: UserRef;
  locale?: string;
}

export interface MessageContextMenuInput {
  name: string;
  targetMessage: MessageRef;
  user?: UserRef;
  locale?: string;
}

export interface UserMessageInput {
  channelId: string;
  author?: UserRef;
  content?: string;
  /** Attachments from addAttachment(). */
  attachments?: Json[];
  /** Prefix the content with the bot's mention (unless it already mentions it). */
  mentionsBot?: boolean;
  /** Message being replied to (object or id). */
  replyTo?: MessageRef;
  /** Whether the reply pings the replied-to author (Discord's default: yes). */
  replyPing?: boolean;
}

export interface AddAttachmentOptions {
  /** Channel in the CDN path (default #general). */
  channelId?: string;
  description?: string;
}

export interface AddUserInput {
  username: string;
  globalName?: string;
  /** Role ids for the guild member (e.g. emulator.roles.moderator.id). */
  roles?: string[];
  /** Whether the user is a member of the guild (default true). */
  member?: boolean;
}

/** What tests hold after triggering an interaction: the payload plus everything the bot answered, in order. */
export class InteractionHandle {
  constructor(
    private readonly core: Core,
    private readonly record: InteractionRecord,
  ) {}

  get id(): string {
    return this.record.id;
  }
  get token(): string {
    return this.record.token;
  }
  /** The INTERACTION_CREATE payload that was dispatched. */
  get payload(): Json {
    return this.record.payload;
  }
  /** The callback and every webhook call for this token, in arrival order (failed calls included, with status). */
  get responses(): readonly InteractionResponseRecord[] {
    return this.record.responses;
  }
  /** The modal the bot answered with (callback type 9), if any. */
  get modal(): Json | null {
    return this.record.modal;
  }

  /** Resolves with the first callback (its `at` and `latencyMs` say when it arrived). */
  deferred(timeoutMs = 5000): Promise<InteractionResponseRecord> {
    return this.waitFor((r) => r.kind === 'callback', timeoutMs, 'the interaction callback');
  }

  /** Resolves with the first response (existing or future) matching the predicate. */
  waitFor(predicate: (response: InteractionResponseRecord) => boolean, timeoutMs = 5000, description = 'a matching interaction response'): Promise<InteractionResponseRecord> {
    return this.core.notifier.waitFor(() => this.record.responses.find(predicate), timeoutMs, `${description} (interaction ${this.record.id})`);
  }

  /** Current state of the original response message (after edits), or undefined. */
  original(): Json | undefined {
    const id = this.record.originalMessageId;
    const message = id ? this.core.messages.get(id) : undefined;
    return message ? structuredClone(message) : undefined;
  }

  /** Current state of the follow-up messages that still exist. */
  followUps(): Json[] {
    return this.record.followUpIds.map((id) => this.core.messages.get(id)).filter((m): m is Json => m !== undefined).map((m) => structuredClone(m));
  }
}

export class DiscordEmulator {
  /** Base of everything, e.g. http://127.0.0.1:43210. */
  readonly url: string;
  /** Give this to discord.js as `rest: { api: apiUrl }` (it appends /v10). */
  readonly apiUrl: string;
  readonly gatewayUrl: string;

  constructor(
    private readonly core: Core,
    private readonly server: EmulatorServer,
    url: string,
  ) {
    this.url = url;
    this.apiUrl = `${url}/api`;
    this.gatewayUrl = `${url.replace(/^http/, 'ws')}/gateway`;
  }

  get token(): string {
    return this.core.token;
  }
  get application(): Json {
    return this.core.world.application;
  }
  get botUser(): Json {
    return this.core.world.botUser;
  }
  /** owner (guild owner), admin (MANAGE_GUILD via Moderators), member (no MANAGE_GUILD). */
  get users(): { owner: Json; admin: Json; member: Json } {
    return this.core.world.users;
  }
  get guild(): Json {
    return this.core.world.guild;
  }
  /** general (text), nsfw (age-restricted text), readonly (bot lacks SEND_MESSAGES). */
  get channels(): { general: Json; nsfw: Json; readonly: Json } {
    return this.core.world.channels;
  }
  get roles(): { everyone: Json; moderator: Json; bot: Json } {
    return this.core.world.roles;
  }
  /** Every REST request, in order (Authorization header removed). */
  get requests(): readonly RecordedRequest[] {
    return this.core.requests;
  }
  get faults() {
    return this.core.faults;
  }
  get gatewayLog(): readonly GatewayLogEntry[] {
    return this.core.gateway.log;
  }
  get gatewayStats(): { identifies: number; resumes: number; heartbeats: number; session: Pick<GatewaySession, 'id' | 'seq' | 'intents' | 'identify'> | null; connected: boolean } {
    const session = this.core.gateway.session;
    return {
      identifies: this.core.gateway.identifyCount,
      resumes: this.core.gateway.resumeCount,
      heartbeats: this.core.gateway.heartbeatCount,
      session: session ? { id: session.id, seq: session.seq, intents: session.intents, identify: session.identify } : null,
      connected: Boolean(session?.socket),
    };
  }

  /** Requests that matched no emulated route (answered 404). A passing test should usually have none. */
  unknownRequests(): RecordedRequest[] {
    return this.core.requests.filter((r) => r.route === null);
  }

  setLatency(ms: number): void {
    this.core.latencyMs = ms;
  }

  /** Current messages of a channel, oldest first, edits applied (ephemeral ones included; check flags & 64). */
  messages(channelId: string): Json[] {
    return structuredClone(this.core.messages.list(channelId));
  }

  message(id: string): Json | undefined {
    const message = this.core.messages.get(id);
    return message ? structuredClone(message) : undefined;
  }

  /** Registered application commands: global without an argument, else that guild's. */
  commands(guildId?: string): Json[] {
    return structuredClone(this.core.commands.get(guildId ?? 'global') ?? []);
  }

  /** Bytes behind an attachment (object, id or URL) — uploads by the bot and by tests alike. */
  attachmentBytes(attachment: Json | string): Buffer {
    const ref = typeof attachment === 'string' ? attachment : attachment.id;
    const id = /\/attachments\/\d+\/(\d+)\//.exec(ref)?.[1] ?? ref;
    const stored = this.core.attachments.get(id);
    if (!stored) throw new Error(`Emulator: no attachment ${ref}`);
    return stored.bytes;
  }

  /** Registers bytes on the CDN and returns the attachment object (id, url, proxy_url, size, width/height, ...). */
  async addAttachment(bytes: Buffer | Uint8Array, filename: string, contentType: string, options: AddAttachmentOptions = {}): Promise<Json> {
    const extra = options.description ? { description: options.description } : {};
    const attachment = await this.core.attachments.create(Buffer.from(bytes), filename, contentType, options.channelId ?? this.channels.general.id, extra);
    return structuredClone(attachment);
  }

  addUser(input: AddUserInput): Json {
    const { world, ids, clock } = this.core;
    const user: Json = { id: ids.next(), username: input.username, discriminator: '0', global_name: input.globalName ?? null, avatar: null, banner: null, accent_color: null, avatar_decoration_data: null, public_flags: 0, flags: 0 };
    world.userById.set(user.id, user);
    if (input.member ?? true) {
      world.members.get(world.guild.id)!.set(user.id, {
        user,
        nick: null,
        avatar: null,
        banner: null,
        roles: input.roles ?? [],
        joined_at: clock.iso(),
        premium_since: null,
        deaf: false,
        mute: false,
        flags: 0,
        pending: false,
        communication_disabled_until: null,
      });
    }
    return user;
  }

  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 5000, description = 'a condition'): Promise<T> {
    return this.core.notifier.waitFor(probe, timeoutMs, description);
  }

  /** Resolves once a gateway session is identified (READY and GUILD_CREATEs sent) and connected. */
  waitForReady(timeoutMs = 10000): Promise<true> {
    return this.waitFor(() => Boolean(this.core.gateway.session?.ready && this.core.gateway.session.socket) || undefined, timeoutMs, 'a READY gateway session');
  }

  /** Resolves once commands are registered (globally, or in a guild), returning them. */
  waitForCommands(guildId?: string, timeoutMs = 10000): Promise<Json[]> {
    return this.waitFor(() => {
      const list = this.core.commands.get(guildId ?? 'global');
      return list && list.length > 0 ? structuredClone(list) : undefined;
    }, timeoutMs, `commands registered ${guildId ? `in guild ${guildId}` : 'globally'}`);
  }

  slashCommand(input: SlashCommandInput): InteractionHandle {
    const context = this.context(input.user, input.guildId, input.channelId, input.locale);
    const [commandName, ...path] = input.name.trim().split(/\s+/);
    const command = this.requireCommand(commandName!, 1, context.guildId);
    const resolved: Json = {};
    let options: Json[];
    if (Array.isArray(input.options)) {
      options = input.options;
    } else {
      const values = { ...(input.options ?? {}), ...(input.attachments ?? {}) };
      // Walk down subcommand groups / subcommands named in `name`.
      let definitions: Json[] | undefined = command.options;
      const chain: Json[] = [];
      for (const part of path) {
        const sub = definitions?.find((o) => o.name === part && (o.type === 1 || o.type === 2));
        if (!sub) throw new Error(`Emulator: /${commandName} has no subcommand (group) "${part}"`);
        chain.push(sub);
        definitions = sub.options;
      }
      if (chain.length === 0 && command.options?.some((o: Json) => o.type === 1 || o.type === 2)) {
        throw new Error(`Emulator: /${commandName} needs a subcommand: name it as '${commandName} <subcommand>'`);
      }
      options = buildCommandOptions(this.core, definitions, values, resolved, context.guildId, input.name);
      for (const sub of chain.reverse()) options = [{ name: sub.name, type: sub.type, options }];
    }
    const data: Json = { id: command.id, name: command.name, type: 1, ...(command.guild_id ? { guild_id: command.guild_id } : {}) };
    if (options.length > 0) data.options = options;
    if (Object.keys(resolved).length > 0) data.resolved = resolved;
    return this.dispatch(createInteraction(this.core, InteractionType.Command, data, context));
  }

  autocomplete(input: AutocompleteInput): InteractionHandle {
    const context = this.context(input.user, input.guildId, input.channelId, input.locale);
    const [commandName, ...path] = input.name.trim().split(/\s+/);
    const command = this.requireCommand(commandName!, 1, context.guildId);
    let definitions: Json[] | undefined = command.options;
    const chain: Json[] = [];
    for (const part of path) {
      const sub = definitions?.find((o) => o.name === part);
      if (!sub) throw new Error(`Emulator: /${commandName} has no subcommand "${part}"`);
      chain.push(sub);
      definitions = sub.options;
    }
    const values = { ...(input.options ?? {}) };
    values[input.focused] ??= '';
    let options: Json[] = Object.entries(values).map(([name, value]) => {
      const def = definitions?.find((o) => o.name === name);
      if (!def) throw new Error(`Emulator: /${input.name} has no option "${name}"`);
      if (name === input.focused && !def.autocomplete) throw new Error(`Emulator: option "${name}" is not registered with autocomplete`);
      return { name, type: def.type, value: name === input.focused ? String(value) : value, ...(name === input.focused ? { focused: true } : {}) };
    });
    for (const sub of chain.reverse()) options = [{ name: sub.name, type: sub.type, options }];
    const data = { id: command.id, name: command.name, type: 1, options, ...(command.guild_id ? { guild_id: command.guild_id } : {}) };
    return this.dispatch(createInteraction(this.core, InteractionType.Autocomplete, data, context));
  }

  clickButton(input: ComponentInput): InteractionHandle {
    return this.componentInteraction(input, 2);
  }

  /**
   * A button click Discord's app could not produce: `customId` need not be on the message (a forged or stale custom_id,
   * as any client can send). The message must exist.
   */
  forgeButtonClick(input: ComponentInput): InteractionHandle {
    const message = resolveMessage(this.core, input.message);
    const channel = this.core.channel(message.channel_id);
    const context = this.context(input.user, channel.guild_id ?? null, channel.id, input.locale);
    const record = createInteraction(this.core, InteractionType.Component, { custom_id: input.customId, component_type: 2 }, context, { message: structuredClone(message) });
    record.sourceMessageId = message.id;
    return this.dispatch(record);
  }

  /** Picks values in a string select menu on a message. */
  selectMenu(input: ComponentInput & { values: string[] }): InteractionHandle {
    return this.componentInteraction(input, 3, input.values);
  }

  submitModal(input: SubmitModalInput): InteractionHandle {
    const opener = [...this.core.interactions.values()].reverse().find((r) => r.modal?.custom_id === input.customId);
    if (!opener) throw new Error(`Emulator: no modal "${input.customId}" was shown (the bot must answer an interaction with type 9 first)`);
    const user = input.user === undefined ? opener.user : resolveUser(this.core, input.user);
    if (user.id !== opener.user.id) throw new Error(`Emulator: modal "${input.customId}" was shown to ${opener.user.username}, not ${user.username}`);
    const data: Json = { custom_id: input.customId, components: modalSubmitComponents(opener.modal!, input.fields) };
    const source = opener.sourceMessageId ? this.core.messages.get(opener.sourceMessageId) : undefined;
    const record = createInteraction(this.core, InteractionType.ModalSubmit, data, { user, guildId: opener.guildId, channelId: opener.channelId, locale: input.locale }, source ? { message: structuredClone(source) } : {});
    record.sourceMessageId = source?.id ?? null;
    return this.dispatch(record);
  }

  messageContextMenu(input: MessageContextMenuInput): InteractionHandle {
    const target = resolveMessage(this.core, input.targetMessage);
    const channel = this.core.channel(target.channel_id);
    const context = this.context(input.user, channel.guild_id ?? null, channel.id, input.locale);
    const command = this.requireCommand(input.name, 3, context.guildId);
    const data = {
      id: command.id,
      name: command.name,
      type: 3,
      target_id: target.id,
      resolved: { messages: { [target.id]: structuredClone(target) } },
      ...(command.guild_id ? { guild_id: command.guild_id } : {}),
    };
    return this.dispatch(createInteraction(this.core, InteractionType.Command, data, context));
  }

  /** A user posts a message; dispatched as MESSAGE_CREATE. Returns the stored message. */
  async userMessage(input: UserMessageInput): Promise<Json> {
    const { core } = this;
    const channel = core.channel(input.channelId);
    const author = resolveUser(core, input.author);
    if (channel.guild_id) {
      if (!core.member(channel.guild_id, author.id)) throw new Error(`Emulator: ${author.username} is not a member of the guild`);
      if ((core.permissionsIn(channel, author.id) & Perm.SendMessages) === 0n) throw new Error(`Emulator: ${author.username} cannot send messages in #${channel.name}`);
    }
    let content = input.content ?? '';
    const botMention = `<@${core.world.botUser.id}>`;
    if (input.mentionsBot && !content.includes(botMention) && !content.includes(`<@!${core.world.botUser.id}>`)) content = `${botMention} ${content}`.trimEnd();
    for (const attachment of input.attachments ?? []) {
      if (!core.attachments.get(attachment.id)) throw new Error(`Emulator: attachment ${attachment.id} was not created with addAttachment()`);
    }
    const extra: Json = { attachments: structuredClone(input.attachments ?? []) };
    let type = 0;
    if (input.replyTo !== undefined) {
      const referenced = resolveMessage(core, input.replyTo);
      type = 19;
      extra.message_reference = { type: 0, message_id: referenced.id, channel_id: referenced.channel_id, ...(channel.guild_id ? { guild_id: channel.guild_id } : {}) };
      extra.referenced_message = structuredClone(referenced);
    }
    const message = await core.messages.create({ channelId: channel.id, author, payload: { content }, files: [], type, extra });
    if (extra.referenced_message && (input.replyPing ?? true) && extra.referenced_message.author.id !== author.id) {
      if (!message.mentions.some((u: Json) => u.id === extra.referenced_message.author.id)) message.mentions.push(extra.referenced_message.author);
    }
    core.dispatchMessageCreate(message);
    return structuredClone(message);
  }

  /** Drops the gateway connection (default close code 4000, so discord.js resumes). */
  disconnectGateway(options?: DisconnectOptions): void {
    this.core.gateway.disconnect(options);
  }

  /** Ages every interaction token issued so far past its 15 minutes: webhook calls then fail with 401 / 50027. */
  expireInteractionTokens(): void {
    for (const record of this.core.interactions.values()) record.expired = true;
  }

  /** Moves emulator time forward (token lifetimes, callback deadline, rate-limit windows). */
  advanceTime(ms: number): void {
    this.core.clock.advance(ms);
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  private context(userRef: UserRef | undefined, guildId: string | null | undefined, channelId: string | undefined, locale: string | undefined) {
    const user = resolveUser(this.core, userRef);
    const guild = guildId === undefined ? this.core.world.guild.id : guildId;
    if (guild === null) return { user, guildId: null, channelId: channelId ?? '', locale };
    return { user, guildId: guild, channelId: channelId ?? this.core.world.channels.general.id, locale };
  }

  private requireCommand(name: string, type: number, guildId: string | null): Json {
    const command = this.core.findCommand(name, type, guildId);
    if (!command) {
      const known = [...this.core.commands.entries()].flatMap(([scope, list]) => list.map((c) => `${c.name} (type ${c.type}, ${scope})`));
      throw new Error(`Emulator: no registered ${type === 1 ? 'slash' : type === 3 ? 'message' : 'user'} command "${name}"; registered: ${known.join(', ') || 'none'}`);
    }
    if (!guildId && command.contexts && !command.contexts.includes(1)) throw new Error(`Emulator: command "${name}" is not available in bot DMs`);
    return command;
  }

  private componentInteraction(input: ComponentInput, componentType: number, values?: string[]): InteractionHandle {
    const message = resolveMessage(this.core, input.message);
    const component = findComponent(message.components, input.customId);
    if (!component) throw new Error(`Emulator: message ${message.id} has no component "${input.customId}" (has: ${customIds(message.components).join(', ') || 'none'})`);
    if (component.type !== componentType) throw new Error(`Emulator: component "${input.customId}" has type ${component.type}, not ${componentType}`);
    if (component.disabled) throw new Error(`Emulator: component "${input.customId}" is disabled`);
    if (values) {
      const allowed = new Set((component.options as Json[] | undefined)?.map((o) => o.value));
      for (const value of values) if (!allowed.has(value)) throw new Error(`Emulator: "${value}" is not an option of "${input.customId}"`);
      if (values.length < (component.min_values ?? 1) || values.length > (component.max_values ?? 1)) throw new Error(`Emulator: ${values.length} values outside min/max of "${input.customId}"`);
    }
    const channel = this.core.channel(message.channel_id);
    const context = this.context(input.user, channel.guild_id ?? null, channel.id, input.locale);
    const data: Json = { custom_id: input.customId, component_type: componentType, ...(component.id !== undefined ? { id: component.id } : {}), ...(values ? { values } : {}) };
    const record = createInteraction(this.core, InteractionType.Component, data, context, { message: structuredClone(message) });
    record.sourceMessageId = message.id;
    return this.dispatch(record);
  }

  private dispatch(record: InteractionRecord): InteractionHandle {
    if (!this.core.gateway.dispatch('INTERACTION_CREATE', record.payload)) {
      throw new Error('Emulator: no gateway session to deliver the interaction to (is the bot logged in?)');
    }
    return new InteractionHandle(this.core, record);
  }
}

export async function startDiscordEmulator(options: EmulatorOptions = {}): Promise<DiscordEmulator> {
  const core = new Core(options);
  const server = new EmulatorServer(core);
  const url = await server.listen();
  core.baseUrl = url;
  return new DiscordEmulator(core, server, url);
}

export type Emulator = DiscordEmulator;
