/**
 * Presence followed on the device (a scripted server): the followed set is subscribed again after
 * a reconnect, and belongs to the user who followed it, not to the next user of the same client.
 */
import { ImClient } from '../../src/client';
import { FAKE_TOKEN, MemoryAdapter, flush, ok, type FakeSocket } from '../helpers/memory-adapter';

const clients: ImClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function setup() {
  const adapter = new MemoryAdapter();
  let user = 'me';
  adapter.configure = (s: FakeSocket) => {
    s.session = { ...s.session, userId: user };
    s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: [], hasMore: false, latestInboxSeq: 0 }));
    s.handlers['presence:subscribe'] = (p: { userIds: string[] }, ack) =>
      ack(ok({ presence: p.userIds.map((userId) => ({ userId, online: false, lastSeenAt: null })), subscriptions: p.userIds.length }));
  };
  const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', apiServer: 'http://127.0.0.1:2', adapter, logLevel: 'silent' });
  clients.push(client);
  const connected = async () => {
    const ready = new Promise((r) => client.once('ready', r));
    await client.connect({ token: FAKE_TOKEN });
    await ready;
    await flush();
  };
  return { adapter, client, connected, become: (u: string) => void (user = u) };
}

describe('presence subscriptions on the device', () => {
  it('are subscribed again after a reconnect of the same user', async () => {
    const t = setup();
    await t.connected();
    await t.client.subscribePresence({ userIds: ['x', 'y'] });
    t.adapter.socket.drop();
    t.adapter.socket.accept();
    await flush();
    await flush();
    expect(t.adapter.socket.sent('presence:subscribe').map((p) => p.userIds)).toEqual([['x', 'y'], ['x', 'y']]);
  });

  it("another user on the same client does not follow the previous user's set", async () => {
    const t = setup();
    await t.connected();
    await t.client.subscribePresence({ userIds: ['x', 'y'] });
    const before = t.adapter.sockets.flatMap((s) => s.sent('presence:subscribe')).length;
    t.client.disconnect();
    t.become('someone-else');
    await t.connected();
    await flush();
    expect(t.client.getCurrentUser()?.userId).toBe('someone-else');
    expect(t.adapter.sockets.flatMap((s) => s.sent('presence:subscribe')).slice(before)).toEqual([]);
    // What the new user follows is theirs, and is followed again after their reconnect.
    await t.client.subscribePresence({ userIds: ['z'] });
    t.adapter.socket.drop();
    t.adapter.socket.accept();
    await flush();
    await flush();
    expect(t.adapter.sockets.flatMap((s) => s.sent('presence:subscribe')).slice(before).map((p) => p.userIds)).toEqual([['z'], ['z']]);
  });
});
