/**
 * The lite Socket.IO client (the mini-program adapters' socket) against a real Socket.IO v4 server
 * and, for what a well-behaved server never does (silence, garbage), a raw WebSocket server; both
 * over the wx runtime's SocketTask on loopback.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SocketOptions } from '../../src/adapter';
import { LiteSocket, engineUrl } from '../../adapters/shared/lite-socket';
import { socketTaskChannel } from '../../adapters/weapp/socket-task-channel';
import { createWxRuntime, type WxRuntime } from '../../testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

let http: HttpServer;
let io: Server;
let url: string;
let phone: WxRuntime;
const sockets: LiteSocket[] = [];
/** Tokens the server saw, in order; "bad" is refused by the middleware. */
const seen: string[] = [];

beforeAll(async () => {
  http = createServer();
  io = new Server(http, { pingInterval: 150, pingTimeout: 150, transports: ['websocket'] });
  io.use((socket, next) => {
    const token = String(socket.handshake.auth?.token);
    seen.push(token);
    if (token === 'bad') next(Object.assign(new Error('token rejected'), { data: { code: 40100, message: 'token rejected' } }));
    else next();
  });
  io.on('connection', (socket: Socket) => {
    socket.on('echo', (payload: unknown, ack?: (r: unknown) => void) => ack?.({ code: 0, data: payload }));
    socket.on('ask me', () => socket.emit('question', 'ping?', (answer: unknown) => socket.emit('answer', answer)));
    socket.on('kick me', () => socket.disconnect(true));
    socket.on('cut me', () => socket.conn.close());
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  phone = createWxRuntime();
});

afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});

afterAll(async () => {
  phone.destroy();
  io.close();
  await new Promise((r) => http.close(r));
});

function options(over: Partial<SocketOptions> & { token?: () => string } = {}): SocketOptions {
  const token = over.token ?? (() => 'good');
  return {
    auth: (cb) => cb({ token: token() }),
    reconnection: true,
    reconnectionAttempts: 5,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    timeout: 2000,
    transports: ['websocket'],
    autoConnect: false,
    ...over,
  };
}

/** A socket with a log of every event it and its manager report. */
function lite(target: string, opts: SocketOptions): { socket: LiteSocket; log: string[] } {
  const socket = new LiteSocket(target, opts, socketTaskChannel(phone.wx as never));
  sockets.push(socket);
  const log: string[] = [];
  socket.on('connect', () => log.push('connect'));
  socket.on('disconnect', (reason: string) => log.push(`disconnect:${reason}`));
  socket.on('connect_error', (err: Error & { data?: { code?: number } }) => log.push(`connect_error:${err.data?.code ?? err.message}`));
  for (const e of ['reconnect_attempt', 'reconnect', 'reconnect_error', 'reconnect_failed']) socket.io.on(e as 'reconnect', (n?: unknown) => log.push(typeof n === 'number' ? `${e}:${n}` : e));
  return { socket, log };
}

it('maps a server URL to the engine.io WebSocket endpoint', () => {
  expect(engineUrl('http://127.0.0.1:9998')).toBe('ws://127.0.0.1:9998/socket.io/?EIO=4&transport=websocket');
  expect(engineUrl('https://im.example.com/chat?region=sh')).toBe('wss://im.example.com/socket.io/?EIO=4&transport=websocket&region=sh');
  expect(() => engineUrl('ftp://x')).toThrow(/not an http/);
});

it('connects with the auth callback, and acks work both ways', async () => {
  const { socket, log } = lite(url, options());
  socket.connect();
  await until(() => socket.connected, 3000, 'connect');
  expect(log).toEqual(['connect']);
  const answer = await new Promise((r) => socket.emit('echo', { n: 1, text: '你好' }, r));
  expect(answer).toEqual({ code: 0, data: { n: 1, text: '你好' } });
  const reply = new Promise((r) => socket.on('answer', r));
  socket.on('question', (q: string, ack: (a: string) => void) => ack(`${q} pong`));
  socket.emit('ask me');
  await expect(reply).resolves.toBe('ping? pong');
});

it('answers engine pings: a connection outlives several ping intervals of the server', async () => {
  const { socket, log } = lite(url, options());
  socket.connect();
  await until(() => socket.connected);
  await sleep(1000); // pingInterval + pingTimeout is 300 ms: an unanswered ping would have closed it
  expect(socket.connected).toBe(true);
  expect(log).toEqual(['connect']);
});

it('a middleware refusal is a connect_error carrying the data, not retried until connect() is called', async () => {
  let token = 'bad';
  const { socket, log } = lite(url, options({ token: () => token }));
  const before = seen.length;
  socket.connect();
  await until(() => log.length > 0);
  await sleep(400);
  expect(log).toEqual(['connect_error:40100']);
  expect(seen.length - before).toBe(1);
  token = 'renewed';
  socket.connect();
  await until(() => socket.connected);
  expect(seen.slice(before)).toEqual(['bad', 'renewed']);
});

