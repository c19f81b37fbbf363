/** Socket.IO events of docs/protocol.md section 6 against the real server, with three client generations. */
import jwt from 'jsonwebtoken';
import { createWxRuntime } from '../../testing';
import { mintToken } from '../../server/src';
import { startTestServer, uniqueUser, type TestServer } from '../helpers/server';
import { call, cid, closeAll, collect, connect, http, tokenFor, until } from './raw';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ extraApps: [{ appId: 'other-app', appSecret: 'other-secret-123' }] });
});

afterAll(async () => {
  closeAll();
  await server.stop();
});

async function pair() {
  const a = uniqueUser('a');
  const b = uniqueUser('b');
  const sa = await connect(server, await tokenFor(server, a, 'Alice'));
  const sb = await connect(server, await tokenFor(server, b, 'Bob'));
  return { a, b, sa, sb };
}

describe('client generations', () => {
  it('socket.io-client 4 connects with auth.token and receives session', async () => {
    const userId = uniqueUser();
    const s = await connect(server, await tokenFor(server, userId, 'V4'));
    expect(s.session).toMatchObject({ userId, userName: 'V4', appId: server.appId, latestInboxSeq: 0 });
    expect(s.session.tokenExpiresAt).toBeGreaterThan(Date.now());
  });

  it('socket.io-client 2.3.0 (the seed\'s web dependency) connects with ?token= and chats', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ioV2 = require('socket.io-client-v2');
    const { a, sa } = await pair();
    const v2User = uniqueUser('v2');
    const token = await tokenFor(server, v2User);
    const old = ioV2(server.socketUrl, { query: { token }, transports: ['websocket'], forceNew: true, reconnection: false });
    try {
      const session = await new Promise<any>((resolve, reject) => {
        old.once('session', resolve);
        old.once('error', reject);
        setTimeout(() => reject(new Error('v2 no session')), 5000);
      });
      expect(session.userId).toBe(v2User);
      const got = collect(sa, 'imchat');
      const ack = await new Promise<any>((resolve) => old.emit('chat:send', { clientMsgId: cid(), chatType: 0, to: a, content: 'from 2.3.0' }, resolve));
      expect(ack.code).toBe(0);
      await until(() => got.length === 1);
      expect(got[0]).toMatchObject({ from: v2User, content: 'from 2.3.0' });
    } finally {
      old.close();
    }
  });

  it('a v2 client with a bad token is refused with an error', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ioV2 = require('socket.io-client-v2');
    const old = ioV2(server.socketUrl, { query: { token: 'garbage' }, transports: ['websocket'], forceNew: true, reconnection: false });
    try {
      const err = await new Promise<unknown>((resolve) => {
        old.once('error', resolve);
        old.once('session', () => resolve('connected'));
      });
      expect(err).not.toBe('connected');
      expect(JSON.stringify(err)).toMatch(/token invalid/);
    } finally {
      old.close();
    }
  });

  it('weapp.socket.io 3 connects through the wx runtime (wx.connectSocket) and chats', async () => {
    const runtime = createWxRuntime();
    const g = globalThis as Record<string, unknown>;
    const hadWindow = 'window' in g;
    const previousWx = g.wx;
    // weapp.socket.io finds wx globally and its UMD wrapper reads `window` at load.
    g.wx = runtime.wx;
    if (!hadWindow) g.window = g;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const weappIo = require('weapp.socket.io');
      const { a, sa } = await pair();
      const user = uniqueUser('weapp');
      const socket = weappIo(server.socketUrl, { auth: { token: await tokenFor(server, user) }, transports: ['websocket'], reconnection: false });
      const session = await new Promise<any>((resolve, reject) => {
        socket.once('session', resolve);
        socket.once('connect_error', reject);
        setTimeout(() => reject(new Error('weapp.socket.io no session')), 5000);
      });
      expect(session.userId).toBe(user);
      expect(runtime.openSockets()).toBe(1);
      const got = collect(sa, 'imchat');
      const ack = await new Promise<any>((resolve) => socket.emit('chat:send', { clientMsgId: cid(), chatType: 0, to: a, content: 'from weapp.socket.io' }, resolve));
      expect(ack.code).toBe(0);
      await until(() => got.length === 1);
      socket.close();
    } finally {
      runtime.destroy();
      g.wx = previousWx;
      if (!hadWindow) delete g.window;
    }
  });
});

