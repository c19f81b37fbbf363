/**
 * Runs the demo mini-program (demo-miniprogram/) in jest's jsdom environment, one simulated phone
 * per `launchPhone()`:
 *
 * - The logic layer: every JS file of the mini-program (app.js, pages, utils, config.js and the SDK
 *   in miniprogram_npm) is loaded by a small WeChat-style module loader, once per phone, inside a
 *   function whose parameters give it that phone's `wx`, `App`, `Page`, `getApp` and
 *   `getCurrentPages` (and shadow `window`, `document`, … with undefined, as WeChat's wrapper does).
 *   So two phones in one test are two independent mini-programs: each its own ImClient, store,
 *   storage, sockets and network switch, with no global to swap.
 * - `wx` is the Node `wx` runtime from testing/ (real sockets and HTTP to the reference server,
 *   storage, network and show/hide switches) plus recorded stubs for the UI and routing APIs the
 *   runtime leaves out (navigateTo, setNavigationBarTitle, setTabBarBadge, setTabBarItem, …). miniprogram-simulate
 *   puts its own stub on `global.wx` when it loads; the demo never sees it.
 * - The view layer: `Page({...})` definitions become j-component definitions (data as data, every
 *   function as a method) registered through miniprogram-simulate with the page's WXML; the
 *   harness drives the lifecycle (onLoad(query), onShow, onReady, onHide, onUnload) and a page
 *   stack for navigateTo / redirectTo / navigateBack / switchTab / reLaunch.
 */
import './node-globals';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import simulate from 'miniprogram-simulate';
import { createWxRuntime } from '../../testing';
import type { WxRuntime, WxRuntimeOptions } from '../../testing';

export const ROOT = path.resolve(__dirname, '../..');
export const DEMO_ROOT = path.join(ROOT, 'demo-miniprogram');

/** Parameters of the module wrapper that WeChat leaves undefined. */
const SHADOWED = ['window', 'document', 'frames', 'self', 'location', 'navigator', 'localStorage', 'history', 'XMLHttpRequest', 'WebSocket'];

/** `require('comind-im-client-sdk')` as the mini-program resolves it (miniprogram_npm, copied by `npm run build`). */
export function sdkEntry(): string {
  const candidates = [
    path.join(DEMO_ROOT, 'miniprogram_npm/comind-im-client-sdk/index.js'),
    path.join(ROOT, 'miniprogram_dist/index.js'),
  ];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error('The SDK is not built: run `npm run build` (it copies miniprogram_dist into demo-miniprogram/miniprogram_npm).');
  return found;
}

export interface ServerInfo {
  apiUrl: string;
  socketUrl: string;
  appId: string;
  appSecret: string;
}

export interface LaunchOptions {
  server: ServerInfo;
  /** Merged over demo-miniprogram/config.js, after the test server's URLs and credentials. */
  config?: Record<string, unknown>;
  runtime?: WxRuntimeOptions;
  /** Reuse a runtime (e.g. one created with another phone's exported storage, to relaunch). */
  existingRuntime?: WxRuntime;
  label?: string;
}

type Json = Record<string, any>;
type Callbacks = { success?: (r: any) => void; fail?: (e: any) => void; complete?: (r: any) => void };

interface UiCall {
  api: string;
  options: Json;
}

