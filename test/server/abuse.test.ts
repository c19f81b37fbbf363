/**
 * What one account, or no account, can make the server do (docs/reliability.md, "Abuse and
 * limits"). Each test sets the limit it checks low, so the attack stays small: bounded in count
 * and time, loopback only.
 */
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { io as ioV4 } from 'socket.io-client';
import { mintToken } from '../../server/src';
import { ConfigError, resolveConfig } from '../../server/src/config';
import { call, cid, closeAll, closeClients, connect, http, sleep, startServer, tokenFor, uniqueUser, type TestServer } from './helpers';

afterEach(() => closeClients());
afterAll(() => closeAll());

function port(url: string): number {
  return Number(new URL(url).port);
}

/** A raw TCP connection; resolves once connected. `closed` resolves when the server closes it. */
function rawConnection(url: string): Promise<{ socket: net.Socket; closed: Promise<number>; data: () => string }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let received = '';
    const socket = net.connect(port(url), '127.0.0.1', () => resolve({ socket, closed, data: () => received }));
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)));
    socket.on('data', (d) => (received += d.toString()));
    socket.once('error', (e) => (socket.connecting ? reject(e) : undefined));
  });
}

describe('slow and idle HTTP connections', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ httpRequestTimeout: 1, maxConnectionsPerIp: 0 });
  });
  afterAll(() => server.stop());

  it('a request whose body never completes is answered and closed after IM_HTTP_REQUEST_TIMEOUT', async () => {
    const c = await rawConnection(server.apiUrl);
    c.socket.write('POST /api/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"appId":');
    const ms = await Promise.race([c.closed, sleep(8000).then(() => -1)]);
    c.socket.destroy();
    // Node checks once a second (connectionsCheckingInterval), so within ~2 s of the 1 s limit.
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(4000);
    expect(c.data()).toMatch(/^HTTP\/1\.1 (408|400).*\r\n[\s\S]*(timed out|Timeout)/i);
  });

  it('the same holds on the Socket.IO port', async () => {
    const c = await rawConnection(server.socketUrl);
    // Headers that never end: the header timeout (at most the request timeout) closes it.
    c.socket.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const ms = await Promise.race([c.closed, sleep(8000).then(() => -1)]);
    c.socket.destroy();
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(4000);
  });
});