describe('messages', () => {
  it('chat:send stores, acks with seq and the sender inboxSeq, and delivers imchat with the recipient inboxSeq', async () => {
    const { a, b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    const echo = collect(sa, 'imchat');
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'hello', msgType: 0, data: { k: [1, 'two'] } });
    expect(ack.code).toBe(0);
    expect(ack.data).toMatchObject({ from: a, fromName: 'Alice', to: b, content: 'hello', chatType: 0, msgType: 0, data: { k: [1, 'two'] }, seq: 1, inboxSeq: 1 });
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ messageId: ack.data.messageId, seq: 1, inboxSeq: 1, timestamp: ack.data.timestamp });
    await new Promise((r) => setTimeout(r, 50));
    expect(echo).toEqual([]); // not echoed to the sending socket
  });

  it('the server takes the sender from the token, never from the payload', async () => {
    const { a, b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'spoof', from: b, fromName: 'Bob' });
    expect(ack.data).toMatchObject({ from: a, fromName: 'Alice' });
    await until(() => got.length === 1);
    expect(got[0].from).toBe(a);
  });

  it('a resend with the same clientMsgId returns the first message and delivers nothing new', async () => {
    const { b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    const id = cid();
    const first = await call(sa, 'chat:send', { clientMsgId: id, chatType: 0, to: b, content: 'once' });
    const again = await call(sa, 'chat:send', { clientMsgId: id, chatType: 0, to: b, content: 'once' });
    expect(again.data).toEqual(first.data);
    const conflict = await call(sa, 'chat:send', { clientMsgId: id, chatType: 0, to: b, content: 'different' });
    expect(conflict.code).toBe(40900);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(1);
  });

  it("the sender's other devices receive their own message; the sending socket gets only the ack", async () => {
    const a = uniqueUser();
    const b = uniqueUser();
    await tokenFor(server, b);
    const token = await tokenFor(server, a);
    const phone = await connect(server, token);
    const laptop = await connect(server, token);
    const onLaptop = collect(laptop, 'imchat');
    const onPhone = collect(phone, 'imchat');
    const ack = await call(phone, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'multi-device' });
    await until(() => onLaptop.length === 1);
    expect(onLaptop[0]).toMatchObject({ messageId: ack.data.messageId, inboxSeq: ack.data.inboxSeq });
    expect(onPhone).toEqual([]);
  });

  it('chat:sync returns everything after a given inbox seq, paged with hasMore', async () => {
    const { a, b, sa, sb } = await pair();
    sb.disconnect();
    for (let i = 1; i <= 7; i++) await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `offline ${i}` });
    const back = await connect(server, await tokenFor(server, b));
    expect(back.session.latestInboxSeq).toBe(7);
    const p1 = await call(back, 'chat:sync', { afterInboxSeq: 0, limit: 3 });
    expect(p1.data).toMatchObject({ hasMore: true, latestInboxSeq: 7 });
    expect(p1.data.messages.map((m: { inboxSeq: number }) => m.inboxSeq)).toEqual([1, 2, 3]);
    const p3 = await call(back, 'chat:sync', { afterInboxSeq: 6, limit: 3 });
    expect(p3.data.hasMore).toBe(false);
    expect(p3.data.messages.map((m: { content: string; from: string }) => [m.content, m.from])).toEqual([['offline 7', a]]);
    const none = await call(back, 'chat:sync', { afterInboxSeq: 7 });
    expect(none.data).toEqual({ messages: [], hasMore: false, latestInboxSeq: 7 });
  });

  it('group messages reach every member with their own inboxSeq; non-members may not send', async () => {
    const { a, b, sa, sb } = await pair();
    const tA = await tokenFor(server, a, 'Alice');
    const c = uniqueUser('c');
    const sc = await connect(server, await tokenFor(server, c));
    const changed = collect(sb, 'group:changed');
    const g = (await http(server, 'POST', '/api/groups', { name: 'G', userIdList: [b] }, tA)).body.data;
    await until(() => changed.length === 1);
    expect(changed[0]).toMatchObject({ groupId: g.id, action: 'created', by: a });
    const got = collect(sb, 'imchat');
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'to the group' });
    expect(ack.data).toMatchObject({ chatType: 1, to: g.id, seq: 1 });
    await until(() => got.length === 1);
    expect(got[0]).toMatchObject({ chatType: 1, to: g.id, fromName: 'Alice' });
    expect((await call(sc, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'intruder' })).code).toBe(40300);
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 1, to: 'no-such-group', content: 'x' })).code).toBe(40400);
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'no-such-user', content: 'x' })).code).toBe(40400);
    // Removed members hear about it, and then cannot send.
    const removedNote = collect(sb, 'group:changed');
    await http(server, 'DELETE', `/api/groups/${g.id}/members/${b}`, undefined, tA);
    await until(() => removedNote.some((e) => e.action === 'member_removed'));
    expect((await call(sb, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'gone' })).code).toBe(40300);
  });

  it('receipts: delivered and read reach the original sender; read moves the read position', async () => {
    const { a, b, sa, sb } = await pair();
    const receipts = collect(sa, 'receipt');
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'receipt me' });
    expect((await call(sb, 'receipt', { messageId: ack.data.messageId, status: 1 })).code).toBe(0);
    expect((await call(sb, 'receipt', { messageId: ack.data.messageId, status: 2, to: a })).code).toBe(0);
    await until(() => receipts.length === 2);
    expect(receipts[1]).toMatchObject({ messageId: ack.data.messageId, status: 2, from: b, to: b, chatType: 0, seq: ack.data.seq });
    const convs = await http(server, 'GET', '/api/conversations', undefined, await tokenFor(server, b));
    expect(convs.body.data[0]).toMatchObject({ targetId: a, readSeq: ack.data.seq, unreadCount: 0 });
    expect((await call(sb, 'receipt', { messageId: ack.data.messageId, status: 2, to: b })).code).toBe(40000); // wrong sender named
    expect((await call(sa, 'receipt', { messageId: ack.data.messageId, status: 2 })).code).toBe(40300); // own message
    const outsider = await connect(server, await tokenFor(server, uniqueUser()));
    expect((await call(outsider, 'receipt', { messageId: ack.data.messageId, status: 2 })).code).toBe(40300);
    expect((await call(sb, 'receipt', { messageId: 'no-such-message', status: 2 })).code).toBe(40400);
  });

  it('heartbeat answers with the server time', async () => {
    const { sa } = await pair();
    const r = await call(sa, 'heartbeat', { ts: Date.now() });
    expect(r.code).toBe(0);
    expect(Math.abs(r.data.serverTime - Date.now())).toBeLessThan(5000);
  });
});

