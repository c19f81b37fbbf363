/**
 * The seed document's code examples, run unchanged against the real reference server through the
 * built package (dist/index.cjs). Only the placeholders the seed tells users to replace are filled
 * in: the two server URLs. The apps and users the examples name are created beforehand.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, waitFor, type TestServer } from '../helpers/server';

// The shipped artefact, not the sources: `npm test` builds before it runs jest.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sdk = require('../../dist/index.cjs');
const ImClient = sdk.ImClient;

const dir = path.join(__dirname, 'examples');
const example = (name: string) => {
  const file = readdirSync(dir).find((f) => f.startsWith(name));
  if (!file) throw new Error(`no example ${name}`);
  return readFileSync(path.join(dir, file), 'utf8');
};

interface Captured {
  log: unknown[][];
  error: unknown[][];
}

describe('the seed examples run unchanged', () => {
  let server: TestServer;
  let fill: (code: string) => string;
  const clients: Array<{ destroy(): void }> = [];

  /** Runs a snippet as an async function body, with the names the seed assumes in scope. */
  async function run(name: string, scope: Record<string, unknown>, epilogue = ''): Promise<Captured & { scope: Record<string, unknown> }> {
    const captured: Captured = { log: [], error: [] };
    const fakeConsole = { log: (...a: unknown[]) => captured.log.push(a), error: (...a: unknown[]) => captured.error.push(a), warn: () => undefined };
    const names = Object.keys(scope);
    const code = `${fill(example(name))}\n${epilogue}`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the point is to run the seed's text
    const fn = new Function('console', ...names, `return (async () => {\n${code}\n})();`);
    const result = await fn(fakeConsole, ...names.map((n) => scope[n]));
    return { ...captured, scope: (result as Record<string, unknown>) ?? {} };
  }

  beforeAll(async () => {
    server = await startTestServer({ devAppId: 'your-app-id', devAppSecret: 'your-app-secret', extraApps: [{ appId: 'app123456', appSecret: 'sec123456' }] });
    fill = (code) =>
      code.replace(/http:\/\/your-socket-server:9998/g, server.socketUrl).replace(/http:\/\/your-api-server:8890/g, server.apiUrl);
    // The users and the group the examples talk to.
    const post = (p: string, body: unknown, token?: string) =>
      fetch(`${server.apiUrl}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<{ code: number; data: { token: string } }>);
    for (const userId of ['user456', 'user789', 'sender-456']) {
      await post('/api/token', { appId: 'your-app-id', appSecret: 'your-app-secret', userId, userName: userId });
    }
    const owner = await post('/api/token', { appId: 'your-app-id', appSecret: 'your-app-secret', userId: 'user123', userName: 'Alice' });
    const created = await post('/api/groups', { groupId: 'group123', name: 'group123', userIdList: ['user456', 'user789'] }, owner.data.token);
    expect(created.code).toBe(0);
  });

  afterAll(async () => {
    for (const c of clients) c.destroy();
    await server.stop();
  });

  it('initialisation, then every method example on the connected client', async () => {
    const init = await run('01-init', { ImClient }, 'return { imClient };');
    const imClient = init.scope.imClient as InstanceType<typeof ImClient>;
    clients.push(imClient);
    expect(init.log.map((l) => l[0])).toEqual(expect.arrayContaining(['连接成功', '初始化完成']));
    expect(init.error).toEqual([]);

    const reg = await run('02-register-user', { imClient });
    await waitFor(() => reg.log.length + reg.error.length > 0, 5000, 'registerUser callback');
    expect(reg.error).toEqual([]);
    expect(reg.log[0]![1]).toMatchObject({ userId: 'user123', userName: '张三', companyName: '某某科技有限公司' });

    const info = await run('03-get-user-info', { imClient });
    expect(info.log[0]).toEqual(['用户信息', expect.objectContaining({ userId: 'user456' })]);

    const priv = await run('04-send-private', { imClient });
    expect(priv.log[0]).toEqual(['消息发送成功', expect.any(String)]);

    const grp = await run('05-send-group', { imClient });
    expect(grp.log[0]).toEqual(['群聊消息发送成功', expect.any(String)]);

    const recv = await run('06-receive-and-receipt', { imClient });
    expect(recv.error).toEqual([]);

    const created = await run('07-create-group', { imClient });
    expect(created.log[0]).toEqual(['群组创建成功', expect.any(String)]);

    const list = await run('08-group-list', { imClient });
    expect((list.log[0]![1] as unknown[]).length).toBeGreaterThanOrEqual(2);

    const gi = await run('09-group-info', { imClient });
    expect(gi.log[0]).toEqual(['群组信息', expect.objectContaining({ id: 'group123' })]);

    const gm = await run('10-group-members', { imClient });
    expect((gm.log[0]![1] as Array<{ userId: string }>).map((m) => m.userId).sort()).toEqual(['user123', 'user456', 'user789']);

    const gh = await run('11-group-history', { imClient });
    expect(gh.log[0]![0]).toBe('群组历史消息');
    expect((gh.log[0]![1] as Array<{ content: string }>).map((m) => m.content)).toContain('Hello group!');

    await run('12-status-listener', { imClient });
    const hb = await run('13-heartbeat', { imClient }, 'return { status };');
    expect(['active', 'inactive']).toContain(hb.scope.status);

    await run('14-disconnect', { imClient });
    expect(imClient.getStatus()).toBe('disconnected');
  });

  it('scenario one: one-to-one chat receives and sends', async () => {
    const shown: unknown[] = [];
    const s = await run('15-scenario-private', { ImClient, addMessageToUI: (m: unknown) => shown.push(m) }, "await connect(); await sendMessage('Hi from scenario one', 'user456'); return { imClient };");
    clients.push(s.scope.imClient as { destroy(): void });
    expect(s.log.map((l) => l[0])).toEqual(['连接成功', '消息已发送']);

    // Someone writes back: the scenario's imchat handler puts it on the "UI".
    const peer = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, logLevel: 'silent' });
    clients.push(peer);
    await peer.getToken({ appId: 'your-app-id', appSecret: 'your-app-secret', userId: 'user456' });
    await peer.connect();
    await peer.sendPrivateMessage({ content: 'reply', recipientId: 'current-user-id' });
    await waitFor(() => shown.length === 1, 5000, 'addMessageToUI');
    expect(shown[0]).toMatchObject({ content: 'reply', from: 'user456', chatType: 0 });
  });

  it('scenario two: group chat lists groups and sends to a group', async () => {
    const displayed: unknown[] = [];
    const s = await run(
      '16-scenario-group',
      { ImClient, addGroupMessageToUI: () => undefined, displayGroups: (g: unknown) => displayed.push(g) },
      "await connect(); return { imClient, sendGroupMessage };",
    );
    const imClient = s.scope.imClient as InstanceType<typeof ImClient>;
    clients.push(imClient);
    expect(displayed).toEqual([[]]); // a new user is in no group yet
    const owner = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, logLevel: 'silent' });
    clients.push(owner);
    await owner.getToken({ appId: 'your-app-id', appSecret: 'your-app-secret', userId: 'user123' });
    await owner.addGroupMembers({ groupId: 'group123', userIdList: ['current-user-id'] });
    await (s.scope.sendGroupMessage as (c: string, g: string) => Promise<void>)('Hello from scenario two', 'group123');
    expect(s.log.map((l) => l[0])).toContain('群聊消息已发送');
  });
});
