/**
 * Baidu's `swan` over the wx runtime: wx-shaped, except, per Baidu's API reference
 * (smartprogram.baidu.com/docs/develop/api, the swan-team/swan-docs repository):
 *
 * - failures carry a numeric `errCode` next to `errMsg` (Android's table: 202 "解析失败，请检查参数是否
 *   正确" for bad arguments, 1001 "执行失败" for the rest);
 * - `swan.offAppShow()` / `swan.offAppHide()` take no argument and remove every listener, the
 *   app's own included (base library 3.60.2+);
 * - getStorage answers a missing key with success and '' (a documented bug);
 * - at most 6 concurrent requests and 5 sockets; no per-key storage limit, 10 MB in all.
 */
import type { RuntimeCore } from '../wx-runtime';
import type { SwanApi, SwanError } from '../platform-types';
import type { WxError } from '../types';
import { deliver } from './shared';

export interface SwanConfig {
  offNetworkStatusChange: boolean;
}

const swanError = (e: WxError): SwanError => ({ errCode: /parameter error|invalid url|method is invalid|protocol must be/.test(e.errMsg) ? 202 : 1001, errMsg: e.errMsg });

/** wx's APIs whose failure reaches a `fail` callback (and a rejected promise): those get errCode. */
const ASYNC = [
  'connectSocket', 'request', 'uploadFile', 'downloadFile', 'setStorage', 'getStorage', 'removeStorage', 'clearStorage', 'getStorageInfo',
  'getNetworkType', 'getSystemInfo', 'getImageInfo', 'chooseMedia', 'chooseMessageFile', 'showToast', 'hideToast', 'showLoading', 'hideLoading', 'showModal',
] as const;

export const SWAN_STORAGE = { maxItemBytes: Infinity, maxTotalBytes: 10 * 1024 * 1024, itemTooBig: 'exceed storage item max length', full: '超过最大存储文件大小' };

export function createSwanApi(core: RuntimeCore, config: SwanConfig): { api: SwanApi } {
  const s = core.scheduler;
  const wx = core.wx as unknown as Record<string, (...a: any[]) => unknown>;
  const api: Record<string, unknown> = { ...core.wx };
  for (const name of ASYNC) {
    const original = wx[name]!;
    api[name] = (o: any) => {
      if (!o || typeof o !== 'object') return original(o);
      const { fail, complete } = o;
      const wrapped = {
        ...o,
        fail: typeof fail === 'function' ? (e: WxError) => fail(swanError(e)) : undefined,
        complete: typeof complete === 'function' ? (r: any) => complete(r && /:fail/.test(String(r.errMsg)) ? swanError(r) : r) : undefined,
      };
      if (name === 'getStorage' && typeof o.key === 'string' && !core.storage.peek(o.key).found) {
        // The documented bug: a key never set is a success with ''.
        return void s.defer(() => deliver(s, 'getStorage', o, { ok: true, value: { errMsg: 'getStorage:ok', data: '' } }));
      }
      const returned = original(wrapped);
      // Called without callbacks the wx runtime returns a promise: it rejects with errCode too.
      return returned instanceof Promise ? returned.catch((e: WxError) => Promise.reject(swanError(e))) : returned;
    };
  }
  // No argument: every listener goes, whoever registered it.
  api.offAppShow = () => core.wx.offAppShow();
  api.offAppHide = () => core.wx.offAppHide();
  if (!config.offNetworkStatusChange) delete api.offNetworkStatusChange;
  return { api: api as unknown as SwanApi };
}

