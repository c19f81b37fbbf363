// Shared helpers for the benchmarks: paths, the built artefacts, statistics, a server child
// process with a raw Socket.IO relay beside the IM server, and raw socket.io-client connections.
// Plain ESM over the built artefacts (dist/, miniprogram_dist/, server/dist/): the figures are for
// the code users run, and no TypeScript runner is needed.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const require = createRequire(path.join(root, 'package.json'));

/**
 * Where the built artefacts are read from: a snapshot that bench/run.mjs copies right after the
 * build (bench/.cache/artefacts), so a rebuild elsewhere during the run (it empties dist/) cannot
 * pull them away mid-measurement. Dependencies still resolve from the repository's node_modules.
 */
export const artefacts = process.env.BENCH_ARTEFACTS || root;

/** The built artefacts, loaded lazily (each brings its own socket.io-client). */
export const load = {
  web: () => require(path.join(artefacts, 'dist/index.cjs')),
  miniprogram: () => require(path.join(artefacts, 'miniprogram_dist/index.js')),
  testing: () => require(path.join(artefacts, 'dist/testing.cjs')),
  /** Only the token helper (jsonwebtoken), not the whole server, in client processes. */
  auth: () => require(path.join(artefacts, 'server/dist/auth.js')),
  ioClient: () => require('socket.io-client').io,
  /** weapp.socket.io 3 (needs a global wx: installWx first). */
  weappIo: () => require('weapp.socket.io'),
};

export const APP_ID = 'bench-app';
export const APP_SECRET = 'bench-secret-0123456789';

export function token(userId, userName = userId) {
  return load.auth().mintToken({ appId: APP_ID, appSecret: APP_SECRET, userId, userName, ttlSeconds: 6 * 3600 });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => performance.now();

export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** p50/p90/p99/mean/min/max of a list of numbers (ms), rounded to 0.001. */
export function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const r = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), mean: r(mean), min: r(s[0] ?? null), max: r(s[s.length - 1] ?? null) };
}

export const ratio = (a, b) => (a == null || b == null || b === 0 ? null : Math.round((a / b) * 1000) / 1000);
export const median = (xs) => percentile([...xs].sort((a, b) => a - b), 50);

/** A message body of about `bytes` characters, like a typical chat line. */
export function body(tag, bytes = 100) {
  const s = `${tag} `;
  return s + 'x'.repeat(Math.max(0, bytes - s.length));
}

/** Runs `task(i)` for i < n with at most `limit` in flight. */
export async function pool(n, limit, task) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, n) }, async () => {
    while (next < n) {
      const i = next++;
      await task(i);
    }
  });
  await Promise.all(workers);
}

/** Resolves on `event`, rejects after `ms`. */
export function once(target, event, ms = 10000, what = event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    target.once(event, (v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

export async function waitFor(check, ms, what) {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** Soft limit on open files of this process (Linux), or null. */
export function openFileLimit() {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const n = Number(line?.trim().split(/\s{2,}/)[1]);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Starts bench/lib/server-process.mjs: the IM server (createImServer, SQLite in a temp dir, rate
 * limit raised) and, in the same process, a raw Socket.IO relay with the gateway's options.
 * `mode: 'relay'` starts only the relay (a clean process for connection baselines).
 * `durability: 'full'` runs both the IM server and the durable floor with IM_DURABILITY=full.
 */
export async function startServer({ mode = 'both', execArgv = [], env = {}, durability } = {}) {
  const child = fork(path.join(root, 'bench/lib/server-process.mjs'), [], {
    execArgv: ['--expose-gc', ...execArgv],
    // durability: IM_DURABILITY of the IM server and of the durable floor beside it (normal | full).
    env: { ...process.env, BENCH_SERVER_MODE: mode, BENCH_APP_ID: APP_ID, BENCH_APP_SECRET: APP_SECRET, ...(durability ? { BENCH_DURABILITY: durability } : {}), ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const waiting = new Map();
  let readyInfo;
  const ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server process exited early (${code})`)));
    child.on('message', (msg) => {
      if (msg?.type === 'ready') {
        readyInfo = msg.info;
        resolve(msg.info);
      } else if (msg?.type === 'reply') {
        const w = waiting.get(msg.id);
        waiting.delete(msg.id);
        if (msg.error) w?.reject(new Error(msg.error));
        else w?.resolve(msg.result);
      }
    });
  });
  const info = await ready;
  const call = (cmd, args = {}) =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      waiting.set(id, { resolve, reject });
      child.send({ id, cmd, args });
    });
  return {
    ...info,
    pid: child.pid,
    info: readyInfo,
    call,
    /** Server memory after a full GC in the server process. */
    mem: () => call('mem', { gc: true }),
    cpu: () => call('cpu'),
    createUsers: (ids) => call('users', { ids }),
    async stop() {
      if (child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child.once('exit', r));
      try {
        child.send({ id: ++seq, cmd: 'stop' });
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A raw socket.io-client 4 connection (websocket only, no reconnection). */
export function rawSocket(url, auth, extra = {}) {
  const io = load.ioClient();
  return io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth, ...extra });
}

/** Connects a raw client to the IM server and waits for its `session` event. */
export async function rawImClient(server, userId) {
  const socket = rawSocket(server.socketUrl, { token: token(userId) });
  await once(socket, 'session', 15000, `session of ${userId}`);
  return socket;
}

/** Connects a raw client to the relay and waits until it is connected. */
export async function rawRelayClient(server, userId) {
  const socket = rawSocket(server.relayUrl, { user: userId });
  await once(socket, 'connect', 15000, `relay connect of ${userId}`);
  return socket;
}

/** An ImClient on the web adapter (dist/index.cjs), connected and ready. */
export async function webImClient(server, userId, extra = {}) {
  const { ImClient, createWebAdapter } = load.web();
  const client = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createWebAdapter(), logLevel: 'silent', ...extra });
  const ready = once(client, 'ready', 15000, `ready of ${userId}`);
  await client.connect({ token: token(userId) });
  await ready;
  return client;
}

/** An ImClient from miniprogram_dist on its own wx runtime (one simulated phone), connected and ready. */
export async function weappImClient(server, userId, extra = {}, runtimeOptions = {}) {
  const { ImClient, createWeappAdapter } = load.miniprogram();
  const phone = load.testing().createWxRuntime(runtimeOptions);
  const client = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createWeappAdapter({ wx: phone.wx }), logLevel: 'silent', ...extra });
  const ready = once(client, 'ready', 15000, `ready of ${userId}`);
  await client.connect({ token: token(userId) });
  await ready;
  client.phone = phone;
  return client;
}

export function closeAll(list) {
  for (const c of list.splice(0)) {
    try {
      if (typeof c.destroy === 'function') {
        c.destroy();
        c.phone?.destroy();
      } else c.disconnect?.();
    } catch {
      /* closing anyway */
    }
  }
}

/** An emit with ack as a promise. */
export function emitAck(socket, event, payload, ms = 15000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ack for ${event} in ${ms} ms`)), ms);
    socket.emit(event, payload, (res) => {
      clearTimeout(t);
      if (res && res.code !== 0) reject(new Error(`${event}: ${res.code} ${res.message}`));
      else resolve(res);
    });
  });
}

export function log(...args) {
  if (process.env.BENCH_VERBOSE !== '0') console.error('  ', ...args);
}
