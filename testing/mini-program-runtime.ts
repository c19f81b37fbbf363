/**
 * createMiniProgramRuntime({ platform }): one simulated phone on any of the mini-program platforms.
 * Underneath is always the wx runtime's machinery (real sockets and HTTP, storage, the network and
 * app-state switches); each platform gets its own limits, headers and storage rules there, and a
 * layer (testing/platforms/) that gives its API object the platform's shapes, errors and quirks.
 */
import { countListeners, createRuntimeCore, type CoreProfile, type RuntimeCore } from './wx-runtime';
import { WX_STORAGE_LIMITS } from './storage';
import { ALIPAY_STORAGE, createAlipayApi } from './platforms/alipay';
import { createTtApi } from './platforms/tt';
import { createSwanApi, SWAN_STORAGE } from './platforms/swan';
import type { MiniProgramPlatform, MiniProgramRuntime, MiniProgramRuntimeOptions, PlatformApi } from './platform-types';
import type { SystemInfo } from './types';

interface PlatformProfile extends CoreProfile {
  globals: string[];
}

const IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const MINUTE = 60_000;
const WX_LIKE = { limits: { sockets: 5, socketsPerHost: Infinity, requests: 10 }, timeouts: { request: MINUTE, connectSocket: MINUTE }, storage: WX_STORAGE_LIMITS };

/**
 * Per platform: the globals it defines, the Referer its network stack adds (none where the
 * platform documents none), its limits. Sources are in docs/testing.md ("Platforms").
 */
const PROFILES: Record<MiniProgramPlatform, PlatformProfile> = {
  weapp: {
    ...WX_LIKE,
    globals: ['wx'],
    defaultAppId: 'wx0000000000000000',
    referer: (id) => `https://servicewechat.com/${id}/0/page-frame.html`,
    userAgent: (id, i) => `${IOS} MicroMessenger/${i.version}(0x18000529) NetType/WIFI Language/${i.language} miniProgram/${id}`,
  },
  qq: {
    ...WX_LIKE,
    // QQ runs WeChat code: its early documentation names the APIs wx.*; the current one qq.*.
    globals: ['qq', 'wx'],
    defaultAppId: '1110000000',
    referer: (id) => `https://appservice.qq.com/${id}/0/page-frame.html`,
    userAgent: (id) => `${IOS} QQ/8.9.0 V1_IPH_SQ_8.9.0_1_APP_A Pixel/1170 MiniAppEnable SimpleUISwitch/0 QQTheme/1000 miniProgram/${id}`,
  },
  alipay: {
    globals: ['my'],
    defaultAppId: '2021000000000000',
    referer: (id) => `https://${id}.hybrid.alipay-eco.com/${id}/0.1.0/index.html`,
    userAgent: () => `${IOS} ChannelId(0) Nebula AlipayDefined(nt:WIFI,ws:390|844|3.0) AliApp(AP/10.5.0) AlipayClient/10.5.0 MiniProgram`,
    // my.request: "同时发起的请求数量没有限制"; 5 SocketTasks; request and handshake time out after 30 s.
    limits: { sockets: 5, socketsPerHost: Infinity, requests: Infinity },
    timeouts: { request: 30_000, connectSocket: 30_000 },
    storage: ALIPAY_STORAGE,
  },
  dingtalk: {
    globals: ['dd', 'my'],
    defaultAppId: 'dingoa0000000000000000',
    referer: () => '',
    userAgent: () => `${IOS} AliApp(DingTalk/7.0.0) com.laiwang.DingTalk/30000000 Channel/201200 language/zh-Hans-CN MiniProgram`,
    // One app-wide socket at a time (the layer refuses a second); a closing one may linger meanwhile.
    limits: { sockets: 5, socketsPerHost: Infinity, requests: Infinity },
    timeouts: { request: 30_000, connectSocket: 30_000 },
    storage: ALIPAY_STORAGE,
  },
  douyin: {
    ...WX_LIKE,
    globals: ['tt'],
    defaultAppId: 'tt0000000000000000',
    referer: (id) => `https://tmaservice.developer.toutiao.com/?appid=${id}&version=0.0.1`,
    userAgent: () => `${IOS} aweme/28.0.0 ToutiaoMicroApp/2.80.0 PluginVersion/28000000`,
  },
  feishu: {
    ...WX_LIKE,
    globals: ['tt'],
    defaultAppId: 'cli_00000000000000',
    referer: () => '',
    userAgent: () => `${IOS} Lark/7.0.0 LarkLocale/zh_CN ttnet ToutiaoMicroApp`,
  },
  baidu: {
    ...WX_LIKE,
    globals: ['swan'],
    defaultAppId: '00000000',
    referer: (key) => `https://smartapp.baidu.com/${key}/0/page-frame.html`,
    userAgent: () => `${IOS} baiduboxapp/13.30.0.10 (Baidu; P2 16.0) swan/2.60.0 swan-baiduboxapp/13.30.0.10`,
    // "request 最大并发数6；websocket 最大并发数5"; single values have no size limit, 10 MB in all.
    limits: { sockets: 5, socketsPerHost: Infinity, requests: 6 },
    storage: SWAN_STORAGE,
  },
  kuaishou: {
    ...WX_LIKE,
    globals: ['ks'],
    defaultAppId: 'ks000000000000000000',
    referer: () => '',
    userAgent: () => `${IOS} Kwai/11.0.0 MiniProgram`,
  },
  jd: {
    ...WX_LIKE,
    globals: ['jd'],
    defaultAppId: 'jd0000000000000000',
    referer: () => '',
    userAgent: () => `${IOS} jdapp;iPhone;12.0.0;MiniProgram`,
  },
};

