import Ajv, { type ValidateFunction } from 'ajv';
import type { Server as HttpServer } from 'node:http';
import { hostname } from 'node:os';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { ApiError, Code, fail, ok, type Envelope } from '../errors';
import * as S from '../schemas';
import type { Caller, ImService, Notifier, PreparedSend } from '../service';
import type { ConversationChange } from '../conversations';
import { AddressCounter } from '../net/connection-guard';
import { endsTransaction } from '../storage/errors';
import type { GroupChangeEvent } from '../domain/group-admin';
import type { LiveSession } from '../domain/admin';
import type { SendResult, StoredMessage } from '../storage/types';
import { LocalUserLimits, type RateBucket, type UserLimits } from './user-limits';
import { RedisUserLimits } from './redis-user-limits';
import { NO_METRICS, type Metrics } from '../observability/metrics';
import { handleVolatile } from './volatile';
import { handlePresence, presenceRoom, PresenceTracker, type PresenceInfo } from './presence';

export interface GatewayOptions {
  sessionPolicy: 'multi' | 'kick';
  /** Events per second per user (across the user's sockets), and the burst. */
  rateLimit: number;
  rateBurst: number;
  /** Sockets per user. */
  maxSocketsPerUser: number;
  /** Engine.IO sessions per client address (0: no cap). */
  maxConnectionsPerIp: number;
  /** Bytes of messages in one chat:sync reply. */
  replyMaxBytes: number;
  /** ms a user stays online after their last socket went (IM_PRESENCE_GRACE; default 5 s). */
  presenceGraceMs?: number;
  /** ms a handshake has to reach the namespace (default 10 s). */
  connectTimeoutMs?: number;
  /** Redis for the Socket.IO adapter: emits, kicks and fan-out reach the sockets of every node. */
  redisUrl?: string;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, err?: unknown) => void;
  /** Connections, deliveries, ack latency, sync sizes and refusals (server/src/observability/metrics.ts). */
  metrics?: Metrics;
  /** Shares the per-user limits with the other nodes (see limitsRedisClient); per node without. */
  limitsRedis?: Redis;
  /** This node's name in session lists (default: hostname-pid). */
  nodeId?: string;
  /** A presence transition, decided once for the cluster (the userOnline/userOffline webhooks). */
  onPresence?: (appId: string, info: PresenceInfo) => void;
}

/**
 * A socket's `data`. With Redis, fetchSockets() sends the data of remote sockets over the adapter
 * as MessagePack, which encodes enumerable properties only: `bucket` and `timers` (live objects,
 * circular) are kept non-enumerable, so what crosses is plain values.
 */
interface SocketState extends Caller {
  tokenExpiresAt?: number;
  tokenIssuedAt?: number;
  /** The user's bucket, shared by all of the user's sockets. */
  bucket: RateBucket;
  timers: Array<ReturnType<typeof setTimeout>>;
  userName: string;
  /** What the client says it runs on (handshake `auth.platform`), for the server API's session list. */
  platform: string;
  connectedAt: number;
  /** The node holding the socket. */
  node: string;
}

const PLATFORM_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

/** The handshake's platform name when it is a short plain token; else "unknown". */
function platformOf(auth: Record<string, unknown> | undefined, query: Record<string, unknown>): string {
  const named = auth?.platform ?? query.platform;
  const value = Array.isArray(named) ? named[0] : named;
  return typeof value === 'string' && PLATFORM_PATTERN.test(value) ? value : 'unknown';
}

/** A handshake must reach the namespace (and pass the token check) within this time. */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Engine.IO sessions one address may have open before their namespace connect: a real client
 * needs one for a few milliseconds; a flood of bare handshakes (no token needed) would pile up.
 */
const MAX_PENDING_PER_ADDRESS = 64;
/** A sync reply costs one more event per this many bytes, so a flood of large syncs is slowed. */
const BYTES_PER_TOKEN = 64 * 1024;
/**
 * Online members group messages are emitted to per event-loop turn, across messages. Socket.IO
 * encodes the packet once per emit; between chunks other work (acks, /health) gets its turn.
 */
const FANOUT_CHUNK = 1000;

type Ack = (res: Envelope) => void;

/** A validated chat:send waiting for the batch commit. */
interface PendingSend {
  socket: Socket;
  payload: S.SendPayload;
  answer: (res: Envelope) => void;
}

/**
 * Sends stored per commit at most. A flood still commits every few milliseconds, so acks and
 * deliveries of the first sends in it are not held back by the last.
 */
const SEND_BATCH_MAX = 200;

