/**
 * Where webhook calls may go (docs/webhooks.md, "Where calls may go"): the classifier against a
 * table of addresses (no network), the 40000 of PUT /api/server/webhooks for a URL that leads
 * only to non-public addresses, and the calls themselves refused where they connect, against a
 * real receiver on 127.0.0.1 that must see nothing, unless the operator's switch allows it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { configFromEnv, createImServer } from '../../server/src';
import type { SqliteStorage } from '../../server/src/storage/sqlite';
import { addressRefusal, DEFAULT_DESTINATIONS, parseCidrs, type DestinationPolicy } from '../../server/src/webhooks/destinations';
import { SqliteWebhookStore } from '../../server/src/webhooks/sqlite-store';
import { call, cid, closeAll, closeClients, connect, http, startServer, tokenFor, until, type TestServer } from './helpers';

jest.setTimeout(60_000);

const SECRET = 'test-webhook-secret-0123456789';
const basic = (s: TestServer) => ({ authorization: `Basic ${Buffer.from(`${s.appId}:${s.appSecret}`).toString('base64')}` });
const configure = (s: TestServer, body: Record<string, unknown>) => http(s, 'PUT', '/api/server/webhooks', body, undefined, basic(s));

describe('the classifier', () => {
  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['10.0.0.1', 'a private address'],
    ['172.16.5.4', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['::ffff:10.0.0.5', 'a private address'],
    ['fd12:3456::1', 'a private (unique local) address'],
    ['169.254.169.254', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['100.64.0.1', 'a carrier-grade NAT address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['255.255.255.255', 'a broadcast address'],
    ['64:ff9b::a00:1', 'a NAT64 address'],
    ['192.0.2.1', 'a special-purpose (reserved) address'],
    ['2001:db8::1', 'a special-purpose (reserved) address'],
  ])('refuses %s: %s', (address, words) => {
    expect(addressRefusal(DEFAULT_DESTINATIONS, address)).toBe(`${address} is ${words}`);
  });

  it.each(['8.8.8.8', '1.1.1.1', '203.0.114.7', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('lets public %s through', (address) => {
    expect(addressRefusal(DEFAULT_DESTINATIONS, address)).toBeUndefined();
  });

  it('IM_WEBHOOK_ALLOW_CIDRS lets its networks through, IPv4-mapped forms included, and nothing else; the switch lets everything through', () => {
    const policy: DestinationPolicy = { allowPrivate: false, allowCidrs: parseCidrs(' 10.1.0.0/16, fd00::/8 ,192.168.7.7') };
    expect(addressRefusal(policy, '10.1.200.3')).toBeUndefined();
    expect(addressRefusal(policy, '::ffff:10.1.0.9')).toBeUndefined();
    expect(addressRefusal(policy, 'fd00::42')).toBeUndefined();
    expect(addressRefusal(policy, '192.168.7.7')).toBeUndefined();
    expect(addressRefusal(policy, '192.168.7.8')).toBe('192.168.7.8 is a private address');
    expect(addressRefusal(policy, '10.2.0.1')).toBe('10.2.0.1 is a private address');
    expect(addressRefusal(policy, '127.0.0.1')).toBe('127.0.0.1 is a loopback address');
    expect(addressRefusal(policy, '8.8.8.8')).toBeUndefined();
    const mapped: DestinationPolicy = { allowPrivate: false, allowCidrs: parseCidrs('::ffff:10.9.0.0/112') };
    expect(addressRefusal(mapped, '10.9.1.1')).toBeUndefined();
    expect(addressRefusal(mapped, '10.8.1.1')).toBe('10.8.1.1 is a private address');
    const open: DestinationPolicy = { allowPrivate: true, allowCidrs: [] };
    for (const a of ['127.0.0.1', '::1', '169.254.169.254', '0.0.0.0']) expect(addressRefusal(open, a)).toBeUndefined();
    expect(() => parseCidrs('10.0.0.0/33')).toThrow(/"10.0.0.0\/33" is not a CIDR/);
    expect(() => parseCidrs('10.0.0.0/8,intranet')).toThrow(/"intranet"/);
  });
});

describe('configuration', () => {
  it('IM_WEBHOOK_ALLOW_PRIVATE is 0 or 1, IM_WEBHOOK_ALLOW_CIDRS a list of CIDRs', () => {
    expect(configFromEnv({ IM_WEBHOOK_ALLOW_PRIVATE: '1' }).webhookAllowPrivate).toBe(true);
    expect(configFromEnv({ IM_WEBHOOK_ALLOW_PRIVATE: '0' }).webhookAllowPrivate).toBe(false);
    expect(configFromEnv({}).webhookAllowPrivate).toBeUndefined();
    expect(() => configFromEnv({ IM_WEBHOOK_ALLOW_PRIVATE: 'yes' })).toThrow(/^IM_WEBHOOK_ALLOW_PRIVATE must be 1 \(allow\) or 0/);
    expect(configFromEnv({ IM_WEBHOOK_ALLOW_CIDRS: '10.0.0.0/8' }).webhookAllowCidrs).toBe('10.0.0.0/8');
    expect(() => configFromEnv({ IM_WEBHOOK_ALLOW_CIDRS: '10.0.0.0/8,office' })).toThrow(/^IM_WEBHOOK_ALLOW_CIDRS: "office" is not a CIDR/);
    expect(() => createImServer({ dataDir: ':memory:', webhookAllowPrivate: 'yes' as unknown as boolean })).toThrow(/webhookAllowPrivate must be 1/);
  });

  it('an IM_WEBHOOK_URL on a non-public address stops the start, naming the switch; with the switch or its network listed it starts', () => {
    const env = { IM_WEBHOOK_URL: 'http://10.0.0.5:4000/hook', IM_WEBHOOK_SECRET: SECRET };
    expect(() => configFromEnv(env)).toThrow(/^IM_WEBHOOK_URL: 10\.0\.0\.5 is a private address, where webhook calls are refused; set IM_WEBHOOK_ALLOW_PRIVATE=1 .*IM_WEBHOOK_ALLOW_CIDRS/);
    expect(() => configFromEnv({ ...env, IM_WEBHOOK_URL: 'http://[::1]:4000/hook' })).toThrow(/::1 is a loopback address/);
    expect(() => configFromEnv({ ...env, IM_WEBHOOK_URL: 'http://169.254.169.254/latest' })).toThrow(/169\.254\.169\.254 is a link-local address/);
    expect(configFromEnv({ ...env, IM_WEBHOOK_ALLOW_PRIVATE: '1' }).webhookUrl).toBe(env.IM_WEBHOOK_URL);
    expect(configFromEnv({ ...env, IM_WEBHOOK_ALLOW_CIDRS: '10.0.0.0/24' }).webhookUrl).toBe(env.IM_WEBHOOK_URL);
    expect(() => createImServer({ dataDir: ':memory:', webhookUrl: 'http://127.0.0.1:9/dev', webhookSecret: SECRET })).toThrow(/webhookUrl: 127\.0\.0\.1 is a loopback address.*webhookAllowPrivate: true/);
  });
});

/** A backend on 127.0.0.1 that counts what reaches it and allows every beforeSend. */
class Receiver {
  calls: Array<{ event: string }> = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.calls.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"action":"allow"}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The server's JSON log lines, as they are written. */
