/**
 * Shared helpers for the server tests: the real server in-process on ephemeral loopback ports with
 * a throwaway data directory, plain HTTP (global fetch) and plain Socket.IO clients (no SDK), and
 * bounded waits. Every wait has a timeout, so a broken server fails a test instead of hanging it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as ioV4, type Socket } from 'socket.io-client';
import { createImServer, type ImServer, type ImServerOptions } from '../../server/src';
import { startPostgres, type Engine } from '../cluster/engines';

export interface TestServer {
  apiUrl: string;
  socketUrl: string;
  appId: string;
  appSecret: string;
  dataDir: string;
  im: ImServer;
  stop(): Promise<void>;
}

export interface Env<T = any> {
  code: number;
  message: string;
  data?: T;
}

const running = new Set<TestServer>();

/**
 * Starts a server on 127.0.0.1 with ports 0. A caller-provided `dataDir` is the caller's to remove
 * (persistence tests restart on it); otherwise a temp dir is made and removed on stop.
 */
export async function startServer(overrides: ImServerOptions = {}): Promise<TestServer> {
  const ownDir = overrides.dataDir === undefined;
  const dataDir = ownDir ? mkdtempSync(path.join(tmpdir(), 'comind-im-test-')) : overrides.dataDir!;
  const im = createImServer({ host: '127.0.0.1', apiPort: 0, socketPort: 0, dataDir, logger: false, rateLimit: 100_000, rateBurst: 100_000, httpRateLimit: 1_000_000, httpAuthRateLimit: 1_000_000, maxConnectionsPerIp: 0, ...overrides });
  const info = await im.start();
  const server: TestServer = {
    apiUrl: info.apiUrl,
    socketUrl: info.socketUrl,
    appId: im.devApp.appId,
    appSecret: im.devApp.appSecret,
    dataDir,
    im,
    async stop() {
      running.delete(server);
      await im.stop();
      if (ownDir && dataDir !== ':memory:') rmSync(dataDir, { recursive: true, force: true });
    },
  };
  running.add(server);
  return server;
}

export async function http<T = any>(
  server: { apiUrl: string },
  method: string,
  path: string,
  body?: unknown,
  token?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Env<T>; headers: Headers }> {
  const res = await fetch(`${server.apiUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let parsed: Env<T>;
  try {
    parsed = JSON.parse(text) as Env<T>;
  } catch {
    throw new Error(`${method} ${path} answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** A token from POST /api/token (creates the user). */
export async function tokenFor(server: TestServer, userId: string, userName = userId): Promise<string> {
  const r = await http<{ token: string }>(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId, userName });
  if (r.body.code !== 0) throw new Error(`token for ${userId} failed: ${r.body.message}`);
  return r.body.data!.token;
}

let counter = 0;
/** A user id unique within this process, so tests never see each other's inboxes. */
export function uniqueUser(prefix = 'u'): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

/** A fresh clientMsgId. */
export function cid(): string {
  counter += 1;
  return `c${Date.now().toString(36)}${counter}`;
}

export type TestSocket = Socket & { session: any };
const openSockets = new Set<{ close(): unknown }>();

/** Remembers anything with close() so closeAll() can close it (v2 and weapp sockets too). */
export function track<T extends { close(): unknown }>(s: T): T {
  openSockets.add(s);
  return s;
}

/** A socket.io-client 4 connection that has received its `session`. Rejects with the connect error. */
export function connect(server: { socketUrl: string }, token: string | undefined, opts: Record<string, unknown> = {}): Promise<TestSocket> {
  return new Promise((resolve, reject) => {
    const socket = track(
      ioV4(server.socketUrl, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...opts }) as TestSocket,
    );
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no session within 5 s'));
    }, 5000);
    socket.once('session', (s) => {
      clearTimeout(timer);
      socket.session = s;
      resolve(socket);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      socket.close();
      reject(err);
    });
  });
}

/** The connect error a token gets, or null if it connects. */
export async function refusal(server: { socketUrl: string }, token: string | undefined): Promise<(Error & { data?: { code: number; message: string } }) | null> {
  return connect(server, token).then(
    (s) => {
      s.close();
      return null;
    },
    (e: Error & { data?: { code: number; message: string } }) => e,
  );
}

/** Emits with an ack callback; resolves with the envelope, rejects after `ms`. */
export function call<T = any>(socket: { emit(event: string, ...args: any[]): unknown }, event: string, ...args: unknown[]): Promise<Env<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event} within 5 s`)), 5000);
    socket.emit(event, ...args, (res: Env<T>) => {
      clearTimeout(timer);
      resolve(res);
    });
  });
}

/** Resolves with the next `event`, rejects after `ms`. */
export function nextEvent<T = any>(target: { once(e: string, f: (...args: any[]) => void): unknown; off?(e: string, f: (...args: any[]) => void): unknown }, event: string, ms = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const on = (v: T) => {
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => {
      target.off?.(event, on);
      reject(new Error(`timed out waiting for "${event}"`));
    }, ms);
    target.once(event, on);
  });
}

/** Collects every `event` a socket receives from now on. */
export function collect<T = any>(socket: { on(e: string, f: (v: T) => void): unknown }, event: string): T[] {
  const got: T[] = [];
  socket.on(event, (v: T) => got.push(v));
  return got;
}

/** Polls until `check()` is true; fails after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** For asserting that something does NOT arrive: give it a fair chance first. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Closes every client opened through these helpers, then every server still running. */
export async function closeAll(): Promise<void> {
  for (const s of openSockets) s.close();
  openSockets.clear();
  await Promise.all([...running].map((s) => s.stop()));
}

/** Closes the tracked clients only (servers keep running). */
export function closeClients(): void {
  for (const s of openSockets) s.close();
  openSockets.clear();
}

/**
 * The two storages, for `describe.each(bothStorages())('… on $name', …)`: SQLite (`url()` is
 * undefined: the server's default) and PostgreSQL, started once for the test file. Call it at the
 * top level of the file: it registers the file's beforeAll/afterAll for PostgreSQL.
 */
export function bothStorages(): Array<{ name: 'SQLite' | 'PostgreSQL'; url: () => string | undefined }> {
  let pg: Engine | undefined;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });
  return [
    { name: 'SQLite', url: () => undefined },
    { name: 'PostgreSQL', url: () => pg!.url },
  ];
}
