// The v10 gateway over `ws`: HELLO, IDENTIFY -> READY + GUILD_CREATE per guild, heartbeats, RESUME with replay of
// missed dispatches, REQUEST_GUILD_MEMBERS, and a way for tests to drop the connection. JSON encoding only, no
// transport compression (discord.js only asks for zlib-stream when zlib-sync is installed).
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket } from 'ws';
import type { EmulatorClock } from './clock.ts';
import { guildCreatePayload, type World } from './world.ts';
import type { Json } from './types.ts';

export const Op = { Dispatch: 0, Heartbeat: 1, Identify: 2, PresenceUpdate: 3, Resume: 6, Reconnect: 7, RequestGuildMembers: 8, InvalidSession: 9, Hello: 10, HeartbeatAck: 11 } as const;

export interface GatewayLogEntry {
  at: number;
  direction: 'in' | 'out';
  op: number;
  t?: string | null;
  s?: number | null;
  sessionId?: string;
  /** For closes: the close code. */
  closeCode?: number;
}

export interface GatewaySession {
  id: string;
  seq: number;
  intents: number;
  identify: Json;
  /** Dispatches sent (or queued while disconnected), kept for RESUME replay. */
  events: { op: 0; t: string; s: number; d: Json }[];
  socket: WebSocket | null;
  ready: boolean;
}

export interface DispatchOptions {
  /** Gateway intent bit the event needs; sessions without it don't get the event. */
  intent?: number;
  /** Per-session rewrite, e.g. blanking message content without the MessageContent intent. */
  transform?: (d: Json, session: GatewaySession) => Json;
}

export interface DisconnectOptions {
  /** Close code (default 4000 "unknown error", which discord.js answers with RESUME). */
  code?: number;
  /** Drop the TCP connection without a close frame (client sees 1006) instead of closing cleanly. */
  terminate?: boolean;
  /** Forget the session so the RESUME fails with INVALID_SESSION and the client must IDENTIFY again. */
  invalidateSession?: boolean;
}

interface GatewayDeps {
  world: World;
  clock: EmulatorClock;
  token: string;
  heartbeatIntervalMs: number;
  /** ws:// URL of this gateway (for resume_gateway_url). */
  url: () => string;
  onChange: () => void;
}

export class Gateway {
  readonly log: GatewayLogEntry[] = [];
  identifyCount = 0;
  resumeCount = 0;
  heartbeatCount = 0;
  private readonly sessions = new Map<string, GatewaySession>();
  private current: GatewaySession | null = null;
  private readonly sockets = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({ noServer: true });

  constructor(private readonly deps: GatewayDeps) {}

