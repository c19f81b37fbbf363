/**
 * wx.request over node:http / node:https with WeChat's request shapes: the query-string and JSON
 * body rules, success for every HTTP status, `request:fail …` messages, and the concurrency limit.
 */
import http from 'node:http';
import https from 'node:https';
import { domainAllowed, failure, headersFromRaw, Listeners, ok, type Outcome, parameterError, Scheduler, settle, toArrayBuffer } from './internal';
import { ERR_EXCEED_MAX_TASK, ERRNO_EXCEED_MAX_TASK, ERRNO_NOT_IN_DOMAIN_LIST } from './socket-task';
import type { HeadersReceivedResult, RequestOptions, RequestSuccessResult, RequestTask } from './types';

const METHODS = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT'];

export interface RequestContext {
  readonly scheduler: Scheduler;
  readonly defaultTimeout: number;
  readonly maxRequests: number;
  readonly overflow: 'fail' | 'queue';
  readonly allowedDomains: string[] | undefined;
  readonly referer: string;
  readonly userAgent: string;
  readonly agents: { http: http.Agent; https: https.Agent };
  networkBlocked(): { reason: string; errno?: number } | null;
}

/**
 * Node's error codes, named as the Chromium network stack behind WeChat's Android client names
 * them ("request:fail net::ERR_CONNECTION_REFUSED"); anything else keeps Node's message.
 */
const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'net::ERR_CONNECTION_REFUSED',
  ECONNRESET: 'net::ERR_CONNECTION_RESET',
  ENOTFOUND: 'net::ERR_NAME_NOT_RESOLVED',
  EAI_AGAIN: 'net::ERR_NAME_NOT_RESOLVED',
  EHOSTUNREACH: 'net::ERR_ADDRESS_UNREACHABLE',
  ENETUNREACH: 'net::ERR_INTERNET_DISCONNECTED',
  EPIPE: 'net::ERR_CONNECTION_CLOSED',
};

export class WxRequestTask implements RequestTask {
  private done = false;
  private req: http.ClientRequest | null = null;
  private cancelTimer: () => void = () => undefined;
  private readonly headerListeners: Listeners<[HeadersReceivedResult]>;

  constructor(
    private readonly manager: RequestManager,
    private readonly options: RequestOptions<unknown>,
  ) {
    this.headerListeners = new Listeners(manager.ctx.scheduler, 'RequestTask.onHeadersReceived');
  }

  abort(): void {
    if (this.done) return;
    this.finish(failure('request:fail abort'));
  }

  onHeadersReceived(listener: (res: HeadersReceivedResult) => void): void {
    this.headerListeners.add(listener);
  }

  offHeadersReceived(listener?: (res: HeadersReceivedResult) => void): void {
    this.headerListeners.remove(listener);
  }

  get finished(): boolean {
    return this.done;
  }

  /** Ends the task with `outcome` unless it already ended; frees its slot at once. */
  finish(outcome: Outcome<RequestSuccessResult<unknown>>, silent = false): void {
    if (this.done) return;
    this.done = true;
    this.cancelTimer();
    if (this.req) {
      this.req.removeAllListeners('response');
      this.req.on('error', () => undefined);
      this.req.destroy();
      this.req = null;
    }
    this.headerListeners.clear();
    this.manager.released(this);
    if (silent) return;
    const scheduler = this.manager.ctx.scheduler;
    scheduler.defer(() => settle(scheduler, 'request', this.options, outcome));
  }

  start(): void {
    const ctx = this.manager.ctx;
    const opts = this.options;
    const prepared = prepare(opts, ctx);
    if (!prepared.ok) return this.finish(prepared);
    const { url, method, headers, body } = prepared.value;
    const responseType = opts.responseType === 'arraybuffer' ? 'arraybuffer' : 'text';
    const parseJson = (opts.dataType ?? 'json') === 'json';

    const transport = url.protocol === 'https:' ? https : http;
    const agent = url.protocol === 'https:' ? ctx.agents.https : ctx.agents.http;
    let req: http.ClientRequest;
    try {
      req = transport.request(url, { method, headers, agent });
    } catch (err) {
      return this.finish(failure(`request:fail ${(err as Error).message}`));
    }
    this.req = req;
    const timeout = typeof opts.timeout === 'number' && opts.timeout > 0 ? opts.timeout : ctx.defaultTimeout;
    this.cancelTimer = ctx.scheduler.later(timeout, () => this.finish(failure('request:fail timeout')));

    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      this.finish(failure(`request:fail ${NET_ERRORS[code] ?? err.message}`));
    });
    req.on('response', (res: http.IncomingMessage) => {
      const { header, cookies } = headersFromRaw(res.rawHeaders);
      this.headerListeners.emit({ header, cookies });
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err: Error) => this.finish(failure(`request:fail ${err.message}`)));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        let data: unknown;
        if (responseType === 'arraybuffer') data = toArrayBuffer(raw);
        else {
          const text = raw.toString('utf8');
          data = text;
          // WeChat hands back the string when the body is not JSON; it never fails the call for it.
          if (parseJson) {
            try {
              data = JSON.parse(text);
            } catch {
              data = text;
            }
          }
        }
        // Every status is a success in WeChat: a 404 or 500 is still "request:ok".
        this.finish(ok({ data, statusCode: res.statusCode ?? 0, header, cookies, errMsg: 'request:ok' }));
      });
    });
    if (body !== undefined) req.write(body);
    req.end();
  }
}