describe('connections per client address', () => {
  it('past IM_MAX_CONNECTIONS_PER_IP a new connection is closed at once; one frees a place', async () => {
    const server = await startServer({ maxConnectionsPerIp: 4 });
    try {
      const held = await Promise.all(Array.from({ length: 4 }, () => rawConnection(server.apiUrl)));
      await sleep(100);
      const over = await rawConnection(server.apiUrl);
      const ms = await Promise.race([over.closed, sleep(3000).then(() => -1)]);
      expect(ms).toBeGreaterThanOrEqual(0);
      held[0]!.socket.destroy();
      await held[0]!.closed;
      await sleep(100);
      // A place is free again: a real request goes through.
      const health = await http(server, 'GET', '/health', undefined, undefined, { connection: 'close' });
      expect(health.body.code).toBe(0);
      for (const h of held) h.socket.destroy();
    } finally {
      await server.stop();
    }
  });

  it('Engine.IO handshakes that never join the namespace are capped per address and time out', async () => {
    const server = await startServer({ socketConnectTimeoutMs: 500, maxConnectionsPerIp: 1000 });
    try {
      const handshake = () => fetch(`${server.socketUrl}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(3000) });
      const first = await Promise.all(Array.from({ length: 64 }, handshake));
      expect(first.every((r) => r.status === 200)).toBe(true);
      const refused = await handshake();
      expect(refused.status).toBe(403);
      // Without a namespace connect, each session is closed after the connect timeout.
      await sleep(1500);
      expect((await handshake()).status).toBe(200);
      // A real client still connects.
      const s = await connect(server, await tokenFor(server, uniqueUser()));
      expect(s.connected).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('with IM_MAX_CONNECTIONS_PER_IP=0 (behind a proxy) neither per-address cap applies', async () => {
    const server = await startServer({ socketConnectTimeoutMs: 2000, maxConnectionsPerIp: 0 });
    try {
      const handshakes = await Promise.all(Array.from({ length: 80 }, () => fetch(`${server.socketUrl}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(3000) })));
      expect(handshakes.every((r) => r.status === 200)).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe('per user', () => {
  it('a user holds at most IM_MAX_SOCKETS_PER_USER sockets; closing one lets the next in', async () => {
    const server = await startServer({ maxSocketsPerUser: 2 });
    try {
      const token = await tokenFor(server, uniqueUser());
      const a = await connect(server, token);
      await connect(server, token);
      const err = await connect(server, token).then(
        () => null,
        (e: { data?: { code: number; message: string } }) => e,
      );
      expect(err?.data).toMatchObject({ code: 42900, message: expect.stringMatching(/IM_MAX_SOCKETS_PER_USER/) });
      a.close();
      await sleep(100);
      expect((await connect(server, token)).connected).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('a large sync costs by its bytes: the next events of that user wait', async () => {
    const server = await startServer({ rateLimit: 5, rateBurst: 10 });
    try {
      const a = uniqueUser();
      const b = uniqueUser();
      const tA = await tokenFor(server, a);
      const sb = await connect(server, await tokenFor(server, b));
      const big = 'x'.repeat(30_000);
      for (let i = 0; i < 8; i++) {
        expect((await call(sb, 'chat:send', { clientMsgId: cid(), chatType: 0, to: a, content: big, data: { big } })).code).toBe(0);
        await sleep(220); // within the sender's rate
      }
      const sa = await connect(server, tA);
      const page = await call(sa, 'chat:sync', { afterInboxSeq: 0, limit: 500 });
      expect(page.data.messages).toHaveLength(8); // 8 x 60 KB is under the 1 MB reply limit
      // ~480 KB is 7 more tokens than the one the event took: the bucket (10) is spent.
      const after = await Promise.all(Array.from({ length: 4 }, () => call(sa, 'heartbeat', {})));
      expect(after.map((r) => r.code)).toContain(42900);
    } finally {
      await server.stop();
    }
  });
});

describe('bounded replies', () => {
  let server: TestServer;
  let a: string;
  let tA: string;
  let b: string;
  beforeAll(async () => {
    server = await startServer({ replyMaxBytes: 200_000 });
    a = uniqueUser();
    b = uniqueUser();
    tA = await tokenFor(server, a);
    const sb = await connect(server, await tokenFor(server, b));
    for (let i = 0; i < 20; i++) {
      expect((await call(sb, 'chat:send', { clientMsgId: `big${i}`, chatType: 0, to: a, content: `${i} ${'y'.repeat(30_000)}` })).code).toBe(0);
    }
  });
  afterAll(() => server.stop());

  it('chat:sync stops at IM_REPLY_MAX_BYTES and says hasMore; paging on returns every message once', async () => {
    const sa = await connect(server, tA);
    const seen: number[] = [];
    let after = 0;
    for (let pages = 0; pages < 20; pages++) {
      const page = await call(sa, 'chat:sync', { afterInboxSeq: after, limit: 500 });
      expect(JSON.stringify(page.data).length).toBeLessThan(240_000);
      for (const m of page.data.messages) seen.push(m.inboxSeq);
      if (!page.data.hasMore) break;
      expect(page.data.messages.length).toBeGreaterThan(0);
      after = page.data.messages[page.data.messages.length - 1].inboxSeq;
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('history pages are bounded the same way and keep the messages next to the cursor', async () => {
    const back = await http(server, 'GET', `/api/private/${b}/messages?limitSize=100`, undefined, tA);
    const seqs = back.body.data.map((m: { seq: number }) => m.seq);
    expect(seqs.length).toBeLessThan(20);
    expect(seqs[seqs.length - 1]).toBe(20); // the newest, nearest msgSeqId 0
    const forward = await http(server, 'GET', `/api/private/${b}/messages?limitSize=100&msgSeqId=0&syncType=FORWARD`, undefined, tA);
    expect(forward.body.data[0].seq).toBe(1);
    expect(forward.body.data.length).toBeLessThan(20);
  });
});

describe('groups', () => {
  it('a group has at most IM_GROUP_MAX_MEMBERS members, however it is built', async () => {
    const server = await startServer({ groupMaxMembers: 4 });
    try {
      const owner = uniqueUser();
      const tO = await tokenFor(server, owner);
      const ids = [uniqueUser(), uniqueUser(), uniqueUser(), uniqueUser()];
      for (const id of ids) await tokenFor(server, id);
      const tooBig = await http(server, 'POST', '/api/groups', { name: 'g', userIdList: ids }, tO);
      expect(tooBig.body).toMatchObject({ code: 40300, message: expect.stringMatching(/IM_GROUP_MAX_MEMBERS/) });
      const g = (await http(server, 'POST', '/api/groups', { name: 'g', userIdList: ids.slice(0, 2) }, tO)).body.data;
      expect((await http(server, 'POST', `/api/groups/${g.id}/members`, { userIdList: [ids[2]] }, tO)).body.code).toBe(0);
      const over = await http(server, 'POST', `/api/groups/${g.id}/members`, { userIdList: [ids[3]] }, tO);
      expect(over.body.code).toBe(40300);
      // Adding someone already in it is not growth.
      expect((await http(server, 'POST', `/api/groups/${g.id}/members`, { userIdList: [ids[0]] }, tO)).body.code).toBe(0);
    } finally {
      await server.stop();
    }
  });
});

describe('HTTP rate limits', () => {
  it('the app-secret endpoints are limited per address (IM_HTTP_AUTH_RATE_LIMIT): guessing stops at 429', async () => {
    const server = await startServer({ httpAuthRateLimit: 5 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: `guess-${i}`, userId: 'x' });
        codes.push(r.body.code);
        if (r.body.code === 42900) expect(r.status).toBe(429);
      }
      expect(codes.slice(0, 5)).toEqual([40103, 40103, 40103, 40103, 40103]);
      expect(codes.slice(5)).toEqual([42900, 42900, 42900]);
      // The right secret is limited too while the window lasts: the limit is on the address.
      expect((await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: 'x' })).body.code).toBe(42900);
      // Other routes are not.
      expect((await http(server, 'GET', '/health')).body.code).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('a user is limited across the authenticated routes (IM_HTTP_RATE_LIMIT); another user is not', async () => {
    const server = await startServer({ httpRateLimit: 4 });
    try {
      const tA = await tokenFor(server, uniqueUser());
      const tB = await tokenFor(server, uniqueUser());
      const codes = [];
      for (const path of ['/api/groups', '/api/conversations', '/api/groups', '/api/conversations', '/api/groups']) {
        codes.push((await http(server, 'GET', path, undefined, tA)).body.code);
      }
      expect(codes).toEqual([0, 0, 0, 0, 42900]);
      expect((await http(server, 'GET', '/api/groups', undefined, tB)).body.code).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('read marks need a real conversation partner and write nothing before the first message', async () => {
    const server = await startServer();
    try {
      const a = uniqueUser();
      const tA = await tokenFor(server, a);
      const peer = uniqueUser();
      await tokenFor(server, peer);
      expect((await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: 'nobody-1' }, tA)).body.code).toBe(40400);
      const before = readRows(server);
      const empty = await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: peer }, tA);
      expect(empty.body).toMatchObject({ code: 0, data: { readSeq: 0, unreadCount: 0 } });
      expect(readRows(server)).toBe(before);
    } finally {
      await server.stop();
    }
  });
});

/** Rows of read positions in the server's database (a private conversation's first message adds one). */
function readRows(server: TestServer): number {
  const db = (server.im.storage as unknown as { db: { prepare(sql: string): { get(): { n: number } } } }).db;
  return db.prepare('SELECT COUNT(*) AS n FROM read_state').get().n;
}

describe('odd input', () => {
  let server: TestServer;
  let sa: Awaited<ReturnType<typeof connect>>;
  let b: string;
  let tA: string;
  beforeAll(async () => {
    server = await startServer();
    b = uniqueUser();
    await tokenFor(server, b);
    tA = await tokenFor(server, uniqueUser());
  });
  beforeEach(async () => {
    sa = await connect(server, tA);
  });
  afterAll(() => server.stop());
  const send = (over: Record<string, unknown>) => call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'hi', ...over });

  it('binary in data (a Socket.IO attachment) is refused, not stored as {"type":"Buffer"}', async () => {
    const r = await send({ data: { blob: Buffer.from('abc') } });
    expect(r).toMatchObject({ code: 40000, message: expect.stringMatching(/binary/) });
  });

  it('content over the limit is 41300 whatever its length in characters', async () => {
    expect((await send({ content: 'x'.repeat(40_001) })).code).toBe(41300);
    expect((await send({ content: '字'.repeat(11_000) })).code).toBe(41300);
  });

  it('16 levels of nesting in data pass, 17 do not (an empty object is a level too)', async () => {
    const nest = (levels: number) => {
      let v: Record<string, unknown> = {};
      for (let i = 1; i < levels; i++) v = { v };
      return v;
    };
    expect((await send({ data: nest(16) })).code).toBe(0);
    expect((await send({ data: nest(17) })).code).toBe(40000);
  });

  it('a text message of only invisible characters (U+200B, NUL, U+FEFF) is empty', async () => {
    for (const content of ['\u200b', '\u0000', '\u200b\u200c\ufeff ', '\u3164']) expect((await send({ content })).code).toBe(40000);
    expect((await send({ content: '\u200bhi' })).code).toBe(0);
  });

  it('lone surrogates in user and group names are refused, not stored as U+FFFD', async () => {
    const r = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: uniqueUser(), userName: 'bad\ud800' });
    expect(r.body.code).toBe(40000);
    const reg = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId: uniqueUser(), companyName: '\udfffx' });
    expect(reg.body.code).toBe(40000);
    const tO = await tokenFor(server, uniqueUser());
    expect((await http(server, 'POST', '/api/groups', { name: 'g\ud83d' }, tO)).body.code).toBe(40000);
    expect((await http(server, 'POST', '/api/groups', { name: 'g', description: '\ud83d' }, tO)).body.code).toBe(40000);
    expect((await http(server, 'POST', '/api/groups', { name: '\u200b\u200b' }, tO)).body.code).toBe(40000);
  });
});

