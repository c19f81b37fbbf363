/**
 * Two server nodes on one real PostgreSQL (IM_DATABASE_URL), without Redis yet: each node serves
 * its own sockets, and a user on the other node gets what was sent through this one by catch-up
 * from the shared database. Sends into one conversation through both nodes at once get seqs
 * 1..N once each, and a clientMsgId retried through the other node returns the first message.
 */
import { createWebAdapter } from '../../adapters/web';
import { ImClient } from '../../src/client';
import type { ImMessage } from '../../src/core/protocol';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { call, closeAll, collect, connect, http, startServer, tokenFor, type TestServer } from '../server/helpers';
import { freePort, startHaproxy, startPostgres, startRedis, type Engine } from './engines';
import { png } from '../media/fixtures';
import { startS3, s3Options, type S3Server } from '../media/s3';
import { download, upload } from '../media/upload';

jest.setTimeout(60_000);

const APP = { devAppId: 'pg-app', devAppSecret: 'pg-app-secret-0123456789' };
let pg: Engine;
let nodes: TestServer[];

beforeAll(async () => {
  pg = await startPostgres();
  // Started one after the other: the first one migrates, the second finds the schema in place.
  nodes = [];
  for (let i = 0; i < 2; i++) nodes.push(await startServer({ ...APP, databaseUrl: pg.url, dbPoolSize: 5 }));
});

afterAll(async () => {
  await closeAll();
  await pg?.stop();
});

function client(node: TestServer): ImClient {
  return new ImClient({ serverUrl: node.socketUrl, apiServer: node.apiUrl, adapter: createWebAdapter(), logLevel: 'silent', reconnectionDelay: 50 });
}

async function ready(c: ImClient, token: string): Promise<void> {
  const done = new Promise((r) => c.once('ready', r));
  await c.connect({ token });
  await done;
}

it('a user on the other node catches up exactly once what was sent through this one, private and group', async () => {
  const [n1, n2] = nodes as [TestServer, TestServer];
  const tA = await tokenFor(n1, 'pg-alice');
  const tB = await tokenFor(n2, 'pg-bob');
  const alice = client(n1);
  const bob = client(n2);
  const got: ImMessage[] = [];
  bob.on('imchat', (m) => got.push(m));
  try {
    await ready(alice, tA);
    await ready(bob, tB); // a device that has synced: later groups start at the join
    const group = await alice.createGroup({ name: 'Across', userIdList: ['pg-bob'] });
    bob.disconnect();
    const p1 = await alice.sendPrivateMessage({ recipientId: 'pg-bob', content: 'hi from node 1' });
    const g1 = await alice.sendGroupMessage({ groupId: group.id, content: 'group from node 1' });
    await ready(bob, tB);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.map((m) => m.messageId).sort()).toEqual([p1.messageId, g1.messageId].sort());
    // History through either node is the same database.
    const h1 = await http(n1, 'GET', `/api/groups/${group.id}/messages`, undefined, tA);
    const h2 = await http(n2, 'GET', `/api/groups/${group.id}/messages`, undefined, tB);
    expect(h2.body.data).toEqual(h1.body.data);
  } finally {
    alice.destroy();
    bob.destroy();
  }
});

