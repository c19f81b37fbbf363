/**
 * The mini-program platforms the SDK runs on natively, each as its global and its dialect: what it
 * does differently from WeChat's `wx` (adapters/shared/dialect.ts). Everything else goes through the
 * same adapter (adapters/shared-miniprogram.ts). The sources of each difference are in
 * docs/platforms.md.
 */
import type { AdapterCandidate, ImAdapter } from '../src/adapter';
import type { Dialect } from './shared/dialect';
import type { MiniProgramApi } from './platform-types';
import { createMiniprogramStyleAdapter, type IoFactory, type MiniprogramStyleAdapterConfig, type MiniprogramStyleApi, type SocketApi } from './shared-miniprogram';

export type { MiniProgramApi } from './platform-types';

export type MiniProgramPlatform = 'weapp' | 'qq' | 'alipay' | 'dingtalk' | 'douyin' | 'feishu' | 'baidu' | 'kuaishou' | 'jd';

declare const wx: unknown, qq: unknown, my: unknown, dd: unknown, tt: unknown, swan: unknown, ks: unknown, jd: unknown;

/**
 * Each global read where it is written: mini-programs have no reliable global object to look names
 * up on (and `Function('return this')` is forbidden), and uni-app's H5 build rewrites `wx.<api>`.
 */
const GLOBALS: Record<string, () => unknown> = {
  wx: () => (typeof wx !== 'undefined' ? wx : undefined),
  qq: () => (typeof qq !== 'undefined' ? qq : undefined),
  my: () => (typeof my !== 'undefined' ? my : undefined),
  dd: () => (typeof dd !== 'undefined' ? dd : undefined),
  tt: () => (typeof tt !== 'undefined' ? tt : undefined),
  swan: () => (typeof swan !== 'undefined' ? swan : undefined),
  ks: () => (typeof ks !== 'undefined' ? ks : undefined),
  jd: () => (typeof jd !== 'undefined' ? jd : undefined),
};

const ALIPAY: Dialect = { ali: true };
const DOUYIN: Dialect = { lateTask: true };

/** Platform → [its global, its dialect]. QQ, Kuaishou and JD document wx's shapes. */
export const PLATFORMS: Record<MiniProgramPlatform, readonly [string, Dialect]> = {
  weapp: ['wx', {}],
  qq: ['qq', {}],
  alipay: ['my', ALIPAY],
  // Alipay's framework; DingTalk's client has no my.request, only httpRequest.
  dingtalk: ['dd', { ali: true, request: 'httpRequest' }],
  douyin: ['tt', DOUYIN],
  feishu: ['tt', DOUYIN],
  baidu: ['swan', { offAll: true, requests: 5 }],
  kuaishou: ['ks', {}],
  jd: ['jd', {}],
};

/**
 * Detection order. A platform that also defines another one's global comes first: QQ keeps a `wx`
 * for WeChat code, DingTalk a `my` for Alipay code. Feishu and Douyin share `tt` (one candidate).
 */
const ORDER: MiniProgramPlatform[] = ['dingtalk', 'alipay', 'qq', 'jd', 'kuaishou', 'baidu', 'douyin', 'weapp'];

function usable(api: unknown): api is MiniprogramStyleApi {
  const a = api as Record<string, unknown> | undefined;
  return !!a && typeof a.connectSocket === 'function' && (typeof a.request === 'function' || typeof a.httpRequest === 'function');
}

export interface MiniProgramAdapterOptions {
  platform: MiniProgramPlatform;
  /** The platform's API object (`my`, `tt`, ...); defaults to its global. */
  api?: MiniProgramApi;
  /** A Socket.IO client factory to use instead of the built-in lite client. */
  io?: IoFactory;
  /** At most this many requests at once (10 on WeChat and most others); more wait in a queue. */
  maxConcurrentRequests?: number;
}

/** Any of the platforms above, natively: `createMiniProgramAdapter({ platform: 'alipay' })`. */
export function createMiniProgramAdapter(options: MiniProgramAdapterOptions): ImAdapter {
  const entry = PLATFORMS[options?.platform];
  if (!entry) throw new Error(`createMiniProgramAdapter: unknown platform ${String(options?.platform)}; one of ${Object.keys(PLATFORMS).join(', ')}`);
  const api = options.api ?? GLOBALS[entry[0]]!();
  if (!usable(api)) throw new Error(`createMiniProgramAdapter: no ${entry[0]} object with connectSocket and request; pass { api: ${entry[0]} }`);
  return createMiniprogramStyleAdapter({ name: options.platform, api, dialect: entry[1], io: options.io, maxConcurrentRequests: options.maxConcurrentRequests });
}

/** The candidates of the mini-program build, in detection order; E_NO_ADAPTER lists each with its reason. */
export const miniProgramCandidates: AdapterCandidate[] = ORDER.map((platform) => {
  const g = PLATFORMS[platform][0];
  return {
    name: platform,
    isSupported: () => {
      const api = GLOBALS[g]!();
      return usable(api) ? true : api === undefined ? `no global ${g}` : `${g} has no connectSocket and request`;
    },
    create: () => createMiniProgramAdapter({ platform }),
  };
});

/**
 * The native platform under uni-app or Taro (its name, API object and dialect), found in the
 * detection order, or undefined in a browser or Node.
 */
export function nativePlatform(): { platform: MiniProgramPlatform; api: MiniprogramStyleApi; dialect: Dialect } | undefined {
  for (const platform of ORDER) {
    const api = GLOBALS[PLATFORMS[platform][0]]!();
    if (usable(api)) return { platform, api, dialect: PLATFORMS[platform][1] };
  }
  return undefined;
}

/**
 * What a framework adapter (uni-app, Taro) on a mini-program target takes from the platform under
 * it (HTTP, storage and uploads stay the framework's, so its interceptors see them):
 * - Alipay-shaped platforms: the socket and the hooks are the native API's. Its SocketTask needs
 *   `multiple: true` and nests frames; Taro's Alipay `connectSocket` builds its "SocketTask" on the
 *   app-wide single-socket API instead (one socket per app, close codes dropped), and uni-app's
 *   off* on Alipay removes nothing (it wraps every listener it passes on).
 * - Baidu: the hooks, through one listener per hook (swan's off* removes every listener).
 * - Douyin: the framework's SocketTask, used after `success`.
 */
export function underFramework(api: unknown): Pick<MiniprogramStyleAdapterConfig, 'socket' | 'hooks'> {
  const native = nativePlatform();
  if (!native) return {};
  const own = { api: native.api as unknown as SocketApi, dialect: native.dialect };
  if (native.dialect.ali) return { socket: own, hooks: own };
  if (native.dialect.offAll) return { hooks: own };
  if (native.dialect.lateTask) return { socket: { api: api as SocketApi, dialect: { lateTask: true } } };
  return {};
}
