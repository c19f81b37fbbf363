/**
 * E_SEND_UNCERTAIN, made to happen on purpose: the send is emitted, a proxy holds its bytes, the app
 * calls disconnect() (the send rejects E_SEND_UNCERTAIN with its clientMsgId), then the held bytes
 * reach the server on the dying connection and the message is stored after all. When the app
 * connects again, that device gets the message once as `imchat` (from itself, same clientMsgId),
 * so it can tell the user it was sent; history has it once. The chaos runs meet this by chance.
 * Resending with the rejected send's clientMsgId (what the demo's Retry does) stores it once,
 * whether or not the first attempt reached the server.
 */
import net from 'node:net';
import { createWebAdapter } from '../../adapters/web';
import { ImClient } from '../../src/client';
import type { ImError } from '../../src/core/errors';
import type { ImMessage } from '../../src/core/protocol';
import { nextEvent, startTestServer, waitFor, type TestServer } from '../helpers/server';
import { closeAll, collect, connect, http, tokenFor } from '../server/raw';

/** Forwards to `port`; while `holding`, bytes from clients are kept back until release(). */
class HoldingProxy {
  holding = false;
  private readonly server: net.Server;
  private readonly held: Array<{ upstream: net.Socket; chunks: Buffer[]; clientGone: boolean }> = [];
  private readonly sockets = new Set<net.Socket>();