  /** The latest identified session (the one dispatches go to). */
  get session(): GatewaySession | null {
    return this.current;
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws, request));
  }

  dispatch(t: string, d: Json, options: DispatchOptions = {}): boolean {
    const session = this.current;
    if (!session) return false;
    if (options.intent !== undefined && (session.intents & options.intent) === 0) return false;
    const data = options.transform ? options.transform(d, session) : d;
    this.pushEvent(session, t, data);
    return true;
  }

  disconnect(options: DisconnectOptions = {}): void {
    const session = this.current;
    if (!session?.socket) throw new Error('disconnectGateway(): no connected gateway session');
    const socket = session.socket;
    session.socket = null;
    if (options.invalidateSession) {
      this.sessions.delete(session.id);
      this.current = null;
    }
    const code = options.code ?? 4000;
    this.record({ direction: 'out', op: -1, closeCode: options.terminate ? 1006 : code, sessionId: session.id });
    if (options.terminate) socket.terminate();
    else socket.close(code, 'Emulator-initiated disconnect');
    this.deps.onChange();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(ws: WebSocket, request: IncomingMessage): void {
    this.sockets.add(ws);
    const query = new URL(request.url ?? '/', 'http://x').searchParams;
    if (query.get('v') && query.get('v') !== '10') {
      ws.close(4012, 'Invalid API version');
      return;
    }
    if (query.get('encoding') && query.get('encoding') !== 'json') {
      ws.close(4002, 'Only JSON encoding is emulated');
      return;
    }
    let session: GatewaySession | null = null;
    ws.on('close', () => {
      this.sockets.delete(ws);
      if (session?.socket === ws) session.socket = null;
      this.deps.onChange();
    });
    ws.on('message', (raw, isBinary) => {
      if (isBinary) {
        ws.close(4002, 'Decode error');
        return;
      }
      let payload: Json;
      try {
        payload = JSON.parse(raw.toString());
      } catch {
        ws.close(4002, 'Decode error');
        return;
      }
      this.record({ direction: 'in', op: payload.op, sessionId: session?.id });
      switch (payload.op) {
        case Op.Heartbeat:
          this.heartbeatCount++;
          this.send(ws, { op: Op.HeartbeatAck, d: null });
          break;
        case Op.Identify:
          if (session) return ws.close(4005, 'Already authenticated');
          if (payload.d?.token !== this.deps.token) return ws.close(4004, 'Authentication failed');
          session = this.identify(ws, payload.d);
          break;
        case Op.Resume:
          if (session) return ws.close(4005, 'Already authenticated');
          session = this.resume(ws, payload.d ?? {});
          break;
        case Op.RequestGuildMembers:
          if (!session) return ws.close(4003, 'Not authenticated');
          this.guildMembersChunk(session, payload.d ?? {});
          break;
        case Op.PresenceUpdate:
          if (!session) return ws.close(4003, 'Not authenticated');
          break;
        default:
          if (!session) return ws.close(4003, 'Not authenticated');
          return ws.close(4001, 'Unknown opcode');
      }
      this.deps.onChange();
    });
    this.send(ws, { op: Op.Hello, d: { heartbeat_interval: this.deps.heartbeatIntervalMs, _trace: ['["emulator-gateway",{}]'] } });
  }

  private identify(ws: WebSocket, d: Json): GatewaySession {
    this.identifyCount++;
    const { world } = this.deps;
    const session: GatewaySession = {
      id: randomBytes(16).toString('hex'),
      seq: 0,
      intents: Number(d.intents ?? 0),
      identify: { ...d, token: '[redacted]' },
      events: [],
      socket: ws,
      ready: false,
    };
    this.sessions.set(session.id, session);
    this.current = session;
    this.pushEvent(session, 'READY', {
      v: 10,
      user: world.botUser,
      user_settings: {},
      private_channels: [],
      relationships: [],
      presences: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: ['emulator'],
      guilds: [...world.guilds.keys()].map((id) => ({ id, unavailable: true })),
      session_id: session.id,
      session_type: 'normal',
      resume_gateway_url: this.deps.url(),
      shard: d.shard ?? [0, 1],
      application: { id: world.application.id, flags: world.application.flags },
      auth: {},
      _trace: ['["emulator-gateway",{}]'],
    });
    for (const guildId of world.guilds.keys()) this.pushEvent(session, 'GUILD_CREATE', guildCreatePayload(world, guildId));
    session.ready = true;
    return session;
  }

  private resume(ws: WebSocket, d: Json): GatewaySession | null {
    const session = this.sessions.get(String(d.session_id));
    if (!session || d.token !== this.deps.token || typeof d.seq !== 'number' || d.seq > session.seq) {
      // d: false tells the client it cannot resume and must identify again.
      this.send(ws, { op: Op.InvalidSession, d: false });
      return null;
    }
    this.resumeCount++;
    if (session.socket && session.socket !== ws) session.socket.close(4009, 'Session resumed elsewhere');
    session.socket = ws;
    this.current = session;
    for (const event of session.events) if (event.s > d.seq) this.send(ws, event);
    this.pushEvent(session, 'RESUMED', { _trace: ['["emulator-gateway",{}]'] });
    return session;
  }

  private guildMembersChunk(session: GatewaySession, d: Json): void {
    const members = [...(this.deps.world.members.get(String(d.guild_id))?.values() ?? [])];
    const wanted = Array.isArray(d.user_ids) ? new Set(d.user_ids.map(String)) : d.user_ids ? new Set([String(d.user_ids)]) : null;
    const query = typeof d.query === 'string' ? d.query.toLowerCase() : '';
    const matched = members.filter((m) => (wanted ? wanted.has(m.user.id) : m.user.username.toLowerCase().startsWith(query)));
    const limited = d.limit ? matched.slice(0, d.limit) : matched;
    this.pushEvent(session, 'GUILD_MEMBERS_CHUNK', {
      guild_id: d.guild_id,
      members: limited,
      chunk_index: 0,
      chunk_count: 1,
      not_found: wanted ? [...wanted].filter((id) => !members.some((m) => m.user.id === id)) : [],
      ...(d.nonce !== undefined ? { nonce: d.nonce } : {}),
    });
  }

  private pushEvent(session: GatewaySession, t: string, d: Json): void {
    session.seq += 1;
    const event = { op: Op.Dispatch as 0, t, s: session.seq, d };
    session.events.push(event);
    if (session.events.length > 5000) session.events.shift();
    if (session.socket?.readyState === WebSocket.OPEN) this.send(session.socket, event);
    this.deps.onChange();
  }

  private send(ws: WebSocket, payload: Json): void {
    this.record({ direction: 'out', op: payload.op, t: payload.t ?? null, s: payload.s ?? null });
    ws.send(JSON.stringify(payload));
  }

  private record(entry: Omit<GatewayLogEntry, 'at'>): void {
    this.log.push({ at: this.deps.clock.now(), ...entry });
  }
}
