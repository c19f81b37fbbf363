import { ImClient } from '../../src/client';
import type { ImMessage } from '../../src/core/protocol';
import { FAKE_TOKEN, FakeSocket, MemoryAdapter, flush, ok } from '../helpers/memory-adapter';

const incoming = (inboxSeq: number, extra: Partial<ImMessage> = {}): ImMessage => ({
  messageId: `m${inboxSeq}`, clientMsgId: `c${inboxSeq}`, from: 'peer', fromName: 'Peer', to: 'me', content: `hello ${inboxSeq}`,
  chatType: 0, msgType: 0, timestamp: 1, data: null, seq: inboxSeq, inboxSeq, ...extra,
});

/** A fake server holding an inbox, answering sync/send/heartbeat like the real one. */
function serve(s: FakeSocket, inbox: ImMessage[], opts: { answerSends?: boolean } = {}) {
  s.session.latestInboxSeq = 0;
  s.handlers['chat:sync'] = (p, ack) => {
    const rest = inbox.filter((m) => m.inboxSeq! > p.afterInboxSeq);
    ack(ok({ messages: rest.slice(0, p.limit), hasMore: rest.length > p.limit, latestInboxSeq: inbox.length }));
  };
  s.handlers.heartbeat = (_p, ack) => ack(ok({ serverTime: Date.now() }));
  s.handlers['chat:send'] = (p, ack) => {
    if (opts.answerSends === false) return;
    const existing = inbox.find((m) => m.clientMsgId === p.clientMsgId);
    const m = existing ?? { ...incoming(inbox.length + 1), ...p, from: 'me', messageId: `s${inbox.length + 1}` };
    if (!existing) inbox.push(m);
    ack(ok(m));
  };
}

const clients: ImClient[] = [];
/** Internal errors the clients logged (an illegal connection transition, a throwing handler). */
const internalErrors: string[] = [];
const recorder = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (text.includes('internal')) internalErrors.push(text);
  },
};
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  // Every scenario of this file must keep to the declared connection states (src/connection/state.ts).
  expect(internalErrors.splice(0)).toEqual([]);
});

function track(c: ImClient): ImClient {
  clients.push(c);
  return c;
}

function setup(options: Record<string, unknown> = {}) {
  const adapter = new MemoryAdapter();
  const inbox: ImMessage[] = [];
  adapter.configure = (s) => serve(s, inbox);
  const client = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'error', logger: recorder, ...options }));
  const statuses: string[] = [];
  const received: ImMessage[] = [];
  client.on('status', (s) => statuses.push(s));
  client.on('imchat', (m) => received.push(m));
  return { adapter, client, inbox, statuses, received };
}

