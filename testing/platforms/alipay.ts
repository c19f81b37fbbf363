/**
 * Alipay's `my` and DingTalk's `dd` over the wx runtime's sockets, HTTP and storage. What differs
 * from WeChat, per Alipay's API reference (opendocs.alipay.com/mini/api, mirrored in the
 * AlipayDocs/open-docs repository) and the @mini-types/my typings:
 *
 * - connectSocket returns a SocketTask only with `multiple: true`; without it the one global
 *   socket is driven by my.onSocketOpen/…/my.sendSocketMessage/my.closeSocket, and a second
 *   connect while it exists fails (error 3). SocketTask events wrap their data:
 *   `{ data: { socketTaskID, data, isBuffer } }`; onClose carries no code or reason. DingTalk
 *   has the global socket only.
 * - request takes `headers` and answers `{ data, status, headers }`; a non-2xx answer is a `fail`
 *   with error 19 and the response; a body that is not JSON under dataType 'json' fails with 14.
 * - failures are `{ error, errorMessage }`; storage takes `{ key, data }` objects and a missing
 *   key reads `data: null`; uploadFile needs `fileName` and `fileType`; network types are upper case.
 */
import type { RuntimeCore } from '../wx-runtime';
import type {
  AlipayApi,
  AlipayCloseOptions,
  AlipayConnectSocketOptions,
  AlipayError,
  AlipayNetworkType,
  AlipayRequestError,
  AlipayRequestOptions,
  AlipayRequestSuccess,
  AlipaySendOptions,
  AlipaySocketMessage,
  AlipaySocketTask,
  AlipaySocketTaskEvent,
  AlipayUploadFileOptions,
} from '../platform-types';
import type { NetworkStatus, RequestSuccessResult, SocketTask, WxError } from '../types';
import { arrayBufferToBase64, base64ToArrayBuffer, call, deliver, ListenerList, type Out, viaWx, withQuery } from './shared';

export interface AlipayConfig {
  name: 'alipay' | 'dingtalk';
  binaryAsBase64: boolean;
  wxRequestFields: boolean;
  multipleSockets: boolean;
  /** `request` exists (Alipay; DingTalk only with `dingtalk.request`). */
  request: boolean;
  /** Methods httpRequest accepts. */
  httpRequestMethods: string[];
}

const err = (error: number, errorMessage: string): AlipayError => ({ error, errorMessage });

// Socket error numbers of my.connectSocket's table (opendocs.alipay.com/mini/api/vx19c3).
const SOCKET_PARAM = () => err(2, '接口参数无效。');
const SOCKET_EXISTS = () => err(3, '该 appid，socketTaskID 对应的 websocket 已存在。');
const SOCKET_BAD_URL = () => err(4, '无法识别的 URL 格式。');
const SOCKET_SCHEME = () => err(5, 'URL 必须以 ws 或者 wss 开头。');
const SOCKET_NOT_OPEN = () => err(10, '网络连接没有打开，无法发送消息。');

function socketError(e: WxError): AlipayError {
  if (/timed out|timeout/i.test(e.errMsg)) return err(6, '连接服务器超时。');
  if (/not OPEN|not connected/i.test(e.errMsg)) return SOCKET_NOT_OPEN();
  return err(1, e.errMsg.replace(/^[\w.]+:fail /, '') || '未知错误。');
}

// my.request's error table (opendocs.alipay.com/mini/api/owycmh).
function requestError(e: WxError): AlipayRequestError {
  if (/abort/.test(e.errMsg)) return err(9, 'request:fail abort');
  if (/timeout/.test(e.errMsg)) return err(13, '超时。');
  if (/domain list/.test(e.errMsg)) return err(11, '无权跨域。');
  if (/parameter error|invalid url|method is invalid|protocol/.test(e.errMsg)) return err(2, '参数错误。');
  return err(12, '网络出错。');
}

