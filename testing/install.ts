/**
 * Putting a runtime's `wx` on the global object, for code that reads the global (the weapp
 * adapter's detection, weapp.socket.io, page code), and taking it off again.
 */
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
  hadWx: boolean;
  wx: unknown;
  definedWindow: boolean;
}

// On the global object rather than in this module, so that two copies of this module (jest's
// per-file registries, a bundled and an unbundled copy) still restore in the right order.
const STACK_KEY = Symbol.for('comind-im-client-sdk/testing/installWx');

function stack(): Saved[] {
  const g = globalThis as unknown as Record<symbol, Saved[] | undefined>;
  return (g[STACK_KEY] ??= []);
}

/** Sets `globalThis.wx = runtime.wx` (or a bare `wx` object); `uninstallWx()` undoes it. Nestable. */
export function installWx(runtime: WxRuntime | Wx, options: InstallOptions = {}): Wx {
  const wx = 'wx' in runtime && typeof (runtime as WxRuntime).destroy === 'function' ? (runtime as WxRuntime).wx : (runtime as Wx);
  const g = globalThis as Record<string, unknown>;
  const saved: Saved = { hadWx: Object.prototype.hasOwnProperty.call(g, 'wx'), wx: g.wx, definedWindow: false };
  if ((options.defineWindow ?? true) && !('window' in g)) {
    Object.defineProperty(g, 'window', { value: undefined, writable: true, configurable: true, enumerable: false });
    saved.definedWindow = true;
  }
  g.wx = wx;
  stack().push(saved);
  return wx;
}

/** Restores the `wx` (and `window`) that were there before the matching `installWx`. */
export function uninstallWx(): void {
  const saved = stack().pop();
  if (!saved) return;
  const g = globalThis as Record<string, unknown>;
  if (saved.hadWx) g.wx = saved.wx;
  else delete g.wx;
  if (saved.definedWindow) delete g.window;
}
