/**
 * Loads a package's `miniprogram` folder the way WeChat's runtime does after "build npm" (and the
 * other platforms load the same file): each
 * module runs inside a function whose parameters shadow the browser globals with undefined, in a
 * separate global context that has only mini-program globals and no string code generation (no
 * eval, no new Function). A module may require only files inside the folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

/** The parameters WeChat's module wrapper declares (and leaves undefined). */
const SHADOWED = [
  'window', 'document', 'frames', 'self', 'location', 'navigator', 'localStorage', 'history', 'Caches', 'screen',
  'alert', 'confirm', 'prompt', 'XMLHttpRequest', 'WebSocket', 'Reporter', 'webkit', 'WeixinJSCore',
];

export interface MiniprogramRealm {
  /** `require('<package>')` as a page would see it. */
  load(): any;
  context: vm.Context;
}

export function miniprogramFolder(packageDir: string): string {
  const pkg = JSON.parse(readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { miniprogram?: string };
  if (!pkg.miniprogram) throw new Error('package.json has no "miniprogram" field');
  const dir = path.join(packageDir, pkg.miniprogram);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`the miniprogram folder ${pkg.miniprogram} is missing`);
  return dir;
}

export function createMiniprogramRealm(folder: string, wx: unknown, extraGlobals: Record<string, unknown> = {}): MiniprogramRealm {
  return createPlatformRealm(folder, { wx, ...extraGlobals });
}

/**
 * The same for any mini-program platform: `platformGlobals` are the only platform globals there are
 * (e.g. `{ my }` for Alipay, `{ dd, my }` for DingTalk, `{}` for none at all).
 */
export function createPlatformRealm(folder: string, platformGlobals: Record<string, unknown>): MiniprogramRealm {
  const globals: Record<string, unknown> = {
    console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    ...platformGlobals,
  };
  const context = vm.createContext(globals, { codeGeneration: { strings: false, wasm: false }, name: 'miniprogram' });
  const cache = new Map<string, { exports: unknown }>();

  const resolve = (from: string, request: string): string => {
    if (!request.startsWith('./') && !request.startsWith('../')) {
      throw new Error(`module "${request}" is not in the miniprogram folder (required from ${path.relative(folder, from)}); the folder must be self-contained`);
    }
    let file = path.resolve(path.dirname(from), request);
    if (!file.startsWith(folder)) throw new Error(`"${request}" escapes the miniprogram folder`);
    if (existsSync(`${file}.js`)) file = `${file}.js`;
    else if (existsSync(path.join(file, 'index.js'))) file = path.join(file, 'index.js');
    if (!existsSync(file)) throw new Error(`module "${request}" not found in the miniprogram folder`);
    return file;
  };

  const requireFile = (file: string): unknown => {
    const cached = cache.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as unknown };
    cache.set(file, module);
    const source = readFileSync(file, 'utf8');
    const wrapper = vm.runInContext(`(function (require, module, exports, ${SHADOWED.join(', ')}) {\n${source}\n})`, context, {
      filename: file,
    }) as (...args: unknown[]) => void;
    wrapper.call(module.exports, (req: string) => requireFile(resolve(file, req)), module, module.exports);
    return module.exports;
  };

  return {
    context,
    load: () => requireFile(path.join(folder, 'index.js')),
  };
}
