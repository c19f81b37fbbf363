/**
 * Taro's API object (`import Taro from '@tarojs/taro'`) as its WeChat runtime builds it over `wx`
 * (@tarojs/shared processApis + @tarojs/plugin-platform-weapp), reproduced over the Node wx runtime
 * from testing/. What differs from plain `wx`, and is reproduced here:
 *
 * - async APIs always return a Promise, with or without callbacks, and ALSO call the callbacks; a
 *   failure both calls `fail` and rejects the promise (an unobserved rejection is "unhandled");
 * - `Taro.connectSocket` returns a Promise of the SocketTask, resolved only after `wx`'s `success`
 *   (the task with the success result's fields merged in); never the task itself;
 * - `Taro.request` goes through Taro's interceptor chain (`Taro.addInterceptor`) and returns a
 *   promise with `abort()` (and no task);
 * - on…/off… APIs are thin wrappers that call `wx`'s function with the same listener;
 * - `Taro.getEnv()` answers 'WEAPP'.
 */
import type { WxRuntime } from '../../testing';

type Options = Record<string, unknown> & { success?: (r: unknown) => void; fail?: (e: unknown) => void; complete?: (r: unknown) => void };
type Chain = { requestParams: Options; proceed(params: Options): Promise<unknown> };

const PROMISE_APIS = new Set(['uploadFile', 'downloadFile', 'connectSocket', 'getStorage', 'setStorage', 'removeStorage', 'clearStorage', 'getNetworkType', 'getSystemInfo', 'closeSocket']);

export interface TaroShim {
  Taro: any;
  calls: Map<string, number>;
}

export function createTaroShim(runtime: WxRuntime): TaroShim {
  const wx = runtime.wx as unknown as Record<string, any>;
  const calls = new Map<string, number>();
  const count = (name: string) => calls.set(name, (calls.get(name) ?? 0) + 1);
  const interceptors: Array<(chain: Chain) => Promise<unknown>> = [];

  const promiseApi = (key: string) => (options: Options = {}) => {
    let task: unknown = null;
    const obj: Options = { ...options };
    const p = new Promise((resolve, reject) => {
      obj.success = (res) => {
        options.success?.(res);
        if (key === 'connectSocket') resolve(Promise.resolve().then(() => (task ? Object.assign(task as object, res) : res)));
        else resolve(res);
      };
      obj.fail = (res) => {
        options.fail?.(res);
        reject(res);
      };
      obj.complete = (res) => options.complete?.(res);
      count(key);
      task = wx[key](obj);
    });
    // Taro's uploadFile/downloadFile promise: progress(cb) and abort() reach the task.
    if (key === 'uploadFile' || key === 'downloadFile') {
      const tp = p as Promise<unknown> & { progress(cb: unknown): unknown; abort(): void };
      tp.progress = (cb) => {
        (task as { onProgressUpdate(cb: unknown): void } | null)?.onProgressUpdate(cb);
        return tp;
      };
      tp.abort = () => (task as { abort(): void } | null)?.abort();
    }
    return p;
  };

  /** Taro's getNormalRequest: a promise with abort(), callbacks called too. */
  const normalRequest = (options: Options): Promise<unknown> & { abort(): unknown } => {
    let requestTask: { abort(): void } | undefined;
    const p = new Promise((resolve, reject) => {
      const originSuccess = options.success;
      const originFail = options.fail;
      const originComplete = options.complete;
      const obj: Options = {
        ...options,
        success: (res) => {
          originSuccess?.(res);
          resolve(res);
        },
        fail: (res) => {
          originFail?.(res);
          reject(res);
        },
        complete: (res) => originComplete?.(res),
      };
      count('request');
      requestTask = wx.request(obj);
    }) as Promise<unknown> & { abort(): unknown };
    p.abort = () => {
      requestTask?.abort();
      return p;
    };
    return p;
  };

  /** Taro.Link: interceptors run in order, the last one performs the request. */
  const request = (options: Options) => {
    const params = typeof options === 'string' ? { url: options } : { ...options };
    let aborted: (() => unknown) | undefined;
    const run = (index: number, requestParams: Options): Promise<unknown> => {
      if (index >= interceptors.length) {
        const p = normalRequest(requestParams);
        aborted = () => p.abort();
        return p;
      }
      return interceptors[index]!({ requestParams, proceed: (next) => run(index + 1, next) });
    };
    const p = run(0, params) as Promise<unknown> & { abort(): unknown };
    p.abort = () => aborted?.();
    return p;
  };

  const Taro: Record<string, any> = {
    getEnv: () => 'WEAPP',
    ENV_TYPE: { WEAPP: 'WEAPP', WEB: 'WEB' },
    request,
    addInterceptor(fn: (chain: Chain) => Promise<unknown>) {
      interceptors.push(fn);
    },
    cleanInterceptors() {
      interceptors.length = 0;
    },
  };
  for (const key of Object.keys(wx)) {
    if (key in Taro || typeof wx[key] !== 'function') continue;
    Taro[key] = PROMISE_APIS.has(key) ? promiseApi(key) : (...args: unknown[]) => wx[key](...args);
  }
  return { Taro, calls };
}
