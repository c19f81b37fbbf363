/**
 * The server REST API (docs/protocol.md section 8) on the real server: how an app's backend
 * proves itself and what it may not reach, each route's answer and refusals, the live effects
 * clients see (a disabled user's sockets kicked, an admin send and an admin revoke arriving), and
 * operator tokens' sign-out (one token, or all of an app's; kept across a restart).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { mintToken } from '../../server/src/auth';
import { call, closeAll, closeClients, collect, connect, http, nextEvent, refusal, sleep, startServer, tokenFor, until, type Env, type TestServer } from './helpers';

jest.setTimeout(60_000);

const OTHER = { appId: 'srv-other-app', appSecret: 'srv-other-secret-0123456789' };
let server: TestServer;
let n = 0;
const id = (p: string) => `sa-${p}-${++n}`;

beforeAll(async () => {
  server = await startServer({ extraApps: [OTHER] });
});
afterEach(() => closeClients());
afterAll(() => closeAll());

const basic = (appId: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${appId}:${secret}`).toString('base64')}` });
/** A server API call as this server's dev app (or `as`). */
async function api<T = any>(method: string, path: string, body?: unknown, as: Record<string, string> = basic(server.appId, server.appSecret)): Promise<{ status: number; body: Env<T> }> {
  return http<T>(server, method, path, body, undefined, as);
}
async function okData<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await api<T>(method, path, body);
  if (r.body.code !== 0) throw new Error(`${method} ${path}: ${r.body.code} ${r.body.message}`);
  return r.body.data!;
}

describe('authentication', () => {
  it('takes Basic appId:appSecret or an operator token; refuses a wrong secret, no credentials, and user tokens', async () => {
    expect((await api('GET', '/api/server/app')).body.data).toEqual({ appId: server.appId, via: 'secret' });
    const wrong = await api('GET', '/api/server/users', undefined, basic(server.appId, 'not-the-secret'));
    expect([wrong.status, wrong.body.code]).toEqual([401, 40103]);
    expect((await http(server, 'GET', '/api/server/users')).body.code).toBe(40100);

    await tokenFor(server, id('first'));
    await tokenFor(server, id('second'));
    const session = await http(server, 'POST', '/api/server/session', { appId: server.appId, appSecret: server.appSecret });
    const operator = session.body.data.token as string;
    const viaToken = await http(server, 'GET', '/api/server/users?limit=1', undefined, operator);
    expect(viaToken.body.code).toBe(0);
    expect(viaToken.body.data).toEqual({ items: [expect.objectContaining({ userId: expect.any(String) })], nextCursor: expect.any(String) });

    const userToken = await tokenFor(server, id('u'));
    expect((await http(server, 'GET', '/api/server/users', undefined, userToken)).body.code).toBe(40101);
    // And the other way round: an operator token is no user's.
    expect((await http(server, 'GET', '/api/conversations', undefined, operator)).body.code).toBe(40101);
    expect(await refusal(server, operator)).toMatchObject({ data: { code: 40101 } });
  });

  it('wrong secrets over Basic are held to the sign-in rate per address, not the server API rate', async () => {
    const strict = await startServer({ httpAuthRateLimit: 5 });
    try {
      const as = (secret: string) => http(strict, 'GET', '/api/server/app', undefined, undefined, basic(strict.appId, secret));
      for (let i = 0; i < 5; i++) expect((await as(`guess-${i}`)).body.code).toBe(40103);
      // The sixth guess is not even checked, and neither is the right secret from that address
      // until the minute is over: the answer is the same whatever is tried.
      expect((await as('guess-5')).body.code).toBe(42900);
      expect((await as(strict.appSecret)).body.code).toBe(42900);
      // Operator tokens (already proof of the secret) still work.
      const session = await http(strict, 'POST', '/api/server/session', { appId: strict.appId, appSecret: strict.appSecret });
      expect((await http(strict, 'GET', '/api/server/app', undefined, session.body.data.token)).body.code).toBe(0);
    } finally {
      await strict.stop();
    }
  });

  it("another app's credentials reach none of this app's users, groups or messages", async () => {
    const [a, b] = [id('a'), id('b')];
    const ta = await tokenFor(server, a);
    await tokenFor(server, b);
    const m = (await http(server, 'POST', '/api/groups', { name: 'mine', userIdList: [b] }, ta)).body.data;
    const sent = await okData('POST', '/api/server/messages', { from: a, chatType: 0, to: b, content: 'hello' });
    const other = basic(OTHER.appId, OTHER.appSecret);

    expect((await api('GET', `/api/server/users/${a}`, undefined, other)).body.code).toBe(40400);
    expect((await api('GET', `/api/server/users?query=${a}`, undefined, other)).body.data.items).toEqual([]);
    expect((await api('POST', `/api/server/users/${a}/disable`, undefined, other)).body.code).toBe(40400);
    expect((await api('GET', `/api/server/groups/${m.groupId}`, undefined, other)).body.code).toBe(40400);
    expect((await api('POST', `/api/server/groups/${m.groupId}/dismiss`, undefined, other)).body.code).toBe(40400);
    expect((await api('POST', `/api/server/messages/${sent.messageId}/revoke`, undefined, other)).body.code).toBe(40400);
    expect((await api('GET', `/api/server/private/${a}/${b}/messages`, undefined, other)).body.code).toBe(40400);
    expect((await api('POST', '/api/server/messages', { from: a, chatType: 0, to: b, content: 'x' }, other)).body.code).toBe(40400);

    // All still as they were in their own app.
    expect((await okData('GET', `/api/server/users/${a}`)).valid).toBe(true);
    expect((await okData('GET', `/api/server/groups/${m.groupId}`)).groupId).toBe(m.groupId);
    expect((await okData('GET', `/api/server/private/${a}/${b}/messages`)).map((x: any) => x.content)).toEqual(['hello']);
  });

  it('user ids starting with "@" are system accounts: no token, no registration, and a self-minted token is refused', async () => {
    const token = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: '@system' });
    expect([token.status, token.body.code]).toEqual([400, 40000]);
    expect(token.body.message).toMatch(/reserved for system accounts/);
    expect((await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId: '@bot' })).body.code).toBe(40000);
    // Wrong credentials still answer as wrong credentials.
    expect((await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: 'nope', userId: '@system' })).body.code).toBe(40103);
    const minted = mintToken({ appId: server.appId, appSecret: server.appSecret, userId: '@system' });
    expect((await http(server, 'GET', '/api/conversations', undefined, minted)).body.code).toBe(40101);
    expect(await refusal(server, minted)).toMatchObject({ data: { code: 40101 } });
  });
});

