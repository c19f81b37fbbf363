import { io as socketIo } from 'socket.io-client';
import type { AdapterCandidate, AppState, HttpRequest, HttpResponse, ImAdapter, KeyValueStorage, SocketLike, SocketOptions, Unsubscribe } from '../../src/adapter';
import { normaliseHeaders, parseBody, transportError } from '../shared';
import { createSocketTaskTransport } from './socket-task-transport';
import type { WxApi } from './wx-types';

export type { WxApi } from './wx-types';

/** socket.io-client's `io()` shape; weapp.socket.io exports exactly this. */
export type IoFactory = (url: string, options: Record<string, unknown>) => SocketLike;

export interface WeappAdapterOptions {
  /** The `wx` object; defaults to the global one. */
  wx?: WxApi;
  /**
   * A Socket.IO client factory to use instead of the built-in one (socket.io-client 4 over a
   * SocketTask transport), e.g. `require('weapp.socket.io')`.
   */
  io?: IoFactory;
  /** WeChat allows 10 concurrent wx.request calls; more are queued here instead of failing. */
  maxConcurrentRequests?: number;
}

declare const wx: WxApi | undefined;

function globalWx(): WxApi | undefined {
  return typeof wx !== 'undefined' && wx && typeof wx.request === 'function' ? wx : undefined;
}

/** socket.io-client 4 whose only transport is WeChat's SocketTask. */
function socketIoOverSocketTask(api: WxApi): IoFactory {
  const transport = createSocketTaskTransport(api);
  return (url, options) => socketIo(url, { ...options, transports: [transport] } as never) as unknown as SocketLike;
}

/** Promisifies one wx call with success/fail callbacks. */
function call<T>(invoke: (cb: { success: (r: T) => void; fail: (e: { errMsg: string }) => void }) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      invoke({ success: resolve, fail: (e) => reject(new Error(e?.errMsg ?? 'wx call failed')) });
    } catch (err) {
      reject(err);
    }
  });
}

/** WeChat mini-programs: weapp.socket.io over wx.connectSocket, wx.request, wx storage and lifecycle. */
export function createWeappAdapter(options: WeappAdapterOptions = {}): ImAdapter {
  const api = options.wx ?? globalWx();
  if (!api) throw new Error('createWeappAdapter: no wx object; pass createWeappAdapter({ wx })');
  const maxRequests = options.maxConcurrentRequests ?? 10;
  const io = options.io ?? socketIoOverSocketTask(api);
  let active = 0;
  const queue: Array<() => void> = [];
  const cleanups = new Set<Unsubscribe>();

  const subscribe = <F>(on: ((f: F) => void) | undefined, off: ((f: F) => void) | undefined, fn: F): Unsubscribe => {
    if (typeof on !== 'function') return () => undefined;
    on.call(api, fn);
    const undo = () => {
      cleanups.delete(undo);
      if (typeof off === 'function') off.call(api, fn);
    };
    cleanups.add(undo);
    return undo;
  };

  const acquire = () =>
    new Promise<void>((resolve) => {
      if (active < maxRequests) {
        active++;
        resolve();
      } else queue.push(() => {
        active++;
        resolve();
      });
    });
  const release = () => {
    active--;
    queue.shift()?.();
  };

  const storage: KeyValueStorage = {
    getItem: (key) =>
      new Promise((resolve) => {
        try {
          api.getStorage({
            key,
            success: (res) => resolve(typeof res.data === 'string' ? res.data : res.data == null ? null : JSON.stringify(res.data)),
            // A missing key is a "fail" in WeChat: treat it as absent.
            fail: () => resolve(null),
          });
        } catch {
          resolve(null);
        }
      }),
    setItem: (key, value) => call<unknown>((cb) => api.setStorage({ key, data: value, ...cb })).then(() => undefined),
    removeItem: (key) => call<unknown>((cb) => api.removeStorage({ key, ...cb })).then(() => undefined),
  };

  return {
    name: 'weapp',
    storage,

    createSocket(url: string, socketOptions: SocketOptions): SocketLike {
      return io(url, { ...socketOptions, forceNew: true, transports: ['websocket'] });
    },

    async request(req: HttpRequest): Promise<HttpResponse> {
      await acquire();
      try {
        return await new Promise<HttpResponse>((resolve, reject) => {
          api.request({
            url: req.url,
            method: req.method,
            header: req.headers,
            timeout: req.timeout,
            dataType: 'json',
            ...(req.body === undefined ? {} : { data: req.body }),
            // Any HTTP status is a response: the core reads the envelope's error code from it.
            success: (res) => resolve({ status: res.statusCode, headers: normaliseHeaders(res.header), data: parseBody(res.data) }),
            fail: (err) => {
              const msg = err?.errMsg ?? 'request:fail';
              reject(transportError(msg, /timeout/i.test(msg), err));
            },
          });
        });
      } finally {
        release();
      }
    },

    onNetworkChange(listener) {
      return subscribe(api.onNetworkStatusChange, api.offNetworkStatusChange, (res: { isConnected: boolean }) => listener(!!res?.isConnected));
    },

    onAppStateChange(listener: (state: AppState) => void) {
      const offShow = subscribe(api.onAppShow, api.offAppShow, () => listener('foreground'));
      const offHide = subscribe(api.onAppHide, api.offAppHide, () => listener('background'));
      return () => {
        offShow();
        offHide();
      };
    },

    socketErrorHint(url) {
      return (
        `in a mini-program, add ${url.replace(/^http/, 'ws')} to the socket domain whitelist ("socket合法域名") ` +
        'in the mini-program console, or tick "do not verify domains" in WeChat DevTools while developing'
      );
    },

    destroy() {
      for (const undo of [...cleanups]) undo();
    },
  };
}

export const weappAdapterCandidate: AdapterCandidate = {
  name: 'weapp',
  isSupported: () => (globalWx() ? true : 'no global wx (not a WeChat mini-program)'),
  create: () => createWeappAdapter(),
};
