/**
 * wx.connectSocket / SocketTask over the `ws` package, plus WeChat's legacy single-socket API
 * (wx.onSocketOpen, wx.sendSocketMessage, …), which acts on the most recently created task.
 */
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { domainAllowed, failure, headersFromRaw, Listeners, ok, type Outcome, parameterError, Scheduler, settle, toArrayBuffer } from './internal';
import type {
  ConnectSocketOptions,
  SocketCloseOptions,
  SocketCloseResult,
  SocketMessageResult,
  SocketOpenResult,
  SocketSendOptions,
  SocketTask,
  WxError,
  WxResult,
} from './types';

/** Reason texts WeChat DevTools fills in when the peer gave none. */
const CLOSE_REASONS: Record<number, string> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1004: 'reserved',
  1005: 'no status rcvd',
  1006: 'abnormal closure',
  1007: 'invalid frame payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory ext.',
  1011: 'internal server error',
  1015: 'tls handshake',
};

export const ERR_EXCEED_MAX_TASK = 'exceed max task count';
export const ERRNO_EXCEED_MAX_TASK = 600007;
export const ERRNO_NOT_IN_DOMAIN_LIST = 600002;
export const ERRNO_INTERRUPTED = 600003;

/** What the socket layer needs from the runtime. */
export interface SocketContext {
  readonly scheduler: Scheduler;
  readonly connectTimeout: number;
  readonly maxSockets: number;
  readonly maxSocketsPerHost: number;
  readonly allowedDomains: string[] | undefined;
  readonly referer: string;
  readonly userAgent: string;
  /** Why the network is unusable right now ('network is down', 'interrupted'), or null. */
  networkBlocked(): { reason: string; errno?: number } | null;
}

type State = 0 | 1 | 2 | 3;

export class WxSocketTask implements SocketTask {
  readonly CONNECTING = 0 as const;
  readonly OPEN = 1 as const;
  readonly CLOSING = 2 as const;
  readonly CLOSED = 3 as const;

  private state: State = 0;
  private ws: WebSocket | null = null;
  private cancelConnectTimer: () => void = () => undefined;
  private closeReported = false;
  private readonly openListeners: Listeners<[SocketOpenResult]>;
  private readonly messageListeners: Listeners<[SocketMessageResult]>;
  private readonly closeListeners: Listeners<[SocketCloseResult]>;
  private readonly errorListeners: Listeners<[WxError]>;

  constructor(
    private readonly manager: SocketManager,
    readonly socketTaskId: number,
    readonly host: string,
  ) {
    const s = manager.ctx.scheduler;
    this.openListeners = new Listeners(s, 'SocketTask.onOpen');
    this.messageListeners = new Listeners(s, 'SocketTask.onMessage');
    this.closeListeners = new Listeners(s, 'SocketTask.onClose');
    this.errorListeners = new Listeners(s, 'SocketTask.onError');
  }

  get readyState(): State {
    return this.state;
  }

  onOpen(listener: (res: SocketOpenResult) => void): void {
    this.openListeners.add(listener);
  }

  onMessage(listener: (res: SocketMessageResult) => void): void {
    this.messageListeners.add(listener);
  }

  onClose(listener: (res: SocketCloseResult) => void): void {
    this.closeListeners.add(listener);
  }

  onError(listener: (res: WxError) => void): void {
    this.errorListeners.add(listener);
  }

  send(options: SocketSendOptions, api = 'SocketTask.send'): void {
    const scheduler = this.manager.ctx.scheduler;
    const opts = options ?? ({} as SocketSendOptions);
    const data: unknown = opts.data;
    const done = (outcome: Outcome<WxResult>) => scheduler.defer(() => settle(scheduler, api, opts, outcome));
    if (typeof data !== 'string' && !(data instanceof ArrayBuffer)) {
      // WeChat only takes string or ArrayBuffer; a Node Buffer or typed array fails there too.
      done(failure(parameterError(api === 'SocketTask.send' ? 'sendSocketMessage' : api, 'data', 'String or ArrayBuffer', data)));
      return;
    }
    if (this.state !== this.OPEN || !this.ws) {
      done(failure(api === 'SocketTask.send' ? 'SocketTask.send:fail SocketTask.readyState is not OPEN' : `${api}:fail WebSocket is not connected`));
      return;
    }
    const payload = typeof data === 'string' ? data : Buffer.from(data);
    this.ws.send(payload, { binary: typeof data !== 'string' }, (err) => {
      done(err ? failure(`sendSocketMessage:fail ${err.message}`) : ok({ errMsg: 'sendSocketMessage:ok' }));
    });
  }

