// Abuse: how the reference server holds up under six abuse patterns, with its DEFAULT limits.
//
// Not common.mjs's startServer() (that one raises the rate limits to 1,000,000): each attack starts
// a fresh `node <artefacts>/server/dist/main.js`, configured only by IM_* variables (as `npm start`
// runs it), under `prlimit --nofile=1024:1024` (the open-file limit many hosts have), on loopback
// ports picked here, with a fresh data directory. While an attack runs, the server's RSS is read
// from /proc/<pid>/status every 250 ms and GET /health is probed every 100 ms (a fresh connection
// per probe, 5 s timeout). The attacks:
//   A slowBodies     1,050 connections that send headers and 10 of 1,000 announced body bytes, then wait
//   B syncFlood      500 messages of ~60 KB to one user, then 10 parallel chat:sync of 500 from one socket
//   C bigGroup       a 10,001-member group made with 500-id calls, then a burst of 100 group messages
//   D perUserRate    one user on 200 sockets, 100 pipelined chat:send per socket
//   E unauthPolling  Engine.IO polling handshakes without a token, as many as 64 requests in flight allow
//   F httpGuessing   wrong app secrets as fast as possible; 2,000 read marks for conversations that do not exist
// Every attack talks to 127.0.0.1 only, is bounded in count and time, and closes what it opened.
// Nothing here assumes that an attack is refused or allowed: a fixed server that refuses
// connections, events or requests is counted, not crashed on.
//
// Standalone: node --expose-gc bench/lib/child.mjs abuse '{"quick":true}'
// Options: quick, only: ['syncFlood', ...] (a subset), label: what the artefacts are (for the report).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { APP_ID, APP_SECRET, artefacts, log, now, openFileLimit, percentile, pool, rawSocket, rssOf, sleep, token } from '../lib/common.mjs';

const HOST = '127.0.0.1';
/**
 * Where the bystanders come from: the /health probes and the "fresh" newcomers connect to
 * 127.0.0.1 from another loopback source address when the host allows it (Linux routes all of
 * 127/8 to lo), so a server that limits per client address refuses the attacker (127.0.0.1),
 * not the probes. Set by run() after checking; 127.0.0.1 when the host has no 127.0.0.2.
 */
const source = { probe: HOST, other: HOST, reads: HOST, spread: false };
/** Set-up that needs many app-secret calls (10,000 users) spreads them over 127.0.1.x, this many per address. */
const USERS_PER_ADDRESS = 100;

