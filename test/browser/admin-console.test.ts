/**
 * The admin console (server/admin, served at /admin/) in headless Chromium (Debian's package,
 * driven by playwright-core) against the real server on 127.0.0.1: sign-in, users, a live
 * session kicked by disabling, groups, a conversation's messages and an admin revoke that a
 * connected client receives, live figures, language, sign-out (revoked on the server, forgotten in
 * the page even when that call fails), and what the page sends and keeps.
 *
 * SCREENSHOTS=1 also writes docs/screenshots/admin-*.png (1280x800) along the way.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { closeClients, connect, http, nextEvent, startServer, tokenFor, type TestServer, type TestSocket } from '../server/helpers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.SCREENSHOTS === '1' ? path.resolve(__dirname, '../../docs/screenshots') : undefined;
const EXPECTED_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

jest.setTimeout(60_000);

interface Seen {
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** GET with the path as written (fetch would normalise `..` away before sending). */
function rawGet(apiUrl: string, rawPath: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(apiUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: rawPath, method: 'GET', timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('admin console in headless Chromium', () => {
  let server: TestServer;
  let browser: Browser | undefined;
  let page: Page;
  let basic: Record<string, string>;
  const consoleErrors: string[] = [];
  const seen: Seen[] = [];
  let signedInAt = -1;
  const sockets: Record<string, TestSocket> = {};
  let groupId = '';
  let helloBob = '';

  const shot = async (name: string) => {
    if (!SHOTS) return;
    await page.evaluate(() => document.fonts.ready);
    await page.screenshot({ path: path.join(SHOTS, `admin-${name}.png`) });
  };
  const confirmDialog = async () => {
    await page.locator('dialog.confirm[open] [data-role=confirm]').click();
    await page.locator('dialog.confirm').waitFor({ state: 'detached' });
  };
  const asApp = (method: string, p: string, body?: unknown) => http(server, method, p, body, undefined, basic);

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    server = await startServer();
    basic = { authorization: `Basic ${Buffer.from(`${server.appId}:${server.appSecret}`).toString('base64')}` };

    // A fresh server per run: readable ids, as an operator would see them.
    const people: Array<[string, string, string]> = [
      ['alice', '王小明', '星河科技'],
      ['bob', '李娜', '星河科技'],
      ['carol', '陈静', '云帆网络'],
      ['dave', '张伟', '云帆网络'],
      ['erin', '<b>Erin</b>', ''],
    ];
    for (const [userId, userName, companyName] of people) {
      const r = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId, userName, companyName });
      expect(r.body.code).toBe(0);
    }
    const tokens: Record<string, string> = {};
    for (const [userId, userName] of people) tokens[userId] = await tokenFor(server, userId, userName);
    for (const userId of ['alice', 'bob', 'carol']) sockets[userId] = await connect(server, undefined, { auth: { token: tokens[userId], platform: 'web' } });

    const group = await http(server, 'POST', '/api/groups', { name: '产品运营群', userIdList: ['bob', 'carol'] }, tokens.alice);
    expect(group.body.code).toBe(0);
    groupId = group.body.data.groupId;
    const send = async (from: string, chatType: 0 | 1, to: string, content: string) => {
      const r = await new Promise<any>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no ack for chat:send')), 5000);
        sockets[from]!.emit('chat:send', { clientMsgId: `c-${from}-${Math.random().toString(36).slice(2)}`, chatType, to, content }, (res: any) => {
          clearTimeout(timer);
          resolve(res);
        });
      });
      expect(r.code).toBe(0);
      return r.data.messageId as string;
    };
    helloBob = await send('alice', 0, 'bob', '李娜，下午三点的评审会改到会议室 B。');
    await send('bob', 0, 'alice', '收到，我会准时到。');
    await send('alice', 1, groupId, '欢迎大家加入产品运营群！');
    await send('bob', 1, groupId, '谢谢，本周的运营数据已经发到群文件。');
    await send('carol', 1, groupId, '<script>alert(1)</script> 这行只是文字');

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    page.on('request', (r) => seen.push({ url: r.url(), headers: r.headers(), body: r.postData() }));
  }, 60_000);

  afterAll(async () => {
    closeClients();
    await browser?.close();
    await server?.stop();
  });

  it('is served at /admin/ with its security headers, and nothing outside its folder', async () => {
    const redirect = await fetch(`${server.apiUrl}/admin`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/admin/');

    const index = await page.goto(`${server.apiUrl}/admin`);
    expect(page.url()).toBe(`${server.apiUrl}/admin/`);
    const headers = index!.headers();
    expect(headers['content-security-policy']).toBe(EXPECTED_CSP);
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['referrer-policy']).toBe('no-referrer');
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['content-type']).toMatch(/^text\/html/);
    const script = await fetch(`${server.apiUrl}/admin/admin.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('content-security-policy')).toBe(EXPECTED_CSP);

    for (const p of ['/admin/../package.json', '/admin/%2e%2e/package.json', '/admin/..%2fpackage.json', '/admin//admin.js', '/admin/nope.js']) {
      const r = await rawGet(server.apiUrl, p);
      expect(r.status).toBe(404);
      expect(r.body).not.toContain('comind-im-server');
    }
    await page.locator('[data-role=secret-form]').waitFor();
    await shot('signin');
  });

  it('a wrong secret shows the error, and keeps neither the secret nor a session', async () => {
    await page.locator('#app-id').fill(server.appId);
    await page.locator('#app-secret').fill('not-the-secret');
    await page.locator('[data-role=secret-form] button[type=submit]').click();
    await expect(page.locator('.signin [role=alert]').textContent()).resolves.toContain('应用 ID 或应用密钥错误');
    expect(await page.locator('#app-secret').inputValue()).toBe('');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('signs in with the app secret: the token is kept in sessionStorage only', async () => {
    await page.locator('#app-id').fill(server.appId);
    await page.locator('#app-secret').fill(server.appSecret);
    signedInAt = seen.length + 1; // the session request itself is the one that carries the secret
    await page.locator('[data-role=secret-form] button[type=submit]').click();
    await expect(page.locator('[data-role=app-id]').textContent()).resolves.toContain(server.appId);
    const stored = await page.evaluate(() => ({ session: { ...sessionStorage }, local: { ...localStorage }, cookie: document.cookie }));
    const kept = JSON.parse(stored.session['comind-im-admin.session']!);
    expect(kept).toMatchObject({ appId: server.appId, token: expect.any(String), expiresAt: expect.any(Number) });
    expect(JSON.stringify(stored)).not.toContain(server.appSecret);
    expect(JSON.stringify(stored.local)).not.toContain(kept.token);
    expect(stored.cookie).toBe('');
    // The users view is the first page.
    await page.locator('table.grid').waitFor();
    await shot('users');
  });

  it('users: the search finds a user; names are shown as text', async () => {
    await page.locator('form.search input').fill('李');
    await page.locator('form.search button').click();
    await page.waitForFunction(() => document.querySelectorAll('table.grid tbody tr').length === 1 && location.hash.includes('q='));
    const row = page.locator('table.grid tbody tr');
    await expect(row.textContent()).resolves.toContain('bob');
    await expect(row.textContent()).resolves.toContain('在线');

    await page.locator('form.search input').fill('erin');
    await page.locator('form.search button').click();
    await page.waitForFunction(() => document.querySelector('table.grid tbody tr')?.textContent?.includes('erin'));
    await expect(page.locator('table.grid tbody tr td').nth(1).textContent()).resolves.toBe('<b>Erin</b>');
    expect(await page.locator('main b').count()).toBe(0);
  });

  it("a user's detail lists its live session; disable kicks it and shows the user disabled; enable", async () => {
    await page.locator('form.search input').fill('bob');
    await page.locator('form.search button').click();
    await page.locator('table.grid tbody tr a', { hasText: 'bob' }).click();
    await page.waitForFunction(() => location.hash === '#/users/bob');
    await page.locator('[data-role=disable]').waitFor();
    const sessionsTable = page.locator('section table.grid tbody tr');
    await expect(sessionsTable.count()).resolves.toBe(1);
    await expect(sessionsTable.first().textContent()).resolves.toContain('web');
    await shot('user');

    const kicked = nextEvent(sockets.bob!, 'kicked');
    await page.locator('[data-role=disable]').click();
    await confirmDialog();
    await expect(kicked).resolves.toEqual({ reason: 'user_disabled' });
    await page.locator('[data-role=enable]').waitFor();
    await expect(page.locator('dl.fields').textContent()).resolves.toContain('已停用');
    await expect(page.locator('.status').textContent()).resolves.toContain('断开了 1 个连接');
    expect((await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: 'bob' })).body.code).toBe(40301);

    await page.locator('nav a[href="#/users"]').click();
    await page.locator('form.search input').fill('bob');
    await page.locator('form.search button').click();
    await page.waitForFunction(() => document.querySelectorAll('table.grid tbody tr').length === 1 && location.hash.includes('q=bob'));
    await expect(page.locator('table.grid tbody tr').textContent()).resolves.toContain('已停用');

    await page.locator('table.grid tbody tr a', { hasText: 'bob' }).click();
    await page.locator('[data-role=enable]').click();
    await confirmDialog();
    await page.locator('[data-role=disable]').waitFor();
    await expect(page.locator('dl.fields').textContent()).resolves.toContain('正常');
    expect((await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: 'bob' })).body.code).toBe(0);
  });

  it("a user's conversations lead to its messages, newest last; an admin revoke reaches a connected client", async () => {
    await page.goto(`${server.apiUrl}/admin/#/users/alice`);
    await page.locator('a[href="#/users/alice/conversations"]').click();
    await page.locator('table.grid tbody tr').first().waitFor();
    await expect(page.locator('table.grid tbody').textContent()).resolves.toContain('产品运营群');
    await page.locator('table.grid tbody tr a', { hasText: '李娜' }).click();
    await page.waitForFunction(() => location.hash === '#/messages/private/alice/bob');
    const rows = page.locator('li.message .content');
    await rows.nth(1).waitFor();
    expect(await rows.allTextContents()).toEqual(['李娜，下午三点的评审会改到会议室 B。', '收到，我会准时到。']);

    const revoked = new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no revoke event within 5 s')), 5000);
      sockets.alice!.on('imchat', (m: any) => {
        if (m.event === 'revoke') {
          clearTimeout(timer);
          resolve(m);
        }
      });
    });
    const row = page.locator(`li.message[data-message-id="${helloBob}"]`);
    await row.locator('[data-role=revoke]').click();
    await confirmDialog();
    await expect(revoked).resolves.toMatchObject({ event: 'revoke', eventOf: helloBob, target: { messageId: helloBob, revoked: true, content: '' } });
    await row.locator('.badge', { hasText: '已撤回' }).waitFor();
    expect(await row.locator('.content').textContent()).not.toContain('评审会');
    expect(await row.locator('[data-role=revoke]').count()).toBe(0);
    // As the server has it now, after a reload (the sign-in survives it: same tab).
    await page.reload();
    const again = page.locator(`li.message[data-message-id="${helloBob}"]`);
    await again.locator('.badge', { hasText: '已撤回' }).waitFor();
    await expect(again.locator('.content').textContent()).resolves.toContain('已由管理员');
    const history = await asApp('GET', '/api/server/private/alice/bob/messages');
    expect(history.body.data.find((m: any) => m.messageId === helloBob)).toMatchObject({ revoked: true, content: '' });
    await shot('messages');
  });

  it("groups: search, the group's members and messages, dismiss", async () => {
    await page.locator('nav a[href="#/groups"]').click();
    await page.locator('form.search input').fill('运营');
    await page.locator('form.search button').click();
    await page.waitForFunction(() => location.hash.includes('q=') && document.querySelectorAll('table.grid tbody tr').length === 1);
    await expect(page.locator('table.grid tbody tr').textContent()).resolves.toContain('产品运营群');
    await shot('groups');

    await page.locator('table.grid tbody tr a', { hasText: groupId }).click();
    const members = page.locator('section table.grid tbody tr');
    await members.nth(2).waitFor();
    const memberText = await members.allTextContents();
    expect(memberText).toHaveLength(3);
    expect(memberText[0]).toContain('alice');
    expect(memberText[0]).toContain('群主');
    expect(memberText.slice(1).join(' ')).toMatch(/bob.*成员|成员.*bob/);

    await page.locator(`a[href="#/messages/group/${groupId}"]`).click();
    const contents = page.locator('li.message .content');
    await page.waitForFunction(() => document.querySelectorAll('li.message').length >= 3);
    const texts = await contents.allTextContents();
    expect(texts.slice(-3)).toEqual(['欢迎大家加入产品运营群！', '谢谢，本周的运营数据已经发到群文件。', '<script>alert(1)</script> 这行只是文字']);
    await page.goBack();

    const changed = new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no group:changed dismissed within 5 s')), 5000);
      sockets.carol!.on('group:changed', (e: any) => {
        if (e.action === 'dismissed') {
          clearTimeout(timer);
          resolve(e);
        }
      });
    });
    await page.locator('[data-role=dismiss]').click();
    await confirmDialog();
    await page.locator('.status .badge', { hasText: '群组已解散' }).waitFor();
    await expect(changed).resolves.toMatchObject({ groupId });
    expect((await asApp('GET', `/api/server/groups/${groupId}`)).body.code).toBe(40400);
  });

  it('live figures show the current connection count and follow it', async () => {
    await page.locator('nav a[href="#/live"]').click();
    const figure = page.locator('[data-role=connections]');
    // alice and carol are connected; bob was kicked.
    await page.waitForFunction(() => document.querySelector('[data-role=connections]')?.textContent === '2');
    await expect(page.locator('[data-role=nodes]').textContent()).resolves.toBe('1');
    await shot('live');
    const daveToken = await tokenFor(server, 'dave', '张伟');
    sockets.dave = await connect(server, daveToken);
    await page.waitForFunction(() => document.querySelector('[data-role=connections]')?.textContent === '3', undefined, { timeout: 8000 });
    expect(await figure.textContent()).toBe('3');
  });

  it('switches to English and back', async () => {
    await page.locator('[data-role=lang]').click();
    await expect(page.locator('nav').textContent()).resolves.toContain('Users');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.locator('[data-role=lang]').click();
    await expect(page.locator('nav').textContent()).resolves.toContain('用户');
    // Both languages have every string (a string as the expression: ts-jest would turn import() into require()).
    const keys = (await page.evaluate("import('/admin/i18n.js').then((m) => m.KEYS)")) as { zh: string[]; en: string[] };
    expect(keys.zh.length).toBeGreaterThan(100);
    expect([...keys.en].sort()).toEqual([...keys.zh].sort());
  });

  it('no request after sign-in carried the secret, and no URL a token; all went to this origin', () => {
    expect(signedInAt).toBeGreaterThan(0);
    const session = seen[signedInAt - 1]!;
    expect(session.url).toBe(`${server.apiUrl}/api/server/session`);
    const after = seen.slice(signedInAt);
    expect(after.length).toBeGreaterThan(10);
    for (const r of after) {
      expect(JSON.stringify(r)).not.toContain(server.appSecret);
      expect(r.url.startsWith(`${server.apiUrl}/`)).toBe(true);
      expect(r.headers.cookie).toBeUndefined();
    }
    const apiCalls = after.filter((r) => r.url.includes('/api/server/'));
    expect(apiCalls.length).toBeGreaterThan(5);
    const token = apiCalls[0]!.headers.authorization!.replace(/^Bearer /, '');
    for (const r of apiCalls) expect(r.headers.authorization).toBe(`Bearer ${token}`);
    for (const r of seen) expect(r.url).not.toContain(token);
  });

  it('sign out clears the token and revokes it on the server; a refused token returns to sign-in with the reason', async () => {
    const before = await page.evaluate(() => JSON.parse(sessionStorage.getItem('comind-im-admin.session')!).token as string);
    expect((await http(server, 'GET', '/api/server/app', undefined, before)).body.code).toBe(0);
    const revoked = page.waitForResponse((r) => r.url() === `${server.apiUrl}/api/server/session/revoke`);
    await page.locator('[data-role=sign-out]').click();
    await page.locator('[data-role=secret-form]').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    const answer = await revoked;
    expect([answer.request().method(), answer.request().headers().authorization]).toEqual(['POST', `Bearer ${before}`]);
    expect(await answer.json()).toEqual({ code: 0, message: 'ok', data: { revoked: true } });
    // A copy of the token (from this machine, a log, a screenshot) no longer works either.
    const copied = await http(server, 'GET', '/api/server/users', undefined, before);
    expect([copied.status, copied.body.code]).toEqual([401, 40101]);
    expect(copied.body.message).toMatch(/^token revoked/);

    // A pasted operator token signs in; once the server refuses it, the console says why.
    const minted = await http(server, 'POST', '/api/server/session', { appId: server.appId, appSecret: server.appSecret });
    await page.locator('.signin details summary').click();
    await page.locator('#operator-token').fill(minted.body.data.token);
    await page.locator('[data-role=token-form] button[type=submit]').click();
    await page.locator('[data-role=sign-out]').waitFor();
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('comind-im-admin.session')!);
      sessionStorage.setItem('comind-im-admin.session', JSON.stringify({ ...s, token: `${s.token}x` }));
    });
    await page.locator('nav a[href="#/groups"]').click();
    await page.locator('[data-role=secret-form]').waitFor();
    await expect(page.locator('.signin [role=alert]').textContent()).resolves.toContain('登录已失效');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('sign out forgets the token in the page even when the revoke call fails', async () => {
    const minted = (await http(server, 'POST', '/api/server/session', { appId: server.appId, appSecret: server.appSecret })).body.data.token as string;
    await page.locator('.signin details summary').click();
    await page.locator('#operator-token').fill(minted);
    await page.locator('[data-role=token-form] button[type=submit]').click();
    await page.locator('[data-role=sign-out]').waitFor();
    const revokeUrl = `${server.apiUrl}/api/server/session/revoke`;
    await page.route(revokeUrl, (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ code: 50300, message: 'server shutting down' }) }));
    try {
      const failed = page.waitForResponse((r) => r.url() === revokeUrl);
      await page.locator('[data-role=sign-out]').click();
      await page.locator('[data-role=secret-form]').waitFor();
      expect((await failed).status()).toBe(503);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      await expect(page.locator('.signin [role=alert]').count()).resolves.toBe(0);
    } finally {
      await page.unroute(revokeUrl);
    }
    // The call never reached the server, so the token itself still works: only the page forgot it.
    expect((await http(server, 'GET', '/api/server/app', undefined, minted)).body.code).toBe(0);
  });

  it('logged no console errors', () => {
    // Chromium logs each refused call as a failed resource: the wrong secret, the refused token
    // and the failed revoke above, and nothing else may be there.
    const refused = consoleErrors.filter((e) => /status of 401/.test(e));
    const unavailable = consoleErrors.filter((e) => /status of 503/.test(e));
    expect(consoleErrors.filter((e) => !refused.includes(e) && !unavailable.includes(e))).toEqual([]);
    expect(refused.length).toBeLessThanOrEqual(2);
    expect(unavailable.length).toBeLessThanOrEqual(1);
  });
});