const NETWORK_TYPES: Record<string, AlipayNetworkType> = { wifi: 'WIFI', '2g': '2G', '3g': '3G', '4g': '4G', '5g': 'WWAN', none: 'NOTREACHABLE', unknown: 'UNKNOWN' };
const upper = (s: NetworkStatus) => ({ isConnected: s.isConnected, networkType: NETWORK_TYPES[s.networkType] ?? 'UNKNOWN' });

/** Alipay's per-key limit is 200 KB of the value's JSON text (setStorage's documentation); 10 MB in all. */
export const ALIPAY_STORAGE = { maxItemBytes: 200 * 1024, maxTotalBytes: 10 * 1024 * 1024, itemTooBig: 'exceed storage item max length', full: 'exceed storage max size 10Mb' };

class Task implements AlipaySocketTask {
  readonly open: ListenerList<[AlipaySocketTaskEvent]>;
  readonly message: ListenerList<[AlipaySocketTaskEvent<AlipaySocketMessage>]>;
  readonly closed: ListenerList<[AlipaySocketTaskEvent]>;
  readonly error: ListenerList<[AlipaySocketTaskEvent & { error: number }]>;

  constructor(
    private readonly layer: AlipayLayer,
    readonly inner: SocketTask,
    readonly id: string,
  ) {
    const s = layer.core.scheduler;
    this.open = new ListenerList(s, 'SocketTask.onOpen');
    this.message = new ListenerList(s, 'SocketTask.onMessage');
    this.closed = new ListenerList(s, 'SocketTask.onClose');
    this.error = new ListenerList(s, 'SocketTask.onError');
    const data = { socketTaskID: id };
    inner.onOpen(() => this.open.emit({ data }));
    inner.onMessage((m) => this.message.emit({ data: { ...data, ...layer.incoming(m.data) } }));
    inner.onClose(() => this.closed.emit({ data }));
    inner.onError((e) => this.error.emit({ data, error: socketError(e).error }));
  }

  get live(): boolean {
    return this.inner.readyState !== this.inner.CLOSED;
  }

  listenerCount(): number {
    return this.live ? this.open.size + this.message.size + this.closed.size + this.error.size : 0;
  }

  send(o: AlipaySendOptions): void {
    this.layer.send(this.inner, o, 'SocketTask.send');
  }

  close(o?: AlipayCloseOptions): void {
    this.layer.close(this.inner, o, 'SocketTask.close');
  }

  onOpen = (fn: unknown) => this.open.add(fn);
  offOpen = (fn?: unknown) => this.open.remove(fn);
  onMessage = (fn: unknown) => this.message.add(fn);
  offMessage = (fn?: unknown) => this.message.remove(fn);
  onClose = (fn: unknown) => this.closed.add(fn);
  offClose = (fn?: unknown) => this.closed.remove(fn);
  onError = (fn: unknown) => this.error.add(fn);
  offError = (fn?: unknown) => this.error.remove(fn);
}

class AlipayLayer {
  private nextId = 1;
  private readonly tasks: Task[] = [];
  /** The global socket (connectSocket without `multiple`), the one my.sendSocketMessage/my.closeSocket act on. */
  single: SocketTask | null = null;
  readonly global: {
    open: ListenerList<[Record<string, never>]>;
    message: ListenerList<[AlipaySocketMessage]>;
    close: ListenerList<[{ reason: string }]>;
    error: ListenerList<[AlipayError]>;
  };
  readonly network: ListenerList<[ReturnType<typeof upper>]>;
  readonly show: ListenerList<[Record<string, unknown>]>;
  readonly hide: ListenerList<[]>;

  constructor(
    readonly core: RuntimeCore,
    readonly config: AlipayConfig,
  ) {
    const s = core.scheduler;
    this.global = {
      open: new ListenerList(s, 'onSocketOpen'),
      message: new ListenerList(s, 'onSocketMessage'),
      close: new ListenerList(s, 'onSocketClose'),
      error: new ListenerList(s, 'onSocketError'),
    };
    this.network = new ListenerList(s, 'onNetworkStatusChange');
    this.show = new ListenerList(s, 'onAppShow');
    this.hide = new ListenerList(s, 'onAppHide');
    core.networkListeners.add((s: NetworkStatus) => this.network.emit(upper(s)));
    core.showListeners.add((res: Record<string, unknown>) => {
      const { path, query, scene, referrerInfo } = res;
      this.show.emit({ path, query, scene, referrerInfo });
    });
    core.hideListeners.add(() => this.hide.emit());
  }