it('sends into one conversation through both nodes at once get seqs 1..N once each; a retry through the other node returns the first', async () => {
  const [n1, n2] = nodes as [TestServer, TestServer];
  const tA = await tokenFor(n1, 'pg-amy');
  await tokenFor(n1, 'pg-ben');
  const s1 = await connect(n1, tA);
  const s2 = await connect(n2, tA); // the same user on both nodes
  const sends = Array.from({ length: 30 }, (_, i) => call(i % 2 ? s2 : s1, 'chat:send', { clientMsgId: `both-${i}`, chatType: 0, to: 'pg-ben', content: `#${i}` }));
  const acks = await Promise.all(sends);
  expect(acks.every((a) => a.code === 0)).toBe(true);
  expect(acks.map((a) => a.data.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  // Retried through the node that did not store it: the first answer again.
  const retry = await call(s2, 'chat:send', { clientMsgId: 'both-0', chatType: 0, to: 'pg-ben', content: '#0' });
  expect(retry.data).toMatchObject({ messageId: acks[0]!.data.messageId, seq: acks[0]!.data.seq });
  const history = await http(n2, 'GET', '/api/private/pg-ben/messages?limitSize=100', undefined, tA);
  expect(history.body.data).toHaveLength(30);
});

describe('three nodes on PostgreSQL and Redis', () => {
  let redis: Engine;
  let cluster: TestServer[];
  const APP3 = { devAppId: 'rd-app', devAppSecret: 'rd-app-secret-0123456789' };
  let s3: S3Server;
  beforeAll(async () => {
    redis = await startRedis();
    s3 = await startS3();
    cluster = [];
    for (let i = 0; i < 3; i++) cluster.push(await startServer({ ...APP3, databaseUrl: pg.url, dbPoolSize: 5, redisUrl: redis.url, ...s3Options(s3) }));
  });
  afterAll(async () => {
    for (const n of cluster ?? []) await n.stop();
    await redis?.stop();
    await s3?.stop();
  });

  it('an image uploaded through one node is sent and downloaded through another (s3 driver)', async () => {
    const [n1, n2, n3] = cluster as [TestServer, TestServer, TestServer];
    const ta = await tokenFor(n1, 'rd-media-a');
    const tb = await tokenFor(n2, 'rd-media-b');
    const up = (await upload(n1, ta, await png(640, 480), { filename: 'across.png' })).body.data;
    const a = await connect(n3, ta);
    const b = await connect(n2, tb);
    const got = collect<ImMessage>(b, 'imchat');
    expect((await call(a, 'chat:send', { clientMsgId: 'rd-media-1', chatType: 0, to: 'rd-media-b', content: '', msgType: 1, data: { fileId: up.fileId } })).code).toBe(0);
    const deadline = Date.now() + 5000;
    while (!got.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const url = (got[0]!.data as { url: string; thumbnailUrl: string }).url;
    const served = await download(n2, url);
    expect(served.status).toBe(200);
    expect(served.bytes.length).toBe(up.size);
    expect((await download(n1, (got[0]!.data as { thumbnailUrl: string }).thumbnailUrl)).status).toBe(200);
  });

  it('users on different nodes chat live, privately and in a group, each message once', async () => {
    const [n1, n2, n3] = cluster as [TestServer, TestServer, TestServer];
    const tokens = [await tokenFor(n1, 'rd-a'), await tokenFor(n2, 'rd-b'), await tokenFor(n3, 'rd-c')];
    const [a, b, c] = [client(n1), client(n2), client(n3)];
    const bGot: ImMessage[] = [];
    const cGot: ImMessage[] = [];
    b.on('imchat', (m) => bGot.push(m));
    c.on('imchat', (m) => cGot.push(m));
    try {
      await ready(a, tokens[0]!);
      await ready(b, tokens[1]!);
      await ready(c, tokens[2]!);
      const group = await a.createGroup({ name: 'Three nodes', userIdList: ['rd-b', 'rd-c'] });
      const p = await a.sendPrivateMessage({ recipientId: 'rd-b', content: 'live across nodes' });
      const g = await a.sendGroupMessage({ groupId: group.id, content: 'to everyone' });
      const deadline = Date.now() + 5000;
      while ((bGot.length < 2 || cGot.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 200));
      expect(bGot.map((m) => m.messageId)).toEqual([p.messageId, g.messageId]);
      expect(cGot.map((m) => m.messageId)).toEqual([g.messageId]);
    } finally {
      a.destroy();
      b.destroy();
      c.destroy();
    }
  });

  it('through HAProxy (deploy/haproxy.cfg), a long-polling client chats with a user on a node', async () => {
    const vars: Record<string, number> = { API_PORT: await freePort(), SOCKET_PORT: await freePort() };
    cluster.forEach((n, i) => {
      vars[`NODE${i + 1}_API`] = Number(new URL(n.apiUrl).port);
      vars[`NODE${i + 1}_SOCKET`] = Number(new URL(n.socketUrl).port);
    });
    const proxy = await startHaproxy(readFileSync(path.join(__dirname, '../../deploy/haproxy.cfg'), 'utf8'), vars, 'API_PORT');
    const [n1] = cluster as [TestServer];
    const tPoll = await tokenFor(n1, 'rd-poll');
    const tWs = await tokenFor(n1, 'rd-ws');
    // socket.io-client's long-polling transport, through the proxy's Socket.IO port.
    // withCredentials: the client keeps and sends the proxy's IM_NODE cookie (stickiness).
    const polling = connect({ socketUrl: `http://127.0.0.1:${vars.SOCKET_PORT}` }, tPoll, { transports: ['polling'], withCredentials: true });
    const ws = await connect(n1, tWs);
    try {
      const sp = await polling;
      const toPoll = collect<ImMessage>(sp, 'imchat');
      const toWs = collect<ImMessage>(ws, 'imchat');
      for (let i = 0; i < 5; i++) {
        expect((await call(sp, 'chat:send', { clientMsgId: `poll-${i}`, chatType: 0, to: 'rd-ws', content: `poll ${i}` })).code).toBe(0);
        expect((await call(ws, 'chat:send', { clientMsgId: `ws-${i}`, chatType: 0, to: 'rd-poll', content: `ws ${i}` })).code).toBe(0);
      }
      const deadline = Date.now() + 5000;
      while ((toPoll.length < 5 || toWs.length < 5) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(toWs.map((m) => m.content)).toEqual([0, 1, 2, 3, 4].map((i) => `poll ${i}`));
      expect(toPoll.map((m) => m.content)).toEqual([0, 1, 2, 3, 4].map((i) => `ws ${i}`));
      expect((sp as unknown as { io: { engine: { transport: { name: string } } } }).io.engine.transport.name).toBe('polling');
    } finally {
      await proxy.stop();
    }
  });

  it('a revoke and an edit made on one node reach devices on the others, live and (for one that was offline) by catch-up', async () => {
    const [n1, n2, n3] = cluster as [TestServer, TestServer, TestServer];
    const tokens = [await tokenFor(n1, 'rd-rv-a'), await tokenFor(n2, 'rd-rv-b'), await tokenFor(n3, 'rd-rv-c')];
    const [a, b, c] = [client(n1), client(n2), client(n3)];
    const seenB: string[] = [];
    const seenC: string[] = [];
    b.on('messageRevoked', (r) => seenB.push(`revoked:${r.chatType}`));
    b.on('messageEdited', (m) => seenB.push(`edited:${m.content}`));
    c.on('imchat', (m) => seenC.push(`imchat:${m.revoked ? '<revoked>' : m.content}`));
    c.on('messageRevoked', () => seenC.push('revoked'));
    c.on('messageEdited', (m) => seenC.push(`edited:${m.content}`));
    try {
      await ready(a, tokens[0]!);
      await ready(b, tokens[1]!);
      await ready(c, tokens[2]!);
      const group = await a.createGroup({ name: 'Revokes', userIdList: ['rd-rv-b', 'rd-rv-c'] });
      c.disconnect();
      const p = await a.sendPrivateMessage({ recipientId: 'rd-rv-b', content: 'typo hre' });
      const g = await a.sendGroupMessage({ groupId: group.id, content: 'not for you all' });
      await a.editMessage({ messageId: p.messageId, content: 'typo here' });
      await a.revokeMessage({ messageId: g.messageId });
      const deadline = Date.now() + 5000;
      while (seenB.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seenB).toEqual(['edited:typo here', 'revoked:1']);
      const caught = new Promise((r) => c.once('ready', r));
      await c.connect();
      await caught;
      while (seenC.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seenC).toEqual(['imchat:<revoked>', 'revoked']);
    } finally {
      a.destroy();
      b.destroy();
      c.destroy();
    }
  });

  it('typing and signals reach a user on another node, live only', async () => {
    const [n1, n2] = cluster as [TestServer, TestServer];
    const ta = await tokenFor(n1, 'rd-sig-a');
    const tb = await tokenFor(n2, 'rd-sig-b');
    const a = await connect(n1, ta);
    const b = await connect(n2, tb);
    const typing = collect(b, 'typing');
    const signals = collect(b, 'signal');
    expect((await call(a, 'chat:typing', { to: 'rd-sig-b' })).code).toBe(0);
    expect((await call(a, 'chat:signal', { chatType: 0, to: 'rd-sig-b', data: { call: 'offer' } })).code).toBe(0);
    const deadline = Date.now() + 5000;
    while ((!typing.length || !signals.length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(typing).toEqual([{ from: 'rd-sig-a', chatType: 0, to: 'rd-sig-b' }]);
    expect(signals).toMatchObject([{ from: 'rd-sig-a', data: { call: 'offer' } }]);
  });

  it('a read, pin or delete made through one node reaches the user’s device on another as conversation:changed', async () => {
    const [n1, n2] = cluster as [TestServer, TestServer];
    const tme = await tokenFor(n1, 'rd-conv-me');
    const tp = await tokenFor(n1, 'rd-conv-peer');
    const here = await connect(n1, tme);
    const there = await connect(n2, tme);
    const pushes = collect<any>(there, 'conversation:changed');
    const sent = await call(await connect(n1, tp), 'chat:send', { clientMsgId: 'rd-conv-1', chatType: 0, to: 'rd-conv-me', content: 'hi' });
    const until = async (n: number) => {
      const deadline = Date.now() + 5000;
      while (pushes.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(pushes).toHaveLength(n);
    };
    expect((await call(here, 'receipt', { messageId: sent.data.messageId, status: 2 })).code).toBe(0);
    await until(1);
    expect(pushes[0]).toMatchObject({ conversationId: '0:rd-conv-peer', readSeq: sent.data.seq, unreadCount: 0 });
    expect((await http(n1, 'POST', '/api/conversations/pin', { chatType: 0, targetId: 'rd-conv-peer', pinned: true }, tme)).body.code).toBe(0);
    await until(2);
    expect(pushes[1]).toMatchObject({ pinned: true });
    expect((await http(n1, 'POST', '/api/conversations/delete', { chatType: 0, targetId: 'rd-conv-peer' }, tme)).body.code).toBe(0);
    await until(3);
    expect(pushes[2]).toMatchObject({ deleted: true });
  });

  it('disabling a user through one node kicks their socket on another', async () => {
    const [n1, n2] = cluster as [TestServer, TestServer];
    const t = await tokenFor(n2, 'rd-kicked');
    const s = await connect(n2, t);
    const kicked = new Promise<{ reason: string }>((resolve) => s.once('kicked', resolve));
    const disconnected = new Promise((resolve) => s.once('disconnect', resolve));
    expect((await http(n1, 'POST', '/api/users', { appId: APP3.devAppId, appSecret: APP3.devAppSecret, userId: 'rd-kicked', valid: false })).body.code).toBe(0);
    await expect(kicked).resolves.toEqual({ reason: 'user_disabled' });
    await disconnected;
  });
});

describe('per-user limits shared through Redis by two nodes', () => {
  let redis: Engine;
  let pair: TestServer[];
  const APPL = { devAppId: 'lim-app', devAppSecret: 'lim-app-secret-0123456789' };
  const LIMITS = { rateLimit: 1, rateBurst: 10, maxSocketsPerUser: 2, httpRateLimit: 4 };
  beforeAll(async () => {
    redis = await startRedis();
    pair = [];
    for (let i = 0; i < 2; i++) pair.push(await startServer({ ...APPL, ...LIMITS, databaseUrl: pg.url, dbPoolSize: 3, redisUrl: redis.url }));
  });
  afterAll(async () => {
    for (const n of pair ?? []) await n.stop();
    await redis?.stop();
  });

  it('the socket cap counts the user\'s sockets on every node', async () => {
    const [n1, n2] = pair as [TestServer, TestServer];
    const t = await tokenFor(n1, 'lim-sockets');
    const first = await connect(n1, t);
    const second = await connect(n2, t);
    // Two sockets, one on each node: a third is refused by either node.
    const third = await connect(n1, t).then(
      (s) => (s.close(), null),
      (e: Error & { data?: { code: number; message: string } }) => e,
    );
    expect(third?.data).toMatchObject({ code: 42900, message: expect.stringContaining('too many connections') });
    second.close();
    // The place the closed socket held is free again, across nodes.
    const deadline = Date.now() + 3000;
    let again: Awaited<ReturnType<typeof connect>> | undefined;
    while (!again && Date.now() < deadline) again = await connect(n1, t).catch(async () => (await new Promise((r) => setTimeout(r, 50)), undefined));
    expect(again?.connected).toBe(true);
    first.close();
    again?.close();
  });

  it('one rate bucket per user, whichever node the events arrive on', async () => {
    const [n1, n2] = pair as [TestServer, TestServer];
    const t = await tokenFor(n1, 'lim-rate');
    const s1 = await connect(n1, t);
    const s2 = await connect(n2, t);
    try {
      const codes: number[] = [];
      // 14 events, 7 through each node, within ~1 s: a burst of 10 plus ~1 refilled, not 14.
      for (let i = 0; i < 7; i++) {
        codes.push((await call(s1, 'heartbeat', {})).code);
        codes.push((await call(s2, 'heartbeat', {})).code);
      }
      const accepted = codes.filter((c) => c === 0).length;
      expect(accepted).toBeGreaterThanOrEqual(10);
      expect(accepted).toBeLessThanOrEqual(12);
      expect(codes.filter((c) => c !== 0).every((c) => c === 42900)).toBe(true);
    } finally {
      s1.close();
      s2.close();
    }
  });

  it('the HTTP per-user limit is shared too', async () => {
    const [n1, n2] = pair as [TestServer, TestServer];
    const t = await tokenFor(n1, 'lim-http');
    const statuses: number[] = [];
    for (const n of [n1, n2, n1, n2, n1, n2]) statuses.push((await http(n, 'GET', '/api/users/lim-http', undefined, t)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
  });

  it('while Redis is down each node limits on its own and keeps answering; shared again once it is back', async () => {
    const [n1] = pair as [TestServer];
    const t = await tokenFor(n1, 'lim-outage');
    const s = await connect(n1, t);
    const port = Number(new URL(redis.url).port);
    try {
      await redis.stop();
      const during = await call(s, 'heartbeat', {});
      expect(during.code).toBe(0);
      redis = await startRedis(port);
      const deadline = Date.now() + 5000;
      // A bucket key appears in the new Redis once a check goes through it again.
      const { Redis: Client } = await import('ioredis');
      const probe = new Client(redis.url, { lazyConnect: true });
      await probe.connect();
      try {
        let keys: string[] = [];
        while (!keys.length && Date.now() < deadline) {
          expect((await call(s, 'heartbeat', {})).code).toBe(0);
          keys = await probe.keys('im:rate:*lim-outage');
          if (!keys.length) await new Promise((r) => setTimeout(r, 100));
        }
        expect(keys).toHaveLength(1);
      } finally {
        probe.disconnect();
      }
    } finally {
      s.close();
    }
  });
});
