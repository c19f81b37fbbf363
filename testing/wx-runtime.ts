/**
 * createWxRuntime(): one simulated phone running one mini-program. Everything lives on the
 * instance (sockets, requests, storage, listeners, timers), so several runtimes in one Node process
 * behave like several devices.
 */
import http from 'node:http';
import https from 'node:https';
import { failure, Listeners, ok, respond, Scheduler } from './internal';
import { RequestManager } from './request';
import { ERRNO_INTERRUPTED, SocketManager } from './socket-task';
import { WxFiles, USER_DATA_PATH } from './files';
import { WxStorage, WX_STORAGE_LIMITS, type StorageLimits } from './storage';
import type {
  AccountInfo,
  ActionSheetResult,
  HideOptions,
  LaunchOptions,
  ListenerCounts,
  ModalResult,
  NetworkStatus,
  NetworkType,
  NetworkTypeResult,
  SystemInfo,
  UiCall,
  Wx,
  WxCallbacks,
  WxResult,
  WxRuntime,
  WxRuntimeOptions,
} from './types';

const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_APP_ID = 'wx0000000000000000';

const BASE_SYSTEM_INFO: SystemInfo = {
  brand: 'devtools',
  model: 'iPhone 12/13 (Pro)',
  pixelRatio: 3,
  screenWidth: 390,
  screenHeight: 844,
  windowWidth: 390,
  windowHeight: 753,
  statusBarHeight: 47,
  language: 'zh_CN',
  version: '8.0.5',
  system: 'iOS 10.0.1',
  platform: 'devtools',
  fontSizeSetting: 16,
  SDKVersion: '3.3.4',
  benchmarkLevel: 1,
  theme: 'light',
  safeArea: { left: 0, right: 390, top: 47, bottom: 810, width: 390, height: 763 },
};

function defaultCallbackError(error: unknown): void {
  // Re-thrown outside the runtime's own stack so it cannot corrupt runtime state, but still
  // reaches the test runner as an uncaught error.
  process.nextTick(() => {
    throw error;
  });
}

export function createWxRuntime(options: WxRuntimeOptions = {}): WxRuntime {
  return createRuntimeCore(options).runtime;
}

/**
 * What a platform other than WeChat changes in the machinery it shares with the wx runtime: the
 * headers its network stack adds, its limits, its storage rules.
 */
export interface CoreProfile {
  defaultAppId: string;
  referer(appId: string): string;
  userAgent(appId: string, systemInfo: SystemInfo): string;
  limits: { sockets: number; socketsPerHost: number; requests: number };
  /** Platform defaults for a request's and a socket handshake's timeout (ms). */
  timeouts: { request: number; connectSocket: number };
  storage: StorageLimits;
}

const WECHAT_PROFILE: CoreProfile = {
  defaultAppId: DEFAULT_APP_ID,
  // Version 0 is how WeChat labels develop/trial builds in the Referer it adds.
  referer: (appId) => `https://servicewechat.com/${appId}/0/page-frame.html`,
  userAgent: (appId, info) =>
    `Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) ` +
    `Mobile/15E148 MicroMessenger/${info.version}(0x18000529) NetType/WIFI Language/${info.language} miniProgram/${appId}`,
  limits: { sockets: 5, socketsPerHost: Infinity, requests: 10 },
  timeouts: { request: DEFAULT_TIMEOUT, connectSocket: DEFAULT_TIMEOUT },
  storage: WX_STORAGE_LIMITS,
};

/** The runtime plus the parts a platform layer (testing/platforms/) translates from. */
export interface RuntimeCore {
  runtime: WxRuntime;
  wx: Wx;
  scheduler: Scheduler;
  storage: WxStorage;
  sockets: SocketManager;
  files: WxFiles;
  networkListeners: Listeners<[NetworkStatus]>;
  showListeners: Listeners<[LaunchOptions]>;
  hideListeners: Listeners<[]>;
}

