// One cold start of one SDK, in a process of its own (no module cache, no compiled code, no warm
// heap from an earlier load): a simulated phone (createWxRuntime from dist/testing.cjs), a
// mini-program realm with only `wx` (bench/lib/wx-realm.mjs), then the SDK file loaded and its
// client constructed. Started by bench/suites/coldstart.mjs with --expose-gc; the result goes back
// over IPC.
//
// No network: the phone's domain lists are empty, so every wx.request / wx.connectSocket /
// wx.uploadFile / wx.downloadFile fails with "url not in domain list" without a packet sent (what
// WeChat does for a domain the mini-program has not configured), and each attempt is recorded.
// In `connect` mode (ours only) the lists are off and the client connects to the given server.
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { fileURLToPath } from 'node:url';
import { SDKS } from './coldstart-sdks.mjs';
import { createWxRealm } from './wx-realm.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const artefacts = process.env.BENCH_ARTEFACTS || root;
const require = createRequire(path.join(root, 'package.json'));
const spec = JSON.parse(process.argv[2]);
const sdk = SDKS.find((s) => s.id === spec.id);

const problems = [];
const note = (kind, err) => {
  if (problems.length < 20) problems.push(`${kind}: ${String(err?.message ?? (typeof err === 'object' ? JSON.stringify(err) : err)).slice(0, 200)}`);
};
// An SDK's own background work failing (a missing file on a fresh phone, a refused request) is
// part of its start, not a failure of the measurement.
process.on('unhandledRejection', (r) => note('unhandled rejection', r));
process.on('uncaughtException', (e) => note('uncaught exception', e));

const heap = () => {
  global.gc();
  global.gc();
  return { used: v8.getHeapStatistics().used_heap_size, external: process.memoryUsage().external };
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { createWxRuntime } = require(path.join(artefacts, 'dist/testing.cjs'));
  const phone = createWxRuntime(spec.connect ? {} : { domains: { request: [], socket: [] } });
  const network = [];
  let t0 = 0;
  const wx = { ...phone.wx };
  for (const api of ['request', 'connectSocket', 'uploadFile', 'downloadFile']) {
    wx[api] = (o) => {
      network.push({ api, url: String(o?.url ?? '').slice(0, 120), afterMs: Math.round(performance.now() - t0) });
      return phone.wx[api](o);
    };
  }
  // The simulated file system has files but no directories; an SDK that lists or creates its
  // folders on start (ZIM) gets what a fresh install has: empty folders.
  const files = phone.wx.getFileSystemManager();
  const fsm = {
    ...files,
    readdir: (o) => o?.success?.({ errMsg: 'readdir:ok', files: [] }),
    readdirSync: () => [],
    mkdir: (o) => o?.success?.({ errMsg: 'mkdir:ok' }),
    mkdirSync: () => undefined,
    rmdir: (o) => o?.success?.({ errMsg: 'rmdir:ok' }),
    rmdirSync: () => undefined,
    stat: (o) => o?.fail?.({ errMsg: 'stat:fail no such file or directory' }),
  };
  wx.getFileSystemManager = () => fsm;
  // The SDKs log on start; the host's console is not what is measured.
  const silent = new Proxy({}, { get: () => () => undefined });
  const realm = createWxRealm({ wx, console: silent, getApp: () => ({}), getCurrentPages: () => [] });
  const keep = [];

  if (spec.connect) {
    // The simulated phone's WebSocket rides on Node's http/net, which load and compile on first
    // use: one socket opened and closed on a throwaway phone first, so that cost (of the
    // simulation, not of the SDK or of a phone) stays out of connect → ready.
    const scratch = createWxRuntime();
    await new Promise((resolve) => {
      const url = `${spec.connect.serverUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
      const task = scratch.wx.connectSocket({ url });
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(done, 3000);
      task.onOpen(() => task.close({}));
      task.onClose(done);
      task.onError(done);
    });
    scratch.destroy?.();
  }
  const h0 = heap();
  t0 = performance.now();
  const mod = realm.require(spec.file);
  const t1 = performance.now();
  keep.push(mod);
  const h1 = heap();
  const t2 = performance.now();
  const client = sdk.construct(mod, spec.connect ?? {});
  const t3 = performance.now();
  keep.push(client);
  const h2 = heap();
  // Timers and promises an SDK starts in its constructor run now (and what they allocate counts).
  await sleep(spec.settleMs ?? 500);
  const h3 = heap();
  const out = {
    loadMs: t1 - t0,
    constructMs: t3 - t2,
    totalMs: t1 - t0 + (t3 - t2),
    heapLoadBytes: h1.used - h0.used,
    heapConstructBytes: h2.used - h1.used,
    heapBytes: h3.used - h0.used,
    externalBytes: h3.external - h0.external,
    networkCalls: network.length,
    network: network.slice(0, 10),
    problems,
  };

  if (spec.connect) {
    const connectOnce = async (c, token) => {
      let connectedAt;
      const onStatus = (st) => {
        if (st === 'connected' && connectedAt === undefined) connectedAt = performance.now();
      };
      c.on('status', onStatus);
      const ready = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no ready in 15 s')), 15000);
        c.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const s = performance.now();
      await c.connect({ token });
      await ready;
      const end = performance.now();
      c.off?.('status', onStatus);
      return { ready: end - s, connected: connectedAt === undefined ? null : connectedAt - s };
    };
    const first = await connectOnce(client, spec.connect.token);
    out.connectMs = first.ready;
    out.connectedMs = first.connected;
    // A second client in the same process: what is left when the code is compiled and warm.
    const second = sdk.construct(mod, spec.connect);
    keep.push(second);
    out.secondConnectMs = (await connectOnce(second, spec.connect.secondToken)).ready;
    for (const c of [client, second]) c.destroy?.();
  }
  globalThis.__keep = keep;
  return out;
}

let message;
try {
  message = { result: await main() };
} catch (err) {
  message = { error: String(err?.stack ?? err).split('\n').slice(0, 4).join(' | '), problems };
}
process.send(message, () => process.exit(0));
