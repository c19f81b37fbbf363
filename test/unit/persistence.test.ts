import { ImClient } from '../../src/client';
import * as jwtClaims from '../../src/auth/jwt-claims';
import { readClaims } from '../../src/auth/jwt-claims';
import type { ImMessage } from '../../src/core/protocol';
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
    await new Promise((r) => setTimeout(r, 150)); // past the outbox write delay
    expect(await adapter.storage.getItem('comind-im:v1:app:me:outbox')).toContain(sentId);
    // Simulate the process dying: no destroy(), a new client on the same storage.
    adapter.socket.drop();
    (first as unknown as { connection: { state: { name: string } } }).connection.state = { name: 'idle' };

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
    await new Promise((r) => setTimeout(r, 150)); // the acked entry leaves storage after the write delay
    expect(await adapter.storage.getItem('comind-im:v1:app:me:outbox')).toBeNull();
    second.destroy();
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

describe('outbox left by an earlier run', () => {
  it('a send made before the session is ready keeps it on storage and goes out after it', async () => {
    const adapter = new MemoryAdapter();
    const KEY = 'comind-im:v1:app:me:outbox';
    const old = { payload: { clientMsgId: 'old-1', chatType: 0, to: 'peer', content: 'from the killed run', msgType: 0, data: null }, createdAt: Date.now() - 1000 };
    await adapter.storage.setItem(KEY, JSON.stringify([old]));
    const sent: string[] = [];
    adapter.configure = (s) => {
      s.autoAccept = false; // the session is slow to come
      s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: [], hasMore: false, latestInboxSeq: 0 }));
      s.handlers['chat:send'] = (p, ack) => {
        sent.push(p.clientMsgId);
        ack(ok({ ...p, from: 'me', messageId: `m${sent.length}`, inboxSeq: sent.length }));
      };
    };
    const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' });
    const connected = client.connect({ token: tokenFor('me') });
    const fresh = client.sendPrivateMessage({ content: 'new', recipientId: 'peer' });
    await new Promise((r) => setTimeout(r, 150)); // past the outbox write delay
    const stored = JSON.parse((await adapter.storage.getItem(KEY)) ?? '[]') as Array<{ payload: { clientMsgId: string } }>;
    expect(stored.map((i) => i.payload.clientMsgId)).toEqual(['old-1', expect.any(String)]);
    adapter.socket.accept();
    await connected;
    const message = await fresh;
    expect(stored[1]!.payload.clientMsgId).toBe(message.clientMsgId);
    expect(sent).toEqual(['old-1', message.clientMsgId]);
    client.destroy();
  });
});

describe('outbox left by an earlier run, across users', () => {
  it('stays on storage for its own user when the app disconnects before the session; the next user never sends it', async () => {
    const adapter = new MemoryAdapter();
    const KEY1 = 'comind-im:v1:app:me:outbox';
    const old = { payload: { clientMsgId: 'old-1', chatType: 0, to: 'peer', content: 'from the killed run', msgType: 0, data: null }, createdAt: Date.now() - 1000 };
    await adapter.storage.setItem(KEY1, JSON.stringify([old]));
    adapter.configure = (s) => {
      s.autoAccept = false;
    };
    const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' });
    const first = client.connect({ token: tokenFor('me') }).catch(() => undefined);
    const lost = client.sendPrivateMessage({ content: 'new', recipientId: 'peer' }).catch((e: { code: string }) => e.code);
    client.disconnect();
    expect(await lost).toBe('E_NOT_CONNECTED');
    await first;
    await new Promise((r) => setTimeout(r, 150));
    const stored = JSON.parse((await adapter.storage.getItem(KEY1)) ?? '[]') as Array<{ payload: { clientMsgId: string } }>;
    expect(stored.map((i) => i.payload.clientMsgId)).toEqual(['old-1']);

    const sent: Array<{ clientMsgId: string }> = [];
    adapter.configure = (s) => {
      s.session = { ...s.session, userId: 'other' };
      s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: [], hasMore: false, latestInboxSeq: 0 }));
      s.handlers['chat:send'] = (p, ack) => {
        sent.push(p);
        ack(ok({ ...p, from: 'other', messageId: 'x', inboxSeq: 1 }));
      };
    };
    await client.connect({ token: tokenFor('other') });
    await flush();
    await client.sendPrivateMessage({ content: 'mine', recipientId: 'peer' });
    expect(sent.map((p) => p.clientMsgId)).not.toContain('old-1');
    expect(sent).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(JSON.parse((await adapter.storage.getItem(KEY1)) ?? '[]')).toHaveLength(1);
    client.destroy();
  });
});

