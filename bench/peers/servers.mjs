// Starts the peer XMPP servers for bench/suites/peers.mjs: installed from Debian when missing,
// each in a temp dir on free 127.0.0.1 ports with the configs next to this file, as its own
// system user (runuser), in its own process group; stopped by that group's id. Users are
// registered once with the server's own tool (ejabberdctl / prosodyctl) and in bulk straight into
// its SQLite store in the same format (one tool call per user would take hours at 10,000).
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, pbkdf2Sync, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { require } from '../lib/common.mjs';
import { XmppConnection } from './xmpp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DOMAIN = 'localhost';
export const PASSWORD = 'bench-password';
export const ITERATIONS = 4096;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const PACKAGES = { ejabberd: ['ejabberd', 'erlang-p1-sqlite3'], prosody: ['prosody', 'lua-dbi-sqlite3'] };
const BINARIES = { ejabberd: '/usr/sbin/ejabberdctl', prosody: '/usr/bin/prosody' };

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600000, ...opts });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), status: r.status };
}

const installed = (pkg) => sh('dpkg-query', ['-W', '-f=${Status} ${Version}', pkg]).out.startsWith('install ok installed');
export const versionOf = (pkg) => sh('dpkg-query', ['-W', '-f=${Version}', pkg]).out || null;

/** Installs the Debian packages of a peer when missing; returns a reason string when it cannot. */
export function ensureInstalled(peer, { offline = false } = {}) {
  const missing = PACKAGES[peer].filter((p) => !installed(p));
  if (!missing.length) return null;
  if (offline) return `not installed (${missing.join(', ')}) and --offline given`;
  if (process.getuid?.() !== 0) return `not installed (${missing.join(', ')}) and not root: apt-get install -y ${missing.join(' ')}`;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.error(`   peers: apt-get install ${missing.join(' ')}`);
  const update = sh('apt-get', ['update'], { env });
  if (!update.ok) return `apt-get update failed: ${update.out.split('\n').slice(-2).join(' ')}`;
  const r = sh('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  if (!r.ok) return `apt-get install ${missing.join(' ')} failed: ${r.out.split('\n').slice(-2).join(' ')}`;
  // Debian's packages start a system-wide instance where an init system exists; the bench runs its
  // own instances only.
  for (const svc of [peer]) sh('sh', ['-c', `command -v service >/dev/null && service ${svc} stop >/dev/null 2>&1; true`]);
  return existsSync(BINARIES[peer]) ? null : `${BINARIES[peer]} missing after install`;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function fill(template, vars) {
  return readFileSync(path.join(here, template), 'utf8').replace(/@([A-Z0-9_]+)@/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

function ownedTempDir(prefix, user, base) {
  const dir = mkdtempSync(path.join(base, prefix));
  const { uid, gid } = idOf(user);
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o755);
  return { dir, uid, gid };
}

function idOf(user) {
  const uid = Number(sh('id', ['-u', user]).out);
  const gid = Number(sh('id', ['-g', user]).out);
  if (!Number.isFinite(uid) || !Number.isFinite(gid)) throw new Error(`no system user ${user}`);
  return { uid, gid };
}

/** Child pids of p from all its threads (a child forked by another thread is listed only there). */
function childrenOf(p) {
  const kids = [];
  for (const t of readdirSync(`/proc/${p}/task`)) kids.push(...readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  return kids;
}

/**
 * The server's own process below runuser -> sh (-> ejabberdctl): the first in the tree whose
 * command is one of `comms` (beam.smp, lua5.4). Its RSS, not the wrappers' (runuser, the shells,
 * the watchdog's `sleep 1` that comes and goes every second), is the server's memory.
 */
function serverPidOf(root, comms) {
  const queue = [root];
  while (queue.length) {
    const p = queue.shift();
    try {
      if (comms.includes(readFileSync(`/proc/${p}/comm`, 'utf8').trim())) return p;
      queue.push(...childrenOf(p));
    } catch {
      /* gone */
    }
  }
  return null;
}

/** RSS of a process and its descendants (beam.smp's erl_child_setup and port programs). */
function rssOfTree(pid) {
  let total = 0;
  const walk = (p) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
      for (const k of childrenOf(p)) walk(k);
    } catch {
      /* gone */
    }
  };
  walk(pid);
  return total;
}

/** The RSS of the server process of a peer started by spawnAs (found once, then cached). */
function serverRss(proc, comms) {
  proc.serverPid ??= serverPidOf(proc.child.pid, comms);
  if (!proc.serverPid) throw new Error(`no ${comms.join('/')} process below ${proc.child.pid}`);
  return rssOfTree(proc.serverPid);
}

function cpuOfTree(pid) {
  // utime + stime of the tree, in microseconds (clock ticks of 10 ms on Linux).
  let ticks = 0;
  const walk = (p) => {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
      for (const k of childrenOf(p)) walk(k);
    } catch {
      /* gone */
    }
  };
  walk(pid);
  return ticks * 10000;
}

/** Spawns `cmd` as `user` in its own process group with a raised open-file limit. */
function spawnAs(user, dir, script, env) {
  // A watchdog in the server's process group kills the group once this process is gone, even
  // when it was SIGKILLed (the suite's time limit) and no exit handler ran.
  const watchdog = `(while [ -d /proc/${process.pid} ]; do sleep 1; done; kill -KILL 0) </dev/null >/dev/null 2>&1 &`;
  // runuser resets HOME to the user's passwd entry: set again inside, or ejabberd would read the
  // system-wide /var/lib/ejabberd/.erlang.cookie while ejabberdctl reads the one in the dir
  // (every ejabberdctl call then fails with "nodedown").
  const child = spawn('runuser', ['-u', user, '--', 'sh', '-c', `HOME='${dir}'; export HOME; ${watchdog} ulimit -n 65536 2>/dev/null || ulimit -n 20000; ${script}`], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8', ...env },
  });
  let output = '';
  const keep = (d) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  // Never outlive the suite: its process group is killed when this process exits.
  const kill = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  process.once('exit', kill);
  return { child, output: () => output, kill };
}

