/**
 * Putting a runtime's `wx` on the global object, for code that reads the global (the weapp
 * adapter's detection, weapp.socket.io, page code), and taking it off again.
 */
import type { MiniProgramRuntime } from './platform-types';
import type { Wx, WxRuntime } from './types';

export interface InstallOptions {
  /**
   * Define `globalThis.window` (as `undefined`) when it does not exist. weapp.socket.io's bundle
   * ends with `}(window, …)`: inside WeChat that name is a module-wrapper parameter holding
   * undefined, in Node it is a ReferenceError. Defining it with the value undefined keeps
   * `typeof window === 'undefined'` true, exactly as in a mini-program. Default true.
   */
  defineWindow?: boolean;
}

interface Saved {
  /** Each global this install set, with what was there before (`had: false`: nothing). */
  names: Array<{ name: string; had: boolean; value: unknown }>;
  definedWindow: boolean;
}

// On the global object rather than in this module, so that two copies of this module (jest's
// per-file registries, a bundled and an unbundled copy) still restore in the right order.
const STACK_KEY = Symbol.for('comind-im-client-sdk/testing/installWx');

function stack(): Saved[] {
  const g = globalThis as unknown as Record<symbol, Saved[] | undefined>;
  return (g[STACK_KEY] ??= []);
}

function install(names: readonly string[], value: unknown, options: InstallOptions): void {
  const g = globalThis as Record<string, unknown>;
  const saved: Saved = { names: names.map((name) => ({ name, had: Object.prototype.hasOwnProperty.call(g, name), value: g[name] })), definedWindow: false };
  if ((options.defineWindow ?? true) && !('window' in g)) {
    Object.defineProperty(g, 'window', { value: undefined, writable: true, configurable: true, enumerable: false });
    saved.definedWindow = true;
  }
  for (const name of names) g[name] = value;
  stack().push(saved);
}

/** Undoes the latest install (installWx or installPlatform): each global back to what it was. */
function uninstall(): void {
  const saved = stack().pop();
  if (!saved) return;
  const g = globalThis as Record<string, unknown>;
  for (const { name, had, value } of saved.names) {
    if (had) g[name] = value;
    else delete g[name];
  }
  if (saved.definedWindow) delete g.window;
}

/** Sets `globalThis.wx = runtime.wx` (or a bare `wx` object); `uninstallWx()` undoes it. Nestable. */
export function installWx(runtime: WxRuntime | Wx, options: InstallOptions = {}): Wx {
  const wx = 'wx' in runtime && typeof (runtime as WxRuntime).destroy === 'function' ? (runtime as WxRuntime).wx : (runtime as Wx);
  install(['wx'], wx, options);
  return wx;
}

/** Restores the `wx` (and `window`) that were there before the matching `installWx`. */
export function uninstallWx(): void {
  uninstall();
}

/**
 * Puts a platform runtime's API object on every global that platform defines (`runtime.globals`:
 * `my` on Alipay, `dd` and `my` on DingTalk, `tt` on Douyin and Feishu, `swan`, `qq` and `wx` on
 * QQ, `ks`, `jd`, `wx`), or on the names given. `uninstallPlatform()` undoes it. Nestable with
 * installWx (one stack).
 */
export function installPlatform<Api>(runtime: MiniProgramRuntime<Api>, options: InstallOptions & { globals?: readonly string[] } = {}): Api {
  install(options.globals ?? runtime.globals, runtime.api, options);
  return runtime.api;
}

/** Restores the globals (and `window`) that were there before the matching `installPlatform`. */
export function uninstallPlatform(): void {
  uninstall();
}
