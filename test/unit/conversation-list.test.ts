/**
 * The conversation list on the device, derived from events (a scripted server): what a message,
 * a notice, an own message, a push and a reconnect do to it, and which need the server's copy.
 * The same behaviour against the real server on every adapter is in test/contract/suite.ts.
 */
import { ImClient } from '../../src/client';
import type { ImConversation, ImMessage } from '../../src/core/protocol';
import { FAKE_TOKEN, MemoryAdapter, flush, ok } from '../helpers/memory-adapter';

const conv = (targetId: string, extra: Partial<ImConversation> = {}): ImConversation => ({
  conversationId: `${extra.chatType ?? 0}:${targetId}`, chatType: 0, targetId, name: targetId, lastMessage: null, lastSeq: 1, readSeq: 0,
  peerReadSeq: 0, unreadCount: 1, mentionedMe: false, updatedAt: 1, pinned: false, muted: false, ...extra,
});

function setup() {
  const adapter = new MemoryAdapter();
  let inboxSeq = 0;
  /** What GET /api/conversations answers, and the one-conversation route. */
  const server = { list: [] as ImConversation[], one: new Map<string, ImConversation>(), missed: [] as Array<Partial<ImMessage>> };
  const message = (m: Partial<ImMessage>): ImMessage =>
    ({ messageId: `m${inboxSeq + 1}`, clientMsgId: 'c', fromName: 'Peer', content: 'hi', msgType: 0, timestamp: 100 + inboxSeq, data: null, from: 'peer', to: 'me', chatType: 0, seq: 2, ...m, inboxSeq: ++inboxSeq }) as ImMessage;
  adapter.configure = (s) => {
    // Catch-up: what was sent while the device was away.
    s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: server.missed.splice(0).map(message), hasMore: false, latestInboxSeq: inboxSeq }));
  };
  adapter.respond = (req) => {
    const path = new URL(req.url).pathname;
    if (path === '/api/conversations') return { status: 200, headers: {}, data: ok({ items: server.list, nextCursor: null }) };
    const one = server.one.get(decodeURIComponent(path.replace('/api/conversations/', '')));
    if (one) return { status: 200, headers: {}, data: ok(one) };
    return { status: 404, headers: {}, data: { code: 40400, message: 'not on your list' } };
  };
  const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', apiServer: 'http://127.0.0.1:2', adapter, logLevel: 'silent' });
  const events: string[] = [];
  const changes: ImConversation[] = [];
  const totals: number[] = [];
  client.on('imchat', (m) => events.push(`imchat ${m.messageId}`));
  client.on('conversationChanged', (c) => {
    events.push(`changed ${c.conversationId}`);
    changes.push(c);
  });
  client.on('totalUnreadChanged', (n) => totals.push(n));
  const deliver = (m: Partial<ImMessage>) => adapter.socket.push('imchat', message(m));
  const requests = () => adapter.requests.map((r) => `${r.method} ${decodeURIComponent(new URL(r.url).pathname)}`);
  return { adapter, client, server, events, changes, totals, deliver, requests };
}

async function connected(t: ReturnType<typeof setup>) {
  const ready = new Promise((r) => t.client.once('ready', r));
  await t.client.connect({ token: FAKE_TOKEN });
  await ready;
  await flush();
}

const clients: ImClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

