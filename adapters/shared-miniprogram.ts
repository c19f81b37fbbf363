/**
 * One adapter for every "mini-program-style" API object: WeChat's `wx` and the platforms shaped
 * like it (QQ `qq`, Alipay `my`, DingTalk `dd`, Douyin/Feishu `tt`, Baidu `swan`, Kuaishou `ks`, JD
 * `jd`), uni-app's `uni` and Taro's `Taro` (request, connectSocket, storage, network and app hooks
 * with success/fail callbacks). What differs is handled here, per instance:
 *
 * - a platform's dialect (adapters/shared/dialect.ts, set per platform in adapters/platforms.ts):
 *   Alipay-shaped HTTP and sockets, Douyin's late SocketTask, Baidu's off* without a listener;
 * - what any of them may answer, read without asking which: `statusCode` or `status`, `header` or
 *   `headers`, `errMsg` or `errorMessage`, an HTTP status inside `fail`; a request that neither
 *   answers nor fails in time is ended by a timer here (older Douyin base libraries ignore `timeout`);
 * - return values: `wx.request` returns a task; `uni.*` returns a task when a callback is passed and
 *   a promise otherwise; `Taro.*` always returns a promise (and calls the callbacks too), and
 *   `Taro.connectSocket` hands its SocketTask over in that promise. Callbacks are always passed
 *   here, and a returned promise gets a rejection handler so a failure is reported once, through
 *   the callback, never as an unhandled rejection;
 * - H5 builds of uni-app and Taro run in a browser: there the socket is socket.io-client (passed in
 *   by those adapters as `h5Io`, so the mini-program bundle never holds it), and network/visibility
 *   come from `window`/`document`.
 */
import type { AppState, BlobLike, HttpRequest, HttpResponse, ImAdapter, KeyValueStorage, SocketLike, SocketOptions, Unsubscribe, UploadRequest } from '../src/adapter';
import { Cleanups } from './shared/cleanups';
import type { Dialect } from './shared/dialect';
import { onBrowserNetworkChange, onPageVisibilityChange } from './shared/dom-hooks';
import { normaliseHeaders, parseBody, transportError } from './shared/http';
import { isThenable } from './shared/promise';
import { unsupportedSource } from './shared/upload';
import { LiteSocket } from './shared/lite-socket';
import { socketTaskChannel } from './weapp/socket-task-channel';
import type { WxApi } from './weapp/wx-types';

export type { Dialect } from './shared/dialect';

/** socket.io-client's `io()` shape; weapp.socket.io exports exactly this. */
export type IoFactory = (url: string, options: Record<string, unknown>) => SocketLike;

/**
 * The surface used of `wx`, `uni` or `Taro`. Return types are loose on purpose: each framework
 * returns something different (a task, a promise, a promise of a task).
 */
export type MiniprogramStyleApi = {
  [K in keyof WxApi]: WxApi[K] extends (...args: infer A) => unknown ? (...args: A) => unknown : WxApi[K];
};

/** An object with `connectSocket`: where the socket comes from when it is not the adapter's `api`. */
export interface SocketApi {
  connectSocket(opts: Record<string, unknown>): unknown;
}

/** `miniprogram`: the lite Socket.IO client over SocketTask, and the API's lifecycle hooks. `h5`: a browser page. */
export type RuntimeTarget = 'miniprogram' | 'h5';

export interface MiniprogramStyleAdapterConfig {
  /** 'weapp', 'alipay', 'uniapp', 'taro', ...: shown in logs. */
  name: string;
  api: MiniprogramStyleApi;
  /** What the platform does differently from wx; none when omitted. */
  dialect?: Dialect;
  /** The socket's API and dialect when they are not `api`'s (Taro and uni-app on Alipay: the native `my`). */
  socket?: { api: SocketApi; dialect: Dialect };
  /** The same for the network and app-state hooks (uni-app on Alipay wraps listeners, so its off* removes nothing). */
  hooks?: { api: object; dialect: Dialect };
  /** Replaces the built-in Socket.IO client (e.g. with socket.io-client or weapp.socket.io). */
  io?: IoFactory;
  /** The Socket.IO client of an H5 build (required for target 'h5' unless `io` is given). */
  h5Io?: IoFactory;
  /** At most this many requests at once (WeChat allows 10); more wait in a queue. */
  maxConcurrentRequests?: number;
  /** Defaults to 'miniprogram'. */
  target?: RuntimeTarget;
  /**
   * Uploads a File/Blob in an H5 build (uni-app and Taro pass the XMLHttpRequest one); left out of
   * the mini-program adapters, whose platforms have no Blob, to keep the mini-program bundle small.
   */
  blobUpload?: (req: UploadRequest, blob: BlobLike) => Promise<HttpResponse>;
}

