/**
 * The contract suite for the uniapp adapter on a faithful `uni` (see uniapp-shim.ts) over the Node
 * wx runtime: every HTTP call, socket and storage access goes through `uni`, never `wx` directly.
 */
import { createUniappAdapter, uniappAdapterCandidate } from '../../adapters/uniapp';
import type { ImAdapter } from '../../src/adapter';
import { ImClient } from '../../src/client';
import { createWxRuntime, type WxRuntime } from '../../testing';
import { startTestServer, uniqueUser, type TestServer } from '../helpers/server';
import { runContractSuite } from './suite';
import { chooseOnPhone, downloadOnPhone } from './wx-files';
import { createUniShim, type UniShim } from './uniapp-shim';

const phones = new Map<ImAdapter, { runtime: WxRuntime; shim: UniShim }>();

runContractSuite('uniapp (uni.connectSocket SocketTask + uni.request, uni over the Node wx runtime)', {
  createAdapter() {
    const runtime = createWxRuntime();
    const shim = createUniShim(runtime);
    const adapter = createUniappAdapter({ uni: shim.uni, target: 'miniprogram' });
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

describe('uniapp adapter specifics', () => {
  let server: TestServer;
  const runtimes: WxRuntime[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    for (const r of runtimes) r.destroy();
    await server.stop();
  });

  it('the shim is faithful: without a callback uni.connectSocket returns a Promise, not a SocketTask', async () => {
    const runtime = createWxRuntime();
    runtimes.push(runtime);
    const { uni } = createUniShim(runtime);
    const returned = uni.connectSocket({ url: server.socketUrl.replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket' });
    expect(typeof returned.then).toBe('function');
    expect(returned.onOpen).toBeUndefined();
    await returned;
    const task = uni.connectSocket({ url: server.socketUrl.replace(/^http/, 'ws') + '/socket.io/?EIO=4&transport=websocket', complete: () => undefined });
    expect(typeof task.onOpen).toBe('function');
    task.close({});
  });

  it('HTTP, socket and storage go through uni, and an app interceptor on uni.request sees the calls', async () => {
    const runtime = createWxRuntime();
    runtimes.push(runtime);
    const shim = createUniShim(runtime);
    const seen: string[] = [];
    shim.uni.addInterceptor('request', { invoke: (args: { url: string }) => void seen.push(args.url) });
    const client = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createUniappAdapter({ uni: shim.uni, target: 'miniprogram' }), logLevel: 'silent' });
    try {
      await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId: uniqueUser() });
      await client.connect();
      await client.getConversationList();
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(shim.calls.get('request')).toBeGreaterThanOrEqual(2);
      expect(shim.calls.get('connectSocket')).toBe(1);
      expect(shim.calls.get('setStorage') ?? 0).toBeGreaterThan(0);
    } finally {
      client.destroy();
    }
  });

  it('detection: a global uni with request and connectSocket makes the uniapp candidate usable', () => {
    const runtime = createWxRuntime();
    runtimes.push(runtime);
    const g = globalThis as { uni?: unknown };
    expect(uniappAdapterCandidate.isSupported()).toMatch(/no global uni/);
    g.uni = createUniShim(runtime).uni;
    try {
      expect(uniappAdapterCandidate.isSupported()).toBe(true);
      const adapter = uniappAdapterCandidate.create();
      expect(adapter.name).toBe('uniapp');
      // Node has no document: the mini-program target, with the whitelist hint.
      expect(adapter.socketErrorHint?.('http://im.example.com')).toMatch(/whitelist/);
      adapter.destroy?.();
    } finally {
      delete g.uni;
    }
  });
});
