/**
 * Webhooks against the real server and a real receiver (node:http on 127.0.0.1:0): the app's
 * configuration routes, beforeSend (allow, refuse, replace, timeouts under both policies, no
 * head-of-line waiting, a resend of a replaced message), the signed calls, and the durable queue
 * (afterSend retried with one idempotency key, presence and group events, delivery after a
 * restart, apps kept apart). The SDK's ImClient sees a refusal as E_REFUSED, once.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWebAdapter } from '../../adapters/web';
import { ImClient } from '../../src/client';
import type { ImError } from '../../src/core/errors';
import { createImServer, verifyWebhookSignature } from '../../server/src';
import { SqliteStorage } from '../../server/src/storage/sqlite';
import { SqliteWebhookStore } from '../../server/src/webhooks/sqlite-store';
import { call, cid, closeAll, closeClients, collect, connect, http, sleep, startServer, tokenFor, type TestServer, until } from './helpers';

jest.setTimeout(60_000);

interface Received {
  headers: IncomingHttpHeaders;
  raw: string;
  body: any;
  at: number;
}

type Reply = { status?: number; json?: unknown; delayMs?: number };

/** A backend: records every call; `reply` decides each answer (default 200 {action: allow}). */
class Receiver {
  readonly calls: Received[] = [];
  reply: (r: Received) => Reply | Promise<Reply> = () => ({ json: { action: 'allow' } });
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const r: Received = { headers: req.headers, raw, body: JSON.parse(raw), at: Date.now() };
        this.calls.push(r);
        void Promise.resolve(this.reply(r)).then(async (a) => {
          if (a.delayMs) await sleep(a.delayMs);
          if (res.destroyed) return;
          res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
          res.end(a.json === undefined ? '' : JSON.stringify(a.json));
        });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  of(event: string): Received[] {
    return this.calls.filter((c) => c.body.event === event);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** The receivers listen on loopback, which webhook calls reach only with this switch (webhook-destinations.test.ts). */
const LOCAL = { webhookAllowPrivate: true } as const;

const basic = (appId: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${appId}:${secret}`).toString('base64')}` });
const SECRET = 'test-webhook-secret-0123456789';

/** PUT /api/server/webhooks as the server's dev app. */
async function configure(server: TestServer, body: Record<string, unknown>, app = { appId: server.appId, appSecret: server.appSecret }) {
  return http(server, 'PUT', '/api/server/webhooks', body, undefined, basic(app.appId, app.appSecret));
}

const receivers: Receiver[] = [];
async function receiver(): Promise<Receiver> {
  const r = await new Receiver().start();
  receivers.push(r);
  return r;
}

afterEach(async () => {
  closeClients();
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});
afterAll(async () => {
  await closeAll();
});

describe('configuration routes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server.stop());

  it('GET before any: nothing set; PUT without a secret generates one, returned once; GET never shows it; delete removes it', async () => {
    const auth = basic(server.appId, server.appSecret);
    expect((await http(server, 'GET', '/api/server/webhooks', undefined, undefined, auth)).body.data).toEqual({ url: null, events: [], beforeSend: null, secretSet: false });

    const put = await configure(server, { url: 'https://backend.example.com/im', events: ['afterSend', 'beforeSend', 'afterSend'] });
    expect(put.body.code).toBe(0);
    expect(put.body.data).toMatchObject({ url: 'https://backend.example.com/im', events: ['afterSend', 'beforeSend'], beforeSend: { timeoutMs: 2000, onTimeout: 'allow' }, secretSet: true });
    expect(put.body.data.secret).toEqual(expect.stringMatching(/^whsec_.{40,}$/));

    const got = await http(server, 'GET', '/api/server/webhooks', undefined, undefined, auth);
    expect(got.body.data).toMatchObject({ url: 'https://backend.example.com/im', secretSet: true });
    expect(JSON.stringify(got.body.data)).not.toContain(put.body.data.secret);

    const own = await configure(server, { url: 'https://backend.example.com/x', events: [], secret: SECRET, beforeSend: { timeoutMs: 100, onTimeout: 'refuse' } });
    expect(own.body.data).toMatchObject({ beforeSend: { timeoutMs: 100, onTimeout: 'refuse' }, secretSet: true });
    expect(own.body.data.secret).toBeUndefined();

    const del = await http(server, 'POST', '/api/server/webhooks/delete', undefined, undefined, auth);
    expect(del.body.data).toEqual({ deleted: true });
    expect((await http(server, 'GET', '/api/server/webhooks', undefined, undefined, auth)).body.data.url).toBeNull();
    expect((await http(server, 'DELETE', '/api/server/webhooks', undefined, undefined, auth)).body.data).toEqual({ deleted: false });
  });

  it.each([
    ['an ftp URL', { url: 'ftp://backend.example.com/x', events: [] }, /url/],
    ['not a URL', { url: 'not a url', events: [] }, /url/],
    ['a URL over 2000 characters', { url: `https://example.com/${'a'.repeat(2000)}`, events: [] }, /url/],
    ['a URL with credentials', { url: 'https://user:pw@example.com/x', events: [] }, /credentials/],
    ['an unknown event', { url: 'https://example.com/x', events: ['beforeSend', 'messageRead'] }, /events/],
    ['a short secret', { url: 'https://example.com/x', events: [], secret: 'short' }, /secret/],
    ['timeoutMs 50', { url: 'https://example.com/x', events: [], beforeSend: { timeoutMs: 50 } }, /timeoutMs/],
    ['timeoutMs 20000', { url: 'https://example.com/x', events: [], beforeSend: { timeoutMs: 20_000 } }, /timeoutMs/],
    ['onTimeout maybe', { url: 'https://example.com/x', events: [], beforeSend: { onTimeout: 'maybe' } }, /onTimeout/],
    ['an unknown field', { url: 'https://example.com/x', events: [], extra: 1 }, /./],
    ['no url', { events: [] }, /url/],
  ])('PUT with %s is refused 40000', async (_label, body, rule) => {
    const r = await configure(server, body);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(40000);
    expect(r.body.message).toMatch(rule);
  });

  it('needs the app credentials', async () => {
    expect((await http(server, 'GET', '/api/server/webhooks')).body.code).toBe(40100);
    expect((await http(server, 'PUT', '/api/server/webhooks', { url: 'https://example.com', events: [] }, undefined, basic(server.appId, 'wrong'))).body.code).toBe(40103);
  });

  it('IM_WEBHOOK_* configure the development app at start; a URL without a secret stops the server', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-wh-env-'));
    const dev = await startServer({ ...LOCAL, dataDir: dir, webhookUrl: 'http://127.0.0.1:9/dev', webhookSecret: SECRET, webhookEvents: 'afterSend, groupChanged' });
    try {
      const got = await http(dev, 'GET', '/api/server/webhooks', undefined, undefined, basic(dev.appId, dev.appSecret));
      expect(got.body.data).toMatchObject({ url: 'http://127.0.0.1:9/dev', events: ['afterSend', 'groupChanged'], secretSet: true });
    } finally {
      await dev.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => createImServer({ dataDir: ':memory:', webhookUrl: 'http://127.0.0.1:9/dev' })).toThrow(/webhookSecret is needed/);
    expect(() => createImServer({ dataDir: ':memory:', webhookUrl: 'http://127.0.0.1:9/dev', webhookSecret: SECRET, webhookEvents: 'afterSend,nope' })).toThrow(/webhookEvents/);
  });
});