describe('bad input on every event', () => {
  const junk: unknown[] = [undefined, null, 42, 'text', [], [1, 2], { __proto__: { polluted: true } }, { a: { b: { c: {} } } }, 'x'.repeat(50000)];

  it.each(['chat:send', 'chat:sync', 'receipt', 'token:renew'])('%s answers 40000 to malformed payloads and keeps serving', async (event) => {
    const { sa } = await pair();
    for (const payload of junk) {
      const r = await call(sa, event, payload);
      expect(r.code).toBe(40000);
      expect(r.message).toEqual(expect.any(String));
    }
    expect((await call(sa, 'heartbeat', {})).code).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('chat:send field rules: types, ids, sizes, depth', async () => {
    const { b, sa } = await pair();
    const base = { clientMsgId: cid(), chatType: 0, to: b, content: 'ok' };
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ ...base, chatType: 2 }, 40000],
      [{ ...base, chatType: '0' }, 40000],
      [{ ...base, to: '../../etc' }, 40000],
      [{ ...base, clientMsgId: '' }, 40000],
      [{ ...base, clientMsgId: 'a b' }, 40000],
      [{ ...base, content: 42 }, 40000],
      [{ ...base, content: '   ' }, 40000],
      [{ ...base, msgType: -1 }, 40000],
      [{ ...base, msgType: 1.5 }, 40000],
      [{ ...base, clientMsgId: cid(), content: '好'.repeat(11000) }, 41300],
      [{ ...base, clientMsgId: cid(), data: { big: 'x'.repeat(33000) } }, 41300],
      [{ ...base, clientMsgId: cid(), data: JSON.parse('['.repeat(20) + ']'.repeat(20)) }, 40000],
    ];
    for (const [payload, code] of cases) {
      const r = await call(sa, 'chat:send', payload);
      expect([JSON.stringify(payload).slice(0, 80), r.code]).toEqual([JSON.stringify(payload).slice(0, 80), code]);
    }
    const fine = await call(sa, 'chat:send', { ...base, clientMsgId: cid(), content: '<script>alert(1)</script> 😀', msgType: 1, data: 'string data' });
    expect(fine.data).toMatchObject({ content: '<script>alert(1)</script> 😀', msgType: 1, data: 'string data' });
  });

  it('an event without an ack callback is processed without an answer; unknown events are ignored', async () => {
    const { b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    sa.emit('chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'no ack' });
    sa.emit('no-such-event', { x: 1 });
    await until(() => got.length === 1);
    expect((await call(sa, 'heartbeat', {})).code).toBe(0);
  });

  it('a packet over the size limit closes that connection only', async () => {
    const { sa, sb } = await pair();
    const closed = new Promise((r) => sa.once('disconnect', r));
    sa.emit('chat:send', { content: 'x'.repeat(200_000) });
    await closed;
    expect((await call(sb, 'heartbeat', {})).code).toBe(0);
  });
});

describe('authentication and authorisation', () => {
  const expectRefused = async (token: unknown, code: number) => {
    const err = await connect(server, token as string).then(
      () => null,
      (e: Error & { data?: { code: number } }) => e,
    );
    expect(err?.data?.code).toBe(code);
  };

  it('socket refuses missing, forged, alg:none, expired, unknown-user and other-app tokens', async () => {
    const user = uniqueUser();
    await tokenFor(server, user);
    await expectRefused(undefined, 40100);
    await expectRefused('not-a-jwt', 40101);
    await expectRefused(mintToken({ appId: server.appId, appSecret: 'forged-secret', userId: user }), 40101);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: user, app: server.appId, exp: 9999999999 })).toString('base64url')}.`;
    await expectRefused(none, 40101);
    const expired = jwt.sign({ sub: user, app: server.appId, exp: Math.floor(Date.now() / 1000) - 10 }, server.appSecret, { algorithm: 'HS256' });
    await expectRefused(expired, 40102);
    await expectRefused(mintToken({ appId: server.appId, appSecret: server.appSecret, userId: 'never-registered' }), 40101);
    // A token of another app is valid there, but sees nothing of this app.
    const other = mintToken({ appId: 'other-app', appSecret: 'other-secret-123', userId: user });
    await expectRefused(other, 40101); // the user does not exist in other-app
  });

  it('HTTP refuses the same tokens, and other-app tokens cannot see this app\'s data', async () => {
    const a = uniqueUser();
    const tA = await tokenFor(server, a);
    const g = (await http(server, 'POST', '/api/groups', { name: 'mine' }, tA)).body.data;
    const expired = jwt.sign({ sub: a, app: server.appId, exp: Math.floor(Date.now() / 1000) - 10 }, server.appSecret, { algorithm: 'HS256' });
    expect((await http(server, 'GET', '/api/groups', undefined, expired)).body.code).toBe(40102);
    expect((await http(server, 'GET', '/api/groups', undefined, mintToken({ appId: server.appId, appSecret: 'wrong', userId: a }))).body.code).toBe(40101);
    const otherToken = (await http(server, 'POST', '/api/token', { appId: 'other-app', appSecret: 'other-secret-123', userId: a })).body.data.token;
    expect((await http(server, 'GET', `/api/groups/${g.id}`, undefined, otherToken)).status).toBe(404);
    expect((await http(server, 'GET', '/api/groups', undefined, otherToken)).body.data).toEqual([]);
  });

  it('nobody reads a group they are not in, by history or info', async () => {
    const owner = uniqueUser();
    const tOwner = await tokenFor(server, owner);
    const tOut = await tokenFor(server, uniqueUser());
    const g = (await http(server, 'POST', '/api/groups', { name: 'secret' }, tOwner)).body.data;
    expect((await http(server, 'GET', `/api/groups/${g.id}/messages`, undefined, tOut)).body.code).toBe(40300);
    expect((await http(server, 'GET', `/api/groups/${g.id}/members`, undefined, tOut)).body.code).toBe(40300);
    expect((await http(server, 'POST', `/api/groups/${g.id}/members`, { userIdList: [owner] }, tOut)).body.code).toBe(40300);
  });
});

describe('limits and sessions', () => {
  it('rate limit: events over the bucket are answered 42900 and not processed', async () => {
    const limited = await startTestServer({ rateLimit: 5, rateBurst: 5 });
    try {
      const a = uniqueUser();
      const b = uniqueUser();
      await tokenFor(limited, b);
      const s = await connect(limited, await tokenFor(limited, a));
      const results = await Promise.all(Array.from({ length: 12 }, () => call(s, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'spam' })));
      const codes = results.map((r) => r.code);
      expect(codes.filter((c) => c === 0).length).toBeGreaterThanOrEqual(5);
      expect(codes.filter((c) => c === 0).length).toBeLessThan(8);
      expect(results.find((r) => r.code === 42900)?.message).toMatch(/retry after \d+ ms/);
      const stored = await http(limited, 'GET', `/api/private/${b}/messages?limitSize=100`, undefined, await tokenFor(limited, a));
      expect(stored.body.data).toHaveLength(codes.filter((c) => c === 0).length);
    } finally {
      closeAll();
      await limited.stop();
    }
  });

  it("session policy 'kick': the older connection gets kicked and is closed", async () => {
    const kicking = await startTestServer({ sessionPolicy: 'kick' });
    try {
      const token = await tokenFor(kicking, uniqueUser());
      const first = await connect(kicking, token);
      const kicked = new Promise((r) => first.once('kicked', r));
      const closed = new Promise((r) => first.once('disconnect', r));
      const second = await connect(kicking, token);
      await expect(kicked).resolves.toEqual({ reason: 'another_session' });
      await closed;
      expect(second.connected).toBe(true);
    } finally {
      closeAll();
      await kicking.stop();
    }
  });

  it("default policy 'multi': both connections stay online", async () => {
    const token = await tokenFor(server, uniqueUser());
    const first = await connect(server, token);
    const second = await connect(server, token);
    await new Promise((r) => setTimeout(r, 50));
    expect(first.connected && second.connected).toBe(true);
  });

  it('token lifetime: will-expire at 90 % of a short lifetime, renew resets, expired disconnects', async () => {
    const short = await startTestServer({ tokenTtl: 3 });
    try {
      const user = uniqueUser();
      const s = await connect(short, await tokenFor(short, user));
      const will = await new Promise<{ expiresAt: number }>((r) => s.once('token:will-expire', r));
      // Tokens carry whole seconds: 90 % of 3 s after issue is 300 ms (plus rounding) before expiry.
      expect(will.expiresAt - Date.now()).toBeGreaterThan(0);
      expect(will.expiresAt - Date.now()).toBeLessThan(1300);
      const renewed = await call(s, 'token:renew', { token: await tokenFor(short, user) });
      expect(renewed.data.expiresAt).toBeGreaterThan(will.expiresAt);
      expect((await call(s, 'token:renew', { token: await tokenFor(short, uniqueUser()) })).code).toBe(40300);
      const expired = new Promise<{ expiresAt: number }>((r) => s.once('token:expired', r));
      const closed = new Promise((r) => s.once('disconnect', r));
      expect((await expired).expiresAt).toBe(renewed.data.expiresAt);
      await closed;
      expect(Date.now()).toBeGreaterThan(will.expiresAt); // the renewal kept the socket past the first expiry
    } finally {
      closeAll();
      await short.stop();
    }
  }, 15000);

  it('single-port mode serves HTTP and Socket.IO on one port', async () => {
    const one = await startTestServer({ singlePort: true });
    try {
      expect(one.apiUrl).toBe(one.socketUrl);
      const s = await connect(one, await tokenFor(one, uniqueUser()));
      expect((await call(s, 'heartbeat', {})).code).toBe(0);
    } finally {
      closeAll();
      await one.stop();
    }
  });
});
