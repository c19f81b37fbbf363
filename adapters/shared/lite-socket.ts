/**
 * A Socket.IO v4 client for one platform WebSocket (a mini-program SocketTask): the default
 * namespace, the WebSocket transport only, text packets only, socket.io-client's reconnection
 * and events. It exists for size: socket.io-client with engine.io-client and socket.io-parser is
 * about 32 KB minified (10 KB gzip), a third of the mini-program budget, and most of it is HTTP
 * long-polling, upgrades, binary attachments and namespaces, which a SocketTask cannot use or the
 * SDK does not. What the core relies on (see SocketLike) behaves as in socket.io-client:
 *
 * - `connect` after the server accepted the CONNECT packet; `connect_error` (with the server's
 *   `data` for a middleware refusal, which is not retried by itself); `disconnect` with
 *   socket.io-client's reason strings ('io server disconnect' is not retried by itself either);
 * - on the manager (`socket.io`): `reconnect_attempt`, `reconnect_error`, `reconnect`,
 *   `reconnect_failed`, with socket.io's randomised exponential backoff;
 * - `auth` called on every attempt; acks both ways.
 *
 * Unlike socket.io-client, an emit while disconnected is dropped rather than buffered (the core
 * never emits then: its outbox resends), and the per-attempt timeout runs until the namespace
 * CONNECT is answered, not only until the transport opens.
 * Protocols: https://github.com/socketio/engine.io-protocol (v4) and socket.io-protocol (v5).
 */
import type { SocketLike, SocketListener, SocketManagerLike, SocketOptions } from '../../src/adapter';

/** One WebSocket the platform opened. `send` takes a text frame. */
export interface Channel {
  send(data: string): void;
  close(): void;
}

/** What the platform reports about the WebSocket. */
export interface ChannelEvents {
  message(data: unknown): void;
  /** Closed by the peer (no argument) or failed (what went wrong): the channel is gone. */
  close(error?: string): void;
}

export type OpenChannel = (url: string, events: ChannelEvents) => Channel;

type Listeners = Map<string, SocketListener[]>;

function add(map: Listeners, event: string, fn: SocketListener): void {
  map.set(event, [...(map.get(event) ?? []), fn]);
}

function remove(map: Listeners, event?: string, fn?: SocketListener): void {
  if (event === undefined) map.clear();
  else if (!fn) map.delete(event);
  else map.set(event, (map.get(event) ?? []).filter((f) => f !== fn));
}

function fire(map: Listeners, event: string, args: unknown[]): void {
  for (const fn of (map.get(event) ?? []).slice()) fn(...args);
}

/** An Error like socket.io-client's connect errors: `data` carries the server's refusal. */
function connectError(message: string, data?: unknown): Error {
  return Object.assign(new Error(message), data === undefined ? {} : { data });
}