export function createRuntimeCore(options: WxRuntimeOptions = {}, profile: CoreProfile = WECHAT_PROFILE): RuntimeCore {
  const appId = options.appId ?? profile.defaultAppId;
  const scheduler = new Scheduler(options.onCallbackError ?? defaultCallbackError);
  const systemInfo: SystemInfo = { ...BASE_SYSTEM_INFO, ...options.systemInfo } as SystemInfo;
  const referer = profile.referer(appId);
  const userAgent = profile.userAgent(appId, systemInfo);
  // A pool per phone: keep-alive like WeChat's network stack, and nothing shared between runtimes.
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  let network: NetworkStatus = {
    isConnected: options.network?.online ?? true,
    networkType: options.network?.online === false ? 'none' : options.network?.networkType ?? 'wifi',
  };
  let lastOnlineType: Exclude<NetworkType, 'none'> = options.network?.networkType ?? 'wifi';
  let appState: 'foreground' | 'background' = 'foreground';
  let backgroundCut = false;
  let cancelCutTimer: () => void = () => undefined;
  let destroyed = false;
  const launchOptions: LaunchOptions = { path: 'pages/index/index', scene: 1001, query: {}, referrerInfo: {}, ...options.launchOptions };
  let enterOptions: LaunchOptions = launchOptions;
  const uiCalls: UiCall[] = [];

  const networkBlocked = (): { reason: string; errno?: number } | null => {
    if (!network.isConnected) return { reason: 'network is down' };
    // WeChat docs: after the cut, network APIs cannot be called until the app is back in front.
    if (backgroundCut) return { reason: 'interrupted', errno: ERRNO_INTERRUPTED };
    return null;
  };

  const sockets = new SocketManager({
    scheduler,
    connectTimeout: options.networkTimeout?.connectSocket ?? profile.timeouts.connectSocket,
    maxSockets: options.limits?.sockets ?? profile.limits.sockets,
    maxSocketsPerHost: options.limits?.socketsPerHost ?? profile.limits.socketsPerHost,
    allowedDomains: options.domains?.socket,
    referer,
    userAgent,
    networkBlocked,
  });
  const requests = new RequestManager({
    scheduler,
    defaultTimeout: options.networkTimeout?.request ?? profile.timeouts.request,
    maxRequests: options.limits?.requests ?? profile.limits.requests,
    overflow: options.limits?.requestOverflow ?? 'fail',
    allowedDomains: options.domains?.request,
    referer,
    userAgent,
    agents,
    networkBlocked,
  });
  const storage = new WxStorage(options.storage, profile.storage);
  const files = new WxFiles({ scheduler, agents, referer, userAgent, defaultTimeout: options.networkTimeout?.request ?? profile.timeouts.request, networkBlocked });

  const networkListeners = new Listeners<[NetworkStatus]>(scheduler, 'onNetworkStatusChange');
  const showListeners = new Listeners<[LaunchOptions]>(scheduler, 'onAppShow');
  const hideListeners = new Listeners<[]>(scheduler, 'onAppHide');

  let clipboard = '';
  const ui = <S extends WxResult>(api: UiCall['api'], opts: (WxCallbacks<S> & Record<string, unknown>) | undefined, result: () => S) => {
    const { success: _s, fail: _f, complete: _c, ...rest } = opts ?? {};
    uiCalls.push({ api, options: rest });
    return respond<S>(scheduler, api, opts, () => ok(result()));
  };

  const syncStorage = <T>(outcome: { ok: true; value: T } | { ok: false; error: { errMsg: string } }): T => {
    // Sync APIs report failure by throwing, as WeChat's do.
    if (!outcome.ok) throw new Error(outcome.error.errMsg);
    return outcome.value;
  };

  const wx: Wx = {
    connectSocket: (o) => sockets.connectSocket(o),
    onSocketOpen: (fn) => sockets.legacy.open.add(fn),
    onSocketMessage: (fn) => sockets.legacy.message.add(fn),
    onSocketClose: (fn) => sockets.legacy.close.add(fn),
    onSocketError: (fn) => sockets.legacy.error.add(fn),
    sendSocketMessage: (o) => sockets.sendSocketMessage(o),
    closeSocket: (o) => sockets.closeSocket(o),

    request: (o) => requests.request(o as never),

    // The file module types its options loosely (it checks them itself); the Wx types are the public shapes.
    uploadFile: (o) => files.uploadFile(o as never),
    downloadFile: (o) => files.downloadFile(o as never),
    getImageInfo: (o) => files.getImageInfo(o as never) as never,
    getFileSystemManager: () => files.fileSystemManager() as never,
    chooseMedia: (o) => files.chooseMedia(o as never) as never,
    chooseMessageFile: (o) => files.chooseMessageFile(o as never) as never,
    env: { USER_DATA_PATH },
    getRecorderManager: () => files.recorderManager() as never,
    // Playback and viewers have nothing to show in Node: they are recorded in uiCalls.
    createInnerAudioContext: () => {
      const ctx = { src: '', play: () => void uiCalls.push({ api: 'InnerAudioContext.play', options: { src: ctx.src } }), stop: () => undefined, destroy: () => undefined, onEnded: () => undefined, onError: () => undefined };
      return ctx;
    },
    previewImage: (o) => ui('previewImage', o as never, () => ({ errMsg: 'previewImage:ok' })),
    openDocument: (o) => ui('openDocument', o as never, () => ({ errMsg: 'openDocument:ok' })),

    setStorageSync: (key, data) => {
      syncStorage(storage.set('setStorageSync', key, data));
    },
    getStorageSync: (key) => storage.getSync(key) as never,
    removeStorageSync: (key) => {
      syncStorage(storage.remove('removeStorageSync', key));
    },
    clearStorageSync: () => {
      storage.clear('clearStorageSync');
    },
    getStorageInfoSync: () => storage.info(),
    setStorage: (o) => respond(scheduler, 'setStorage', o, () => storage.set('setStorage', o?.key, o?.data)),
    getStorage: (o) => respond(scheduler, 'getStorage', o, () => storage.get('getStorage', o?.key) as never),
    removeStorage: (o) => respond(scheduler, 'removeStorage', o, () => storage.remove('removeStorage', o?.key)),
    clearStorage: (o) => respond(scheduler, 'clearStorage', o, () => storage.clear('clearStorage')),
    getStorageInfo: (o) => respond(scheduler, 'getStorageInfo', o, () => ok({ errMsg: 'getStorageInfo:ok', ...storage.info() })),

    getNetworkType: (o) =>
      respond<NetworkTypeResult>(scheduler, 'getNetworkType', o, () =>
        ok({ errMsg: 'getNetworkType:ok', networkType: network.networkType, signalStrength: network.isConnected ? 4 : 0, hasSystemProxy: false, weakNet: false }),
      ),
    onNetworkStatusChange: (fn) => networkListeners.add(fn),
    offNetworkStatusChange: (fn) => networkListeners.remove(fn),

    onAppShow: (fn) => showListeners.add(fn),
    offAppShow: (fn) => showListeners.remove(fn),
    onAppHide: (fn) => hideListeners.add(fn),
    offAppHide: (fn) => hideListeners.remove(fn),
    getLaunchOptionsSync: () => structuredClone(launchOptions),
    getEnterOptionsSync: () => structuredClone(enterOptions),

    getSystemInfoSync: () => structuredClone(systemInfo),
    getSystemInfo: (o) => respond(scheduler, 'getSystemInfo', o, () => ok({ errMsg: 'getSystemInfo:ok', ...structuredClone(systemInfo) })),
    getWindowInfo: () => {
      const { pixelRatio, screenWidth, screenHeight, windowWidth, windowHeight, statusBarHeight, safeArea } = systemInfo;
      return { pixelRatio, screenWidth, screenHeight, windowWidth, windowHeight, statusBarHeight, safeArea: { ...safeArea } };
    },
    getDeviceInfo: () => {
      const { brand, model, system, platform, benchmarkLevel } = systemInfo;
      return { brand, model, system, platform, benchmarkLevel };
    },
    getAppBaseInfo: () => {
      const { SDKVersion, language, version, theme, fontSizeSetting } = systemInfo;
      return { SDKVersion, language, version, theme, fontSizeSetting, enableDebug: false };
    },
    getAccountInfoSync: (): AccountInfo => ({ miniProgram: { appId, envVersion: 'develop', version: '' }, plugin: {} }),

    showToast: (o) => ui('showToast', o as never, () => ({ errMsg: 'showToast:ok' })),
    hideToast: (o) => ui('hideToast', o as never, () => ({ errMsg: 'hideToast:ok' })),
    showLoading: (o) => ui('showLoading', o as never, () => ({ errMsg: 'showLoading:ok' })),
    hideLoading: (o) => ui('hideLoading', o as never, () => ({ errMsg: 'hideLoading:ok' })),
    showModal: (o) =>
      ui<ModalResult>('showModal', o as never, () => {
        const answer = options.modalResponse?.({ title: o?.title, content: o?.content }) ?? { confirm: true };
        const result: ModalResult = { errMsg: 'showModal:ok', confirm: answer.confirm, cancel: !answer.confirm };
        if (o?.editable) result.content = answer.content ?? '';
        return result;
      }),
    showActionSheet: (o) => {
      const { success: _s, fail: _f, complete: _c, ...rest } = o ?? ({} as never);
      uiCalls.push({ api: 'showActionSheet', options: rest });
      const answer = options.actionSheetResponse?.({ itemList: o?.itemList ?? [] }) ?? { tapIndex: 0 };
      // Tapping outside the sheet is a "fail cancel" in WeChat.
      return respond<ActionSheetResult>(scheduler, 'showActionSheet', o, () =>
        answer.tapIndex < 0 ? failure('showActionSheet:fail cancel') : ok({ errMsg: 'showActionSheet:ok', tapIndex: answer.tapIndex }),
      );
    },
    setClipboardData: (o) => {
      clipboard = String(o?.data ?? '');
      return ui('setClipboardData', o as never, () => ({ errMsg: 'setClipboardData:ok' }));
    },
    getClipboardData: (o) => respond<WxResult & { data: string }>(scheduler, 'getClipboardData', o, () => ok({ errMsg: 'getClipboardData:ok', data: clipboard })),
    nextTick: (fn) => scheduler.defer(() => scheduler.guard('nextTick', fn)),
    // Only the API name is checked ("request", "request.success.data" → "request"), not its parameters.
    canIUse: (schema) => typeof schema === 'string' && Object.prototype.hasOwnProperty.call(wx, schema.split('.')[0]!),
  };

  const cutNetwork = (reason: string, errno?: number) => {
    sockets.abortAll(reason, errno);
    requests.failAll(reason, errno);
  };

  const runtime: WxRuntime = {
    wx,
    get network() {
      return { ...network };
    },
    get appState() {
      return appState;
    },
    get uiCalls() {
      return uiCalls;
    },
    pickFiles(...picked) {
      files.pick(picked);
    },
    realPath: (virtual) => files.real(virtual),
    get destroyed() {
      return destroyed;
    },

    setNetwork(online, networkType) {
      if (destroyed) return;
      if (networkType) lastOnlineType = networkType;
      const next: NetworkStatus = online ? { isConnected: true, networkType: networkType ?? lastOnlineType } : { isConnected: false, networkType: 'none' };
      const changed = next.isConnected !== network.isConnected || next.networkType !== network.networkType;
      network = next;
      // Sockets and requests die with the link first, so by the time the app hears "offline" its
      // sockets already read CLOSED; the error/close callbacks themselves arrive on a later tick.
      if (!online) cutNetwork('network is down');
      if (changed) {
        const status = { ...network };
        scheduler.defer(() => networkListeners.emit(status));
      }
    },

    hide(hideOptions: HideOptions = {}) {
      if (destroyed || appState === 'background') return;
      appState = 'background';
      scheduler.defer(() => hideListeners.emit());
      cancelCutTimer();
      const after = hideOptions.cutNetworkAfterMs;
      if (typeof after === 'number' && after >= 0) {
        cancelCutTimer = scheduler.later(after, () => {
          if (appState !== 'background') return;
          backgroundCut = true;
          cutNetwork('interrupted', ERRNO_INTERRUPTED);
        });
      }
    },

    show(showOptions = {}) {
      if (destroyed || appState === 'foreground') return;
      cancelCutTimer();
      backgroundCut = false;
      appState = 'foreground';
      enterOptions = { ...launchOptions, ...showOptions };
      const res = structuredClone(enterOptions);
      scheduler.defer(() => showListeners.emit(res));
    },

    openSockets: () => sockets.openCount(),
    sockets: () => sockets.tasks(),
    pendingRequests: () => requests.pending(),
    closeAllSockets: (o = {}) => sockets.closeAll(o.code ?? 1000, o.reason ?? '', o.timeoutMs ?? 5000),
    exportStorage: () => storage.export(),
    listenerCounts: () => countListeners(networkListeners.size, showListeners.size, hideListeners.size, sockets.listenerCount()),

    destroy() {
      if (destroyed) return;
      destroyed = true;
      cancelCutTimer();
      sockets.destroy();
      requests.destroy();
      files.destroy();
      networkListeners.clear();
      showListeners.clear();
      hideListeners.clear();
      scheduler.stop();
      agents.http.destroy();
      agents.https.destroy();
    },
  };
  return { runtime, wx, scheduler, storage, sockets, files, networkListeners, showListeners, hideListeners };
}

export function countListeners(networkStatus: number, appShow: number, appHide: number, socket: number): ListenerCounts {
  return { networkStatus, appShow, appHide, socket, total: networkStatus + appShow + appHide + socket };
}

