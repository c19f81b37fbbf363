/**
 * Shared by the uni-app and Taro compat runs: a built example's mini-program outputs (WeChat, Alipay,
 * Douyin) on simulated phones, and its H5 output, chatting.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createMiniProgramRuntime, type ListenerCounts, type MiniProgramRuntime } from '../../testing';
import { uniqueUser, waitFor, type TestServer } from '../helpers/server';
import { loadMiniProgramApp, type AppPlatform, type LoadedMiniprogram } from './miniprogram-app-loader';

export const root = path.resolve(__dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ChatSession {
  state: { status: string; me: string; peer: string; messages: Array<{ messageId: string; from: string; fromName: string; content: string }>; error: string };
  signIn(o: { userId: string; userName?: string; peerId: string }): Promise<void>;
  send(text: string): Promise<unknown>;
  destroy(): void;
}

/** Every .js file of a build output, for static checks. */
export function jsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) out.push(...jsFiles(file));
    else if (name.endsWith('.js')) out.push(file);
  }
  return out;
}

/** `Function("return this")` outside a try block would crash a mini-program at load. */
export function unguardedGlobalLookups(dir: string): string[] {
  const hits: string[] = [];
  for (const file of jsFiles(dir)) {
    const code = readFileSync(file, 'utf8');
    let at = code.indexOf('Function("return this")');
    while (at !== -1) {
      // webpack's runtime (Taro) guards its lookup: try{return this||new Function("return this")()}catch
      const before = code.slice(Math.max(0, at - 40), at);
      if (!/try\s*\{[^}]*$/.test(before)) hits.push(`${path.relative(dir, file)}@${at}`);
      at = code.indexOf('Function("return this")', at + 1);
    }
  }
  return hits;
}

/** The testing runtime's platform for each kind of build output. */
const RUNTIME_PLATFORM = { weapp: 'weapp', alipay: 'alipay', douyin: 'douyin' } as const;

export interface Phone {
  platform: AppPlatform;
  runtime: MiniProgramRuntime;
  mp: LoadedMiniprogram;
  session: ChatSession;
  debug: string[];
  /** The runtime's listeners once the app had launched, before the chat session existed. */
  baseline: ListenerCounts;
}

export interface PhoneOptions {
  /** Which platform the build is for, and so which runtime the phone gets. Default 'weapp'. */
  platform?: AppPlatform;
  /** Passed to the app's createChatSession (e.g. `{ viaFramework: true }`). */
  session?: Record<string, unknown>;
}

/**
 * One simulated phone: its own runtime of the build's platform (`createMiniProgramRuntime`) and its
 * own load of the built app with only that platform's globals; the chat session comes from the app
 * (`createChatSession` as the app exposes it), so the bundled SDK and the example's chat logic are
 * what runs.
 */
export async function phone(folder: string, server: TestServer, pick: (mp: LoadedMiniprogram) => (o: object) => ChatSession, options: PhoneOptions = {}): Promise<Phone> {
  const platform = options.platform ?? 'weapp';
  const runtime = createMiniProgramRuntime({ platform: RUNTIME_PLATFORM[platform] });
  const mp = loadMiniProgramApp(folder, { platform, api: runtime.api });
  mp.launch();
  await waitFor(() => typeof pick(mp) === 'function', 5000, 'createChatSession on the app');
  const baseline = runtime.listenerCounts();
  const debug: string[] = [];
  const line = (...a: unknown[]) => debug.push(a.map(String).join(' '));
  const session = pick(mp)({
    serverUrl: server.socketUrl,
    apiServer: server.apiUrl,
    appId: server.appId,
    appSecret: server.appSecret,
    logLevel: 'debug',
    logger: { debug: line, info: () => undefined, warn: line, error: line },
    ...options.session,
  });
  return { platform, runtime, mp, session, debug, baseline };
}

const seen = (p: Phone, text: string) => p.session.state.messages.filter((m) => m.content === text).length;

/**
 * Two phones sign in to each other and exchange a message each way; then `b` loses the network and
 * gets it back, and goes to the background (the platform cuts its network there) and comes back:
 * what `a` sent meanwhile arrives each time, exactly once, in order.
 */
export async function chatBetweenPhones(a: Phone, b: Phone): Promise<void> {
  const alice = uniqueUser('alice');
  const bob = uniqueUser('bob');
  await a.session.signIn({ userId: alice, userName: 'Alice', peerId: bob });
  await b.session.signIn({ userId: bob, userName: 'Bob', peerId: alice });
  const hello = `hello from a ${a.platform} build`;
  await a.session.send(hello);
  await waitFor(() => b.session.state.messages.some((m) => m.content === hello && m.fromName === 'Alice'), 5000, `${b.platform} phone receives`);
  const back = `hi Alice from a ${b.platform} build`;
  await b.session.send(back);
  await waitFor(() => a.session.state.messages.some((m) => m.content === back && m.fromName === 'Bob'), 5000, `${a.platform} phone receives`);

  b.runtime.setNetwork(false);
  await waitFor(() => b.session.state.status !== 'connected', 5000, `${b.platform} phone offline`);
  await a.session.send('while you were offline 1');
  await a.session.send('while you were offline 2');
  b.runtime.setNetwork(true);
  await waitFor(() => seen(b, 'while you were offline 2') > 0, 10000, 'catch-up after the network came back');

  b.runtime.hide({ cutNetworkAfterMs: 50 });
  await waitFor(() => b.session.state.status !== 'connected', 5000, `${b.platform} phone cut off in the background`);
  await a.session.send('while you were away');
  b.runtime.show();
  await waitFor(() => seen(b, 'while you were away') > 0, 10000, 'catch-up on app show');

  expect(b.session.state.messages.map((m) => m.content)).toEqual([hello, back, 'while you were offline 1', 'while you were offline 2', 'while you were away']);
}

