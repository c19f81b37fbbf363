/** Shared by the uni-app and Taro compat runs: a built example's WeChat output and H5 output, chatting. */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createWxRuntime, type WxRuntime } from '../../testing';
import { uniqueUser, waitFor, type TestServer } from '../helpers/server';
import { loadMiniprogramApp, type LoadedMiniprogram } from './wechat-app-loader';

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

export interface Phone {
  runtime: WxRuntime;
  mp: LoadedMiniprogram;
  session: ChatSession;
  debug: string[];
}

/**
 * One simulated phone: its own wx runtime and its own WeChat-style load of the built app; the chat
 * session comes from the app (`createChatSession` as the app exposes it), so the bundled SDK and the
 * example's chat logic are what runs.
 */
export async function phone(folder: string, server: TestServer, pick: (mp: LoadedMiniprogram) => (o: object) => ChatSession): Promise<Phone> {
  const runtime = createWxRuntime();
  const mp = loadMiniprogramApp(folder, runtime.wx);
  mp.launch();
  await waitFor(() => typeof pick(mp) === 'function', 5000, 'createChatSession on the app');
  const debug: string[] = [];
  const session = pick(mp)({
    serverUrl: server.socketUrl,
    apiServer: server.apiUrl,
    appId: server.appId,
    appSecret: server.appSecret,
    logLevel: 'debug',
    logger: { debug: (...a: unknown[]) => debug.push(a.map(String).join(' ')), info: () => undefined, warn: (...a: unknown[]) => debug.push(a.map(String).join(' ')), error: (...a: unknown[]) => debug.push(a.map(String).join(' ')) },
  });
  return { runtime, mp, session, debug };
}

/** Two phones sign in to each other and exchange a message each way; then one goes offline and back. */
export async function chatBetweenPhones(a: Phone, b: Phone): Promise<void> {
  const alice = uniqueUser('alice');
  const bob = uniqueUser('bob');
  await a.session.signIn({ userId: alice, userName: 'Alice', peerId: bob });
  await b.session.signIn({ userId: bob, userName: 'Bob', peerId: alice });
  await a.session.send('hello from a WeChat build');
  await waitFor(() => b.session.state.messages.some((m) => m.content === 'hello from a WeChat build' && m.fromName === 'Alice'), 5000, 'bob receives');
  await b.session.send('hi Alice');
  await waitFor(() => a.session.state.messages.some((m) => m.content === 'hi Alice'), 5000, 'alice receives');
  // The phone loses the network: messages sent meanwhile arrive once it is back.
  b.runtime.setNetwork(false);
  await waitFor(() => b.session.state.status !== 'connected', 5000, 'bob offline');
  await a.session.send('while you were offline');
  b.runtime.setNetwork(true);
  await waitFor(() => b.session.state.messages.some((m) => m.content === 'while you were offline'), 10000, 'catch-up after offline');
  expect(b.session.state.messages.filter((m) => m.content === 'while you were offline')).toHaveLength(1);
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