const ajv = new Ajv({ coerceTypes: false, allErrors: false, strict: false });
function compile<T>(schema: object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

const validators = {
  send: compile<S.SendPayload>(S.SendPayload),
  sync: compile<S.SyncPayload>(S.SyncPayload),
  receipt: compile<S.ReceiptPayload>(S.ReceiptPayload),
  receipts: compile<S.ReceiptsPayload>(S.ReceiptsPayload),
  groupStates: compile<S.GroupStatesPayload>(S.GroupStatesPayload),
  groupSync: compile<S.GroupSyncPayload>(S.GroupSyncPayload),
  renew: compile<S.RenewPayload>(S.RenewPayload),
  typing: compile<S.TypingPayload>(S.TypingPayload),
  signal: compile<S.SignalPayload>(S.SignalPayload),
  revoke: compile<S.RevokePayload>(S.RevokePayload),
  edit: compile<S.EditPayload>(S.EditPayload),
  presence: compile<S.PresencePayload>(S.PresencePayload),
};

function invalid(event: string, v: ValidateFunction): ApiError {
  const e = v.errors?.[0];
  const where = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'payload';
  return new ApiError(Code.INVALID_ARGUMENT, `${event}: ${where} ${e?.message ?? 'is invalid'}`);
}

/**
 * The socket twin of fastify's onProtoPoisoning/onConstructorPoisoning: JSON.parse makes
 * `__proto__` an own key, harmless here but a trap for any code (ours or an app's) that merges the
 * object later. Iterative, because a 100 KB packet can nest far deeper than the call stack.
 */
export function hasPoisonedKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object') continue;
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
    const ctor = Object.prototype.hasOwnProperty.call(v, 'constructor') ? (v as Record<string, unknown>).constructor : undefined;
    if (ctor !== null && typeof ctor === 'object' && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) return true;
    for (const child of Object.values(v as Record<string, unknown>)) if (child !== null && typeof child === 'object') stack.push(child);
  }
  return false;
}

const room = (appId: string, userId: string) => `u:${appId}:${userId}`;

/** Returned by a handler that answers later through the `answer` it was given. */
const DEFERRED: unique symbol = Symbol('deferred');

/** The Socket.IO half of the protocol (docs/protocol.md section 6). */
export class Gateway implements Notifier {
  readonly io: Server;
  private service!: ImService;
  private shuttingDown = false;
  private attached = false;
  private pendingSends: PendingSend[] = [];
  /** Per socket, the last send still at the app's beforeSend: the next one joins the batch after it. */
  private readonly screening = new Map<string, Promise<void>>();
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private readonly limits: UserLimits;
  /** Group messages waiting for (the rest of) their live emit, oldest first. */
  private readonly fanOuts: Array<{ appId: string; members: readonly string[]; message: unknown; except: string | undefined; rooms: string[] | undefined; next: number }> = [];
  private fanOutScheduled = false;
  private redis: Redis | undefined;
  private readonly redisCopies: Redis[] = [];
  /** Engine.IO sessions per address, and those of them not yet in the namespace. */
  private readonly sessions: AddressCounter;
  private readonly pending = new AddressCounter(0);
  private presence: PresenceTracker | undefined;
  readonly nodeId: string;
  private readonly metrics: Metrics;

  constructor(private readonly opts: GatewayOptions) {
    this.nodeId = opts.nodeId ?? `${hostname()}-${process.pid}`;
    this.metrics = opts.metrics ?? NO_METRICS;
    this.limits = opts.limitsRedis
      ? new RedisUserLimits(opts.limitsRedis, opts.rateLimit, opts.rateBurst, opts.maxSocketsPerUser, opts.log)
      : new LocalUserLimits(opts.rateLimit, opts.rateBurst, opts.maxSocketsPerUser);
    this.sessions = new AddressCounter(opts.maxConnectionsPerIp);
    this.io = new Server({
      allowEIO3: true,
      cors: { origin: true, credentials: true },
      maxHttpBufferSize: 100_000,
      transports: ['websocket', 'polling'],
      serveClient: false,
      connectTimeout: opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      // Called for handshakes only (requests without a session id).
      allowRequest: (req, callback) => {
        // Both caps are per client address, so both are off with IM_MAX_CONNECTIONS_PER_IP=0
        // (behind a proxy every client has the proxy's address).
        const address = req.socket?.remoteAddress ?? 'unknown';
        const capped = opts.maxConnectionsPerIp > 0;
        if (capped && this.pending.count(address) >= MAX_PENDING_PER_ADDRESS) callback('too many unfinished handshakes from this address', false);
        else if (capped && this.sessions.count(address) >= opts.maxConnectionsPerIp) callback('too many connections from this address', false);
        else callback(null, true);
      },
    });
  }