it('a server disconnect is reported as such and not retried', async () => {
  const { socket, log } = lite(url, options());
  socket.connect();
  await until(() => socket.connected);
  socket.emit('kick me');
  await until(() => !socket.connected);
  await sleep(400);
  expect(log).toEqual(['connect', 'disconnect:io server disconnect']);
});

it('a dropped transport reconnects with backoff and a fresh auth, and reports the attempts', async () => {
  let n = 0;
  const { socket, log } = lite(url, options({ token: () => `t${++n}` }));
  socket.connect();
  await until(() => socket.connected);
  socket.emit('cut me');
  await until(() => log.includes('reconnect:1') && socket.connected, 3000, 'reconnect');
  expect(log).toEqual(['connect', 'disconnect:transport close', 'reconnect_attempt:1', 'reconnect:1', 'connect']);
  expect(n).toBe(2);
  // The new session is fully usable.
  await expect(new Promise((r) => socket.emit('echo', 'again', r))).resolves.toEqual({ code: 0, data: 'again' });
});

it('disconnect() ends the session for good until connect(); pending acks are dropped', async () => {
  const { socket, log } = lite(url, options());
  socket.connect();
  await until(() => socket.connected);
  const onServer = [...io.sockets.sockets.values()].pop()!;
  const gone = new Promise<string>((r) => onServer.once('disconnect', r));
  socket.disconnect();
  expect(socket.connected).toBe(false);
  await expect(gone).resolves.toBe('client namespace disconnect');
  await sleep(300);
  expect(log).toEqual(['connect', 'disconnect:io client disconnect']);
  socket.emit('echo', 'while offline', () => log.push('acked while offline'));
  socket.connect();
  await until(() => socket.connected);
  expect(log).toEqual(['connect', 'disconnect:io client disconnect', 'connect']);
});

it('an unreachable server: one connect_error per attempt, then reconnect_failed, then quiet', async () => {
  const dead = createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const port = (dead.address() as AddressInfo).port;
  await new Promise((r) => dead.close(r));
  const { socket, log } = lite(`http://127.0.0.1:${port}`, options({ reconnectionAttempts: 3 }));
  socket.connect();
  await until(() => log.includes('reconnect_failed'), 5000, 'reconnect_failed');
  await sleep(300);
  expect(log.filter((e) => e.startsWith('connect_error'))).toHaveLength(4);
  expect(log.filter((e) => e.startsWith('reconnect_attempt'))).toEqual(['reconnect_attempt:1', 'reconnect_attempt:2', 'reconnect_attempt:3']);
  expect(log.filter((e) => e === 'reconnect_error')).toHaveLength(3);
  expect(log[log.length - 1]).toBe('reconnect_failed');
  expect(socket.connected).toBe(false);
});

describe('against a raw WebSocket server', () => {
  let wss: WebSocketServer;
  let rawUrl: string;
  let behaviour: (ws: WebSocket) => void;

  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    rawUrl = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on('connection', (ws) => behaviour(ws));
  });

  afterAll(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });

  /** The engine OPEN and namespace CONNECT a server sends, with short ping timings. */
  const handshake = (ws: WebSocket) => {
    ws.send('0{"sid":"s","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":100000}');
    ws.once('message', () => ws.send('40{"sid":"n"}'));
  };

  it('an attempt the server never answers fails with "timeout"', async () => {
    behaviour = () => undefined;
    const { socket, log } = lite(rawUrl, options({ reconnection: false, timeout: 200 }));
    socket.connect();
    await until(() => log.length > 0);
    expect(log).toEqual(['connect_error:timeout']);
  });

  it('a server that stops pinging is a "ping timeout", then a reconnect', async () => {
    behaviour = handshake;
    const { socket, log } = lite(rawUrl, options());
    socket.connect();
    await until(() => log.includes('disconnect:ping timeout'), 2000, 'ping timeout');
    await until(() => log.includes('reconnect:1'), 2000, 'reconnect');
    expect(log.slice(0, 4)).toEqual(['connect', 'disconnect:ping timeout', 'reconnect_attempt:1', 'reconnect:1']);
  });

  it('garbage packets are ignored; a binary frame (never sent by the server) drops the link', async () => {
    const sent: string[] = [];
    behaviour = (ws) => {
      handshake(ws);
      ws.on('message', (m) => sent.push(String(m)));
    };
    const { socket, log } = lite(rawUrl, options({ reconnection: false }));
    const heard: unknown[] = [];
    socket.on('news', (...a: unknown[]) => heard.push(a));
    socket.connect();
    await until(() => socket.connected);
    const ws = [...wss.clients].pop()!;
    for (const junk of ['', '9', '4', '42', '42{not json', '42["news"', '43x[1]', '4/other,["news",1]', '42{"a":1}', '42[1,2]']) ws.send(junk);
    ws.send('42["news","ok"]');
    await until(() => heard.length === 1);
    expect(heard).toEqual([['ok']]);
    expect(socket.connected).toBe(true);
    ws.send(Buffer.from([1, 2, 3]));
    await until(() => !socket.connected);
    expect(log).toEqual(['connect', 'disconnect:parse error']);
    expect(sent[0]).toBe('40{"token":"good"}');
  });
});
