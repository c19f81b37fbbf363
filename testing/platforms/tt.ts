/**
 * `tt` (Douyin, Toutiao, Feishu) over the wx runtime. wx-shaped, except, per Douyin's API
 * reference (developer.open-douyin.com/docs/resource/zh-CN/mini-app/develop/api) and the
 * @douyin-microapp/typings:
 *
 * - a SocketTask's methods are to be used only after connectSocket's `success` ("otherwise they may
 *   fail"): here listeners registered earlier are lost and send/close fail (`tt.earlyTaskCalls`);
 * - onClose's `code` is a string (base library 1.81.0+), and events carry protocolType/socketType;
 * - tt.request honours `timeout` only from base library 2.31.0 (`tt.requestTimeout`);
 * - failures are `{ errMsg, errNo }`; getStorage answers a missing key with success and `data: ''`;
 *   uploadFile's answer has no `header`; network types have no '5g'.
 */
import type { RuntimeCore } from '../wx-runtime';
import type { TtApi, TtError, TtSocketTask } from '../platform-types';
import type { NetworkStatus, SocketTask, WxError } from '../types';
import { deliver, ListenerList, rest } from './shared';

export interface TtConfig {
  requestTimeout: boolean;
  closeCodeAsString: boolean;
  earlyTaskCalls: 'lost' | 'work';
}

const ttError = (e: WxError): TtError => (e.errno === undefined ? { errMsg: e.errMsg } : { errMsg: e.errMsg, errNo: e.errno });
const SOCKET_META = { protocolType: 'ws', socketType: 'tradition' as const };

class Task implements TtSocketTask {
  readonly CONNECTING = 0 as const;
  readonly OPEN = 1 as const;
  readonly CLOSING = 2 as const;
  readonly CLOSED = 3 as const;
  ready = false;
  refused = false;
  readonly open: ListenerList<[Parameters<Parameters<TtSocketTask['onOpen']>[0]>[0]]>;
  readonly message: ListenerList<[Parameters<Parameters<TtSocketTask['onMessage']>[0]>[0]]>;
  readonly closed: ListenerList<[Parameters<Parameters<TtSocketTask['onClose']>[0]>[0]]>;
  readonly error: ListenerList<[{ errMsg: string }]>;

  constructor(
    private readonly core: RuntimeCore,
    private readonly config: TtConfig,
    readonly inner: SocketTask,
  ) {
    const s = core.scheduler;
    this.open = new ListenerList(s, 'SocketTask.onOpen');
    this.message = new ListenerList(s, 'SocketTask.onMessage');
    this.closed = new ListenerList(s, 'SocketTask.onClose');
    this.error = new ListenerList(s, 'SocketTask.onError');
    inner.onOpen((res) => this.open.emit({ header: res.header, ...SOCKET_META }));
    inner.onMessage((res) => this.message.emit({ data: res.data, ...SOCKET_META }));
    inner.onClose((res) => this.closed.emit({ code: config.closeCodeAsString ? String(res.code) : res.code, reason: res.reason, errMsg: '', ...SOCKET_META }));
    inner.onError((e) => this.error.emit({ errMsg: e.errMsg }));
  }

  get readyState() {
    return this.refused ? undefined : this.inner.readyState;
  }

  private usable(): boolean {
    return this.ready || this.config.earlyTaskCalls === 'work';
  }

  listenerCount(): number {
    return this.inner.readyState === this.inner.CLOSED ? 0 : this.open.size + this.message.size + this.closed.size + this.error.size;
  }

  send(o: Parameters<TtSocketTask['send']>[0]): void {
    const s = this.core.scheduler;
    if (!this.usable()) return s.defer(() => deliver(s, 'SocketTask.send', o, { ok: false, error: { errMsg: 'sendSocketMessage:fail the socket task is not created yet' } }));
    this.inner.send({ data: o?.data as string, success: (r) => deliver(s, 'SocketTask.send', o, { ok: true, value: r }), fail: (e) => deliver(s, 'SocketTask.send', o, { ok: false, error: ttError(e) }) });
  }

  close(o?: Parameters<TtSocketTask['close']>[0]): void {
    const s = this.core.scheduler;
    if (!this.usable()) return s.defer(() => deliver(s, 'SocketTask.close', o, { ok: false, error: { errMsg: 'closeSocket:fail the socket task is not created yet' } }));
    this.inner.close({ code: o?.code, reason: o?.reason, success: (r) => deliver(s, 'SocketTask.close', o, { ok: true, value: r }), fail: (e) => deliver(s, 'SocketTask.close', o, { ok: false, error: ttError(e) }) });
  }

  // Before `success` the platform has not bound the task yet: what is registered then is lost.
  onOpen = (fn: unknown) => this.usable() && this.open.add(fn);
  onMessage = (fn: unknown) => this.usable() && this.message.add(fn);
  onClose = (fn: unknown) => this.usable() && this.closed.add(fn);
  onError = (fn: unknown) => this.usable() && this.error.add(fn);
}

type TtNetworkType = 'wifi' | '2g' | '3g' | '4g' | 'unknown' | 'none';
const ttNetwork = (s: NetworkStatus) => ({ isConnected: s.isConnected, networkType: (s.networkType === '5g' ? '4g' : s.networkType) as TtNetworkType });

