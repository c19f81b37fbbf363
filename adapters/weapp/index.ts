import type { AdapterCandidate, ImAdapter } from '../../src/adapter';
import { createMiniprogramStyleAdapter, type IoFactory, type MiniprogramStyleApi } from '../shared-miniprogram';
import type { WxApi } from './wx-types';

export type { WxApi } from './wx-types';
export type { IoFactory } from '../shared-miniprogram';

export interface WeappAdapterOptions {
  /** The `wx` object; defaults to the global one. */
  wx?: WxApi;
  /**
   * A Socket.IO client factory to use instead of the built-in one (the SDK's lite Socket.IO v4
   * client over wx.connectSocket), e.g. socket.io-client's `io` or `require('weapp.socket.io')`.
   */
  io?: IoFactory;
  /** WeChat allows 10 concurrent wx.request calls; more are queued here instead of failing. */
  maxConcurrentRequests?: number;
}

declare const wx: WxApi | undefined;

function globalWx(): WxApi | undefined {
  // Read through a local: uni-app's H5 build rewrites `wx.<api>` member expressions into its own
  // functions, which would make a WeChat JS-SDK page's `wx` look like a mini-program's.
  const candidate = typeof wx !== 'undefined' ? wx : undefined;
  return candidate && typeof candidate.request === 'function' && typeof candidate.connectSocket === 'function' ? candidate : undefined;
}

/** WeChat mini-programs: a lite Socket.IO v4 client over wx.connectSocket, wx.request, wx storage and lifecycle. */
export function createWeappAdapter(options: WeappAdapterOptions = {}): ImAdapter {
  const api = options.wx ?? globalWx();
  if (!api) throw new Error('createWeappAdapter: no wx object; pass createWeappAdapter({ wx })');
  return createMiniprogramStyleAdapter({ name: 'weapp', api: api as MiniprogramStyleApi, io: options.io, maxConcurrentRequests: options.maxConcurrentRequests });
}

export const weappAdapterCandidate: AdapterCandidate = {
  name: 'weapp',
  isSupported: () => (globalWx() ? true : 'no global wx (not a WeChat mini-program)'),
  create: () => createWeappAdapter(),
};