  incoming(data: string | ArrayBuffer): AlipaySocketMessage {
    if (typeof data === 'string') return { data, isBuffer: false };
    return { data: this.config.binaryAsBase64 ? arrayBufferToBase64(data) : data, isBuffer: true };
  }

  connectSocket(o: AlipayConnectSocketOptions): AlipaySocketTask | undefined {
    const s = this.core.scheduler;
    const opts = o ?? ({} as AlipayConnectSocketOptions);
    const reply = (out: Out<Record<string, never>, AlipayError>) => s.defer(() => deliver(s, 'connectSocket', opts, out));
    const multiple = opts.multiple === true && this.config.multipleSockets;
    if (typeof opts.url !== 'string' || !opts.url) return void reply({ ok: false, error: SOCKET_PARAM() });
    if (!/^wss?:/i.test(opts.url)) return void reply({ ok: false, error: /^[a-z][\w+.-]*:/i.test(opts.url) ? SOCKET_SCHEME() : SOCKET_BAD_URL() });
    // "单实例的 websocket 只能创建一次……可先执行 my.closeSocket 关闭当前 websocket，再进行下一次的创建":
    // refused while the global socket connects or is open; once closeSocket was called it may be replaced.
    const current = this.single;
    if (!multiple && current && (current.readyState === current.CONNECTING || current.readyState === current.OPEN)) return void reply({ ok: false, error: SOCKET_EXISTS() });
    const inner = this.core.wx.connectSocket({
      url: withQuery(opts.url, opts.data),
      header: opts.header,
      protocols: opts.protocols,
      timeout: opts.timeout,
      success: () => reply({ ok: true, value: {} }),
      fail: (e) => reply({ ok: false, error: socketError(e) }),
    });
    if (multiple) {
      const task = new Task(this, inner, String(this.nextId++));
      this.tasks.push(task);
      return task;
    }
    this.single = inner;
    // The app-wide API speaks for the current socket only: a replaced one's late events are not its.
    const mine = () => this.single === inner;
    inner.onOpen(() => mine() && this.global.open.emit({}));
    inner.onMessage((m) => mine() && this.global.message.emit(this.incoming(m.data)));
    inner.onClose((c) => mine() && this.global.close.emit({ reason: c.reason }));
    inner.onError((e) => mine() && this.global.error.emit(socketError(e)));
    return undefined;
  }

  send(inner: SocketTask | null, o: AlipaySendOptions, api: string): void {
    const s = this.core.scheduler;
    const opts = o ?? ({} as AlipaySendOptions);
    const done = (out: Out<{ success: boolean }, AlipayError>) => s.defer(() => deliver(s, api, opts, out));
    if (!inner || inner.readyState !== inner.OPEN) return done({ ok: false, error: SOCKET_NOT_OPEN() });
    // Alipay sends text; binary only as base64 text flagged isBuffer.
    if (typeof opts.data !== 'string') return done({ ok: false, error: SOCKET_PARAM() });
    inner.send({
      data: opts.isBuffer ? base64ToArrayBuffer(opts.data) : opts.data,
      success: () => done({ ok: true, value: { success: true } }),
      fail: (e) => done({ ok: false, error: /not OPEN|not connected/.test(e.errMsg) ? SOCKET_NOT_OPEN() : err(11, '消息发送失败。') }),
    });
  }