describe('beforeSend', () => {
  let server: TestServer;
  let hook: Receiver;
  beforeAll(async () => {
    server = await startServer(LOCAL);
  });
  afterAll(async () => server.stop());
  beforeEach(async () => {
    hook = await receiver();
  });

  const pair = async (prefix: string) => {
    const a = `${prefix}-a-${cid()}`;
    const b = `${prefix}-b-${cid()}`;
    const sa = await connect(server, await tokenFor(server, a));
    const sb = await connect(server, await tokenFor(server, b));
    return { a, b, sa, sb, bGot: collect<any>(sb, 'imchat') };
  };
  const history = async (a: string, b: string) => (await http(server, 'GET', `/api/private/${b}/messages?limitSize=20`, undefined, await tokenFor(server, a))).body.data as any[];

  it('allow: the backend sees the message before it is stored, signed; the send goes through', async () => {
    expect((await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET })).body.code).toBe(0);
    const { a, b, sa, bGot } = await pair('allow');
    const clientMsgId = cid();
    const ack = await call(sa, 'chat:send', { clientMsgId, chatType: 0, to: b, content: 'hello', data: { k: 1 } });
    expect(ack.code).toBe(0);
    expect(hook.of('beforeSend')).toHaveLength(1);
    const c = hook.of('beforeSend')[0]!;
    expect(c.body).toMatchObject({ event: 'beforeSend', appId: server.appId, data: { message: { clientMsgId, from: a, chatType: 0, to: b, msgType: 0, content: 'hello', data: { k: 1 }, messageId: null } } });
    expect(c.headers['x-comind-event']).toBe('beforeSend');
    expect(c.headers['x-comind-idempotency-key']).toBe(c.body.id);
    const ts = c.headers['x-comind-timestamp'] as string;
    const sig = c.headers['x-comind-signature'] as string;
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, ts, c.raw, sig)).toBe(true);
    expect(verifyWebhookSignature('another-secret-0123456789', ts, c.raw, sig)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, c.raw.replace('hello', 'hellO'), sig)).toBe(false);
    expect(verifyWebhookSignature(SECRET, String(Number(ts) + 1), c.raw, sig)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, c.raw, sig, Number(ts) + 6 * 60_000)).toBe(false);
    await until(() => bGot.length === 1, 5000, 'delivery');
    expect(bGot[0]).toMatchObject({ content: 'hello', clientMsgId });
  });

  it('refuse: 40302 with the reason (capped), nothing stored, nothing delivered', async () => {
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET });
    hook.reply = (r) => (r.body.data.message.content === 'bad' ? { json: { action: 'refuse', reason: `contains a banned word${'!'.repeat(300)}` } } : { json: { action: 'allow' } });
    const { a, b, sa, bGot } = await pair('refuse');
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'bad' });
    expect(ack).toEqual({ code: 40302, message: expect.stringContaining('refused by the app\'s backend: contains a banned word') });
    expect(ack.message.length).toBeLessThan(300);
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'fine' })).code).toBe(0);
    await until(() => bGot.length === 1, 5000, 'the allowed message');
    await sleep(100);
    expect(bGot.map((m) => m.content)).toEqual(['fine']);
    expect((await history(a, b)).map((m) => m.content)).toEqual(['fine']);
  });

  it('replace: the replacement is what is stored, acked and delivered; a resend of the original is the same message, not checked again', async () => {
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET });
    hook.reply = () => ({ json: { action: 'replace', content: 'h***o', data: { masked: true } } });
    const { a, b, sa, bGot } = await pair('replace');
    const clientMsgId = cid();
    const ack = await call(sa, 'chat:send', { clientMsgId, chatType: 0, to: b, content: 'hello' });
    expect(ack.code).toBe(0);
    expect(ack.data).toMatchObject({ content: 'h***o', data: { masked: true }, clientMsgId });
    await until(() => bGot.length === 1, 5000, 'delivery');
    expect(bGot[0]).toMatchObject({ content: 'h***o', data: { masked: true } });
    expect((await history(a, b)).map((m) => m.content)).toEqual(['h***o']);

    const again = await call(sa, 'chat:send', { clientMsgId, chatType: 0, to: b, content: 'hello' });
    expect(again.code).toBe(0);
    expect(again.data.messageId).toBe(ack.data.messageId);
    expect(hook.of('beforeSend')).toHaveLength(1);
    // The same id for something else is still a conflict.
    expect((await call(sa, 'chat:send', { clientMsgId, chatType: 0, to: b, content: 'something else' })).code).toBe(40900);
    expect(await history(a, b)).toHaveLength(1);
  });

  it('an edit is checked like a send: a refused edit leaves the message as it was, a replaced one stores the replacement', async () => {
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET });
    hook.reply = (r) => {
      const content: string = r.body.data.message.content;
      if (content.includes('banned')) return { json: { action: 'refuse', reason: 'no banned words' } };
      if (content.includes('mask')) return { json: { action: 'replace', content: 'm***k' } };
      return { json: { action: 'allow' } };
    };
    const { a, b, sa, bGot } = await pair('edit');
    const sent = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'hello' });
    expect(sent.code).toBe(0);

    const refused = await call(sa, 'chat:edit', { messageId: sent.data.messageId, content: 'now with banned words' });
    expect(refused).toEqual({ code: 40302, message: expect.stringContaining('no banned words') });
    const edit = hook.of('beforeSend')[1]!;
    expect(edit.body.data.message).toMatchObject({ messageId: sent.data.messageId, from: a, chatType: 0, to: b, content: 'now with banned words' });
    expect((await history(a, b)).map((m) => m.content)).toEqual(['hello']);

    const replaced = await call(sa, 'chat:edit', { messageId: sent.data.messageId, content: 'please mask this' });
    expect(replaced.code).toBe(0);
    expect(replaced.data.message).toMatchObject({ messageId: sent.data.messageId, content: 'm***k' });
    await until(() => bGot.some((m) => m.event === 'edit'), 5000, 'the edit event');
    expect(JSON.stringify(bGot)).not.toMatch(/banned|please mask/);
    expect((await history(a, b)).find((m) => m.messageId === sent.data.messageId)).toMatchObject({ content: 'm***k', editedAt: expect.any(Number) });
  });

  it('an invalid replacement (empty text), a non-2xx or garbage counts as no answer: onTimeout allow lets the original through', async () => {
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET });
    const { a, b, sa } = await pair('malformed');
    const answers: Reply[] = [{ json: { action: 'replace', content: '   ' } }, { status: 500, json: { action: 'refuse' } }, { json: { verdict: 'no' } }];
    hook.reply = () => answers[hook.calls.length - 1]!;
    for (const content of ['one', 'two', 'three']) expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content })).code).toBe(0);
    expect((await history(a, b)).map((m) => m.content)).toEqual(['one', 'two', 'three']);
  });

  it('timeout: onTimeout allow stores the message; onTimeout refuse answers 40302', async () => {
    hook.reply = () => ({ delayMs: 1500, json: { action: 'refuse', reason: 'too late' } });
    const { a, b, sa } = await pair('timeout');
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET, beforeSend: { timeoutMs: 200, onTimeout: 'allow' } });
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'open' })).code).toBe(0);
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET, beforeSend: { timeoutMs: 200, onTimeout: 'refuse' } });
    const refused = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'closed' });
    expect(refused.code).toBe(40302);
    expect(refused.message).toMatch(/did not answer within 200 ms/);
    // A backend that cannot be reached: the sender is not told why (refused connection, reset,
    // status), which would describe the backend's network to any client.
    await configure(server, { url: 'http://127.0.0.1:1/down', events: ['beforeSend'], secret: SECRET, beforeSend: { timeoutMs: 200, onTimeout: 'refuse' } });
    const down = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'unreachable' });
    expect(down.code).toBe(40302);
    expect(down.message).toMatch(/did not give a usable answer/);
    expect(down.message).not.toMatch(/ECONN|fetch|refused connection|127\.0\.0\.1/i);
    expect((await history(a, b)).map((m) => m.content)).toEqual(['open']);
  });

  it('sends wait for their own answer only: a slow check does not hold back a later send', async () => {
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET, beforeSend: { timeoutMs: 5000 } });
    hook.reply = (r) => ({ delayMs: r.body.data.message.content === 'slow' ? 1000 : 0, json: { action: 'allow' } });
    const one = await pair('hol1');
    const two = await pair('hol2');
    const done: string[] = [];
    const slow = call(one.sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: one.b, content: 'slow' }).then((r) => done.push(`slow:${r.code}`));
    await until(() => hook.calls.length === 1, 5000, 'the slow check to start');
    const fast = call(two.sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: two.b, content: 'fast' }).then((r) => done.push(`fast:${r.code}`));
    await Promise.all([slow, fast]);
    expect(done).toEqual(['fast:0', 'slow:0']);
  });

  it("one socket's sends keep their order even when a later one is answered first", async () => {
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET, beforeSend: { timeoutMs: 5000 } });
    hook.reply = (r) => ({ delayMs: r.body.data.message.content === 'first' ? 500 : 0, json: { action: 'allow' } });
    const { a, b, sa } = await pair('order');
    const acks = await Promise.all(['first', 'second'].map((content) => call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content })));
    expect(acks[0]!.data.seq).toBeLessThan(acks[1]!.data.seq);
    expect((await history(a, b)).map((m) => m.content)).toEqual(['first', 'second']);
  });

  it('POST /api/server/messages is checked like a client send, and its afterSend is queued', async () => {
    await configure(server, { url: hook.url, events: ['beforeSend', 'afterSend'], secret: SECRET });
    hook.reply = (r) => (r.body.event === 'beforeSend' && r.body.data.message.content === 'no' ? { json: { action: 'refuse', reason: 'not today' } } : { json: { action: 'allow' } });
    const { a, b } = await pair('srvapi');
    const auth = basic(server.appId, server.appSecret);
    const refused = await http(server, 'POST', '/api/server/messages', { from: a, chatType: 0, to: b, content: 'no' }, undefined, auth);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ code: 40302, message: expect.stringContaining('not today') });
    const sent = await http(server, 'POST', '/api/server/messages', { from: a, chatType: 0, to: b, content: 'yes' }, undefined, auth);
    expect(sent.body.code).toBe(0);
    await until(() => hook.of('afterSend').length === 1, 5000, 'afterSend of the server API send');
    expect(hook.of('afterSend')[0]!.body.data.message).toMatchObject({ messageId: sent.body.data.messageId, from: a, content: 'yes' });
    expect(hook.of('beforeSend').map((c) => c.body.data.message.content)).toEqual(['no', 'yes']);
    expect((await history(a, b)).map((m) => m.content)).toEqual(['yes']);
  });

  it('the SDK: a refused send rejects E_REFUSED with the reason, is not resent after a reconnect', async () => {
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET });
    hook.reply = (r) => (r.body.data.message.content.includes('spam') ? { json: { action: 'refuse', reason: 'looks like spam' } } : { json: { action: 'allow' } });
    const a = `sdk-a-${cid()}`;
    const b = `sdk-b-${cid()}`;
    await tokenFor(server, b);
    const client = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createWebAdapter(), logLevel: 'silent', reconnectionDelay: 50 });
    try {
      const ready = new Promise((resolve) => client.once('ready', resolve));
      await client.connect({ token: await tokenFor(server, a) });
      await ready;
      const err = (await client.sendPrivateMessage({ content: 'buy spam now', recipientId: b }).then(
        () => null,
        (e: ImError) => e,
      ))!;
      expect(err).toMatchObject({ code: 'E_REFUSED', serverCode: 40302, clientMsgId: expect.any(String) });
      expect(err.message).toContain('looks like spam');

      client.disconnect();
      const back = new Promise((resolve) => client.once('ready', resolve));
      await client.connect();
      await back;
      const ok = await client.sendPrivateMessage({ content: 'hello', recipientId: b });
      expect(ok.content).toBe('hello');
      expect(hook.of('beforeSend').map((c) => c.body.data.message.content)).toEqual(['buy spam now', 'hello']);
    } finally {
      client.destroy();
    }
  });
});

