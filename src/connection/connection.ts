import type { SocketLike, Unsubscribe } from '../adapter';
import type { TokenManager } from '../auth/token-manager';
import type { ClientContext } from '../core/context';
import { ImError, fromServerError } from '../core/errors';
import type { ConnectionStatus } from '../core/events';
import { SocketEvent, type SessionInfo } from '../core/protocol';
import { Heartbeat } from './heartbeat';
import { listen, type EventTarget } from './listen';
import { PlatformHooks } from './platform-hooks';
import { Rpc } from './rpc';
import { STATUS_OF, TRANSITIONS, isActive, type ConnectionState } from './state';

/** Why the lifecycle ended; what was still waiting fails with this code. */
export type EndCode = 'E_NOT_CONNECTED' | 'E_KICKED' | 'E_DESTROYED' | 'E_TOKEN_EXPIRED';

/** What the connection tells the modules above it. */
export interface ConnectionEvents {
  /** The server accepted a session (the first, or again after a reconnect). */
  session(session: SessionInfo): void;
  /** The connection dropped or was closed: answers to anything sent on it will not come. */
  lost(): void;
  /** The lifecycle ended (disconnect, kick, refused or expired token, destroy). */
  ended(code: EndCode, reason: string): void;
  /** Reconnection gave up; the socket stays for a later attempt. */
  gaveUp(code: 'E_NETWORK', reason: string): void;
  /** The app went to the background: state worth keeping must be stored now. */
  background(): void;
}

/** The server → client events modules other than the connection own (see messaging/router). */
export interface Routes {
  attach(target: EventTarget): Unsubscribe[];
}

/** How long platform-triggered reconnects are throttled, so a burst of events cannot storm. */
const FORCED_RECONNECT_GAP_MS = 2000;

/**
 * The socket, its state and the whole reconnect policy: socket.io's backoff, forced reconnects on
 * network return, app show and a dead heartbeat (throttled), the server's deliberate disconnects,
 * and giving up. Every change of state goes through `transition()`, which emits `status`.
 */
