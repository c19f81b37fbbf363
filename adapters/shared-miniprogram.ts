/**
 * One adapter for every "mini-program-style" API object: WeChat's `wx`, uni-app's `uni` and Taro's
 * `Taro` share the shape of `wx` (request, connectSocket, storage, network and app hooks with
 * success/fail callbacks) and differ in details that are handled here, per instance:
 *
 * - return values: `wx.request` returns a task; `uni.*` returns a task when a callback is passed and
 *   a promise otherwise; `Taro.*` always returns a promise (and calls the callbacks too), and
 *   `Taro.connectSocket` hands its SocketTask over in that promise. Callbacks are always passed
 *   here, and a returned promise gets a rejection handler so a failure is reported once, through
 *   the callback, never as an unhandled rejection;
 * - H5 builds of uni-app and Taro run in a browser: there the socket is socket.io-client (passed in
 *   by those adapters as `h5Io`, so the WeChat bundle never holds it), and network/visibility come
 *   from `window`/`document`.
 */
import type { AppState, BlobLike, HttpRequest, HttpResponse, ImAdapter, KeyValueStorage, SocketLike, SocketOptions, Unsubscribe, UploadRequest } from '../src/adapter';
import { Cleanups } from './shared/cleanups';
import { onBrowserNetworkChange, onPageVisibilityChange } from './shared/dom-hooks';
import { normaliseHeaders, parseBody, transportError } from './shared/http';
import { isThenable } from './shared/promise';
import { unsupportedSource } from './shared/upload';
import { LiteSocket } from './shared/lite-socket';
import { socketTaskChannel } from './weapp/socket-task-channel';
import type { WxApi, WxUploadTask } from './weapp/wx-types';

/** socket.io-client's `io()` shape; weapp.socket.io exports exactly this. */
export type IoFactory = (url: string, options: Record<string, unknown>) => SocketLike;

/**
 * The surface used of `wx`, `uni` or `Taro`. Return types are loose on purpose: each framework
 * returns something different (a task, a promise, a promise of a task).
 */
export type MiniprogramStyleApi = {
  [K in keyof WxApi]: WxApi[K] extends (...args: infer A) => unknown ? (...args: A) => unknown : WxApi[K];
};

/** `miniprogram`: the lite Socket.IO client over SocketTask, and the API's lifecycle hooks. `h5`: a browser page. */
export type RuntimeTarget = 'miniprogram' | 'h5';

export interface MiniprogramStyleAdapterConfig {
  /** 'weapp', 'uniapp' or 'taro': shown in logs. */
  name: string;
  api: MiniprogramStyleApi;
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
   * the WeChat adapter, whose platform has no Blob, to keep the mini-program bundle small.
   */
  blobUpload?: (req: UploadRequest, blob: BlobLike) => Promise<HttpResponse>;
}

/** A promise returned next to the callbacks carries the same failure: observe it so it is not "unhandled". */
function silence<T>(returned: T): T {
  if (isThenable(returned)) returned.then(undefined, () => undefined);
  return returned;
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
  const target: RuntimeTarget = config.target ?? 'miniprogram';
  const maxRequests = config.maxConcurrentRequests ?? 10;
  const openChannel = socketTaskChannel(api as WxApi);
  const io: IoFactory | undefined = config.io ?? (target === 'h5' ? config.h5Io : undefined);
  let active = 0;
  const queue: Array<() => void> = [];
  const cleanups = new Cleanups();

  const subscribe = <F>(on: ((f: F) => unknown) | undefined, off: ((f: F) => unknown) | undefined, fn: F): Unsubscribe => {
    if (typeof on !== 'function') return () => undefined;
    on.call(api, fn);
    return cleanups.track(() => {
      if (typeof off === 'function') off.call(api, fn);
    });
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

  /** One callback-style call as a promise; rejects with the platform's errMsg. */
  const call = <T>(invoke: (cb: { success: (r: T) => void; fail: (e: { errMsg?: string }) => void }) => unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      try {
        silence(invoke({ success: resolve, fail: (e) => reject(new Error(e?.errMsg ?? `${name} call failed`)) }));
      } catch (err) {
        reject(err);
      }
    });

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
                resolve(typeof data === 'string' ? data : data == null ? null : JSON.stringify(data));
              },
              // A missing key is a "fail" in WeChat: treat it as absent.
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

    async request(req: HttpRequest): Promise<HttpResponse> {
      await acquire();
      try {
        return await new Promise<HttpResponse>((resolve, reject) => {
          silence(
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
                reject(transportError(msg, /timeout|time out|超时/i.test(msg), err));
              },
            }),
          );
        });
      } finally {
        release();
      }
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
      await acquire();
      try {
        return await new Promise<HttpResponse>((resolve, reject) => {
          const task = silence(
            api.uploadFile!({
              url: req.url,
              filePath,
              name: 'file',
              header: req.headers,
              formData: req.fields,
              timeout: req.timeout,
              // The body arrives as a string: parsed here like a request's.
              success: (res) => resolve({ status: res.statusCode, headers: normaliseHeaders(res.header), data: parseBody(res.data) }),
              fail: (err) => {
                const msg = err?.errMsg ?? 'uploadFile:fail';
                reject(transportError(msg, /timeout|time out|超时/i.test(msg), err));
              },
            }),
          ) as WxUploadTask | undefined;
          const onProgress = req.onProgress;
          if (onProgress && task) {
            const listen = typeof task.onProgressUpdate === 'function' ? task.onProgressUpdate : typeof task.progress === 'function' ? task.progress : undefined;
            listen?.call(task, (p) => onProgress(p.totalBytesSent, p.totalBytesExpectedToSend));
          }
        });
      } finally {
        release();
        if (written) removeTemp(written);
      }
    },

    onNetworkChange(listener) {
      if (target === 'h5') return onBrowserNetworkChange(cleanups, listener);
      return subscribe(api.onNetworkStatusChange, api.offNetworkStatusChange, (res: { isConnected: boolean }) => listener(!!res?.isConnected));
    },

    onAppStateChange(listener: (state: AppState) => void) {
      if (target === 'h5') return onPageVisibilityChange(cleanups, listener);
      const offShow = subscribe(api.onAppShow, api.offAppShow, () => listener('foreground'));
      const offHide = subscribe(api.onAppHide, api.offAppHide, () => listener('background'));
      return () => {
        offShow();
        offHide();
      };
    },

    socketErrorHint(url) {
      if (target === 'h5') return undefined;
      return (
        `in a mini-program, add ${url.replace(/^http/, 'ws')} to the socket domain whitelist ("socket合法域名") ` +
        'in the mini-program console, or tick "do not verify domains" in WeChat DevTools while developing'
      );
    },

    destroy() {
      cleanups.releaseAll();
    },
  };
}