export function createTtApi(core: RuntimeCore, config: TtConfig, appName: string): { api: TtApi; listenerCount(): { socket: number; networkStatus: number; appShow: number; appHide: number }; destroy(): void } {
  const s = core.scheduler;
  const wx = core.wx;
  const tasks: Task[] = [];
  const network = new ListenerList<[ReturnType<typeof ttNetwork>]>(s, 'onNetworkStatusChange');
  const show = new ListenerList<[unknown]>(s, 'onAppShow');
  const hide = new ListenerList<[]>(s, 'onAppHide');
  core.networkListeners.add((st: NetworkStatus) => network.emit(ttNetwork(st)));
  core.showListeners.add((res: unknown) => show.emit(res));
  core.hideListeners.add(() => hide.emit());

  /** A wx call whose fail carries `errNo` instead of `errno`. */
  const pass = <O extends object>(api: string, o: O, invoke: (opts: any) => unknown) => {
    const opts = (o ?? {}) as O & { success?: (r: unknown) => void; fail?: (e: TtError) => void; complete?: (r: unknown) => void };
    return invoke({
      ...rest(opts),
      success: (r: unknown) => deliver(s, api, opts, { ok: true, value: r }),
      fail: (e: WxError) => deliver(s, api, opts, { ok: false, error: ttError(e) }),
    });
  };

  const api: TtApi = {
    connectSocket: (o) => {
      let task: Task | undefined;
      const opts = o ?? ({} as Parameters<TtApi['connectSocket']>[0]);
      const inner = wx.connectSocket({
        url: opts.url,
        header: opts.header,
        protocols: opts.protocols,
        success: (r) => {
          if (task) task.ready = true;
          deliver(s, 'connectSocket', opts, { ok: true, value: r });
        },
        fail: (e) => {
          if (task && /parameter error|invalid url/.test(e.errMsg)) task.refused = true;
          deliver(s, 'connectSocket', opts, { ok: false, error: ttError(e) });
        },
      });
      task = new Task(core, config, inner);
      tasks.push(task);
      return task;
    },
    request: (o) => {
      const opts = { ...o } as Parameters<TtApi['request']>[0];
      // Older base libraries do not know `timeout`: the app's networkTimeout (60 s by default) applies.
      if (!config.requestTimeout) delete opts.timeout;
      return pass('request', opts, (x) => wx.request(x)) as { abort(): void };
    },
    uploadFile: (o) => {
      const opts = (o ?? {}) as Parameters<TtApi['uploadFile']>[0];
      return wx.uploadFile({
        ...rest(opts),
        success: (r: { errMsg: string; data: string; statusCode: number }) => deliver(s, 'uploadFile', opts, { ok: true, value: { errMsg: r.errMsg, data: r.data, statusCode: r.statusCode } }),
        fail: (e: WxError) => deliver(s, 'uploadFile', opts, { ok: false, error: ttError(e) }),
      } as never);
    },
    downloadFile: (o) => void pass('downloadFile', o, (x) => wx.downloadFile(x)),
    getFileSystemManager: () => wx.getFileSystemManager() as never,
    env: { USER_DATA_PATH: wx.env.USER_DATA_PATH },

    setStorageSync: (key, data) => wx.setStorageSync(key, data),
    getStorageSync: (key) => wx.getStorageSync(key),
    removeStorageSync: (key) => wx.removeStorageSync(key),
    clearStorageSync: () => wx.clearStorageSync(),
    getStorageInfoSync: () => wx.getStorageInfoSync(),
    setStorage: (o) => void pass('setStorage', o, (x) => wx.setStorage(x)),
    getStorage: (o) => {
      const key = o?.key;
      if (typeof key === 'string' && !core.storage.peek(key).found) {
        // "如无数据或数据类型不支持会返回空字符串": a success, not WeChat's "data not found".
        return void s.defer(() => deliver(s, 'getStorage', o, { ok: true, value: { errMsg: 'getStorage:ok', data: '' } }));
      }
      return void pass('getStorage', o, (x) => wx.getStorage(x));
    },
    removeStorage: (o) => void pass('removeStorage', o, (x) => wx.removeStorage(x)),
    clearStorage: (o) => void pass('clearStorage', o, (x) => wx.clearStorage(x)),
    getNetworkType: (o) =>
      void pass('getNetworkType', o, (x) => wx.getNetworkType({ ...x, success: (r: { networkType: string; errMsg: string }) => x.success({ errMsg: r.errMsg, networkType: r.networkType === '5g' ? '4g' : r.networkType }) })),
    onNetworkStatusChange: (fn) => network.add(fn),
    offNetworkStatusChange: (fn) => network.remove(fn),
    onAppShow: (fn) => show.add(fn),
    offAppShow: (fn) => show.remove(fn),
    onAppHide: (fn) => hide.add(fn),
    offAppHide: (fn) => hide.remove(fn),
    getSystemInfoSync: () => ({ ...wx.getSystemInfoSync(), appName }),
    getSystemInfo: (o) => void pass('getSystemInfo', o, (x) => s.defer(() => x.success({ errMsg: 'getSystemInfo:ok', ...api.getSystemInfoSync() }))),
    getLaunchOptionsSync: () => wx.getLaunchOptionsSync(),
    canIUse: (schema) => typeof schema === 'string' && Object.prototype.hasOwnProperty.call(api, schema.split('.')[0]!),
  };
  return {
    api,
    listenerCount: () => ({ socket: tasks.reduce((n, t) => n + t.listenerCount(), 0), networkStatus: network.size, appShow: show.size, appHide: hide.size }),
    destroy: () => {
      for (const l of [network, show, hide]) l.clear();
      for (const t of tasks) for (const l of [t.open, t.message, t.closed, t.error]) l.clear();
    },
  };
}