describe('outbox persistence', () => {
  const KEY = 'comind-im:v1:app:me:outbox';
  /** Sends are acknowledged by the test (`ackOldest`), or at once on their own tick with `autoAck`. */
  async function setup(opts: { autoAck?: boolean; sendTimeout?: number } = {}) {
    const adapter = new MemoryAdapter();
    let writes = 0;
    const { setItem, removeItem } = adapter.storage;
    adapter.storage.setItem = (k, v) => {
      if (k === KEY) writes++;
      return setItem(k, v);
    };
    adapter.storage.removeItem = (k) => {
      if (k === KEY) writes++;
      return removeItem(k);
    };
    const acks: Array<() => void> = [];
    let seq = 0;
    adapter.configure = (s) => {
      s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: [], hasMore: false, latestInboxSeq: 0 }));
      s.handlers.heartbeat = (_p, ack) => ack(ok({}));
      s.handlers['chat:send'] = (p, ack) => {
        const answer = () => {
          seq++;
          ack(ok({ ...p, from: 'me', messageId: `s${seq}`, inboxSeq: seq }));
        };
        if (opts.autoAck) setImmediate(answer); // each ack on its own tick, as off a socket
        else acks.push(answer);
      };
    };
    const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent', sendTimeout: opts.sendTimeout });
    await client.connect({ token: tokenFor('me') });
    await flush();
    writes = 0;
    const send = (content = 'hi') => client.sendPrivateMessage({ content, recipientId: 'peer' });
    const ackOldest = () => acks.shift()?.();
    return { adapter, client, send, ackOldest, writes: () => writes, stored: () => adapter.storage.getItem(KEY) };
  }

  // The delay timer is faked; setImmediate (flush) and microtasks stay real so storage promises settle.
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  it('100 pipelined sends acknowledged within the write delay cost at most one outbox write, not one per send and ack', async () => {
    const { client, send, writes, stored } = await setup({ autoAck: true });
    const sends = Array.from({ length: 100 }, (_, i) => send(`m${i}`));
    await Promise.all(sends);
    await flush();
    expect(writes()).toBe(0);
    jest.advanceTimersByTime(100);
    await flush();
    expect(writes()).toBeLessThanOrEqual(1); // an empty outbox: a removeItem at most, never the entries
    expect(await stored()).toBeNull();
    // A second burst finds storage already clear: no write at all.
    await Promise.all(Array.from({ length: 100 }, (_, i) => send(`n${i}`)));
    jest.advanceTimersByTime(100);
    await flush();
    expect(writes()).toBeLessThanOrEqual(1);
    client.destroy();
  });

  it('an unacknowledged send is on storage once the write delay has passed', async () => {
    const { client, send, stored } = await setup();
    void send().catch(() => undefined);
    const [sent] = (client as unknown as { messenger: { pending(): Array<{ clientMsgId: string }> } }).messenger.pending();
    jest.advanceTimersByTime(100);
    await flush();
    expect(await stored()).toContain(sent!.clientMsgId);
    client.destroy();
  });

  it('app hide writes a pending send at once, before the delay', async () => {
    const { adapter, client, send, stored } = await setup();
    void send('before hide').catch(() => undefined);
    expect(await stored()).toBeNull();
    adapter.setAppState('background');
    await flush();
    expect(await stored()).toContain('before hide');
    client.destroy();
  });

  it('destroy() writes a change still waiting for the delay at once and leaves no timer behind', async () => {
    const { client, send, ackOldest, stored } = await setup();
    const acked = send('acked');
    jest.advanceTimersByTime(100);
    await flush();
    expect(await stored()).toContain('acked');
    ackOldest(); // acknowledged now; its removal from storage waits for the delay
    await acked;
    client.destroy();
    await flush();
    expect(await stored()).toBeNull(); // else the next run would resend it
    expect(jest.getTimerCount()).toBe(0);
  });

  it('sends destroy() rejects are off storage at once, so the next run does not send them', async () => {
    const { client, send, stored } = await setup();
    const emitted = send('emitted').catch((e: unknown) => e);
    jest.advanceTimersByTime(100);
    await flush();
    expect(await stored()).toContain('emitted');
    (client as unknown as { sync: { isReady: boolean } }).sync.isReady = false; // the next send stays queued, never emitted
    const queued = send('queued').catch((e: unknown) => e);
    client.destroy();
    await flush();
    expect(await emitted).toMatchObject({ code: 'E_SEND_UNCERTAIN' });
    expect(await queued).toMatchObject({ code: 'E_DESTROYED' });
    expect(await stored()).toBeNull();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('a send dropped unsent (E_TIMEOUT) leaves storage at once, so a later run cannot send it', async () => {
    const { adapter, client, send, stored } = await setup({ sendTimeout: 1000 });
    adapter.socket.autoAccept = false;
    adapter.socket.drop();
    const dropped = send('offline').catch((e: unknown) => e);
    jest.advanceTimersByTime(100);
    await flush();
    expect(await stored()).toContain('offline');
    jest.advanceTimersByTime(900);
    expect(await dropped).toMatchObject({ code: 'E_TIMEOUT' });
    await flush();
    expect(await stored()).toBeNull();
    client.destroy();
  });
});

describe('storage keys', () => {
  afterEach(() => jest.restoreAllMocks());

  it('decodes a token once, not on every storage access, and follows a new token', async () => {
    const decode = jest.spyOn(jwtClaims, 'readClaims');
    const adapter = new MemoryAdapter();
    await adapter.storage.setItem('comind-im:v1:app:other:conversations', '[{"conversationId":"x"}]');
    const client = new ImClient({ adapter, logLevel: 'silent' });
    await client.renewToken(tokenFor('me'));
    for (let i = 0; i < 5; i++) await expect(client.getCachedConversationList()).resolves.toEqual([]);
    expect(decode).toHaveBeenCalledTimes(1);
    await client.renewToken(tokenFor('other'));
    await expect(client.getCachedConversationList()).resolves.toEqual([{ conversationId: 'x' }]);
    await expect(client.getCachedConversationList()).resolves.toEqual([{ conversationId: 'x' }]);
    expect(decode).toHaveBeenCalledTimes(2);
    client.destroy();
  });
});