describe('users', () => {
  it('imports 1000 users in one call and pages through them by id, 200 at a time, with a case-insensitive query', async () => {
    const prefix = id('imp');
    const avatar = (i: number) => `https://img.example/${'a'.repeat(300)}/${i}.png`;
    const users = Array.from({ length: 1000 }, (_, i) => ({ userId: `${prefix}-${String(i).padStart(4, '0')}`, userName: `Imported ${i}`, companyName: 'ACME', userImg: avatar(i) }));
    // Over the API's usual 256 KB body limit: an import of 1000 real profiles has to fit.
    expect(JSON.stringify({ users }).length).toBeGreaterThan(300_000);
    expect(await okData('POST', '/api/server/users/import', { users })).toEqual({ count: 1000 });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q = `query=${encodeURIComponent(prefix.toUpperCase())}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: { items: any[]; nextCursor: string | null } = await okData('GET', `/api/server/users?${q}`);
      seen.push(...page.items.map((u) => u.userId));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(5);
    expect(seen).toEqual(users.map((u) => u.userId));
    const first = (await okData('GET', `/api/server/users?query=${prefix}-0007`)).items;
    expect(first).toEqual([{ userId: `${prefix}-0007`, userName: 'Imported 7', userImg: avatar(7), companyName: 'ACME', imRole: 'user', valid: true, online: false, sessions: 0 }]);
    // By name too; the default page is 50.
    const byName = await okData('GET', `/api/server/users?query=${encodeURIComponent('imported 99')}`);
    expect(byName.items.map((u: any) => u.userName)).toEqual(expect.arrayContaining(['Imported 99', 'Imported 990', 'Imported 999']));
    expect((await okData('GET', `/api/server/users?query=${prefix}`)).items).toHaveLength(50);
  });

  it('an import changes only the fields it names, keeps a disabled user disabled, and refuses bad input', async () => {
    const u = id('re');
    await okData('POST', '/api/server/users/import', { users: [{ userId: u, userName: 'First', userImg: 'https://img.example/a.png', imRole: 'admin' }] });
    await okData('POST', `/api/server/users/${u}/disable`);
    expect(await okData('POST', '/api/server/users/import', { users: [{ userId: u, userName: 'Second' }, { userId: u, companyName: 'Last wins' }] })).toEqual({ count: 1 });
    expect(await okData('GET', `/api/server/users/${u}`)).toMatchObject({ userId: u, userName: 'First', userImg: 'https://img.example/a.png', imRole: 'admin', companyName: 'Last wins', valid: false });

    const bad = async (body: unknown) => (await api('POST', '/api/server/users/import', body)).body;
    expect((await bad({ users: [] })).code).toBe(40000);
    expect((await bad({ users: Array.from({ length: 1001 }, (_, i) => ({ userId: `x${i}` })) })).code).toBe(40000);
    expect((await bad({ users: [{ userId: '@robot' }] })).message).toMatch(/users\[0\]\.userId: .*reserved for system accounts/);
    expect((await bad({ users: [{ userId: 'has space' }] })).code).toBe(40000);
    expect((await bad({ users: [{ userId: 'ok1', valid: false }] })).code).toBe(40000);
    expect((await bad({ users: [{ userId: 'ok2', userName: 'bad \ud800 text' }] })).message).toMatch(/users\[0\]\.userName/);
    expect((await bad('not json')).code).toBe(40000);
    expect((await okData('GET', '/api/server/users?query=ok1')).items).toEqual([]);
  });

  it('lists: bad limit and cursor are refused; an unknown user is 404', async () => {
    expect((await api('GET', '/api/server/users?limit=201')).body.code).toBe(40000);
    expect((await api('GET', '/api/server/users?limit=0')).body.code).toBe(40000);
    expect((await api('GET', '/api/server/users?limit=ten')).body.code).toBe(40000);
    expect((await api('GET', '/api/server/users?cursor=garbage')).body.code).toBe(40000);
    expect((await api('GET', `/api/server/users/${id('nobody')}`)).body.code).toBe(40400);
    expect((await api('GET', `/api/server/users/${id('nobody')}/conversations`)).body.code).toBe(40400);
    expect((await api('POST', `/api/server/users/${id('nobody')}/disable`)).body.code).toBe(40400);
    expect((await api('GET', '/api/server/users/bad%20id')).body.code).toBe(40000);
    // U+0000 fits no PostgreSQL text column: refused up front on either storage.
    expect((await api('GET', '/api/server/users?query=a%00b')).body.code).toBe(40000);
    expect((await api('GET', '/api/server/users?cursor=a%00b')).body.code).toBe(40000);
    expect((await api('POST', '/api/server/messages/a%00b/revoke')).body.code).toBe(40000);
  });

  it("a user's sessions: each socket with its platform, node and time; counted in the list", async () => {
    const u = id('live');
    const token = await tokenFor(server, u, 'Live');
    await connect(server, token, { auth: { token, platform: 'weapp' } });
    await connect(server, token);
    const detail = await okData('GET', `/api/server/users/${u}`);
    expect(detail).toMatchObject({ userId: u, userName: 'Live', valid: true, online: true });
    expect(detail.sessionList).toHaveLength(2);
    expect(detail.sessionList.map((s: any) => s.platform).sort()).toEqual(['unknown', 'weapp']);
    for (const s of detail.sessionList) expect(s).toEqual({ id: expect.any(String), platform: expect.any(String), connectedAt: expect.any(Number), node: expect.any(String) });
    expect((await okData('GET', `/api/server/users?query=${u}`)).items[0]).toMatchObject({ userId: u, online: true, sessions: 2 });
    // The session list reads the sockets through fetchSockets(), which with Redis sends each
    // socket's handshake to the asking node: once checked, the token is no longer in it.
    const io = (server.im.service as unknown as { notifier: { io: { fetchSockets(): Promise<Array<{ handshake: { auth: Record<string, unknown>; query: Record<string, unknown> } }>> } } }).notifier.io;
    const held = await io.fetchSockets();
    expect(held.length).toBeGreaterThanOrEqual(2);
    for (const s of held) expect(JSON.stringify([s.handshake.auth, s.handshake.query])).not.toContain(token);
    closeClients();
    let after: any;
    for (let i = 0; i < 50; i++) {
      after = await okData('GET', `/api/server/users/${u}`);
      if (!after.online) break;
      await sleep(20);
    }
    expect(after).toMatchObject({ online: false, sessionList: [] });
  });

  it('disable kicks every session at once and refuses the user from then on; enable lets them back', async () => {
    const u = id('dis');
    const token = await tokenFor(server, u);
    const s1 = await connect(server, token);
    const s2 = await connect(server, token);
    const kicked = [nextEvent<any>(s1, 'kicked'), nextEvent<any>(s2, 'kicked')];
    const gone = [nextEvent(s1, 'disconnect'), nextEvent(s2, 'disconnect')];
    expect(await okData('POST', `/api/server/users/${u}/disable`)).toEqual({ userId: u, valid: false, kicked: 2 });
    expect(await Promise.all(kicked)).toEqual([{ reason: 'user_disabled' }, { reason: 'user_disabled' }]);
    await Promise.all(gone);

    // A new token (what a refresh asks for), the old token on HTTP and on a socket: all refused.
    expect((await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: u })).body.code).toBe(40301);
    expect((await http(server, 'GET', '/api/conversations', undefined, token)).body.code).toBe(40301);
    expect(await refusal(server, token)).toMatchObject({ data: { code: 40301 } });
    expect((await okData('GET', `/api/server/users?query=${u}`)).items[0]).toMatchObject({ valid: false, online: false, sessions: 0 });
    // Disabling again kicks nobody; system accounts are not for disabling.
    expect(await okData('POST', `/api/server/users/${u}/disable`)).toEqual({ userId: u, valid: false, kicked: 0 });
    expect((await api('POST', '/api/server/users/@system/disable')).body.code).toBe(40000);

    expect(await okData('POST', `/api/server/users/${u}/enable`)).toEqual({ userId: u, valid: true });
    const again = await connect(server, await tokenFor(server, u));
    expect(again.connected).toBe(true);
  });

  it('a disable that lands while a socket is between its token check and joining is not missed', async () => {
    const u = id('race');
    const token = await tokenFor(server, u);
    const service = server.im.service as unknown as { activeUser(appId: string, userId: string): Promise<unknown> };
    const original = service.activeUser;
    let raced = false;
    // The handshake's user check passes, then the disable (and its kick of the user's room) runs
    // before the socket has joined that room.
    service.activeUser = async function (this: unknown, appId: string, userId: string) {
      const user = await original.call(this, appId, userId);
      if (userId === u && !raced) {
        raced = true;
        expect(await okData('POST', `/api/server/users/${u}/disable`)).toEqual({ userId: u, valid: false, kicked: 0 });
      }
      return user;
    };
    try {
      const socket = await connect(server, token).catch((err: unknown) => err);
      expect(raced).toBe(true);
      if (socket instanceof Error) throw socket;
      const s = socket as Awaited<ReturnType<typeof connect>>;
      if (s.connected) await nextEvent(s, 'disconnect');
      expect(s.connected).toBe(false);
    } finally {
      service.activeUser = original;
    }
  });

  it("a user's conversations, exactly as the user's own list shows them", async () => {
    const [a, b] = [id('ca'), id('cb')];
    const ta = await tokenFor(server, a);
    const tb = await tokenFor(server, b);
    const g = (await http(server, 'POST', '/api/groups', { name: 'Conv group', userIdList: [b] }, tb)).body.data;
    const alice = await connect(server, ta);
    expect((await call(alice, 'chat:send', { clientMsgId: id('c'), chatType: 0, to: b, content: 'hi b' })).code).toBe(0);
    await okData('POST', '/api/server/messages', { chatType: 1, to: g.groupId, content: 'welcome' });
    const own = (await http(server, 'GET', '/api/conversations?limit=50', undefined, tb)).body.data;
    const seen = await okData('GET', `/api/server/users/${b}/conversations`);
    expect(seen).toEqual(own);
    expect(seen.items.map((c: any) => c.conversationId).sort()).toEqual([`0:${a}`, `1:${g.groupId}`].sort());
    const first = await okData('GET', `/api/server/users/${b}/conversations?limit=1`);
    expect(first.items).toHaveLength(1);
    const second = await okData('GET', `/api/server/users/${b}/conversations?limit=1&cursor=${encodeURIComponent(first.nextCursor)}`);
    expect([...first.items, ...second.items]).toEqual(own.items);
    expect(second.nextCursor).toBeNull();
  });
});

describe('groups', () => {
  it('lists, shows and pages members of any group; dismiss tells the members and the group is gone (its history stays)', async () => {
    const [owner, m1, m2] = [id('go'), id('g1'), id('g2')];
    const to = await tokenFor(server, owner);
    await tokenFor(server, m1);
    const t2 = await tokenFor(server, m2);
    const name = id('Team');
    const g = (await http(server, 'POST', '/api/groups', { name, userIdList: [m1, m2] }, to)).body.data;
    const listed = await okData('GET', `/api/server/groups?query=${encodeURIComponent(name.toUpperCase())}`);
    expect(listed).toEqual({ items: [{ groupId: g.groupId, groupName: name, ownerId: owner, memberCount: 3, createdAt: expect.any(Number) }], nextCursor: null });
    expect(await okData('GET', `/api/server/groups/${g.groupId}`)).toMatchObject({ groupId: g.groupId, groupName: name, ownerId: owner, memberCount: 3, description: '', muteAll: false });

    const ids: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: any = await okData('GET', `/api/server/groups/${g.groupId}/members?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({ userId: expect.any(String), role: expect.stringMatching(/^(owner|member)$/), joinedAt: expect.any(Number) });
      ids.push(page.items[0].userId);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(ids).toEqual([owner, m1, m2].sort());

    await okData('POST', '/api/server/messages', { chatType: 1, to: g.groupId, content: 'before the end' });
    const member = await connect(server, t2);
    const changed = nextEvent<any>(member, 'group:changed');
    expect(await okData('POST', `/api/server/groups/${g.groupId}/dismiss`)).toEqual({ groupId: g.groupId, dismissed: true });
    expect(await changed).toMatchObject({ groupId: g.groupId, action: 'dismissed', by: '@system' });
    expect((await api('GET', `/api/server/groups/${g.groupId}`)).body.code).toBe(40400);
    expect((await api('POST', `/api/server/groups/${g.groupId}/dismiss`)).body.code).toBe(40400);
    expect((await api('GET', `/api/server/groups/${g.groupId}/members`)).body.code).toBe(40400);
    expect((await okData('GET', `/api/server/groups?query=${encodeURIComponent(name)}`)).items).toEqual([]);
    expect((await okData('GET', `/api/server/groups/${g.groupId}/messages`)).map((x: any) => x.content)).toEqual(['before the end']);
    expect((await api('GET', `/api/server/groups/${id('none')}/messages`)).body.code).toBe(40400);
  });

  it('history pages back with beforeSeq, newest last; bad query values are refused', async () => {
    const owner = id('ho');
    const to = await tokenFor(server, owner);
    const g = (await http(server, 'POST', '/api/groups', { name: 'History' }, to)).body.data;
    for (let i = 1; i <= 5; i++) await okData('POST', '/api/server/messages', { from: owner, chatType: 1, to: g.groupId, content: `m${i}` });
    const last = await okData('GET', `/api/server/groups/${g.groupId}/messages?limit=2`);
    expect(last.map((m: any) => m.content)).toEqual(['m4', 'm5']);
    const before = await okData('GET', `/api/server/groups/${g.groupId}/messages?limit=2&beforeSeq=${last[0].seq}`);
    expect(before.map((m: any) => m.content)).toEqual(['m2', 'm3']);
    // As the user's own history shows it.
    const own = (await http(server, 'GET', `/api/groups/${g.groupId}/messages?limitSize=2`, undefined, to)).body.data;
    expect(last).toEqual(own);
    expect((await api('GET', `/api/server/groups/${g.groupId}/messages?limit=0`)).body.code).toBe(40000);
    expect((await api('GET', `/api/server/groups/${g.groupId}/messages?beforeSeq=-1`)).body.code).toBe(40000);
    expect((await okData('GET', `/api/server/groups/${g.groupId}/messages?limit=1000`)).length).toBe(5);
  });
});

