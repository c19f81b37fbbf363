// The server side of the benchmarks, in its own process (clean RSS and CPU figures, a second core
// for the clients). Started by startServer() in common.mjs; controlled over IPC; exits when its
// parent goes away.
//
// It runs, in one process:
//   - the IM server: createImServer() from server/dist, SQLite in a temp dir, rate limit raised;
//   - the raw relay baseline: a second Socket.IO 4 server with the gateway's options
//     (allowEIO3, cors, maxHttpBufferSize 100 000, websocket + polling, no served client).
//     A client connects with auth { user } and joins the room of that user (no token, no database).
//     `relay` { to, ... } + ack: emits `msg` to the room of `to`, then acks { code: 0, data }.
//     `group` { room, ... } + ack: emits `msg` to a room once (Socket.IO's broadcast: one encode).
//     `join` room + ack: joins a room (fan-out baseline).
//   No validation, no persistence, no sequence numbers: the cost of Socket.IO alone.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'package.json'));
const mode = process.env.BENCH_SERVER_MODE || 'both';
const artefacts = process.env.BENCH_ARTEFACTS || root;

let im;
let dataDir;
const info = {};

if (mode !== 'relay') {
  const { createImServer } = require(path.join(artefacts, 'server/dist/index.js'));
  dataDir = mkdtempSync(path.join(tmpdir(), 'comind-im-bench-'));
  im = createImServer({
    host: '127.0.0.1',
    apiPort: 0,
    socketPort: 0,
    dataDir,
    logger: false,
    rateLimit: 1_000_000,
    rateBurst: 1_000_000,
    // 10,000 connections from one address, and as many sockets per user as a suite opens.
    maxConnectionsPerIp: 0,
    maxSocketsPerUser: 10_000,
    httpRateLimit: 100_000_000,
    httpAuthRateLimit: 100_000_000,
    devAppId: process.env.BENCH_APP_ID,
    devAppSecret: process.env.BENCH_APP_SECRET,
    // The cluster suite: PostgreSQL (and Redis across nodes) instead of SQLite.
    databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
    redisUrl: process.env.BENCH_REDIS_URL || undefined,
    dbPoolSize: process.env.BENCH_DATABASE_URL ? 10 : undefined,
  });
  const started = await im.start();
  info.apiUrl = started.apiUrl;
  info.socketUrl = started.socketUrl;
}

const { Server } = require('socket.io');
const relayHttp = createServer((_req, res) => {
  res.writeHead(404);
  res.end();
});
const relay = new Server(relayHttp, {
  allowEIO3: true,
  cors: { origin: true, credentials: true },
  maxHttpBufferSize: 100_000,
  transports: ['websocket', 'polling'],
  serveClient: false,
});
relay.on('connection', (socket) => {
  const user = String(socket.handshake.auth?.user ?? socket.id);
  socket.data.user = user;
  void socket.join(`u:${user}`);
  socket.on('relay', (p, ack) => {
    const msg = { ...p, from: user, timestamp: Date.now() };
    relay.to(`u:${p?.to}`).emit('msg', msg);
    if (typeof ack === 'function') ack({ code: 0, message: 'ok', data: msg });
  });
  socket.on('group', (p, ack) => {
    const msg = { ...p, from: user, timestamp: Date.now() };
    socket.to(String(p?.room)).emit('msg', msg);
    if (typeof ack === 'function') ack({ code: 0, message: 'ok', data: msg });
  });
  socket.on('join', (room, ack) => {
    void socket.join(String(room));
    if (typeof ack === 'function') ack({ code: 0 });
  });
});
await new Promise((resolve) => relayHttp.listen(0, '127.0.0.1', resolve));
info.relayUrl = `http://127.0.0.1:${relayHttp.address().port}`;

async function stop() {
  try {
    await new Promise((r) => relay.close(() => r()));
    if (im) await im.stop();
  } finally {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  }
}

let profiler;
let loopMonitor;
const post = (method, params = {}) => new Promise((resolve, reject) => profiler.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

const commands = {
  mem({ gc }) {
    if (gc && global.gc) {
      global.gc();
      global.gc();
    }
    return { ...process.memoryUsage(), relaySockets: relay.engine.clientsCount };
  },
  cpu() {
    return process.cpuUsage();
  },
  /** CPU profile of a measured window only (not start-up): profileStart, then profileStop { file }. */
  async profileStart({ intervalUs = 200 }) {
    profiler = new Session();
    profiler.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: intervalUs });
    await post('Profiler.start');
    return true;
  },
  async profileStop({ file }) {
    const { profile } = await post('Profiler.stop');
    profiler.disconnect();
    profiler = undefined;
    writeFileSync(file, JSON.stringify(profile));
    return file;
  },
  /** Creates (or renames) users directly in storage: bulk set-up without HTTP round trips. */
  async users({ ids }) {
    for (const id of ids) await im.storage.upsertUser(process.env.BENCH_APP_ID, id, { userName: id });
    return ids.length;
  },
  /** Rows written so far by the IM server's storage connection (SQLite total_changes()). */
  dbChanges() {
    return im.storage.db.prepare('SELECT total_changes() AS n').get().n;
  },
  /** Event-loop delay of this process over a window: loopStall { start: true }, then loopStall {} → { maxMs, p99Ms, meanMs, count }. */
  async loopStall({ start }) {
    if (start) {
      loopMonitor?.disable();
      loopMonitor = monitorEventLoopDelay({ resolution: 1 });
      loopMonitor.enable();
      // The monitor's first tick only sets its reference time: prime it, or a stall right after
      // the start would not be recorded.
      await new Promise((r) => setTimeout(r, 10));
      return true;
    }
    if (!loopMonitor) throw new Error('loopStall: not started');
    loopMonitor.disable();
    const h = loopMonitor;
    loopMonitor = undefined;
    const toMs = (ns) => Math.round((ns / 1e6) * 1000) / 1000;
    return { maxMs: toMs(h.max), p99Ms: toMs(h.percentile(99)), meanMs: toMs(h.mean), count: h.count };
  },
};

process.on('message', async (msg) => {
  if (!msg || typeof msg !== 'object') return;
  if (msg.cmd === 'stop') return stop();
  try {
    const result = await commands[msg.cmd](msg.args ?? {});
    process.send({ type: 'reply', id: msg.id, result });
  } catch (err) {
    process.send({ type: 'reply', id: msg.id, error: String(err?.stack ?? err) });
  }
});
// The parent went away (finished, killed, timed out): never outlive it.
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
process.send({ type: 'ready', info });