  close(options?: SocketCloseOptions): void {
    const scheduler = this.manager.ctx.scheduler;
    const opts = options ?? {};
    const done = (outcome: Outcome<WxResult>) => scheduler.defer(() => settle(scheduler, 'closeSocket', opts, outcome));
    if (this.state === this.CLOSED || !this.ws) {
      // DevTools forgets a task once it has closed, so closing it again cannot find it.
      done(failure('closeSocket:fail task not found'));
      return;
    }
    const code = opts.code ?? 1000;
    const reason = opts.reason ?? '';
    if (this.state === this.CONNECTING) {
      // As a browser WebSocket closed before its handshake: error, then close 1006.
      done(ok({ errMsg: 'closeSocket:ok' }));
      this.abort('WebSocket was closed before the connection was established');
      return;
    }
    try {
      this.ws.close(code, reason);
    } catch (err) {
      done(failure(`closeSocket:fail ${(err as Error).message}`));
      return;
    }
    this.state = this.CLOSING;
    done(ok({ errMsg: 'closeSocket:ok' }));
  }

  // -------------------------------------------------------------------------------------------
  // Runtime side

  /** Marks a task that never got a connection (limit, offline, whitelist): it only errors. */
  failBeforeConnect(errMsg: string, errno?: number): void {
    this.state = this.CLOSED;
    this.closeReported = true;
    const error: WxError = errno === undefined ? { errMsg } : { errMsg, errno };
    this.manager.ctx.scheduler.defer(() => this.emitError(error));
  }