/** What request and uploadFile answer, or fail with, on any of the platforms. */
type Answer = { statusCode?: number; status?: number; header?: unknown; headers?: unknown; data?: unknown };
type Failure = Answer & { errMsg?: string; errorMessage?: string; error?: number };
type Callbacks = { success: (res: Answer) => void; fail: (err?: Failure) => void };
type Loose = Record<string, ((opts: Record<string, unknown>) => unknown) | undefined>;
type Hook = 'NetworkStatusChange' | 'AppShow' | 'AppHide';

/**
 * Hooks whose listeners cannot be removed one by one (Baidu's offAppShow()/offAppHide() remove the
 * app's own listeners too; a platform without an off* keeps every listener): one listener per API
 * object and hook, registered once, never removed, fanning out to the clients that listen now.
 * Keyed by the API object, not global: two simulated phones in one process keep their own.
 */
const hubs = new WeakMap<object, Partial<Record<Hook, Set<(res: unknown) => void>>>>();

/** A promise returned next to the callbacks carries the same failure: observe it so it is not "unhandled". */
function silence<T>(returned: T): T {
  if (isThenable(returned)) returned.then(undefined, () => undefined);
  return returned;
}

function toResponse(res: Answer): HttpResponse {
  return { status: (res.statusCode ?? res.status) as number, headers: normaliseHeaders(res.header ?? res.headers), data: parseBody(res.data) };
}

/** `errMsg` (wx, tt, swan, qq…) or `errorMessage` with its number (Alipay, DingTalk). */
function failure(e: Failure | undefined, what: string): Error & { timeout: boolean } {
  const msg = e?.errMsg ?? (e?.errorMessage === undefined ? `${what}:fail` : `${what}:fail ${e.errorMessage} (error ${e.error})`);
  // Alipay's error 13 is its timeout.
  return transportError(msg, /timeout|time out|超时/i.test(msg) || e?.error === 13, e);
}

/**
 * True in a browser page (uni-app/Taro H5): a real `document` and a `WebSocket` constructor. In
 * mini-programs there is no WebSocket global (Taro's mini-program runtime provides a `window` and a
 * `document`, but never `WebSocket`).
 */
export function looksLikeBrowser(): boolean {
  return typeof WebSocket === 'function' && typeof document !== 'undefined' && !!document && typeof document.addEventListener === 'function';
}

