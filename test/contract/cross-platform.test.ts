/**
 * The "Done when", for every platform: a phone on it (a runtime from the testing export,
 * the SDK's adapter for that platform) chats with a WeChat phone both ways, catches up after
 * losing the network and after the platform cut it in the background, and `destroy()` leaves no
 * listener behind: the runtime counts what is registered on it (network status, app show/hide,
 * socket callbacks), and the app's own listeners survive the SDK's cleanup.
 */
import { createMiniProgramAdapter } from '../../adapters/platforms';
import { createWeappAdapter } from '../../adapters/weapp';
import { ImClient } from '../../src/client';
import type { ImAdapter } from '../../src/adapter';
import type { ImMessage } from '../../src/core/protocol';
import { createWxRuntime, MINI_PROGRAM_PLATFORMS } from '../../testing';
import type { MiniProgramRuntime, WxRuntime } from '../../testing';
import { nextEvent, startTestServer, uniqueUser, waitFor, type TestServer } from '../helpers/server';
import { platformPhone } from './platform-target';

let server: TestServer;
const clients: ImClient[] = [];
const phones: Array<WxRuntime | MiniProgramRuntime<unknown>> = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of phones.splice(0)) p.destroy();
});

afterAll(async () => {
  await server.stop();
});

async function login(adapter: ImAdapter, userName: string) {
  const client = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter, logLevel: 'silent', reconnectionDelay: 60_000 });
  clients.push(client);
  const userId = uniqueUser();
  await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId, userName });
  const ready = nextEvent(client, 'ready');
  await client.connect();
  await ready;
  const got: string[] = [];
  client.on('imchat', (m: ImMessage) => got.push(m.content));
  return { client, userId, got };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(MINI_PROGRAM_PLATFORMS)('%s: a phone on it and a WeChat phone', (platform) => {
  it('chat both ways, catch up once and in order after a network loss and a background cut, and destroy() leaves no listener behind', async () => {
    const wxPhone = createWxRuntime();
    phones.push(wxPhone);
    const { runtime, adapter } = platformPhone(platform);
    phones.push(runtime);
    // The app's own listeners, registered before the SDK: they must outlive its cleanup.
    const api = runtime.api as { onAppShow(fn: () => void): void; onAppHide(fn: () => void): void };
    let appShows = 0;
    api.onAppShow(() => appShows++);
    api.onAppHide(() => undefined);
    const before = runtime.listenerCounts();

    const mine = await login(adapter, 'Mini');
    const wechat = await login(createWeappAdapter({ wx: wxPhone.wx }), 'WeChat');
    expect(adapter.name).toBe(platform);
    expect(runtime.listenerCounts().total).toBeGreaterThan(before.total);

    await mine.client.sendPrivateMessage({ recipientId: wechat.userId, content: `hello from ${platform}` });
    await wechat.client.sendPrivateMessage({ recipientId: mine.userId, content: 'hello from WeChat' });
    await waitFor(() => wechat.got.length === 1 && mine.got.length === 1, 5000, 'both greetings');

    // The network goes; the WeChat phone writes meanwhile; it comes back: the catch-up, at once.
    runtime.setNetwork(false);
    await waitFor(() => mine.client.getStatus() !== 'connected', 5000, 'offline');
    for (let i = 1; i <= 3; i++) await wechat.client.sendPrivateMessage({ recipientId: mine.userId, content: `while offline ${i}` });
    const back = nextEvent(mine.client, 'ready', 10_000);
    runtime.setNetwork(true, '4g');
    await back;
    // A send queued while the app is in the background and cut off goes out once it is shown.
    // (The SDK forces at most one reconnect per 2 s from these events: let the last one age.)
    await sleep(2100);
    runtime.hide({ cutNetworkAfterMs: 50 });
    await waitFor(() => mine.client.getStatus() !== 'connected', 5000, 'cut in the background');
    await wechat.client.sendPrivateMessage({ recipientId: mine.userId, content: 'while hidden' });
    const queued = mine.client.sendPrivateMessage({ recipientId: wechat.userId, content: 'written while hidden' });
    const shown = nextEvent(mine.client, 'ready', 10_000);
    runtime.show();
    await shown;
    await queued;
    await waitFor(() => mine.got.length === 5 && wechat.got.length === 2, 5000, 'catch-up');
    await sleep(150);
    expect(mine.got).toEqual(['hello from WeChat', 'while offline 1', 'while offline 2', 'while offline 3', 'while hidden']);
    expect(wechat.got).toEqual([`hello from ${platform}`, 'written while hidden']);

    // destroy(): the socket closes and every listener the SDK registered goes.
    mine.client.destroy();
    await waitFor(() => runtime.openSockets() === 0, 3000, 'socket closed');
    const after = runtime.listenerCounts();
    if (platform === 'baidu') {
      // swan's offAppShow()/offAppHide() would remove the app's listeners too: the adapter keeps one
      // dormant listener per hook for all its clients instead (never more, see the cycles below).
      expect(after).toMatchObject({ networkStatus: before.networkStatus, socket: 0 });
      expect(after.appShow).toBeLessThanOrEqual(before.appShow + 1);
      expect(after.appHide).toBeLessThanOrEqual(before.appHide + 1);
    } else {
      expect(after).toEqual(before);
    }
    // More clients come and go on the same phone (each with its adapter, as detection makes one): nothing accumulates.
    for (let i = 0; i < 3; i++) {
      const again = await login(createMiniProgramAdapter({ platform, api: runtime.api }), `Again ${i}`);
      again.client.destroy();
    }
    await waitFor(() => runtime.openSockets() === 0, 3000, 'sockets closed');
    expect(runtime.listenerCounts()).toEqual(after);
    // Nothing of the destroyed clients reacts any more; the app's own listener still does.
    const created = runtime.sockets().length;
    const shows = appShows;
    runtime.setNetwork(false);
    runtime.setNetwork(true);
    runtime.hide();
    runtime.show();
    await sleep(300);
    expect(runtime.sockets().length).toBe(created);
    expect(appShows).toBe(shows + 1);
  });
});