it('past the per-app cap of beforeSend calls in flight, the policy applies at once instead of queueing', async () => {
  const server = await startServer({ ...LOCAL, webhooks: { beforeSendConcurrency: 2 } });
  try {
    const hook = await receiver();
    hook.reply = () => ({ delayMs: 700, json: { action: 'allow' } });
    await configure(server, { url: hook.url, events: ['beforeSend'], secret: SECRET, beforeSend: { timeoutMs: 5000, onTimeout: 'refuse' } });
    const to = `cap-b-${cid()}`;
    await tokenFor(server, to);
    const sockets = await Promise.all([1, 2, 3].map(async (i) => connect(server, await tokenFor(server, `cap-${i}-${cid()}`))));
    const order: string[] = [];
    const first = sockets.slice(0, 2).map((s) => call(s, 'chat:send', { clientMsgId: cid(), chatType: 0, to, content: 'checked' }).then((r) => (order.push('checked'), r)));
    await until(() => hook.calls.length === 2, 5000, 'two checks in flight');
    const third = await call(sockets[2]!, 'chat:send', { clientMsgId: cid(), chatType: 0, to, content: 'over the cap' }).then((r) => (order.push('over'), r));
    expect(third.code).toBe(40302);
    expect(third.message).toMatch(/busy/);
    expect((await Promise.all(first)).map((r) => r.code)).toEqual([0, 0]);
    // Answered while the two checks were still out, not after them.
    expect(order).toEqual(['over', 'checked', 'checked']);
    expect(hook.calls).toHaveLength(2);
  } finally {
    await server.stop();
  }
});