  attach(httpServer: HttpServer, service: ImService): void {
    this.service = service;
    if (this.opts.redisUrl) {
      // Its own client, offline queue on (the adapter's read loop needs it), reconnecting fast:
      // a Redis restart delays live packets, and clients catch up from the database anyway.
      this.redis = new Redis(this.opts.redisUrl, { retryStrategy: (n) => Math.min(50 * n, 500), maxRetriesPerRequest: null, lazyConnect: false });
      this.redis.on('error', (err) => this.opts.log('warn', 'redis', err));
      // The adapter reads its stream on duplicates of this client, and disconnects them only after
      // their next read returns; if Redis is gone by then, the read retries forever and the process
      // never exits. The duplicates are recorded here so close() can end them itself.
      const base = this.redis;
      const duplicate = base.duplicate.bind(base);
      base.duplicate = ((...args: Parameters<Redis['duplicate']>) => {
        const copy = duplicate(...args);
        this.redisCopies.push(copy);
        return copy;
      }) as Redis['duplicate'];
      this.io.adapter(createAdapter(this.redis, { maxLen: 100_000 }));
    }
    this.io.attach(httpServer);
    this.attached = true;
    this.presence = new PresenceTracker({
      graceMs: this.opts.presenceGraceMs ?? 5000,
      redis: this.opts.limitsRedis,
      store: service.storage,
      userRoom: room,
      emit: (appId, info) => {
        this.opts.onPresence?.(appId, info);
        const to = presenceRoom(appId, info.userId);
        // Alone, no subscriber means no packet; with Redis the subscribers may be on other nodes.
        if (this.redis || this.io.sockets.adapter.rooms.has(to)) this.io.to(to).emit('presence', info);
      },
      log: this.opts.log,
    });
    this.io.engine.on('connection', (conn: { remoteAddress?: string; once(e: string, f: () => void): void }) => {
      const address = conn.remoteAddress ?? 'unknown';
      this.sessions.enter(address);
      this.pending.enter(address);
      let pending = true;
      // Socket.IO closes a session that has not joined by then, but a polling session's close
      // waits for a poll that never comes (up to 30 s): it stops counting as pending on time.
      const timer = setTimeout(() => leavePending(), (this.opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS) + 100);
      timer.unref();
      const leavePending = () => {
        if (!pending) return;
        pending = false;
        clearTimeout(timer);
        this.pending.leave(address);
      };
      (conn as unknown as { leavePending: () => void }).leavePending = leavePending;
      conn.once('close', () => {
        leavePending();
        this.sessions.leave(address);
      });
    });
    this.io.use(async (socket, next) => {
      try {
        if (this.shuttingDown) throw new ApiError(Code.SHUTTING_DOWN, 'server shutting down: reconnect shortly');
        const auth = socket.handshake.auth as Record<string, unknown> | undefined;
        const token = auth?.token ?? socket.handshake.query.token;
        const claims = await service.verifyToken(Array.isArray(token) ? token[0] : token);
        const user = await service.activeUser(claims.app, claims.sub);
        const key = room(claims.app, claims.sub);
        if (!(await this.limits.admit(key, socket.id))) {
          throw new ApiError(Code.RATE_LIMITED, `too many connections: user ${claims.sub} already has ${this.opts.maxSocketsPerUser} (IM_MAX_SOCKETS_PER_USER); close another device's connection first`);
        }
        // Also on the transport's close: a client gone during this check never gets 'disconnect'.
        let released = false;
        const release = () => {
          if (released) return;
          released = true;
          this.limits.release(key, socket.id);
          // One Engine.IO connection can carry many namespace connects: leave no listener behind.
          socket.conn.off('close', release);
        };
        socket.once('disconnect', release);
        socket.conn.once('close', release);
        // Gone while the checks above awaited: its close has already fired, so count it out now.
        if (socket.conn.readyState === 'closing' || socket.conn.readyState === 'closed') {
          release();
          throw new ApiError(Code.INVALID_ARGUMENT, 'connection closed during the handshake');
        }
        const state = {
          appId: claims.app,
          userId: claims.sub,
          userName: user.userName,
          platform: platformOf(auth, socket.handshake.query),
          connectedAt: Date.now(),
          node: this.nodeId,
        } as SocketState;
        Object.defineProperties(state, {
          bucket: { value: this.limits.bucket(key), enumerable: false },
          timers: { value: [], enumerable: false },
        });
        state.tokenExpiresAt = claims.exp * 1000;
        state.tokenIssuedAt = claims.iat * 1000;
        socket.data = state;
        // The token has done its work: not kept for the connection's life in the handshake, which
        // fetchSockets() (the server API's session list) also sends over Redis to other nodes.
        if (auth && 'token' in auth) delete auth.token;
        delete (socket.handshake.query as Record<string, unknown>).token;
        next();
      } catch (err) {
        const api = err instanceof ApiError ? err : new ApiError(Code.INTERNAL, 'internal error');
        if (api.code === Code.RATE_LIMITED) this.metrics.rateLimited('socket');
        this.opts.log('debug', 'socket refused', { socketId: socket.id, code: api.code, reason: api.message });
        const e = new Error(api.message) as Error & { data: unknown };
        e.data = { code: api.code, message: api.message };
        next(e);
      }
    });
    this.io.on('connection', (socket) => this.onConnection(socket));
  }