  connect(url: string, options: ConnectSocketOptions): void {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.header ?? {})) {
      // WeChat does not let the page set Referer; it sends its own.
      if (k.toLowerCase() !== 'referer') headers[k] = String(v);
    }
    if (this.manager.ctx.referer) headers['Referer'] = this.manager.ctx.referer;
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'user-agent')) headers['User-Agent'] = this.manager.ctx.userAgent;
    const protocols = Array.isArray(options.protocols) && options.protocols.length ? options.protocols : undefined;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, protocols, {
        headers,
        // WeChat negotiates permessage-deflate only when asked; ws would by default.
        perMessageDeflate: options.perMessageDeflate === true,
        followRedirects: false,
      });
    } catch (err) {
      this.failBeforeConnect((err as Error).message);
      this.manager.release(this);
      return;
    }
    this.ws = ws;
    let handshakeHeader: Record<string, string> = {};
    ws.on('upgrade', (res: IncomingMessage) => {
      handshakeHeader = headersFromRaw(res.rawHeaders).header;
    });
    ws.on('open', () => {
      this.cancelConnectTimer();
      this.state = this.OPEN;
      this.openListeners.emit({ header: handshakeHeader });
      this.manager.legacyEmit(this, 'open', { header: handshakeHeader });
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const payload: SocketMessageResult = { data: isBinary ? rawToArrayBuffer(data) : rawToString(data) };
      this.messageListeners.emit(payload);
      this.manager.legacyEmit(this, 'message', payload);
    });
    ws.on('error', (err: Error) => {
      this.emitError({ errMsg: err.message });
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.finish({ code, reason: reason.toString() || CLOSE_REASONS[code] || '' });
    });
    const timeout = typeof options.timeout === 'number' && options.timeout > 0 ? options.timeout : this.manager.ctx.connectTimeout;
    this.cancelConnectTimer = this.manager.ctx.scheduler.later(timeout, () => {
      if (this.state === this.CONNECTING) this.abort('Timed out connecting to server.');
    });
  }

  /**
   * Drops the connection the way a phone losing its link does: no closing handshake, onError then
   * onClose(1006). The server sees the TCP connection reset.
   */
  abort(errMsg: string, errno?: number): void {
    if (this.closeReported) return;
    this.detach();
    // The slot frees and readyState reads CLOSED at once; listeners hear about it a tick later,
    // because WeChat never calls back from inside the call that caused the event.
    this.closeReported = true;
    this.state = this.CLOSED;
    this.manager.release(this);
    this.manager.ctx.scheduler.defer(() => {
      this.emitError(errno === undefined ? { errMsg } : { errMsg, errno });
      this.emitClose({ code: 1006, reason: CLOSE_REASONS[1006] });
    });
  }

  /** For runtime.destroy(): gone without a word. */
  kill(): void {
    this.detach();
    this.state = this.CLOSED;
    this.closeReported = true;
    this.manager.release(this);
    this.openListeners.clear();
    this.messageListeners.clear();
    this.closeListeners.clear();
    this.errorListeners.clear();
  }

  get holdsSlot(): boolean {
    return !this.closeReported;
  }

  /** Listeners registered on this task (onOpen/onMessage/onClose/onError). */
  listenerCount(): number {
    return this.openListeners.size + this.messageListeners.size + this.closeListeners.size + this.errorListeners.size;
  }

  private detach(): void {
    this.cancelConnectTimer();
    const ws = this.ws;
    if (!ws) return;
    ws.removeAllListeners();
    // terminate() during the handshake emits an error of its own; nobody is listening any more.
    ws.on('error', () => undefined);
    ws.terminate();
  }

  private emitError(error: WxError): void {
    this.errorListeners.emit(error);
    this.manager.legacyEmit(this, 'error', error);
  }

  private finish(result: SocketCloseResult): void {
    if (this.closeReported) return;
    this.cancelConnectTimer();
    this.closeReported = true;
    this.state = this.CLOSED;
    this.manager.release(this);
    this.emitClose(result);
  }

  private emitClose(result: SocketCloseResult): void {
    this.closeListeners.emit(result);
    this.manager.legacyEmit(this, 'close', result);
  }
}