describe('ImClient connection state machine', () => {
  it('goes connecting -> connected, resolves connect() with true and emits ready after catch-up', async () => {
    const { client, statuses } = setup();
    const ready = jest.fn();
    client.on('ready', ready);
    await expect(client.connect({ token: FAKE_TOKEN })).resolves.toBe(true);
    await flush();
    expect(statuses).toEqual(['connecting', 'connected']);
    expect(ready).toHaveBeenCalledTimes(1);
    expect(client.getStatus()).toBe('connected');
  });

  it('the token goes in the handshake auth (renewable), never in the URL', async () => {
    const { client, adapter } = setup();
    await client.connect({ token: FAKE_TOKEN });
    expect(JSON.stringify(adapter.socket.options)).not.toContain(FAKE_TOKEN);
    let sent = '';
    adapter.socket.options.auth((d) => (sent = d.token));
    expect(sent).toBe(FAKE_TOKEN);
  });

  it("names its platform in the handshake auth (the adapter's name: the server's session lists show it)", async () => {
    const { client, adapter } = setup();
    await client.connect({ token: FAKE_TOKEN });
    let platform: string | undefined;
    adapter.socket.options.auth((d) => (platform = d.platform));
    expect(platform).toBe('memory');
  });

  it('a second connect() reuses the socket', async () => {
    const { client, adapter } = setup();
    await client.connect({ token: FAKE_TOKEN });
    await client.connect();
    expect(adapter.sockets).toHaveLength(1);
  });

  it('reports reconnecting on a transport drop and connected again after the manager reconnects', async () => {
    const { client, adapter, statuses } = setup();
    const reconnect = jest.fn();
    client.on('reconnect', reconnect);
    await client.connect({ token: FAKE_TOKEN });
    adapter.socket.drop();
    adapter.socket.io.fire('reconnect_attempt', 1);
    adapter.socket.accept();
    adapter.socket.io.fire('reconnect', 1);
    expect(statuses).toEqual(['connecting', 'connected', 'reconnecting', 'connected']);
    expect(reconnect).toHaveBeenCalledWith(1);
  });

  it('catches up after a reconnect: missed messages once, in order, nothing twice', async () => {
    const { client, adapter, inbox, received } = setup();
    await client.connect({ token: FAKE_TOKEN });
    await flush();
    inbox.push(incoming(1));
    adapter.socket.push('imchat', inbox[0]);
    adapter.socket.drop();
    inbox.push(incoming(2), incoming(3));
    adapter.socket.accept();
    await flush();
    adapter.socket.push('imchat', inbox[2]); // a late live copy of something already synced
    expect(received.map((m) => m.inboxSeq)).toEqual([1, 2, 3]);
  });

  it('a live message past a gap waits for the sync that fills the gap', async () => {
    const { client, adapter, inbox, received } = setup();
    await client.connect({ token: FAKE_TOKEN });
    await flush();
    inbox.push(incoming(1), incoming(2));
    adapter.socket.push('imchat', inbox[1]);
    await flush();
    expect(received.map((m) => m.inboxSeq)).toEqual([1, 2]);
  });

  it('queues sends while reconnecting and flushes them with the same clientMsgId', async () => {
    const { client, adapter } = setup();
    await client.connect({ token: FAKE_TOKEN });
    await flush();
    adapter.socket.drop();
    const p = client.sendPrivateMessage({ content: 'queued', recipientId: 'peer' });
    expect(adapter.socket.sent('chat:send')).toHaveLength(0);
    adapter.socket.accept();
    await flush();
    const sent = await p;
    expect(sent.content).toBe('queued');
    expect(adapter.socket.sent('chat:send')).toHaveLength(1);
  });

  it('resends an unacknowledged message after a drop with the same clientMsgId', async () => {
    const adapter = new MemoryAdapter();
    const inbox: ImMessage[] = [];
    adapter.configure = (s) => serve(s, inbox, { answerSends: false });
    const client = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' }));
    await client.connect({ token: FAKE_TOKEN });
    await flush();
    const p = client.sendPrivateMessage({ content: 'x', recipientId: 'peer' });
    const first = adapter.socket.sent('chat:send')[0];
    adapter.socket.drop();
    serve(adapter.socket, inbox);
    adapter.socket.accept();
    await flush();
    await expect(p).resolves.toMatchObject({ clientMsgId: first.clientMsgId });
    const all = adapter.socket.sent('chat:send');
    expect(all).toHaveLength(2);
    expect(all[1].clientMsgId).toBe(first.clientMsgId);
  });

  it('a send whose ack was lost is settled by its own copy in the catch-up sync', async () => {
    const adapter = new MemoryAdapter();
    const inbox: ImMessage[] = [];
    adapter.configure = (s) => serve(s, inbox);
    const client = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' }));
    const received: ImMessage[] = [];
    client.on('imchat', (m) => received.push(m));
    await client.connect({ token: FAKE_TOKEN });
    await flush();
    // The server stores the message but the connection dies before the ack.
    adapter.socket.handlers['chat:send'] = (p) => {
      inbox.push({ ...incoming(inbox.length + 1), ...p, from: 'me', messageId: 'stored-1' });
      adapter.socket.drop();
    };
    const p = client.sendPrivateMessage({ content: 'x', recipientId: 'peer' });
    adapter.socket.handlers['chat:send'] = () => undefined; // the resend is never answered
    adapter.socket.accept();
    await flush();
    await expect(p).resolves.toMatchObject({ messageId: 'stored-1' });
    expect(received).toHaveLength(0); // our own message is not reported as incoming
  });

  it('rejects a send before connect() with E_NOT_CONNECTED', async () => {
    const { client } = setup();
    await expect(client.sendPrivateMessage({ content: 'x', recipientId: 'peer' })).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
  });

  it('rejects queued sends when reconnection gives up, and reports disconnected', async () => {
    const { client, adapter, statuses } = setup();
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.code));
    await client.connect({ token: FAKE_TOKEN });
    await flush();
    adapter.socket.drop();
    const p = client.sendPrivateMessage({ content: 'x', recipientId: 'peer' });
    adapter.socket.io.fire('reconnect_failed');
    await expect(p).rejects.toMatchObject({ code: 'E_NETWORK' });
    expect(statuses[statuses.length - 1]).toBe('disconnected');
    expect(errors).toEqual(['E_NETWORK']);
  });

  it('connect() to another server re-emits, on the new socket, a send that was waiting for its ack on the old one', async () => {
    const { client, adapter, statuses } = setup();
    await client.connect({ token: FAKE_TOKEN });
    await flush();
    adapter.socket.handlers['chat:send'] = () => undefined; // the old server never answers
    const sending = client.sendPrivateMessage({ content: 'moved', recipientId: 'peer' });
    await flush();
    const id = adapter.socket.sent('chat:send')[0].clientMsgId;
    await client.connect({ serverUrl: 'http://127.0.0.1:3' });
    expect(adapter.socket.url).toBe('http://127.0.0.1:3');
    await expect(sending).resolves.toMatchObject({ clientMsgId: id, content: 'moved' });
    expect(adapter.socket.sent('chat:send').map((p: { clientMsgId: string }) => p.clientMsgId)).toEqual([id]);
    expect(statuses).toEqual(['connecting', 'connected', 'connecting', 'connected']);
  });

  it('a different user on the same client starts from their own inbox position, not the previous user\'s', async () => {
    const adapter = new MemoryAdapter();
    const inbox = [incoming(1), incoming(2), incoming(3)];
    adapter.configure = (s) => serve(s, inbox);
    const client = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'error', logger: recorder }));
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await client.connect({ token: `${b64({})}.${b64({ sub: 'me', app: 'app' })}.x` });
    for (const m of inbox) adapter.socket.push('imchat', m);
    await flush();
    client.disconnect();
    adapter.configure = (s) => {
      s.session = { ...s.session, userId: 'other', latestInboxSeq: 1 };
      s.handlers['chat:sync'] = (_p, ack) => ack(ok({ messages: [], hasMore: false, latestInboxSeq: 1 }));
    };
    await client.connect({ token: `${b64({})}.${b64({ sub: 'other', app: 'app' })}.x` });
    await flush();
    // Without a stored position the new user's catch-up starts at their present (1), not at 3.
    expect(adapter.socket.sent('chat:sync').map((p: { afterInboxSeq: number }) => p.afterInboxSeq)).toEqual([1]);
  });

  it('a status listener that connects again when disconnected gets a working connection', async () => {
    const { client, adapter } = setup();
    await client.connect({ token: FAKE_TOKEN });
    let again: Promise<boolean> | undefined;
    client.on('status', (st) => {
      if (st === 'disconnected' && !again) again = client.connect();
    });
    client.disconnect();
    await expect(again).resolves.toBe(true);
    expect(client.getStatus()).toBe('connected');
    expect(adapter.sockets).toHaveLength(2);
    expect(adapter.socket.connected).toBe(true);
  });

  it('the current user is known while reconnecting, and forgotten after disconnect()', async () => {
    const { client, adapter } = setup();
    await client.connect({ token: FAKE_TOKEN });
    adapter.socket.autoAccept = false;
    adapter.socket.drop();
    expect(client.getStatus()).toBe('reconnecting');
    expect(client.getCurrentUser()).toMatchObject({ userId: 'me', appId: 'app' });
    client.disconnect();
    expect(client.getCurrentUser()).toBeUndefined();
  });

  it('a refusal for too many sockets (42900) or a restart (50300) is retried with backoff, not the end', async () => {
    jest.useFakeTimers();
    try {
      const { client, adapter, statuses } = setup({ reconnectionDelay: 100, pingInterval: 1e9 });
      adapter.configure = (s) => {
        serve(s, []);
        s.autoAccept = false;
      };
      const connecting = client.connect({ token: FAKE_TOKEN });
      const s = adapter.socket;
      const err = Object.assign(new Error('too many connections'), { data: { code: 42900, message: 'too many connections: user me already has 10' } });
      s.fire('connect_error', err);
      expect(client.getStatus()).toBe('reconnecting');
      const before = s.connectCalls;
      jest.advanceTimersByTime(100);
      expect(s.connectCalls).toBe(before + 1);
      s.fire('connect_error', Object.assign(new Error('shutting down'), { data: { code: 50300, message: 'server shutting down' } }));
      jest.advanceTimersByTime(150);
      expect(s.connectCalls).toBe(before + 1); // backoff: 200 ms the second time
      jest.advanceTimersByTime(60);
      expect(s.connectCalls).toBe(before + 2);
      s.accept();
      await expect(connecting).resolves.toBe(true);
      expect(statuses).toEqual(['connecting', 'reconnecting', 'connected']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refusals past reconnectionAttempts end the connection with the server\'s reason', async () => {
    jest.useFakeTimers();
    try {
      const { client, adapter } = setup({ reconnectionDelay: 10, reconnectionAttempts: 2, pingInterval: 1e9 });
      adapter.configure = (s) => {
        serve(s, []);
        s.autoAccept = false;
      };
      const errors: string[] = [];
      client.on('error', (e) => errors.push(e.code));
      const connecting = client.connect({ token: FAKE_TOKEN });
      const refuse = () => adapter.socket.fire('connect_error', Object.assign(new Error('too many'), { data: { code: 42900, message: 'too many connections' } }));
      refuse();
      jest.advanceTimersByTime(10);
      refuse();
      jest.advanceTimersByTime(20);
      refuse(); // the third: past the two attempts
      await expect(connecting).rejects.toMatchObject({ code: 'E_RATE_LIMITED' });
      expect(errors).toEqual(['E_RATE_LIMITED']);
      expect(client.getStatus()).toBe('disconnected');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('kicked: emits kicked, ends the session and does not reconnect', async () => {
    const { client, adapter } = setup();
    const kicked = jest.fn();
    client.on('kicked', kicked);
    await client.connect({ token: FAKE_TOKEN });
    const connects = adapter.socket.connectCalls;
    adapter.socket.push('kicked', { reason: 'another_session' });
    adapter.setOnline(true);
    expect(kicked).toHaveBeenCalledWith({ reason: 'another_session' });
    expect(client.getStatus()).toBe('disconnected');
    expect(adapter.socket.connectCalls).toBe(connects);
    await expect(client.sendPrivateMessage({ content: 'x', recipientId: 'peer' })).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
  });

  it('network back online reconnects at once, and a burst of events reconnects only once', async () => {
    const { client, adapter } = setup();
    await client.connect({ token: FAKE_TOKEN });
    adapter.socket.autoAccept = false;
    adapter.socket.drop();
    const before = adapter.socket.connectCalls;
    adapter.setOnline(true);
    adapter.setOnline(true);
    adapter.setAppState('foreground');
    expect(adapter.socket.connectCalls).toBe(before + 1);
  });

  it('app hidden pauses heartbeats; shown resumes them', async () => {
    jest.useFakeTimers();
    try {
      const { client, adapter } = setup({ pingInterval: 1000, pingTimeout: 5000 });
      await client.connect({ token: FAKE_TOKEN });
      await Promise.resolve();
      const beats = () => adapter.socket.sent('heartbeat').length;
      const start = beats();
      jest.advanceTimersByTime(3000);
      expect(beats()).toBe(start + 3);
      adapter.setAppState('background');
      jest.advanceTimersByTime(5000);
      expect(beats()).toBe(start + 3);
      adapter.setAppState('foreground');
      expect(beats()).toBeGreaterThan(start + 3);
    } finally {
      jest.useRealTimers();
    }
  });

  it("heartbeat status is 'active' only while pongs arrive within pingTimeout", async () => {
    jest.useFakeTimers();
    try {
      const { client, adapter } = setup({ pingInterval: 1000, pingTimeout: 2500 });
      expect(client.getHeartbeatStatus()).toBe('inactive');
      await client.connect({ token: FAKE_TOKEN });
      await Promise.resolve();
      expect(client.getHeartbeatStatus()).toBe('active');
      adapter.socket.handlers.heartbeat = () => undefined; // pongs stop
      jest.advanceTimersByTime(2600);
      expect(client.getHeartbeatStatus()).toBe('inactive');
    } finally {
      jest.useRealTimers();
    }
  });

  it('a dead heartbeat forces a reconnect', async () => {
    jest.useFakeTimers();
    try {
      const { client, adapter } = setup({ pingInterval: 1000, pingTimeout: 2500 });
      await client.connect({ token: FAKE_TOKEN });
      await Promise.resolve();
      adapter.socket.handlers.heartbeat = () => undefined;
      const before = adapter.socket.connectCalls;
      jest.advanceTimersByTime(4000);
      expect(adapter.socket.disconnectCalls).toBeGreaterThan(0);
      expect(adapter.socket.connectCalls).toBe(before + 1);
    } finally {
      jest.useRealTimers();
    }
  });

  it('an expired token at connect is replaced through tokenProvider and the socket reconnects', async () => {
    const adapter = new MemoryAdapter();
    adapter.configure = (s) => {
      serve(s, []);
      s.autoAccept = false;
    };
    const provider = jest.fn().mockResolvedValue('new.token.value');
    const client = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, tokenProvider: provider, logLevel: 'silent' }));
    const connected = client.connect({ token: FAKE_TOKEN });
    const s = adapter.socket;
    s.fire('connect_error', Object.assign(new Error('token expired'), { data: { code: 40102, message: 'token expired' } }));
    await flush();
    expect(provider).toHaveBeenCalled();
    let sentToken = '';
    s.options.auth((d) => (sentToken = d.token));
    expect(sentToken).toBe('new.token.value');
    s.accept();
    await expect(connected).resolves.toBe(true);
  });

  it('an invalid token at connect rejects connect() with E_TOKEN_INVALID and stops', async () => {
    const adapter = new MemoryAdapter();
    adapter.configure = (s) => (s.autoAccept = false);
    const client = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' }));
    client.on('error', () => undefined);
    const connected = client.connect({ token: FAKE_TOKEN });
    adapter.socket.fire('connect_error', Object.assign(new Error('bad'), { data: { code: 40101, message: 'bad signature' } }));
    await expect(connected).rejects.toMatchObject({ code: 'E_TOKEN_INVALID' });
    expect(client.getStatus()).toBe('disconnected');
  });

  it('tokenWillExpire with a tokenProvider renews the token on the live connection', async () => {
    const { adapter } = setup();
    const provider = jest.fn().mockResolvedValue('renewed.token.x');
    const client = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, tokenProvider: provider, logLevel: 'silent' }));
    const will = jest.fn();
    client.on('tokenWillExpire', will);
    await client.connect({ token: FAKE_TOKEN });
    adapter.socket.handlers['token:renew'] = (_p, ack) => ack(ok({ expiresAt: 1 }));
    adapter.socket.push('token:will-expire', { expiresAt: 123 });
    await flush();
    expect(will).toHaveBeenCalledWith({ expiresAt: 123 });
    expect(adapter.socket.sent('token:renew')).toEqual([{ token: 'renewed.token.x' }]);
  });

  it('destroy() releases the socket, platform hooks, timers and listeners', async () => {
    jest.useFakeTimers();
    try {
      const { client, adapter } = setup({ pingInterval: 1000 });
      await client.connect({ token: FAKE_TOKEN });
      const p = client.sendPrivateMessage({ content: 'x', recipientId: 'peer' });
      adapter.socket.handlers['chat:send'] = () => undefined;
      client.destroy();
      await expect(p).rejects.toBeDefined();
      expect(adapter.socket.connected).toBe(false);
      expect(adapter.hookCount).toBe(0);
      expect(adapter.destroyed).toBe(true);
      expect(adapter.socket.count('imchat')).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
      expect(() => client.on('imchat', () => undefined)).toThrow(expect.objectContaining({ code: 'E_DESTROYED' }));
    } finally {
      jest.useRealTimers();
    }
  });

  it('a catch-up sync waiting for an answer fails at once when the connection drops, and runs again on reconnect', async () => {
    jest.useFakeTimers();
    try {
      const { client, adapter, inbox, received } = setup({ sendTimeout: 60000, pingInterval: 1e9 });
      await client.connect({ token: FAKE_TOKEN });
      const s = adapter.socket;
      const answer = s.handlers['chat:sync'];
      s.handlers['chat:sync'] = () => undefined; // the server never answers this sync
      await Promise.resolve();
      await Promise.resolve();
      expect(jest.getTimerCount()).toBe(2); // heartbeat + the sync's 60 s answer timer
      s.drop();
      expect(jest.getTimerCount()).toBe(0); // both gone with the connection
      s.handlers['chat:sync'] = answer!;
      inbox.push(incoming(1));
      s.accept();
      for (let i = 0; i < 30; i++) await Promise.resolve();
      expect(received.map((m) => m.inboxSeq)).toEqual([1]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a throwing listener does not stop other listeners or delivery', async () => {
    const { client, adapter, inbox, received } = setup();
    client.on('imchat', () => {
      throw new Error('user bug');
    });
    await client.connect({ token: FAKE_TOKEN });
    await flush();
    inbox.push(incoming(1), incoming(2));
    adapter.socket.push('imchat', inbox[0]);
    adapter.socket.push('imchat', inbox[1]);
    expect(received).toHaveLength(2);
  });

  it('the inbox position survives in storage across client instances', async () => {
    const adapter = new MemoryAdapter();
    const inbox: ImMessage[] = [incoming(1), incoming(2)];
    adapter.configure = (s) => {
      serve(s, inbox);
      s.session.latestInboxSeq = inbox.length;
    };
    const first = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' }));
    await first.connect({ token: FAKE_TOKEN });
    await flush();
    inbox.push(incoming(3));
    adapter.socket.push('imchat', inbox[2]);
    await flush();
    first.destroy();
    inbox.push(incoming(4));
    const second = track(new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter, logLevel: 'silent' }));
    const got: number[] = [];
    second.on('imchat', (m) => got.push(m.inboxSeq!));
    await second.connect({ token: FAKE_TOKEN });
    await flush();
    expect(got).toEqual([4]);
  });
});