  /** New events are answered 50300 from now on; existing connections are closed by `close()`. */
  beginShutdown(): void {
    this.shuttingDown = true;
  }

  async close(): Promise<void> {
    if (!this.attached) return;
    this.attached = false;
    // Sends accepted before shutdown began are stored and answered before their sockets close,
    // those at the app's beforeSend too (each waits at most its timeout).
    while (this.screening.size) await Promise.all([...this.screening.values()]);
    for (let n = Math.ceil(this.pendingSends.length / SEND_BATCH_MAX); n > 0; n--) void this.chainFlush();
    await this.flushing;
    for (const socket of this.io.sockets.sockets.values()) this.clearTimers(socket);
    this.limits.close();
    await new Promise<void>((resolve) => {
      this.io.close(() => resolve());
    });
    await this.presence?.close();
    this.redis?.disconnect();
    for (const copy of this.redisCopies.splice(0)) copy.disconnect();
  }

  private state(socket: Socket): SocketState {
    return socket.data as SocketState;
  }

  private onConnection(socket: Socket): void {
    (socket.conn as unknown as { leavePending?: () => void }).leavePending?.();
    const s = this.state(socket);
    const userRoom = room(s.appId, s.userId);
    // The user's other sockets, wherever they are: through the adapter, so on every node.
    if (this.opts.sessionPolicy === 'kick') this.kickRoom(userRoom, 'another_session', socket.id);
    void socket.join(userRoom);
    // A disable that landed between the token check and this join kicked the room before the
    // socket was in it; the disable's write precedes its kick, so reading the user again now finds it.
    void this.service.activeUser(s.appId, s.userId).catch((err: unknown) => {
      if (!(err instanceof ApiError) || err.code !== Code.USER_DISABLED || !socket.connected) return;
      socket.emit('kicked', { reason: 'user_disabled' });
      setImmediate(() => socket.disconnect(true));
    });
    this.metrics.socketOpened();
    this.opts.log('debug', 'socket connected', { socketId: socket.id, appId: s.appId, userId: s.userId, transport: socket.conn.transport.name });
    socket.on('disconnect', (reason) => {
      this.clearTimers(socket);
      this.metrics.socketClosed();
      this.opts.log('debug', 'socket disconnected', { socketId: socket.id, appId: s.appId, userId: s.userId, reason });
    });
    // The handlers are in place before the session is announced; the client sends after it.
    void this.service.latestInboxSeq(s).then(
      (latestInboxSeq) => {
        if (!socket.connected) return;
        socket.emit('session', {
          userId: s.userId,
          userName: s.userName,
          appId: s.appId,
          latestInboxSeq,
          tokenExpiresAt: s.tokenExpiresAt ?? 0,
          serverTime: Date.now(),
          // Group messages are not in the inbox: clients catch groups up with chat:group-sync.
          groupSync: true,
        });
        // After `session`, so a nearly expired token's warning never arrives before the session.
        this.scheduleTokenTimers(socket, s.tokenExpiresAt ?? 0, s.tokenIssuedAt ?? 0);
      },
      (err: unknown) => {
        this.opts.log('error', 'starting a session failed', err);
        socket.disconnect(true);
      },
    );

    this.handle(socket, 'chat:send', validators.send, (p, answer) => this.screenSend(socket, p, this.timedAck(answer)));
    this.handle(socket, 'chat:sync', validators.sync, async (p) => {
      const reply = await this.service.sync(s, p.afterInboxSeq, p.limit ?? 200, this.opts.replyMaxBytes);
      this.metrics.syncReply('chat:sync', reply.messages.length);
      // Charged by size: ten parallel syncs of large messages cost what their bytes cost.
      s.bucket.charge(Math.floor(reply.bytes / BYTES_PER_TOKEN));
      return { messages: reply.messages, hasMore: reply.hasMore, latestInboxSeq: reply.latestInboxSeq };
    });
    this.handle(socket, 'chat:groups', validators.groupStates, async (p) => {
      const page = await this.service.groupStates(s, p.after ?? '', p.limit ?? 500);
      s.bucket.charge(Math.floor(page.groups.length / 100));
      return page;
    });
    this.handle(socket, 'chat:group-sync', validators.groupSync, async (p) => {
      const reply = await this.service.groupSync(s, p.groupId, p.afterSeq, p.limit ?? 200, this.opts.replyMaxBytes);
      this.metrics.syncReply('chat:group-sync', reply.messages.length);
      s.bucket.charge(Math.floor(reply.bytes / BYTES_PER_TOKEN));
      return { messages: reply.messages, hasMore: reply.hasMore, lastSeq: reply.lastSeq, joinedSeq: reply.joinedSeq };
    });
    this.handle(socket, 'receipt', validators.receipt, async (p) => {
      const { senderId, payload } = await this.service.receipt(s, p.messageId, p.status, p.to);
      this.io.to(room(s.appId, senderId)).emit('receipt', payload);
      return null;
    });
    // Many receipts in one packet: clients coalesce automatic delivery receipts (protocol 6.7).
    this.handle(socket, 'receipts', validators.receipts, async (p) => {
      // The event took one token; each further id costs one more, as if sent one by one.
      const wait = p.messageIds.length > 1 ? await s.bucket.take(p.messageIds.length - 1) : 0;
      if (wait > 0) throw new ApiError(Code.RATE_LIMITED, `rate limited: ${p.messageIds.length} receipts count as ${p.messageIds.length} events; retry after ${wait} ms`);
      const accepted: string[] = [];
      const refused: Array<{ messageId: string; code: number; message: string }> = [];
      const notices: Array<{ senderId: string; payload: Record<string, unknown> }> = [];
      const marks: Array<{ convId: string; seq: number }> = [];
      for (const messageId of new Set(p.messageIds)) {
        try {
          const checked = await this.service.checkReceipt(s, messageId, p.status);
          notices.push(checked);
          if (checked.mark) marks.push(checked.mark);
          accepted.push(messageId);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          refused.push({ messageId, code: err.code, message: err.message });
        }
      }
      // Read receipts move read positions: one commit for the packet.
      if (marks.length) await this.service.markReads(s, marks);
      for (const n of notices) this.io.to(room(s.appId, n.senderId)).emit('receipt', n.payload);
      return { accepted, refused };
    });
    // A revoke or edit: its event row goes out like a message (in order with them); the answer is
    // the message as it is now and the event (null when it was revoked already).
    this.handle(socket, 'chat:revoke', validators.revoke, async (p) => {
      const done = await this.service.revokeMessage(s, p.messageId);
      return { message: done.message, event: done.stored ? this.deliver(socket, done.stored) : null };
    });
    this.handle(socket, 'chat:edit', validators.edit, async (p) => {
      const done = await this.service.editMessage(s, p.messageId, p.content, p.data);
      return { message: done.message, event: this.deliver(socket, done.stored) };
    });
    this.handle(socket, 'heartbeat', null, () => ({ serverTime: Date.now() }));
    handlePresence({ tracker: this.presence!, handle: (sk, ev, v, work) => this.handle(sk, ev, v, work), state: (sk) => this.state(sk), validate: validators.presence }, socket);
    handleVolatile({ io: this.io, service: this.service, handle: (sk, ev, v, work) => this.handle(sk, ev, v, work), room, state: (sk) => this.state(sk), validators }, socket);
    this.handle(socket, 'token:renew', validators.renew, async (p) => {
      const claims = await this.service.verifyToken(p.token);
      if (claims.app !== s.appId || claims.sub !== s.userId) throw new ApiError(Code.FORBIDDEN, 'forbidden: the new token is for another user or app');
      this.clearTimers(socket);
      this.scheduleTokenTimers(socket, claims.exp * 1000, claims.iat * 1000);
      return { expiresAt: claims.exp * 1000 };
    });
  }