async function stopGroup(proc, ms = 8000) {
  if (proc.child.exitCode !== null || proc.child.signalCode) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  try {
    process.kill(-proc.child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => proc.kill(), ms);
  await exited;
  clearTimeout(t);
  // Children that ignored SIGTERM (erl_child_setup, epmd if any) go with the group.
  proc.kill();
}

/** Logs in until the server accepts (both may refuse or crash early logins right after start). */
async function waitForLogin(peer, ws, user, ms) {
  const start = Date.now();
  let last;
  while (Date.now() - start < ms) {
    if (peer.proc.child.exitCode !== null) throw new Error(`${peer.name} exited: ${peer.proc.output().slice(-600)}`);
    const c = new XmppConnection({ url: ws, domain: DOMAIN, user, password: PASSWORD });
    try {
      await c.connect({ timeoutMs: 5000 });
      c.close();
      return;
    } catch (e) {
      last = e;
      c.terminate();
      await sleep(300);
    }
  }
  throw new Error(`${peer.name}: no login within ${ms} ms: ${last?.message}; server output: ${peer.proc.output().slice(-800)}`);
}

/** ejabberd in a temp dir; `nosync` puts its SQLite file on tmpfs (fsync a no-op). */
export async function startEjabberd({ nosync = false, users = [] } = {}) {
  const base = nosync ? '/dev/shm' : tmpdir();
  const { dir, uid, gid } = ownedTempDir('comind-bench-ejabberd-', 'ejabberd', base);
  const [wsPort, c2sPort, distPort] = [await freePort(), await freePort(), await freePort()];
  const db = path.join(dir, 'ejabberd.db');
  const node = `bench${wsPort}@localhost`;
  for (const d of ['log', 'spool']) {
    mkdirSync(path.join(dir, d));
    chownSync(path.join(dir, d), uid, gid);
  }
  writeFileSync(path.join(dir, 'ejabberd.yml'), fill('ejabberd.yml', { DB: db, WS_PORT: wsPort, C2S_PORT: c2sPort, HOST: DOMAIN }));
  // The node's distribution port is fixed (no epmd daemon left behind), the cookie local to the dir.
  writeFileSync(path.join(dir, 'ejabberdctl.cfg'), `ERLANG_NODE=${node}\nERL_DIST_PORT=${distPort}\nERL_EPMD_ADDRESS=127.0.0.1\nINET_DIST_INTERFACE=127.0.0.1\nERL_MAX_PORTS=65536\nERL_PROCESSES=1000000\nERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\nEJABBERD_CONFIG_PATH=${dir}/ejabberd.yml\n`);
  writeFileSync(path.join(dir, 'inetrc'), existsSync('/etc/ejabberd/inetrc') ? readFileSync('/etc/ejabberd/inetrc') : '{lookup,["file","native"]}.\n');
  writeFileSync(path.join(dir, '.erlang.cookie'), `BENCH${randomUUID().replace(/-/g, '')}`);
  chmodSync(path.join(dir, '.erlang.cookie'), 0o400);
  // The schema first: ejabberd 23.01 does not create its SQLite tables.
  const Database = require('better-sqlite3');
  const sqlite = new Database(db);
  sqlite.exec(readFileSync('/usr/share/ejabberd/sql/lite.sql', 'utf8'));
  const insert = sqlite.prepare('INSERT OR REPLACE INTO users (username, password, serverkey, salt, iterationcount) VALUES (?, ?, ?, ?, ?)');
  sqlite.transaction((ids) => ids.forEach((u) => insert.run(u, ...ejabberdAccount(PASSWORD))))(users);
  sqlite.close();
  for (const f of ['ejabberd.yml', 'ejabberdctl.cfg', 'inetrc', '.erlang.cookie', 'ejabberd.db']) chownSync(path.join(dir, f), uid, gid);
  const ctl = `/usr/sbin/ejabberdctl --config-dir ${dir} --ctl-config ${dir}/ejabberdctl.cfg --config ${dir}/ejabberd.yml --logs ${dir}/log --spool ${dir}/spool`;
  const proc = spawnAs('ejabberd', dir, `exec ${ctl} foreground`, {});
  // ejabberdctl as the server's user with the dir's cookie (HOME): the same node, the same cookie.
  const ctlRun = (args, timeout = 60000) => sh('runuser', ['-u', 'ejabberd', '--', 'sh', '-c', `HOME='${dir}' ${ctl} ${args}`], { cwd: dir, timeout });
  // ejabberdctl 23.01 has no eval: a hidden Erlang node (same cookie, the node's fixed
  // distribution port, no epmd, no listener of its own) asks the node for erlang:memory(total).
  const erlMemory = () => {
    const expr = `io:format("~p~n", [rpc:call(list_to_atom("${node}"), erlang, memory, [total], 30000)])`;
    const r = sh('runuser', ['-u', 'ejabberd', '--', 'sh', '-c', `HOME='${dir}' exec erl -sname memprobe${process.pid}x${Date.now()}@localhost -hidden -noinput -erl_epmd_port ${distPort} -start_epmd false -dist_listen false -eval '${expr}' -s erlang halt`], { cwd: dir, timeout: 60000 });
    const n = Number(r.out.split('\n').pop());
    if (!r.ok || !Number.isFinite(n)) throw new Error(`erlang:memory() on ${node}: ${r.out.slice(0, 300)}`);
    return n;
  };
  const peer = {
    name: 'ejabberd',
    version: versionOf('ejabberd'),
    domain: DOMAIN,
    muc: `conference.${DOMAIN}`,
    url: `ws://127.0.0.1:${wsPort}/ws`,
    c2s: { host: '127.0.0.1', port: c2sPort },
    dir,
    db,
    proc,
    storage: nosync ? 'SQLite on tmpfs (fsync is a no-op)' : 'SQLite on disk, defaults (synchronous=FULL, rollback journal)',
    pid: () => proc.child.pid,
    rss: () => serverRss(proc, ['beam.smp']),
    cpuUs: () => cpuOfTree(proc.child.pid),
    /** `ejabberdctl gc`: a full garbage collection of every Erlang process. */
    gc: 'ejabberdctl gc (erlang:garbage_collect/1 on every process)',
    async collect() {
      const r = ctlRun('gc');
      if (!r.ok) throw new Error(`ejabberdctl gc: ${r.out.slice(0, 300)}`);
    },
    /** Bytes the Erlang VM has allocated (erlang:memory(total)), beside the RSS. */
    vmMemory: 'erlang:memory(total)',
    async vmBytes() {
      return erlMemory();
    },
    async register(ids) {
      const s = new Database(db, { timeout: 30000 });
      const ins = s.prepare('INSERT OR REPLACE INTO users (username, password, serverkey, salt, iterationcount) VALUES (?, ?, ?, ?, ?)');
      s.transaction((xs) => xs.forEach((u) => ins.run(u, ...ejabberdAccount(PASSWORD))))(ids);
      s.close();
    },
    async stop() {
      await stopGroup(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // The first logins right after start can crash until one SQL call has run: retry until one
    // gets through, then register one user with ejabberd's own tool as a check of the setup.
    await waitForLogin(peer, peer.url, users[0] ?? 'probe', 90000);
    const reg = ctlRun(`register ctl-check ${DOMAIN} ${PASSWORD}`);
    peer.ctlRegister = reg.ok ? 'ok' : reg.out.slice(0, 200);
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return peer;
}

/** SCRAM-SHA-1 StoredKey and ServerKey (RFC 5802) of a password with this salt. */
function scramKeys(password, salt) {
  const salted = pbkdf2Sync(password, salt, ITERATIONS, 20, 'sha1');
  return { storedKey: createHash('sha1').update(createHmac('sha1', salted).update('Client Key').digest()).digest(), serverKey: createHmac('sha1', salted).update('Server Key').digest() };
}

/**
 * ejabberd's `users` row with auth_password_format: scram (what ejabberdctl register writes):
 * [password = base64 StoredKey, serverkey = base64 ServerKey, salt = base64 salt, iterationcount].
 * Stored keys, not the plain password: with `plain`, ejabberd runs the 4,096 PBKDF2 rounds in
 * Erlang in the c2s process at every login, whose heap then keeps that garbage until it is
 * collected (hundreds of KiB per idle connection, see README.md).
 */
function ejabberdAccount(password) {
  const salt = randomBytes(16);
  const { storedKey, serverKey } = scramKeys(password, salt);
  return [storedKey.toString('base64'), serverKey.toString('base64'), salt.toString('base64'), ITERATIONS];
}

/** Prosody's internal_hashed account record for SCRAM-SHA-1 (what prosodyctl register writes). */
function prosodyAccount(password) {
  const salt = randomUUID();
  const { storedKey, serverKey } = scramKeys(password, salt);
  return { salt, iteration_count: ITERATIONS, stored_key: storedKey.toString('hex'), server_key: serverKey.toString('hex') };
}

/** Prosody in a temp dir; `nosync` puts its SQLite file on tmpfs (fsync a no-op). */
export async function startProsody({ nosync = false, users = [], smacksQueue = 100000 } = {}) {
  const base = nosync ? '/dev/shm' : tmpdir();
  const { dir, uid, gid } = ownedTempDir('comind-bench-prosody-', 'prosody', base);
  const [httpPort, c2sPort] = [await freePort(), await freePort()];
  mkdirSync(path.join(dir, 'data'));
  chownSync(path.join(dir, 'data'), uid, gid);
  const db = path.join(dir, 'data', 'prosody.sqlite');
  const cfg = path.join(dir, 'prosody.cfg.lua');
  writeFileSync(cfg, fill('prosody.cfg.lua', { DIR: dir, DB: db, HTTP_PORT: httpPort, C2S_PORT: c2sPort, HOST: DOMAIN, SMACKS_QUEUE: smacksQueue }));
  chownSync(cfg, uid, gid);
  // prosodyctl creates the SQL tables with the first account; the rest go in the same rows it writes.
  const reg = sh('runuser', ['-u', 'prosody', '--', 'prosodyctl', '--config', cfg, 'register', 'ctl-check', DOMAIN, PASSWORD], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir }, timeout: 60000 });
  const Database = require('better-sqlite3');
  const register = (ids) => {
    const s = new Database(db, { timeout: 30000 });
    const ins = s.prepare('INSERT INTO prosody (host, user, store, key, type, value) VALUES (?, ?, ?, ?, ?, ?)');
    s.transaction((xs) => {
      for (const u of xs) {
        for (const [k, v] of Object.entries(prosodyAccount(PASSWORD))) ins.run(DOMAIN, u, 'accounts', k, typeof v === 'number' ? 'number' : 'string', String(v));
      }
    })(ids);
    s.close();
  };
  if (!existsSync(db)) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`prosodyctl register failed: ${reg.out.slice(0, 300)}`);
  }
  register(users);
  chownSync(db, uid, gid);
  const proc = spawnAs('prosody', dir, `exec prosody --config ${cfg} -F`, {});
  // One line of Lua in the running server (mod_admin_shell over its unix socket); returns the result.
  const shell = (lua) => {
    const r = sh('runuser', ['-u', 'prosody', '--', 'prosodyctl', '--config', cfg, 'shell', `>${lua}`], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir }, timeout: 60000 });
    const m = /Result: (\S+)/.exec(r.out);
    if (!r.ok || !m) throw new Error(`prosodyctl shell: ${r.out.slice(0, 300)}`);
    return m[1];
  };
  const peer = {
    name: 'prosody',
    version: versionOf('prosody'),
    domain: DOMAIN,
    muc: `conference.${DOMAIN}`,
    url: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
    c2s: { host: '127.0.0.1', port: c2sPort },
    dir,
    db,
    proc,
    ctlRegister: reg.ok ? 'ok' : reg.out.slice(0, 200),
    storage: nosync ? 'SQLite on tmpfs (fsync is a no-op)' : 'SQLite on disk, defaults (synchronous=FULL, rollback journal)',
    pid: () => proc.child.pid,
    rss: () => serverRss(proc, ['lua5.4', 'lua5.3', 'lua5.2', 'lua5.1', 'lua']),
    cpuUs: () => cpuOfTree(proc.child.pid),
    gc: 'collectgarbage("collect") twice, through prosodyctl shell',
    async collect() {
      // Twice: objects with finalisers (sockets, sessions) are freed in the cycle after.
      shell('collectgarbage("collect"); collectgarbage("collect"); return 0');
    },
    vmMemory: 'collectgarbage("count") (the Lua heap)',
    async vmBytes() {
      return Math.round(Number(shell('return collectgarbage("count")')) * 1024);
    },
    async register(ids) {
      register(ids);
    },
    async stop() {
      await stopGroup(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForLogin(peer, peer.url, users[0] ?? "ctl-check", 60000);
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return peer;
}