  close(inner: SocketTask | null, o: AlipayCloseOptions | undefined, api: string): void {
    const s = this.core.scheduler;
    const opts = o ?? {};
    if (!inner) return s.defer(() => deliver(s, api, opts, { ok: false, error: SOCKET_NOT_OPEN() }));
    inner.close({
      code: opts.code,
      reason: opts.reason,
      success: () => deliver(s, api, opts, { ok: true, value: { message: '' } }),
      fail: (e) => deliver(s, api, opts, { ok: false, error: socketError(e) }),
    });
  }

  /** my.request (Alipay) and my.httpRequest / dd.httpRequest (the older API). */
  request(o: AlipayRequestOptions, api: 'request' | 'httpRequest') {
    const s = this.core.scheduler;
    const opts = o ?? ({} as AlipayRequestOptions);
    let inner: { abort(): void } | undefined;
    let aborted = false;
    const methods = api === 'request' ? ['GET', 'POST', 'PUT', 'DELETE'] : this.config.httpRequestMethods;
    const method = String(opts.method ?? 'GET').toUpperCase();
    const headers = { ...(this.config.wxRequestFields ? opts.header : undefined), ...opts.headers };
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
      headers['content-type'] = api === 'request' ? 'application/json' : 'application/x-www-form-urlencoded';
    }
    const dataType = opts.dataType ?? 'json';
    const result = call<AlipayRequestSuccess, AlipayRequestError>(s, api, opts, true, (done) => {
      if (!methods.includes(method)) return s.defer(() => done({ ok: false, error: err(2, '参数错误。') }));
      inner = this.core.wx.request({
        url: opts.url,
        method: method as never,
        header: headers,
        data: opts.data,
        timeout: opts.timeout,
        // The bytes as they came: Alipay decodes them itself according to dataType.
        dataType: 'text',
        responseType: 'arraybuffer',
        success: (res) => done(this.response(res, dataType)),
        fail: (e) => done({ ok: false, error: requestError(e) }),
      });
      if (aborted) inner.abort();
    });
    const task = {
      abort: () => {
        aborted = true;
        inner?.abort();
      },
    };
    return result ? Object.assign(result, task) : task;
  }

  private response(res: RequestSuccessResult<unknown>, dataType: string): Out<AlipayRequestSuccess, AlipayRequestError> {
    const status = res.statusCode;
    const headers = res.header;
    const aliases = this.config.wxRequestFields ? { statusCode: status, header: headers } : {};
    const bytes = res.data as ArrayBuffer;
    const text = Buffer.from(bytes).toString('utf8');
    if (status < 200 || status >= 300) return { ok: false, error: { ...err(19, 'http status error'), data: dataType === 'arraybuffer' ? bytes : text, status, headers, ...aliases } };
    let data: unknown = text;
    if (dataType === 'json') {
      try {
        data = JSON.parse(text);
      } catch {
        return { ok: false, error: { ...err(14, 'JSON parse data error'), data: text, status, headers, ...aliases } };
      }
    } else if (dataType === 'arraybuffer') data = bytes;
    else if (dataType === 'base64') {
      // A data URI, as the documentation's example shows ("data:image/png;base64,…").
      const type = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? 'application/octet-stream';
      data = `data:${type.split(';')[0]};base64,${arrayBufferToBase64(bytes)}`;
    }
    return { ok: true, value: { data, status, headers, ...aliases } };
  }

  uploadFile(o: AlipayUploadFileOptions) {
    const s = this.core.scheduler;
    const opts = o ?? ({} as AlipayUploadFileOptions);
    const field = opts.fileName ?? (this.config.wxRequestFields ? opts.name : undefined);
    const progress = new Set<(p: { progress: number; totalBytesWritten: number; totalBytesExpectedToWrite: number }) => void>();
    let inner: ReturnType<RuntimeCore['wx']['uploadFile']> | undefined;
    const task = {
      onProgressUpdate: (fn: (p: { progress: number; totalBytesWritten: number; totalBytesExpectedToWrite: number }) => void) => void progress.add(fn),
      abort: () => inner?.abort(),
    };
    if (typeof field !== 'string' || !field || typeof opts.fileType !== 'string' || !opts.fileType) {
      s.defer(() => deliver(s, 'uploadFile', opts, { ok: false, error: err(2, '参数错误。') }));
      return task;
    }
    inner = this.core.wx.uploadFile({
      url: opts.url,
      filePath: opts.filePath,
      name: field,
      header: opts.header,
      formData: opts.formData,
      success: (res) => deliver(s, 'uploadFile', opts, { ok: true, value: { data: res.data, statusCode: res.statusCode, header: res.header } }),
      fail: (e) => deliver(s, 'uploadFile', opts, { ok: false, error: /not found/.test(e.errMsg) ? err(11, '文件不存在。') : err(12, '上传文件失败。') }),
    });
    inner.onProgressUpdate((p) => {
      for (const fn of progress) s.guard('UploadTask.onProgressUpdate', () => fn({ progress: p.progress, totalBytesWritten: p.totalBytesSent, totalBytesExpectedToWrite: p.totalBytesExpectedToSend }));
    });
    return task;
  }

  listenerCount(): { socket: number; networkStatus: number; appShow: number; appHide: number } {
    let socket = 0;
    for (const l of Object.values(this.global)) socket += l.size;
    for (const t of this.tasks) socket += t.listenerCount();
    return { socket, networkStatus: this.network.size, appShow: this.show.size, appHide: this.hide.size };
  }

  destroy(): void {
    for (const l of [...Object.values(this.global), this.network, this.show, this.hide]) l.clear();
    for (const t of this.tasks) for (const l of [t.open, t.message, t.closed, t.error]) l.clear();
  }
}