function logSink() {
  const lines: Array<Record<string, any>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, destination, text: () => lines.map((l) => l.msg as string) };
}

let receiver: Receiver;
beforeEach(async () => {
  receiver = await new Receiver().start();
});
afterEach(async () => {
  closeClients();
  await receiver.stop();
});
afterAll(closeAll);

/** A send from a fresh user to another; resolves with the ack. */
async function send(server: TestServer, content: string) {
  const to = `dst-b-${cid()}`;
  await tokenFor(server, to);
  const socket = await connect(server, await tokenFor(server, `dst-a-${cid()}`));
  return call(socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to, content });
}

describe('PUT /api/server/webhooks on a default server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server.stop());

  it.each([
    ['127.0.0.1', 'http://127.0.0.1:4000/hook', /url: 127\.0\.0\.1 is a loopback address/],
    ['[::1]', 'http://[::1]:4000/hook', /url: ::1 is a loopback address/],
    ['[::ffff:127.0.0.1]', 'http://[::ffff:127.0.0.1]/hook', /url: ::ffff:7f00:1 is a loopback address/],
    ['169.254.169.254 (cloud metadata)', 'http://169.254.169.254/latest/meta-data/', /url: 169\.254\.169\.254 is a link-local address/],
    ['10.0.0.1', 'https://10.0.0.1/hook', /url: 10\.0\.0\.1 is a private address/],
    ['0.0.0.0', 'http://0.0.0.0:4000/hook', /url: 0\.0\.0\.0 is an unspecified address/],
    ['2130706433 (127.0.0.1 as a number)', 'http://2130706433/hook', /url: 127\.0\.0\.1 is a loopback address/],
    ['localhost (resolves only to loopback)', 'http://localhost:4000/hook', /url: localhost resolves only to loopback addresses/],
  ])('refuses %s with 40000 naming why and the switch; nothing is stored', async (_label, url, why) => {
    const r = await configure(server, { url, events: ['afterSend'], secret: SECRET });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(40000);
    expect(r.body.message).toMatch(why);
    expect(r.body.message).toMatch(/IM_WEBHOOK_ALLOW_PRIVATE=1 or IM_WEBHOOK_ALLOW_CIDRS/);
    expect((await http(server, 'GET', '/api/server/webhooks', undefined, undefined, basic(server))).body.data.url).toBeNull();
  });

  it('takes a public address, and a name that does not resolve now (each call checks again)', async () => {
    expect((await configure(server, { url: 'https://8.8.8.8/hook', events: [], secret: SECRET })).body.code).toBe(0);
    expect((await configure(server, { url: 'https://backend.invalid/hook', events: [], secret: SECRET })).body.code).toBe(0);
  });
});

