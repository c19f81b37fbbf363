import type { AdapterCandidate, ImAdapter } from '../../src/adapter';
import { createMiniprogramStyleAdapter, looksLikeBrowser, type IoFactory, type MiniprogramStyleApi, type RuntimeTarget } from '../shared-miniprogram';
import { h5Io } from '../shared/h5-socket';
import { underFramework } from '../platforms';
import { xhrUpload } from '../shared/upload';

/**
 * The slice of uni-app's `uni` used here. It has the shape of `wx`; each async method returns a
 * task (request, connectSocket) when a success/fail/complete callback is passed and a promise
 * otherwise. The adapter always passes callbacks.
 */
export type UniApi = MiniprogramStyleApi;

export interface UniappAdapterOptions {
  /** The `uni` object; defaults to the global one (`import` it in code that uni-app does not inject into). */
  uni?: UniApi;
  /** 'miniprogram' (the lite Socket.IO client over SocketTask, uni.onAppShow/onAppHide) or 'h5'; detected when omitted. */
  target?: RuntimeTarget;
  /** A Socket.IO client factory to use instead of the built-in one (lite client or socket.io-client on H5). */
  io?: IoFactory;
  /** At most this many uni.request calls at once (mini-programs allow 10); more wait in a queue. */
  maxConcurrentRequests?: number;
}

declare const uni: UniApi | undefined;

function globalUni(): UniApi | undefined {
  // Through a local: uni-app's H5 build rewrites `uni.<api>` member expressions into imports.
  const candidate = typeof uni !== 'undefined' ? uni : undefined;
  return candidate && typeof candidate.request === 'function' && typeof candidate.connectSocket === 'function' ? candidate : undefined;
}

/**
 * uni-app (Vue 2/3, Vite or HBuilderX): uni.request, uni storage, uni.onNetworkStatusChange and
 * uni.onAppShow/onAppHide; the socket is the SDK's lite Socket.IO client over uni.connectSocket's
 * SocketTask on mini-program targets and socket.io-client on H5.
 */
export function createUniappAdapter(options: UniappAdapterOptions = {}): ImAdapter {
  const api = options.uni ?? globalUni();
  if (!api) throw new Error('createUniappAdapter: no uni object; pass createUniappAdapter({ uni })');
  const target = options.target ?? (looksLikeBrowser() ? 'h5' : 'miniprogram');
  return createMiniprogramStyleAdapter({
    name: 'uniapp',
    api,
    io: options.io,
    h5Io,
    maxConcurrentRequests: options.maxConcurrentRequests,
    blobUpload: xhrUpload,
    target,
    ...(target === 'miniprogram' ? underFramework(api) : {}),
  });
}

export const uniappAdapterCandidate: AdapterCandidate = {
  name: 'uniapp',
  isSupported: () => (globalUni() ? true : 'no global uni (not a uni-app build)'),
  create: () => createUniappAdapter(),
};
