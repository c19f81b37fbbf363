/**
 * The webhook queue on PostgreSQL (a real one, started for this file): claims made at the same
 * moment take disjoint events (FOR UPDATE SKIP LOCKED) and hide them for their lease, and two
 * server nodes on one database share the delivery of one node's events, each delivered once.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startPostgres, type Engine } from '../cluster/engines';
import { PostgresStorage } from '../../server/src/storage/postgres';
import { PostgresWebhookStore } from '../../server/src/webhooks/postgres-store';
import { call, cid, closeAll, connect, http, sleep, startServer, tokenFor, until } from './helpers';

jest.setTimeout(90_000);

let pg: Engine;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await closeAll();
  await pg?.stop();
});

it('concurrent claims take disjoint events and hide them for their lease; a retry is claimable when due', async () => {
  const storage = await PostgresStorage.open({ url: pg.url, poolSize: 6 });
  try {
    const store = new PostgresWebhookStore(storage.pool);
    const appId = `claims-${cid()}`;
    const now = Date.now();
    const ids = Array.from({ length: 200 }, () => randomUUID());
    await store.enqueue(ids.map((id, i) => ({ id, appId, event: 'afterSend', body: `{"n":${i}}`, createdAt: now - 1000 })));
    expect(await store.pendingCount(appId)).toBe(200);

    const claims = await Promise.all(Array.from({ length: 5 }, () => store.claim(Date.now(), 60, Date.now() + 60_000)));
    const taken = claims.flat().map((e) => e.id);
    expect(taken).toHaveLength(200);
    expect(new Set(taken).size).toBe(200);
    expect(new Set(taken)).toEqual(new Set(ids));
    expect(await store.claim(Date.now(), 60, Date.now() + 60_000)).toEqual([]);

    await store.retryAt(ids[0]!, 1, Date.now() - 1, 'status 500');
    const again = await store.claim(Date.now(), 60, Date.now() + 60_000);
    expect(again).toEqual([expect.objectContaining({ id: ids[0], attempts: 1, appId, event: 'afterSend' })]);
    await store.remove(ids[0]!);
    expect(await store.pendingCount(appId)).toBe(199);
  } finally {
    await storage.close();
  }
});

it("two nodes on one database share one node's afterSend events, each delivered once", async () => {
  const seen: string[] = [];
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (body.event === 'afterSend') seen.push(req.headers['x-comind-idempotency-key'] as string);
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"action":"allow"}'), 30);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  // The receiver is on loopback: calls reach it only with the switch.
  const options = { databaseUrl: pg.url, devAppId: 'wh-pg', devAppSecret: 'wh-pg-app-secret', webhookAllowPrivate: true, webhooks: { pollMs: 20, maxConcurrent: 2 } };
  const a = await startServer(options);
  const b = await startServer(options);
  try {
    const delivered = { a: 0, b: 0 };
    a.im.service.webhooks!.metrics = { webhookCall: (e, o) => void (e === 'afterSend' && o === 'delivered' && delivered.a++) };
    b.im.service.webhooks!.metrics = { webhookCall: (e, o) => void (e === 'afterSend' && o === 'delivered' && delivered.b++) };
    const auth = { authorization: `Basic ${Buffer.from('wh-pg:wh-pg-app-secret').toString('base64')}` };
    expect((await http(a, 'PUT', '/api/server/webhooks', { url, events: ['beforeSend', 'afterSend'], secret: 'pg-webhook-secret-0123' }, undefined, auth)).body.code).toBe(0);
    await tokenFor(a, 'pg-b');
    const sender = await connect(a, await tokenFor(a, 'pg-a'));
    const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => call(sender, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'pg-b', content: `m${i}` })));
    expect(acks.every((r) => r.code === 0)).toBe(true);
    await until(() => new Set(seen).size === 40, 30_000, 'every afterSend');
    await sleep(500);
    expect(seen).toHaveLength(40);
    expect(delivered.a + delivered.b).toBe(40);
    expect(delivered.b).toBeGreaterThan(0);
    const got = await http(b, 'GET', '/api/server/webhooks', undefined, undefined, auth);
    expect(got.body.data).toMatchObject({ url, events: ['beforeSend', 'afterSend'], secretSet: true });
    expect((await http(b, 'POST', '/api/server/webhooks/delete', undefined, undefined, auth)).body.data).toEqual({ deleted: true });
    expect((await http(a, 'POST', '/api/server/webhooks/delete', undefined, undefined, auth)).body.data).toEqual({ deleted: false });
  } finally {
    await a.stop();
    await b.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
  }
});