async function loopbackAlias(address) {
  const srv = net.createServer((c) => c.destroy());
  await new Promise((resolve) => srv.listen(0, HOST, resolve));
  const ok = await new Promise((resolve) => {
    const c = net.connect({ host: HOST, port: srv.address().port, localAddress: address });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  await new Promise((resolve) => srv.close(resolve));
  return ok;
}
const SERVER_NOFILE = 1024;
const MB = (bytes) => (bytes == null ? null : Math.round((bytes / 1048576) * 10) / 10);
const r1 = (x) => (x == null ? null : Math.round(x * 10) / 10);

// ------------------------------------------------------------------------------------ server

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const liveChildren = new Set();
process.on('exit', () => {
  // The bench process is going away (finished, failed, killed by run.mjs): never leave a server behind.
  for (const c of liveChildren) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

function dirBytes(dir) {
  let n = 0;
  try {
    for (const f of readdirSync(dir)) {
      try {
        n += statSync(path.join(dir, f)).size;
      } catch {
        /* vanished */
      }
    }
  } catch {
    return null;
  }
  return n;
}

/** `node server/dist/main.js` with default limits, 1,024 open files, fresh ports and data dir. */
async function startImServer() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'comind-im-abuse-'));
  const apiPort = await freePort();
  let socketPort = await freePort();
  while (socketPort === apiPort) socketPort = await freePort();
  const env = {};
  // Nothing inherited may change the server's defaults (IM_RATE_LIMIT and friends).
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('IM_') && k !== 'NODE_OPTIONS') env[k] = v;
  Object.assign(env, {
    IM_HOST: HOST,
    IM_API_PORT: String(apiPort),
    IM_SOCKET_PORT: String(socketPort),
    IM_DATA_DIR: dataDir,
    IM_DEV_APP_ID: APP_ID,
    IM_DEV_APP_SECRET: APP_SECRET,
  });
  const main = path.join(artefacts, 'server/dist/main.js');
  const child = spawn('prlimit', [`--nofile=${SERVER_NOFILE}:${SERVER_NOFILE}`, process.execPath, main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      liveChildren.delete(child);
      resolve(exited);
    });
    child.once('error', (err) => {
      exited = { code: null, signal: null, error: String(err) };
      liveChildren.delete(child);
      resolve(exited);
    });
  });
  // Drain both pipes (a full pipe would block the server) and keep the tail of stderr.
  // Error lines are counted by their first 120 characters (the same error repeats thousands of times).
  let stderrTail = '';
  let stderrPending = '';
  let stderrLines = 0;
  const distinct = new Map();
  child.stdout.on('data', () => {});
  child.stderr.on('data', (d) => {
    const s = d.toString();
    stderrTail = (stderrTail + s).slice(-2000);
    const lines = (stderrPending + s).split('\n');
    stderrPending = lines.pop().slice(-2000);
    for (const line of lines) {
      stderrLines++;
      if (!line.startsWith('[comind-im-server]') && !/Error|error/.test(line)) continue;
      const key = line.slice(0, 120);
      if (distinct.has(key) || distinct.size < 20) distinct.set(key, (distinct.get(key) ?? 0) + 1);
    }
  });
  const server = {
    pid: child.pid,
    apiPort,
    socketPort,
    apiUrl: `http://${HOST}:${apiPort}`,
    socketUrl: `http://${HOST}:${socketPort}`,
    dataDir,
    exited: () => exited,
    stderr: () => ({
      lines: stderrLines,
      errorLines: [...distinct].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([line, n]) => `${n}x ${line}`),
      ...(distinct.size ? {} : { tail: stderrTail.slice(-300) }),
    }),
    openFileLimit() {
      try {
        const line = readFileSync(`/proc/${child.pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
        return Number(line?.trim().split(/\s{2,}/)[1]) || null;
      } catch {
        return null;
      }
    },
    openFiles() {
      try {
        return readdirSync(`/proc/${child.pid}/fd`).length;
      } catch {
        return null;
      }
    },
    dataBytes: () => dirBytes(dataDir),
    async stop() {
      if (!exited) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
        const t = setTimeout(() => {
          try {
            if (!exited) process.kill(child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, 5000);
        await Promise.race([exitPromise, sleep(10000)]);
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const start = Date.now();
  for (;;) {
    if (exited) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`server exited at start (${JSON.stringify(exited)}): ${stderrTail.slice(-500)}`);
    }
    const res = await request(server.apiPort, 'GET', '/health', { timeout: 1000 });
    if (res.status === 200) break;
    if (Date.now() - start > 20000) {
      await server.stop();
      throw new Error('server did not answer GET /health within 20 s');
    }
    await sleep(100);
  }
  return server;
}

// ------------------------------------------------------------------------------------ HTTP

/** One HTTP request; resolves { status, json, headers, ms } or { status: 0, error } (never rejects). */
function request(port, method, urlPath, { body, bearer, agent = false, timeout = 10000, headers = {}, localAddress } = {}) {
  return new Promise((resolve) => {
    const t0 = now();
    const data = body === undefined ? undefined : JSON.stringify(body);
    const h = { ...headers };
    if (data !== undefined) {
      h['content-type'] = 'application/json';
      h['content-length'] = Buffer.byteLength(data);
    }
    if (bearer) h.authorization = `Bearer ${bearer}`;
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ ...r, ms: now() - t0 });
    };
    const req = http.request({ host: HOST, port, method, path: urlPath, headers: h, agent, ...(localAddress ? { localAddress } : {}) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => finish({ status: 0, error: e.code || e.message }));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        finish({ status: res.statusCode, json, text: json === undefined ? text.slice(0, 200) : undefined, headers: res.headers });
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), timeout);
    req.on('error', (e) => finish({ status: 0, error: e.code || e.message }));
    if (data !== undefined) req.write(data);
    req.end();
  });
}

/** How long a 429/42900 answer asks us to wait (Retry-After header or "retry after N ms"), capped. */
function retryDelay(res, fallback = 200) {
  const header = Number(res?.headers?.['retry-after']);
  if (Number.isFinite(header) && header > 0) return Math.min(header * 1000, 5000);
  const m = /retry after (\d+) ?ms/i.exec(res?.json?.message ?? res?.message ?? '');
  return m ? Math.min(Math.max(Number(m[1]), 1), 5000) : fallback;
}

/** A set-up call that must succeed: retried on 429 and network errors until `deadline` (ms, performance.now). */
async function setupCall(port, method, urlPath, opts, deadline, ctx) {
  for (;;) {
    const res = await request(port, method, urlPath, opts);
    if (res.status === 200 && res.json?.code === 0) return res.json.data;
    const retriable = res.status === 429 || res.status === 0 || res.status === 503;
    if (!retriable || now() > deadline || ctx?.aborted) {
      const e = new Error(`${method} ${urlPath}: ${res.status} ${res.json ? `${res.json.code} ${res.json.message}` : res.error ?? res.text ?? ''}`);
      e.res = res;
      throw e;
    }
    await sleep(res.status === 0 ? 100 : retryDelay(res));
  }
}

const userBody = (userId) => ({ appId: APP_ID, appSecret: APP_SECRET, userId });

// ------------------------------------------------------------------------------------ sockets

/** A raw socket.io-client 4 connection of `userId` (websocket, token from mintToken); waits for `session`. */
function connectUser(server, userId, ctx, ms = 10000, localAddress) {
  return new Promise((resolve, reject) => {
    const socket = rawSocket(server.socketUrl, { token: token(userId) }, localAddress ? { localAddress } : {});
    ctx?.track(socket);
    const timer = setTimeout(() => fail(new Error(`no session for ${userId} in ${ms} ms`)), ms);
    const fail = (err) => {
      clearTimeout(timer);
      socket.off('session', onSession);
      socket.close();
      reject(err);
    };
    const onSession = (session) => {
      clearTimeout(timer);
      socket.off('connect_error', onError);
      socket.session = session;
      resolve(socket);
    };
    const onError = (err) => {
      // A middleware refusal carries data { code, message }; a transport failure a description.
      const why = err?.data?.code
        ? err.data.message === err.message
          ? String(err.data.code)
          : `${err.data.code} ${err.data.message}`
        : (err?.description?.message ?? err?.description ?? '');
      fail(Object.assign(new Error(`connect_error: ${err?.message}${why ? ` (${why})` : ''}`), { data: err?.data }));
    };
    socket.once('session', onSession);
    socket.once('connect_error', onError);
  });
}

/** emit with ack; resolves the envelope, or { code: -1 } on timeout / disconnect (never rejects). */
function ask(socket, event, payload, ms = 30000) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (res) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.off('disconnect', onDisconnect);
      resolve(res);
    };
    const onDisconnect = (reason) => finish({ code: -1, message: `disconnected: ${reason}` });
    const timer = setTimeout(() => finish({ code: -1, message: `no ack for ${event} in ${ms} ms` }), ms);
    socket.once('disconnect', onDisconnect);
    socket.emit(event, payload, (res) => finish(res ?? { code: -1, message: 'empty ack' }));
  });
}

// ------------------------------------------------------------------------------------ monitor

// The sampler runs on a worker thread: an attack that keeps this thread busy (200 sockets
// receiving a million copies) must not delay the probes and be blamed on the server.
const MONITOR_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const http = require('node:http');
const { pid, port, host, localAddress } = workerData;
const rssOf = () => {
  try {
    const m = /VmRSS:\\s+(\\d+) kB/.exec(readFileSync('/proc/' + pid + '/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch { return null; }
};
const rss = [];
const probes = [];
const inflight = new Set();
const sample = () => { const v = rssOf(); if (v != null) rss.push(v); };
sample();
const rssBefore = rss[0] ?? null;
const probe = () => {
  const t0 = performance.now();
  const p = new Promise((resolve) => {
    let done = false;
    const finish = (ok, why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      probes.push({ ms: performance.now() - t0, ok, why });
      resolve();
    };
    const req = http.get({ host, port, path: '/health', agent: false, localAddress }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('error', (e) => finish(false, e.code || e.message));
      res.on('end', () => {
        let code;
        try { code = JSON.parse(body).code; } catch { code = undefined; }
        finish(res.statusCode === 200 && code === 0, 'HTTP ' + res.statusCode);
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), 5000);
    req.on('error', (e) => finish(false, e.code || e.message));
  });
  inflight.add(p);
  p.then(() => inflight.delete(p));
};
const rssTimer = setInterval(sample, 250);
const probeTimer = setInterval(probe, 100);
probe();
parentPort.on('message', async (msg) => {
  if (msg !== 'stop') return;
  clearInterval(probeTimer);
  await Promise.all([...inflight]);
  sample();
  clearInterval(rssTimer);
  parentPort.postMessage({ rssBefore, rss, probes });
});
`;

/** RSS every 250 ms and GET /health every 100 ms (on a worker thread) until stop(). */
function monitor(server) {
  const worker = new Worker(MONITOR_SOURCE, { eval: true, workerData: { pid: server.pid, port: server.apiPort, host: HOST, localAddress: source.probe } });
  worker.unref();
  let failed = null;
  worker.once('error', (err) => {
    failed = err;
  });
  return {
    rssNow: () => rssOf(server.pid),
    /** Stops probing, waits for the probes in flight (each gives up after 5 s), returns the figures. */
    async stop() {
      const { rssBefore, rss, probes } = failed
        ? { rssBefore: null, rss: [], probes: [] }
        : await new Promise((resolve) => {
            const t = setTimeout(() => resolve({ rssBefore: null, rss: [], probes: [] }), 15000);
            worker.once('message', (m) => {
              clearTimeout(t);
              resolve(m);
            });
            worker.once('error', () => resolve({ rssBefore: null, rss: [], probes: [] }));
            worker.postMessage('stop');
          });
      await worker.terminate();
      if (failed) throw new Error(`monitor thread failed: ${failed.message}`);
      const ms = probes.map((p) => p.ms).sort((a, b) => a - b);
      const okMs = probes.filter((p) => p.ok).map((p) => p.ms).sort((a, b) => a - b);
      const kinds = {};
      for (const p of probes) if (!p.ok) kinds[p.why] = (kinds[p.why] ?? 0) + 1;
      return {
        rssBeforeMB: MB(rssBefore),
        rssPeakMB: MB(rss.length ? Math.max(...rss) : null),
        rssEndMB: MB(rss[rss.length - 1] ?? null),
        // Over every probe; a failed probe counts with the time it took to fail (5,000 ms on timeout).
        healthP50ms: r1(percentile(ms, 50)),
        healthMaxMs: r1(ms[ms.length - 1] ?? null),
        healthOkP50ms: r1(percentile(okMs, 50)),
        healthProbes: probes.length,
        healthFailures: probes.length - okMs.length,
        ...(Object.keys(kinds).length ? { healthFailureKinds: kinds } : {}),
      };
    },
  };
}

// ------------------------------------------------------------------------------------ attacks

/** A. Slow bodies: connections that announce 1,000 body bytes and send 10, held open. */
async function slowBodies(server, { quick }, ctx) {
  const N = 1050;
  const HOLD_MS = quick ? 12000 : 20000;
  // Before the attack: the server may have no descriptor left to answer with afterwards.
  await setupCall(server.apiPort, 'POST', '/api/token', { body: userBody('probe-user') }, now() + 15000, ctx);
  const openFilesBefore = server.openFiles();
  const mon = monitor(server);
  const head = `POST /api/token HTTP/1.1\r\nHost: ${HOST}:${server.apiPort}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
  const partial = '{"appId":"'; // 10 bytes of the 1,000
  const conns = [];
  const t0 = now();
  await pool(N, 50, () =>
    new Promise((resolve) => {
      if (ctx.aborted) return resolve();
      const c = { connected: false, closedByServer: false, closedAtMs: null, bytesIn: 0, firstLine: null, error: null, ours: false };
      const s = net.connect({ host: HOST, port: server.apiPort });
      c.socket = s;
      conns.push(c);
      ctx.track(s);
      const timer = setTimeout(resolve, 5000);
      s.on('connect', () => {
        c.connected = true;
        s.write(head + partial);
        clearTimeout(timer);
        resolve();
      });
      s.on('data', (d) => {
        c.bytesIn += d.length;
        if (c.firstLine === null) c.firstLine = d.toString('latin1').split('\r\n')[0].slice(0, 60);
      });
      s.on('error', (e) => {
        c.error = e.code || e.message;
      });
      s.on('close', () => {
        if (!c.ours) {
          c.closedByServer = true;
          c.closedAtMs = now() - t0;
        }
        clearTimeout(timer);
        resolve();
      });
    }),
  );
  const openedMs = now() - t0;
  const openFilesDuring = server.openFiles();
  const holdEnd = now() + HOLD_MS;
  while (now() < holdEnd && !ctx.aborted) await sleep(100);
  const openFilesAtHoldEnd = server.openFiles();

  // Still under attack: can a newcomer get in? (Another client's address, then the attacker's.)
  const freshFrom = async (localAddress) => {
    const res = await request(server.apiPort, 'GET', '/health', { timeout: 5000, localAddress });
    const httpOk = res.status === 200;
    let socketOk = false;
    let socketError = null;
    try {
      const s = await connectUser(server, 'probe-user', ctx, 5000, localAddress);
      socketOk = true;
      s.close();
    } catch (err) {
      socketError = err.message;
    }
    return { httpOk, httpError: httpOk ? null : res.status ? `HTTP ${res.status}` : res.error, socketOk, socketError };
  };
  const fresh = await freshFrom(source.other);
  const freshSame = source.other === HOST ? fresh : await freshFrom(HOST);
  const figures = await mon.stop();

  const closed = conns.filter((c) => c.closedByServer);
  const closeTimes = closed.map((c) => c.closedAtMs).sort((a, b) => a - b);
  const responses = {};
  for (const c of conns) if (c.firstLine) responses[c.firstLine] = (responses[c.firstLine] ?? 0) + 1;
  const errors = {};
  for (const c of conns) if (c.error) errors[c.error] = (errors[c.error] ?? 0) + 1;
  const out = {
    connections: N,
    connected: conns.filter((c) => c.connected).length,
    openedMs: Math.round(openedMs),
    holdMs: HOLD_MS,
    closedByServer: closed.length,
    closedWithResponse: closed.filter((c) => c.bytesIn > 0).length,
    stillOpen: conns.filter((c) => c.connected && !c.closedByServer).length,
    firstCloseMs: r1(closeTimes[0] ?? null),
    medianCloseMs: r1(percentile(closeTimes, 50)),
    ...(Object.keys(responses).length ? { responses } : {}),
    ...(Object.keys(errors).length ? { socketErrors: errors } : {}),
    serverOpenFilesBefore: openFilesBefore,
    serverOpenFilesAfterOpening: openFilesDuring,
    serverOpenFilesAtHoldEnd: openFilesAtHoldEnd,
    freshFrom: source.other,
    freshHttpOk: fresh.httpOk,
    freshHttpError: fresh.httpError,
    freshSocketOk: fresh.socketOk,
    freshSocketError: fresh.socketError,
    fromAttackerAddress: { httpOk: freshSame.httpOk, httpError: freshSame.httpError, socketOk: freshSame.socketOk, socketError: freshSame.socketError },
    ...figures,
  };
  for (const c of conns) {
    c.ours = true;
    c.socket.destroy();
  }
  // And once the attacker has gone?
  await sleep(500);
  out.healthOkAfterRelease = (await request(server.apiPort, 'GET', '/health', { timeout: 5000, localAddress: source.other })).status === 200;
  return out;
}

/** B. Sync flood: 500 messages of ~60 KB to one user, then 10 parallel chat:sync of 500 from one socket. */
async function syncFlood(server, { quick }, ctx) {
  const N = quick ? 200 : 500;
  const FLOOD_BUDGET_MS = quick ? 60000 : 120000;
  const deadline = now() + 30000;
  await setupCall(server.apiPort, 'POST', '/api/token', { body: userBody('flood-a') }, deadline, ctx);
  await setupCall(server.apiPort, 'POST', '/api/token', { body: userBody('flood-b') }, deadline, ctx);
  const setupMon = monitor(server);
  let sender = await connectUser(server, 'flood-b', ctx);
  const data = { blob: 'd'.repeat(30000) };
  const acks = { sent: 0, rateLimited: 0, refused: 0, timeouts: 0, reconnects: 0 };
  let lastRefusal = null;
  const tFlood = now();
  const floodEnd = tFlood + FLOOD_BUDGET_MS;
  let floodStoppedBy = null;
  outer: for (let i = 0; i < N; i++) {
    const tag = `flood ${i} `;
    const payload = { clientMsgId: `flood-${i}`, chatType: 0, to: 'flood-a', content: tag + 'c'.repeat(30000 - tag.length), msgType: 0, data };
    for (;;) {
      if (ctx.aborted || now() > floodEnd) {
        floodStoppedBy = ctx.aborted ? 'aborted' : 'time budget';
        break outer;
      }
      if (!sender.connected) {
        // A server that closes the flooding connection: reconnect (a few times) and carry on.
        if (acks.reconnects >= 3) {
          floodStoppedBy = 'sender disconnected 3 times';
          break outer;
        }
        acks.reconnects++;
        try {
          sender = await connectUser(server, 'flood-b', ctx);
        } catch (err) {
          floodStoppedBy = `reconnect failed: ${err.message}`;
          break outer;
        }
      }
      const res = await ask(sender, 'chat:send', payload, 15000);
      if (res.code === 0) {
        acks.sent++;
        break;
      }
      if (res.code === 42900) {
        acks.rateLimited++;
        await sleep(retryDelay(res, 100));
        continue;
      }
      if (res.code === -1) {
        acks.timeouts++;
        if (sender.connected) break; // no answer, but still connected: next message
        continue;
      }
      acks.refused++;
      lastRefusal = `${res.code} ${res.message}`;
      break;
    }
  }
  const floodMs = now() - tFlood;
  sender.close();
  const setupFigures = await setupMon.stop();

  const reader = await connectUser(server, 'flood-a', ctx);
  const latestInboxSeq = reader.session?.latestInboxSeq ?? null;
  await sleep(200);
  const mon = monitor(server);
  const SYNCS = 10;
  const t0 = now();
  const answers = await Promise.all(
    Array.from({ length: SYNCS }, () =>
      ask(reader, 'chat:sync', { afterInboxSeq: 0, limit: 500 }, 60000).then((res) => {
        // Measure and drop: ten replies of ~30 MB each are not kept.
        const ms = now() - t0;
        const bytes = res?.data === undefined ? 0 : JSON.stringify(res.data).length;
        return { ms, code: res?.code, message: res?.code === 0 ? undefined : res?.message, bytes, messages: res?.data?.messages?.length ?? null, hasMore: res?.data?.hasMore ?? null };
      }),
    ),
  );
  const allAnsweredMs = now() - t0;
  reader.close();
  const figures = await mon.stop();
  const codes = {};
  for (const a of answers) codes[a.code] = (codes[a.code] ?? 0) + 1;
  const refusals = [...new Set(answers.filter((a) => a.code !== 0).map((a) => `${a.code} ${a.message}`))].slice(0, 3);
  return {
    messagesPlanned: N,
    messageBytes: 60000,
    flood: { ...acks, ms: Math.round(floodMs), lastRefusal, stoppedBy: floodStoppedBy, healthMaxMs: setupFigures.healthMaxMs, healthFailures: setupFigures.healthFailures, rssPeakMB: setupFigures.rssPeakMB },
    latestInboxSeq,
    syncs: SYNCS,
    repliesOk: answers.filter((a) => a.code === 0).length,
    replyCodes: codes,
    ...(refusals.length ? { refusals } : {}),
    replyBytesTotal: answers.reduce((n, a) => n + a.bytes, 0),
    messagesPerReply: answers.map((a) => a.messages),
    firstAnsweredMs: Math.round(Math.min(...answers.map((a) => a.ms))),
    allAnsweredMs: Math.round(allAnsweredMs),
    dataDirMB: MB(server.dataBytes()),
    ...figures,
  };
}

/** C. Big group: 10,001 members through 500-id calls, then 100 pipelined group sends from the owner. */
async function bigGroup(server, { quick }, ctx) {
  const M = quick ? 2000 : 10000; // members besides the owner
  const SENDS = 100;
  const SETUP_BUDGET_MS = quick ? 90000 : 150000;
  const deadline = now() + SETUP_BUDGET_MS;
  const setupMon = monitor(server);
  const tSetup = now();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  ctx.track(agent);
  const owner = await setupCall(server.apiPort, 'POST', '/api/token', { body: userBody('bg-owner'), agent }, deadline, ctx);
  const ids = Array.from({ length: M }, (_, i) => `bg-m${i}`);
  let userFailures = 0;
  let firstUserFailure = null;
  // Set-up, not the attack: a server that limits the app-secret endpoints per client address (as it
  // should) would take minutes for 10,000 registrations from one address, so they come from
  // 127.0.1.1, 127.0.1.2, ... (100 each), as from many app backends, when the host allows it.
  const userOpts = (i) => (source.spread ? { agent: false, localAddress: `127.0.1.${1 + Math.floor(i / USERS_PER_ADDRESS)}` } : { agent });
  await pool(M, 50, async (i) => {
    if (ctx.aborted) return;
    try {
      await setupCall(server.apiPort, 'POST', '/api/users', { body: userBody(ids[i]), ...userOpts(i) }, deadline, ctx);
    } catch (err) {
      userFailures++;
      firstUserFailure ??= err.message;
    }
  });
  const usersMs = now() - tSetup;
  let setupCalls = 0;
  let setupRefused = null;
  let groupId = null;
  let memberCount = null;
  const tGroup = now();
  try {
    setupCalls++;
    const g = await setupCall(server.apiPort, 'POST', '/api/groups', { body: { name: `abuse ${M + 1}`, userIdList: ids.slice(0, 500) }, bearer: owner.token, agent, timeout: 30000 }, deadline, ctx);
    groupId = g.id ?? g.groupId;
    memberCount = g.memberCount;
    for (let i = 500; i < M && !ctx.aborted; i += 500) {
      setupCalls++;
      try {
        const members = await setupCall(server.apiPort, 'POST', `/api/groups/${encodeURIComponent(groupId)}/members`, { body: { userIdList: ids.slice(i, i + 500) }, bearer: owner.token, agent, timeout: 30000 }, deadline, ctx);
        if (Array.isArray(members)) memberCount = members.length;
      } catch (err) {
        // A server that caps group size: keep the group as it is and measure the burst anyway.
        setupRefused = err.message;
        break;
      }
    }
  } catch (err) {
    setupRefused = err.message;
  }
  const groupCallsMs = now() - tGroup;
  const setupFigures = await setupMon.stop();
  agent.destroy();
  const out = {
    membersPlanned: M + 1,
    memberCount,
    setupCalls,
    setupRefused,
    usersCreated: M - userFailures,
    ...(userFailures ? { userFailures, firstUserFailure } : {}),
    usersMs: Math.round(usersMs),
    groupCallsMs: Math.round(groupCallsMs),
    setup: { healthMaxMs: setupFigures.healthMaxMs, healthFailures: setupFigures.healthFailures, rssPeakMB: setupFigures.rssPeakMB },
  };
  if (!groupId) throw Object.assign(new Error(`no group: ${setupRefused}`), { partial: out });

  const sock = await connectUser(server, 'bg-owner', ctx);
  await sleep(200);
  const mon = monitor(server);
  const BURST_BUDGET_MS = quick ? 60000 : 120000;
  const t0 = now();
  const burstEnd = t0 + BURST_BUDGET_MS;
  let acked = 0;
  let rateLimited = 0;
  let refused = 0;
  let timeouts = 0;
  let lastRefusal = null;
  const ackTimes = [];
  const one = async (i) => {
    const payload = { clientMsgId: `bg-${i}`, chatType: 1, to: groupId, content: `burst ${i}`, msgType: 0 };
    for (;;) {
      const left = burstEnd - now();
      if (left <= 0 || ctx.aborted) return void timeouts++;
      const res = await ask(sock, 'chat:send', payload, left);
      if (res.code === 0) {
        acked++;
        ackTimes.push(now() - t0);
        return;
      }
      if (res.code === 42900) {
        rateLimited++;
        await sleep(retryDelay(res, 100));
        continue;
      }
      if (res.code === -1) return void timeouts++;
      refused++;
      lastRefusal = `${res.code} ${res.message}`;
      return;
    }
  };
  // Pipelined: all 100 emitted in one go, each retried on its own when rate limited.
  await Promise.all(Array.from({ length: SENDS }, (_, i) => one(i)));
  sock.close();
  const figures = await mon.stop();
  ackTimes.sort((a, b) => a - b);
  return {
    ...out,
    sends: SENDS,
    sendsAcked: acked,
    rateLimited,
    refused,
    timeouts,
    lastRefusal,
    firstAckMs: r1(ackTimes[0] ?? null),
    burstMs: r1(ackTimes[ackTimes.length - 1] ?? null),
    inboxRowsWritten: memberCount == null ? null : acked * memberCount,
    dataDirMB: MB(server.dataBytes()),
    ...figures,
  };
}

/** D. Per-user rate: one user on 200 sockets, each emitting 100 chat:send at once. */
async function perUserRate(server, { quick }, ctx) {
  const SOCKETS = quick ? 100 : 200;
  const PER = 100;
  const deadline = now() + 30000;
  await setupCall(server.apiPort, 'POST', '/api/token', { body: userBody('pr-sender') }, deadline, ctx);
  await setupCall(server.apiPort, 'POST', '/api/token', { body: userBody('pr-target') }, deadline, ctx);
  const sockets = [];
  let refusedConnections = 0;
  let firstRefusal = null;
  const tConnect = now();
  await pool(SOCKETS, 20, async () => {
    if (ctx.aborted) return;
    try {
      sockets.push(await connectUser(server, 'pr-sender', ctx));
    } catch (err) {
      refusedConnections++;
      firstRefusal ??= err.message;
    }
  });
  const connectMs = now() - tConnect;
  // The sender's other sockets get a copy of each message (multi-device): count them, cheaply.
  let echoes = 0;
  for (const s of sockets) s.on('imchat', () => void echoes++);
  await sleep(300);
  const mon = monitor(server);
  const BUDGET_MS = quick ? 60000 : 90000;
  let acceptedFirstSecond = 0;
  let acceptedTotal = 0;
  let rateLimitedTotal = 0;
  let otherTotal = 0;
  let unanswered = 0;
  let lastAnswer = 0;
  let firstOther = null;
  const t0 = now();
  const all = [];
  sockets.forEach((s, si) => {
    for (let j = 0; j < PER; j++) {
      const payload = { clientMsgId: `pr-${si}-${j}`, chatType: 0, to: 'pr-target', content: `rate ${si} ${j}`, msgType: 0 };
      all.push(
        ask(s, 'chat:send', payload, BUDGET_MS).then((res) => {
          const t = now() - t0;
          if (res.code === -1) return void unanswered++;
          lastAnswer = Math.max(lastAnswer, t);
          if (res.code === 0) {
            acceptedTotal++;
            if (t <= 1000) acceptedFirstSecond++;
          } else if (res.code === 42900) rateLimitedTotal++;
          else {
            otherTotal++;
            firstOther ??= `${res.code} ${res.message}`;
          }
        }),
      );
    }
  });
  await Promise.all(all);
  const echoesAtEnd = echoes;
  for (const s of sockets) s.close();
  const figures = await mon.stop();
  return {
    socketsPlanned: SOCKETS,
    socketsConnected: sockets.length,
    refusedConnections,
    firstRefusal,
    connectMs: Math.round(connectMs),
    sendsEmitted: sockets.length * PER,
    acceptedFirstSecond,
    acceptedTotal,
    rateLimitedTotal,
    otherTotal,
    firstOther,
    unanswered,
    spanMs: r1(lastAnswer),
    acceptedPerSecond: lastAnswer > 0 ? Math.round((acceptedTotal / lastAnswer) * 1000) : null,
    // Multi-device copies (imchat to the sender's other sockets) received by the time the last ack came.
    copiesToSenderSocketsByLastAck: echoesAtEnd,
    copiesExpected: acceptedTotal * Math.max(sockets.length - 1, 0),
    ...figures,
  };
}

/** E. Unauthenticated Engine.IO polling handshakes, 64 in flight, never completing the namespace connect. */
async function unauthPolling(server, { quick }, ctx) {
  const DURATION_MS = quick ? 10000 : 25000;
  const AFTER_MS = 5000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  ctx.track(agent);
  const mon = monitor(server);
  let handshakes = 0;
  let other = 0;
  let errors = 0;
  const statuses = {};
  const errorKinds = {};
  const t0 = now();
  const end = t0 + DURATION_MS;
  const worker = async () => {
    while (now() < end && !ctx.aborted) {
      const res = await request(server.socketPort, 'GET', '/socket.io/?EIO=4&transport=polling', { agent, timeout: 5000 });
      if (res.status === 200 && typeof res.text === 'string' && res.text.startsWith('0{"sid"')) handshakes++;
      else if (res.status === 0) {
        errors++;
        errorKinds[res.error] = (errorKinds[res.error] ?? 0) + 1;
        await sleep(10); // refused or reset: no hot loop
      } else {
        other++;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const attackMs = now() - t0;
  agent.destroy();
  const rssAtEnd = mon.rssNow();
  const openFilesAtEnd = server.openFiles();
  await sleep(AFTER_MS);
  const rssAfter5s = mon.rssNow();
  const figures = await mon.stop();
  return {
    durationMs: Math.round(attackMs),
    handshakes,
    handshakesPerSecond: Math.round((handshakes / attackMs) * 1000),
    otherResponses: other,
    ...(Object.keys(statuses).length ? { statuses } : {}),
    errors,
    ...(Object.keys(errorKinds).length ? { errorKinds } : {}),
    rssAtAttackEndMB: MB(rssAtEnd),
    rssAfter5sMB: MB(rssAfter5s),
    serverOpenFilesAtEnd: openFilesAtEnd,
    ...figures,
  };
}

/** F. Guessing app secrets over HTTP, and read marks for conversations that do not exist. */
async function httpGuessing(server, { quick }, ctx) {
  const DURATION_MS = quick ? 3000 : 5000;
  const READS = 2000;
  // The reader exists before the guessing, in case the guessing gets this address limited.
  const reader = await setupCall(server.apiPort, 'POST', '/api/token', { body: userBody('reader') }, now() + 15000, ctx);
  const mon = monitor(server);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  ctx.track(agent);
  let requests = 0;
  let limited = 0;
  let errors = 0;
  let n = 0;
  const statuses = {};
  const codes = {};
  const t0 = now();
  const end = t0 + DURATION_MS;
  const worker = async () => {
    while (now() < end && !ctx.aborted) {
      const res = await request(server.apiPort, 'POST', '/api/token', { agent, timeout: 5000, body: { appId: APP_ID, appSecret: `wrong-secret-${n++}`, userId: 'guess-victim' } });
      requests++;
      if (res.status === 0) {
        errors++;
        await sleep(10);
        continue;
      }
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.json?.code !== undefined) codes[res.json.code] = (codes[res.json.code] ?? 0) + 1;
      if (res.status === 429) limited++;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  const guessMs = now() - t0;
  const guessed = statuses[200] ?? 0;

  // Its own client (another address, when the host has one): a limit the guessing earned must not
  // be what refuses the read marks.
  const readAgent = new http.Agent({ keepAlive: true, maxSockets: 32, localAddress: source.reads });
  ctx.track(readAgent);
  const readCodes = {};
  let readMarksAccepted = 0;
  const tRead = now();
  await pool(READS, 32, async (i) => {
    if (ctx.aborted) return;
    const res = await request(server.apiPort, 'POST', '/api/conversations/read', { agent: readAgent, timeout: 10000, bearer: reader.token, body: { chatType: 0, targetId: `nobody-${i}` } });
    const key = res.status === 0 ? `error ${res.error}` : String(res.json?.code ?? `HTTP ${res.status}`);
    readCodes[key] = (readCodes[key] ?? 0) + 1;
    if (res.status === 200 && res.json?.code === 0) readMarksAccepted++;
  });
  const readMs = now() - tRead;
  agent.destroy();
  readAgent.destroy();
  const figures = await mon.stop();
  return {
    durationMs: Math.round(guessMs),
    requests,
    perSecond: Math.round((requests / guessMs) * 1000),
    limited,
    statuses,
    codes,
    errors,
    secretGuessedOk: guessed,
    readMarks: READS,
    readMarksFrom: source.reads,
    readMarksAccepted,
    readCodes,
    readMarksMs: Math.round(readMs),
    dataDirMB: MB(server.dataBytes()),
    ...figures,
  };
}

// ------------------------------------------------------------------------------------ runner

const ATTACKS = { slowBodies, syncFlood, bigGroup, perUserRate, unauthPolling, httpGuessing };
/** Hard bounds per attack (s), set-up included; past it the attack is abandoned and reported as an error. */
const BUDGET_S = {
  quick: { slowBodies: 60, syncFlood: 120, bigGroup: 180, perUserRate: 120, unauthPolling: 60, httpGuessing: 60 },
  full: { slowBodies: 75, syncFlood: 200, bigGroup: 300, perUserRate: 150, unauthPolling: 75, httpGuessing: 75 },
};

function context() {
  const things = [];
  return {
    aborted: false,
    track(x) {
      things.push(x);
      return x;
    },
    cleanup() {
      for (const x of things.splice(0)) {
        try {
          if (typeof x.destroy === 'function') x.destroy();
          else if (typeof x.close === 'function') x.close();
          else x.disconnect?.();
        } catch {
          /* closing anyway */
        }
      }
    },
  };
}

async function runAttack(name, options, mode) {
  const ctx = context();
  const t0 = Date.now();
  let server;
  let result;
  try {
    server = await startImServer();
    const limit = server.openFileLimit();
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`attack did not finish within ${BUDGET_S[mode][name]} s`)), BUDGET_S[mode][name] * 1000);
    });
    const work = ATTACKS[name](server, options, ctx);
    try {
      result = await Promise.race([work, timeout]);
    } catch (err) {
      ctx.aborted = true;
      ctx.cleanup();
      // Let the attack's own loops see `aborted` and unwind (bounded) before the server goes away.
      await Promise.race([work.catch(() => undefined), sleep(10000)]);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    result.serverOpenFileLimit = limit;
  } catch (err) {
    result = { ...(err.partial ?? {}), error: String(err?.message ?? err) };
    log(`abuse ${name}: ${result.error}`);
  } finally {
    ctx.aborted = true;
    ctx.cleanup();
    if (server) {
      const exited = server.exited();
      if (exited) result.serverExited = exited; // died during the attack (out of memory, crash)
      const stderr = server.stderr();
      if (stderr.lines) result.serverStderr = stderr;
      await server.stop();
    }
  }
  result.totalMs = Date.now() - t0;
  return result;
}

function describeArtefacts() {
  try {
    const sha = execFileSync('git', ['-C', artefacts, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', artefacts, 'status', '--porcelain', '--', 'server/src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${artefacts} (${sha}${dirty ? ', server/src modified' : ''})`;
  } catch {
    return artefacts;
  }
}

export async function run({ quick = false, only, label } = {}) {
  const mode = quick ? 'quick' : 'full';
  const names = Object.keys(ATTACKS).filter((n) => !only || only.includes(n));
  const t0 = Date.now();
  if (await loopbackAlias('127.0.0.2')) source.probe = source.other = '127.0.0.2';
  if (await loopbackAlias('127.0.0.3')) source.reads = '127.0.0.3';
  source.spread = (await loopbackAlias('127.0.1.1')) && (await loopbackAlias('127.0.1.100'));
  const out = {
    mode,
    node: process.version,
    date: new Date().toISOString(),
    artefacts: label ?? process.env.BENCH_ARTEFACTS_LABEL ?? describeArtefacts(),
    artefactsPath: artefacts,
    machine: { cpus: os.cpus().length, loadAvgStart: os.loadavg().map((x) => Math.round(x * 100) / 100), clientOpenFileLimit: openFileLimit() },
    server: 'node server/dist/main.js, default limits (IM_RATE_LIMIT 50 / IM_RATE_BURST 100 unless the build changed them), prlimit --nofile=1024:1024, one fresh process per attack',
    health: 'GET /health every 100 ms on a fresh connection, 5 s timeout; p50/max over all probes, a failed one counted at the time it took to fail',
    addresses: { attacker: HOST, probesAndNewcomers: source.probe, readMarks: source.reads, bigGroupUsers: source.spread ? `127.0.1.x, ${USERS_PER_ADDRESS} users per address` : HOST },
  };
  for (const name of names) {
    log(`abuse ${name} (${mode})`);
    out[name] = await runAttack(name, { quick }, mode);
    log(`abuse ${name}: ${JSON.stringify(out[name]).slice(0, 400)}`);
  }
  out.machine.loadAvgEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
  out.totalMs = Date.now() - t0;
  return out;
}
