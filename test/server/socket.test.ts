/** Socket.IO events of docs/protocol.md section 6 against the real server, with three client generations. */
import {
  call,
  cid,
  closeAll,
  collect,
  connect,
  http,
  nextEvent,
  sleep,
  startServer,
  tokenFor,
  track,
  uniqueUser,
  until,
  type TestServer,
  type TestSocket,
} from './helpers';
import WebSocket from 'ws';
import { createWxShim, loadWeappSocketIo } from './wx-shim';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(closeAll);

async function pair(): Promise<{ a: string; b: string; sa: TestSocket; sb: TestSocket; tA: string; tB: string }> {
  const a = uniqueUser('a');
  const b = uniqueUser('b');
  const tA = await tokenFor(server, a, 'Alice');
  const tB = await tokenFor(server, b, 'Bob');
  return { a, b, tA, tB, sa: await connect(server, tA), sb: await connect(server, tB) };
}

describe('client generations', () => {
  it('socket.io-client 4 connects with auth.token and receives session', async () => {
    const userId = uniqueUser();
    const before = Date.now();
    const s = await connect(server, await tokenFor(server, userId, 'V4'));
    expect(s.session).toEqual({
      userId,
      userName: 'V4',
      appId: server.appId,
      groupSync: true,
      latestInboxSeq: 0,
      tokenExpiresAt: expect.any(Number),
      serverTime: expect.any(Number),
    });
    expect(s.session.tokenExpiresAt).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
    expect(s.session.serverTime).toBeGreaterThanOrEqual(before - 1000);
  });

  it('socket.io-client 4 may also pass the token as ?token= and use long-polling', async () => {
    const userId = uniqueUser();
    const s = await connect(server, undefined, { query: { token: await tokenFor(server, userId) }, transports: ['polling'] });
    expect(s.session.userId).toBe(userId);
    expect((await call(s, 'heartbeat', {})).code).toBe(0);
  });

  it("socket.io-client 2.3.0 (the seed's web dependency) connects with ?token= and chats both ways", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ioV2 = require('socket.io-client-v2');
    const { a, sa } = await pair();
    const v2User = uniqueUser('v2');
    const token = await tokenFor(server, v2User, 'Old');
    for (const transports of [['websocket'], ['polling']]) {
      const old = track(ioV2(server.socketUrl, { query: { token }, transports, forceNew: true, reconnection: false }));
      const session = await nextEvent(old, 'session');
      expect(session).toMatchObject({ userId: v2User, userName: 'Old' });
      const got = collect(sa, 'imchat');
      const ack = await call(old, 'chat:send', { clientMsgId: cid(), chatType: 0, to: a, content: `from 2.3.0 over ${transports[0]}` });
      expect(ack.code).toBe(0);
      await until(() => got.length === 1, 5000, 'imchat at the v4 client');
      expect(got[0]).toMatchObject({ from: v2User, fromName: 'Old', content: `from 2.3.0 over ${transports[0]}` });
      const back = nextEvent(old, 'imchat');
      await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: v2User, content: 'to the v2 client' });
      expect(await back).toMatchObject({ from: a, content: 'to the v2 client' });
      old.close();
    }
  });

  it('a v2 client with a bad token is refused with an error carrying the reason', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ioV2 = require('socket.io-client-v2');
    const old = track(ioV2(server.socketUrl, { query: { token: 'garbage' }, transports: ['websocket'], forceNew: true, reconnection: false }));
    const err = await Promise.race([nextEvent(old, 'error'), nextEvent(old, 'session').then(() => 'connected')]);
    expect(err).not.toBe('connected');
    expect(JSON.stringify(err)).toMatch(/token invalid/);
    old.close();
  });

  it('weapp.socket.io 3 connects through wx.connectSocket (shim over ws) and chats both ways', async () => {
    const shim = createWxShim();
    const { io, restore } = loadWeappSocketIo(shim);
    try {
      const { a, sa } = await pair();
      const user = uniqueUser('weapp');
      const socket = io(server.socketUrl, { auth: { token: await tokenFor(server, user) }, transports: ['websocket'], reconnection: false });
      const session = await Promise.race([nextEvent(socket, 'session'), nextEvent(socket, 'connect_error').then((e) => Promise.reject(e))]);
      expect(session.userId).toBe(user);
      expect(shim.openSockets()).toBe(1);
      const got = collect(sa, 'imchat');
      const ack = await call(socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to: a, content: 'from weapp.socket.io' });
      expect(ack).toMatchObject({ code: 0, data: { from: user, inboxSeq: 1 } });
      await until(() => got.length === 1, 5000, 'imchat from weapp');
      const back = nextEvent(socket, 'imchat');
      await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: user, content: '到小程序' });
      expect(await back).toMatchObject({ content: '到小程序', inboxSeq: 2 });
      const refused = io(server.socketUrl, { auth: { token: 'nope' }, transports: ['websocket'], reconnection: false, forceNew: true });
      const err = await nextEvent(refused, 'connect_error');
      expect(err.data).toMatchObject({ code: 40101 });
      socket.close();
      refused.close();
      await until(() => shim.openSockets() === 0, 5000, 'weapp sockets closed');
    } finally {
      shim.destroy();
      restore();
    }
  });
});

