/**
 * destroy() releases everything: 1,000 ImClient connect/destroy cycles against the real server
 * (web adapters, and weapp adapters sharing one long-lived wx runtime as a mini-program would),
 * destroyed at every stage (mid-handshake, connected, after a send), leave no growth in TCP
 * handles, timers, file descriptors, wx listeners, wx sockets or heap.
 */
import { readdirSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createWebAdapter } from '../../adapters/web';
import { createWeappAdapter } from '../../adapters/weapp';
import { ImClient } from '../../src/client';
import { createWxRuntime } from '../../testing';
import { startTestServer, waitFor, type TestServer } from '../helpers/server';
import { tokenFor } from '../server/raw';

const CYCLES = Number(process.env.LEAK_CYCLES ?? 1000);

/** A real gc() even without --expose-gc (V8 flag set at run time); undefined if that fails. */
function findGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose_gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

const fds = () => {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return 0; // not Linux: the handle counts still apply
  }
};

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let server: TestServer;
let tokenA: string;
let peer: string;

beforeAll(async () => {
  server = await startTestServer();
  tokenA = await tokenFor(server, 'leak-a');
  peer = 'leak-b';
  await tokenFor(server, peer);
});

afterAll(async () => {
  await server.stop();
});

it(`${CYCLES} connect/destroy cycles (web and weapp, at every stage) leave nothing behind`, async () => {
  const gc = findGc();
  const leftovers: string[] = [];

  /**
   * Runs cycles from..to: six web lanes and three weapp lanes sharing one wx runtime (WeChat allows
   * a mini-program 5 sockets at once). The runtime is destroyed at the end of the phase: it keeps
   * every SocketTask it created (runtime.sockets()), which is the test tool's memory, not the SDK's.
   */
  const phase = async (from: number, to: number) => {
    const runtime = createWxRuntime();
    // Count the wx lifecycle/network listeners the weapp adapter adds and removes.
    let wxListeners = 0;
    const counted = new Proxy(runtime.wx as unknown as Record<string, unknown>, {
      get(target, key) {
        const value = target[key as string];
        if (typeof key === 'string' && typeof value === 'function' && /^(on|off)(AppShow|AppHide|NetworkStatusChange)$/.test(key)) {
          return (fn: unknown) => {
            wxListeners += key.startsWith('on') ? 1 : -1;
            return (value as (f: unknown) => unknown).call(target, fn);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const cycle = async (i: number, kind: 'web' | 'weapp') => {
      const adapter = kind === 'web' ? createWebAdapter() : createWeappAdapter({ wx: counted as never });
      const client = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter, logLevel: 'silent', pingInterval: 50, reconnectionDelay: 10 });
      const events = (client as unknown as { ctx: { events: { listenerCount(e: string): number } } }).ctx.events;
      client.on('imchat', () => undefined);
      client.on('status', () => undefined);
      client.on('error', () => undefined);
      const stage = i % 3;
      const connecting = client.connect({ token: tokenA });
      if (stage === 0) {
        // Destroyed mid-handshake: the pending connect() rejects, nothing stays open.
        client.destroy();
        await connecting.catch(() => undefined);
      } else {
        const ready = new Promise((r) => client.once('ready', r));
        await connecting;
        if (stage === 2) {
          await ready;
          await client.sendPrivateMessage({ content: `cycle ${i}`, recipientId: peer });
          // A send left pending at destroy() must settle too.
          void client.sendPrivateMessage({ content: `pending ${i}`, recipientId: peer }).catch(() => undefined);
        }
        client.destroy();
      }
      for (const e of ['imchat', 'status', 'error', 'ready']) if (events.listenerCount(e)) leftovers.push(`cycle ${i}: ${e} listeners after destroy`);
    };
    let next = from;
    const lane = async (kind: 'web' | 'weapp') => {
      while (next < to) await cycle(next++, kind);
    };
    await Promise.all([...Array.from({ length: 6 }, () => lane('web')), ...Array.from({ length: 3 }, () => lane('weapp'))]);
    await waitFor(() => runtime.openSockets() === 0, 5000, 'wx sockets closed');
    expect({ wxListeners, wxSockets: runtime.openSockets(), wxRequests: runtime.pendingRequests() }).toEqual({ wxListeners: 0, wxSockets: 0, wxRequests: 0 });
    runtime.destroy();
  };
  const settle = async (baseline: Record<string, number>) => {
    // Closed sockets finish closing on both ends within a few ticks; wait for that, bounded.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (resources().TCPSocketWrap ?? 0) > (baseline.TCPSocketWrap ?? 0)) await sleep(20);
    await sleep(100);
  };
  const heap = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };

  await phase(0, 30); // warm-up: module caches, JIT, lazily created pools
  await settle({});
  const before = { res: resources(), fds: fds(), heap: heap() };
  await phase(30, CYCLES);
  await settle(before.res);
  const after = { res: resources(), fds: fds(), heap: heap() };

  if (process.env.LEAK_VERBOSE) process.stdout.write(`${JSON.stringify({ gc: !!gc, before, after })}\n`);
  expect(leftovers).toEqual([]);
  for (const kind of new Set([...Object.keys(before.res), ...Object.keys(after.res)])) {
    expect({ kind, grew: (after.res[kind] ?? 0) - (before.res[kind] ?? 0) }).toEqual({ kind, grew: expect.any(Number) });
    expect({ kind, grewAtMost2: (after.res[kind] ?? 0) - (before.res[kind] ?? 0) <= 2 }).toEqual({ kind, grewAtMost2: true });
  }
  expect(after.fds - before.fds).toBeLessThanOrEqual(4);
  // With a real gc() the heap must stay nearly flat: under jest it grows about 1.5 MB over 1,000
  // cycles (the in-process server and jest's own bookkeeping; the built SDK alone in plain Node stays
  // within ±0.2 MB over 3,000 cycles), while a leak of one client per cycle would be 10+ MB.
  // Without gc() only a generous bound is meaningful.
  const grewMb = (after.heap - before.heap) / 1024 / 1024;
  expect(grewMb).toBeLessThan(gc ? 4 : 100);
}, 120_000);
