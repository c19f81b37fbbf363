// Concurrent connections on one server process (a child process of its own, so its RSS is the
// server's alone). Clients are raw socket.io-client 4 connections over websocket from this process,
// each authenticated with its own token; a connection counts once the server's `session` event
// arrived. Baseline: the same number of connections to the raw relay in a fresh relay-only process.
// Server memory is read after a full GC in the server process (RSS and V8 heap), before and after.
import { log, now, openFileLimit, pool, rawSocket, ratio, rssOf, sleep, startServer, stats, token } from '../lib/common.mjs';

const CONCURRENCY = 100;

async function measure(kind, n) {
  const server = await startServer({ mode: kind === 'relay' ? 'relay' : 'both' });
  const sockets = [];
  try {
    const ids = Array.from({ length: n }, (_, i) => `cn${n}-${i}`);
    if (kind === 'im') for (let i = 0; i < n; i += 2000) await server.createUsers(ids.slice(i, i + 2000));
    const tokens = kind === 'im' ? ids.map((id) => token(id)) : null;
    const url = kind === 'im' ? server.socketUrl : server.relayUrl;
    const readyEvent = kind === 'im' ? 'session' : 'connect';
    const open = (i) =>
      new Promise((resolve, reject) => {
        const s = rawSocket(url, kind === 'im' ? { token: tokens[i] } : { user: ids[i] }, { timeout: 60000 });
        const t = setTimeout(() => reject(new Error(`${kind} connection ${i} not ready in 60 s`)), 60000);
        s.once(readyEvent, () => {
          clearTimeout(t);
          resolve(s);
        });
        s.once('connect_error', (e) => {
          clearTimeout(t);
          reject(new Error(`${kind} connection ${i}: ${e.message}`));
        });
      });
    // Warm-up: the first connections load code paths and caches; close them again.
    const warm = [];
    for (let i = 0; i < 20; i++) warm.push(await open(i));
    for (const s of warm) s.disconnect();
    await sleep(300);
    global.gc?.();
    const clientBefore = process.memoryUsage();
    const before = await server.mem();
    const times = [];
    const t0 = now();
    await pool(n, CONCURRENCY, async (i) => {
      const ts = now();
      sockets.push(await open(i));
      times.push(now() - ts);
    });
    const totalMs = now() - t0;
    await sleep(500);
    const after = await server.mem();
    global.gc?.();
    const clientAfter = process.memoryUsage();
    const perConn = (a, b) => Math.round((a - b) / n);
    return {
      connections: n,
      connectAllMs: Math.round(totalMs),
      perSecond: Math.round((n / totalMs) * 1000),
      connectMs: stats(times),
      serverRssBytesPerConn: perConn(after.rss, before.rss),
      serverHeapBytesPerConn: perConn(after.heapUsed, before.heapUsed),
      serverRssMB: Math.round(after.rss / 1048576),
      serverRssBeforeMB: Math.round(before.rss / 1048576),
      clientHeapBytesPerConn: perConn(clientAfter.heapUsed, clientBefore.heapUsed),
      clientRssBytesPerConn: perConn(clientAfter.rss, clientBefore.rss),
    };
  } finally {
    for (const s of sockets) s.disconnect();
    await server.stop();
  }
}

export async function run({ quick, counts }) {
  const limit = openFileLimit();
  let wanted = counts ?? (quick ? [500] : [1000, 5000, 10000]);
  const notes = [];
  if (limit) {
    const max = limit - 500;
    if (wanted.some((n) => n > max)) notes.push(`open-file limit ${limit}: counts above ${max} skipped (raise ulimit -n)`);
    wanted = wanted.filter((n) => n <= max);
  }
  const out = { concurrency: CONCURRENCY, openFileLimit: limit, clients: 'raw socket.io-client 4, websocket, one token each', notes, runs: {} };
  for (const n of wanted) {
    const im = await measure('im', n);
    await sleep(500);
    const relay = await measure('relay', n);
    out.runs[n] = {
      im,
      relay,
      rssPerConnRatio: ratio(im.serverRssBytesPerConn, relay.serverRssBytesPerConn),
      connectP50Ratio: ratio(im.connectMs.p50, relay.connectMs.p50),
    };
    log(`connections ${n}: IM ${im.connectAllMs} ms, ${im.serverRssBytesPerConn} B RSS/conn; relay ${relay.connectAllMs} ms, ${relay.serverRssBytesPerConn} B/conn`);
    await sleep(500);
  }
  return out;
}
