import { io } from 'socket.io-client';
import type { AdapterCandidate, AppState, BlobLike, HttpRequest, HttpResponse, ImAdapter, KeyValueStorage, SocketLike, UploadRequest } from '../../src/adapter';
import { Cleanups } from '../shared/cleanups';
import { onBrowserNetworkChange, onPageVisibilityChange } from '../shared/dom-hooks';
import { fromFetchResponse, transportError } from '../shared/http';
import { memoryStorage } from '../shared/storage';
import { xhrUpload } from '../shared/upload';
import { blobFromPath, fetchUpload } from './node-upload';

export interface WebAdapterOptions {
  /** Defaults to localStorage in browsers, memory in Node. Pass your own to persist in Node. */
  storage?: KeyValueStorage;
  /** Defaults to the global fetch (browsers, Node >= 18). */
  fetch?: typeof fetch;
}

function browserStorage(): KeyValueStorage | undefined {
  try {
    const ls = typeof localStorage !== 'undefined' ? localStorage : undefined;
    if (!ls) return undefined;
    const probe = '__comind_im_probe__';
    ls.setItem(probe, '1');
    ls.removeItem(probe);
    return {
      getItem: async (k) => ls.getItem(k),
      setItem: async (k, v) => ls.setItem(k, v),
      removeItem: async (k) => ls.removeItem(k),
    };
  } catch {
    // Private mode or a sandboxed iframe: fall back to memory.
    return undefined;
  }
}

/** Browsers and Node >= 18: socket.io-client 4 and fetch. */
export function createWebAdapter(options: WebAdapterOptions = {}): ImAdapter {
  const fetchImpl = options.fetch ?? (typeof fetch === 'function' ? fetch : undefined);
  const cleanups = new Cleanups();

  const adapter: ImAdapter = {
    name: 'web',
    storage: options.storage ?? browserStorage() ?? memoryStorage(),

    createSocket(url, socketOptions): SocketLike {
      // forceNew: socket.io-client caches one Manager per URL; two clients must not share a socket.
      return io(url, { ...socketOptions, forceNew: true }) as unknown as SocketLike;
    },

    async request(req: HttpRequest): Promise<HttpResponse> {
      if (!fetchImpl) throw transportError('no fetch() on this platform; pass createWebAdapter({ fetch })', false);
      const controller = typeof AbortController === 'function' ? new AbortController() : undefined;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller?.abort();
      }, req.timeout);
      try {
        const res = await fetchImpl(req.url, {
          method: req.method,
          headers: req.headers,
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: controller?.signal,
        });
        return await fromFetchResponse(res);
      } catch (err) {
        throw transportError(timedOut ? `request timed out after ${req.timeout} ms` : `request failed: ${String((err as Error)?.message ?? err)}`, timedOut, err);
      } finally {
        clearTimeout(timer);
      }
    },

    async uploadFile(req: UploadRequest): Promise<HttpResponse> {
      const src = req.source;
      const blob = src.kind === 'blob' ? src.blob : src.kind === 'bytes' ? (new Blob([src.bytes as Uint8Array<ArrayBuffer>]) as BlobLike) : await blobFromPath(src.path);
      // A page has XMLHttpRequest (upload progress); Node streams the body through fetch.
      if (typeof XMLHttpRequest === 'function' && !options.fetch) return xhrUpload(req, blob);
      if (!fetchImpl) throw transportError('no fetch() on this platform; pass createWebAdapter({ fetch })', false);
      return fetchUpload(fetchImpl, req, blob);
    },

    onNetworkChange: (listener) => onBrowserNetworkChange(cleanups, listener),

    onAppStateChange: (listener: (state: AppState) => void) => onPageVisibilityChange(cleanups, listener),

    destroy() {
      cleanups.releaseAll();
    },
  };
  return adapter;
}

export const webAdapterCandidate: AdapterCandidate = {
  name: 'web',
  isSupported: () => (typeof fetch === 'function' ? true : 'no global fetch (Node < 18?)'),
  create: () => createWebAdapter(),
};
