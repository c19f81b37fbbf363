/**
 * The contract suite for the taro adapter on a faithful Taro API object (see taro-shim.ts) over the
 * Node wx runtime: promise-returning APIs, connectSocket's Promise<SocketTask>, request's
 * interceptor chain. No promise the adapter gets back may end as an unhandled rejection.
 */
import { createTaroAdapter, taroAdapterCandidate } from '../../adapters/taro';
import type { ImAdapter } from '../../src/adapter';
import { ImClient } from '../../src/client';
import { createWxRuntime, type WxRuntime } from '../../testing';
import { startTestServer, uniqueUser, type TestServer } from '../helpers/server';
import { runContractSuite } from './suite';
import { chooseOnPhone, downloadOnPhone } from './wx-files';
import { createTaroShim, type TaroShim } from './taro-shim';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

const phones = new Map<ImAdapter, { runtime: WxRuntime; shim: TaroShim }>();

runContractSuite('taro (Taro.connectSocket Promise<SocketTask> + Taro.request, Taro over the Node wx runtime)', {
  createAdapter() {
    const runtime = createWxRuntime();
    const shim = createTaroShim(runtime);
    const adapter = createTaroAdapter({ Taro: shim.Taro });
    phones.set(adapter, { runtime, shim });
    return adapter;
  },
  setOnline(adapter, online) {
    phones.get(adapter)!.runtime.setNetwork(online);
  },
  setAppState(adapter, state) {
    const { runtime } = phones.get(adapter)!;
    if (state === 'background') runtime.hide({ cutNetworkAfterMs: 50 });
    else runtime.show();
  },
  pickFile: (adapter, file) => chooseOnPhone(phones.get(adapter)!.runtime, file),
  download: (adapter, url) => downloadOnPhone(phones.get(adapter)!.runtime, url),
  teardown() {
    for (const { runtime } of phones.values()) runtime.destroy();
    phones.clear();
  },
});

describe('taro adapter specifics', () => {
  let server: TestServer;
  const runtimes: WxRuntime[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    for (const r of runtimes) r.destroy();
    await server.stop();
  });

  function shim(): TaroShim {
    const runtime = createWxRuntime();
    runtimes.push(runtime);
    return createTaroShim(runtime);
  }

  it('the shim is faithful: Taro.connectSocket returns a Promise that resolves to the SocketTask', async () => {
    const { Taro } = shim();
    const returned = Taro.connectSocket({ url: server.socketUrl.replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket', fail: () => undefined });
    expect(typeof returned.then).toBe('function');
    expect(returned.onOpen).toBeUndefined();
    const task = await returned;
    expect(typeof task.onOpen).toBe('function');
    task.close({});
  });

  it('a missing storage key and a refused request reject Taro promises, yet nothing is unhandled', async () => {
    const s = shim();
    const adapter = createTaroAdapter({ Taro: s.Taro });
    await expect(adapter.storage.getItem('never-set')).resolves.toBeNull();
    await expect(adapter.request({ method: 'GET', url: 'http://127.0.0.1:1/nothing', headers: {}, timeout: 2000 })).rejects.toBeInstanceOf(Error);
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
    adapter.destroy?.();
  });

  it('Taro.request interceptors see the SDK calls; the socket comes from Taro.connectSocket', async () => {
    const s = shim();
    const seen: string[] = [];
    s.Taro.addInterceptor((chain: { requestParams: { url: string }; proceed(p: unknown): Promise<unknown> }) => {
      seen.push(chain.requestParams.url);
      return chain.proceed(chain.requestParams);
    });
    const client = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createTaroAdapter({ Taro: s.Taro }), logLevel: 'silent' });
    try {
      await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId: uniqueUser() });
      await client.connect();
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(s.calls.get('connectSocket')).toBe(1);
    } finally {
      client.destroy();
    }
  });

  it('getEnv() = WEB selects the browser socket (no SocketTask) and no whitelist hint', () => {
    const s = shim();
    const adapter = createTaroAdapter({ Taro: { ...s.Taro, getEnv: () => 'WEB' } });
    expect(adapter.socketErrorHint?.('http://x')).toBeUndefined();
    adapter.destroy?.();
  });

  it('detection: only a global Taro object makes the taro candidate usable (Taro apps import it, so inject)', () => {
    const g = globalThis as { Taro?: unknown };
    expect(taroAdapterCandidate.isSupported()).toMatch(/createTaroAdapter\(\{ Taro \}\)/);
    g.Taro = shim().Taro;
    try {
      expect(taroAdapterCandidate.isSupported()).toBe(true);
      const adapter = taroAdapterCandidate.create();
      expect(adapter.name).toBe('taro');
      adapter.destroy?.();
    } finally {
      delete g.Taro;
    }
  });
});