describe('messages', () => {
  it('as the system account: a private message reaches the online user, is in history and on their list', async () => {
    const u = id('sys');
    const socket = await connect(server, await tokenFor(server, u));
    const live = nextEvent<any>(socket, 'imchat');
    const stored = await okData('POST', '/api/server/messages', { chatType: 0, to: u, content: 'Your order shipped', data: { order: 42 } });
    expect(stored).toMatchObject({ messageId: expect.any(String), from: '@system', fromName: 'System', to: u, chatType: 0, msgType: 0, content: 'Your order shipped', data: { order: 42 } });
    expect(await live).toMatchObject({ messageId: stored.messageId, from: '@system', content: 'Your order shipped', inboxSeq: expect.any(Number) });
    expect((await okData('GET', `/api/server/private/@system/${u}/messages`)).map((m: any) => m.messageId)).toEqual([stored.messageId]);
    const token = await tokenFor(server, u);
    expect((await http(server, 'GET', '/api/private/@system/messages', undefined, token)).body.data.map((m: any) => m.messageId)).toEqual([stored.messageId]);
    const sync = await call(socket, 'chat:sync', { afterInboxSeq: 0 });
    expect(sync.data.messages.map((m: any) => m.messageId)).toEqual([stored.messageId]);
  });

  it('as a user: the peer and the sender\'s own devices get it; the user\'s rules apply (member of the group, enabled, known)', async () => {
    const [a, b, c] = [id('ua'), id('ub'), id('uc')];
    const ta = await tokenFor(server, a);
    const tb = await tokenFor(server, b);
    await tokenFor(server, c);
    const aliceDevice = await connect(server, ta);
    const bob = await connect(server, tb);
    const toBob = nextEvent<any>(bob, 'imchat');
    const toAlice = nextEvent<any>(aliceDevice, 'imchat');
    const m = await okData('POST', '/api/server/messages', { from: a, chatType: 0, to: b, content: 'from the backend', clientMsgId: 'order-7-shipped' });
    expect(await toBob).toMatchObject({ messageId: m.messageId, from: a, content: 'from the backend' });
    expect(await toAlice).toMatchObject({ messageId: m.messageId, from: a });
    // A retried call with the same clientMsgId is the same message, sent once.
    const bobLive = collect<any>(bob, 'imchat');
    expect((await okData('POST', '/api/server/messages', { from: a, chatType: 0, to: b, content: 'from the backend', clientMsgId: 'order-7-shipped' })).messageId).toBe(m.messageId);
    await sleep(100);
    expect(bobLive).toEqual([]);
    expect((await api('POST', '/api/server/messages', { from: a, chatType: 0, to: b, content: 'something else', clientMsgId: 'order-7-shipped' })).body.code).toBe(40900);

    const g = (await http(server, 'POST', '/api/groups', { name: 'Only B' }, tb)).body.data;
    const groupLive = nextEvent<any>(bob, 'imchat');
    const gm = await okData('POST', '/api/server/messages', { chatType: 1, to: g.groupId, content: 'system notice', msgType: 5 });
    expect(await groupLive).toMatchObject({ messageId: gm.messageId, from: '@system', chatType: 1, to: g.groupId, msgType: 5 });
    expect((await api('POST', '/api/server/messages', { from: a, chatType: 1, to: g.groupId, content: 'not a member' })).body.code).toBe(40300);
    expect((await api('POST', '/api/server/messages', { from: id('ghost'), chatType: 0, to: b, content: 'x' })).body.code).toBe(40400);
    expect((await api('POST', '/api/server/messages', { chatType: 0, to: id('ghost'), content: 'x' })).body.code).toBe(40400);
    expect((await api('POST', '/api/server/messages', { chatType: 1, to: id('nogroup'), content: 'x' })).body.code).toBe(40400);
    await okData('POST', `/api/server/users/${c}/disable`);
    expect((await api('POST', '/api/server/messages', { from: c, chatType: 0, to: b, content: 'x' })).body.code).toBe(40301);
  });

  it('refuses bad sends with the send rules', async () => {
    const b = id('rb');
    await tokenFor(server, b);
    const refuse = async (body: unknown) => (await api('POST', '/api/server/messages', body)).body.code;
    expect(await refuse({ chatType: 2, to: b, content: 'x' })).toBe(40000);
    expect(await refuse({ chatType: 0, to: b })).toBe(40000);
    expect(await refuse({ chatType: 0, to: b, content: 'x', form: 'typo' })).toBe(40000);
    expect(await refuse({ chatType: 0, to: b, content: '   ' })).toBe(40000);
    expect(await refuse({ chatType: 0, to: b, content: 'x', msgType: 1001 })).toBe(40000);
    expect(await refuse({ chatType: 0, to: b, content: 'x'.repeat(40_000) })).toBe(41300);
    expect(await refuse({ chatType: 0, to: b, content: 'x', clientMsgId: 'has space' })).toBe(40000);
    expect(await refuse({ chatType: 0, to: b, content: 'x', data: 12 })).toBe(40000);
    expect(await refuse({ from: '@', chatType: 0, to: b, content: 'x' })).toBe(40000);
  });

  it('admin revoke: any message at any age; clients get the usual revoke event; again answers the same', async () => {
    const [a, b] = [id('va'), id('vb')];
    const ta = await tokenFor(server, a);
    const tb = await tokenFor(server, b);
    const alice = await connect(server, ta);
    const bob = await connect(server, tb);
    const bobLive = collect<any>(bob, 'imchat');
    const aliceLive = collect<any>(alice, 'imchat');
    const sent = await call(alice, 'chat:send', { clientMsgId: id('c'), chatType: 0, to: b, content: 'regrettable' });
    await until(() => bobLive.length === 1, 5000, 'the message');

    expect(await okData('POST', `/api/server/messages/${sent.data.messageId}/revoke`)).toEqual({ messageId: sent.data.messageId, revoked: true });
    await until(() => bobLive.length === 2 && aliceLive.length === 1, 5000, 'the revoke event on both sides');
    for (const ev of [bobLive[1], aliceLive[0]]) {
      expect(ev).toMatchObject({ event: 'revoke', eventOf: sent.data.messageId, from: '@system', target: { messageId: sent.data.messageId, revoked: true, content: '' } });
      expect(JSON.stringify(ev)).not.toContain('regrettable');
    }
    const history = (await http(server, 'GET', `/api/private/${a}/messages`, undefined, tb)).body.data;
    expect(history[0]).toMatchObject({ messageId: sent.data.messageId, revoked: true, revokedBy: '@system', content: '' });
    expect(await okData('POST', `/api/server/messages/${sent.data.messageId}/revoke`)).toEqual({ messageId: sent.data.messageId, revoked: true });
    await sleep(100);
    expect(bobLive).toHaveLength(2);

    // Group messages reach the members online; notices stay; unknown ids are not found.
    const g = (await http(server, 'POST', '/api/groups', { name: 'Revokes', userIdList: [b] }, ta)).body.data;
    const gm = await call(alice, 'chat:send', { clientMsgId: id('c'), chatType: 1, to: g.groupId, content: 'group oops' });
    await until(() => bobLive.length === 3, 5000, 'the group message');
    await okData('POST', `/api/server/messages/${gm.data.messageId}/revoke`);
    await until(() => bobLive.length === 4 && aliceLive.length >= 2, 5000, 'the group revoke');
    expect(bobLive[3]).toMatchObject({ event: 'revoke', eventOf: gm.data.messageId, chatType: 1, to: g.groupId });
    await http(server, 'POST', `/api/groups/${g.groupId}/info`, { name: 'Renamed' }, ta);
    const notice = (await okData('GET', `/api/server/groups/${g.groupId}/messages`)).find((m: any) => m.msgType === 1001);
    expect((await api('POST', `/api/server/messages/${notice.messageId}/revoke`)).body.code).toBe(40300);
    expect((await api('POST', '/api/server/messages/no-such-message/revoke')).body.code).toBe(40400);
  });
});

