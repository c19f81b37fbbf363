import { ImClient } from '../../src/client';
import { readClaims } from '../../src/jwt-claims';
import type { ImMessage } from '../../src/protocol';
import { MemoryAdapter, flush, ok } from '../helpers/memory-adapter';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const tokenFor = (sub: string, app = 'app') => `${b64url({ alg: 'HS256' })}.${b64url({ sub, app, exp: 9999999999 })}.sig`;

describe('readClaims', () => {
  it('reads sub and app from a token, including non-ASCII names', () => {
    expect(readClaims(`${b64url({})}.${b64url({ sub: 'alice', app: 'a1', name: '张三' })}.x`)).toMatchObject({ sub: 'alice', app: 'a1' });
  });
  it('returns undefined for garbage instead of throwing', () => {
    expect(readClaims('not.a.token')).toBeUndefined();
    expect(readClaims(undefined)).toBeUndefined();
    expect(readClaims('a.%%%.c')).toBeUndefined();
  });
});

describe('state persisted in adapter storage', () => {
  it('a send left unconfirmed when the app was killed is resent with the same id by the next run', async () => {
    const adapter = new MemoryAdapter();
    const stored: ImMessage[] = [];
    adapter.configure = (s) => {
      s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: [], hasMore: false, latestInboxSeq: 0 }));
      s.handlers.heartbeat = (_p, ack) => ack(ok({}));
    };
    const token = tokenFor('me');
    const first = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' });
    await first.connect({ token });
    await flush();
    adapter.socket.handlers['chat:send'] = () => undefined; // the app dies before the ack
    void first.sendPrivateMessage({ content: 'survives', recipientId: 'peer' }).catch(() => undefined);
    const sentId = adapter.socket.sent('chat:send')[0].clientMsgId;
    await flush();
    expect(await adapter.storage.getItem('comind-im:v1:app:me:outbox')).toContain(sentId);
    // Simulate the process dying: no destroy(), a new client on the same storage.
    adapter.socket.drop();
    (first as unknown as { lifecycle: string }).lifecycle = 'stopped';

    const second = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' });
    adapter.configure = (s) => {
      s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: [], hasMore: false, latestInboxSeq: 0 }));
      s.handlers['chat:send'] = (p, ack) => {
        stored.push(p);
        ack(ok({ ...p, messageId: 'm1', inboxSeq: 1 }));
      };
    };
    await second.connect({ token });
    await flush();
    await flush();
    expect(stored.map((m) => m.clientMsgId)).toEqual([sentId]);
    expect(await adapter.storage.getItem('comind-im:v1:app:me:outbox')).toBeNull();
    second.destroy();
    (first as unknown as { lifecycle: string }).lifecycle = 'active';
    first.destroy(); // releases the timers the "killed" run left behind
  });

  it('caches the conversation list per user and serves it before connecting', async () => {
    const adapter = new MemoryAdapter();
    const conv = [{ conversationId: '0:bob', chatType: 0, targetId: 'bob', unreadCount: 2 }];
    adapter.respond = () => ({ status: 200, headers: {}, data: ok(conv) });
    const online = new ImClient({ apiServer: 'http://127.0.0.1:2', adapter, logLevel: 'silent' });
    await online.connect({ serverUrl: 'http://127.0.0.1:1', token: tokenFor('me') });
    await online.getConversationList();
    await flush();
    online.destroy();

    const offline = new ImClient({ apiServer: 'http://127.0.0.1:2', adapter, logLevel: 'silent', tokenProvider: () => tokenFor('me') });
    adapter.respond = () => {
      throw new Error('offline');
    };
    await expect(offline.getCachedConversationList()).resolves.toEqual([]); // no token yet: no user to read for
    await offline.renewToken(tokenFor('me'));
    await expect(offline.getCachedConversationList()).resolves.toEqual(conv);
    await offline.renewToken(tokenFor('someone-else'));
    await expect(offline.getCachedConversationList()).resolves.toEqual([]);
    offline.destroy();
  });
});
