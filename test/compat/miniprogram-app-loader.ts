/**
 * Runs a built mini-program folder (uni-app's dist/build/mp-weixin, mp-alipay, mp-toutiao; Taro's
 * dist/weapp, dist/alipay, dist/tt) the way the platform's logic layer does: every file wrapped in
 * a function whose parameters shadow `window`, `document`, `self`, ... with undefined, in a
 * separate global context that has only that platform's globals (its API object under its own
 * name: `wx`, `my` or `tt`; `App`, `Page`, `Component`, `getApp`, ...) and no string code
 * generation (no eval, no new Function). app.js is run first, then every page of app.json.
 *
 * Only the platform's own global is defined: an Alipay build that reached for `wx` (or a Douyin one
 * for `my`) fails here as it would on the phone.
 *
 * App/Page/Component only record the options they are given; `launch()` calls the app's onLaunch
 * and onShow as the platform does. Rendering (the .wxml/.axml/.ttml templates, setData to a view
 * layer) is not simulated: the tests drive the app's logic.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

export type AppPlatform = 'weapp' | 'alipay' | 'douyin';

interface PlatformProfile {
  /** The name of the API object in the logic layer. */
  global: 'wx' | 'my' | 'tt';
  /** Browser globals the module wrapper declares as parameters (and leaves undefined). */
  shadowed: string[];
  /** The template extension the build must contain (a check that the build is for this platform). */
  template: string;
  /** Extra logic-layer globals the platform defines. */
  extra(firstPage: string): Record<string, unknown>;
  /** Launch options for onLaunch/onShow when the API object has no getLaunchOptionsSync. */
  launchOptions(firstPage: string): Record<string, unknown>;
}

const BROWSER = ['window', 'document', 'frames', 'self', 'location', 'navigator', 'localStorage', 'history', 'Caches', 'screen', 'alert', 'confirm', 'prompt', 'XMLHttpRequest', 'WebSocket'];

export const PROFILES: Record<AppPlatform, PlatformProfile> = {
  weapp: {
    global: 'wx',
    shadowed: [...BROWSER, 'Reporter', 'webkit', 'WeixinJSCore'],
    template: '.wxml',
    extra: (firstPage) => ({ __wxConfig: { envVersion: 'develop', platform: 'devtools', appLaunchInfo: { path: firstPage, query: {}, scene: 1001 } } }),
    launchOptions: (firstPage) => ({ path: firstPage, query: {}, scene: 1001, referrerInfo: {} }),
  },
  alipay: {
    global: 'my',
    // Alipay's logic layer has a `navigator` whose user agent is in `swuserAgent` (Taro's Alipay
    // runtime reads it at load: @tarojs/plugin-platform-alipay dist/runtime.js).
    shadowed: [...BROWSER.filter((name) => name !== 'navigator'), 'AlipayJSBridge'],
    template: '.axml',
    extra: () => ({ navigator: { swuserAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 ChannelId(0) Nebula AlipayDefined AliApp(AP/10.5.0) AlipayClient/10.5.0 MiniProgram' } }),
    // Alipay leaves `query` out when the app was started without one (unlike WeChat's `{}`).
    launchOptions: (firstPage) => ({ path: firstPage, scene: 1000, referrerInfo: {} }),
  },
  douyin: {
    global: 'tt',
    shadowed: [...BROWSER, 'ttJSBridge'],
    template: '.ttml',
    extra: () => ({}),
    launchOptions: (firstPage) => ({ path: firstPage, query: {}, scene: '990001', referrerInfo: {} }),
  },
};

export interface LoadedMiniprogram {
  platform: AppPlatform;
  /** The object passed to App(); after launch() it is also what getApp() returns. */
  app: Record<string, any>;
  /** Options passed to Page() or Component() by each page file, by page path. */
  pages: Map<string, Record<string, any>>;
  /** Calls App's onLaunch and onShow with launch options, as the platform does at start. */
  launch(): void;
  context: vm.Context;
  /** Files run, in order. */
  files: string[];
}

export interface LoadOptions {
  platform: AppPlatform;
  /** The platform's API object (`runtime.wx`, `runtime.my`, `runtime.tt`). */
  api: unknown;
  extraGlobals?: Record<string, unknown>;
}

export function loadMiniProgramApp(folder: string, { platform, api, extraGlobals = {} }: LoadOptions): LoadedMiniprogram {
  const profile = PROFILES[platform];
  const appJson = JSON.parse(readFileSync(path.join(folder, 'app.json'), 'utf8')) as { pages: string[] };
  const firstPage = appJson.pages[0]!;
  if (!existsSync(path.join(folder, `${firstPage}${profile.template}`))) {
    throw new Error(`${path.basename(folder)} is not a ${platform} build: ${firstPage}${profile.template} is missing`);
  }
  let appOptions: Record<string, any> | undefined;
  const pages = new Map<string, Record<string, any>>();
  let currentPage = '';
  const files: string[] = [];

  const record = (kind: string) => (options: Record<string, any>) => {
    if (!currentPage) return; // a custom component registered outside a page file
    if (!pages.has(currentPage)) pages.set(currentPage, { __kind: kind, ...options });
  };

  const globals: Record<string, unknown> = {
    [profile.global]: api,
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
    ...profile.extra(firstPage),
    ...extraGlobals,
  };
  const context = vm.createContext(globals, { codeGeneration: { strings: false, wasm: false }, name: `miniprogram-${platform}` });
  // The logic layer's `global`: one object shared by all modules of the app (frameworks hang helpers on it).
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
    const wrapper = vm.runInContext(`(function (require, module, exports, ${profile.shadowed.join(', ')}) {\n${source}\n})`, context, {
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

  const fromApi = (api as { getLaunchOptionsSync?: () => Record<string, unknown> }).getLaunchOptionsSync;
  const launchOptions = typeof fromApi === 'function' ? fromApi.call(api) : profile.launchOptions(firstPage);
  return {
    platform,
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