describe('chat:send and imchat', () => {
  it('stores, acks with seq and the sender inboxSeq, and delivers imchat with the recipient inboxSeq', async () => {
    const { a, b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    const echo = collect(sa, 'imchat');
    const before = Date.now();
    const ack = await call(sa, 'chat:send', { clientMsgId: 'first-msg_1', chatType: 0, to: b, content: 'hello', msgType: 0, data: { k: [1, 'two'] } });
    expect(ack).toEqual({
      code: 0,
      message: 'ok',
      data: {
        messageId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        clientMsgId: 'first-msg_1',
        from: a,
        fromName: 'Alice',
        to: b,
        content: 'hello',
        chatType: 0,
        msgType: 0,
        timestamp: expect.any(Number),
        data: { k: [1, 'two'] },
        seq: 1,
        inboxSeq: 1,
      },
    });
    expect(ack.data.timestamp).toBeGreaterThanOrEqual(before);
    await until(() => got.length === 1);
    expect(got[0]).toEqual({ ...ack.data, inboxSeq: 1 });
    await sleep(50);
    expect(echo).toEqual([]); // not echoed to the sending socket
    // msgType and data are optional; data defaults to null.
    const plain = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'plain' });
    expect(plain.data).toMatchObject({ msgType: 0, data: null, seq: 2, inboxSeq: 2 });
  });

  it('the server takes the sender from the token, never from the payload', async () => {
    const { a, b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'spoof', from: b, fromName: 'Bob', messageId: 'mine', seq: 99, timestamp: 1 });
    expect(ack.data).toMatchObject({ from: a, fromName: 'Alice', seq: 1 });
    expect(ack.data.messageId).not.toBe('mine');
    expect(ack.data.timestamp).toBeGreaterThan(1);
    await until(() => got.length === 1);
    expect(got[0].from).toBe(a);
  });

  it('a resend with the same clientMsgId returns the first message and delivers nothing new; a different message with it is 40900', async () => {
    const { b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    const id = cid();
    const first = await call(sa, 'chat:send', { clientMsgId: id, chatType: 0, to: b, content: 'once' });
    const again = await call(sa, 'chat:send', { clientMsgId: id, chatType: 0, to: b, content: 'once' });
    expect(again).toEqual(first);
    for (const change of [{ content: 'different' }, { msgType: 1 }, { chatType: 1 }, { to: uniqueUser() }]) {
      const conflict = await call(sa, 'chat:send', { clientMsgId: id, chatType: 0, to: b, content: 'once', ...change });
      expect([change, conflict.code]).toEqual([change, 40900]);
    }
    // Another sender's clientMsgIds are their own.
    const fromB = await call(sb, 'chat:send', { clientMsgId: id, chatType: 0, to: first.data.from, content: 'same id, other sender' });
    expect(fromB.code).toBe(0);
    await sleep(100);
    expect(got).toHaveLength(1);
    expect((await call(sb, 'chat:sync', { afterInboxSeq: 0 })).data.messages.map((m: { content: string }) => m.content)).toEqual(['once', 'same id, other sender']);
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
    await sleep(50);
    expect(onPhone).toEqual([]);
  });

  it('a message to oneself lands once in one\'s own inbox', async () => {
    const me = uniqueUser();
    const token = await tokenFor(server, me);
    const s = await connect(server, token);
    const other = await connect(server, token);
    const got = collect(other, 'imchat');
    const ack = await call(s, 'chat:send', { clientMsgId: cid(), chatType: 0, to: me, content: 'note to self' });
    expect(ack.data).toMatchObject({ from: me, to: me, seq: 1, inboxSeq: 1 });
    await until(() => got.length === 1);
    await sleep(50);
    expect(got).toHaveLength(1);
    expect((await call(s, 'chat:sync', { afterInboxSeq: 0 })).data.latestInboxSeq).toBe(1);
  });

  it('imchat arrives in inboxSeq order', async () => {
    const { b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    await Promise.all(Array.from({ length: 30 }, (_, i) => call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `n${i}` })));
    await until(() => got.length === 30);
    expect(got.map((m) => m.inboxSeq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(got.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('refuses unknown recipients and groups', async () => {
    const { sa } = await pair();
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'no-such-user', content: 'x' })).code).toBe(40400);
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 1, to: 'no-such-group', content: 'x' })).code).toBe(40400);
  });
});