describe('the conversation list kept current from events', () => {
  it('a message updates its conversation at once, after its imchat: last message, unread, mention; a notice only renames', async () => {
    const t = setup();
    clients.push(t.client);
    t.server.list = [conv('g1', { chatType: 1, lastSeq: 4, unreadCount: 2 }), conv('peer', { muted: true, unreadCount: 3 })];
    await connected(t);
    await t.client.getConversationList();
    expect(t.totals).toEqual([2]);
    t.events.length = 0;

    t.deliver({ chatType: 1, to: 'g1', seq: 5, mentions: ['me'] });
    expect(t.events).toEqual(['imchat m1', 'changed 1:g1']);
    expect(t.changes.at(-1)).toMatchObject({ unreadCount: 3, mentionedMe: true, lastSeq: 5, updatedAt: 100, lastMessage: { messageId: 'm1' } });
    expect(t.totals).toEqual([2, 3]);
    // A message already counted (seq not past lastSeq) changes nothing.
    t.deliver({ chatType: 1, to: 'g1', seq: 5 });
    expect(t.changes).toHaveLength(1);

    // A group notice renaming the group: not unread, the name follows.
    t.deliver({ chatType: 1, to: 'g1', seq: 6, msgType: 1001, data: { action: 'info_updated', changes: { name: 'New name' } } });
    expect(t.changes.at(-1)).toMatchObject({ name: 'New name', unreadCount: 3, lastSeq: 6 });
    // The muted one counts in its own unreadCount, never in the total.
    t.deliver({ from: 'peer', to: 'me', seq: 2 });
    expect(t.changes.at(-1)).toMatchObject({ conversationId: '0:peer', unreadCount: 4 });
    expect(t.totals).toEqual([2, 3]);
    // My own message from another device: read up to it.
    t.deliver({ chatType: 1, from: 'me', to: 'g1', seq: 7 });
    expect(t.changes.at(-1)).toMatchObject({ unreadCount: 0, readSeq: 7, mentionedMe: false });
    expect(t.totals).toEqual([2, 3, 0]);
    const cached = await t.client.getCachedConversationList();
    expect(cached.map((c) => [c.conversationId, c.unreadCount])).toEqual([['1:g1', 0], ['0:peer', 4]]);
    expect(t.requests().filter((r) => r.startsWith('GET /api/conversations/'))).toEqual([]);
  });

  it('a conversation the list lacks is fetched once it is caught up; before that the refresh at ready brings it', async () => {
    const t = setup();
    clients.push(t.client);
    t.server.list = [conv('old')];
    await connected(t);
    await t.client.getConversationList();
    t.server.one.set('0:new', conv('new', { lastSeq: 3, unreadCount: 1, name: 'Newcomer' }));
    t.deliver({ from: 'new', seq: 3 });
    await flush();
    expect(t.requests()).toContain('GET /api/conversations/0:new');
    // The fetched copy already has the message that made it fetch: counted once.
    expect((await t.client.getCachedConversationList()).find((c) => c.targetId === 'new')).toMatchObject({ name: 'Newcomer', unreadCount: 1 });

    // While catching up (after a drop, before ready) nothing is fetched one by one.
    t.adapter.socket.drop();
    await flush();
    const before = t.requests().length;
    t.server.missed.push({ from: 'later', seq: 1 });
    t.server.list = [conv('later', { updatedAt: 5 }), conv('new', { lastSeq: 3 }), conv('old')];
    t.adapter.socket.accept();
    await flush();
    await flush();
    expect(t.requests().slice(before)).toEqual(['GET /api/conversations']);
    expect((await t.client.getCachedConversationList()).map((c) => c.targetId)).toEqual(['later', 'new', 'old']);
    expect(t.changes.some((c) => c.targetId === 'later')).toBe(true);
  });

  it('a push older than a message the device has is asked again; deleted takes it off; another user never sees this list', async () => {
    const t = setup();
    clients.push(t.client);
    t.server.list = [conv('peer', { lastSeq: 1 })];
    await connected(t);
    await t.client.getConversationList();
    t.deliver({ seq: 2 });
    expect((await t.client.getCachedConversationList())[0]).toMatchObject({ lastSeq: 2, unreadCount: 2 });
    // Stored per user: another client on this device reads it with a token of the same user only.
    await flush();
    const jwt = (sub: string) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub, app: 'app' })).toString('base64url')}.c2ln`;
    for (const [sub, expected] of [['me', 1], ['someone', 0]] as const) {
      const other = new ImClient({ apiServer: 'http://127.0.0.1:2', adapter: t.adapter, logLevel: 'silent' });
      clients.push(other);
      await other.renewToken(jwt(sub));
      expect(await other.getCachedConversationList()).toHaveLength(expected);
    }
    // A read computed before message 2 arrives after it: the device asks for the conversation.
    t.server.one.set('0:peer', conv('peer', { lastSeq: 2, readSeq: 1, unreadCount: 1 }));
    t.adapter.socket.push('conversation:changed', conv('peer', { lastSeq: 1, readSeq: 1, unreadCount: 0 }));
    await flush();
    expect((await t.client.getCachedConversationList())[0]).toMatchObject({ lastSeq: 2, readSeq: 1, unreadCount: 1 });
    t.adapter.socket.push('conversation:changed', conv('peer', { lastSeq: 2, pinned: true, deleted: true, unreadCount: 0 }));
    expect(t.changes.at(-1)).toMatchObject({ conversationId: '0:peer', deleted: true });
    expect(await t.client.getCachedConversationList()).toEqual([]);
    expect(t.totals.at(-1)).toBe(0);

  });

  it('a group I leave, am removed from or that is dismissed leaves the list at once, and the total with it', async () => {
    const t = setup();
    clients.push(t.client);
    const group = (id: string, unreadCount: number) => conv(id, { chatType: 1, unreadCount });
    t.server.list = [group('g1', 2), group('g2', 3), group('g3', 4), group('g4', 5), conv('peer', { unreadCount: 1 })];
    const http = t.adapter.respond;
    t.adapter.respond = (req) => {
      const path = new URL(req.url).pathname;
      const left = /^\/api\/groups\/(g\d)\/(leave|dismiss)$/.exec(path);
      return left ? { status: 200, headers: {}, data: ok({ groupId: left[1] }) } : http(req);
    };
    await connected(t);
    await t.client.getConversationList();
    expect(t.totals).toEqual([15]);
    const ids = async () => (await t.client.getCachedConversationList()).map((c) => c.conversationId).sort();
    const change = (groupId: string, action: string, userIds: string[]) => t.adapter.socket.push('group:changed', { groupId, action, userIds, by: 'owner', timestamp: 1 });

    // Someone else leaving or removed: the group stays.
    change('g1', 'member_left', ['other']);
    change('g1', 'member_removed', ['other']);
    await flush();
    expect(await ids()).toEqual(['0:peer', '1:g1', '1:g2', '1:g3', '1:g4']);
    expect(t.changes).toEqual([]);

    change('g1', 'member_removed', ['other', 'me']);
    expect(t.changes.at(-1)).toMatchObject({ conversationId: '1:g1', deleted: true, unreadCount: 0 });
    expect(t.totals).toEqual([15, 13]);
    change('g2', 'dismissed', ['owner', 'me']);
    expect(t.changes.at(-1)).toMatchObject({ conversationId: '1:g2', deleted: true });
    expect(t.totals).toEqual([15, 13, 10]);
    // My own leave and dismissal, once the server answered (whether or not the event follows).
    await t.client.leaveGroup({ groupId: 'g3' });
    expect(t.changes.at(-1)).toMatchObject({ conversationId: '1:g3', deleted: true });
    await t.client.dismissGroup({ groupId: 'g4' });
    expect(t.changes.at(-1)).toMatchObject({ conversationId: '1:g4', deleted: true });
    expect(t.totals).toEqual([15, 13, 10, 6, 1]);
    expect(await ids()).toEqual(['0:peer']);
    // The event of my own leave after the answer: told once only.
    const told = t.changes.length;
    change('g3', 'member_left', ['me']);
    await flush();
    expect(t.changes).toHaveLength(told);
  });
});