/** destroy() gives back every listener the session registered on the platform object. */
export async function destroyLeavesNoListener(p: Phone): Promise<void> {
  expect(p.runtime.listenerCounts().total).toBeGreaterThan(p.baseline.total);
  p.session.destroy();
  await waitFor(() => p.runtime.openSockets() === 0, 5000, 'socket closed after destroy');
  expect(p.runtime.listenerCounts()).toEqual(p.baseline);
}

/** Serves a built H5 folder on loopback (index.html for unknown paths, like a static host). */
export async function serveFolder(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.html': 'text/html; charset=utf-8', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml', '.ttf': 'font/ttf', '.woff': 'font/woff', '.woff2': 'font/woff2' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let file = path.join(dir, decodeURIComponent(url.pathname));
    if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory()) file = path.join(dir, 'index.html');
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export function chatQuery(server: TestServer): string {
  const q = { serverUrl: server.socketUrl, apiServer: server.apiUrl, appId: server.appId, appSecret: server.appSecret };
  return Object.entries(q).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
}

/** Drives the chat page UI in a browser tab: fill the two sign-in fields, tap Sign in. */
export async function signInOnPage(page: Page, userId: string, peerId: string): Promise<void> {
  const inputs = page.locator('input');
  await inputs.first().waitFor({ timeout: 15000 });
  await inputs.nth(0).fill(userId);
  await inputs.nth(1).fill(peerId);
  await page.getByText('Sign in', { exact: true }).click();
  await page.getByText(`${userId} → ${peerId}`).waitFor({ timeout: 15000 });
}

export async function sendOnPage(page: Page, text: string): Promise<void> {
  const input = page.locator('input').first();
  await input.fill(text);
  await page.getByText('Send', { exact: true }).click();
}

/**
 * A framework's build for another platform (Alipay, Douyin), on a phone of that platform chatting
 * with a phone running the framework's WeChat build: the build's own check, then the chat with the
 * adapter the SDK detects and with the framework adapter injected (`viaFramework`), each ending
 * with destroy() leaving no listener behind. `server()` is read when the tests run.
 */
export function describePlatformBuilds(
  framework: { name: string; adapter: string; api: string },
  builds: ReadonlyArray<readonly [target: string, dir: string, platform: 'alipay' | 'douyin', template: string]>,
  ctx: { wechatDir: string; server: () => TestServer; pick: (mp: LoadedMiniprogram) => (o: object) => ChatSession },
): void {
  describe.each(builds)(`${framework.name} %s build on a phone of its platform, chatting with a WeChat phone`, (_target, dir, platform, template) => {
    const phones: Phone[] = [];
    afterAll(() => {
      for (const p of phones) {
        p.session.destroy();
        p.runtime.destroy();
      }
    });

    it(`is a build for ${platform} that bundles the SDK with no unguarded Function("return this")`, () => {
      expect(existsSync(path.join(dir, `pages/chat/index${template}`))).toBe(true);
      expect(unguardedGlobalLookups(dir)).toEqual([]);
      expect(jsFiles(dir).some((f) => readFileSync(f, 'utf8').includes('detected adapter'))).toBe(true);
    });

    it(`the SDK detects the ${platform} adapter: chat both ways, catch-up after offline and app show, destroy() leaves no listener`, async () => {
      const wechat = await phone(ctx.wechatDir, ctx.server(), ctx.pick);
      const other = await phone(dir, ctx.server(), ctx.pick, { platform });
      phones.push(wechat, other);
      await chatBetweenPhones(wechat, other);
      expect(other.debug.join('\n')).toContain(`detected adapter "${platform}"`);
      await destroyLeavesNoListener(other);
    });

    it(`through ${framework.name}'s own APIs (${framework.api}): the same, destroy() leaves no listener`, async () => {
      const wechat = await phone(ctx.wechatDir, ctx.server(), ctx.pick);
      const other = await phone(dir, ctx.server(), ctx.pick, { platform, session: { viaFramework: true } });
      phones.push(wechat, other);
      await chatBetweenPhones(wechat, other);
      expect(other.debug.join('\n')).toContain(`using injected adapter "${framework.adapter}"`);
      await destroyLeavesNoListener(other);
    });
  });
}