function parseUrl(url: string, fromRoute?: string): { route: string; query: Record<string, string> } {
  const [rawPath, rawQuery = ''] = url.split('?');
  let route = rawPath.replace(/^\//, '');
  if (!rawPath.startsWith('/') && fromRoute) route = path.posix.join(path.posix.dirname(fromRoute), rawPath);
  const query: Record<string, string> = {};
  for (const part of rawQuery.split('&').filter(Boolean)) {
    const i = part.indexOf('=');
    // WeChat hands the page the query values as they were written in the URL (still encoded).
    if (i < 0) query[part] = '';
    else query[part.slice(0, i)] = part.slice(i + 1);
  }
  return { route, query };
}

/** One page instance on a phone: its j-component root plus helpers to read and drive it. */
export class PageHandle {
  title: string;
  constructor(
    readonly phone: Phone,
    readonly route: string,
    readonly query: Record<string, string>,
    readonly comp: any,
  ) {
    this.title = phone.pageJson(route).navigationBarTitleText ?? phone.appJson.window?.navigationBarTitleText ?? '';
  }

  get instance(): any {
    return this.comp.instance;
  }

  get data(): Json {
    return this.comp.data;
  }

  get dom(): HTMLElement {
    return this.comp.dom;
  }

  $(selector: string): any {
    return this.comp.querySelector(selector);
  }

  $$(selector: string): any[] {
    return this.comp.querySelectorAll(selector);
  }

  exists(selector: string): boolean {
    return !!this.$(selector);
  }

  text(selector: string): string {
    const el = this.$(selector);
    return el ? (el.dom.textContent as string).replace(/\s+/g, ' ').trim() : '';
  }

  texts(selector: string): string[] {
    return this.$$(selector).map((el) => (el.dom.textContent as string).replace(/\s+/g, ' ').trim());
  }

  /** All visible text of the page, for failure messages. */
  allText(): string {
    return (this.dom.textContent ?? '').replace(/\s+/g, ' ').trim();
  }

  private pick(selector: string, index: number): any {
    const el = this.$$(selector)[index];
    if (!el) throw new Error(`${this.route}: no element "${selector}" #${index} (page shows: ${this.allText().slice(0, 300)})`);
    return el;
  }

  async tap(selector: string, index = 0): Promise<void> {
    this.pick(selector, index).dispatchEvent('tap');
    await simulate.sleep(0);
  }

  async longPress(selector: string, index = 0): Promise<void> {
    this.pick(selector, index).dispatchEvent('longpress');
    await simulate.sleep(0);
  }

  /** A horizontal swipe on an element (negative dx: to the left), as touchstart + touchend. */
  async swipe(selector: string, index: number, dx: number): Promise<void> {
    const el = this.pick(selector, index);
    // j-component's touches are { x, y }; the move in between cancels the tap a touchend makes.
    const at = (x: number) => [{ x, y: 20 }];
    el.dispatchEvent('touchstart', { touches: at(300), changedTouches: at(300) });
    el.dispatchEvent('touchmove', { touches: at(300 + dx), changedTouches: at(300 + dx) });
    el.dispatchEvent('touchend', { touches: [], changedTouches: at(300 + dx) });
    await simulate.sleep(10);
  }

  async input(selector: string, value: string): Promise<void> {
    this.pick(selector, 0).dispatchEvent('input', { detail: { value, cursor: value.length, keyCode: 0 } });
    await simulate.sleep(0);
  }

  /** The keyboard's send/confirm key on an input. */
  async confirm(selector: string, value: string): Promise<void> {
    this.pick(selector, 0).dispatchEvent('confirm', { detail: { value } });
    await simulate.sleep(0);
  }

  /** Pull down a scroll-view with refresher-enabled (its bindrefresherrefresh). */
  async pullDown(selector: string): Promise<void> {
    this.pick(selector, 0).dispatchEvent('refresherrefresh', { detail: { dy: 45 } });
    await simulate.sleep(0);
  }

  call(method: string, ...args: unknown[]): unknown {
    return this.instance[method](...args);
  }
}

/** One simulated phone running the demo mini-program. */
export class Phone {
  readonly runtime: WxRuntime;
  readonly wx: Json;
  readonly appJson: Json;
  readonly container: HTMLElement;
  readonly label: string;
  readonly uiCalls: UiCall[] = [];
  readonly tabBadges: Record<number, string> = {};
  /** Tab bar labels set with wx.setTabBarItem (index -> text); app.json's where unset. */
  readonly tabTexts: Record<number, string> = {};
  app: Json | undefined;
  /** Visible stack, bottom first. Tab pages stay alive in `tabs` when another tab is shown. */
  stack: PageHandle[] = [];
  private tabs = new Map<string, PageHandle>();
  private modules = new Map<string, { exports: any }>();
  private pageDefs = new Map<string, Json>();
  private componentIds = new Map<string, string>();
  private loadingRoute: string | undefined;
  private destroyed = false;

  constructor(private readonly options: LaunchOptions) {
    this.label = options.label ?? 'phone';
    this.runtime = options.existingRuntime ?? createWxRuntime({ launchOptions: { path: 'pages/login/login', scene: 1001 }, ...options.runtime });
    this.appJson = JSON.parse(readFileSync(path.join(DEMO_ROOT, 'app.json'), 'utf8'));
    this.wx = this.createWx();
    this.container = document.createElement('div');
    this.container.setAttribute('data-phone', this.label);
    document.body.appendChild(this.container);
  }

  // ------------------------------------------------------------------ the app

  get store(): any {
    return this.app!.globalData.store;
  }

  get im(): any {
    return this.app!.globalData.im;
  }

  /** demo-miniprogram/config.js as this phone runs it (with the test's overrides). */
  get config(): Json {
    return this.requireFile(path.join(DEMO_ROOT, 'config.js'));
  }

  /** The page on top of the stack. */
  get page(): PageHandle {
    const top = this.stack[this.stack.length - 1];
    if (!top) throw new Error(`${this.label}: no page is open`);
    return top;
  }

  launch(): void {
    this.requireFile(path.join(DEMO_ROOT, 'app.js'));
    if (!this.app) throw new Error('app.js did not call App()');
    const launchOptions = this.runtime.wx.getLaunchOptionsSync();
    this.wx.onAppHide(() => {
      this.app?.onHide?.();
      this.visibleTop()?.instance.onHide?.();
    });
    this.wx.onAppShow((res: unknown) => {
      this.app?.onShow?.(res);
      this.visibleTop()?.instance.onShow?.();
    });
    this.app.onLaunch?.(launchOptions);
    this.app.onShow?.(launchOptions);
    this.reLaunch(this.appJson.pages[0], {});
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const page of [...this.stack].reverse()) this.unload(page);
    for (const page of this.tabs.values()) if (!this.stack.includes(page)) this.unload(page);
    this.stack = [];
    this.tabs.clear();
    try {
      this.app?.globalData?.im?.destroy();
    } catch {
      // already destroyed
    }
    this.runtime.destroy();
    this.container.remove();
  }

  // ------------------------------------------------------------------ waiting

  /** Polls until `check` is truthy; fails with `what` and the current page's text. */
  async waitFor<T>(check: () => T, what: string, timeoutMs = 8000): Promise<NonNullable<T>> {
    const start = Date.now();
    for (;;) {
      let value: T | undefined;
      try {
        value = check();
      } catch {
        value = undefined;
      }
      if (value) return value as NonNullable<T>;
      if (Date.now() - start > timeoutMs) {
        let shows = '';
        try {
          shows = `${this.page.route}: ${this.page.allText().slice(0, 400)}`;
        } catch {
          shows = 'no page';
        }
        throw new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}\n  page ${shows}`);
      }
      await simulate.sleep(15);
    }
  }

  waitForPage(route: string, timeoutMs?: number): Promise<PageHandle> {
    return this.waitFor(() => (this.stack.length && this.page.route === route ? this.page : undefined), `page ${route}`, timeoutMs);
  }

  // ------------------------------------------------------------------ module loader (logic layer)

  pageJson(route: string): Json {
    const file = path.join(DEMO_ROOT, `${route}.json`);
    return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  }

  private resolve(from: string, request: string): string {
    if (!request.startsWith('./') && !request.startsWith('../') && !request.startsWith('/')) {
      // npm package: miniprogram_npm/<name>/index.js
      if (request === 'comind-im-client-sdk') return sdkEntry();
      const file = path.join(DEMO_ROOT, 'miniprogram_npm', request, 'index.js');
      if (!existsSync(file)) throw new Error(`module "${request}" is not in miniprogram_npm`);
      return file;
    }
    let file = request.startsWith('/') ? path.join(DEMO_ROOT, request) : path.resolve(path.dirname(from), request);
    if (!file.endsWith('.js')) file = `${file}.js`;
    if (!existsSync(file)) throw new Error(`module "${request}" not found (required from ${path.relative(DEMO_ROOT, from)})`);
    return file;
  }

  private requireFile(file: string): any {
    const cached = this.modules.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as any };
    this.modules.set(file, module);
    const source = readFileSync(file, 'utf8');
    // eslint-disable-next-line no-new-func
    const wrapper = new Function(
      'require',
      'module',
      'exports',
      'wx',
      'App',
      'Page',
      'Component',
      'getApp',
      'getCurrentPages',
      ...SHADOWED,
      `${source}\n//# sourceURL=${file}`,
    );
    wrapper.call(
      module.exports,
      (request: string) => this.requireFile(this.resolve(file, request)),
      module,
      module.exports,
      this.wx,
      (def: Json) => {
        this.app = def;
      },
      (def: Json) => {
        if (!this.loadingRoute) throw new Error(`Page() called outside a page file (${file})`);
        this.pageDefs.set(this.loadingRoute, def);
      },
      () => {
        throw new Error('Component() is not used by the demo');
      },
      () => this.app,
      () => this.stack.map((p) => p.instance),
    );
    if (file === path.join(DEMO_ROOT, 'config.js')) {
      const { server } = this.options;
      Object.assign(
        module.exports,
        { apiServer: server.apiUrl, socketServer: server.socketUrl, appId: server.appId, appSecret: server.appSecret },
        this.options.config,
        // The SDK's warnings (e.g. socket errors while a test has the phone offline) are expected here.
        { clientOptions: { logLevel: 'error', ...(this.options.config?.clientOptions as object) } },
      );
    }
    return module.exports;
  }

  private pageDef(route: string): Json {
    if (!this.appJson.pages.includes(route)) throw new Error(`${route} is not listed in app.json`);
    if (!this.pageDefs.has(route)) {
      this.loadingRoute = route;
      try {
        this.requireFile(path.join(DEMO_ROOT, `${route}.js`));
      } finally {
        this.loadingRoute = undefined;
      }
      if (!this.pageDefs.has(route)) throw new Error(`${route}.js did not call Page()`);
    }
    return this.pageDefs.get(route)!;
  }

  // ------------------------------------------------------------------ view layer and routing

  private isTab(route: string): boolean {
    return (this.appJson.tabBar?.list ?? []).some((t: Json) => t.pagePath === route);
  }

  private visibleTop(): PageHandle | undefined {
    return this.stack[this.stack.length - 1];
  }

  private mount(route: string, query: Record<string, string>): PageHandle {
    const def = this.pageDef(route);
    let id = this.componentIds.get(route);
    if (!id) {
      const methods: Json = {};
      for (const [key, value] of Object.entries(def)) if (typeof value === 'function') methods[key] = value;
      id = simulate.load({
        template: readFileSync(path.join(DEMO_ROOT, `${route}.wxml`), 'utf8'),
        data: def.data ?? {},
        methods,
      } as never) as unknown as string;
      this.componentIds.set(route, id);
    }
    const comp: any = simulate.render(id);
    comp.attach(this.container);
    const page = new PageHandle(this, route, query, comp);
    const instance: Json = comp.instance;
    instance.route = route;
    instance.options = query;
    // Non-function, non-data fields of the Page definition are copied onto the instance, as in WeChat.
    for (const [key, value] of Object.entries(def)) {
      if (key !== 'data' && typeof value !== 'function') instance[key] = JSON.parse(JSON.stringify(value));
    }
    return page;
  }

  private open(route: string, query: Record<string, string>): PageHandle {
    const page = this.mount(route, query);
    this.stack.push(page);
    page.instance.onLoad?.(query);
    page.instance.onShow?.();
    page.instance.onReady?.();
    return page;
  }

  private unload(page: PageHandle): void {
    try {
      page.instance.onUnload?.();
    } finally {
      page.comp.detach();
    }
  }

  navigateTo(url: string): void {
    const { route, query } = parseUrl(url, this.visibleTop()?.route);
    if (this.isTab(route)) throw new Error(`navigateTo:fail can not navigateTo a tabbar page (${route})`);
    this.visibleTop()?.instance.onHide?.();
    this.open(route, query);
  }

  redirectTo(url: string): void {
    const { route, query } = parseUrl(url, this.visibleTop()?.route);
    if (this.isTab(route)) throw new Error(`redirectTo:fail can not redirectTo a tabbar page (${route})`);
    const top = this.stack.pop();
    if (top) {
      if (this.isTab(top.route)) top.instance.onHide?.();
      else this.unload(top);
    }
    this.open(route, query);
  }

  navigateBack(delta = 1): void {
    const steps = Math.min(delta, this.stack.length - 1);
    for (let i = 0; i < steps; i++) {
      const top = this.stack.pop()!;
      if (this.isTab(top.route)) top.instance.onHide?.();
      else this.unload(top);
    }
    this.visibleTop()?.instance.onShow?.();
  }

  switchTab(url: string): void {
    const { route } = parseUrl(url);
    if (!this.isTab(route)) throw new Error(`switchTab:fail ${route} is not a tabBar page`);
    // Closes every page that is not a tab page; tab pages stay alive, hidden.
    for (const page of [...this.stack].reverse()) {
      if (this.isTab(page.route)) {
        if (page.route !== route) page.instance.onHide?.();
      } else this.unload(page);
    }
    const existing = this.tabs.get(route);
    if (existing) {
      this.stack = [existing];
      existing.instance.onShow?.();
      return;
    }
    this.stack = [];
    const page = this.open(route, {});
    this.tabs.set(route, page);
  }

  reLaunch(url: string, query?: Record<string, string>): void {
    const parsed = query ? { route: url.replace(/^\//, ''), query } : parseUrl(url);
    for (const page of [...this.stack].reverse()) this.unload(page);
    for (const page of this.tabs.values()) if (!this.stack.includes(page)) this.unload(page);
    this.stack = [];
    this.tabs.clear();
    const page = this.open(parsed.route, parsed.query);
    if (this.isTab(parsed.route)) this.tabs.set(parsed.route, page);
  }

  // ------------------------------------------------------------------ wx

  private createWx(): Json {
    const phone = this;
    const later = (fn: () => void) => setTimeout(fn, 0);
    /** A wx-style API: callbacks on a later tick, or a promise when none is given. */
    const api = (name: string, run: (options: Json) => Json | void) => (options: Json & Callbacks = {}) => {
      phone.uiCalls.push({ api: name, options });
      const hasCallbacks = !!(options.success || options.fail || options.complete);
      let result: Json;
      try {
        result = { errMsg: `${name}:ok`, ...(run(options) ?? {}) };
      } catch (err) {
        const failure = { errMsg: `${name}:fail ${(err as Error).message}` };
        if (!hasCallbacks) return Promise.reject(failure);
        later(() => {
          options.fail?.(failure);
          options.complete?.(failure);
        });
        return undefined;
      }
      if (!hasCallbacks) return Promise.resolve(result);
      later(() => {
        options.success?.(result);
        options.complete?.(result);
      });
      return undefined;
    };
    const stubs: Json = {
      navigateTo: api('navigateTo', (o) => phone.navigateTo(o.url)),
      redirectTo: api('redirectTo', (o) => phone.redirectTo(o.url)),
      navigateBack: api('navigateBack', (o) => phone.navigateBack(o.delta ?? 1)),
      switchTab: api('switchTab', (o) => phone.switchTab(o.url)),
      reLaunch: api('reLaunch', (o) => phone.reLaunch(o.url)),
      setNavigationBarTitle: api('setNavigationBarTitle', (o) => {
        const top = phone.visibleTop();
        if (top) top.title = o.title;
      }),
      setTabBarBadge: api('setTabBarBadge', (o) => {
        phone.tabBadges[o.index] = o.text;
      }),
      removeTabBarBadge: api('removeTabBarBadge', (o) => {
        delete phone.tabBadges[o.index];
      }),
      setTabBarItem: api('setTabBarItem', (o) => {
        // As in WeChat: only while a tab page is on screen.
        const top = phone.visibleTop();
        if (!top || !phone.isTab(top.route)) throw new Error('not TabBar page');
        if (typeof o.text === 'string') phone.tabTexts[o.index] = o.text;
      }),
      stopPullDownRefresh: api('stopPullDownRefresh', () => undefined),
      startPullDownRefresh: api('startPullDownRefresh', () => undefined),
      pageScrollTo: api('pageScrollTo', () => undefined),
      hideKeyboard: api('hideKeyboard', () => undefined),
      vibrateShort: api('vibrateShort', () => undefined),
    };
    // Routing runs synchronously in these stubs; WeChat reports the result on a later tick, as here.
    return { ...this.runtime.wx, ...stubs };
  }
}

/** Starts a phone and the demo mini-program on it (app.js, then the first page of app.json). */
export function launchPhone(options: LaunchOptions): Phone {
  const phone = new Phone(options);
  phone.launch();
  return phone;
}

/** Signs in on the login page by tapping a demo user; resolves on the conversations page. */
export async function signInAsDemoUser(phone: Phone, userId: string): Promise<PageHandle> {
  const login = await phone.waitForPage('pages/login/login');
  const index = login.data.demoUsers.findIndex((u: Json) => u.userId === userId);
  if (index < 0) throw new Error(`${userId} is not a demo user`);
  await login.tap('.demo-user', index);
  const list = await phone.waitForPage('pages/conversations/conversations');
  await phone.waitFor(() => phone.im.getStatus() === 'connected', `${userId} connected`);
  return list;
}

export const sleep = (ms: number): Promise<void> => simulate.sleep(ms);

/** Signs in with the "another account" form (user id + name). */
export async function signInWithForm(phone: Phone, userId: string, userName: string): Promise<PageHandle> {
  const login = await phone.waitForPage('pages/login/login');
  await login.input('.user-id-input', userId);
  await login.input('.user-name-input', userName);
  await login.tap('.sign-in');
  const list = await phone.waitForPage('pages/conversations/conversations');
  await phone.waitFor(() => phone.im.getStatus() === 'connected', `${userId} connected`);
  return list;
}

/** From the conversations page: New chat → type the peer's id → Start chat. */
export async function openChatWith(phone: Phone, peerId: string): Promise<PageHandle> {
  if (phone.page.route !== 'pages/conversations/conversations') phone.switchTab('/pages/conversations/conversations');
  await phone.page.tap('.new-chat');
  const contacts = await phone.waitForPage('pages/contacts/contacts');
  await contacts.input('.peer-input', peerId);
  await contacts.tap('.open-peer');
  const chat = await phone.waitForPage('pages/chat/chat');
  await phone.waitFor(() => chat.data.loaded, 'the chat history to load');
  return chat;
}

/** Types into the composer and taps Send. */
export async function sendFromChat(chat: PageHandle, text: string): Promise<void> {
  await chat.input('.composer-input', text);
  await chat.tap('.send-btn');
}

/** Texts of the message bubbles on a chat page, in order. */
export function bubbles(chat: PageHandle): string[] {
  return chat.texts('.bubble-text');
}
