/**
 * The packed package's mini-program build on every platform: `npm pack`, unpack, follow the
 * `miniprogram` field, and load the folder the way the mini-program runtimes do (module wrapper,
 * no eval, a separate global) with ONLY that platform's globals, backed by the platform runtime
 * of comind-im-client-sdk/testing. `new ImClient()` must pick that platform's adapter by itself and
 * chat with a WeChat phone through the reference server; with no platform global, E_NO_ADAPTER
 * names every candidate and why it was unusable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMiniProgramRuntime, MINI_PROGRAM_PLATFORMS, type MiniProgramPlatform, type MiniProgramRuntime } from '../../testing';
import { startTestServer, uniqueUser, waitFor, type TestServer } from '../helpers/server';
import { createPlatformRealm, miniprogramFolder } from './wechat-loader';

const root = path.resolve(__dirname, '../..');

/** The adapter each platform's globals must select (Feishu and Douyin share `tt`: one candidate). */
const EXPECTED: Record<MiniProgramPlatform, string> = {
  weapp: 'weapp',
  qq: 'qq',
  alipay: 'alipay',
  dingtalk: 'dingtalk',
  douyin: 'douyin',
  feishu: 'douyin',
  baidu: 'baidu',
  kuaishou: 'kuaishou',
  jd: 'jd',
};

describe('miniprogram_dist on every platform, with only that platform\'s globals', () => {
  let work: string;
  let folder: string;
  let server: TestServer;
  const phones: MiniProgramRuntime[] = [];
  const clients: Array<{ destroy(): void }> = [];

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'comind-im-platforms-'));
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    const tarball = path.join(work, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
    execFileSync('tar', ['-xzf', tarball, '-C', work]);
    folder = miniprogramFolder(path.join(work, 'package'));
    // For tools that resolve node_modules by path instead of "build npm" (docs/platforms.md).
    expect(existsSync(path.join(work, 'package/miniprogram/index.js'))).toBe(true);
    server = await startTestServer();
  }, 60000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const p of phones) p.destroy();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  /** A phone of `platform` whose sandbox holds exactly the globals that platform defines. */
  const phone = async (platform: MiniProgramPlatform, name: string) => {
    const runtime = createMiniProgramRuntime({ platform });
    phones.push(runtime);
    const globals = Object.fromEntries(runtime.globals.map((g) => [g, runtime.api]));
    const sdk = createPlatformRealm(folder, globals).load();
    const debug: string[] = [];
    const logger = { debug: (...a: unknown[]) => debug.push(a.join(' ')), info: () => undefined, warn: () => undefined, error: () => undefined };
    const client = new sdk.ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, logLevel: 'debug', logger });
    clients.push(client);
    const userId = uniqueUser(name);
    await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId, userName: name });
    await client.connect();
    return { client, userId, runtime, debug };
  };

  it.each(MINI_PROGRAM_PLATFORMS.filter((p) => p !== 'weapp'))('%s: picks its own adapter and chats with a WeChat phone', async (platform) => {
    const a = await phone(platform, `${platform}-user`);
    expect(a.debug.some((l) => l.includes(`detected adapter "${EXPECTED[platform]}"`))).toBe(true);
    expect(a.runtime.openSockets()).toBe(1);
    const b = await phone('weapp', 'wechat-user');
    expect(b.debug.some((l) => l.includes('detected adapter "weapp"'))).toBe(true);

    const atA: Array<{ content: string }> = [];
    const atB: Array<{ content: string }> = [];
    a.client.on('imchat', (m: { content: string }) => atA.push(m));
    b.client.on('imchat', (m: { content: string }) => atB.push(m));
    await a.client.sendPrivateMessage({ content: `from ${platform}`, recipientId: b.userId });
    await b.client.sendPrivateMessage({ content: 'from WeChat', recipientId: a.userId });
    await waitFor(() => atA.length === 1 && atB.length === 1, 5000, 'both messages');
    expect(atB[0]!.content).toBe(`from ${platform}`);
    expect(atA[0]!.content).toBe('from WeChat');
    // An HTTP error status reaches the core as the server's envelope (Alipay: fail with error 19).
    await expect(a.client.getUserInfo({ userId: 'no-such-user-anywhere' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
  }, 30000);

  it('with no platform global at all, E_NO_ADAPTER names every candidate and why', async () => {
    const sdk = createPlatformRealm(folder, {}).load();
    const client = new sdk.ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, logLevel: 'silent' });
    const err = await client.connect({ token: 'a.b.c' }).then(
      () => undefined,
      (e: { code?: string; message?: string }) => e,
    );
    client.destroy();
    expect(err?.code).toBe('E_NO_ADAPTER');
    for (const [name, g] of [['dingtalk', 'dd'], ['alipay', 'my'], ['qq', 'qq'], ['jd', 'jd'], ['kuaishou', 'ks'], ['baidu', 'swan'], ['douyin', 'tt'], ['weapp', 'wx']]) {
      expect(err?.message).toContain(`${name}: no global ${g}`);
    }
  });

  it('a global without the network API is named as unusable, not mistaken for the platform', async () => {
    const sdk = createPlatformRealm(folder, { my: { getStorage() {} } }).load();
    const client = new sdk.ImClient({ serverUrl: server.socketUrl, logLevel: 'silent' });
    await expect(client.connect({ token: 'a.b.c' })).rejects.toMatchObject({ code: 'E_NO_ADAPTER', message: expect.stringContaining('alipay: my has no connectSocket and request') });
    client.destroy();
  });
});
