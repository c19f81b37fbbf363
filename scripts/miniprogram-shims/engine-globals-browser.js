// engine.io-client's browser globals for the "browser" build (web apps, and uni-app/Taro for H5
// and for mini-programs). The original finds the global object through `self`, `window`, then
// `Function("return this")()`; a mini-program module shadows the first two and forbids the third,
// so it would crash at load. Here `globalThis` comes first (browsers: window; newer mini-program
// base libraries have it too), and when nothing is found the timers are enough: the browser
// transports are never used where there is no global object.
export const nextTick = (() => {
  if (typeof Promise === 'function' && typeof Promise.resolve === 'function') return (cb) => Promise.resolve().then(cb);
  return (cb, setTimeoutFn) => setTimeoutFn(cb, 0);
})();
export const globalThisShim = (() => {
  if (typeof globalThis !== 'undefined' && globalThis) return globalThis;
  if (typeof self !== 'undefined' && self) return self;
  if (typeof window !== 'undefined' && window) return window;
  return {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id),
  };
})();
export const defaultBinaryType = 'arraybuffer';
export function createCookieJar() {}
