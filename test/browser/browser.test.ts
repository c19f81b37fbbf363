/**
 * The `<script>` build in a real browser: headless Chromium (Debian's package, driven by
 * playwright-core) loads dist/comind-im-client-sdk.js from a loopback page, and two users chat
 * through the real reference server: private message, read receipt, group message.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, uniqueUser, type TestServer } from '../helpers/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const root = path.resolve(__dirname, '../..');

describe('IIFE build in headless Chromium', () => {
  let server: TestServer;
  let pages: http.Server;
  let pageUrl = '';
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    server = await startTestServer();
    pages = http.createServer((req, res) => {
      const file = req.url === '/comind-im-client-sdk.js' ? path.join(root, 'dist/comind-im-client-sdk.js') : path.join(__dirname, 'page.html');
      res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html; charset=utf-8' });
      res.end(readFileSync(file));
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    pageUrl = `http://127.0.0.1:${(pages.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => pages?.close(r));
    await server?.stop();
  });

  it('two users exchange a private message, a read receipt and a group message', async () => {
    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pageUrl);
    expect(await page.evaluate(() => typeof (window as unknown as { ImClient: unknown }).ImClient)).toBe('function');
    const cfg = { apiUrl: server.apiUrl, socketUrl: server.socketUrl, appId: server.appId, appSecret: server.appSecret, alice: uniqueUser('alice'), bob: uniqueUser('bob') };
    const out = await page.evaluate((c) => (window as unknown as { runChat(c: unknown): Promise<any> }).runChat(c), cfg);
    expect(errors).toEqual([]);
    expect(out.steps).toEqual(['connected', 'private Hello Bob <b>not bold</b>', 'read receipt', 'group Hello group from Alice']);
    expect(out.bobInbox[0]).toMatchObject({ from: cfg.alice, fromName: 'Alice', to: cfg.bob, chatType: 0, msgType: 0 });
    expect(out.bobInbox[1]).toMatchObject({ chatType: 1, fromName: 'Alice' });
    expect(out.receipts.find((r: { status: number }) => r.status === 2)).toMatchObject({ from: cfg.bob });
    // Content stays data: the page rendered the text, not markup.
    expect(await page.locator('b').count()).toBe(0);
    await page.close();
  }, 30000);
});