describe('calls', () => {
  it('IM_WEBHOOK_URL naming localhost: every call is refused where it connects, logged; beforeSend follows onTimeout, afterSend is retried and given up', async () => {
    const log = logSink();
    const server = await startServer({
      logger: { level: 'warn', destination: log.destination },
      webhookUrl: `http://localhost:${receiver.port}/hook`,
      webhookSecret: SECRET,
      webhookEvents: 'beforeSend,afterSend',
      webhooks: { retryDelaysMs: [50, 50], pollMs: 20 },
    });
    try {
      const outcomes: string[] = [];
      server.im.service.webhooks!.metrics = { webhookCall: (event, outcome) => void outcomes.push(`${event}:${outcome}`) };
      await until(() => log.text().some((m) => m.startsWith('IM_WEBHOOK_URL')), 5000, 'the start-up warning');
      expect(log.text().find((m) => m.startsWith('IM_WEBHOOK_URL'))).toMatch(/^IM_WEBHOOK_URL http:\/\/localhost:\d+\/hook: localhost resolves only to loopback addresses; .*IM_WEBHOOK_ALLOW_PRIVATE=1/);

      // The default beforeSend policy is onTimeout allow: the message goes through unchecked.
      expect((await send(server, 'unchecked')).code).toBe(0);
      await until(() => outcomes.includes('afterSend:gave_up'), 5000, 'afterSend given up');
      expect(outcomes).toEqual(['beforeSend:error', 'afterSend:retry', 'afterSend:retry', 'afterSend:gave_up']);
      const refused = /destination refused: (127\.0\.0\.1|::1) is a loopback address \(IM_WEBHOOK_ALLOW_PRIVATE=1 or IM_WEBHOOK_ALLOW_CIDRS on the server allows it\)/;
      expect(log.text().find((m) => m.startsWith('beforeSend webhook'))).toMatch(refused);
      expect(log.text().find((m) => /given up after 3 attempts/.test(m))).toMatch(refused);
      expect(receiver.calls).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('beforeSend with onTimeout refuse: a refused destination refuses the send, without telling the sender why', async () => {
    const server = await startServer({ webhooks: { pollMs: 20 } });
    try {
      // Stored past the PUT check, as by an older server or another node with another policy.
      const store = new SqliteWebhookStore((server.im.storage as SqliteStorage).db);
      await store.putConfig({ appId: server.appId, url: `http://127.0.0.1:${receiver.port}/hook`, secret: SECRET, events: ['beforeSend'], beforeSend: { timeoutMs: 2000, onTimeout: 'refuse' }, updatedAt: Date.now() });
      const ack = await send(server, 'needs a check');
      expect(ack.code).toBe(40302);
      expect(ack.message).toMatch(/did not give a usable answer/);
      expect(ack.message).not.toMatch(/127\.0\.0\.1|loopback|destination/);
      expect(receiver.calls).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('with IM_WEBHOOK_ALLOW_PRIVATE the same calls reach the loopback receiver', async () => {
    const server = await startServer({ webhookAllowPrivate: true, webhookUrl: `http://localhost:${receiver.port}/hook`, webhookSecret: SECRET, webhookEvents: 'beforeSend,afterSend', webhooks: { pollMs: 20 } });
    try {
      expect((await configure(server, { url: `http://127.0.0.1:${receiver.port}/hook`, events: ['beforeSend', 'afterSend'], secret: SECRET })).body.code).toBe(0);
      expect((await send(server, 'checked')).code).toBe(0);
      await until(() => receiver.calls.some((c) => c.event === 'afterSend'), 5000, 'the afterSend');
      expect(receiver.calls.map((c) => c.event)).toEqual(['beforeSend', 'afterSend']);
    } finally {
      await server.stop();
    }
  });

  it('with IM_WEBHOOK_ALLOW_CIDRS=127.0.0.0/8, 127.0.0.1 is reached and ::1 still refused', async () => {
    const server = await startServer({ webhookAllowCidrs: '127.0.0.0/8', webhooks: { pollMs: 20 } });
    try {
      expect((await configure(server, { url: `http://[::1]:${receiver.port}/hook`, events: ['beforeSend'], secret: SECRET })).body.message).toMatch(/::1 is a loopback address/);
      expect((await configure(server, { url: `http://127.0.0.1:${receiver.port}/hook`, events: ['beforeSend'], secret: SECRET })).body.code).toBe(0);
      expect((await send(server, 'checked')).code).toBe(0);
      expect(receiver.calls.map((c) => c.event)).toEqual(['beforeSend']);
    } finally {
      await server.stop();
    }
  });
});