describe('the queue: afterSend, presence, group changes', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ ...LOCAL, presenceGrace: 0, webhooks: { retryDelaysMs: [100, 200, 300], pollMs: 50, afterSendHoldMs: 600 } });
  });
  afterAll(async () => server.stop());

  it('afterSend is stored in the transaction of its message: it goes out even when nothing runs after the commit (the server died there)', async () => {
    const hook = await receiver();
    hook.reply = () => ({ status: 200 });
    await configure(server, { url: hook.url, events: ['afterSend'], secret: SECRET });
    const a = `atomic-a-${cid()}`;
    const b = `atomic-b-${cid()}`;
    await tokenFor(server, b);
    const sa = await connect(server, await tokenFor(server, a));
    const afterCommit = jest.spyOn(server.im.service.webhooks!, 'committed').mockImplementation(async () => undefined);
    try {
      const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'stored with its event' });
      expect(ack.code).toBe(0);
      expect(afterCommit).toHaveBeenCalled();
      await until(() => hook.of('afterSend').length === 1, 5000, 'the afterSend');
      expect(hook.of('afterSend')[0]!.body.data.message).toMatchObject({ messageId: ack.data.messageId, content: 'stored with its event' });
    } finally {
      afterCommit.mockRestore();
    }
  });

  it("a reply's afterSend carries the reply's preview, like the ack; cut off before that, it goes out as stored when its hold ends", async () => {
    const hook = await receiver();
    hook.reply = () => ({ status: 200 });
    await configure(server, { url: hook.url, events: ['afterSend'], secret: SECRET });
    const a = `hold-a-${cid()}`;
    const b = `hold-b-${cid()}`;
    await tokenFor(server, b);
    const sa = await connect(server, await tokenFor(server, a));
    const original = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'the question' });
    const reply = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'the answer', replyTo: original.data.messageId });
    expect(reply.data.replyTo).toMatchObject({ messageId: original.data.messageId, content: 'the question' });
    await until(() => hook.of('afterSend').length === 2, 5000, 'both afterSends');
    const presented = hook.of('afterSend').find((c) => c.body.data.message.messageId === reply.data.messageId)!;
    // The preview (not just the id) is there: completed after the commit, not sent as stored.
    expect(presented.body.data.message.replyTo).toEqual(reply.data.replyTo);

    const afterCommit = jest.spyOn(server.im.service.webhooks!, 'committed').mockImplementation(async () => undefined);
    try {
      const cut = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'cut off', replyTo: original.data.messageId });
      expect(cut.code).toBe(0);
      await until(() => hook.of('afterSend').some((c) => c.body.data.message.messageId === cut.data.messageId), 5000, 'the held afterSend');
      const asStored = hook.of('afterSend').find((c) => c.body.data.message.messageId === cut.data.messageId)!;
      expect(asStored.at - asStored.body.createdAt).toBeGreaterThanOrEqual(550);
      expect(asStored.body.data.message).toMatchObject({ content: 'cut off', replyTo: { messageId: original.data.messageId } });
      expect(asStored.body.data.message.replyToId).toBeUndefined();
    } finally {
      afterCommit.mockRestore();
    }
  });

  it('afterSend after 500s: retried with the same idempotency key and body until it is taken, then never again', async () => {
    const hook = await receiver();
    let failures = 2;
    hook.reply = () => (failures-- > 0 ? { status: 500 } : { status: 204 });
    await configure(server, { url: hook.url, events: ['afterSend'], secret: SECRET });
    const a = `after-a-${cid()}`;
    const b = `after-b-${cid()}`;
    await tokenFor(server, b);
    const sa = await connect(server, await tokenFor(server, a));
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'stored' });
    expect(ack.code).toBe(0);
    await until(() => hook.calls.length === 3, 5000, 'three attempts');
    await sleep(600);
    expect(hook.calls).toHaveLength(3);
    const keys = new Set(hook.calls.map((c) => c.headers['x-comind-idempotency-key']));
    expect(keys.size).toBe(1);
    expect(new Set(hook.calls.map((c) => c.raw)).size).toBe(1);
    expect(hook.calls[0]!.body).toMatchObject({ event: 'afterSend', appId: server.appId, id: [...keys][0], data: { message: { messageId: ack.data.messageId, from: a, to: b, content: 'stored', seq: ack.data.seq } } });
    for (const c of hook.calls) expect(verifyWebhookSignature(SECRET, c.headers['x-comind-timestamp'] as string, c.raw, c.headers['x-comind-signature'] as string)).toBe(true);
    // The second retry waited longer than the first.
    expect(hook.calls[2]!.at - hook.calls[1]!.at).toBeGreaterThanOrEqual(190);
  });

  it('afterSend is given up after the last retry', async () => {
    const hook = await receiver();
    hook.reply = () => ({ status: 503 });
    await configure(server, { url: hook.url, events: ['afterSend'], secret: SECRET });
    const b = `giveup-b-${cid()}`;
    await tokenFor(server, b);
    const sa = await connect(server, await tokenFor(server, `giveup-a-${cid()}`));
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'x' })).code).toBe(0);
    await until(() => hook.calls.length === 4, 5000, 'four attempts');
    await sleep(800);
    expect(hook.calls).toHaveLength(4);
  });

  it('userOnline and userOffline, once per transition', async () => {
    const hook = await receiver();
    hook.reply = () => ({ status: 200 });
    await configure(server, { url: hook.url, events: ['userOnline', 'userOffline'], secret: SECRET });
    const user = `pres-${cid()}`;
    const socket = await connect(server, await tokenFor(server, user));
    await until(() => hook.of('userOnline').some((c) => c.body.data.userId === user), 5000, 'userOnline');
    socket.close();
    await until(() => hook.of('userOffline').some((c) => c.body.data.userId === user), 5000, 'userOffline');
    await sleep(200);
    const mine = hook.calls.filter((c) => c.body.data.userId === user);
    expect(mine.map((c) => c.body.event)).toEqual(['userOnline', 'userOffline']);
    expect(mine[1]!.body.data).toEqual({ userId: user, online: false, lastSeenAt: expect.any(Number) });
    expect(mine[1]!.headers['x-comind-event']).toBe('userOffline');
  });

  it('groupChanged when members are added', async () => {
    const hook = await receiver();
    hook.reply = () => ({ status: 200 });
    await configure(server, { url: hook.url, events: ['groupChanged'], secret: SECRET });
    const owner = `gowner-${cid()}`;
    const joiner = `gjoin-${cid()}`;
    const token = await tokenFor(server, owner);
    await tokenFor(server, joiner);
    const group = (await http(server, 'POST', '/api/groups', { name: 'hooks' }, token)).body.data;
    expect((await http(server, 'POST', `/api/groups/${group.groupId}/members`, { userIdList: [joiner] }, token)).body.code).toBe(0);
    await until(() => hook.of('groupChanged').some((c) => c.body.data.change.action === 'members_added'), 5000, 'groupChanged members_added');
    const added = hook.of('groupChanged').find((c) => c.body.data.change.action === 'members_added')!;
    expect(added.body.data.change).toMatchObject({ groupId: group.groupId, action: 'members_added', userIds: [joiner], by: owner });
  });

  it("an event queued under a configuration this node has not cached yet (another node's change) is delivered, not dropped", async () => {
    const hook = await receiver();
    hook.reply = () => ({ status: 200 });
    expect((await configure(server, { url: hook.url, events: ['afterSend'], secret: SECRET })).body.code).toBe(0);
    // This node reads (and caches) the configuration without groupChanged.
    const owner = `stale-${cid()}`;
    const token = await tokenFor(server, owner);
    const sa = await connect(server, token);
    expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: owner, content: 'warm the cache' })).code).toBe(0);
    await until(() => hook.of('afterSend').length === 1, 5000, 'the afterSend');

    // Another node (same database) adds groupChanged and queues one: this node's cache is stale.
    const store = new SqliteWebhookStore((server.im.storage as SqliteStorage).db);
    const config = (await store.getConfig(server.appId))!;
    await store.putConfig({ ...config, events: ['afterSend', 'groupChanged'], updatedAt: Date.now() });
    const id = `ev-${cid()}`;
    const createdAt = Date.now();
    await store.enqueue([{ id, appId: server.appId, event: 'groupChanged', createdAt, body: JSON.stringify({ id, event: 'groupChanged', appId: server.appId, createdAt, data: { change: { groupId: 'g', action: 'created' } } }) }]);

    await until(() => hook.of('groupChanged').some((c) => c.body.id === id), 5000, 'the other node\'s groupChanged');
    // The receiver sees the request before the sender has read the 200 and deleted the row.
    let pending = await store.pendingCount(server.appId);
    for (const deadline = Date.now() + 5000; pending > 0 && Date.now() < deadline; pending = await store.pendingCount(server.appId)) await sleep(20);
    expect(pending).toBe(0);
  });

  it("an app's webhook never receives another app's events", async () => {
    const other = { appId: `wh-other-${cid()}`, appSecret: 'other-app-secret-123' };
    const two = await startServer({ ...LOCAL, extraApps: [other], presenceGrace: 0, webhooks: { pollMs: 50 } });
    try {
      const mine = await receiver();
      const theirs = await receiver();
      mine.reply = theirs.reply = () => ({ status: 200, json: { action: 'allow' } });
      const events = ['beforeSend', 'afterSend', 'userOnline', 'userOffline', 'groupChanged'];
      expect((await configure(two, { url: mine.url, events, secret: SECRET })).body.code).toBe(0);
      expect((await configure(two, { url: theirs.url, events, secret: 'the-other-apps-secret-xyz' }, other)).body.code).toBe(0);
      const token = async (app: typeof other, userId: string) => (await http<{ token: string }>(two, 'POST', '/api/token', { ...app, userId })).body.data!.token;
      const sa = await connect(two, await token(other, 'o-a'));
      await token(other, 'o-b');
      expect((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'o-b', content: 'theirs' })).code).toBe(0);
      await tokenFor(two, 'd-b');
      const sd = await connect(two, await tokenFor(two, 'd-a'));
      expect((await call(sd, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'd-b', content: 'mine' })).code).toBe(0);
      await until(() => theirs.of('afterSend').length === 1 && mine.of('afterSend').length === 1, 5000, 'each app gets its afterSend');
      await sleep(300);
      expect(theirs.calls.length).toBeGreaterThanOrEqual(3); // beforeSend, afterSend, userOnline
      expect(theirs.calls.every((c) => c.body.appId === other.appId)).toBe(true);
      expect(JSON.stringify(theirs.calls.map((c) => c.body))).not.toMatch(/"d-a"|"mine"/);
      expect(mine.calls.length).toBeGreaterThanOrEqual(3);
      expect(mine.calls.every((c) => c.body.appId === two.appId)).toBe(true);
      expect(JSON.stringify(mine.calls.map((c) => c.body))).not.toMatch(/"o-a"|"theirs"/);
      expect(verifyWebhookSignature('the-other-apps-secret-xyz', theirs.calls[0]!.headers['x-comind-timestamp'] as string, theirs.calls[0]!.raw, theirs.calls[0]!.headers['x-comind-signature'] as string)).toBe(true);
    } finally {
      await two.stop();
    }
  });
});