  constructor(port: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(port, '127.0.0.1');
      const entry = { upstream, chunks: [] as Buffer[], clientGone: false };
      this.held.push(entry);
      this.sockets.add(client).add(upstream);
      client.on('data', (d: Buffer) => (this.holding ? entry.chunks.push(d) : upstream.write(d)));
      upstream.on('data', (d: Buffer) => client.destroyed || client.write(d));
      // While bytes are held, the server side stays open after the client has gone.
      client.on('close', () => {
        entry.clientGone = true;
        if (!entry.chunks.length) upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** Delivers what was held, then ends the connections whose client already left. */
  release(): void {
    this.holding = false;
    for (const e of this.held) {
      for (const c of e.chunks.splice(0)) e.upstream.write(c);
      if (e.clientGone) setTimeout(() => e.upstream.destroy(), 200);
    }
  }

  /** Throws away what was held, as a network that lost the bytes would: the server never sees them. */
  discard(): void {
    this.holding = false;
    for (const e of this.held) {
      e.chunks.length = 0;
      if (e.clientGone) e.upstream.destroy();
    }
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  closeAll();
  await server.stop();
});

it('a send that ended E_SEND_UNCERTAIN but was stored reaches its own device once, by its clientMsgId', async () => {
  const proxy = new HoldingProxy(Number(new URL(server.socketUrl).port));
  const proxyUrl = await proxy.listen();
  const tokenA = await tokenFor(server, 'unc-a');
  const bob = await connect(server, await tokenFor(server, 'unc-b'));
  const bobGot = collect<ImMessage>(bob, 'imchat');
  const a = new ImClient({ serverUrl: proxyUrl, apiServer: server.apiUrl, adapter: createWebAdapter(), logLevel: 'silent', reconnectionDelay: 50 });
  try {
    const aGot: ImMessage[] = [];
    a.on('imchat', (m) => aGot.push(m));
    const ready = nextEvent(a, 'ready');
    await a.connect({ token: tokenA });
    await ready;

    proxy.holding = true;
    const sending = a.sendPrivateMessage({ content: 'did this arrive?', recipientId: 'unc-b' });
    await new Promise((r) => setTimeout(r, 50)); // emitted, held by the proxy
    a.disconnect();
    const err = (await sending.then(
      () => null,
      (e: ImError) => e,
    ))!;
    expect(err).toMatchObject({ code: 'E_SEND_UNCERTAIN', clientMsgId: expect.any(String) });

    proxy.release(); // the held chat:send reaches the server on the old connection: stored after all
    await waitFor(() => bobGot.length === 1, 5000, 'bob gets it');
    expect(bobGot[0]).toMatchObject({ clientMsgId: err.clientMsgId, from: 'unc-a', content: 'did this arrive?' });

    const back = nextEvent(a, 'ready');
    await a.connect();
    await back;
    await new Promise((r) => setTimeout(r, 200));
    expect(aGot.map((m) => [m.clientMsgId, m.from, m.content])).toEqual([[err.clientMsgId, 'unc-a', 'did this arrive?']]);
    const history = (await http(server, 'GET', '/api/private/unc-b/messages?limitSize=10', undefined, tokenA)).body.data as ImMessage[];
    expect(history.filter((m) => m.clientMsgId === err.clientMsgId)).toHaveLength(1);

    // The next send is an ordinary one: resolved, and not echoed to its own device.
    const next = await a.sendPrivateMessage({ content: 'and this one', recipientId: 'unc-b' });
    await waitFor(() => bobGot.length === 2, 5000, 'second message');
    await new Promise((r) => setTimeout(r, 100));
    expect(aGot).toHaveLength(1);
    expect(next.seq).toBe(history[history.length - 1]!.seq + 1);
  } finally {
    a.destroy();
    await proxy.close();
  }
});

/** Makes a send end E_SEND_UNCERTAIN: emitted, held by the proxy, then disconnect(). */
async function uncertainSend(a: ImClient, proxy: HoldingProxy, content: string): Promise<ImError> {
  proxy.holding = true;
  const sending = a.sendPrivateMessage({ content, recipientId: 'unc-b' });
  await new Promise((r) => setTimeout(r, 50));
  a.disconnect();
  const err = (await sending.then(
    () => null,
    (e: ImError) => e,
  ))!;
  expect(err).toMatchObject({ code: 'E_SEND_UNCERTAIN', clientMsgId: expect.any(String) });
  return err;
}

it.each([
  ['reached the server after all', 'release'],
  ['was lost on the way', 'discard'],
] as const)('a resend with the clientMsgId of an uncertain send that %s is stored exactly once', async (_what, fate) => {
  const proxy = new HoldingProxy(Number(new URL(server.socketUrl).port));
  const proxyUrl = await proxy.listen();
  const tokenA = await tokenFor(server, `unc-r-${fate}`);
  const bob = await connect(server, await tokenFor(server, 'unc-b'));
  const bobGot = collect<ImMessage>(bob, 'imchat');
  const a = new ImClient({ serverUrl: proxyUrl, apiServer: server.apiUrl, adapter: createWebAdapter(), logLevel: 'silent', reconnectionDelay: 50 });
  try {
    const ready = nextEvent(a, 'ready');
    await a.connect({ token: tokenA });
    await ready;
    const content = `retry me (${fate})`;
    const err = await uncertainSend(a, proxy, content);
    if (fate === 'release') {
      proxy.release();
      await waitFor(() => bobGot.some((m) => m.clientMsgId === err.clientMsgId), 5000, 'bob gets the first attempt');
    } else {
      proxy.discard();
    }

    const back = a.connect();
    const resent = await a.sendPrivateMessage({ content, recipientId: 'unc-b', clientMsgId: err.clientMsgId });
    await back;
    expect(resent).toMatchObject({ clientMsgId: err.clientMsgId, from: `unc-r-${fate}`, content });
    await waitFor(() => bobGot.some((m) => m.clientMsgId === err.clientMsgId), 5000, 'bob gets it');
    await new Promise((r) => setTimeout(r, 200));
    const copies = bobGot.filter((m) => m.clientMsgId === err.clientMsgId);
    expect(copies.map((m) => m.messageId)).toEqual([resent.messageId]);
    const history = (await http(server, 'GET', '/api/private/unc-b/messages?limitSize=50', undefined, tokenA)).body.data as ImMessage[];
    expect(history.filter((m) => m.clientMsgId === err.clientMsgId)).toHaveLength(1);
  } finally {
    a.destroy();
    await proxy.close();
  }
});

it('a retry while the first send is still pending joins it: one message, both promises resolve with it', async () => {
  const tokenA = await tokenFor(server, 'unc-join');
  const a = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createWebAdapter(), logLevel: 'silent' });
  try {
    const ready = nextEvent(a, 'ready');
    await a.connect({ token: tokenA });
    await ready;
    const first = a.sendPrivateMessage({ content: 'twice?', recipientId: 'unc-b', clientMsgId: 'join-1' });
    const second = a.sendPrivateMessage({ content: 'twice?', recipientId: 'unc-b', clientMsgId: 'join-1' });
    const [m1, m2] = await Promise.all([first, second]);
    expect(m2.messageId).toBe(m1.messageId);
    const history = (await http(server, 'GET', '/api/private/unc-b/messages?limitSize=50', undefined, tokenA)).body.data as ImMessage[];
    expect(history.filter((m) => m.clientMsgId === 'join-1')).toHaveLength(1);
  } finally {
    a.destroy();
  }
});
