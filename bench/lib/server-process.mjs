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
//   `durable` { to, ... } + ack: the durable relay floor. Exactly one prepared INSERT per message
//     into a SQLite file written as the server writes its own (applyFileSettings from server/dist:
//     WAL, the synchronous level of BENCH_DURABILITY, the same checkpointer thread); the inserts of
//     one event-loop turn are committed in one transaction (the server's group commit), then each
//     message is emitted to the room of `to` and acked. The least any server that stores a message
//     before acknowledging it has to do: what ours costs beyond it is validation, sequencing,
//     inboxes and the SDK.
//
// BENCH_DURABILITY (normal | full) sets IM_DURABILITY of the IM server and the floor's alike.
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
let floor;
const durability = process.env.BENCH_DURABILITY || 'normal';
const info = { durability };

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
    durability,
  });
  const started = await im.start();
  info.apiUrl = started.apiUrl;
  info.socketUrl = started.socketUrl;
}

/** The durable floor's database: one table, no index beyond the rowid, one insert per message. */
function openFloor(dir) {
  const Database = require('better-sqlite3');
  const { applyFileSettings, CHECKPOINT_INTERVAL_MS } = require(path.join(artefacts, 'server/dist/storage/sqlite.js'));
  const { startCheckpointer } = require(path.join(artefacts, 'server/dist/storage/checkpointer.js'));
  const file = path.join(dir, 'durable-floor.sqlite');
  const db = new Database(file);
  applyFileSettings(db, durability, true);
  db.exec(`CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY, client_msg_id TEXT, from_id TEXT NOT NULL, to_id TEXT, chat_type INTEGER,
    msg_type INTEGER, content TEXT, created_at INTEGER NOT NULL)`);
  const insert = db.prepare('INSERT INTO messages (client_msg_id, from_id, to_id, chat_type, msg_type, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insertAll = db.transaction((batch) => {
    for (const { msg } of batch) msg.seq = Number(insert.run(msg.clientMsgId ?? null, msg.from, msg.to ?? null, msg.chatType ?? 0, msg.msgType ?? 0, msg.content ?? null, msg.timestamp).lastInsertRowid);
  });
  const checkpointer = startCheckpointer(file, CHECKPOINT_INTERVAL_MS, (m) => console.warn(`bench floor: WAL checkpoint: ${m}`));
  let pending = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    let failed;
    try {
      insertAll(batch);
    } catch (err) {
      failed = err;
    }
    for (const { msg, ack } of batch) {
      if (failed) {
        if (typeof ack === 'function') ack({ code: 50000, message: String(failed?.message ?? failed) });
        continue;
      }
      relay.to(`u:${msg.to}`).emit('msg', msg);
      if (typeof ack === 'function') ack({ code: 0, message: 'ok', data: msg });
    }
  };
  return {
    db,
    send(msg, ack) {
      pending.push({ msg, ack });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close() {
      checkpointer.stop();
      db.close();
    },
  };
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
  socket.on('durable', (p, ack) => {
    if (!floor) {
      if (typeof ack === 'function') ack({ code: 50300, message: 'no durable floor in relay-only mode' });
      return;
    }
    floor.send({ ...p, from: user, timestamp: Date.now() }, ack);
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
if (dataDir) floor = openFloor(dataDir);
await new Promise((resolve) => relayHttp.listen(0, '127.0.0.1', resolve));
info.relayUrl = `http://127.0.0.1:${relayHttp.address().port}`;

async function stop() {
  try {
    await new Promise((r) => relay.close(() => r()));
    if (im) await im.stop();
    floor?.close();
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
  /** Rows the durable floor has stored, and its synchronous pragma (a check that it is what is compared). */
  floorInfo() {
    if (!floor) return null;
    return { rows: floor.db.prepare('SELECT COUNT(*) AS n FROM messages').get().n, synchronous: floor.db.pragma('synchronous', { simple: true }), journalMode: floor.db.pragma('journal_mode', { simple: true }) };
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
