/**
 * examples/uniapp, built by uni-app's own Vite tooling (test/compat/build-examples.mjs):
 * - the mp-weixin output loaded WeChat-style (module wrappers shadowing window/document/self, no
 *   string code generation) on two simulated phones chatting through the reference server, with the
 *   app's own chat logic and the SDK bundled into common/vendor.js;
 * - the mp-alipay and mp-toutiao outputs loaded the same way with only `my` / `tt` defined, each on
 *   a phone of its platform (the testing runtimes) chatting with a phone running the mp-weixin
 *   output: once with the adapter the SDK detects, once through uni's own APIs;
 * - the H5 output served on loopback, two tabs of headless Chromium chatting through the page UI.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestServer, uniqueUser, type TestServer } from '../helpers/server';
import { chatBetweenPhones, describePlatformBuilds, chatQuery, destroyLeavesNoListener, jsFiles, launchChromium, phone, root, sendOnPage, serveFolder, signInOnPage, unguardedGlobalLookups, type Phone } from './helpers';

const app = path.join(root, 'examples/uniapp');
const mpDir = path.join(app, 'dist/build/mp-weixin');
const alipayDir = path.join(app, 'dist/build/mp-alipay');
const douyinDir = path.join(app, 'dist/build/mp-toutiao');
const h5Dir = path.join(app, 'dist/build/h5');
const pick = (mp: Phone['mp']) => mp.app.globalData?.createChatSession;

let server: TestServer;
beforeAll(async () => {
  for (const dir of [mpDir, alipayDir, douyinDir, h5Dir]) if (!existsSync(dir)) throw new Error(`${path.relative(root, dir)} is missing: run node test/compat/build-examples.mjs`);
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('uni-app mp-weixin build in a WeChat-like sandbox', () => {
  const phones: Phone[] = [];
  afterAll(() => {
    for (const p of phones) {
      p.session.destroy();
      p.runtime.destroy();
    }
  });

  it('bundles the SDK with no unguarded Function("return this")', () => {
    expect(unguardedGlobalLookups(mpDir)).toEqual([]);
    // The SDK itself is in the output (the bundler inlined it from node_modules).
    expect(jsFiles(mpDir).some((f) => readFileSync(f, 'utf8').includes('detected adapter'))).toBe(true);
  });

  it('two phones run the built app and chat through the reference server (weapp adapter detected)', async () => {
    phones.push(await phone(mpDir, server, pick), await phone(mpDir, server, pick));
    await chatBetweenPhones(phones[0]!, phones[1]!);
    expect(phones[0]!.debug.join('\n')).toContain('detected adapter "weapp"');
    await destroyLeavesNoListener(phones[1]!);
  });
});

describePlatformBuilds({ name: 'uni-app', adapter: 'uniapp', api: 'createUniappAdapter({ uni })' }, [
  ['mp-alipay', alipayDir, 'alipay', '.axml'],
  ['mp-toutiao', douyinDir, 'douyin', '.ttml'],
], { wechatDir: mpDir, server: () => server, pick });

describe('uni-app H5 build in headless Chromium', () => {
  let browser: Browser;
  let site: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    site = await serveFolder(h5Dir);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('two tabs sign in on the chat page and exchange messages', async () => {
    const alice = uniqueUser('alice');
    const bob = uniqueUser('bob');
    const url = `${site.url}#/pages/chat/index?${chatQuery(server)}`;
    const errors: string[] = [];
    const [a, b] = [await browser.newPage(), await browser.newPage()];
    for (const p of [a, b]) p.on('pageerror', (e) => errors.push(String(e)));
    await a.goto(url);
    await b.goto(url);
    await signInOnPage(a, alice, bob);
    await signInOnPage(b, bob, alice);
    await sendOnPage(a, 'hello from uni-app H5');
    await b.getByText('hello from uni-app H5').waitFor({ timeout: 10000 });
    await sendOnPage(b, 'hi back');
    await a.getByText('hi back').waitFor({ timeout: 10000 });
    expect(await a.getByText('connected', { exact: true }).count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
