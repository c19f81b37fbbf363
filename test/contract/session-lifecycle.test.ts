/** Token expiry and renewal, kicks, and server restarts, through ImClient against the real server. */
import { createWebAdapter } from '../../adapters/web';
import { ImClient } from '../../src/client';
import { mintToken } from '../../server/src';
import { nextEvent, startTestServer, uniqueUser, waitFor, type TestServer } from '../helpers/server';

const clients: ImClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

function client(server: TestServer, extra: Record<string, unknown> = {}): ImClient {
  const c = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createWebAdapter(), logLevel: 'silent', reconnectionDelay: 100, ...extra });
  clients.push(c);
  return c;
}

describe('token lifetime through ImClient', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ tokenTtl: 3 });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('with a tokenProvider the session is renewed before expiry and never drops', async () => {
    const userId = uniqueUser();
    let minted = 0;
    const provider = () => {
      minted++;
      return mintToken({ appId: server.appId, appSecret: server.appSecret, userId, ttlSeconds: 3 });
    };
    // The user must exist: register through the development path once.
    await client(server).getToken({ appId: server.appId, appSecret: server.appSecret, userId });
    const c = client(server, { tokenProvider: provider });
    const disconnects: string[] = [];
    c.on('disconnect', (r) => disconnects.push(r));
    await c.connect();
    await nextEvent(c, 'tokenWillExpire', 5000);
    await new Promise((r) => setTimeout(r, 1500)); // past the first token's expiry
    expect(minted).toBeGreaterThanOrEqual(2);
    expect(disconnects).toEqual([]);
    expect(c.getStatus()).toBe('connected');
  }, 15000);

  it('without a tokenProvider: tokenExpired, disconnected, then renewToken + connect resumes', async () => {
    const userId = uniqueUser();
    const c = client(server);
    await c.getToken({ appId: server.appId, appSecret: server.appSecret, userId });
    await c.connect();
    await nextEvent(c, 'tokenExpired', 6000);
    await waitFor(() => c.getStatus() === 'disconnected', 3000, 'disconnected');
    await expect(c.sendPrivateMessage({ content: 'x', recipientId: userId })).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
    await c.renewToken(mintToken({ appId: server.appId, appSecret: server.appSecret, userId, ttlSeconds: 60 }));
    await expect(c.connect()).resolves.toBe(true);
  }, 15000);

  it('an HTTP call with an expired token is retried once with a token from tokenProvider', async () => {
    const userId = uniqueUser();
    await client(server).getToken({ appId: server.appId, appSecret: server.appSecret, userId });
    const expired = mintToken({ appId: server.appId, appSecret: server.appSecret, userId, ttlSeconds: -10 });
    const c = client(server, { tokenProvider: () => mintToken({ appId: server.appId, appSecret: server.appSecret, userId }) });
    await c.renewToken(expired);
    await expect(c.getGroupList()).resolves.toEqual([]);
  });
});

describe('kicked and restarts through ImClient', () => {
  it("IM_SESSION_POLICY=kick: the older client gets 'kicked' and does not reconnect", async () => {
    const server = await startTestServer({ sessionPolicy: 'kick' });
    try {
      const userId = uniqueUser();
      const first = client(server);
      await first.getToken({ appId: server.appId, appSecret: server.appSecret, userId });
      await first.connect();
      const kicked = nextEvent<{ reason: string }>(first, 'kicked');
      const second = client(server);
      await second.getToken({ appId: server.appId, appSecret: server.appSecret, userId });
      await second.connect();
      await expect(kicked).resolves.toEqual({ reason: 'another_session' });
      await new Promise((r) => setTimeout(r, 500));
      expect(first.getStatus()).toBe('disconnected');
      expect(second.getStatus()).toBe('connected');
    } finally {
      for (const c of clients.splice(0)) c.destroy();
      await server.stop();
    }
  });

  it('a server restart: the client reconnects by itself and catches up what it missed', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-restart-'));
    let server = await startTestServer({ dataDir: dir });
    const ports = { apiPort: Number(new URL(server.apiUrl).port), socketPort: Number(new URL(server.socketUrl).port) };
    try {
      const alice = uniqueUser();
      const bob = uniqueUser();
      const b = client(server);
      await b.getToken({ appId: server.appId, appSecret: server.appSecret, userId: bob });
      const bReady = nextEvent(b, 'ready');
      await b.connect();
      await bReady;
      const got: string[] = [];
      b.on('imchat', (m) => got.push(m.content));
      await server.stop();
      await waitFor(() => b.getStatus() === 'reconnecting', 3000, 'reconnecting');
      server = await startTestServer({ dataDir: dir, ...ports });
      // Alice writes while Bob is still reconnecting.
      const a = client(server);
      await a.getToken({ appId: server.appId, appSecret: server.appSecret, userId: alice });
      await a.connect();
      await a.sendPrivateMessage({ content: 'during the restart', recipientId: bob });
      await waitFor(() => got.length === 1, 10000, 'caught up');
      expect(got).toEqual(['during the restart']);
    } finally {
      for (const c of clients.splice(0)) c.destroy();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20000);
});
