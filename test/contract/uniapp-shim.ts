/**
 * uni-app's `uni` object as its mini-program runtime (@dcloudio/uni-mp-weixin, Vue 3) builds it
 * over `wx`, reproduced over the Node wx runtime from testing/. What differs from plain `wx`, and
 * is reproduced here so the uniapp contract run means something:
 *
 * - promisify: an async API called with none of success/fail/complete returns a Promise (resolves
 *   with the result, rejects with the `{ errMsg }` error: Vue 3 semantics) and NOT the task, so
 *   `uni.connectSocket({ url })` gives no SocketTask. With a callback it returns what `wx` returns
 *   (a RequestTask / SocketTask, marked `__v_skip` so Vue never makes it reactive).
 * - the options object is copied before `wx` sees it, and callbacks are wrapped.
 * - interceptors: `uni.addInterceptor(name, { invoke, success, fail, complete })`; `invoke` may
 *   rewrite the arguments (apps add headers this way) or return false to cancel the call.
 * - on…/off… APIs (onAppShow, onNetworkStatusChange, ...) are `wx`'s own functions, unwrapped.
 * - every property read of the real `uni` goes through a Proxy that builds a fresh wrapper, so
 *   `uni.request !== uni.request`: nothing may rely on function identity of async APIs.
 */
import type { WxRuntime } from '../../testing';

type Callbacks = { success?: (r: unknown) => void; fail?: (e: unknown) => void; complete?: (r: unknown) => void };
type Interceptor = { invoke?: (args: Record<string, unknown>) => unknown; success?: (r: unknown) => unknown; fail?: (e: unknown) => unknown; complete?: (r: unknown) => unknown };

const TASK_APIS = new Set(['request', 'downloadFile', 'uploadFile', 'connectSocket']);
const CALLBACK_API = /^on|^off/;
const SYNC_API = /Sync$|^create|Manager$|^canIUse$/;

export interface UniShim {
  uni: any;
  /** Every call that reached `wx`, by API name: lets a test prove the adapter went through `uni`. */
  calls: Map<string, number>;
}

export function createUniShim(runtime: WxRuntime): UniShim {
  const wx = runtime.wx as unknown as Record<string, any>;
  const interceptors = new Map<string, Interceptor[]>();
  const calls = new Map<string, number>();

  const hasCallback = (args: unknown) =>
    !!args && typeof args === 'object' && ['success', 'fail', 'complete'].some((k) => typeof (args as Record<string, unknown>)[k] === 'function');

  /** uni's invokeApi: interceptors, then `wx` with a copied options object. */
  const invoke = (name: string, args: Record<string, unknown> & Callbacks): unknown => {
    let options: Record<string, unknown> & Callbacks = { ...args };
    for (const hook of interceptors.get(name) ?? []) {
      if (hook.invoke) {
        const out = hook.invoke(options);
        if (out === false) return undefined;
        if (out && typeof out === 'object') options = out as typeof options;
      }
    }
    const wrap = (kind: 'success' | 'fail' | 'complete') => {
      const user = options[kind];
      if (typeof user !== 'function') return undefined;
      return (res: unknown) => {
        let value = res;
        for (const hook of interceptors.get(name) ?? []) {
          const h = hook[kind];
          if (h) {
            const out = h(value);
            if (out !== undefined) value = out;
          }
        }
        user(value);
      };
    };
    calls.set(name, (calls.get(name) ?? 0) + 1);
    const toWx = { ...options, success: wrap('success'), fail: wrap('fail'), complete: wrap('complete') };
    const returned = wx[name](toWx);
    if (TASK_APIS.has(name) && returned && typeof returned === 'object') (returned as Record<string, unknown>).__v_skip = true;
    return returned;
  };

  const promisified = (name: string) =>
    function promiseApi(args: Record<string, unknown> & Callbacks = {}) {
      if (hasCallback(args)) return invoke(name, args);
      // No callback: a Promise, never the task (uni-app's documented behaviour for connectSocket).
      return new Promise((resolve, reject) => {
        invoke(name, { ...args, success: resolve, fail: reject });
      });
    };

  const own: Record<string, unknown> = {
    addInterceptor(name: string, hook: Interceptor) {
      interceptors.set(name, [...(interceptors.get(name) ?? []), hook]);
    },
    removeInterceptor(name: string) {
      interceptors.delete(name);
    },
  };

  const uni = new Proxy(own, {
    get(target, key) {
      if (typeof key !== 'string') return undefined;
      if (key in target) return target[key];
      const native = wx[key];
      if (typeof native !== 'function') return native;
      if (CALLBACK_API.test(key) || SYNC_API.test(key)) return native;
      return promisified(key);
    },
    has(target, key) {
      return key in target || (typeof key === 'string' && key in wx);
    },
  });
  return { uni, calls };
}
