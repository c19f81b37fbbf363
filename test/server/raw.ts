/** Raw protocol helpers for server tests: plain HTTP and plain Socket.IO clients, no SDK. */
import { io as ioV4, type Socket } from 'socket.io-client';
import type { TestServer } from '../helpers/server';

export interface Env<T = any> {
  code: number;
  message: string;
  data?: T;
}

export async function http<T = any>(server: TestServer, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Env<T> }> {
  const res = await fetch(`${server.apiUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Env<T> };
}

export async function tokenFor(server: TestServer, userId: string, userName = userId): Promise<string> {
  const r = await http<{ token: string }>(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId, userName });
  if (r.body.code !== 0) throw new Error(`token failed: ${r.body.message}`);
  return r.body.data!.token;
}

const open: Socket[] = [];

/** A socket.io-client 4 connection that has received its `session`. */
export function connect(server: TestServer, token: string): Promise<Socket & { session: any }> {
  return new Promise((resolve, reject) => {
    const socket = ioV4(server.socketUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true }) as Socket & { session: any };
    open.push(socket);
    const timer = setTimeout(() => reject(new Error('no session within 5 s')), 5000);
    socket.once('session', (s) => {
      clearTimeout(timer);
      socket.session = s;
      resolve(socket);
    });
    socket.once('connect_error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Emits with an ack, as a promise bounded by a timeout. */
export function call<T = any>(socket: Socket, event: string, ...args: unknown[]): Promise<Env<T>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 5000);
    timer.unref();
    socket.emit(event, ...args, (res: Env<T>) => {
      clearTimeout(timer);
      resolve(res);
    });
  });
}

/** Collects every `event` a socket receives. */
export function collect<T = any>(socket: Socket, event: string): T[] {
  const got: T[] = [];
  socket.on(event, (v: T) => got.push(v));
  return got;
}

export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function closeAll(): void {
  for (const s of open.splice(0)) s.disconnect();
}

let n = 0;
export function cid(): string {
  n += 1;
  return `c${Date.now().toString(36)}${n}`;
}
