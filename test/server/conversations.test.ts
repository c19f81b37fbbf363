/**
 * Conversation management on the reference server, on SQLite and on PostgreSQL: pin (first in the
 * list, across pages), mute (out of the total unread), delete (off the list, unread cleared, back
 * with the next message while the peer's view of what was read stays), the pushes that keep every
 * device of the user in step, and the refusals.
 */
import { bothStorages, call, closeClients, collect, connect, http, sleep, startServer, type TestServer, tokenFor, until } from './helpers';

jest.setTimeout(60_000);

const engines = bothStorages();

describe.each(engines)('conversations on $name', ({ name, url }) => {
  let server: TestServer;
  let n = 0;
  const id = (p: string) => `${name.slice(0, 2).toLowerCase()}-${p}-${++n}`;

  beforeAll(async () => {
    server = await startServer(url() ? { databaseUrl: url() } : {});
  });
  afterEach(() => closeClients());
  afterAll(async () => {
    await server.stop();
  });

  const send = async (socket: any, to: string, content: string, chatType: 0 | 1 = 0) => {
    const r = await call(socket, 'chat:send', { clientMsgId: id('c'), chatType, to, content });
    expect(r.code).toBe(0);
    return r.data;
  };
  const list = async (token: string, query = '') => {
    const r = await http(server, 'GET', `/api/conversations${query}`, undefined, token);
    expect(r.body.code).toBe(0);
    return r.body.data;
  };
  const total = async (token: string) => (await http(server, 'GET', '/api/conversations/unread-count', undefined, token)).body.data.totalUnreadCount;
  const post = (token: string, what: string, body: unknown) => http(server, 'POST', `/api/conversations/${what}`, body, token);

  /** A user `me` with one conversation from each of `peers` (one message each, oldest first). */
  async function withConversations(peers: number) {
    const me = id('me');
    const tm = await tokenFor(server, me, 'Me');
    const others: Array<{ id: string; token: string; socket: any }> = [];
    for (let i = 0; i < peers; i++) {
      const p = id(`p${i}`);
      const token = await tokenFor(server, p, `Peer ${i}`);
      const socket = await connect(server, token);
      await send(socket, me, `hello from ${i}`);
      others.push({ id: p, token, socket });
      await sleep(2); // distinct updatedAt
    }
    return { me, tm, others };
  }

  it('pinned conversations come first, on every page, and unpinning puts them back in time order', async () => {
    const { tm, others } = await withConversations(4);
    const ids = (items: any[]) => items.map((c) => c.targetId);
    expect(ids(await list(tm))).toEqual([others[3]!.id, others[2]!.id, others[1]!.id, others[0]!.id]);

    for (const p of [others[0]!, others[2]!]) {
      const r = await post(tm, 'pin', { chatType: 0, targetId: p.id, pinned: true });
      expect(r.body.code).toBe(0);
      expect(r.body.data).toMatchObject({ conversationId: `0:${p.id}`, pinned: true, muted: false, unreadCount: 1 });
      expect(r.body.data.deleted).toBeUndefined();
    }
    const expected = [others[2]!.id, others[0]!.id, others[3]!.id, others[1]!.id];
    const all = await list(tm);
    expect(ids(all)).toEqual(expected);
    expect(all.map((c: any) => c.pinned)).toEqual([true, true, false, false]);

    // One per page: the cursor carries the pinned part, so the order holds across the boundary.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await list(tm, `?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...ids(page.items));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(expected);

    // A cursor of the earlier form ([at, id], no pinned part) reads as one among the unpinned.
    const last = all[2];
    const old = Buffer.from(JSON.stringify([last.updatedAt, last.conversationId])).toString('base64url');
    expect(ids((await list(tm, `?limit=10&cursor=${old}`)).items)).toEqual([others[1]!.id]);

    await post(tm, 'pin', { chatType: 0, targetId: others[2]!.id, pinned: false });
    expect(ids(await list(tm))).toEqual([others[0]!.id, others[3]!.id, others[2]!.id, others[1]!.id]);
  });

  it('muted conversations keep their unread count but are not in the total', async () => {
    const { tm, others } = await withConversations(2);
    expect(await total(tm)).toBe(2);
    const r = await post(tm, 'mute', { chatType: 0, targetId: others[0]!.id, muted: true });
    expect(r.body.data).toMatchObject({ muted: true, pinned: false, unreadCount: 1 });
    expect(await total(tm)).toBe(1);
    const muted = (await list(tm)).find((c: any) => c.targetId === others[0]!.id);
    expect(muted).toMatchObject({ muted: true, unreadCount: 1 });
    await post(tm, 'mute', { chatType: 0, targetId: others[0]!.id, muted: false });
    expect(await total(tm)).toBe(2);
  });

  it('delete: off the list with its unread cleared; the next message brings it back with one unread, peerReadSeq unchanged', async () => {
    const me = id('me');
    const peer = id('peer');
    const tm = await tokenFor(server, me, 'Me');
    const tp = await tokenFor(server, peer, 'Peer');
    const ps = await connect(server, tp);
    const ms = await connect(server, tm);
    await send(ps, me, 'one');
    await send(ps, me, 'two');
    const mine = await send(ms, peer, 'mine');
    const three = await send(ps, me, 'three');
    await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: peer, seq: 1 }, tm);
    expect((await list(tm)).find((c: any) => c.targetId === peer)).toMatchObject({ unreadCount: 1, readSeq: mine.seq });
    await post(tm, 'pin', { chatType: 0, targetId: peer, pinned: true });
    await post(tm, 'mute', { chatType: 0, targetId: peer, muted: true });
    const peerView = (await list(tp)).find((c: any) => c.targetId === me);

    const r = await post(tm, 'delete', { chatType: 0, targetId: peer });
    expect(r.body.code).toBe(0);
    // The mute is a setting of the chat and stays; the pin goes with the list entry.
    expect(r.body.data).toMatchObject({ conversationId: `0:${peer}`, deleted: true, unreadCount: 0, mentionedMe: false, pinned: false, muted: true });
    expect((await list(tm)).map((c: any) => c.targetId)).not.toContain(peer);
    expect((await http(server, 'GET', `/api/conversations/0:${peer}`, undefined, tm)).body.code).toBe(40400);
    expect(await total(tm)).toBe(0);
    // Deleting is not reading: the peer still sees exactly what was read.
    expect((await list(tp)).find((c: any) => c.targetId === me).peerReadSeq).toBe(peerView.peerReadSeq);
    // Deleting again is fine; a revoke of an old message (an event row) brings nothing back.
    expect((await post(tm, 'delete', { chatType: 0, targetId: peer })).body.code).toBe(0);
    expect((await call(ps, 'chat:revoke', { messageId: three.messageId })).code).toBe(0);
    expect((await list(tm)).map((c: any) => c.targetId)).not.toContain(peer);

    const four = await send(ps, me, 'four');
    const back = (await list(tm)).find((c: any) => c.targetId === peer);
    expect(back).toMatchObject({ unreadCount: 1, lastSeq: four.seq, pinned: false, muted: true });
    expect(back.lastMessage.content).toBe('four');
    const one = await http(server, 'GET', `/api/conversations/0:${peer}`, undefined, tm);
    expect(one.body.data).toMatchObject({ conversationId: `0:${peer}`, unreadCount: 1, name: 'Peer' });
    expect((await list(tp)).find((c: any) => c.targetId === me).peerReadSeq).toBe(peerView.peerReadSeq);
  });

  it('group: notices and messages from before joining are not unread; a mention after a delete still counts', async () => {
    const [owner, bob, carol] = [id('o'), id('b'), id('c')];
    const to = await tokenFor(server, owner, 'Owner');
    const tb = await tokenFor(server, bob, 'Bob');
    await tokenFor(server, carol, 'Carol');
    const g = (await http(server, 'POST', '/api/groups', { name: 'G', userIdList: [bob] }, to)).body.data;
    const os = await connect(server, to);
    await send(os, g.groupId, 'before carol', 1);
    // Adding Carol stores a notice (msgType 1001) in the group: no one's unread.
    await http(server, 'POST', `/api/groups/${g.groupId}/members`, { userIdList: [carol] }, to);
    await send(os, g.groupId, 'after carol', 1);
    const bobConv = (await list(tb)).find((c: any) => c.targetId === g.groupId);
    expect(bobConv.unreadCount).toBe(2);
    const tc = await tokenFor(server, carol, 'Carol');
    expect((await list(tc)).find((c: any) => c.targetId === g.groupId).unreadCount).toBe(1);

    await post(tb, 'delete', { chatType: 1, targetId: g.groupId });
    expect(await total(tb)).toBe(0);
    const r = await call(os, 'chat:send', { clientMsgId: id('c'), chatType: 1, to: g.groupId, content: '@bob look', mentions: [bob] });
    expect(r.code).toBe(0);
    expect((await list(tb)).find((c: any) => c.targetId === g.groupId)).toMatchObject({ unreadCount: 1, mentionedMe: true });
    expect(await total(tb)).toBe(1);
  });

  it('read, pin, mute and delete on one device reach the user’s other devices as conversation:changed', async () => {
    const me = id('me');
    const peer = id('peer');
    const tm = await tokenFor(server, me, 'Me');
    const tp = await tokenFor(server, peer, 'Peer');
    const ps = await connect(server, tp);
    const deviceA = await connect(server, tm);
    const deviceB = await connect(server, tm);
    const pushes = collect<any>(deviceB, 'conversation:changed');
    const peerPushes = collect<any>(ps, 'conversation:changed');
    const got = collect<any>(deviceA, 'imchat');
    await send(ps, me, 'one');
    const two = await send(ps, me, 'two');
    await until(() => got.length === 2);
    // New messages are never pushed as conversation changes (clients derive them).
    await sleep(100);
    expect(pushes).toHaveLength(0);

    // A read receipt over the socket on device A.
    expect((await call(deviceA, 'receipt', { messageId: got[0].messageId, status: 2 })).code).toBe(0);
    await until(() => pushes.length === 1, 5000, 'the push after a read receipt');
    expect(pushes[0]).toMatchObject({ conversationId: `0:${peer}`, readSeq: got[0].seq, unreadCount: 1, lastSeq: two.seq });
    // Several in one packet.
    expect((await call(deviceA, 'receipts', { messageIds: [got[1].messageId], status: 2 })).code).toBe(0);
    await until(() => pushes.length === 2, 5000, 'the push after receipts');
    expect(pushes[1]).toMatchObject({ readSeq: two.seq, unreadCount: 0 });
    // Delivery receipts move nothing: no push.
    await call(deviceA, 'receipts', { messageIds: [got[1].messageId], status: 1 });

    await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: peer }, tm);
    await until(() => pushes.length === 3);
    await post(tm, 'pin', { chatType: 0, targetId: peer, pinned: true });
    await until(() => pushes.length === 4);
    expect(pushes[3]).toMatchObject({ pinned: true });
    await post(tm, 'mute', { chatType: 0, targetId: peer, muted: true });
    await until(() => pushes.length === 5);
    expect(pushes[4]).toMatchObject({ pinned: true, muted: true });
    await post(tm, 'delete', { chatType: 0, targetId: peer });
    await until(() => pushes.length === 6);
    expect(pushes[5]).toMatchObject({ conversationId: `0:${peer}`, deleted: true, unreadCount: 0 });
    // Only the user's own devices: the peer hears nothing of it.
    await sleep(100);
    expect(peerPushes).toHaveLength(0);
    expect(pushes).toHaveLength(6);
  });

  it('a pin before the first message is kept, off the list until a message comes', async () => {
    const me = id('me');
    const peer = id('peer');
    const tm = await tokenFor(server, me, 'Me');
    const tp = await tokenFor(server, peer, 'Peer');
    const r = await post(tm, 'pin', { chatType: 0, targetId: peer, pinned: true });
    expect(r.body.data).toMatchObject({ conversationId: `0:${peer}`, name: 'Peer', pinned: true, muted: false, deleted: true, lastMessage: null, lastSeq: 0 });
    expect(await list(tm)).toEqual([]);
    await send(await connect(server, tp), me, 'hi');
    expect((await list(tm))[0]).toMatchObject({ targetId: peer, pinned: true, unreadCount: 1 });
  });

  it('refuses bad input, strangers’ groups and unknown users with clear errors', async () => {
    const me = id('me');
    const tm = await tokenFor(server, me, 'Me');
    const owner = id('o');
    const to = await tokenFor(server, owner, 'Owner');
    const g = (await http(server, 'POST', '/api/groups', { name: 'Closed' }, to)).body.data;
    const bad: Array<[string, unknown, number]> = [
      ['pin', { chatType: 2, targetId: 'x', pinned: true }, 40000],
      ['pin', { chatType: 0, targetId: 'x', pinned: 'yes' }, 40000],
      ['pin', { chatType: 0, targetId: 'has space', pinned: true }, 40000],
      ['mute', { chatType: 0, targetId: 'x' }, 40000],
      ['delete', { chatType: 0 }, 40000],
      ['delete', {}, 40000],
      ['pin', { chatType: 0, targetId: 'nobody-here', pinned: true }, 40400],
      ['mute', { chatType: 1, targetId: g.groupId, muted: true }, 40300],
      ['delete', { chatType: 1, targetId: 'no-such-group' }, 40400],
    ];
    for (const [what, body, code] of bad) {
      const r = await post(tm, what, body);
      expect([what, body, r.body.code]).toEqual([what, body, code]);
      expect(r.status).toBe(Math.floor(code / 100));
      expect(r.body.message.length).toBeGreaterThan(5);
    }
    expect((await http(server, 'GET', '/api/conversations/2:x', undefined, tm)).body.code).toBe(40000);
    expect((await http(server, 'GET', `/api/conversations/1:${g.groupId}`, undefined, tm)).body.code).toBe(40300);
    expect((await http(server, 'GET', '/api/conversations/0:nobody-here', undefined, tm)).body.code).toBe(40400);
    expect((await http(server, 'GET', '/api/conversations?limit=5&cursor=bm9wZQ', undefined, tm)).body.code).toBe(40000);
    // No token: 401 before anything else.
    expect((await http(server, 'GET', '/api/conversations/unread-count')).status).toBe(401);
    expect((await http(server, 'POST', '/api/conversations/pin', { chatType: 0, targetId: 'x', pinned: true })).status).toBe(401);
  });
});