describe('automatic delivery receipts', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  async function connected(options: Record<string, unknown> = {}) {
    const env = setup(options);
    await env.client.connect({ token: FAKE_TOKEN });
    await flush();
    return env;
  }

  it('go out together after a short wait, up to 100 per packet, after the app has the messages', async () => {
    const { adapter, inbox, received } = await connected();
    const seenWhenSent: number[] = [];
    adapter.socket.handlers.receipts = () => seenWhenSent.push(received.length);
    for (let i = 1; i <= 150; i++) {
      inbox.push(incoming(i));
      adapter.socket.push('imchat', inbox[i - 1]);
    }
    // The 100th message filled a packet at once; the rest wait for the delay.
    expect(adapter.socket.sent('receipts')).toEqual([{ messageIds: inbox.slice(0, 100).map((m) => m.messageId), status: 1 }]);
    expect(seenWhenSent).toEqual([100]);
    jest.advanceTimersByTime(49);
    expect(adapter.socket.sent('receipts')).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(adapter.socket.sent('receipts')[1]).toEqual({ messageIds: inbox.slice(100).map((m) => m.messageId), status: 1 });
    expect(received).toHaveLength(150);
    expect(adapter.socket.sent('receipt')).toEqual([]);
  });

  it('a read receipt takes the place of a delivered receipt still waiting, so "read" is never followed by "delivered"', async () => {
    const { adapter, inbox, client } = await connected();
    inbox.push(incoming(1), incoming(2));
    for (const m of inbox) adapter.socket.push('imchat', m);
    expect(client.sendReadReceipt('m1', 'peer')).toBe(true);
    jest.advanceTimersByTime(50);
    expect(adapter.socket.sent('receipt')).toEqual([{ messageId: 'm1', status: 2, to: 'peer' }]);
    expect(adapter.socket.sent('receipts')).toEqual([{ messageIds: ['m2'], status: 1 }]);
  });

  it('none for group messages, own messages, or with autoDeliveryReceipt off', async () => {
    const { adapter, inbox } = await connected();
    inbox.push(incoming(1, { chatType: 1, to: 'g1' }), incoming(2, { from: 'me' }));
    for (const m of inbox) adapter.socket.push('imchat', m);
    jest.advanceTimersByTime(100);
    expect(adapter.socket.sent('receipts')).toEqual([]);

    const off = await connected({ autoDeliveryReceipt: false });
    off.inbox.push(incoming(1));
    off.adapter.socket.push('imchat', off.inbox[0]);
    jest.advanceTimersByTime(100);
    expect(off.adapter.socket.sent('receipts')).toEqual([]);
  });

  it('gathered ones are dropped, not sent on a later connection, when the connection is lost; no timer is left', async () => {
    const { adapter, inbox, client } = await connected();
    inbox.push(incoming(1));
    adapter.socket.push('imchat', inbox[0]);
    adapter.socket.drop();
    adapter.socket.accept();
    await flush();
    jest.advanceTimersByTime(100);
    expect(adapter.socket.sent('receipts')).toEqual([]);
    client.destroy();
    expect(jest.getTimerCount()).toBe(0);
  });
});
