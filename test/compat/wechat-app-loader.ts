/**
 * Runs a built WeChat mini-program folder (uni-app's dist/build/mp-weixin, Taro's dist/weapp) the
 * way WeChat's logic layer does: every file wrapped in a function whose parameters shadow
 * `window`, `document`, `self`, ... with undefined, in a separate global context that has only
 * mini-program globals (`wx`, `App`, `Page`, `Component`, `getApp`, ...) and no string code
 * generation (no eval, no new Function). app.js is run first, then every page of app.json.
 *
 * App/Page/Component only record the options they are given; `launch()` calls the app's onLaunch
 * and onShow as WeChat does. Rendering (WXML, setData to a view layer) is not simulated: the tests
 * drive the app's logic.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const SHADOWED = [
  'window', 'document', 'frames', 'self', 'location', 'navigator', 'localStorage', 'history', 'Caches', 'screen',
  'alert', 'confirm', 'prompt', 'XMLHttpRequest', 'WebSocket', 'Reporter', 'webkit', 'WeixinJSCore',
];

export interface LoadedMiniprogram {
  /** The object passed to App(); after launch() it is also what getApp() returns. */
  app: Record<string, any>;
  /** Options passed to Page() or Component() by each page file, by page path. */
  pages: Map<string, Record<string, any>>;
  /** Calls App's onLaunch and onShow with launch options, as WeChat does at start. */
  launch(): void;
  context: vm.Context;
  /** Files run, in order. */
  files: string[];
}

export function loadMiniprogramApp(folder: string, wx: unknown, extraGlobals: Record<string, unknown> = {}): LoadedMiniprogram {
  const appJson = JSON.parse(readFileSync(path.join(folder, 'app.json'), 'utf8')) as { pages: string[] };
  let appOptions: Record<string, any> | undefined;
  const pages = new Map<string, Record<string, any>>();
  let currentPage = '';
  const files: string[] = [];

  const record = (kind: string) => (options: Record<string, any>) => {
    if (!currentPage) return; // a custom component registered outside a page file
    if (!pages.has(currentPage)) pages.set(currentPage, { __kind: kind, ...options });
  };

  const globals: Record<string, unknown> = {
    wx,
    console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    App: (options: Record<string, any>) => {
      appOptions = options;
    },
    Page: record('Page'),
    Component: record('Component'),
    Behavior: (options: unknown) => options,
    getApp: () => appOptions,
    getCurrentPages: () => [],
    requirePlugin: () => ({}),
    __wxConfig: { envVersion: 'develop', platform: 'devtools', appLaunchInfo: { path: appJson.pages[0], query: {}, scene: 1001 } },
    ...extraGlobals,
  };
  const context = vm.createContext(globals, { codeGeneration: { strings: false, wasm: false }, name: 'miniprogram' });
  // WeChat's `global`: an object shared by all modules of the app (frameworks hang helpers on it).
  context.global = vm.runInContext('globalThis', context);
  const cache = new Map<string, { exports: unknown }>();

  const resolve = (from: string, request: string): string => {
    if (!request.startsWith('./') && !request.startsWith('../') && !request.startsWith('/')) {
      throw new Error(`module "${request}" is not a file of the mini-program (required from ${path.relative(folder, from)})`);
    }
    let file = request.startsWith('/') ? path.join(folder, request) : path.resolve(path.dirname(from), request);
    if (!file.startsWith(folder)) throw new Error(`"${request}" escapes the mini-program folder`);
    if (!existsSync(file) && existsSync(`${file}.js`)) file = `${file}.js`;
    else if (!existsSync(file) && existsSync(path.join(file, 'index.js'))) file = path.join(file, 'index.js');
    if (!existsSync(file)) throw new Error(`module "${request}" not found in the mini-program folder`);
    return file;
  };

  const requireFile = (file: string): unknown => {
    const cached = cache.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as unknown };
    cache.set(file, module);
    files.push(path.relative(folder, file));
    const source = readFileSync(file, 'utf8');
    const wrapper = vm.runInContext(`(function (require, module, exports, ${SHADOWED.join(', ')}) {\n${source}\n})`, context, {
      filename: file,
    }) as (...args: unknown[]) => void;
    wrapper.call(module.exports, (req: string) => requireFile(resolve(file, req)), module, module.exports);
    return module.exports;
  };

  requireFile(path.join(folder, 'app.js'));
  if (!appOptions) throw new Error('app.js did not call App()');
  for (const page of appJson.pages) {
    currentPage = page;
    requireFile(path.join(folder, `${page}.js`));
  }
  currentPage = '';

  const launchOptions = { path: appJson.pages[0], query: {}, scene: 1001, referrerInfo: {} };
  return {
    app: appOptions,
    pages,
    context,
    files,
    launch() {
      appOptions!.onLaunch?.call(appOptions, launchOptions);
      appOptions!.onShow?.call(appOptions, launchOptions);
    },
  };
}
