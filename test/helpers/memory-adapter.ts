/**
 * An in-memory adapter for unit tests of the core only: a scripted socket whose "server" side is a
 * handler map the test controls, plus fake storage, network and app-state hooks. Integration tests
 * never use it; they talk to the real reference server.
 */
import type { AppState, HttpRequest, HttpResponse, ImAdapter, SocketLike, SocketOptions } from '../../src/adapter';
import { memoryStorage } from '../../adapters/shared/storage';

type Fn = (...args: any[]) => void;

class Bus {
  private map = new Map<string, Fn[]>();
  on(e: string, f: Fn) {
    this.map.set(e, [...(this.map.get(e) ?? []), f]);
    return this;
  }
  off(e?: string, f?: Fn) {
    if (!e) this.map.clear();
    else if (!f) this.map.delete(e);
    else this.map.set(e, (this.map.get(e) ?? []).filter((x) => x !== f));
    return this;
  }
  fire(e: string, ...args: unknown[]) {
    for (const f of this.map.get(e) ?? []) f(...args);
  }
  count(e: string) {
    return this.map.get(e)?.length ?? 0;
  }
}

export type ServerHandler = (payload: any, ack: (res: unknown) => void) => void;

export class FakeSocket extends Bus implements SocketLike {
  connected = false;
  readonly io = new Bus();
  connectCalls = 0;
  disconnectCalls = 0;
  emitted: Array<{ event: string; payload: unknown }> = [];
  /**
   * What the fake server does with each client event; default: no answer, except that the user
   * is in no group (catch-up lists groups after the inbox).
   */
  handlers: Record<string, ServerHandler> = { 'chat:groups': (_p, ack) => ack({ code: 0, message: 'ok', data: { groups: [], hasMore: false } }) };
  /** When false, connect() only records the call; the test decides the outcome. */
  autoAccept = true;
  session = { userId: 'me', userName: 'Me', appId: 'app', latestInboxSeq: 0, tokenExpiresAt: 0, serverTime: 0 };

  constructor(readonly url: string, readonly options: SocketOptions) {
    super();
  }

  connect() {
    this.connectCalls++;
    if (this.autoAccept) this.accept();
    return this;
  }

  disconnect() {
    this.disconnectCalls++;
    if (this.connected) {
      this.connected = false;
      this.fire('disconnect', 'io client disconnect');
    }
    return this;
  }

  emit(event: string, payload?: unknown, ack?: Fn) {
    this.emitted.push({ event, payload });
    if (!this.connected) return this;
    const handler = this.handlers[event];
    if (handler) handler(payload, ack ?? (() => undefined));
    return this;
  }

  /** Server side: accept the connection and start the session. */
  accept() {
    this.connected = true;
    this.fire('connect');
    this.fire('session', { ...this.session });
  }

  /** Server side: the transport dropped. */
  drop(reason = 'transport close') {
    if (!this.connected) return;
    this.connected = false;
    this.fire('disconnect', reason);
  }

  /** Server side: push an event to the client. */
  push(event: string, payload: unknown) {
    this.fire(event, payload);
  }

  sent(event: string) {
    return this.emitted.filter((e) => e.event === event).map((e) => e.payload as any);
  }
}

export class MemoryAdapter implements ImAdapter {
  readonly name = 'memory';
  readonly storage = memoryStorage();
  sockets: FakeSocket[] = [];
  requests: HttpRequest[] = [];
  respond: (req: HttpRequest) => HttpResponse | Promise<HttpResponse> = () => ({ status: 200, headers: {}, data: { code: 0, message: 'ok', data: null } });
  private network = new Set<(online: boolean) => void>();
  private app = new Set<(s: AppState) => void>();
  destroyed = false;
  /** Applied to each new socket before the client connects it. */
  configure: (s: FakeSocket) => void = () => undefined;

  get socket(): FakeSocket {
    const s = this.sockets[this.sockets.length - 1];
    if (!s) throw new Error('no socket created yet');
    return s;
  }

  createSocket(url: string, options: SocketOptions): SocketLike {
    const s = new FakeSocket(url, options);
    this.configure(s);
    this.sockets.push(s);
    return s;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    return this.respond(req);
  }

  onNetworkChange(listener: (online: boolean) => void) {
    this.network.add(listener);
    return () => this.network.delete(listener);
  }

  onAppStateChange(listener: (s: AppState) => void) {
    this.app.add(listener);
    return () => this.app.delete(listener);
  }

  setOnline(online: boolean) {
    for (const l of [...this.network]) l(online);
  }

  setAppState(state: AppState) {
    for (const l of [...this.app]) l(state);
  }

  get hookCount() {
    return this.network.size + this.app.size;
  }

  destroy() {
    this.destroyed = true;
  }
}

/** A token-shaped string; the fake server does not verify it. */
export const FAKE_TOKEN = 'aaa.bbb.ccc';

export function ok(data: unknown) {
  return { code: 0, message: 'ok', data };
}

export const flush = () => new Promise((r) => setImmediate(r));