  /**
   * One event handler: rate limit, validation, the work, one envelope back. Nothing a client sends
   * can throw out of here: a bad payload is an error answer, a bug is a logged 50000.
   */
  private handle<T>(
    socket: Socket,
    event: string,
    validate: ValidateFunction<T> | null,
    work: (payload: T, answer: (res: Envelope) => void) => unknown,
  ): void {
    socket.on(event, async (...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack: Ack | undefined = typeof last === 'function' ? (last as Ack) : undefined;
      const payload = args[0];
      const answer = (res: Envelope) => {
        if (!ack) return;
        try {
          ack(res);
        } catch (err) {
          this.opts.log('warn', `ack for ${event} failed`, err);
        }
      };
      try {
        if (this.shuttingDown) throw new ApiError(Code.SHUTTING_DOWN, 'server shutting down: reconnect and retry');
        const s = this.state(socket);
        const wait = await s.bucket.take();
        if (wait > 0) throw new ApiError(Code.RATE_LIMITED, `rate limited: retry after ${wait} ms`);
        if (validate && hasPoisonedKey(payload)) {
          throw new ApiError(Code.INVALID_ARGUMENT, `${event}: keys named __proto__ (or constructor holding prototype) are not allowed`);
        }
        if (validate && !validate(payload)) throw invalid(event, validate);
        // Checked and charged at once, in arrival order; the work may then wait for storage.
        const result = await work(payload as T, answer);
        if (result !== DEFERRED) answer(ok(result));
      } catch (err) {
        if (err instanceof ApiError) {
          if (err.code === Code.RATE_LIMITED) this.metrics.rateLimited('socket');
          answer(fail(err));
        } else {
          this.opts.log('error', `${event} failed`, err);
          answer(fail(new ApiError(Code.INTERNAL, 'internal error')));
        }
      }
    });
  }

