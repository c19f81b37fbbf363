/**
 * Group read receipts on the reference server, on SQLite and on PostgreSQL: counts and member
 * lists come from the members' read positions (read receipts, mark-as-read, one's own sends), the
 * sender and members who joined after a message are never counted, removed members drop out,
 * and only members may ask, about messages of that group they can see.
 */
import { bothStorages, call, closeClients, connect, http, startServer, type TestServer, tokenFor } from './helpers';

jest.setTimeout(60_000);

const engines = bothStorages();

describe.each(engines)('group read receipts on $name', ({ name, url }) => {
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

  /** A group of the owner and `others`, with a token per user. */
  async function group(others: string[]) {
    const owner = id('owner');
    const tokens: Record<string, string> = { [owner]: await tokenFor(server, owner, `Name of ${owner}`) };
    for (const u of others) tokens[u] = await tokenFor(server, u, `Name of ${u}`);
    const g = (await http(server, 'POST', '/api/groups', { name: 'Receipts', userIdList: others }, tokens[owner])).body.data;
    return { owner, tokens, groupId: g.id as string };
  }

  async function send(token: string, groupId: string, content: string) {
    const socket = await connect(server, token);
    const r = await call(socket, 'chat:send', { clientMsgId: id('c'), chatType: 1, to: groupId, content });
    expect(r.code).toBe(0);
    socket.close();
    return r.data as { messageId: string; seq: number };
  }

  const receipts = (token: string, groupId: string, messageIds: unknown) => http(server, 'POST', `/api/groups/${groupId}/read-receipts`, { messageIds }, token);
  const counts = async (token: string, groupId: string, ids: string[]) => {
    const r = await receipts(token, groupId, ids);
    expect(r.body.code).toBe(0);
    return (r.body.data as Array<{ messageId: string; readCount: number; unreadCount: number }>).map((x) => [x.readCount, x.unreadCount]);
  };
  const readTo = async (token: string, groupId: string, seq?: number) => {
    const r = await http(server, 'POST', '/api/conversations/read', { chatType: 1, targetId: groupId, ...(seq === undefined ? {} : { seq }) }, token);
    expect(r.body.code).toBe(0);
  };
  const membersPage = (token: string, groupId: string, messageId: string, query: string) =>
    http(server, 'GET', `/api/groups/${groupId}/messages/${messageId}/read-members?${query}`, undefined, token);

  it('counts move as members read (mark-as-read, read receipts); the sender is never counted', async () => {
    const [a, b, c] = [id('a'), id('b'), id('c')];
    const { owner, tokens, groupId } = await group([a, b, c]);
    const m1 = await send(tokens[owner]!, groupId, 'one');
    const m2 = await send(tokens[owner]!, groupId, 'two');
    const m3 = await send(tokens[owner]!, groupId, 'three');
    expect(await counts(tokens[a]!, groupId, [m1.messageId, m2.messageId, m3.messageId])).toEqual([[0, 3], [0, 3], [0, 3]]);

    // A reads up to m2: a position covers every message up to it.
    await readTo(tokens[a]!, groupId, m2.seq);
    expect(await counts(tokens[owner]!, groupId, [m1.messageId, m2.messageId, m3.messageId])).toEqual([[1, 2], [1, 2], [0, 3]]);
    // B sends a read receipt for m3.
    const bob = await connect(server, tokens[b]!);
    expect((await call(bob, 'receipt', { messageId: m3.messageId, status: 2 })).code).toBe(0);
    expect(await counts(tokens[owner]!, groupId, [m1.messageId, m2.messageId, m3.messageId])).toEqual([[2, 1], [2, 1], [1, 2]]);

    // A member's message: A's send moved A's own position, which does not count for it; the
    // owner (who has not read it) does count, as unread.
    const mine = await send(tokens[a]!, groupId, 'from a');
    expect(await counts(tokens[owner]!, groupId, [mine.messageId])).toEqual([[0, 3]]);
    // Sending also read what came before: A counts for m3 now.
    expect(await counts(tokens[owner]!, groupId, [m3.messageId])).toEqual([[2, 1]]);
    await readTo(tokens[c]!, groupId);
    await readTo(tokens[owner]!, groupId);
    expect(await counts(tokens[c]!, groupId, [mine.messageId, m1.messageId])).toEqual([[2, 1], [3, 0]]);

    // The answer: each id once, in the order asked.
    const r = await receipts(tokens[b]!, groupId, [m2.messageId, m1.messageId, m2.messageId]);
    expect(r.body.data).toEqual([
      { messageId: m2.messageId, readCount: 3, unreadCount: 0 },
      { messageId: m1.messageId, readCount: 3, unreadCount: 0 },
    ]);
  });

  it('members who joined after a message never had it; removed members drop out', async () => {
    const [a, b, late] = [id('a'), id('b'), id('late')];
    const { owner, tokens, groupId } = await group([a, b]);
    tokens[late] = await tokenFor(server, late);
    const before = await send(tokens[owner]!, groupId, 'before');
    expect((await http(server, 'POST', `/api/groups/${groupId}/members`, { userIdList: [late] }, tokens[owner])).body.code).toBe(0);
    await readTo(tokens[late]!, groupId);
    // The newcomer has read everything, but `before` was never theirs: not read, not unread.
    expect(await counts(tokens[a]!, groupId, [before.messageId])).toEqual([[0, 2]]);
    expect((await membersPage(tokens[a]!, groupId, before.messageId, 'filter=read')).body.data.items).toEqual([]);
    expect((await membersPage(tokens[a]!, groupId, before.messageId, 'filter=unread')).body.data.items.map((m: any) => m.userId).sort()).toEqual([a, b].sort());
    // Nor can they ask about it: they cannot see it.
    expect((await receipts(tokens[late]!, groupId, [before.messageId])).body.code).toBe(40400);

    const after = await send(tokens[owner]!, groupId, 'after');
    await readTo(tokens[a]!, groupId);
    expect(await counts(tokens[owner]!, groupId, [before.messageId, after.messageId])).toEqual([[1, 1], [1, 2]]);
    // The owner removes A; B leaves: neither counts any more, read or not.
    expect((await http(server, 'DELETE', `/api/groups/${groupId}/members/${a}`, undefined, tokens[owner])).body.code).toBe(0);
    expect(await counts(tokens[owner]!, groupId, [before.messageId, after.messageId])).toEqual([[0, 1], [0, 2]]);
    expect((await http(server, 'POST', `/api/groups/${groupId}/leave`, undefined, tokens[b])).body.code).toBe(0);
    expect(await counts(tokens[owner]!, groupId, [before.messageId, after.messageId])).toEqual([[0, 0], [0, 1]]);
    // The newcomer reads on: they count for what came after they joined.
    await readTo(tokens[late]!, groupId);
    expect(await counts(tokens[owner]!, groupId, [before.messageId, after.messageId])).toEqual([[0, 0], [1, 0]]);
    // A removed member is no longer a member: 40300.
    expect((await receipts(tokens[a]!, groupId, [after.messageId])).body.code).toBe(40300);
  });

  it('a notice reads nothing: a member with unread messages who adds someone still has them unread, and is not counted as a reader', async () => {
    const [c, d] = [id('c'), id('d')];
    const { owner, tokens, groupId } = await group([c]);
    tokens[d] = await tokenFor(server, d);
    const sent = [await send(tokens[owner]!, groupId, 'one'), await send(tokens[owner]!, groupId, 'two'), await send(tokens[owner]!, groupId, 'three')];
    const conv = async () => (await http(server, 'GET', `/api/conversations/1:${groupId}`, undefined, tokens[c])).body.data;
    expect(await conv()).toMatchObject({ readSeq: 0, unreadCount: 3, lastSeq: 3 });
    // C adds D: the notice (from C) is the group's newest message, yet C has read none of the three.
    expect((await http(server, 'POST', `/api/groups/${groupId}/members`, { userIdList: [d] }, tokens[c])).body.code).toBe(0);
    expect(await conv()).toMatchObject({ readSeq: 0, unreadCount: 3, lastSeq: 4, lastMessage: { msgType: 1001, from: c } });
    expect((await http(server, 'GET', '/api/conversations/unread-count', undefined, tokens[c])).body.data).toEqual({ totalUnreadCount: 3 });
    // Of those who had the messages (C; D joined after them), nobody has read them.
    expect(await counts(tokens[owner]!, groupId, sent.map((m) => m.messageId))).toEqual([[0, 1], [0, 1], [0, 1]]);
    expect((await membersPage(tokens[owner]!, groupId, sent[2]!.messageId, 'filter=unread')).body.data.items.map((m: any) => m.userId)).toEqual([c]);
  });

  it('read and unread members, a page at a time with cursors, as group members with names', async () => {
    const users = ['m1', 'm2', 'm3', 'm4', 'm5'].map((p) => id(p));
    const { owner, tokens, groupId } = await group(users);
    const m = await send(tokens[owner]!, groupId, 'who reads this?');
    for (const u of [users[0]!, users[2]!, users[4]!]) await readTo(tokens[u]!, groupId);

    const p1 = await membersPage(tokens[users[1]!]!, groupId, m.messageId, 'filter=read&limit=2');
    expect(p1.body.code).toBe(0);
    expect(p1.body.data.items.map((x: any) => x.userId)).toEqual([users[0], users[2]]);
    expect(p1.body.data.items[0]).toMatchObject({ userId: users[0], userName: `Name of ${users[0]}`, userImg: '', role: 'member', joinedAt: expect.any(Number) });
    expect(p1.body.data.nextCursor).toEqual(expect.any(String));
    const p2 = await membersPage(tokens[users[1]!]!, groupId, m.messageId, `filter=read&limit=2&cursor=${encodeURIComponent(p1.body.data.nextCursor)}`);
    expect(p2.body.data).toEqual({ items: [expect.objectContaining({ userId: users[4] })], nextCursor: null });
    // Unread: the others, never the sender; the default page holds them all.
    const unread = await membersPage(tokens[owner]!, groupId, m.messageId, 'filter=unread');
    expect(unread.body.data).toEqual({ items: [expect.objectContaining({ userId: users[1] }), expect.objectContaining({ userId: users[3] })], nextCursor: null });
    // A member's message: the owner is a member like any other.
    const reply = await send(tokens[users[0]!]!, groupId, 'I did');
    const who = await membersPage(tokens[owner]!, groupId, reply.messageId, 'filter=unread&limit=500');
    expect(who.body.data.items.map((x: any) => x.userId)).toEqual([...users.slice(1), owner].sort());
    expect(who.body.data.items.find((x: any) => x.userId === owner).role).toBe('owner');
  });

  it('members only; a message not of the group, not visible, or an event row is not found; caps and bad input', async () => {
    const [a, stranger] = [id('a'), id('stranger')];
    const { owner, tokens, groupId } = await group([a]);
    const tStranger = await tokenFor(server, stranger);
    const m = await send(tokens[owner]!, groupId, 'hello');
    const other = await group([a]);
    const foreign = await send(other.tokens[other.owner]!, other.groupId, 'elsewhere');
    const ownerSocket = await connect(server, tokens[owner]!);
    const dm = await call(ownerSocket, 'chat:send', { clientMsgId: id('c'), chatType: 0, to: a, content: 'private' });
    const revoked = await send(tokens[owner]!, groupId, 'take back');
    const event = (await call(ownerSocket, 'chat:revoke', { messageId: revoked.messageId })).data.event;

    // Not a member: 40300 on both routes, whatever the message; no group: 40400.
    expect((await receipts(tStranger, groupId, [m.messageId])).body.code).toBe(40300);
    expect((await membersPage(tStranger, groupId, m.messageId, 'filter=read')).body.code).toBe(40300);
    expect((await receipts(tStranger, 'no-such-group', [m.messageId])).body.code).toBe(40400);
    // Another group's message, a private one, an unknown id, an event row: 40400, naming it.
    for (const messageId of [foreign.messageId, dm.data.messageId, 'no-such-message', event.messageId]) {
      const r = await receipts(tokens[a]!, groupId, [m.messageId, messageId]);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ code: 40400, message: expect.stringContaining(messageId) });
      expect((await membersPage(tokens[a]!, groupId, messageId, 'filter=unread')).body.code).toBe(40400);
    }
    // A revoked message is still a message of the group (its tombstone is in history): counted.
    expect(await counts(tokens[a]!, groupId, [revoked.messageId])).toEqual([[0, 1]]);

    // Caps and shapes: 1-100 ids of 1-64 characters; filter read|unread; limit 1-500; our cursors only.
    expect((await receipts(tokens[a]!, groupId, [])).body.code).toBe(40000);
    expect((await receipts(tokens[a]!, groupId, Array.from({ length: 101 }, (_, i) => `m${i}`))).body.code).toBe(40000);
    expect((await receipts(tokens[a]!, groupId, Array.from({ length: 100 }, (_, i) => `m${i}`))).body.code).toBe(40400);
    expect((await receipts(tokens[a]!, groupId, m.messageId)).body.code).toBe(40000);
    expect((await receipts(tokens[a]!, groupId, ['x'.repeat(65)])).body.code).toBe(40000);
    expect((await receipts(tokens[a]!, groupId, [7])).body.code).toBe(40000);
    expect((await http(server, 'POST', `/api/groups/${groupId}/read-receipts`, {}, tokens[a])).body.code).toBe(40000);
    expect((await http(server, 'POST', `/api/groups/bad%20id/read-receipts`, { messageIds: [m.messageId] }, tokens[a])).body.code).toBe(40000);
    for (const query of ['', 'filter=all', 'filter=read&limit=0', 'filter=read&limit=501', 'filter=read&limit=x', 'filter=read&cursor=%21%21', `filter=read&cursor=${Buffer.from('bad id').toString('base64url')}`]) {
      const r = await membersPage(tokens[a]!, groupId, m.messageId, query);
      expect({ query, code: r.body.code }).toEqual({ query, code: 40000 });
    }
    // The token comes first.
    expect((await receipts('', groupId, [m.messageId])).body.code).toBe(40100);
    expect((await membersPage('', groupId, m.messageId, 'filter=read')).body.code).toBe(40100);
    // A dismissed group is gone.
    expect((await http(server, 'DELETE', `/api/groups/${groupId}`, undefined, tokens[owner])).body.code).toBe(0);
    expect((await receipts(tokens[a]!, groupId, [m.messageId])).body.code).toBe(40400);
  });
});