describe('group commit', () => {
  afterEach(() => jest.restoreAllMocks());

  it('sends of one burst share a commit, yet each is answered alone: refusals, in-burst duplicates and order', async () => {
    const { a, b, sa, sb } = await pair();
    const commits = jest.spyOn(server.im.storage, 'sendMessages');
    const got = collect(sb, 'imchat');
    const dupId = cid();
    const payloads = Array.from({ length: 40 }, (_, i) => {
      if (i === 10) return { clientMsgId: cid(), chatType: 0, to: 'no-such-user', content: 'refused' };
      if (i === 20) return { clientMsgId: cid(), chatType: 1, to: 'no-such-group', content: 'refused' };
      if (i === 5 || i === 6) return { clientMsgId: dupId, chatType: 0, to: b, content: 'twice' };
      return { clientMsgId: cid(), chatType: 0, to: b, content: `n${i}` };
    });
    const acks = await Promise.all(payloads.map((p) => call(sa, 'chat:send', p)));
    // At least one commit held several sends, so there were fewer commits than sends.
    expect(commits.mock.calls.length).toBeLessThan(payloads.length);
    expect(acks[10]!.code).toBe(40400);
    expect(acks[20]!.code).toBe(40400);
    expect(acks[6]).toEqual(acks[5]);
    const stored = acks.filter((_, i) => i !== 10 && i !== 20 && i !== 6);
    expect(stored.every((r) => r.code === 0 && r.data.from === a)).toBe(true);
    expect(stored.map((r) => r.data.seq)).toEqual(Array.from({ length: 37 }, (_, i) => i + 1));
    await until(() => got.length === 37);
    await sleep(50);
    expect(got.map((m) => m.messageId)).toEqual(stored.map((r) => r.data.messageId));
    const synced = (await call(sb, 'chat:sync', { afterInboxSeq: 0 })).data.messages;
    expect(synced.map((m: { content: string }) => m.content)).toEqual(stored.map((r) => r.data.content));
  });

  it('a failed commit refuses every send of the batch with 50000, stores none and delivers none', async () => {
    const { b, sa, sb } = await pair();
    // The database fails the whole transaction (what SQLite does on an I/O error at commit).
    jest.spyOn(server.im.storage, 'sendMessages').mockImplementationOnce(async () => {
      throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    });
    const got = collect(sb, 'imchat');
    const acks = await Promise.all([1, 2, 3].map((i) => call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `lost ${i}` })));
    expect(acks.map((r) => r.code)).toEqual([50000, 50000, 50000]);
    await sleep(50);
    expect(got).toEqual([]);
    expect((await call(sb, 'chat:sync', { afterInboxSeq: 0 })).data).toMatchObject({ messages: [], latestInboxSeq: 0 });
    // The next send is stored as the conversation's first message.
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'after' })).data.seq).toBe(1);
  });

  it('a storage failure that may have ended the transaction aborts the whole batch: nothing stored, every send refused', async () => {
    const { b, sa, sb } = await pair();
    // Inside the group commit the second send fails as a full disk does: SQLite may have rolled
    // back the whole transaction, so the rest must not go on in autocommit.
    const db = (server.im.storage as unknown as { sqlite: { sendMessage: (...a: unknown[]) => unknown } }).sqlite;
    const real = db.sendMessage.bind(db);
    let calls = 0;
    jest.spyOn(db, 'sendMessage').mockImplementation((...args: unknown[]) => {
      calls += 1;
      if (calls === 2) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return real(...args);
    });
    const got = collect(sb, 'imchat');
    const acks = await Promise.all([1, 2, 3].map((i) => call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `full ${i}` })));
    expect(calls).toBe(2); // the third never ran after the failure
    expect(acks.map((r) => r.code)).toEqual([50000, 50000, 50000]);
    await sleep(50);
    expect(got).toEqual([]);
    expect((await call(sb, 'chat:sync', { afterInboxSeq: 0 })).data.messages).toEqual([]);
  });

  it('a renamed sender sends under the new name at once', async () => {
    const { a, b, sa } = await pair();
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'before' })).data.fromName).toBe('Alice');
    const renamed = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId: a, userName: 'Alicia' });
    expect(renamed.body.code).toBe(0);
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'after' })).data.fromName).toBe('Alicia');
  });
});

