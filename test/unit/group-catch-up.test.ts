/**
 * Group catch-up in the core (read diffusion): group messages are not in the user's inbox; each
 * group is read from its own sequence after the device's position for it (or the user's joined
 * seq for a group new to a device that has synced before). Against a scripted fake server.
 */
import { ImClient } from '../../src/client';
import type { ImMessage } from '../../src/core/protocol';
import { FakeSocket, MemoryAdapter, flush, ok } from '../helpers/memory-adapter';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const TOKEN = `${b64({})}.${b64({ sub: 'me', app: 'app' })}.x`;

interface FakeGroup {
  messages: ImMessage[];
  joinedSeq: number;
}

const groupMessage = (groupId: string, seq: number, from = 'peer'): ImMessage => ({
  messageId: `${groupId}-${seq}`, clientMsgId: `${groupId}-c${seq}`, from, fromName: from, to: groupId, content: `${groupId} #${seq}`,
  chatType: 1, msgType: 0, timestamp: 1, data: null, seq,
});

/** A server with an empty inbox and the given groups. */
function serve(s: FakeSocket, groups: Map<string, FakeGroup>, log: Array<{ groupId: string; afterSeq?: number }>) {
  s.session.latestInboxSeq = 0;
  (s.session as { groupSync?: boolean }).groupSync = true;
  s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: [], hasMore: false, latestInboxSeq: 0 }));
  s.handlers.heartbeat = (_p, ack) => ack(ok({}));
  s.handlers['chat:groups'] = (_p, ack) =>
    ack(ok({ groups: [...groups].map(([groupId, g]) => ({ groupId, lastSeq: g.messages.length, joinedSeq: g.joinedSeq })), hasMore: false }));
  s.handlers['chat:group-sync'] = (p, ack) => {
    log.push({ groupId: p.groupId, afterSeq: p.afterSeq });
    const g = groups.get(p.groupId);
    if (!g) return ack({ code: 40300, message: 'forbidden: not a member' });
    const after = p.afterSeq ?? g.joinedSeq; // no clamp here: the client must not ask from before the join
    const rest = g.messages.filter((m) => m.seq > after);
    ack(ok({ messages: rest.slice(0, 2), hasMore: rest.length > 2, lastSeq: g.messages.length, joinedSeq: g.joinedSeq }));
  };
  s.handlers['chat:send'] = (p, ack) => {
    const g = groups.get(p.to)!;
    const m = { ...groupMessage(p.to, g.messages.length + 1, 'me'), clientMsgId: p.clientMsgId, content: p.content };
    g.messages.push(m);
    ack(ok(m));
  };
}

function setup(groups: Map<string, FakeGroup>) {
  const adapter = new MemoryAdapter();
  const syncs: Array<{ groupId: string; afterSeq?: number }> = [];
  adapter.configure = (s) => serve(s, groups, syncs);
  const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' });
  const received: string[] = [];
  client.on('imchat', (m) => received.push(m.content));
  return { adapter, client, syncs, received };
}

const clients: ImClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

async function ready(client: ImClient, adapter: MemoryAdapter): Promise<void> {
  clients.push(client);
  const done = new Promise((r) => client.once('ready', r));
  await client.connect({ token: TOKEN });
  await done;
  await flush();
  void adapter;
}