function rawToString(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function rawToArrayBuffer(data: WebSocket.RawData): ArrayBuffer {
  if (Array.isArray(data)) return toArrayBuffer(Buffer.concat(data));
  return toArrayBuffer(data);
}

type LegacyEvent = 'open' | 'message' | 'close' | 'error';

export class SocketManager {
  private nextId = 1;
  private readonly all: WxSocketTask[] = [];
  private readonly active = new Set<WxSocketTask>();
  private last: WxSocketTask | null = null;
  private readonly closeWaiters = new Set<() => void>();
  readonly legacy: {
    open: Listeners<[SocketOpenResult]>;
    message: Listeners<[SocketMessageResult]>;
    close: Listeners<[SocketCloseResult]>;
    error: Listeners<[WxError]>;
  };

  constructor(readonly ctx: SocketContext) {
    const s = ctx.scheduler;
    this.legacy = {
      open: new Listeners(s, 'onSocketOpen'),
      message: new Listeners(s, 'onSocketMessage'),
      close: new Listeners(s, 'onSocketClose'),
      error: new Listeners(s, 'onSocketError'),
    };
  }

  connectSocket(options: ConnectSocketOptions): WxSocketTask {
    const scheduler = this.ctx.scheduler;
    const opts = options ?? ({} as ConnectSocketOptions);
    const id = this.nextId++;
    const reply = (outcome: Outcome<WxResult & { socketTaskId: number }>) => scheduler.defer(() => settle(scheduler, 'connectSocket', opts, outcome));

    if (typeof opts.url !== 'string') {
      const task = new WxSocketTask(this, id, '');
      this.track(task);
      const errMsg = parameterError('connectSocket', 'url', 'String', opts.url);
      reply(failure(errMsg));
      task.failBeforeConnect(errMsg);
      return task;
    }
    let parsed: URL | null = null;
    try {
      parsed = new URL(opts.url);
    } catch {
      parsed = null;
    }
    const task = new WxSocketTask(this, id, parsed?.host ?? '');
    this.track(task);
    const refuse = (reason: string, errno?: number) => {
      reply(failure(`connectSocket:fail ${reason}`, errno));
      task.failBeforeConnect(reason, errno);
    };

    if (!parsed || (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')) return refuse(`invalid url "${opts.url}"`), task;
    const blocked = this.ctx.networkBlocked();
    if (blocked) return refuse(blocked.reason, blocked.errno), task;
    if (!domainAllowed(this.ctx.allowedDomains, parsed)) return refuse('url not in domain list', ERRNO_NOT_IN_DOMAIN_LIST), task;
    if (this.active.size >= this.ctx.maxSockets) return refuse(ERR_EXCEED_MAX_TASK, ERRNO_EXCEED_MAX_TASK), task;
    const sameHost = [...this.active].filter((t) => t.host === task.host).length;
    if (sameHost >= this.ctx.maxSocketsPerHost) return refuse(ERR_EXCEED_MAX_TASK, ERRNO_EXCEED_MAX_TASK), task;

    this.active.add(task);
    reply(ok({ errMsg: 'connectSocket:ok', socketTaskId: id }));
    task.connect(opts.url, opts);
    return task;
  }

  /** wx.sendSocketMessage / wx.closeSocket act on the latest task, as in WeChat. */
  sendSocketMessage(options: SocketSendOptions): void {
    if (this.last && this.last.holdsSlot) return this.last.send(options, 'sendSocketMessage');
    const scheduler = this.ctx.scheduler;
    scheduler.defer(() => settle(scheduler, 'sendSocketMessage', options, failure('sendSocketMessage:fail WebSocket is not connected')));
  }

  closeSocket(options?: SocketCloseOptions): void {
    if (this.last) return this.last.close(options);
    const scheduler = this.ctx.scheduler;
    scheduler.defer(() => settle(scheduler, 'closeSocket', options ?? {}, failure('closeSocket:fail')));
  }

  legacyEmit(task: WxSocketTask, event: LegacyEvent, payload: unknown): void {
    if (task !== this.last) return;
    (this.legacy[event] as Listeners<[unknown]>).emit(payload);
  }

  release(task: WxSocketTask): void {
    this.active.delete(task);
    if (this.active.size === 0) for (const wake of [...this.closeWaiters]) wake();
  }

  openCount(): number {
    return this.active.size;
  }

  /**
   * Socket listeners that still matter: the global ones (wx.onSocketOpen…) and those on tasks that
   * hold a slot. A closed task's listeners can never fire again, so they do not count.
   */
  listenerCount(): number {
    let n = 0;
    for (const l of Object.values(this.legacy)) n += l.size;
    for (const t of this.active) n += t.listenerCount();
    return n;
  }

  tasks(): readonly WxSocketTask[] {
    return [...this.all];
  }

  /** Cuts every live socket as a network loss would. */
  abortAll(errMsg: string, errno?: number): void {
    for (const task of [...this.active]) task.abort(errMsg, errno);
  }

  closeAll(code: number, reason: string, timeoutMs: number): Promise<void> {
    const tasks = [...this.active];
    if (tasks.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let cancelTimer: () => void = () => undefined;
      const wake = () => {
        this.closeWaiters.delete(wake);
        cancelTimer();
        resolve();
      };
      this.closeWaiters.add(wake);
      cancelTimer = this.ctx.scheduler.later(timeoutMs, () => {
        // A server that never answers the closing handshake: drop the link instead.
        for (const t of [...this.active]) t.abort('closeSocket timed out');
        wake();
      });
      for (const t of tasks) {
        if (t.readyState === t.CLOSING) continue;
        t.close({ code, reason });
      }
    });
  }

  destroy(): void {
    for (const task of this.all) task.kill();
    this.active.clear();
    for (const wake of [...this.closeWaiters]) wake();
    for (const l of Object.values(this.legacy)) l.clear();
  }

  private track(task: WxSocketTask): void {
    this.all.push(task);
    this.last = task;
  }
}