describe('chat:sync', () => {
  it('catch-up after a disconnect: everything after a given inbox seq, paged with hasMore', async () => {
    const { a, b, sa, sb, tB } = await pair();
    sb.disconnect();
    for (let i = 1; i <= 7; i++) await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `offline ${i}` });
    const back = await connect(server, tB);
    expect(back.session.latestInboxSeq).toBe(7);
    const p1 = await call(back, 'chat:sync', { afterInboxSeq: 0, limit: 3 });
    expect(p1.data).toMatchObject({ hasMore: true, latestInboxSeq: 7 });
    expect(p1.data.messages.map((m: { inboxSeq: number }) => m.inboxSeq)).toEqual([1, 2, 3]);
    const p2 = await call(back, 'chat:sync', { afterInboxSeq: 3, limit: 3 });
    expect(p2.data.messages.map((m: { content: string }) => m.content)).toEqual(['offline 4', 'offline 5', 'offline 6']);
    expect(p2.data.hasMore).toBe(true);
    const p3 = await call(back, 'chat:sync', { afterInboxSeq: 6, limit: 3 });
    expect(p3.data.hasMore).toBe(false);
    expect(p3.data.messages).toEqual([expect.objectContaining({ content: 'offline 7', from: a, inboxSeq: 7, seq: 7, chatType: 0, to: b })]);
    const exact = await call(back, 'chat:sync', { afterInboxSeq: 4, limit: 3 }); // exactly the rest
    expect(exact.data).toMatchObject({ hasMore: false, latestInboxSeq: 7 });
    expect(exact.data.messages).toHaveLength(3);
    const none = await call(back, 'chat:sync', { afterInboxSeq: 7 });
    expect(none.data).toEqual({ messages: [], hasMore: false, latestInboxSeq: 7 });
    const beyond = await call(back, 'chat:sync', { afterInboxSeq: 100 });
    expect(beyond.data).toEqual({ messages: [], hasMore: false, latestInboxSeq: 7 });
  });

  it('default limit 200, at most 500', async () => {
    const { b, sa, sb } = await pair();
    await Promise.all(Array.from({ length: 205 }, (_, i) => call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `bulk ${i}` })));
    const dflt = await call(sb, 'chat:sync', { afterInboxSeq: 0 });
    expect(dflt.data.messages).toHaveLength(200);
    expect(dflt.data.hasMore).toBe(true);
    expect((await call(sb, 'chat:sync', { afterInboxSeq: 0, limit: 500 })).data.messages).toHaveLength(205);
    for (const limit of [0, 501, 1.5, '10']) expect((await call(sb, 'chat:sync', { afterInboxSeq: 0, limit })).code).toBe(40000);
    for (const afterInboxSeq of [-1, 'x', null, 1.5]) expect((await call(sb, 'chat:sync', { afterInboxSeq })).code).toBe(40000);
  });
});