describe('sign-out of operator tokens', () => {
  const signIn = async (app: { appId: string; appSecret: string } = server): Promise<string> => {
    const r = await http(server, 'POST', '/api/server/session', { appId: app.appId, appSecret: app.appSecret });
    if (r.body.code !== 0) throw new Error(`sign-in: ${r.body.code} ${r.body.message}`);
    return r.body.data.token as string;
  };
  const asToken = (token: string) => http(server, 'GET', '/api/server/app', undefined, token);

  it('a signed-out token is refused with the reason; the other tokens of the app keep working', async () => {
    const [first, second, third] = [await signIn(), await signIn(), await signIn()];
    expect(new Set([first, second, third]).size).toBe(3);

    const out = await http(server, 'POST', '/api/server/session/revoke', undefined, first);
    expect([out.status, out.body]).toEqual([200, { code: 0, message: 'ok', data: { revoked: true } }]);
    const refused = await asToken(first);
    expect([refused.status, refused.body.code]).toEqual([401, 40101]);
    expect(refused.body.message).toMatch(/^token revoked: .*signed out/);
    expect((await http(server, 'GET', '/api/server/users?limit=1', undefined, first)).body.code).toBe(40101);
    // Signed out already: a second sign-out is refused like any other call with it.
    expect((await http(server, 'POST', '/api/server/session/revoke', undefined, first)).body.code).toBe(40101);

    expect((await asToken(second)).body.data).toEqual({ appId: server.appId, via: 'token' });
    expect((await api('GET', '/api/server/app')).body.code).toBe(0);

    // The DELETE form, with the empty JSON body some clients send.
    expect((await http(server, 'DELETE', '/api/server/session', '', second, { 'content-type': 'application/json' })).body.data).toEqual({ revoked: true });
    expect((await asToken(second)).body.message).toMatch(/^token revoked/);
    expect((await asToken(third)).body.code).toBe(0);
  });

  it('refuses a bad body, Basic credentials without all, and an operator token without an id', async () => {
    const token = await signIn();
    for (const body of [{ all: 'yes' }, { every: true }, [true], 'all']) {
      const r = await http(server, 'POST', '/api/server/session/revoke', body, token);
      expect([r.status, r.body.code]).toEqual([400, 40000]);
    }
    expect((await asToken(token)).body.code).toBe(0); // none of those signed it out
    const basicOnly = await api('POST', '/api/server/session/revoke');
    expect([basicOnly.status, basicOnly.body.code]).toEqual([400, 40000]);
    expect(basicOnly.body.message).toMatch(/all/);
    expect((await http(server, 'POST', '/api/server/session/revoke', { all: false }, token)).body.data).toEqual({ revoked: true });
    expect((await asToken(token)).body.code).toBe(40101);

    // Signed with the secret but without jti (as before sign-out existed): it could not be signed out, so it is refused.
    const bare = jwt.sign({ app: server.appId, scope: 'server', gen: 0 }, server.appSecret, { algorithm: 'HS256', expiresIn: 600 });
    const r = await asToken(bare);
    expect([r.status, r.body.code]).toEqual([401, 40101]);
    expect(r.body.message).toMatch(/jti/);
  });

  it('{ all: true } revokes every operator token of the app minted before; a new sign-in works at once; other apps are untouched', async () => {
    const mine = [await signIn(), await signIn()];
    const theirs = await signIn(OTHER);
    expect((await api('POST', '/api/server/session/revoke', { all: true })).body.data).toEqual({ revoked: true, all: true });
    for (const t of mine) {
      const r = await asToken(t);
      expect([r.status, r.body.code]).toEqual([401, 40101]);
      expect(r.body.message).toMatch(/^token revoked: .*all revoked/);
    }
    expect((await asToken(theirs)).body.data).toEqual({ appId: OTHER.appId, via: 'token' });
    // In the same second as the revoke: a token is cut by its generation, not its issue time.
    const fresh = await signIn();
    expect((await asToken(fresh)).body.code).toBe(0);
    expect((await api('GET', '/api/server/app')).body.code).toBe(0); // the secret still works

    // An operator token may revoke all too, itself included.
    const other = await signIn();
    expect((await http(server, 'DELETE', '/api/server/session', { all: true }, fresh)).body.data).toEqual({ revoked: true, all: true });
    expect((await asToken(fresh)).body.code).toBe(40101);
    expect((await asToken(other)).body.code).toBe(40101);
    expect((await asToken(await signIn())).body.code).toBe(0);
  });

  it('sign-outs are stored: after a restart on the same SQLite data directory they still hold', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-signout-'));
    const session = async (s: TestServer) => (await http(s, 'POST', '/api/server/session', { appId: s.appId, appSecret: s.appSecret })).body.data.token as string;
    const check = async (s: TestServer, token: string) => (await http(s, 'GET', '/api/server/app', undefined, token)).body;
    try {
      const first = await startServer({ dataDir: dir });
      const [out, kept] = [await session(first), await session(first)];
      expect((await http(first, 'POST', '/api/server/session/revoke', undefined, out)).body.code).toBe(0);
      await first.stop();

      const second = await startServer({ dataDir: dir });
      expect(await check(second, out)).toMatchObject({ code: 40101, message: expect.stringMatching(/^token revoked/) });
      expect((await check(second, kept)).code).toBe(0);
      const basicAuth = basic(second.appId, second.appSecret);
      expect((await http(second, 'POST', '/api/server/session/revoke', { all: true }, undefined, basicAuth)).body.code).toBe(0);
      await second.stop();

      const third = await startServer({ dataDir: dir });
      expect(await check(third, kept)).toMatchObject({ code: 40101, message: expect.stringMatching(/all revoked/) });
      expect((await check(third, await session(third))).code).toBe(0);
      await third.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