describe('tokens', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ tokenMaxTtl: 3600, tokenTtl: 600 });
  });
  afterAll(() => server.stop());

  /** A token signed with the app secret, with any header and claims. */
  const forge = (header: Record<string, unknown>, claims: Record<string, unknown>) => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const head = `${enc({ alg: 'HS256', typ: 'JWT', ...header })}.${enc(claims)}`;
    return `${head}.${createHmac('sha256', server.appSecret).update(head).digest('base64url')}`;
  };

  it('a token that claims a lifetime over IM_TOKEN_MAX_TTL is refused', async () => {
    const user = uniqueUser();
    await tokenFor(server, user);
    const now = Math.floor(Date.now() / 1000);
    for (const exp of [1e300, now + 3601 + 60]) {
      const r = await http(server, 'GET', '/api/groups', undefined, forge({}, { sub: user, app: server.appId, iat: now, exp }));
      expect(r.body).toMatchObject({ code: 40101, message: expect.stringMatching(/IM_TOKEN_MAX_TTL/) });
    }
    // Back-dating iat does not help: exp counts from now too.
    expect((await http(server, 'GET', '/api/groups', undefined, forge({}, { sub: user, app: server.appId, iat: now - 1e6, exp: now + 7200 }))).body.code).toBe(40101);
    expect((await http(server, 'GET', '/api/groups', undefined, forge({}, { sub: user, app: server.appId, iat: now, exp: now + 3000 }))).body.code).toBe(0);
    // Tokens minted by the server itself are well inside it.
    expect((await http(server, 'GET', '/api/groups', undefined, await tokenFor(server, user))).body.code).toBe(0);
    expect((await http(server, 'GET', '/api/groups', undefined, mintToken({ appId: server.appId, appSecret: server.appSecret, userId: user, ttlSeconds: 3600 }))).body.code).toBe(0);
  });

  it('a token with a critical header extension is refused', async () => {
    const user = uniqueUser();
    await tokenFor(server, user);
    const now = Math.floor(Date.now() / 1000);
    const r = await http(server, 'GET', '/api/groups', undefined, forge({ crit: ['exp'] }, { sub: user, app: server.appId, iat: now, exp: now + 60 }));
    expect(r.body).toMatchObject({ code: 40101, message: expect.stringMatching(/crit/) });
    const s = ioV4(server.socketUrl, { auth: { token: forge({ crit: ['x'] }, { sub: user, app: server.appId, iat: now, exp: now + 60 }) }, transports: ['websocket'], reconnection: false, forceNew: true });
    const err = await new Promise<{ data?: { code: number } }>((resolve) => s.once('connect_error', resolve));
    s.close();
    expect(err.data?.code).toBe(40101);
  });

  it('IM_TOKEN_TTL may not exceed IM_TOKEN_MAX_TTL, and a generated app secret has 32 random bytes', async () => {
    expect(() => resolveConfig({ tokenTtl: 7200, tokenMaxTtl: 3600 })).toThrow(ConfigError);
    const fresh = await startServer({ dataDir: ':memory:' });
    try {
      expect(Buffer.from(fresh.appSecret, 'base64url').length).toBe(32);
    } finally {
      await fresh.stop();
    }
  });
});