export function createMiniprogramStyleAdapter(config: MiniprogramStyleAdapterConfig): ImAdapter {
  const { api, name } = config;
  const dialect = config.dialect ?? {};
  const ali = dialect.ali;
  const loose = api as unknown as Loose;
  const target: RuntimeTarget = config.target ?? 'miniprogram';
  const maxRequests = config.maxConcurrentRequests ?? dialect.requests ?? 10;
  const openChannel = socketTaskChannel(config.socket?.api ?? (api as unknown as SocketApi), config.socket?.dialect ?? dialect);
  const io: IoFactory | undefined = config.io ?? (target === 'h5' ? config.h5Io : undefined);
  let active = 0;
  const queue: Array<() => void> = [];
  const cleanups = new Cleanups();

  const hookApi = config.hooks?.api ?? api;
  const listen = (hook: Hook, fn: (res: unknown) => void): Unsubscribe => {
    const on = (hookApi as Loose)[`on${hook}`];
    const off = (hookApi as Loose)[`off${hook}`];
    if (typeof on !== 'function') return () => undefined;
    // Baidu documents the listener-less off* for app show/hide only.
    if (((config.hooks?.dialect ?? dialect).offAll && hook !== 'NetworkStatusChange') || typeof off !== 'function') {
      let hub = hubs.get(hookApi);
      if (!hub) hubs.set(hookApi, (hub = {}));
      let fans = hub[hook];
      if (!fans) {
        const all = (fans = hub[hook] = new Set());
        on.call(hookApi, ((res: unknown) => all.forEach((f) => f(res))) as never);
      }
      fans.add(fn);
      const set = fans;
      return cleanups.track(() => set.delete(fn));
    }
    on.call(hookApi, fn as never);
    return cleanups.track(() => off.call(hookApi, fn as never));
  };

  const acquire = () =>
    new Promise<void>((resolve) => {
      if (active < maxRequests) {
        active++;
        resolve();
      } else
        queue.push(() => {
          active++;
          resolve();
        });
    });
  const release = () => {
    active--;
    queue.shift()?.();
  };

  /** One callback-style call as a promise; rejects with the platform's message. */
  const call = <T>(invoke: (cb: { success: (r: T) => void; fail: (e?: Failure) => void }) => unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      try {
        silence(invoke({ success: resolve, fail: (e) => reject(failure(e, name)) }));
      } catch (err) {
        reject(err);
      }
    });

  /**
   * One request or upload in a request slot. Any HTTP status is a response (the core reads the
   * server's envelope from it), also one that arrives in `fail` (Alipay's error 19). A timer ends
   * what the platform does not end in time, and aborts its task.
   */
  const transfer = (timeout: number, start: (cb: Callbacks) => unknown): Promise<HttpResponse> =>
    acquire().then(() =>
      new Promise<HttpResponse>((resolve, reject) => {
        let task: { abort?: () => void } | undefined;
        const timer = setTimeout(() => {
          reject(transportError(`${name}: no answer within ${timeout} ms`, true));
          try {
            task?.abort?.();
          } catch {
            // already finished
          }
        }, timeout);
        const settle = <A>(f: (a: A) => void) => (a: A) => {
          clearTimeout(timer);
          f(a);
        };
        try {
          task = silence(
            start({
              success: settle((res: Answer) => resolve(toResponse(res))),
              fail: settle((err?: Failure) => (typeof (err?.status ?? err?.statusCode) === 'number' ? resolve(toResponse(err!)) : reject(failure(err, name)))),
            }),
          ) as typeof task;
        } catch (err) {
          settle(reject)(err);
        }
      }).then(
        (res) => {
          release();
          return res;
        },
        (err) => {
          release();
          throw err;
        },
      ),
    );

  /** Bytes to upload: written to a file under USER_DATA_PATH first (uploadFile takes paths only). */
  const fs = () => {
    const m = typeof api.getFileSystemManager === 'function' ? api.getFileSystemManager() : undefined;
    if (!m) throw unsupportedSource(`${name}: no getFileSystemManager to write the bytes to a file; pass a temp file path`);
    return m;
  };
  const writeTemp = (bytes: Uint8Array): Promise<string> => {
    const path = `${api.env?.USER_DATA_PATH ?? 'wxfile://usr'}/im-upload-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    return call<unknown>((cb) => fs().writeFile({ filePath: path, data, ...cb })).then(() => path);
  };
  const removeTemp = (path: string) => {
    try {
      fs().unlink({ filePath: path, success: () => undefined, fail: () => undefined });
    } catch {
      /* best effort: the platform clears USER_DATA_PATH files of a removed app */
    }
  };

  const storage: KeyValueStorage = {
    getItem: (key) =>
      new Promise((resolve) => {
        try {
          silence(
            api.getStorage({
              key,
              success: (res) => {
                const data = res?.data;
                // The SDK never stores '': Douyin and Baidu answer it for a missing key.
                resolve(data == null || data === '' ? null : typeof data === 'string' ? data : JSON.stringify(data));
              },
              // A missing key is a "fail" in WeChat (Alipay answers `data: null`): absent either way.
              fail: () => resolve(null),
            }),
          );
        } catch {
          resolve(null);
        }
      }),
    setItem: (key, value) => call<unknown>((cb) => api.setStorage({ key, data: value, ...cb })).then(() => undefined),
    removeItem: (key) => call<unknown>((cb) => api.removeStorage({ key, ...cb })).then(() => undefined),
  };

  return {
    name,
    storage,

    createSocket(url: string, socketOptions: SocketOptions): SocketLike {
      if (!io) {
        if (target === 'h5') throw new Error(`${name}: an H5 build needs a Socket.IO client factory`);
        return new LiteSocket(url, socketOptions, openChannel);
      }
      // forceNew: socket.io-client caches one Manager per URL; two clients must not share a socket.
      return io(url, { ...socketOptions, forceNew: true, transports: ['websocket'] });
    },

    request(req: HttpRequest): Promise<HttpResponse> {
      const send = (dialect.request && loose[dialect.request]) || loose.request || loose.httpRequest;
      return transfer(req.timeout, (cb) =>
        send!.call(api, {
          url: req.url,
          method: req.method,
          [ali ? 'headers' : 'header']: req.headers,
          timeout: req.timeout,
          // Alipay fails a non-JSON body under 'json' (error 14): read text, parsed here as elsewhere.
          dataType: ali ? 'text' : 'json',
          // Alipay-shaped: a string goes out as it is (DingTalk's httpRequest would form-encode an object).
          ...(req.body === undefined ? {} : { data: ali ? JSON.stringify(req.body) : req.body }),
          ...cb,
        }),
      );
    },

    async uploadFile(req: UploadRequest): Promise<HttpResponse> {
      const src = req.source;
      // In an H5 build a File/Blob goes the browser's way; a path (a blob: URL) through the API.
      if (src.kind === 'blob') {
        if (target === 'h5' && config.blobUpload) return config.blobUpload(req, src.blob);
        throw unsupportedSource(`${name}: pass a temp file path, not a Blob`);
      }
      if (typeof api.uploadFile !== 'function') throw unsupportedSource(`${name}: this platform has no uploadFile`);
      let filePath = src.kind === 'path' ? src.path : '';
      let written: string | undefined;
      if (src.kind === 'bytes') written = filePath = await writeTemp(src.bytes);
      const kind = req.fields.kind ?? '';
      try {
        return await transfer(req.timeout, (cb) => {
          const task = api.uploadFile!({
            url: req.url,
            filePath,
            name: 'file',
            header: req.headers,
            formData: req.fields,
            timeout: req.timeout,
            // Alipay: `fileName` is another name for `name`; `fileType` is checked by its IDE only (image, video or audio).
            ...(ali ? { fileName: 'file', fileType: /^(image|video|audio)$/.test(kind) ? kind : 'image' } : {}),
            ...cb,
          } as never) as (WxUploadTaskLike & { abort?: () => void }) | undefined;
          const onProgress = req.onProgress;
          if (onProgress && task) {
            const on = typeof task.onProgressUpdate === 'function' ? task.onProgressUpdate : typeof task.progress === 'function' ? task.progress : undefined;
            // wx: totalBytesSent; Alipay: totalBytesWritten.
            on?.call(task, (p) => onProgress(p.totalBytesSent ?? p.totalBytesWritten ?? 0, p.totalBytesExpectedToSend ?? p.totalBytesExpectedToWrite ?? 0));
          }
          return task;
        });
      } finally {
        if (written) removeTemp(written);
      }
    },

    onNetworkChange(listener) {
      if (target === 'h5') return onBrowserNetworkChange(cleanups, listener);
      return listen('NetworkStatusChange', (res) => listener(!!(res as { isConnected?: boolean })?.isConnected));
    },

    onAppStateChange(listener: (state: AppState) => void) {
      if (target === 'h5') return onPageVisibilityChange(cleanups, listener);
      const offShow = listen('AppShow', () => listener('foreground'));
      const offHide = listen('AppHide', () => listener('background'));
      return () => {
        offShow();
        offHide();
      };
    },

    socketErrorHint(url) {
      if (target === 'h5') return undefined;
      return (
        `in a mini-program, add ${url.replace(/^http/, 'ws')} to the socket domain whitelist in the platform's console ` +
        '(WeChat: "socket合法域名"), or turn off the domain check in its developer tool while developing'
      );
    },

    destroy() {
      cleanups.releaseAll();
    },
  };
}

type Progress = { totalBytesSent?: number; totalBytesExpectedToSend?: number; totalBytesWritten?: number; totalBytesExpectedToWrite?: number };
/** What uploadFile returns: wx/uni a task, Taro a promise with the same methods (`progress` in older Taro). */
type WxUploadTaskLike = { onProgressUpdate?(cb: (p: Progress) => void): void; progress?(cb: (p: Progress) => void): void };