it('an event pending while the backend is down is delivered after a restart on the same data directory', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-wh-restart-'));
  const down = await new Receiver().start();
  const port = down.port;
  await down.stop(); // nothing listens there now: every attempt fails
  const options = { ...LOCAL, dataDir: dir, devAppId: 'wh-restart', devAppSecret: 'restart-app-secret', webhooks: { retryDelaysMs: [100, 100, 100, 100, 100, 100, 100], pollMs: 50 } };
  let first: TestServer | undefined = await startServer(options);
  try {
    expect((await configure(first, { url: `http://127.0.0.1:${port}/hook`, events: ['afterSend'], secret: SECRET })).body.code).toBe(0);
    await tokenFor(first, 'r-b');
    const sa = await connect(first, await tokenFor(first, 'r-a'));
    const ack = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'r-b', content: 'survives' });
    expect(ack.code).toBe(0);
    await sleep(250); // an attempt or two failed
    sa.close();
    await first.stop();
    first = undefined;

    const up = await new Receiver().start(port);
    receivers.push(up);
    up.reply = () => ({ status: 200 });
    const second = await startServer(options);
    try {
      await until(() => up.of('afterSend').length === 1, 10_000, 'the pending afterSend after the restart');
      expect(up.of('afterSend')[0]!.body.data.message).toMatchObject({ messageId: ack.data.messageId, content: 'survives' });
      await sleep(300);
      expect(up.of('afterSend')).toHaveLength(1);
    } finally {
      await second.stop();
    }
  } finally {
    await first?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