describe('paged lists', () => {
  it('groups and conversations page by cursor; without limit or cursor the array is bounded', async () => {
    const server = await startServer();
    try {
      const me = uniqueUser();
      const tMe = await tokenFor(server, me);
      const sMe = await connect(server, tMe);
      const groupIds: string[] = [];
      for (let i = 0; i < 7; i++) {
        groupIds.push((await http(server, 'POST', '/api/groups', { name: `g${i}` }, tMe)).body.data.id);
        await sleep(2); // distinct creation times
      }
      for (let i = 0; i < 5; i++) {
        const peer = uniqueUser();
        await tokenFor(server, peer);
        expect((await call(sMe, 'chat:send', { clientMsgId: cid(), chatType: 0, to: peer, content: `to ${i}` })).code).toBe(0);
        await sleep(2);
      }
      for (const [path, total] of [['/api/groups', 7], ['/api/conversations', 5]] as const) {
        const seen: string[] = [];
        let cursor: string | null = null;
        const sizes: number[] = [];
        do {
          const q: string = `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page = (await http(server, 'GET', `${path}${q}`, undefined, tMe)).body.data;
          sizes.push(page.items.length);
          for (const item of page.items) seen.push(item.groupId ?? item.conversationId);
          cursor = page.nextCursor;
        } while (cursor);
        expect(sizes).toEqual(total === 7 ? [3, 3, 1] : [3, 2]);
        expect(new Set(seen).size).toBe(total);
        // The unpaged form still answers the whole (bounded) list as an array, in the same order.
        const unpaged = (await http(server, 'GET', path, undefined, tMe)).body.data;
        expect(unpaged.map((x: { groupId?: string; conversationId: string }) => x.groupId ?? x.conversationId)).toEqual(seen);
      }
      expect(groupIds.slice().reverse()).toEqual((await http(server, 'GET', '/api/groups', undefined, tMe)).body.data.map((g: { id: string }) => g.id));
      expect((await http(server, 'GET', '/api/groups?limit=501', undefined, tMe)).body.code).toBe(40000);
      expect((await http(server, 'GET', '/api/conversations?cursor=not-a-cursor', undefined, tMe)).body.code).toBe(40000);
    } finally {
      await server.stop();
    }
  });
});
