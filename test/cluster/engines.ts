/**
 * Real PostgreSQL, Redis and HAProxy for the cluster tests, from Debian's packages (`.ci/run`
 * installs postgresql, redis-server and haproxy). Each runs in a temp dir on a free loopback port
 * and is stopped by its PID; nothing of the system's own services is touched. PostgreSQL refuses
 * to run as root, so as root its commands run as the `postgres` user (runuser).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Engine {
  /** How to reach it: postgres://…, redis://… or http://…. */
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (bind 0, read, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Debian's path for a binary when it is there (sbin is not on every PATH), else the bare name. */
function binary(name: string): string {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (existsSync(path.join(dir, name))) return path.join(dir, name);
  return name;
}

/** Where Debian puts the PostgreSQL binaries (`/usr/lib/postgresql/<major>/bin`), newest first. */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const majors = readdirSync(base).filter((d) => existsSync(path.join(base, d, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return majors.length ? path.join(base, majors[0]!, 'bin') : undefined;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL tool as the `postgres` user when we are root. */
function pgTool(bin: string, tool: string, args: string[]) {
  const file = path.join(bin, tool);
  return isRoot ? run(binary('runuser'), ['-u', 'postgres', '--', file, ...args]) : run(file, args);
}

function postgresUid(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function waitFor(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopPid(pid: number, ms = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + ms;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * A PostgreSQL cluster of its own: initdb in a temp dir, trust auth on 127.0.0.1 only, fsync off
 * unless `durable` (a test database, not a durable one), started with pg_ctl and stopped by its
 * postmaster PID.
 */
export async function startPostgres(opts: { maxConnections?: number; durable?: boolean } = {}): Promise<Engine> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL not found under /usr/lib/postgresql: apt-get install -y postgresql');
  const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-pg-'));
  const data = path.join(dir, 'data');
  if (isRoot) {
    const owner = postgresUid();
    if (!owner) throw new Error('no postgres user: apt-get install -y postgresql creates it');
    chownSync(dir, owner.uid, owner.gid);
  }
  await pgTool(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    `-c max_connections=${opts.maxConnections ?? 100}`,
    // Benchmarks keep PostgreSQL's durable defaults, to compare with SQLite's WAL honestly.
    ...(opts.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  await pgTool(bin, 'pg_ctl', ['-D', data, '-o', settings, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
  const pid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    pid,
    async stop() {
      await pgTool(bin, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '20', 'stop']).catch(() => stopPid(pid));
      await stopPid(pid);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function spawned(child: ChildProcess, dir: string, port: number, scheme: string): Engine {
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    async stop() {
      await stopPid(child.pid!);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Answers true once something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A Redis of its own: no persistence, loopback only. `port` to come back on the same one. */
export async function startRedis(port?: number): Promise<Engine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-redis-'));
  const p = port ?? (await freePort());
  const child = spawn(binary('redis-server'), ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'], {
    stdio: 'ignore',
  });
  await waitFor(() => listening(p), 10_000, 'redis-server');
  return spawned(child, dir, p, 'redis');
}

/** HAProxy in the foreground with `config` (its `{{...}}` placeholders filled from `vars`). */
export async function startHaproxy(config: string, vars: Record<string, string | number>, frontPort: string): Promise<Engine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-haproxy-'));
  const file = path.join(dir, 'haproxy.cfg');
  writeFileSync(file, config.replace(/\{\{(\w+)\}\}/g, (_m, k: string) => String(vars[k] ?? '')));
  await run(binary('haproxy'), ['-c', '-q', '-f', file]);
  const child = spawn(binary('haproxy'), ['-db', '-f', file], { stdio: 'ignore' });
  const port = Number(vars[frontPort]);
  await waitFor(() => listening(port), 10_000, 'haproxy');
  return spawned(child, dir, port, 'http');
}
