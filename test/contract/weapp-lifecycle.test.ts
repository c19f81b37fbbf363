/** weapp adapter specifics on the wx runtime: listener cleanup, request queueing, whitelist hint. */
import { createWeappAdapter } from '../../adapters/weapp';
import { ImClient } from '../../src/client';
import { createWxRuntime, type WxRuntime } from '../../testing';
import { startTestServer, uniqueUser, waitFor, type TestServer } from '../helpers/server';

let server: TestServer;
const phones: WxRuntime[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const p of phones) p.destroy();
  await server.stop();
});

function phone(options: Parameters<typeof createWxRuntime>[0] = {}): WxRuntime {
  const p = createWxRuntime(options);
  phones.push(p);
  return p;
}

it('destroy() removes every wx listener: later network and show events open no socket', async () => {
  const p = phone();
  const client = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createWeappAdapter({ wx: p.wx }), logLevel: 'silent' });
  await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId: uniqueUser() });
  await client.connect();
  expect(p.openSockets()).toBe(1);
  client.destroy();
  await waitFor(() => p.openSockets() === 0, 3000, 'socket closed');
  const created = p.sockets().length;
  p.setNetwork(false);
  p.setNetwork(true);
  p.hide();
  p.show();
  await new Promise((r) => setTimeout(r, 300));
  expect(p.sockets().length).toBe(created);
});

it('more than 10 concurrent API calls are queued by the adapter instead of failing on WeChat\'s limit', async () => {
  const p = phone({ limits: { requests: 10, requestOverflow: 'fail' } });
  const client = new ImClient({ apiServer: server.apiUrl, adapter: createWeappAdapter({ wx: p.wx }), logLevel: 'silent' });
  await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId: uniqueUser() });
  const results = await Promise.all(Array.from({ length: 25 }, () => client.getGroupList()));
  expect(results.every((r) => Array.isArray(r))).toBe(true);
  client.destroy();
});

it('a socket that cannot connect logs the domain whitelist hint', async () => {
  const p = phone({ domains: { socket: ['wss://im.example.com'] } } as never);
  const warnings: string[] = [];
  const client = new ImClient({
    serverUrl: server.socketUrl,
    adapter: createWeappAdapter({ wx: p.wx }),
    reconnection: false,
    logLevel: 'warn',
    logger: { debug: () => undefined, info: () => undefined, warn: (...a) => warnings.push(a.join(' ')), error: () => undefined },
  });
  client.on('error', () => undefined);
  await expect(client.connect({ token: 'a.b.c' })).rejects.toMatchObject({ code: 'E_NETWORK' });
  expect(warnings.join('\n')).toMatch(/whitelist/);
  client.destroy();
});
