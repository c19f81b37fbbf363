import type { AdapterCandidate, ImAdapter } from '../../src/adapter';
import { createMiniprogramStyleAdapter, looksLikeBrowser, type IoFactory, type MiniprogramStyleApi, type RuntimeTarget } from '../shared-miniprogram';
import { h5Io } from '../shared/h5-socket';
import { underFramework } from '../platforms';
import { xhrUpload } from '../shared/upload';

/**
 * The slice of Taro's API object (`import Taro from '@tarojs/taro'`) used here. It has the shape
 * of `wx`, but every async method returns a promise (and still calls success/fail);
 * `Taro.connectSocket` resolves to the SocketTask and `Taro.request` returns a promise with
 * `abort()`. `getEnv()` says 'WEAPP', 'WEB', ...
 */
export type TaroApi = MiniprogramStyleApi & { getEnv?: () => string };

export interface TaroAdapterOptions {
  /** The Taro API object: `import Taro from '@tarojs/taro'`; defaults to a global `Taro` if there is one. */
  Taro?: TaroApi;
  /** 'miniprogram' (the lite Socket.IO client over SocketTask, Taro.onAppShow/onAppHide) or 'h5'; detected when omitted. */
  target?: RuntimeTarget;
  /** A Socket.IO client factory to use instead of the built-in one (lite client or socket.io-client on H5). */
  io?: IoFactory;
  /** At most this many Taro.request calls at once (mini-programs allow 10); more wait in a queue. */
  maxConcurrentRequests?: number;
}

declare const Taro: TaroApi | undefined;

function globalTaro(): TaroApi | undefined {
  const candidate = typeof Taro !== 'undefined' ? Taro : undefined;
  return candidate && typeof candidate.request === 'function' && typeof candidate.connectSocket === 'function' ? candidate : undefined;
}

function detectTarget(api: TaroApi): RuntimeTarget {
  try {
    const env = typeof api.getEnv === 'function' ? api.getEnv() : undefined;
    if (env === 'WEB') return 'h5';
    if (env) return 'miniprogram';
  } catch {
    // fall through to the environment probe
  }
  return looksLikeBrowser() ? 'h5' : 'miniprogram';
}

/**
 * Taro 3/4 (React, Vue, ...): Taro.request, Taro storage, Taro.onNetworkStatusChange and
 * Taro.onAppShow/onAppHide; the socket is the SDK's lite Socket.IO client over the SocketTask that
 * Taro.connectSocket resolves to on mini-program targets, and socket.io-client on H5.
 */
export function createTaroAdapter(options: TaroAdapterOptions = {}): ImAdapter {
  const api = options.Taro ?? globalTaro();
  if (!api) throw new Error("createTaroAdapter: no Taro object; pass createTaroAdapter({ Taro }) with Taro from '@tarojs/taro'");
  const target = options.target ?? detectTarget(api);
  return createMiniprogramStyleAdapter({
    name: 'taro',
    api,
    io: options.io,
    h5Io,
    maxConcurrentRequests: options.maxConcurrentRequests,
    blobUpload: xhrUpload,
    target,
    ...(target === 'miniprogram' ? underFramework(api) : {}),
  });
}

export const taroAdapterCandidate: AdapterCandidate = {
  name: 'taro',
  isSupported: () => (globalTaro() ? true : 'no global Taro (pass createTaroAdapter({ Taro }) in Taro apps)'),
  create: () => createTaroAdapter(),
};