  /**
   * Group commit: the sends that arrive in one event-loop turn are stored in one transaction, since
   * one commit per message was the bulk of the server's work per send (benchmarks.md, finding 1).
   * Each send still has its own savepoint, so a refused one fails alone, and acks and deliveries go
   * out only after the commit: an acknowledged or delivered message is always stored. The cost for
   * a lone message is one setImmediate.
   */
  /**
   * The app's beforeSend, when it has one, before the send joins a batch: each send waits for its
   * own answer only, never for other sends' (a batch waiting on one slow answer would hold every
   * send behind it). A socket's sends still join in the order they came: one answered early waits
   * for the earlier ones of its socket.
   */
  private screenSend(socket: Socket, payload: S.SendPayload, answer: (res: Envelope) => void): typeof DEFERRED {
    const check = this.service.screenSend(this.state(socket), payload);
    const before = this.screening.get(socket.id);
    if (!check && !before) return this.queueSend(socket, payload, answer);
    const decided = (check ?? Promise.resolve(payload)).then(
      (p) => ({ p: p as S.SendPayload }),
      (error: unknown) => ({ error }),
    );
    const turn = (before ?? Promise.resolve()).then(async () => {
      const d = await decided;
      if ('p' in d) this.queueSend(socket, d.p, answer);
      else if (d.error instanceof ApiError) answer(fail(d.error));
      else {
        this.opts.log('error', 'chat:send beforeSend failed', d.error);
        answer(fail(new ApiError(Code.INTERNAL, 'internal error')));
      }
    });
    this.screening.set(socket.id, turn);
    void turn.finally(() => {
      if (this.screening.get(socket.id) === turn) this.screening.delete(socket.id);
    });
    return DEFERRED;
  }

  /** A send's answer that records, when it is an ack, the time from the send's arrival (im_send_ack_seconds). */
  private timedAck(answer: (res: Envelope) => void): (res: Envelope) => void {
    const at = performance.now();
    return (res) => {
      if (res.code === 0) this.metrics.sendAcked((performance.now() - at) / 1000);
      answer(res);
    };
  }