/** Builds `my` (Alipay) or `dd` (DingTalk) on a runtime core. */
export function createAlipayApi(core: RuntimeCore, config: AlipayConfig): { api: AlipayApi; listenerCount: AlipayLayer['listenerCount']; destroy(): void } {
  const layer = new AlipayLayer(core, config);
  const s = core.scheduler;
  const storage = core.storage;
  const storageError = (e: WxError): AlipayError => (/exceed/.test(e.errMsg) ? err(1, e.errMsg.replace(/^\w+:fail /, '')) : err(2, '参数错误。'));
  const set = (key: unknown, data: unknown): Out<Record<string, never>, AlipayError> => {
    const out = storage.set('setStorage', key, data);
    return out.ok ? { ok: true, value: {} } : { ok: false, error: storageError(out.error) };
  };
  const get = (key: unknown): Out<{ data: unknown }, AlipayError> => {
    if (typeof key !== 'string') return { ok: false, error: err(2, '参数错误。') };
    const found = storage.peek(key);
    return { ok: true, value: { data: found.found ? found.value : null } };
  };
  const later = <S>(api: string, o: unknown, compute: () => Out<S, AlipayError>) =>
    call<S, AlipayError>(s, api, o as never, true, (done) => s.defer(() => done(compute())));
  const fs = core.wx.getFileSystemManager() as unknown as Record<string, (...a: any[]) => unknown>;
  const alipayFs: Record<string, (...a: any[]) => unknown> = {};
  for (const [name, fn] of Object.entries(fs)) {
    alipayFs[name] = (o: any, ...more: unknown[]) => {
      if (!o || typeof o !== 'object' || name.endsWith('Sync')) return fn(o, ...more);
      const { fail, complete, ...restOpts } = o;
      return fn({
        ...restOpts,
        fail: (e: WxError) => typeof fail === 'function' && fail(err(10, e.errMsg)),
        complete: (r: WxError | object) => typeof complete === 'function' && complete('errMsg' in r && /:fail/.test(r.errMsg) ? err(10, r.errMsg) : r),
      });
    };
  }

  const api: AlipayApi = {
    connectSocket: (o) => layer.connectSocket(o),
    onSocketOpen: (fn) => layer.global.open.add(fn),
    offSocketOpen: (fn) => layer.global.open.remove(fn),
    onSocketMessage: (fn) => layer.global.message.add(fn),
    offSocketMessage: (fn) => layer.global.message.remove(fn),
    onSocketClose: (fn) => layer.global.close.add(fn),
    offSocketClose: (fn) => layer.global.close.remove(fn),
    onSocketError: (fn) => layer.global.error.add(fn),
    offSocketError: (fn) => layer.global.error.remove(fn),
    sendSocketMessage: (o) => layer.send(layer.single, o, 'sendSocketMessage'),
    closeSocket: (o) => layer.close(layer.single, o, 'closeSocket'),

    ...(config.request ? { request: (o: AlipayRequestOptions) => layer.request(o, 'request') } : {}),
    httpRequest: (o) => layer.request(o, 'httpRequest'),
    uploadFile: (o) => layer.uploadFile(o),
    downloadFile: (o) => {
      core.wx.downloadFile({
        url: o?.url,
        header: o?.header,
        success: (res) => deliver(s, 'downloadFile', o, { ok: true, value: { tempFilePath: res.tempFilePath, apFilePath: res.tempFilePath, header: {}, headers: {} } }),
        fail: () => deliver(s, 'downloadFile', o, { ok: false, error: err(12, '下载失败') }),
      });
    },
    getFileSystemManager: () => alipayFs as AlipayApi['getFileSystemManager'] extends () => infer M ? M : never,
    env: { USER_DATA_PATH: core.wx.env.USER_DATA_PATH, clientName: config.name === 'alipay' ? 'ap' : 'dd', clientVersion: '10.5.0' },

    setStorageSync: (o) => {
      const out = set(o?.key, o?.data);
      return out.ok ? { success: true } : { success: false, ...out.error };
    },
    getStorageSync: (o) => {
      const out = get(o?.key);
      return out.ok ? out.value : { data: null };
    },
    removeStorageSync: (o) => {
      storage.remove('removeStorageSync', o?.key);
      return { success: true };
    },
    clearStorageSync: () => {
      storage.clear('clearStorageSync');
      return { success: true };
    },
    getStorageInfoSync: () => storage.info(),
    setStorage: (o) => later('setStorage', o, () => set(o?.key, o?.data)),
    getStorage: (o) => later('getStorage', o, () => get(o?.key)),
    removeStorage: (o) => later('removeStorage', o, () => (storage.remove('removeStorage', o?.key).ok ? { ok: true, value: { success: true as const } } : { ok: false, error: err(2, '参数错误。') })),
    clearStorage: (o) => later('clearStorage', o, () => (storage.clear('clearStorage'), { ok: true, value: { success: true } })),
    getStorageInfo: (o) => later('getStorageInfo', o, () => ({ ok: true, value: storage.info() })),

    getNetworkType: (o) =>
      later('getNetworkType', o, () => {
        const n = upper(core.runtime.network as NetworkStatus);
        return { ok: true, value: { networkAvailable: n.isConnected, networkType: n.networkType } };
      }),
    onNetworkStatusChange: (fn) => layer.network.add(fn),
    offNetworkStatusChange: (fn) => layer.network.remove(fn),
    onAppShow: (fn) => layer.show.add(fn),
    offAppShow: (fn) => layer.show.remove(fn),
    onAppHide: (fn) => layer.hide.add(fn),
    offAppHide: (fn) => layer.hide.remove(fn),
    getSystemInfoSync: () => ({ ...core.wx.getSystemInfoSync(), app: config.name === 'alipay' ? 'alipay' : 'DingTalk' }),
    getSystemInfo: (o) => later('getSystemInfo', o, () => ({ ok: true, value: api.getSystemInfoSync() })),
    getLaunchOptionsSync: () => core.wx.getLaunchOptionsSync(),
    getEnterOptionsSync: () => core.wx.getEnterOptionsSync(),
    // Only the API name is checked, as uni-app and Taro use it at load ("request", "saveFileToDingTalk").
    canIUse: (schema) => typeof schema === 'string' && Object.prototype.hasOwnProperty.call(api, schema.split('.')[0]!),
  };
  return { api, listenerCount: () => layer.listenerCount(), destroy: () => layer.destroy() };
}