it('catches up each group after a reconnect: what was missed once, in order, paged, and nothing twice', async () => {
  const groups = new Map<string, FakeGroup>([
    ['g1', { messages: [groupMessage('g1', 1)], joinedSeq: 0 }],
    ['g2', { messages: [], joinedSeq: 0 }],
  ]);
  const { adapter, client, received } = setup(groups);
  await ready(client, adapter);
  expect(received).toEqual([]); // a fresh device starts at the present
  adapter.socket.push('imchat', groupMessage('g1', 2));
  expect(received).toEqual(['g1 #2']);

  adapter.socket.drop();
  for (let seq = 3; seq <= 7; seq++) groups.get('g1')!.messages.push(groupMessage('g1', seq));
  groups.get('g2')!.messages.push(groupMessage('g2', 1));
  const back = new Promise((r) => client.once('ready', r));
  adapter.socket.accept();
  await back;
  // In order per group (groups are caught up side by side).
  expect(received.filter((c) => c.startsWith('g1'))).toEqual(['g1 #2', 'g1 #3', 'g1 #4', 'g1 #5', 'g1 #6', 'g1 #7']);
  expect(received.filter((c) => c.startsWith('g2'))).toEqual(['g2 #1']);
  // The same messages again (a late live copy, a repeated sync) are not delivered again.
  adapter.socket.push('imchat', groupMessage('g1', 5));
  expect(received).toHaveLength(7);
});

it('a live message past a gap pulls the group from its position', async () => {
  const groups = new Map<string, FakeGroup>([['g1', { messages: [], joinedSeq: 0 }]]);
  const { adapter, client, syncs, received } = setup(groups);
  await ready(client, adapter);
  groups.get('g1')!.messages.push(groupMessage('g1', 1), groupMessage('g1', 2), groupMessage('g1', 3));
  adapter.socket.push('imchat', groupMessage('g1', 3));
  await flush();
  await flush();
  // Paged (2 per page here), each page from the position reached (the buffered #3 counts).
  expect(syncs).toEqual([{ groupId: 'g1', afterSeq: 0 }, { groupId: 'g1', afterSeq: 3 }]);
  expect(received).toEqual(['g1 #1', 'g1 #2', 'g1 #3']);
});

it('our own group send moves the group position without an imchat, also in a group new to the device', async () => {
  const groups = new Map<string, FakeGroup>([['g1', { messages: [], joinedSeq: 0 }]]);
  const { adapter, client, received } = setup(groups);
  await ready(client, adapter);
  await client.sendGroupMessage({ groupId: 'g1', content: 'mine' });
  adapter.socket.push('imchat', groupMessage('g1', 2));
  expect(received).toEqual(['g1 #2']);
  // A group created after the catch-up: the first send's ack brings it in; nothing is echoed.
  groups.set('g9', { messages: [], joinedSeq: 0 });
  await client.sendGroupMessage({ groupId: 'g9', content: 'first in g9' });
  await flush();
  await flush();
  adapter.socket.push('imchat', groupMessage('g9', 2));
  await flush();
  expect(received).toEqual(['g1 #2', 'g9 #2']);
});

it('a group new to a device that has synced before starts where the user joined; a fresh device starts at the present', async () => {
  const groups = new Map<string, FakeGroup>([['g1', { messages: [groupMessage('g1', 1), groupMessage('g1', 2), groupMessage('g1', 3)], joinedSeq: 1 }]]);
  const first = setup(groups);
  await ready(first.client, first.adapter);
  expect(first.received).toEqual([]);
  first.client.destroy();

  // The same device (its stored positions) later: g5 was joined while the app was closed.
  groups.set('g5', { messages: [groupMessage('g5', 1), groupMessage('g5', 2)], joinedSeq: 1 });
  groups.get('g1')!.messages.push(groupMessage('g1', 4));
  const again = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter: first.adapter, logLevel: 'silent' });
  const got: string[] = [];
  again.on('imchat', (m) => got.push(m.content));
  await ready(again, first.adapter);
  expect(got).toEqual(['g1 #4', 'g5 #2']);
});

it('a group the user has left is dropped: no more catch-up for it, and ready still comes', async () => {
  const groups = new Map<string, FakeGroup>([['g1', { messages: [], joinedSeq: 0 }]]);
  const { adapter, client, syncs } = setup(groups);
  await ready(client, adapter);
  adapter.socket.drop();
  groups.delete('g1');
  const back = new Promise((r) => client.once('ready', r));
  adapter.socket.accept();
  await back;
  adapter.socket.push('imchat', groupMessage('g1', 1)); // unknown now: asks once, is refused
  await flush();
  await flush();
  expect(syncs).toEqual([{ groupId: 'g1', afterSeq: undefined }]);
});

