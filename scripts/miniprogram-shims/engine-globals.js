// Replaces engine.io-client's globals for the mini-program bundle. The original finds the global
// object through `self`, `window`, then `Function("return this")()`: WeChat shadows the first two
// with undefined and forbids the third, so the bundle would crash at load.
export const nextTick = (cb) => Promise.resolve().then(cb);
export const globalThisShim = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};
export const defaultBinaryType = 'arraybuffer';
export function createCookieJar() {}
