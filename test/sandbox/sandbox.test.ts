/**
 * The packed package, loaded the way WeChat loads it after "build npm": `npm pack`, unpack, follow
 * the `miniprogram` field, run the folder in a separate global with only mini-program globals,
 * module wrappers that shadow `window`/`document`/`self`/`XMLHttpRequest`/`WebSocket` with
 * undefined, and string code generation disabled. Two users chat through the reference server.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { createWxRuntime, type WxRuntime } from '../../testing';
import { startTestServer, uniqueUser, waitFor, type TestServer } from '../helpers/server';
import { createMiniprogramRealm, miniprogramFolder } from './wechat-loader';

const root = path.resolve(__dirname, '../..');

describe('miniprogram_dist in a WeChat-like sandbox', () => {
  let work: string;
  let folder: string;
  let server: TestServer;
  const phones: WxRuntime[] = [];
  const clients: Array<{ destroy(): void }> = [];

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'comind-im-pack-'));
    // The build already ran (npm test builds first); pack exactly what would be published.
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
    const tarball = path.join(work, (JSON.parse(out) as Array<{ filename: string }>)[0]!.filename);
    execFileSync('tar', ['-xzf', tarball, '-C', work]);
    folder = miniprogramFolder(path.join(work, 'package'));
    server = await startTestServer();
  }, 60000);

  afterAll(async () => {
    for (const c of clients) c.destroy();
    for (const p of phones) p.destroy();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('the miniprogram folder holds only JavaScript that needs nothing outside it', () => {
    const files = readdirSync(folder);
    expect(files).toEqual(['index.js']);
    const code = readFileSync(path.join(folder, 'index.js'), 'utf8');
    expect(code).not.toMatch(/\beval\(|new Function|Function\(["']return this/);
    // The lite Socket.IO client stands in for socket.io-client, whose global lookup mini-programs break.
    expect(code).not.toMatch(/engine\.io|socket\.io-client/);
  });

  it('the sandbox really forbids string code generation', () => {
    const realm = createMiniprogramRealm(folder, {});
    expect(() => vm.runInContext('new Function("return 1")()', realm.context)).toThrow(/Code generation from strings disallowed/);
  });

  it('loads without window/document/process, picks the weapp adapter, and two users chat', async () => {
    const makeUser = async (name: string) => {
      const phone = createWxRuntime();
      phones.push(phone);
      const realm = createMiniprogramRealm(folder, phone.wx);
      const sdk = realm.load();
      expect(typeof sdk.ImClient).toBe('function');
      expect(sdk.default).toBe(sdk.ImClient);
      const debug: string[] = [];
      const logger = { debug: (...a: unknown[]) => debug.push(a.join(' ')), info: () => undefined, warn: () => undefined, error: () => undefined };
      const client = new sdk.ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, logLevel: 'debug', logger });
      clients.push(client);
      const userId = uniqueUser(name);
      await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId, userName: name });
      await client.connect();
      expect(debug.some((l) => l.includes('detected adapter "weapp"'))).toBe(true);
      return { client, userId, phone };
    };
    const alice = await makeUser('alice');
    const bob = await makeUser('bob');
    // Only the runtime's own socket API carried the traffic.
    expect(alice.phone.openSockets()).toBe(1);

    const bobGot: Array<{ content: string; fromName: string; messageId: string }> = [];
    const aliceReceipts: Array<{ status: number }> = [];
    bob.client.on('imchat', (m: (typeof bobGot)[number]) => bobGot.push(m));
    alice.client.on('receipt', (r: { status: number }) => aliceReceipts.push(r));
    await waitFor(() => bob.client.getStatus() === 'connected', 5000, 'bob connected');
    await alice.client.sendPrivateMessage({ content: '你好, Bob', recipientId: bob.userId });
    await waitFor(() => bobGot.length === 1, 5000, 'private message');
    expect(bobGot[0]).toMatchObject({ content: '你好, Bob', fromName: 'alice' });
    bob.client.sendReadReceipt(bobGot[0]!.messageId, alice.userId);
    await waitFor(() => aliceReceipts.some((r) => r.status === 2), 5000, 'read receipt');

    const group = await alice.client.createGroup({ name: 'sandbox', userIdList: [bob.userId] });
    await alice.client.sendGroupMessage({ content: 'group hello', groupId: group.id });
    await waitFor(() => bobGot.length === 2, 5000, 'group message');
    expect(bobGot[1]!.content).toBe('group hello');
  }, 30000);
});