it('a catch-up that meets the rate limit waits it out and still reports ready', async () => {
  const groups = new Map<string, FakeGroup>([['g1', { messages: [], joinedSeq: 0 }]]);
  const { adapter, client, received } = setup(groups);
  await ready(client, adapter);
  adapter.socket.drop();
  for (let seq = 1; seq <= 3; seq++) groups.get('g1')!.messages.push(groupMessage('g1', seq));
  let refusals = 0;
  const answer = adapter.socket.handlers['chat:group-sync']!;
  adapter.socket.handlers['chat:group-sync'] = (p, ack) => {
    if (refusals++ < 2) return ack({ code: 42900, message: 'rate limited: retry after 30 ms' });
    answer(p, ack);
  };
  const back = new Promise((r) => client.once('ready', r));
  adapter.socket.accept();
  await back;
  expect(refusals).toBeGreaterThanOrEqual(3);
  expect(received).toEqual(['g1 #1', 'g1 #2', 'g1 #3']);
});

it('a fresh device whose first group listing failed still starts its groups at the present', async () => {
  const groups = new Map<string, FakeGroup>([['g1', { messages: [groupMessage('g1', 1), groupMessage('g1', 2)], joinedSeq: 0 }]]);
  const adapter = new MemoryAdapter();
  const syncs: Array<{ groupId: string; afterSeq?: number }> = [];
  let listings = 0;
  adapter.configure = (s) => {
    serve(s, groups, syncs);
    const list = s.handlers['chat:groups']!;
    s.handlers['chat:groups'] = (p, ack) => (listings++ === 0 ? ack({ code: 50000, message: 'internal error' }) : list(p, ack));
  };
  const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' });
  clients.push(client);
  const got: string[] = [];
  client.on('imchat', (m) => got.push(m.content));
  const done = new Promise((r) => client.once('ready', r));
  await client.connect({ token: TOKEN });
  await done; // the failed listing forced a reconnect; the second listing succeeded
  expect(listings).toBe(2);
  expect(got).toEqual([]); // not the group's whole history
});

it('a group left and joined again is read from the new join, not from the old position', async () => {
  const groups = new Map<string, FakeGroup>([['g1', { messages: [groupMessage('g1', 1)], joinedSeq: 0 }]]);
  const { adapter, client, received } = setup(groups);
  await ready(client, adapter);
  adapter.socket.drop();
  groups.get('g1')!.messages.push(groupMessage('g1', 2), groupMessage('g1', 3), groupMessage('g1', 4));
  groups.get('g1')!.joinedSeq = 3; // left after #1, added again at #3
  const back = new Promise((r) => client.once('ready', r));
  adapter.socket.accept();
  await back;
  expect(received).toEqual(['g1 #4']);
});

it('a known device whose first listing after start fails keeps its stored positions (no replay from the join)', async () => {
  const groups = new Map<string, FakeGroup>([['g1', { messages: [groupMessage('g1', 1), groupMessage('g1', 2), groupMessage('g1', 3)], joinedSeq: 0 }]]);
  const first = setup(groups);
  await ready(first.client, first.adapter);
  await flush();
  first.client.destroy();

  groups.get('g1')!.messages.push(groupMessage('g1', 4));
  let listings = 0;
  const syncs: Array<{ groupId: string; afterSeq?: number }> = [];
  first.adapter.configure = (s) => {
    serve(s, groups, syncs);
    const list = s.handlers['chat:groups']!;
    s.handlers['chat:groups'] = (p, ack) => (listings++ === 0 ? ack({ code: 50000, message: 'internal error' }) : list(p, ack));
  };
  const again = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter: first.adapter, logLevel: 'silent' });
  const got: string[] = [];
  again.on('imchat', (m) => got.push(m.content));
  await ready(again, first.adapter);
  expect(listings).toBe(2);
  expect(got).toEqual(['g1 #4']);
});
