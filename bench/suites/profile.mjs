// Profiles what the other figures show:
//   1. CPU profile of the server process (inspector Profiler, the measured window only) while an
//      ImClient (web adapter) sends pipelined (window 100) to an online raw receiver: the
//      throughput workload of the `web` row.
//   2. The same for the raw relay (the baseline's server cost).
//   3. CPU profile of the client process during part 1: what ImClient costs.
//   4. Server profiles of group fan-out (raw members online) and of connection handshakes.
//   5. A storage micro-benchmark on server/dist's SqliteDatabase (the synchronous side of SqliteStorage), in this process on a temp dir:
//      sendMessage each in its own transaction (what the server does) vs 100 per transaction
//      (a group commit), automatic WAL checkpoints off, and the lookups before each send.
//   6. Token verification with the app secret as a string (as the server does) vs a KeyObject.
// The .cpuprofile files go to bench/.cache/profiles (open them in Chrome DevTools).
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarise } from '../lib/cpuprofile.mjs';
import { artefacts, body, emitAck, log, now, pool, rawImClient, rawRelayClient, require, root, startServer, stats, waitFor, webImClient } from '../lib/common.mjs';

function post(session, method, params = {}) {
  return new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
}

async function serverProfile(kind, N, dir) {
  const server = await startServer();
  const clients = [];
  let clientProfile;
  const serverFile = path.join(dir, `server-${kind}.cpuprofile`);
  try {
    let send;
    let got = 0;
    if (kind === 'im') {
      await server.createUsers(['pf-a', 'pf-b']);
      const a = await webImClient(server, 'pf-a');
      const b = await rawImClient(server, 'pf-b');
      clients.push(a, b);
      b.on('imchat', () => got++);
      send = (c) => a.sendPrivateMessage({ recipientId: 'pf-b', content: c });
    } else {
      const a = await rawRelayClient(server, 'pf-ra');
      const b = await rawRelayClient(server, 'pf-rb');
      clients.push(a, b);
      b.on('msg', () => got++);
      let i = 0;
      send = (c) => emitAck(a, 'relay', { clientMsgId: `p${++i}`, chatType: 0, to: 'pf-rb', content: c, msgType: 0 });
    }
    await pool(500, 100, (i) => send(body(`pw ${i}`)));
    await waitFor(() => got >= 500, 20000, 'profile warm-up');
    const session = new Session();
    session.connect();
    await server.call('profileStart', { intervalUs: 200 });
    if (kind === 'im') {
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.setSamplingInterval', { interval: 200 });
      await post(session, 'Profiler.start');
    }
    const t0 = now();
    await pool(N, 100, (i) => send(body(`pf ${i}`)));
    await waitFor(() => got >= 500 + N, 60000, 'profile run');
    const ms = now() - t0;
    await server.call('profileStop', { file: serverFile });
    if (kind === 'im') {
      const { profile } = await post(session, 'Profiler.stop');
      const file = path.join(dir, `client-${kind}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      clientProfile = file;
    }
    session.disconnect();
    return { perSec: Math.round((N / ms) * 1000), clientProfile, serverProfile: serverFile };
  } finally {
    for (const c of clients) c.destroy ? c.destroy() : c.disconnect();
    await server.stop();
  }
}

/** Server profile while `members` raw connections receive `rounds` group messages from an ImClient. */
async function fanoutProfile(members, rounds, dir) {
  const server = await startServer();
  const sockets = [];
  const file = path.join(dir, 'server-fanout.cpuprofile');
  try {
    const ids = Array.from({ length: members }, (_, i) => `pfo-${i}`);
    await server.createUsers(['pfo-owner', ...ids]);
    const owner = await webImClient(server, 'pfo-owner');
    sockets.push(owner);
    const group = await owner.createGroup({ name: 'profile', userIdList: ids.slice(0, 500) });
    for (let i = 500; i < members; i += 500) await owner.addGroupMembers({ groupId: group.id, userIdList: ids.slice(i, i + 500) });
    let got = 0;
    await pool(members, 50, async (i) => {
      const s = await rawImClient(server, ids[i]);
      s.on('imchat', () => got++);
      sockets.push(s);
    });
    await owner.sendGroupMessage({ groupId: group.id, content: body('warm') });
    await waitFor(() => got >= members, 30000, 'fan-out warm-up');
    await server.call('profileStart', { intervalUs: 200 });
    const s0 = await server.cpu();
    for (let r = 0; r < rounds; r++) {
      const want = got + members;
      await owner.sendGroupMessage({ groupId: group.id, content: body(`pfo ${r}`) });
      await waitFor(() => got >= want, 30000, 'fan-out round');
    }
    const s1 = await server.cpu();
    await server.call('profileStop', { file });
    return { members, rounds, serverCpuMsPerMessage: Math.round((s1.user - s0.user + s1.system - s0.system) / rounds / 100) / 10, serverProfile: file };
  } finally {
    for (const c of sockets) c.destroy ? c.destroy() : c.disconnect();
    await server.stop();
  }
}

/** Server profile while `n` raw clients connect with their tokens (100 handshakes in flight). */
async function connectProfile(n, dir) {
  const server = await startServer();
  const sockets = [];
  const file = path.join(dir, 'server-connect.cpuprofile');
  try {
    const ids = Array.from({ length: n }, (_, i) => `pcn-${i}`);
    await server.createUsers(ids);
    await rawImClient(server, ids[0]).then((s) => s.disconnect());
    await server.call('profileStart', { intervalUs: 200 });
    const s0 = await server.cpu();
    await pool(n, 100, async (i) => sockets.push(await rawImClient(server, ids[i])));
    const s1 = await server.cpu();
    await server.call('profileStop', { file });
    return { connections: n, serverCpuUsPerConnection: Math.round((s1.user - s0.user + s1.system - s0.system) / n), serverProfile: file };
  } finally {
    for (const s of sockets) s.disconnect();
    await server.stop();
  }
}

/** Size of the SQLite WAL file in `dir` (the storage's database is the only one there). */
function walBytes(dir) {
  const wal = readdirSync(dir).find((f) => f.endsWith('-wal'));
  return wal ? statSync(path.join(dir, wal)).size : 0;
}

function storageBench(N) {
  const { SqliteDatabase: SqliteStorage } = require(path.join(artefacts, 'server/dist/index.js'));
  const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-bench-storage-'));
  try {
    const s = new SqliteStorage(dir);
    s.upsertApp('a', 'secret-0123456789');
    s.upsertUser('a', 'u1', {});
    s.upsertUser('a', 'u2', {});
    let k = 0;
    const one = () =>
      s.sendMessage('a', { clientMsgId: `c${++k}`, from: 'u1', fromName: 'u1', to: 'u2', chatType: 0, msgType: 0, content: body('x'), data: null }, ['u1', 'u2']);
    for (let i = 0; i < 500; i++) one();
    const each = [];
    let t = now();
    for (let i = 0; i < N; i++) {
      const a = now();
      one();
      each.push((now() - a) * 1000);
    }
    const singleUs = ((now() - t) / N) * 1000;
    let batchedUs = null;
    // better-sqlite3 turns a transaction inside a transaction into a savepoint: this is what one
    // commit per batch of sends costs. `db` is private in TypeScript but present at run time.
    if (s.db && typeof s.db.transaction === 'function') {
      t = now();
      for (let b = 0; b < N / 100; b++) s.db.transaction(() => {
        for (let i = 0; i < 100; i++) one();
      })();
      batchedUs = ((now() - t) / N) * 1000;
    }
    // The same sends with automatic WAL checkpoints off (as if they ran elsewhere): the tail.
    let noCheckpoint = null;
    if (s.db && typeof s.db.pragma === 'function') {
      s.db.pragma('wal_checkpoint(TRUNCATE)');
      s.db.pragma('wal_autocheckpoint = 0');
      const each2 = [];
      t = now();
      for (let i = 0; i < N; i++) {
        const a = now();
        one();
        each2.push((now() - a) * 1000);
      }
      const walOwn = walBytes(dir);
      // Bytes each send puts into the WAL, 100 sends per commit as the group commit does: every
      // page a send dirties is written once per commit (deterministic, unlike the timings).
      s.db.pragma('wal_checkpoint(TRUNCATE)');
      for (let b = 0; b < N / 100; b++) s.db.transaction(() => {
        for (let i = 0; i < 100; i++) one();
      })();
      const walBatched = walBytes(dir);
      noCheckpoint = { usPerSend: Math.round(((now() - t) / N) * 1000 * 10) / 10, usPerSendEach: stats(each2), walBytesPerSendOwnTransaction: Math.round(walOwn / N), walBytesPerSend100PerTransaction: Math.round(walBatched / N) };
      s.db.pragma('wal_autocheckpoint = 1000');
    }
    t = now();
    for (let i = 0; i < N; i++) {
      s.getUser('a', 'u1');
      s.getUser('a', 'u2');
      s.findByClientId('a', 'u1', `none-${i}`);
    }
    const lookupsUs = ((now() - t) / N) * 1000;
    s.close();
    const r = (x) => (x === null ? null : Math.round(x * 10) / 10);
    return { sends: N, usPerSendOwnTransaction: r(singleUs), usPerSendEach: stats(each), usPerSend100PerTransaction: r(batchedUs), withoutAutoCheckpoint: noCheckpoint, usLookupsPerSend: r(lookupsUs), note: 'lookups: activeUser(sender) + getUser(peer) + findByClientId, as ImService.send does before storing' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Token verification as the server does it (jsonwebtoken, HS256, the app secret as a string) vs
 * the same secret as a KeyObject made once. Every socket handshake and authenticated HTTP call
 * verifies a token; getToken signs one.
 */
function tokenBench(N) {
  const jwt = require(require.resolve('jsonwebtoken', { paths: [path.join(root, 'server')] }));
  const { createSecretKey } = require('node:crypto');
  const secret = 'bench-secret-0123456789';
  const key = createSecretKey(Buffer.from(secret));
  const token = jwt.sign({ sub: 'u', app: 'a' }, secret, { algorithm: 'HS256', expiresIn: 3600 });
  const time = (fn) => {
    for (let i = 0; i < 50; i++) fn(i);
    const t = now();
    for (let i = 0; i < N; i++) fn(i);
    return Math.round(((now() - t) / N) * 1000 * 10) / 10;
  };
  return {
    iterations: N,
    usVerifyStringSecret: time(() => jwt.verify(token, secret, { algorithms: ['HS256'] })),
    usVerifyKeyObject: time(() => jwt.verify(token, key, { algorithms: ['HS256'] })),
    usSignStringSecret: time((i) => jwt.sign({ sub: `u${i}`, app: 'a' }, secret, { algorithm: 'HS256', expiresIn: 3600 })),
    usSignKeyObject: time((i) => jwt.sign({ sub: `u${i}`, app: 'a' }, key, { algorithm: 'HS256', expiresIn: 3600 })),
  };
}

export async function run({ quick }) {
  const N = quick ? 3000 : 10000;
  const dir = path.join(root, 'bench/.cache/profiles');
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { force: true });
  const out = { messages: N, samplingIntervalUs: 200 };

  const im = await serverProfile('im', N, dir);
  const imServerFile = im.serverProfile;
  const relay = await serverProfile('relay', N, dir);
  const relayServerFile = relay.serverProfile;
  out.im = { perSec: im.perSec, serverProfile: path.relative(root, imServerFile), clientProfile: path.relative(root, im.clientProfile) };
  out.relay = { perSec: relay.perSec, serverProfile: path.relative(root, relayServerFile) };
  const compact = (s, n) => ({ busyMs: s.busyMs, idleMs: s.idleMs, components: s.components.slice(0, n), functions: s.functions.slice(0, n) });
  out.im.server = compact(summarise(imServerFile), 15);
  out.relay.server = compact(summarise(relayServerFile), 10);
  out.im.client = compact(summarise(im.clientProfile), 15);
  const fo = await fanoutProfile(quick ? 200 : 1000, quick ? 5 : 10, dir);
  out.fanout = { members: fo.members, rounds: fo.rounds, serverCpuMsPerMessage: fo.serverCpuMsPerMessage, serverProfile: path.relative(root, fo.serverProfile), server: compact(summarise(fo.serverProfile), 12) };
  const cn = await connectProfile(quick ? 500 : 2000, dir);
  out.connect = { connections: cn.connections, serverCpuUsPerConnection: cn.serverCpuUsPerConnection, serverProfile: path.relative(root, cn.serverProfile), server: compact(summarise(cn.serverProfile), 12) };
  out.storage = storageBench(quick ? 2000 : 5000);
  out.token = tokenBench(quick ? 1000 : 3000);
  log(`profile: storage ${out.storage.usPerSendOwnTransaction} us/send own transaction, ${out.storage.usPerSend100PerTransaction} us/send 100 per transaction`);
  return out;
}