describe('receipt', () => {
  it('delivered and read reach the original sender; read moves the read position', async () => {
    const { a, b, sa, sb, tB } = await pair();
    const token = await tokenFor(server, a, 'Alice');
    const laptop = await connect(server, token); // every socket of the sender hears it
    const receipts = collect(sa, 'receipt');
    const onLaptop = collect(laptop, 'receipt');
    const onReader = collect(sb, 'receipt');
    const first = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'one' });
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'receipt me' });
    await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'three' });
    expect(await call(sb, 'receipt', { messageId: ack.data.messageId, status: 1 })).toEqual({ code: 0, message: 'ok', data: null });
    await until(() => receipts.length === 1);
    expect(receipts[0]).toEqual({ messageId: ack.data.messageId, status: 1, from: b, to: b, chatType: 0, seq: 2, timestamp: expect.any(Number) });
    // Delivered does not move the read position.
    expect((await http(server, 'GET', '/api/conversations', undefined, tB)).body.data[0]).toMatchObject({ readSeq: 0, unreadCount: 3 });
    expect((await call(sb, 'receipt', { messageId: ack.data.messageId, status: 2, to: a })).code).toBe(0);
    await until(() => receipts.length === 2 && onLaptop.length === 2);
    expect(receipts[1]).toMatchObject({ messageId: ack.data.messageId, status: 2, from: b, to: b, chatType: 0, seq: 2 });
    expect((await http(server, 'GET', '/api/conversations', undefined, tB)).body.data[0]).toMatchObject({ targetId: a, readSeq: 2, unreadCount: 1 });
    // Reading an older message never moves it back.
    await call(sb, 'receipt', { messageId: first.data.messageId, status: 2 });
    expect((await http(server, 'GET', '/api/conversations', undefined, tB)).body.data[0].readSeq).toBe(2);
    await sleep(50);
    expect(onReader).toEqual([]);
  });

  it('group: a member\'s receipt reaches the sender with the group as `to`', async () => {
    const [owner, m1, m2] = [uniqueUser(), uniqueUser(), uniqueUser()];
    const tOwner = await tokenFor(server, owner);
    const t1 = await tokenFor(server, m1);
    await tokenFor(server, m2);
    const g = (await http(server, 'POST', '/api/groups', { name: 'rcpt', userIdList: [m1, m2] }, tOwner)).body.data;
    const so = await connect(server, tOwner);
    const s1 = await connect(server, t1);
    const receipts = collect(so, 'receipt');
    const ack = await call(so, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'read me' });
    expect((await call(s1, 'receipt', { messageId: ack.data.messageId, status: 2 })).code).toBe(0);
    await until(() => receipts.length === 1);
    expect(receipts[0]).toMatchObject({ messageId: ack.data.messageId, status: 2, from: m1, to: g.id, chatType: 1, seq: 1 });
    expect((await http(server, 'GET', '/api/conversations', undefined, t1)).body.data[0]).toMatchObject({ targetId: g.id, readSeq: 1, unreadCount: 0 });
    // After leaving, no more receipts for that group: the message is as unknown as any other.
    await http(server, 'POST', `/api/groups/${g.id}/leave`, undefined, t1);
    expect((await call(s1, 'receipt', { messageId: ack.data.messageId, status: 1 })).code).toBe(40400);
  });

  it('refuses receipts by the sender, by outsiders, naming the wrong sender, or for unknown messages', async () => {
    const { b, sa, sb } = await pair();
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'x' });
    expect((await call(sb, 'receipt', { messageId: ack.data.messageId, status: 2, to: b })).code).toBe(40000); // wrong sender named
    expect((await call(sa, 'receipt', { messageId: ack.data.messageId, status: 2 })).code).toBe(40300); // own message
    // An outsider learns nothing: the answer for a real id is the answer for a made-up one, and
    // it does not name the sender.
    const outsider = await connect(server, await tokenFor(server, uniqueUser()));
    const real = await call(outsider, 'receipt', { messageId: ack.data.messageId, status: 2 });
    const madeUp = await call(outsider, 'receipt', { messageId: 'no-such-message', status: 2 });
    expect(real.code).toBe(40400);
    expect(real.message.replace(ack.data.messageId, 'ID')).toBe(madeUp.message.replace('no-such-message', 'ID'));
    expect(real.message).not.toContain(ack.data.from);
    expect((await call(sb, 'receipt', { messageId: 'no-such-message', status: 2 })).code).toBe(40400);
    for (const status of [0, 3, '2', null]) expect((await call(sb, 'receipt', { messageId: ack.data.messageId, status })).code).toBe(40000);
  });
});

describe('receipts (several in one packet)', () => {
  it('each accepted receipt reaches its sender as one receipt event; refused ones are listed with their reason', async () => {
    const { a, b, sa, sb, tB } = await pair();
    const c = uniqueUser('c');
    await tokenFor(server, c);
    const m1 = (await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'one' })).data;
    const m2 = (await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'two' })).data;
    const toC = (await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: c, content: 'not for b' })).data;
    const got = collect(sa, 'receipt');
    const res = await call(sb, 'receipts', { messageIds: [m1.messageId, m2.messageId, m1.messageId, toC.messageId, 'no-such-message'], status: 2 });
    expect(res.code).toBe(0);
    expect(res.data.accepted).toEqual([m1.messageId, m2.messageId]);
    expect(res.data.refused.map((r: { messageId: string; code: number }) => [r.messageId, r.code])).toEqual([
      [toC.messageId, 40400], // not sent to the caller: as unknown as a made-up id
      ['no-such-message', 40400],
    ]);
    await until(() => got.length === 2);
    expect(got).toEqual([
      expect.objectContaining({ messageId: m1.messageId, status: 2, from: b, to: b, chatType: 0, seq: 1 }),
      expect.objectContaining({ messageId: m2.messageId, status: 2, from: b, seq: 2 }),
    ]);
    // Read receipts moved b's read position, as single receipts do.
    const convs = await http(server, 'GET', '/api/conversations', undefined, tB);
    expect(convs.body.data.find((x: { targetId: string }) => x.targetId === a)).toMatchObject({ readSeq: 2, unreadCount: 0 });
    // One's own message cannot be receipted.
    const own = (await call(sb, 'chat:send', { clientMsgId: cid(), chatType: 0, to: a, content: 'by b' })).data;
    expect((await call(sb, 'receipts', { messageIds: [own.messageId], status: 1 })).data).toMatchObject({ accepted: [], refused: [{ messageId: own.messageId, code: 40300 }] });
  });

  it('counts against the rate limit once per id', async () => {
    const limited = await startServer({ rateLimit: 5, rateBurst: 10 });
    const a = uniqueUser('a');
    const b = uniqueUser('b');
    const sa = await connect(limited, await tokenFor(limited, a));
    const sb = await connect(limited, await tokenFor(limited, b));
    const m = (await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'x' })).data;
    const ids = Array.from({ length: 20 }, () => m.messageId);
    const res = await call(sb, 'receipts', { messageIds: ids, status: 1 });
    expect(res.code).toBe(42900);
    expect(res.message).toMatch(/20 receipts count as 20 events/);
    await limited.stop();
  });

  it('refuses malformed packets: empty or over 100 ids, wrong status', async () => {
    const { sb } = await pair();
    for (const p of [{ messageIds: [], status: 1 }, { messageIds: Array.from({ length: 101 }, (_, i) => `m${i}`), status: 1 }, { messageIds: ['m'], status: 3 }, { messageIds: 'm', status: 1 }]) {
      expect((await call(sb, 'receipts', p)).code).toBe(40000);
    }
  });
});

