/**
 * GET /metrics (Prometheus text) and GET /api/server/stats against the real server: each counter
 * moves by what the traffic caused, every series carries the node id, IM_METRICS_TOKEN closes the
 * endpoint, and with Redis the stats list every node of the cluster.
 */
import { call, cid, closeAll, connect, http, nextEvent, sleep, startServer, tokenFor, type TestServer } from './helpers';
import { startRedis, type Engine } from '../cluster/engines';
import { pdf } from '../media/fixtures';
import { upload } from '../media/upload';
import { configFromEnv, createImServer } from '../../server/src';

jest.setTimeout(60_000);

afterAll(closeAll);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function scrape(server: { apiUrl: string }, headers: Record<string, string> = {}): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(`${server.apiUrl}/metrics`, { headers, signal: AbortSignal.timeout(5000) });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

async function metrics(server: { apiUrl: string }): Promise<(name: string, labels?: Record<string, string>) => number> {
  const r = await scrape(server);
  expect(r.status).toBe(200);
  const samples = parse(r.text);
  return (name, labels = {}) => {
    const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
    return found[0]!.value;
  };
}

/** Polls an async check until it holds; fails after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const basic = (s: TestServer) => ({ authorization: `Basic ${Buffer.from(`${s.appId}:${s.appSecret}`).toString('base64')}` });

describe('the counters of one node', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ nodeId: 'metrics-node-1' });
  });

  it('every series is labelled with the node id; the Node.js figures (event-loop lag) are there', async () => {
    const r = await scrape(server);
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parse(r.text);
    expect(samples.length).toBeGreaterThan(20);
    expect(samples.filter((s) => s.labels.node !== 'metrics-node-1')).toEqual([]);
    expect(samples.filter((s) => !s.name.startsWith('im_'))).toEqual([]);
    for (const name of ['im_sockets_connected', 'im_messages_stored_total', 'im_messages_delivered_total', 'im_send_ack_seconds_count', 'im_sync_reply_messages_count', 'im_rate_limited_total', 'im_storage_errors_total', 'im_nodejs_eventloop_lag_seconds', 'im_nodejs_eventloop_lag_p99_seconds']) {
      expect(samples.some((s) => s.name === name)).toBe(true);
    }
    // Scraped without credentials: open by default.
  });

  it('sockets, messages stored by chatType, deliveries, acks and sync sizes move by what was done', async () => {
    const before = await metrics(server);
    const [alice, bob, carol] = ['m-alice', 'm-bob', 'm-carol'];
    const tA = await tokenFor(server, alice);
    const tB = await tokenFor(server, bob);
    await tokenFor(server, carol);
    const sa = await connect(server, tA);
    const sb = await connect(server, tB);
    expect((await metrics(server))('im_sockets_connected')).toBe(before('im_sockets_connected') + 2);

    for (let i = 0; i < 3; i++) {
      const got = nextEvent(sb, 'imchat');
      expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: bob, content: `hi ${i}` })).code).toBe(0);
      await got;
    }
    // A retried clientMsgId is acked again but stores nothing and reaches nobody.
    const retried = cid();
    expect((await call(sa, 'chat:send', { clientMsgId: retried, chatType: 0, to: bob, content: 'once' })).code).toBe(0);
    expect((await call(sa, 'chat:send', { clientMsgId: retried, chatType: 0, to: bob, content: 'once' })).code).toBe(0);
    const group = await http(server, 'POST', '/api/groups', { name: 'metrics', userIdList: [bob, carol] }, tA);
    expect(group.body.code).toBe(0);
    for (let i = 0; i < 2; i++) {
      const got = nextEvent(sb, 'imchat');
      expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 1, to: group.body.data.groupId, content: `all ${i}` })).code).toBe(0);
      await got;
    }
    const sync = await call(sb, 'chat:sync', { afterInboxSeq: 0, limit: 100 });
    expect(sync.data.messages).toHaveLength(4);

    const after = await metrics(server);
    expect(after('im_messages_stored_total', { chatType: '0' }) - before('im_messages_stored_total', { chatType: '0' })).toBe(4);
    expect(after('im_messages_stored_total', { chatType: '1' }) - before('im_messages_stored_total', { chatType: '1' })).toBe(2);
    // Private: one packet to bob each (alice's room holds only the sending socket: none there).
    // Group: bob's and alice's rooms (her sending socket excepted), carol is offline: 2 each.
    expect(after('im_messages_delivered_total') - before('im_messages_delivered_total')).toBe(4 + 2 * 2);
    expect(after('im_send_ack_seconds_count') - before('im_send_ack_seconds_count')).toBe(7);
    const sum = after('im_send_ack_seconds_sum') - before('im_send_ack_seconds_sum');
    expect(sum).toBeGreaterThan(0);
    expect(after('im_send_ack_seconds_bucket', { le: '+Inf' }) - before('im_send_ack_seconds_bucket', { le: '+Inf' })).toBe(7);
    expect(after('im_sync_reply_messages_count', { event: 'chat:sync' }) - before('im_sync_reply_messages_count', { event: 'chat:sync' })).toBe(1);
    expect(after('im_sync_reply_messages_sum', { event: 'chat:sync' }) - before('im_sync_reply_messages_sum', { event: 'chat:sync' })).toBe(4);
    // Scraping again adds nothing: the counters are handed over once.
    const again = await metrics(server);
    expect(again('im_messages_stored_total', { chatType: '0' })).toBe(after('im_messages_stored_total', { chatType: '0' }));
    expect(again('im_messages_delivered_total')).toBe(after('im_messages_delivered_total'));

    sb.close();
    await eventually(async () => (await metrics(server))('im_sockets_connected') === before('im_sockets_connected') + 1, 5000, 'the closed socket to be counted out');
    sa.close();
  });

  it('GET /api/server/stats: this node alone without Redis, its connections and a moving message rate', async () => {
    const t = await tokenFor(server, 'm-stats');
    const s = await connect(server, t);
    for (let i = 0; i < 3; i++) expect((await call(s, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'm-alice', content: 'x' })).code).toBe(0);
    expect((await http(server, 'GET', '/api/server/stats')).body.code).toBe(40100);
    const r = await http(server, 'GET', '/api/server/stats', undefined, undefined, basic(server));
    expect(r.body.code).toBe(0);
    const sockets = (await metrics(server))('im_sockets_connected');
    expect(r.body.data).toEqual({ connections: sockets, messagesPerSec: expect.any(Number), nodes: [{ nodeId: 'metrics-node-1', connections: sockets, messagesPerSec: r.body.data.messagesPerSec, startedAt: expect.any(Number), lastSeenAt: expect.any(Number) }] });
    expect(r.body.data.messagesPerSec).toBeGreaterThan(0);
    expect(r.body.data.nodes[0].startedAt).toBeLessThanOrEqual(r.body.data.nodes[0].lastSeenAt);
    s.close();
  });

  it('a request carries its id back: the client one when it is a plain token, else a new one', async () => {
    const mine = await http(server, 'GET', '/health', undefined, undefined, { 'x-request-id': 'trace-42.a' });
    expect(mine.headers.get('x-request-id')).toBe('trace-42.a');
    const odd = await http(server, 'GET', '/no-such-route', undefined, undefined, { 'x-request-id': 'has space and {json}' });
    expect(odd.status).toBe(404);
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

it('rate-limit refusals are counted by kind: socket events, HTTP requests, uploads', async () => {
  const server = await startServer({ rateLimit: 1, rateBurst: 5, httpRateLimit: 20, uploadRate: 1, uploadBurst: 10 });
  const before = await metrics(server);
  const s = await connect(server, await tokenFor(server, 'rl-socket'));
  const acks = await Promise.all(Array.from({ length: 12 }, () => call(s, 'heartbeat')));
  const socketRefused = acks.filter((a) => a.code === 42900).length;
  expect(socketRefused).toBeGreaterThan(0);

  const t = await tokenFor(server, 'rl-http');
  const answers = await Promise.all(Array.from({ length: 26 }, () => http(server, 'GET', '/api/users/rl-http', undefined, t)));
  const httpRefused = answers.filter((a) => a.status === 429).length;
  expect(httpRefused).toBe(6);

  const tu = await tokenFor(server, 'rl-upload');
  const eightKb = Buffer.concat([pdf(), Buffer.alloc(8 * 1024, 1)]);
  const statuses: number[] = [];
  for (const name of ['a.pdf', 'b.pdf', 'c.pdf']) statuses.push((await upload(server, tu, eightKb, { filename: name })).status);
  expect(statuses).toEqual([200, 200, 429]);

  const after = await metrics(server);
  expect(after('im_rate_limited_total', { kind: 'socket' }) - before('im_rate_limited_total', { kind: 'socket' })).toBe(socketRefused);
  expect(after('im_rate_limited_total', { kind: 'http' }) - before('im_rate_limited_total', { kind: 'http' })).toBe(httpRefused);
  expect(after('im_rate_limited_total', { kind: 'upload' }) - before('im_rate_limited_total', { kind: 'upload' })).toBe(1);
  await server.stop();
});

it('a database failure is counted in im_storage_errors_total and answered 50000', async () => {
  const server = await startServer();
  const t = await tokenFor(server, 'se-user');
  const before = await metrics(server);
  // A table gone under the server: the statement that reads it fails in the driver.
  (server.im.storage as unknown as { db: { exec(sql: string): void } }).db.exec('PRAGMA foreign_keys = OFF; DROP TABLE groups');
  const r = await http(server, 'GET', '/api/groups/g-any', undefined, t);
  expect(r.body.code).toBe(50000);
  const after = await metrics(server);
  expect(after('im_storage_errors_total', { kind: 'fatal' }) - before('im_storage_errors_total', { kind: 'fatal' })).toBe(1);
  expect(after('im_storage_errors_total', { kind: 'retryable' })).toBe(before('im_storage_errors_total', { kind: 'retryable' }));
  await server.stop();
});

it('with IM_METRICS_TOKEN set, GET /metrics needs it as a bearer token', async () => {
  const token = 'metrics-token-0123456789';
  const server = await startServer({ metricsToken: token });
  const none = await scrape(server);
  expect(none.status).toBe(401);
  expect(JSON.parse(none.text)).toMatchObject({ code: 40100 });
  const wrong = await scrape(server, { authorization: 'Bearer metrics-token-0123456780' });
  expect(wrong.status).toBe(401);
  expect(JSON.parse(wrong.text)).toMatchObject({ code: 40101 });
  // An app's credentials are not the metrics token either.
  expect((await scrape(server, basic(server))).status).toBe(401);
  const right = await scrape(server, { authorization: `Bearer ${token}` });
  expect(right.status).toBe(200);
  expect(parse(right.text).some((s) => s.name === 'im_sockets_connected')).toBe(true);
  await server.stop();
});

it('IM_NODE_ID, IM_METRICS_TOKEN and IM_LOG_LEVEL are read and checked', () => {
  expect(configFromEnv({ IM_NODE_ID: 'im-1', IM_METRICS_TOKEN: 'metrics-token-0123456789', IM_LOG_LEVEL: 'debug' })).toMatchObject({ nodeId: 'im-1', metricsToken: 'metrics-token-0123456789', logLevel: 'debug' });
  expect(() => configFromEnv({ IM_NODE_ID: 'two words' })).toThrow(/IM_NODE_ID must be 1-64 characters/);
  expect(() => configFromEnv({ IM_METRICS_TOKEN: 'short' })).toThrow(/IM_METRICS_TOKEN must be 16-200 characters/);
  expect(() => configFromEnv({ IM_LOG_LEVEL: 'verbose' })).toThrow(/IM_LOG_LEVEL must be one of silent, error, warn, info, debug/);
  expect(() => createImServer({ dataDir: ':memory:', logLevel: 'loud' as never })).toThrow(/logLevel must be one of/);
});

describe('a cluster on one Redis', () => {
  let redis: Engine;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await closeAll();
    await redis?.stop();
  });

  it('GET /api/server/stats lists every node with its own figures, and drops a node that stopped', async () => {
    const app = { devAppId: 'stats-app', devAppSecret: 'stats-app-secret-0123' };
    const a = await startServer({ ...app, redisUrl: redis.url, nodeId: 'node-a' });
    const b = await startServer({ ...app, redisUrl: redis.url, nodeId: 'node-b' });
    await connect(a, await tokenFor(a, 'cl-1'));
    const t2 = await tokenFor(b, 'cl-2');
    await connect(b, t2);
    await connect(b, t2);
    const stats = async (via: TestServer) => (await http(via, 'GET', '/api/server/stats', undefined, undefined, basic(via))).body.data;
    // Each node refreshes its figures every 2 s.
    let seen: any;
    await eventually(async () => {
      seen = await stats(a);
      return seen.nodes.length === 2 && seen.nodes[1].connections === 2;
    }, 8000, 'both nodes in the figures');
    expect(seen).toEqual({
      connections: 3,
      messagesPerSec: 0,
      nodes: [
        { nodeId: 'node-a', connections: 1, messagesPerSec: 0, startedAt: expect.any(Number), lastSeenAt: expect.any(Number) },
        { nodeId: 'node-b', connections: 2, messagesPerSec: 0, startedAt: expect.any(Number), lastSeenAt: expect.any(Number) },
      ],
    });
    expect((await stats(b)).connections).toBe(3);
    await b.stop();
    // A graceful stop takes the node out at once.
    expect((await stats(a)).nodes.map((n: { nodeId: string }) => n.nodeId)).toEqual(['node-a']);
  });
});