/** `http(s)://host[:port][/…][?query]` → the engine.io WebSocket URL (a path would be a namespace). */
export function engineUrl(url: string): string {
  const m = /^(https?|wss?):\/\/([^/?#]+)[^?#]*(\?[^#]*)?/i.exec(url);
  if (!m) throw new Error(`not an http(s) or ws(s) URL: ${url}`);
  const secure = /^(https|wss)$/i.test(m[1]);
  const extra = m[3] ? `&${m[3].slice(1)}` : '';
  return `${secure ? 'wss' : 'ws'}://${m[2]}/socket.io/?EIO=4&transport=websocket${extra}`;
}

export class LiteSocket implements SocketLike {
  connected = false;
  readonly io: SocketManagerLike;
  private readonly own: Listeners = new Map();
  private readonly manager: Listeners = new Map();
  private readonly acks = new Map<number, SocketListener>();
  private nextAck = 0;
  private channel: Channel | undefined;
  private attempt: object | undefined;
  /** True from open() until the channel closes: an attempt or a live connection exists. */
  private engaged = false;
  /** Whether the current attempt was started by the backoff timer. */
  private reconnecting = false;
  private attempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private attemptTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setTimeout> | undefined;
  private pingDeadline = 0;

  constructor(
    private readonly url: string,
    private readonly opts: SocketOptions,
    private readonly openChannel: OpenChannel,
  ) {
    this.io = {
      on: (event: string, fn: SocketListener) => (add(this.manager, event, fn), this.io),
      off: (event?: string, fn?: SocketListener) => (remove(this.manager, event, fn), this.io),
    };
  }

  on(event: string, fn: SocketListener): this {
    add(this.own, event, fn);
    return this;
  }

  off(event?: string, fn?: SocketListener): this {
    remove(this.own, event, fn);
    return this;
  }

  /** Starts an attempt unless connected, attempting, or waiting for the next backoff attempt. */
  connect(): this {
    if (!this.engaged && this.reconnectTimer === undefined) this.open();
    return this;
  }

  disconnect(): this {
    this.clearReconnect();
    this.attempts = 0;
    this.reconnecting = false;
    if (this.connected) this.write('41');
    this.drop('io client disconnect');
    return this;
  }

  emit(event: string, ...args: unknown[]): this {
    if (!this.connected) return this;
    let id = '';
    if (typeof args[args.length - 1] === 'function') {
      const n = this.nextAck++;
      this.acks.set(n, args.pop() as SocketListener);
      id = String(n);
    }
    this.write(`42${id}${JSON.stringify([event, ...args])}`);
    return this;
  }

  private open(): void {
    this.engaged = true;
    // Events of a channel that is no longer the current one (closed, replaced) are ignored.
    const attempt = (this.attempt = {});
    const events: ChannelEvents = {
      // The engine's OPEN packet, not the WebSocket's open event, starts the handshake.
      message: (data) => {
        if (this.attempt === attempt) this.onFrame(data);
      },
      close: (error) => {
        if (this.attempt === attempt) this.lost(error ? 'transport error' : 'transport close', error ?? 'closed');
      },
    };
    this.attemptTimer = setTimeout(() => this.lost('timeout', 'timeout'), this.opts.timeout);
    try {
      const channel = this.openChannel(engineUrl(this.url), events);
      if (this.attempt === attempt) this.channel = channel;
      else channel.close();
    } catch (err) {
      this.lost('transport error', err instanceof Error ? err.message : String(err));
    }
  }

  private write(packet: string): void {
    try {
      this.channel?.send(packet);
    } catch {
      // the channel is closing; its close event follows
    }
  }

  private onFrame(data: unknown): void {
    if (typeof data !== 'string') return this.lost('parse error', 'binary frame'); // the server sends none
    this.armPing();
    const type = data[0];
    if (type === '0') {
      const open = this.json(data.slice(1)) as { pingInterval?: number; pingTimeout?: number } | undefined;
      this.pingDeadline = (Number(open?.pingInterval) || 25_000) + (Number(open?.pingTimeout) || 20_000);
      this.armPing();
      this.opts.auth((auth) => this.write(`40${JSON.stringify(auth)}`));
    } else if (type === '2') this.write('3');
    else if (type === '1') this.lost('transport close', 'server closed the transport');
    else if (type === '4') this.onPacket(data.slice(1));
  }

  private onPacket(p: string): void {
    const type = p[0];
    const body = p.slice(1);
    if (body[0] === '/') return; // another namespace: never joined
    if (type === '0') {
      this.clearAttempt();
      this.connected = true;
      const attempt = this.attempts;
      const wasReconnecting = this.reconnecting;
      this.attempts = 0;
      this.reconnecting = false;
      if (wasReconnecting) fire(this.manager, 'reconnect', [attempt]);
      fire(this.own, 'connect', []);
    } else if (type === '4') {
      const err = this.json(body) as { message?: string; data?: unknown } | undefined;
      // A refusal by the server's middleware: like socket.io-client, no retry of its own.
      this.clearReconnect();
      this.reconnecting = false;
      this.attempts = 0;
      this.drop(undefined);
      fire(this.own, 'connect_error', [connectError(String(err?.message ?? 'connection refused'), err?.data)]);
    } else if (type === '1') {
      this.clearReconnect();
      this.drop('io server disconnect');
    } else if (type === '2' || type === '3') {
      const m = /^(\d*)([\s\S]*)$/.exec(body)!;
      const args = this.json(m[2]);
      if (!Array.isArray(args)) return;
      if (type === '3') {
        const fn = this.acks.get(Number(m[1]));
        this.acks.delete(Number(m[1]));
        fn?.(...args);
      } else if (typeof args[0] === 'string') {
        if (m[1]) args.push((...res: unknown[]) => this.write(`43${m[1]}${JSON.stringify(res)}`));
        fire(this.own, args[0], args.slice(1));
      }
    }
  }

  private json(text: string): unknown {
    try {
      return text ? JSON.parse(text) : undefined;
    } catch {
      return undefined;
    }
  }

  /** No packet (the server pings every pingInterval) within the deadline: the link is dead. */
  private armPing(): void {
    if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
    this.pingTimer = this.pingDeadline ? setTimeout(() => this.lost('ping timeout', 'ping timeout'), this.pingDeadline) : undefined;
  }

  /** The channel went (or an attempt failed) without either side asking for it. */
  private lost(reason: string, detail: string): void {
    if (!this.engaged) return;
    const wasConnected = this.connected;
    this.drop(wasConnected ? reason : undefined);
    if (!wasConnected) {
      fire(this.own, 'connect_error', [connectError(detail === 'timeout' ? 'timeout' : `websocket error: ${detail}`)]);
      if (this.reconnecting) fire(this.manager, 'reconnect_error', [detail]);
    }
    this.scheduleReconnect();
  }

  /** Closes the channel and, if the socket was connected, reports `reason` as its disconnect. */
  private drop(reason: string | undefined): void {
    const channel = this.channel;
    const wasConnected = this.connected;
    this.channel = undefined;
    this.attempt = undefined;
    this.engaged = false;
    this.connected = false;
    this.acks.clear();
    this.clearAttempt();
    if (this.pingTimer !== undefined) clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    this.pingDeadline = 0;
    try {
      channel?.close();
    } catch {
      // already closed
    }
    if (wasConnected && reason) fire(this.own, 'disconnect', [reason]);
  }

  private scheduleReconnect(): void {
    if (!this.opts.reconnection || this.engaged || this.reconnectTimer !== undefined) return;
    if (this.attempts >= this.opts.reconnectionAttempts) {
      this.attempts = 0;
      this.reconnecting = false;
      fire(this.manager, 'reconnect_failed', []);
      return;
    }
    // socket.io's backoff: base * 2^attempt, ±50 % jitter, capped.
    const base = Math.min(this.opts.reconnectionDelay * 2 ** this.attempts, this.opts.reconnectionDelayMax);
    const delay = Math.min(base * (0.5 + Math.random()), this.opts.reconnectionDelayMax);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.reconnecting = true;
      fire(this.manager, 'reconnect_attempt', [this.attempts]);
      if (!this.engaged) this.open();
    }, delay);
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private clearAttempt(): void {
    if (this.attemptTimer !== undefined) clearTimeout(this.attemptTimer);
    this.attemptTimer = undefined;
  }
}