interface Prepared {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: Buffer | string | undefined;
}

function prepare(opts: RequestOptions<unknown>, ctx: RequestContext): Outcome<Prepared> {
  if (typeof opts.url !== 'string') return failure(parameterError('request', 'url', 'String', opts.url));
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    return failure(`request:fail invalid url "${opts.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return failure('request:fail request protocol must be http or https');
  if (!domainAllowed(ctx.allowedDomains, url)) return failure('request:fail url not in domain list', ERRNO_NOT_IN_DOMAIN_LIST);
  const method = String(opts.method ?? 'GET').toUpperCase();
  if (!METHODS.includes(method)) return failure('request:fail method is invalid');

  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.header ?? {})) {
    // Referer is not settable in WeChat; it is always servicewechat.com/{appid}/{version}/page-frame.html.
    if (k.toLowerCase() !== 'referer' && v !== undefined && v !== null) headers[k] = String(v);
  }
  const contentTypeKey = Object.keys(headers).find((k) => k.toLowerCase() === 'content-type');
  if (contentTypeKey === undefined) headers['content-type'] = 'application/json';
  const contentType = headers[contentTypeKey ?? 'content-type'].toLowerCase();
  // Platforms that document no Referer of their own send none here.
  if (ctx.referer) headers['Referer'] = ctx.referer;
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'user-agent')) headers['User-Agent'] = ctx.userAgent;

  const data = opts.data;
  let body: Buffer | string | undefined;
  if (method === 'GET') {
    // GET data goes into the query string (encodeURIComponent(k)=encodeURIComponent(v)&…).
    const query = typeof data === 'string' ? data : isPlainData(data) ? toQuery(data) : '';
    if (query) url = new URL(`${url.href.split('#')[0]}${url.search ? '&' : '?'}${query}`);
  } else if (data !== undefined && data !== null) {
    if (typeof data === 'string') body = data;
    else if (data instanceof ArrayBuffer) body = Buffer.from(data);
    else if (ArrayBuffer.isView(data)) body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else if (contentType.includes('application/x-www-form-urlencoded') && isPlainData(data)) body = toQuery(data);
    else {
      try {
        body = JSON.stringify(data);
      } catch (err) {
        return failure(`request:fail invalid request data: ${(err as Error).message}`);
      }
    }
  }
  if (body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(body));
  return ok({ url, method, headers, body });
}

function isPlainData(data: unknown): data is Record<string, unknown> {
  return typeof data === 'object' && data !== null && !(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data);
}

function toQuery(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))}`)
    .join('&');
}

export class RequestManager {
  private readonly active = new Set<WxRequestTask>();
  private readonly queue: WxRequestTask[] = [];

  constructor(readonly ctx: RequestContext) {}

  request(options: RequestOptions<unknown>): WxRequestTask {
    const opts = options ?? ({} as RequestOptions<unknown>);
    const task = new WxRequestTask(this, opts);
    const blocked = this.ctx.networkBlocked();
    if (blocked) {
      task.finish(failure(`request:fail ${blocked.reason}`, blocked.errno));
      return task;
    }
    if (this.active.size >= this.ctx.maxRequests) {
      if (this.ctx.overflow === 'queue') {
        this.queue.push(task);
        return task;
      }
      task.finish(failure(`request:fail ${ERR_EXCEED_MAX_TASK}`, ERRNO_EXCEED_MAX_TASK));
      return task;
    }
    this.active.add(task);
    task.start();
    return task;
  }

  released(task: WxRequestTask): void {
    const idx = this.queue.indexOf(task);
    if (idx >= 0) this.queue.splice(idx, 1);
    if (!this.active.delete(task)) return;
    while (this.active.size < this.ctx.maxRequests && this.queue.length) {
      const next = this.queue.shift()!;
      const blocked = this.ctx.networkBlocked();
      if (blocked) {
        next.finish(failure(`request:fail ${blocked.reason}`, blocked.errno));
        continue;
      }
      this.active.add(next);
      next.start();
    }
  }

  pending(): number {
    return this.active.size;
  }

  /** Fails every in-flight and queued request, as a lost network does. */
  failAll(reason: string, errno?: number): void {
    for (const task of [...this.queue, ...this.active]) task.finish(failure(`request:fail ${reason}`, errno));
  }

  destroy(): void {
    for (const task of [...this.queue, ...this.active]) task.finish(failure('request:fail abort'), true);
    this.queue.length = 0;
    this.active.clear();
  }
}