export const MINI_PROGRAM_PLATFORMS = Object.keys(PROFILES) as MiniProgramPlatform[];

const SYSTEM: Partial<Record<MiniProgramPlatform, Partial<SystemInfo>>> = {
  alipay: { platform: 'iOS', version: '10.5.0', SDKVersion: '2.9.0' },
  dingtalk: { platform: 'iOS', version: '7.0.0', SDKVersion: '2.9.0' },
  douyin: { platform: 'ios', version: '28.0.0', SDKVersion: '2.80.0' },
  feishu: { platform: 'ios', version: '7.0.0', SDKVersion: '2.80.0' },
  baidu: { platform: 'ios', version: '13.30.0', SDKVersion: '3.600.0' },
  qq: { platform: 'ios', version: '8.9.0', SDKVersion: '1.60.0' },
};

export function createMiniProgramRuntime<P extends MiniProgramPlatform>(options: MiniProgramRuntimeOptions & { platform: P }): MiniProgramRuntime<PlatformApi<P>> {
  const platform = options?.platform;
  const profile = PROFILES[platform];
  if (!profile) throw new TypeError(`createMiniProgramRuntime: unknown platform ${JSON.stringify(platform)}; one of ${MINI_PROGRAM_PLATFORMS.join(', ')}`);
  const core: RuntimeCore = createRuntimeCore({ ...options, systemInfo: { ...SYSTEM[platform], ...options.systemInfo } }, profile);

  let api: unknown = core.wx;
  let layerCounts: (() => { socket: number; networkStatus: number; appShow: number; appHide: number }) | undefined;
  let layerDestroy: () => void = () => undefined;
  if (platform === 'alipay' || platform === 'dingtalk') {
    const alipay = platform === 'alipay';
    const layer = createAlipayApi(core, {
      name: platform,
      binaryAsBase64: options.alipay?.binaryAsBase64 ?? false,
      wxRequestFields: options.alipay?.wxRequestFields ?? false,
      multipleSockets: options.alipay?.multipleSockets ?? alipay,
      request: alipay || options.dingtalk?.request === true,
      httpRequestMethods: (options.dingtalk?.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase()),
    });
    api = layer.api;
    layerCounts = layer.listenerCount;
    layerDestroy = layer.destroy;
  } else if (platform === 'douyin' || platform === 'feishu') {
    const layer = createTtApi(
      core,
      { requestTimeout: options.tt?.requestTimeout ?? true, closeCodeAsString: options.tt?.closeCodeAsString ?? true, earlyTaskCalls: options.tt?.earlyTaskCalls ?? 'lost' },
      platform === 'douyin' ? 'Douyin' : 'Feishu',
    );
    api = layer.api;
    layerCounts = layer.listenerCount;
    layerDestroy = layer.destroy;
  } else if (platform === 'baidu') {
    api = createSwanApi(core, { offNetworkStatusChange: options.swan?.offNetworkStatusChange ?? true }).api;
  }

  const wx = core.runtime;
  const globals = Object.freeze([...(options.globals ?? profile.globals)]);
  return {
    platform,
    api: api as PlatformApi<P>,
    globals,
    setNetwork: (online, type) => wx.setNetwork(online, type),
    get network() {
      return wx.network;
    },
    hide: (o) => wx.hide(o),
    show: (o) => wx.show(o),
    get appState() {
      return wx.appState;
    },
    openSockets: () => wx.openSockets(),
    sockets: () => wx.sockets(),
    pendingRequests: () => wx.pendingRequests(),
    closeAllSockets: (o) => wx.closeAllSockets(o),
    exportStorage: () => wx.exportStorage(),
    pickFiles: (...files) => wx.pickFiles(...files),
    tempFile: (file) => core.files.tempFile(file),
    realPath: (p) => wx.realPath(p),
    get uiCalls() {
      return wx.uiCalls;
    },
    listenerCounts() {
      if (!layerCounts) return wx.listenerCounts();
      // The layer's lists are what the app registered; the wx socket listeners underneath are its own.
      const l = layerCounts();
      return countListeners(l.networkStatus, l.appShow, l.appHide, l.socket);
    },
    destroy() {
      layerDestroy();
      wx.destroy();
    },
    get destroyed() {
      return wx.destroyed;
    },
  };
}