  private queueSend(socket: Socket, payload: S.SendPayload, answer: (res: Envelope) => void): typeof DEFERRED {
    this.pendingSends.push({ socket, payload, answer });
    this.scheduleFlush();
    return DEFERRED;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.chainFlush();
    });
  }

  /** Batches are stored one after another: commit order is seq order. */
  private chainFlush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushSends()).catch((err: unknown) => this.opts.log('error', 'a batch of chat:send failed', err));
    return this.flushing;
  }

  private async flushSends(): Promise<void> {
    const batch = this.pendingSends.splice(0, SEND_BATCH_MAX);
    if (!batch.length) return;
    if (this.pendingSends.length) this.scheduleFlush();
    // Checks and reads first (refusals answer alone), then one commit for what is left, in order.
    const prepared = await Promise.all(
      batch.map((item) =>
        this.service.prepareSend(this.state(item.socket), item.payload).then(
          (p): { p?: PreparedSend; error?: unknown } => ({ p }),
          (error: unknown): { p?: PreparedSend; error?: unknown } => ({ error }),
        ),
      ),
    );
    const ready = prepared.flatMap((x) => (x.p ? [x.p] : []));
    let committed: Array<{ result?: SendResult; error?: unknown }>;
    try {
      committed = await this.service.commitSends(ready);
    } catch (error) {
      // The commit failed as a whole: nothing of the batch is stored, so every send is refused.
      this.opts.log('error', 'storing a batch of chat:send failed', error);
      committed = ready.map(() => ({ error: new ApiError(Code.INTERNAL, 'internal error: the message was not stored') }));
    }
    let next = 0;
    batch.forEach((item, i) => {
      const checked = prepared[i]!;
      const { result, error } = checked.p ? committed[next++]! : { result: undefined, error: checked.error };
      if (result) {
        let ack: unknown;
        try {
          ack = this.deliver(item.socket, result);
        } catch (err) {
          // Stored: the ack must still go out, or the client would resend into a duplicate answer.
          this.opts.log('error', 'delivering a stored message failed', err);
          ack = result.senderInboxSeq > 0 ? { ...result.message, inboxSeq: result.senderInboxSeq } : { ...result.message };
        }
        item.answer(ok(ack));
      } else if (error instanceof ApiError) {
        item.answer(fail(error));
      } else {
        this.opts.log('error', 'chat:send failed', error);
        item.answer(fail(new ApiError(Code.INTERNAL, 'internal error')));
      }
    });
  }

  /** Emits a stored message to its online recipients; returns the sender's ack. */
  private deliver(socket: Socket, result: SendResult): unknown {
    const s = this.state(socket);
    if (!result.duplicate && result.members) {
      this.fanOutGroup(s.appId, result.members, result.message, socket.id);
    } else if (!result.duplicate) {
      // Each recipient gets its own inboxSeq; the sending socket gets the ack instead. Offline
      // recipients are skipped before building and encoding a packet nobody would receive.
      const rooms = this.io.sockets.adapter.rooms;
      let emits = 0;
      for (const d of result.deliveries) {
        const to = room(s.appId, d.userId);
        const own = d.userId === s.userId;
        if (!this.redis) {
          // Alone, offline recipients, and the sender's room when it holds only the sending
          // socket, are skipped before a packet is built and encoded for nobody. With Redis the
          // others may be on other nodes.
          const present = rooms.get(to);
          if (!present || (own && present.size === 1 && present.has(socket.id))) continue;
        }
        const payload = { ...result.message, inboxSeq: d.inboxSeq };
        if (own) socket.to(to).emit('imchat', payload);
        else this.io.to(to).emit('imchat', payload);
        emits++;
      }
      if (emits) this.metrics.delivered(emits);
    }
    // A group message has no inbox position (read diffusion), unless it predates that.
    return result.senderInboxSeq > 0 ? { ...result.message, inboxSeq: result.senderInboxSeq } : { ...result.message };
  }

  /**
   * One packet for every online member (the same for all: no per-member inboxSeq). Group messages
   * queue up in order and go out FANOUT_CHUNK rooms per event-loop turn in total, across messages:
   * a burst of large-group messages cannot hold the loop for longer than one chunk. The sending
   * socket is left out; the sender's other devices get it. Offline members catch up from the
   * group's sequence.
   */
  private fanOutGroup(appId: string, members: readonly string[], message: unknown, senderSocketId: string | undefined): void {
    this.fanOuts.push({ appId, members, message, except: senderSocketId, rooms: undefined, next: 0 });
    // A lone message goes out at once; behind others it waits its turn.
    if (!this.fanOutScheduled) this.drainFanOuts();
  }

  private readonly drainFanOuts = (): void => {
    this.fanOutScheduled = false;
    const adapterRooms = this.io.sockets.adapter.rooms;
    let budget = FANOUT_CHUNK;
    while (budget > 0 && this.fanOuts.length) {
      const job = this.fanOuts[0]!;
      if (!job.rooms) {
        // Who is online is looked up when the message's turn comes, not when it was stored.
        job.rooms = [];
        for (const id of job.members) {
          const r = room(job.appId, id);
          // Alone, only online members; with Redis the members online on other nodes too.
          if (this.redis || adapterRooms.has(r)) job.rooms.push(r);
        }
        budget -= Math.ceil(job.members.length / 20); // the lookup has its cost too
      }
      const n = Math.min(Math.max(budget, 1), job.rooms.length - job.next);
      if (n > 0) {
        const to = this.io.to(job.rooms.slice(job.next, job.next + n));
        (job.except ? to.except(job.except) : to).emit('imchat', job.message);
        this.metrics.delivered(n);
      }
      job.next += n;
      budget -= n;
      if (job.next >= job.rooms.length) this.fanOuts.shift();
    }
    if (this.fanOuts.length) {
      this.fanOutScheduled = true;
      setImmediate(this.drainFanOuts);
    }
  };

  /**
   * `kicked` to every socket in `userRoom` (but `keep`), then closes them: through the adapter, so
   * the sockets of other nodes are reached too.
   */
  private kickRoom(userRoom: string, reason: string, keep?: string): void {
    const target = () => (keep ? this.io.in(userRoom).except(keep) : this.io.in(userRoom));
    target().emit('kicked', { reason });
    // Let the notice go out before the close frame. A broadcast, not fetchSockets(): a remote
    // socket's data (its timers) is not something to send over Redis.
    setImmediate(() => target().disconnectSockets(true));
  }

  private scheduleTokenTimers(socket: Socket, expiresAt: number, issuedAt: number): void {
    const s = socket.data as SocketState;
    s.tokenExpiresAt = expiresAt;
    const now = Date.now();
    const lifetime = Math.max(expiresAt - issuedAt, 1);
    const warnAt = lifetime < 50 * 60 * 1000 ? issuedAt + lifetime * 0.9 : expiresAt - 5 * 60 * 1000;
    this.at(s, warnAt - now, () => socket.emit('token:will-expire', { expiresAt }));
    this.at(s, expiresAt - now, () => {
      socket.emit('token:expired', { expiresAt });
      setImmediate(() => socket.disconnect(true));
    });
  }

  /** setTimeout fires at once for delays over 2^31-1 ms (24.8 days); long tokens wait in steps. */
  private at(s: SocketState, delay: number, fire: () => void): void {
    const MAX = 2 ** 31 - 1;
    const due = Date.now() + Math.max(delay, 0);
    const step = () => {
      const left = due - Date.now();
      if (left > MAX) s.timers.push(setTimeout(step, MAX));
      else s.timers.push(setTimeout(fire, Math.max(left, 0)));
    };
    step();
  }

  private clearTimers(socket: Socket): void {
    const s = socket.data as SocketState | undefined;
    if (!s?.timers) return;
    for (const t of s.timers.splice(0)) clearTimeout(t);
  }

  // ---------------------------------------------------------------- Notifier

  groupChanged(appId: string, userIds: string[], change: GroupChangeEvent): void {
    for (const id of userIds) this.io.to(room(appId, id)).emit('group:changed', change);
  }

  /** A notice goes out like a group message, to every online member, the actor's devices too. */
  groupNotice(appId: string, members: readonly string[], message: StoredMessage): void {
    this.fanOutGroup(appId, members, message, undefined);
  }

  userDisabled(appId: string, userId: string): void {
    this.kickRoom(room(appId, userId), 'user_disabled');
  }

  /** To every device of the user, on every node (through the adapter). */
  conversationChanged(appId: string, userId: string, change: ConversationChange): void {
    this.io.to(room(appId, userId)).emit('conversation:changed', change);
  }

  /** As `deliver`, with no sending socket to leave out: the sender's devices get it too. */
  messageStored(appId: string, result: SendResult): void {
    if (result.duplicate) return;
    if (result.members) {
      this.fanOutGroup(appId, result.members, result.message, undefined);
      return;
    }
    for (const d of result.deliveries) this.io.to(room(appId, d.userId)).emit('imchat', { ...result.message, inboxSeq: d.inboxSeq });
    if (result.deliveries.length) this.metrics.delivered(result.deliveries.length);
  }

  /**
   * The sockets of these users on every node: one fetchSockets() over their rooms, answered by
   * each node through the adapter (within its request timeout, 5 s) when there is Redis.
   */
  async liveSessions(appId: string, userIds: string[]): Promise<Map<string, LiveSession[]>> {
    const found = new Map<string, LiveSession[]>();
    if (!userIds.length || !this.attached) return found;
    let sockets: Array<{ id: string; data: unknown }>;
    try {
      sockets = await this.io.in(userIds.map((id) => room(appId, id))).fetchSockets();
    } catch (err) {
      this.opts.log('warn', 'listing sessions across nodes failed', err);
      throw new ApiError(Code.INTERNAL, 'internal error: the sessions of the other nodes could not be read (Redis); retry shortly');
    }
    for (const socket of sockets) {
      const d = socket.data as Partial<SocketState> | undefined;
      if (!d?.userId || d.appId !== appId) continue;
      const list = found.get(d.userId) ?? [];
      list.push({ id: socket.id, platform: d.platform ?? 'unknown', connectedAt: d.connectedAt ?? 0, node: d.node ?? 'unknown' });
      found.set(d.userId, list);
    }
    for (const list of found.values()) list.sort((a, b) => a.connectedAt - b.connectedAt || (a.id < b.id ? -1 : 1));
    return found;
  }
}