export class Connection {
  readonly rpc: Rpc;
  private state: ConnectionState = { name: 'idle' };
  private socket: SocketLike | undefined;
  private url: string | undefined;
  private socketCleanup: Unsubscribe[] = [];
  private readonly hooks: PlatformHooks;
  private readonly heartbeat: Heartbeat;
  private waiters: Array<{ resolve: (v: boolean) => void; reject: (e: ImError) => void }> = [];
  private lastForcedReconnect = 0;
  /** Set while reconnectNow() closes the socket, so that close is not taken for a user's disconnect. */
  private forcing = false;
  private serverDisconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** A reconnect held back by the throttle, or a retry after a transient refusal. */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private refusals = 0;
  /**
   * The last session the server accepted, kept through reconnects (the user does not change while
   * the socket is down) and forgotten when the socket is torn down.
   */
  private lastSession: SessionInfo | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly auth: TokenManager,
    private readonly routes: Routes,
    private readonly on: ConnectionEvents,
  ) {
    const { opts } = ctx;
    this.rpc = new Rpc(() => this.socket, () => opts.sendTimeout);
    this.heartbeat = new Heartbeat(
      opts.pingInterval,
      opts.pingTimeout,
      (onPong) =>
        this.rpc.notify(SocketEvent.HEARTBEAT, { ts: Date.now() }, (res: { code?: number } | undefined) => {
          if (res && res.code === 0) onPong();
        }),
      () => {
        ctx.log.warn(`no heartbeat answer within ${opts.pingTimeout} ms; reconnecting`);
        this.reconnectNow(true);
      },
    );
    this.hooks = new PlatformHooks(ctx.log, {
      online: () => this.reconnectNow(false),
      foreground: () => {
        if (this.socket?.connected) this.heartbeat.start();
        else this.reconnectNow(false);
      },
      background: () => {
        this.heartbeat.stop();
        on.background();
      },
    });
  }

  get status(): ConnectionStatus {
    return STATUS_OF[this.state.name];
  }

  /** The current session: the last one accepted, while reconnecting too; none once stopped. */
  get session(): SessionInfo | undefined {
    return this.lastSession;
  }

  get active(): boolean {
    return isActive(this.state);
  }

  get destroyed(): boolean {
    return this.state.name === 'destroyed';
  }

  /** The socket is connected (the session may still be on its way). */
  get connected(): boolean {
    return !!this.socket?.connected;
  }

  get heartbeatActive(): boolean {
    return this.connected && this.heartbeat.isActive();
  }

  beat(): boolean {
    return this.heartbeat.beat();
  }

  /** Resolves once the server accepted the session; a second call on the same URL reuses the socket. */
  connect(url: string): Promise<boolean> {
    const socket = this.socket;
    if (socket && this.url === url && this.active) {
      if (this.state.name === 'online' && socket.connected) return Promise.resolve(true);
      const waiting = this.waitForSession();
      if (this.state.name === 'suspended') {
        // Reconnection had given up; an explicit connect() tries again.
        this.clearRetry();
        this.transition({ name: 'connecting' });
        socket.connect();
      }
      return waiting;
    }
    if (socket) {
      // Another server: what was in flight on the old socket goes again on the new one.
      this.teardownSocket();
      this.lose();
    }
    this.url = url;
    this.hooks.install(this.ctx.adapter);
    this.socket = this.createSocket(url);
    const waiting = this.waitForSession();
    this.transition({ name: 'connecting' });
    this.socket.connect();
    return waiting;
  }

  /** A new token: told to a live connection at once, or used to retry one that gave up. */
  async pushToken(token: string): Promise<void> {
    const socket = this.socket;
    if (socket?.connected) await this.rpc.request<{ expiresAt: number }>(SocketEvent.TOKEN_RENEW, { token }, 'renewToken');
    else if (socket && this.state.name === 'suspended') socket.connect();
  }

  /** Opens the socket again (after a fresh token), if a connection is still wanted. */
  retry(): void {
    if (this.active) this.socket?.connect();
  }

  /**
   * Reconnects at once instead of waiting out the backoff timer (network back, app shown, dead
   * heartbeat, a failed catch-up). Throttled so a burst of platform events cannot storm.
   */
  reconnectNow(force: boolean): void {
    const socket = this.socket;
    if (!this.active || !socket) return;
    if (socket.connected && !force) return;
    const now = Date.now();
    const wait = this.lastForcedReconnect + FORCED_RECONNECT_GAP_MS - now;
    if (wait > 0) {
      // Held back, not dropped: a reconnect that is due (a failed catch-up) must still happen.
      if (force && this.retryTimer === undefined) this.retryTimer = setTimeout(() => ((this.retryTimer = undefined), this.reconnectNow(true)), wait);
      return;
    }
    this.lastForcedReconnect = now;
    this.clearRetry();
    this.ctx.log.info('reconnecting now');
    // disconnect() cancels the manager's pending backoff timer; connect() opens a fresh attempt.
    this.forcing = true;
    try {
      socket.disconnect();
    } finally {
      this.forcing = false;
    }
    this.lose({ name: 'reconnecting' });
    socket.connect();
  }

  /** Ends the connection on our side (explicit disconnect, kick, auth failure, destroy). */
  stop(code: EndCode, reason: string, disconnectReason: string, connectError?: ImError, next: 'idle' | 'destroyed' = 'idle'): void {
    if (this.destroyed) return;
    const wasActive = this.active;
    const wasConnected = this.connected;
    // Not active from here on, so what the modules do next (fail and persist the outbox) sees
    // it; `status` is told last, when the teardown is complete, so a listener that calls
    // connect() again starts from a clean state.
    const before = this.status;
    this.transition({ name: next }, false);
    this.teardownSocket();
    this.settleWaiters(connectError ?? new ImError(code, `connect: ${reason}.`));
    this.on.ended(code, reason);
    this.lose();
    if (this.status !== before && this.state.name === next) this.ctx.events.emit('status', this.status);
    if (wasActive && wasConnected) this.ctx.events.emit('disconnect', disconnectReason);
  }

  private transition(next: ConnectionState, announce = true): void {
    const from = this.state;
    if (from.name === next.name && next.name !== 'online') return;
    if (!TRANSITIONS[from.name].includes(next.name)) {
      // A bug in the policy, never the user's doing: keep the state consistent and say so.
      this.ctx.log.error(`internal: illegal connection transition ${from.name} -> ${next.name}; ignored`);
      return;
    }
    this.state = next;
    if (announce && STATUS_OF[from.name] !== STATUS_OF[next.name]) this.ctx.events.emit('status', STATUS_OF[next.name]);
  }

  /** The connection went: nothing sent on it will be answered. */
  private lose(next?: ConnectionState): void {
    this.rpc.failPending();
    this.heartbeat.stop();
    this.heartbeat.reset();
    this.on.lost();
    if (next) this.transition(next);
  }

  private createSocket(url: string): SocketLike {
    const { opts, log } = this.ctx;
    const socket = this.ctx.adapter.createSocket(url, {
      auth: (cb) => cb({ token: this.auth.current ?? '', platform: this.ctx.adapter.name }),
      reconnection: opts.reconnection,
      reconnectionAttempts: opts.reconnectionAttempts,
      reconnectionDelay: opts.reconnectionDelay,
      reconnectionDelayMax: Math.max(opts.reconnectionDelay, 5000),
      timeout: opts.timeout,
      transports: ['websocket'],
      autoConnect: false,
    });
    const on = (target: EventTarget, event: string, fn: (...a: any[]) => void) => this.socketCleanup.push(listen(target, event, fn, log));
    on(socket, 'connect', () => this.onSocketConnect());
    on(socket, 'disconnect', (reason: unknown) => this.onSocketDisconnect(String(reason)));
    on(socket, 'connect_error', (err: unknown) => this.onConnectError(err));
    on(socket, SocketEvent.SESSION, (s: SessionInfo) => this.onSession(s));
    on(socket, SocketEvent.KICKED, (info: { reason?: string } | undefined) => this.onKicked(String(info?.reason ?? 'unknown')));
    on(socket.io, 'reconnect_attempt', () => this.transition({ name: 'reconnecting' }));
    on(socket.io, 'reconnect', (attempt: unknown) => this.ctx.events.emit('reconnect', Number(attempt)));
    on(socket.io, 'reconnect_failed', () => this.giveUp(`could not reconnect to ${this.url} after ${opts.reconnectionAttempts} attempts`));
    this.socketCleanup.push(...this.routes.attach(socket));
    return socket;
  }

  private teardownSocket(): void {
    this.rpc.failPending();
    if (this.serverDisconnectTimer) clearTimeout(this.serverDisconnectTimer);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.lastSession = undefined;
    for (const undo of this.socketCleanup.splice(0)) undo();
    this.hooks.remove();
    const socket = this.socket;
    this.socket = undefined;
    this.heartbeat.stop();
    if (socket) {
      try {
        socket.disconnect();
      } catch (err) {
        this.ctx.log.debug('socket.disconnect() threw', err);
      }
    }
  }

  private waitForSession(): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private settleWaiters(err: ImError | null): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve(true);
    }
  }

  /** A retry or held-back reconnect is moot once another attempt starts or succeeds. */
  private clearRetry(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** The token now names someone else: the last session is not theirs. */
  forgetSessionOf(user: { app: string; sub: string }): void {
    const s = this.lastSession;
    if (s && (s.appId !== user.app || s.userId !== user.sub)) this.lastSession = undefined;
  }

  private onSocketConnect(): void {
    this.clearRetry();
    this.ctx.log.info(`connected to ${this.url}`);
    if (this.serverDisconnectTimer) clearTimeout(this.serverDisconnectTimer);
    this.transition({ name: 'connected' });
    this.ctx.events.emit('connect');
  }

  private onSession(session: SessionInfo): void {
    if (!session || typeof session.userId !== 'string') return;
    this.transition({ name: 'online', session });
    this.lastSession = session;
    this.refusals = 0;
    this.clearRetry();
    this.heartbeat.reset();
    if (this.hooks.foreground) this.heartbeat.start();
    this.settleWaiters(null);
    this.on.session(session);
  }

  private onSocketDisconnect(reason: string): void {
    this.ctx.log.info(`disconnected: ${reason}`);
    const active = this.active;
    this.lose(active ? { name: 'reconnecting' } : undefined);
    this.ctx.events.emit('disconnect', reason);
    if (!active) return;
    if (reason === 'io server disconnect') {
      // The server closed this session deliberately; socket.io will not retry by itself. Kicks and
      // expiry end the lifecycle before we get here, so this is a restart or an admin action.
      this.serverDisconnectTimer = setTimeout(() => {
        if (this.active && this.socket && !this.socket.connected) this.socket.connect();
      }, this.ctx.opts.reconnectionDelay);
    } else if (reason === 'io client disconnect' && !this.forcing) {
      this.transition({ name: 'suspended' });
    } else if (!this.ctx.opts.reconnection) {
      this.giveUp(`connection lost (${reason}) and reconnection is off`);
    }
  }

  private onConnectError(err: unknown): void {
    const data = (err as { data?: { code?: number; message?: string } } | undefined)?.data;
    const text = err instanceof Error ? err.message : String(err);
    if (data && (data.code === 42900 || data.code === 50300) && this.ctx.opts.reconnection && this.refusals < this.ctx.opts.reconnectionAttempts) {
      // Transient: too many of the user's sockets for now, or the server is restarting. The
      // client tries again with backoff; socket.io does not retry a refusal by itself.
      this.refusals++;
      const delay = Math.min(this.ctx.opts.reconnectionDelay * 2 ** Math.min(this.refusals - 1, 4), 30_000);
      this.ctx.log.warn(`the server refused the connection for now (${data.message ?? text}); retrying in ${delay} ms`);
      this.transition({ name: 'reconnecting' });
      this.clearRetry();
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.active && this.socket && !this.socket.connected) this.socket.connect();
      }, delay);
      return;
    }
    if (data && typeof data.code === 'number') {
      const error = fromServerError(data.code, data.message ?? text, 'connect');
      if (error.code === 'E_TOKEN_EXPIRED' && this.auth.refreshable) {
        void this.auth.refreshAndReconnect();
        return;
      }
      if (error.code === 'E_TOKEN_EXPIRED') this.ctx.events.emit('tokenExpired', { expiresAt: 0 });
      this.ctx.emitError(error);
      const code = error.code === 'E_TOKEN_EXPIRED' ? 'E_TOKEN_EXPIRED' : 'E_NOT_CONNECTED';
      this.stop(code, `the server refused the connection (${error.message})`, 'io client disconnect', error);
      return;
    }
    const hint = this.ctx.adapter.socketErrorHint?.(this.url ?? '');
    this.ctx.log.warn(`cannot reach ${this.url}: ${text}${hint ? ` (${hint})` : ''}`);
    if (!this.ctx.opts.reconnection) this.giveUp(`cannot reach ${this.url} (${text})`);
    else if (this.state.name !== 'connecting') this.transition({ name: 'reconnecting' });
  }

  /** Reconnection gave up: report it and fail what is waiting, but keep the socket for a later try. */
  private giveUp(reason: string): void {
    const error = new ImError('E_NETWORK', `${reason}. Check the network and serverUrl; the client reconnects when the network comes back or connect() is called.`);
    this.transition({ name: 'suspended' });
    this.ctx.emitError(error);
    this.settleWaiters(error);
    this.on.gaveUp('E_NETWORK', reason);
  }

  private onKicked(reason: string): void {
    this.ctx.log.warn(`kicked by the server: ${reason}`);
    this.ctx.events.emit('kicked', { reason });
    this.stop('E_KICKED', `the server ended this session (${reason})`, 'kicked');
  }
}
