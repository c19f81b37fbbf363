// A WeChat mini-program's JavaScript realm for the benchmarks, the same as the one the sandbox tests
// use (test/sandbox/wechat-loader.ts; that one is TypeScript for jest, this is plain ESM for the
// bench): each module runs in a function whose parameters shadow the browser globals with
// undefined, in a separate global context that has only the mini-program globals and no string
// code generation (no eval, no new Function, as on the phones) except the one form WeChat's runtime
// documents as allowed, `Function('return this')` (bundled polyfills use it to find the global
// object). A module may require only files next to it, as after WeChat's "build npm".
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

/** The parameters WeChat's module wrapper declares (and leaves undefined). */
const SHADOWED = [
  'window', 'document', 'frames', 'self', 'location', 'navigator', 'localStorage', 'history', 'Caches', 'screen',
  'alert', 'confirm', 'prompt', 'XMLHttpRequest', 'WebSocket', 'Reporter', 'webkit', 'WeixinJSCore',
];

/**
 * `globals`: the only platform globals there are (`{ wx }`, plus whatever else is given). Returns
 * `{ context, require(file) }`; `require` loads a file (absolute path) and what it requires.
 */
export function createWxRealm(globals) {
  const context = vm.createContext(
    { console, setTimeout, clearTimeout, setInterval, clearInterval, ...globals },
    { codeGeneration: { strings: false, wasm: false }, name: 'miniprogram' },
  );
  // Our own source, compiled by the host: allowed, unlike code generation inside the realm.
  vm.runInContext(
    `(() => {
      const F = Function;
      const g = globalThis;
      const W = function Function(...args) {
        if (args.length === 1 && String(args[0]).trim().replace(/;$/, '') === 'return this') return function () { return g; };
        return F(...args);
      };
      W.prototype = F.prototype;
      Object.defineProperty(g, 'Function', { value: W, writable: true, configurable: true });
    })()`,
    context,
  );
  const cache = new Map();

  const resolve = (from, request) => {
    if (!request.startsWith('./') && !request.startsWith('../')) {
      // What the mini-program runtime does for a module it does not have.
      throw new Error(`module "${request}" is not defined`);
    }
    let file = path.resolve(path.dirname(from), request);
    if (existsSync(`${file}.js`)) file = `${file}.js`;
    else if (existsSync(path.join(file, 'index.js'))) file = path.join(file, 'index.js');
    if (!existsSync(file)) throw new Error(`module "${request}" is not defined`);
    return file;
  };

  const requireFile = (file) => {
    const cached = cache.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} };
    cache.set(file, module);
    const source = readFileSync(file, 'utf8');
    const wrapper = vm.runInContext(`(function (require, module, exports, ${SHADOWED.join(', ')}) {\n${source}\n})`, context, { filename: file });
    wrapper.call(module.exports, (req) => requireFile(resolve(file, req)), module, module.exports);
    return module.exports;
  };

  return { context, require: requireFile };
}