describe('heartbeat', () => {
  it('answers any payload with the server time', async () => {
    const { sa } = await pair();
    for (const payload of [{ ts: Date.now() }, undefined, null, 'x', 42, []]) {
      const r = await call(sa, 'heartbeat', payload);
      expect(r.code).toBe(0);
      expect(Math.abs(r.data.serverTime - Date.now())).toBeLessThan(5000);
    }
    const bare = await new Promise<any>((resolve) => sa.emit('heartbeat', resolve)); // the ack as the only argument
    expect(bare.code).toBe(0);
  });
});

describe('bad input on every event', () => {
  const junk: unknown[] = [
    undefined,
    null,
    42,
    'text',
    true,
    [],
    [1, 2],
    {},
    { a: { b: { c: {} } } },
    JSON.parse('{"__proto__":{"polluted":true}}'),
    JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'),
    'x'.repeat(50000),
  ];

  it.each(['chat:send', 'chat:sync', 'receipt', 'receipts', 'token:renew'])('%s answers 40000 to malformed payloads and keeps serving', async (event) => {
    const { sa } = await pair();
    for (const payload of junk) {
      const r = await call(sa, event, payload);
      expect([JSON.stringify(payload)?.slice(0, 50), r.code]).toEqual([JSON.stringify(payload)?.slice(0, 50), 40000]);
      expect(r.message).toMatch(new RegExp(`^${event}`));
    }
    expect((await call(sa, 'heartbeat', {})).code).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a valid payload with a __proto__ key anywhere is refused', async () => {
    const { b, sa } = await pair();
    const poisoned = JSON.parse(`{"clientMsgId":"${cid()}","chatType":0,"to":"${b}","content":"hi","data":{"deep":[{"__proto__":{"isAdmin":true}}]}}`);
    const r = await call(sa, 'chat:send', poisoned);
    expect(r).toMatchObject({ code: 40000, message: expect.stringContaining('__proto__') });
    expect((await call(sa, 'chat:sync', JSON.parse('{"afterInboxSeq":0,"__proto__":{"x":1}}'))).code).toBe(40000);
  });

  it('chat:send field rules: types, ids, sizes, depth', async () => {
    const { b, sa } = await pair();
    const base = { chatType: 0, to: b, content: 'ok' };
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ ...base }, 40000], // no clientMsgId
      [{ ...base, clientMsgId: cid(), chatType: 2 }, 40000],
      [{ ...base, clientMsgId: cid(), chatType: '0' }, 40000],
      [{ ...base, clientMsgId: cid(), to: '../../etc' }, 40000],
      [{ ...base, clientMsgId: cid(), to: '' }, 40000],
      [{ ...base, clientMsgId: cid(), to: 'x'.repeat(65) }, 40000],
      [{ ...base, clientMsgId: '' }, 40000],
      [{ ...base, clientMsgId: 'a b' }, 40000],
      [{ ...base, clientMsgId: 'a.b' }, 40000],
      [{ ...base, clientMsgId: 'x'.repeat(65) }, 40000],
      [{ ...base, clientMsgId: cid(), content: 42 }, 40000],
      [{ ...base, clientMsgId: cid(), content: undefined }, 40000],
      [{ ...base, clientMsgId: cid(), content: '' }, 40000],
      [{ ...base, clientMsgId: cid(), content: ' \n\t ' }, 40000],
      [{ ...base, clientMsgId: cid(), msgType: -1 }, 40000],
      [{ ...base, clientMsgId: cid(), msgType: 1001 }, 40000],
      [{ ...base, clientMsgId: cid(), msgType: 1.5 }, 40000],
      [{ ...base, clientMsgId: cid(), msgType: '1' }, 40000],
      [{ ...base, clientMsgId: cid(), content: '好'.repeat(10923) }, 41300], // 32769 bytes of UTF-8
      [{ ...base, clientMsgId: cid(), content: 'x'.repeat(32769) }, 41300],
      [{ ...base, clientMsgId: cid(), data: { big: 'x'.repeat(33000) } }, 41300],
      [{ ...base, clientMsgId: cid(), data: JSON.parse('['.repeat(18) + ']'.repeat(18)) }, 40000],
      [{ ...base, clientMsgId: cid(), data: 42 }, 40000],
      [{ ...base, clientMsgId: cid(), data: true }, 40000],
    ];
    for (const [payload, code] of cases) {
      const r = await call(sa, 'chat:send', payload);
      expect([JSON.stringify(payload).slice(0, 80), r.code]).toEqual([JSON.stringify(payload).slice(0, 80), code]);
    }
    // The limits themselves are allowed.
    const edge = await call(sa, 'chat:send', { ...base, clientMsgId: 'x'.repeat(64), content: 'x'.repeat(32768), msgType: 1000, data: JSON.parse('['.repeat(16) + ']'.repeat(16)) });
    expect(edge.code).toBe(0);
    const empty = await call(sa, 'chat:send', { ...base, clientMsgId: cid(), content: '', msgType: 1, data: { url: 'https://example.com/a.png' } });
    expect(empty.data).toMatchObject({ content: '', msgType: 1, data: { url: 'https://example.com/a.png' } });
    const fine = await call(sa, 'chat:send', { ...base, clientMsgId: cid(), content: '<script>alert(1)</script> 😀', msgType: 1, data: 'string data' });
    expect(fine.data).toMatchObject({ content: '<script>alert(1)</script> 😀', msgType: 1, data: 'string data' });
    const arr = await call(sa, 'chat:send', { ...base, clientMsgId: cid(), data: [1, { two: 2 }] });
    expect(arr.data.data).toEqual([1, { two: 2 }]);
  });

  it('a 40 000-level deep payload (too deep for the client library to send) is answered 40000 over a raw socket', async () => {
    const { b, tA } = await pair();
    const ws = new WebSocket(`${server.socketUrl.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => {
      const text = d.toString();
      if (text === '2') ws.send('3'); // engine.io ping
      frames.push(text);
    });
    try {
      await nextEvent(ws, 'open');
      await until(() => frames.some((f) => f.startsWith('0{')), 5000, 'engine.io open');
      ws.send(`40${JSON.stringify({ token: tA })}`);
      await until(() => frames.some((f) => f.startsWith('40{')), 5000, 'socket.io connect');
      const deep = '['.repeat(40000) + ']'.repeat(40000);
      ws.send(`421["chat:send",{"clientMsgId":"${cid()}","chatType":0,"to":"${b}","content":"deep","data":${deep}}]`);
      await until(() => frames.some((f) => f.startsWith('431')), 5000, 'ack 1');
      expect(JSON.parse(frames.find((f) => f.startsWith('431'))!.slice(3))[0]).toMatchObject({ code: 40000, message: expect.stringContaining('nesting') });
      ws.send('422["heartbeat",{}]');
      await until(() => frames.some((f) => f.startsWith('432')), 5000, 'ack 2');
      expect(JSON.parse(frames.find((f) => f.startsWith('432'))!.slice(3))[0].code).toBe(0);
    } finally {
      ws.close();
    }
  });

  it('events without an ack callback are processed without an answer, even malformed ones; unknown events are ignored', async () => {
    const { b, sa, sb } = await pair();
    const got = collect(sb, 'imchat');
    sa.emit('chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'no ack' });
    sa.emit('chat:send', 'garbage');
    sa.emit('chat:send');
    sa.emit('receipt', { messageId: 'x', status: 1 }, 'not a function');
    sa.emit('token:renew', { token: 'bad' });
    sa.emit('no-such-event', { x: 1 }, () => {
      throw new Error('unknown events must not be answered');
    });
    await until(() => got.length === 1);
    expect(got[0].content).toBe('no ack');
    expect((await call(sa, 'heartbeat', {})).code).toBe(0);
  });

  it('a packet over the size limit closes that connection only', async () => {
    const { sa, sb } = await pair();
    const closed = nextEvent(sa, 'disconnect');
    sa.emit('chat:send', { content: 'x'.repeat(200_000) });
    await closed;
    expect((await call(sb, 'heartbeat', {})).code).toBe(0);
  });
});

describe('limits and sessions', () => {
  it('rate limit: events over the bucket are answered 42900 and not processed', async () => {
    const limited = await startServer({ rateLimit: 5, rateBurst: 5 });
    const a = uniqueUser();
    const b = uniqueUser();
    await tokenFor(limited, b);
    const tA = await tokenFor(limited, a);
    const s = await connect(limited, tA);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => call(s, 'chat:send', { clientMsgId: `spam${i}`, chatType: 0, to: b, content: 'spam' })));
    const codes = results.map((r) => r.code);
    const accepted = codes.filter((c) => c === 0).length;
    expect(accepted).toBeGreaterThanOrEqual(5);
    expect(accepted).toBeLessThan(8);
    expect(codes.filter((c) => c !== 0).every((c) => c === 42900)).toBe(true);
    expect(results.find((r) => r.code === 42900)?.message).toMatch(/retry after \d+ ms/);
    const stored = await http(limited, 'GET', `/api/private/${b}/messages?limitSize=100`, undefined, tA);
    expect(stored.body.data).toHaveLength(accepted);
    // The bucket is the user's: another connection of the same user shares it (a fresh socket
    // is no fresh burst), another user has their own; and the bucket refills.
    const other = await connect(limited, tA);
    expect((await call(other, 'heartbeat', {})).code).toBe(42900);
    const sb = await connect(limited, await tokenFor(limited, b));
    expect((await call(sb, 'heartbeat', {})).code).toBe(0);
    await sleep(450);
    expect((await call(s, 'heartbeat', {})).code).toBe(0);
    await limited.stop();
  });

  it("session policy 'kick': the older connection gets kicked and is closed", async () => {
    const kicking = await startServer({ sessionPolicy: 'kick' });
    const token = await tokenFor(kicking, uniqueUser());
    const first = await connect(kicking, token);
    const kicked = nextEvent(first, 'kicked');
    const closed = nextEvent(first, 'disconnect');
    const second = await connect(kicking, token);
    await expect(kicked).resolves.toEqual({ reason: 'another_session' });
    await closed;
    expect(second.connected).toBe(true);
    expect((await call(second, 'heartbeat', {})).code).toBe(0);
    await kicking.stop();
  });

  it("default policy 'multi': both connections stay online", async () => {
    const token = await tokenFor(server, uniqueUser());
    const first = await connect(server, token);
    const kicked = collect(first, 'kicked');
    const second = await connect(server, token);
    await sleep(50);
    expect(first.connected && second.connected).toBe(true);
    expect(kicked).toEqual([]);
  });

  it('token lifetime: will-expire at 90 % of a short lifetime, renew resets, expired disconnects', async () => {
    const short = await startServer({ tokenTtl: 3 });
    const user = uniqueUser();
    const s = await connect(short, await tokenFor(short, user));
    const will = await nextEvent<{ expiresAt: number }>(s, 'token:will-expire', 4000);
    expect(will.expiresAt).toBe(s.session.tokenExpiresAt);
    // Tokens carry whole seconds: 90 % of 3 s after issue is 300 ms (plus rounding) before expiry.
    expect(will.expiresAt - Date.now()).toBeGreaterThan(0);
    expect(will.expiresAt - Date.now()).toBeLessThan(1300);
    const renewed = await call(s, 'token:renew', { token: await tokenFor(short, user) });
    expect(renewed.code).toBe(0);
    expect(renewed.data.expiresAt).toBeGreaterThan(will.expiresAt);
    expect((await call(s, 'token:renew', { token: await tokenFor(short, uniqueUser()) })).code).toBe(40300);
    expect((await call(s, 'token:renew', { token: 'garbage' })).code).toBe(40101);
    const expired = nextEvent<{ expiresAt: number }>(s, 'token:expired', 5000);
    const closed = nextEvent(s, 'disconnect', 6000);
    expect((await expired).expiresAt).toBe(renewed.data.expiresAt);
    await closed;
    expect(Date.now()).toBeGreaterThan(will.expiresAt); // the renewal kept the socket past the first expiry
    await short.stop();
  }, 15000);

  it('single-port mode serves HTTP and Socket.IO on one port', async () => {
    const one = await startServer({ singlePort: true });
    expect(one.apiUrl).toBe(one.socketUrl);
    expect((await http(one, 'GET', '/health')).status).toBe(200);
    const s = await connect(one, await tokenFor(one, uniqueUser()));
    expect((await call(s, 'heartbeat', {})).code).toBe(0);
    await one.stop();
  });

  it('the socket port answers plain HTTP with a pointer to the API port', async () => {
    const res = await fetch(`${server.socketUrl}/api/token`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: number; message: string }).message).toMatch(/API port/);
  });
});
