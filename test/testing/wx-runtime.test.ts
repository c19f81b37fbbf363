/**
 * The WeChat `wx` runtime for Node (comind-im-client-sdk/testing) against real loopback servers:
 * node:http + ws for the raw APIs, socket.io 4 for weapp.socket.io.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { createWeappAdapter } from '../../adapters/weapp';
import { createWxRuntime, installWx, MAX_ITEM_BYTES, uninstallWx } from '../../testing';
import type { RequestSuccessResult, SocketCloseResult, SocketTask, WxError, WxRuntime } from '../../testing';

const ROOT = path.resolve(__dirname, '../..');
const WAIT = 4000;

// ---------------------------------------------------------------------------------------------
// Local servers

let server: http.Server;
let wss: WebSocketServer;
let base: string;
let wsBase: string;
let port: number;
const slow: http.ServerResponse[] = [];
const serverSockets = new Set<ServerSocket>();
let lastUpgradeHeaders: http.IncomingHttpHeaders = {};
let hangServer: net.Server;
let hangPort: number;
const hangSockets = new Set<net.Socket>();

function json(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string | string[]> = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...extra });
  res.end(JSON.stringify(body));
}

function releaseSlow(): void {
  for (const res of slow.splice(0)) if (!res.writableEnded && !res.destroyed) json(res, 200, { released: true });
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (url.pathname === '/echo') {
        return json(res, 200, { method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), search: url.search, headers: req.headers, body }, {
          'X-Custom-Header': 'Yes',
          'Set-Cookie': ['a=1; Path=/', 'b=2; HttpOnly'],
        });
      }
      if (url.pathname.startsWith('/status/')) return json(res, Number(url.pathname.slice(8)), { error: 'as asked' });
      if (url.pathname === '/text') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end('not json {');
      }
      if (url.pathname === '/bytes') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        return res.end(Buffer.from([1, 2, 3, 250]));
      }
      if (url.pathname === '/slow') {
        slow.push(res);
        return undefined;
      }
      return json(res, 404, { error: 'no route' });
    });
  });
  wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('headers', (headers) => headers.push('X-Handshake: hello'));
  wss.on('connection', (ws, req) => {
    lastUpgradeHeaders = req.headers;
    serverSockets.add(ws);
    ws.on('close', () => serverSockets.delete(ws));
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'close-me') return ws.close(4001, 'bye');
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  wsBase = `ws://127.0.0.1:${port}/ws`;

  // Accepts TCP and never answers: a handshake that cannot finish.
  hangServer = net.createServer((s) => {
    hangSockets.add(s);
    s.on('close', () => hangSockets.delete(s));
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => hangServer.listen(0, '127.0.0.1', resolve));
  hangPort = (hangServer.address() as AddressInfo).port;
});

const runtimes: WxRuntime[] = [];
function newRuntime(options?: Parameters<typeof createWxRuntime>[0]): WxRuntime {
  const rt = createWxRuntime(options);
  runtimes.push(rt);
  return rt;
}

afterEach(() => {
  for (const rt of runtimes.splice(0)) rt.destroy();
  releaseSlow();
});

afterAll(async () => {
  releaseSlow();
  for (const ws of serverSockets) ws.terminate();
  for (const s of hangSockets) s.destroy();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => hangServer.close(() => resolve()));
});

// ---------------------------------------------------------------------------------------------
// Helpers

/** Resolves with the first value `register` delivers, or rejects after `ms`. */
function next<T>(register: (cb: (v: T) => void) => void, what: string, ms = WAIT): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

async function waitFor(check: () => boolean, what: string, ms = WAIT): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function req<T = any>(rt: WxRuntime, options: Record<string, unknown>): Promise<{ ok: true; res: RequestSuccessResult<T> } | { ok: false; err: WxError }> {
  return next((cb) => {
    rt.wx.request({ ...(options as { url: string }), success: (res) => cb({ ok: true, res: res as RequestSuccessResult<T> }), fail: (err) => cb({ ok: false, err }) });
  }, `request ${String(options.url)}`);
}

async function openSocket(rt: WxRuntime, url = wsBase): Promise<SocketTask> {
  const task = rt.wx.connectSocket({ url });
  await next((cb) => task.onOpen(cb), 'socket open');
  return task;
}

// ---------------------------------------------------------------------------------------------

describe('wx.connectSocket / SocketTask', () => {
  test('opens, exchanges text and binary frames, and closes with the code it was given', async () => {
    const rt = newRuntime();
    const calls: string[] = [];
    const task = rt.wx.connectSocket({
      url: wsBase,
      header: { 'X-Token': 'abc', Referer: 'https://evil.example' },
      success: (res) => calls.push(res.errMsg),
      complete: () => calls.push('complete'),
    });
    expect(task.readyState).toBe(task.CONNECTING);
    expect([task.CONNECTING, task.OPEN, task.CLOSING, task.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(rt.openSockets()).toBe(1);
    const opened = await next<{ header: Record<string, string> }>((cb) => task.onOpen(cb), 'open');
    expect(task.readyState).toBe(task.OPEN);
    expect(opened.header['X-Handshake']).toBe('hello');
    expect(calls).toEqual(['connectSocket:ok', 'complete']);
    // The page's header reaches the server; Referer is WeChat's own, never the page's.
    expect(lastUpgradeHeaders['x-token']).toBe('abc');
    expect(lastUpgradeHeaders.referer).toMatch(/^https:\/\/servicewechat\.com\/wx\w+\/0\/page-frame\.html$/);

    const messages: Array<string | ArrayBuffer> = [];
    task.onMessage((m) => messages.push(m.data));
    const sent = await next<string>((cb) => task.send({ data: 'hi', success: (r) => cb(r.errMsg) }), 'send ok');
    expect(sent).toBe('sendSocketMessage:ok');
    task.send({ data: new Uint8Array([7, 8, 9]).buffer });
    await waitFor(() => messages.length === 2, 'two echoes');
    expect(messages[0]).toBe('hi');
    expect(messages[1]).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(messages[1] as ArrayBuffer)]).toEqual([7, 8, 9]);

    const closed = next<SocketCloseResult>((cb) => task.onClose(cb), 'close');
    const closeMsg = await next<string>((cb) => task.close({ code: 1000, reason: 'done', success: (r) => cb(r.errMsg) }), 'close ok');
    expect(closeMsg).toBe('closeSocket:ok');
    expect(task.readyState).toBe(task.CLOSING);
    expect(await closed).toEqual({ code: 1000, reason: 'done' });
    expect(task.readyState).toBe(task.CLOSED);
    expect(rt.openSockets()).toBe(0);
  });

  test('reports a server-initiated close with its code and reason', async () => {
    const rt = newRuntime();
    const task = await openSocket(rt);
    const closed = next<SocketCloseResult>((cb) => task.onClose(cb), 'close');
    task.send({ data: 'close-me' });
    expect(await closed).toEqual({ code: 4001, reason: 'bye' });
  });

  test('a refused connection errors, then closes with 1006', async () => {
    const rt = newRuntime();
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));

    const task = rt.wx.connectSocket({ url: `ws://127.0.0.1:${deadPort}/ws` });
    const order: string[] = [];
    const error = next<WxError>((cb) => task.onError((e) => (order.push('error'), cb(e))), 'error');
    const closed = next<SocketCloseResult>((cb) => task.onClose((c) => (order.push('close'), cb(c))), 'close');
    expect((await error).errMsg).toMatch(/ECONNREFUSED/);
    expect(await closed).toEqual({ code: 1006, reason: 'abnormal closure' });
    expect(order).toEqual(['error', 'close']);
    expect(rt.openSockets()).toBe(0);
  });

  test('a handshake that never finishes times out: error, then close 1006', async () => {
    const rt = newRuntime();
    const task = rt.wx.connectSocket({ url: `ws://127.0.0.1:${hangPort}/`, timeout: 150 });
    const error = next<WxError>((cb) => task.onError(cb), 'error');
    const closed = next<SocketCloseResult>((cb) => task.onClose(cb), 'close');
    expect((await error).errMsg).toBe('Timed out connecting to server.');
    expect((await closed).code).toBe(1006);
  });

  test('send before open and send of a non-WeChat type fail with WeChat messages', async () => {
    const rt = newRuntime();
    const task = rt.wx.connectSocket({ url: wsBase });
    const early = await next<WxError>((cb) => task.send({ data: 'x', fail: cb }), 'early send fail');
    expect(early.errMsg).toBe('SocketTask.send:fail SocketTask.readyState is not OPEN');
    await next((cb) => task.onOpen(cb), 'open');
    const wrong = await next<WxError>((cb) => task.send({ data: Buffer.from('x') as unknown as ArrayBuffer, fail: cb }), 'typed send fail');
    expect(wrong.errMsg).toBe('sendSocketMessage:fail parameter error: parameter.data should be String or ArrayBuffer instead of Object;');
    const badClose = await next<WxError>((cb) => task.close({ code: 1234, fail: cb }), 'bad close code');
    expect(badClose.errMsg).toMatch(/^closeSocket:fail /);
    expect(task.readyState).toBe(task.OPEN);
  });

  test('a missing or non-ws url fails the call and the task', async () => {
    const rt = newRuntime();
    const e1 = await next<WxError>((cb) => rt.wx.connectSocket({ url: undefined as unknown as string, fail: cb }), 'fail');
    expect(e1.errMsg).toBe('connectSocket:fail parameter error: parameter.url should be String instead of Undefined;');
    const task = rt.wx.connectSocket({ url: 'http://127.0.0.1/ws' });
    expect((await next<WxError>((cb) => task.onError(cb), 'error')).errMsg).toBe('invalid url "http://127.0.0.1/ws"');
  });

  test('at most 5 sockets: the 6th fails with "exceed max task count"; a closed one frees its slot', async () => {
    const rt = newRuntime();
    const tasks = await Promise.all([1, 2, 3, 4, 5].map(() => openSocket(rt)));
    expect(rt.openSockets()).toBe(5);

    const calls: string[] = [];
    const sixth = rt.wx.connectSocket({ url: wsBase, success: () => calls.push('success'), fail: (e) => calls.push(`fail ${e.errMsg} ${e.errno}`) });
    const sixthError = await next<WxError>((cb) => sixth.onError(cb), '6th error');
    expect(sixthError).toEqual({ errMsg: 'exceed max task count', errno: 600007 });
    expect(calls).toEqual(['fail connectSocket:fail exceed max task count 600007']);
    expect(sixth.readyState).toBe(sixth.CLOSED);
    expect(rt.openSockets()).toBe(5);

    // A second phone has its own five.
    const other = newRuntime();
    await openSocket(other);
    expect(other.openSockets()).toBe(1);

    const closed = next((cb) => tasks[0].onClose(cb), 'close');
    tasks[0].close();
    await closed;
    expect(rt.openSockets()).toBe(4);
    const again = await openSocket(rt);
    expect(again.readyState).toBe(again.OPEN);
    expect(rt.sockets().length).toBe(7);
  });

  test('limits.socketsPerHost emulates phones that allow two sockets per domain', async () => {
    const rt = newRuntime({ limits: { socketsPerHost: 2 } });
    await openSocket(rt);
    await openSocket(rt);
    const third = await next<WxError>((cb) => rt.wx.connectSocket({ url: wsBase, fail: cb }), 'third');
    expect(third.errMsg).toBe('connectSocket:fail exceed max task count');
  });

  test('the legacy global socket API acts on the latest task', async () => {
    const rt = newRuntime();
    const opened = next((cb) => rt.wx.onSocketOpen(cb), 'onSocketOpen');
    rt.wx.connectSocket({ url: wsBase });
    await opened;
    const echoed = next<{ data: string | ArrayBuffer }>((cb) => rt.wx.onSocketMessage(cb), 'onSocketMessage');
    rt.wx.sendSocketMessage({ data: 'legacy' });
    expect((await echoed).data).toBe('legacy');
    const closed = next<SocketCloseResult>((cb) => rt.wx.onSocketClose(cb), 'onSocketClose');
    rt.wx.closeSocket();
    expect((await closed).code).toBe(1000);
    const err = await next<WxError>((cb) => rt.wx.sendSocketMessage({ data: 'late', fail: cb }), 'late send');
    expect(err.errMsg).toBe('sendSocketMessage:fail WebSocket is not connected');
  });

  test('domains.socket emulates the console whitelist', async () => {
    const rt = newRuntime({ domains: { socket: ['wss://im.example.com'] } });
    const err = await next<WxError>((cb) => rt.wx.connectSocket({ url: wsBase, fail: cb }), 'fail');
    expect(err).toEqual({ errMsg: 'connectSocket:fail url not in domain list', errno: 600002 });
  });

  test('closeAllSockets closes every socket and resolves when they have all closed', async () => {
    const rt = newRuntime();
    const tasks = await Promise.all([1, 2, 3].map(() => openSocket(rt)));
    const codes: number[] = [];
    for (const t of tasks) t.onClose((c) => codes.push(c.code));
    await rt.closeAllSockets();
    expect(rt.openSockets()).toBe(0);
    await waitFor(() => codes.length === 3, 'close events');
    expect(codes).toEqual([1000, 1000, 1000]);
  });
});

describe('wx.request', () => {
  test('GET serialises object data into the query string; success carries data, statusCode, header, cookies', async () => {
    const rt = newRuntime();
    const r = await req(rt, { url: `${base}/echo?keep=1`, data: { q: 'a b&c', n: 2, o: { x: 1 } } });
    if (!r.ok) throw new Error(r.err.errMsg);
    expect(r.res.errMsg).toBe('request:ok');
    expect(r.res.statusCode).toBe(200);
    expect(r.res.data.method).toBe('GET');
    expect(r.res.data.query).toEqual({ keep: '1', q: 'a b&c', n: '2', o: '{"x":1}' });
    expect(r.res.data.search).toBe('?keep=1&q=a%20b%26c&n=2&o=%7B%22x%22%3A1%7D');
    expect(r.res.header['X-Custom-Header']).toBe('Yes');
    expect(r.res.cookies).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(r.res.data.headers['content-type']).toBe('application/json');
    expect(r.res.data.headers.referer).toMatch(/^https:\/\/servicewechat\.com\//);
    expect(r.res.data.headers['user-agent']).toMatch(/MicroMessenger/);
  });

  test('POST/PUT/DELETE send object data as JSON; form content-type sends a query string', async () => {
    const rt = newRuntime();
    for (const method of ['POST', 'PUT', 'DELETE', 'post'] as const) {
      const r = await req(rt, { url: `${base}/echo`, method, data: { text: '你好', list: [1, 2] } });
      if (!r.ok) throw new Error(r.err.errMsg);
      expect(r.res.data.method).toBe(method.toUpperCase());
      expect(JSON.parse(r.res.data.body)).toEqual({ text: '你好', list: [1, 2] });
      expect(r.res.data.headers['content-type']).toBe('application/json');
    }
    const form = await req(rt, { url: `${base}/echo`, method: 'POST', header: { 'Content-Type': 'application/x-www-form-urlencoded' }, data: { a: 'x y', b: 1 } });
    if (!form.ok) throw new Error(form.err.errMsg);
    expect(form.res.data.body).toBe('a=x%20y&b=1');
    const raw = await req(rt, { url: `${base}/echo`, method: 'POST', header: { 'content-type': 'text/plain' }, data: 'plain words' });
    if (!raw.ok) throw new Error(raw.err.errMsg);
    expect(raw.res.data.body).toBe('plain words');
  });

  test('4xx/5xx are successes with their statusCode (WeChat does not fail on HTTP status)', async () => {
    const rt = newRuntime();
    for (const code of [400, 404, 500, 503]) {
      const r = await req(rt, { url: `${base}/status/${code}` });
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.res.statusCode).toBe(code);
        expect(r.res.errMsg).toBe('request:ok');
        expect(r.res.data).toEqual({ error: 'as asked' });
      }
    }
  });

  test("dataType 'json' falls back to the string; other dataTypes and responseType arraybuffer skip parsing", async () => {
    const rt = newRuntime();
    const text = await req(rt, { url: `${base}/text` });
    expect(text.ok && text.res.data).toBe('not json {');
    const unparsed = await req(rt, { url: `${base}/status/200`, dataType: 'text' });
    expect(unparsed.ok && unparsed.res.data).toBe('{"error":"as asked"}');
    const bytes = await req<ArrayBuffer>(rt, { url: `${base}/bytes`, responseType: 'arraybuffer' });
    if (!bytes.ok) throw new Error(bytes.err.errMsg);
    expect(bytes.res.data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(bytes.res.data)]).toEqual([1, 2, 3, 250]);
  });

  test('timeout fails with "request:fail timeout" and still calls complete', async () => {
    const rt = newRuntime();
    const seen: string[] = [];
    const err = await next<WxError>((cb) => {
      rt.wx.request({ url: `${base}/slow`, timeout: 100, fail: (e) => seen.push(e.errMsg), complete: (r) => cb(r as WxError) });
    }, 'complete');
    expect(err.errMsg).toBe('request:fail timeout');
    expect(seen).toEqual(['request:fail timeout']);
    expect(rt.pendingRequests()).toBe(0);
  });

  test('abort() fails with "request:fail abort" and returns no promise', async () => {
    const rt = newRuntime();
    let task: ReturnType<typeof rt.wx.request> | undefined;
    const err = next<WxError>((cb) => {
      task = rt.wx.request({ url: `${base}/slow`, fail: cb });
    }, 'fail');
    expect(typeof task?.abort).toBe('function');
    expect(typeof (task as unknown as Promise<unknown>).then).toBe('undefined');
    await waitFor(() => slow.length === 1, 'request at server');
    task!.abort();
    expect((await err).errMsg).toBe('request:fail abort');
  });

  test('onHeadersReceived sees the response headers before success', async () => {
    const rt = newRuntime();
    const order: string[] = [];
    await next((cb) => {
      const task = rt.wx.request({ url: `${base}/echo`, success: () => (order.push('success'), cb(undefined)) });
      task.onHeadersReceived((h) => order.push(`headers ${h.header['X-Custom-Header']}`));
    }, 'success');
    expect(order).toEqual(['headers Yes', 'success']);
  });

  test('at most 10 concurrent requests: the 11th fails with "exceed max task count"', async () => {
    const rt = newRuntime();
    const results: Array<Promise<Awaited<ReturnType<typeof req>>>> = [];
    for (let i = 0; i < 10; i++) results.push(req(rt, { url: `${base}/slow?i=${i}` }));
    expect(rt.pendingRequests()).toBe(10);
    const eleventh = await req(rt, { url: `${base}/echo` });
    expect(eleventh).toEqual({ ok: false, err: { errMsg: 'request:fail exceed max task count', errno: 600007 } });
    await waitFor(() => slow.length === 10, 'ten requests at the server');
    releaseSlow();
    const settled = await Promise.all(results);
    expect(settled.every((r) => r.ok && r.res.statusCode === 200)).toBe(true);
    expect(rt.pendingRequests()).toBe(0);
    expect((await req(rt, { url: `${base}/echo` })).ok).toBe(true);
  });

  test("limits.requestOverflow 'queue' makes the 11th wait for a free slot instead", async () => {
    const rt = newRuntime({ limits: { requestOverflow: 'queue' } });
    const results = [];
    for (let i = 0; i < 10; i++) results.push(req(rt, { url: `${base}/slow?i=${i}` }));
    const eleventh = req(rt, { url: `${base}/echo` });
    await waitFor(() => slow.length === 10, 'ten at the server');
    expect(rt.pendingRequests()).toBe(10);
    releaseSlow();
    expect((await eleventh).ok).toBe(true);
    await Promise.all(results);
  });

  test('a refused connection fails like the Chromium stack behind WeChat reports it', async () => {
    const rt = newRuntime();
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const r = await req(rt, { url: `http://127.0.0.1:${deadPort}/` });
    expect(r).toEqual({ ok: false, err: { errMsg: 'request:fail net::ERR_CONNECTION_REFUSED' } });
  });

  test('argument errors and the domain whitelist fail with WeChat wording', async () => {
    const rt = newRuntime({ domains: { request: ['https://api.example.com'] } });
    expect(await req(rt, { url: 42 })).toEqual({ ok: false, err: { errMsg: 'request:fail parameter error: parameter.url should be String instead of Number;' } });
    expect(await req(rt, { url: `${base}/echo` })).toEqual({ ok: false, err: { errMsg: 'request:fail url not in domain list', errno: 600002 } });
    const open = newRuntime();
    expect(await req(open, { url: `${base}/echo`, method: 'FETCH' })).toEqual({ ok: false, err: { errMsg: 'request:fail method is invalid' } });
    expect(await req(open, { url: 'ftp://127.0.0.1/' })).toEqual({ ok: false, err: { errMsg: 'request:fail request protocol must be http or https' } });
  });
});

describe('storage', () => {
  test('sync API stores copies; a missing key reads as ""; Date survives', () => {
    const rt = newRuntime();
    const value = { list: [1, 2], nested: { a: 'x' }, drop: undefined, when: new Date(0) };
    rt.wx.setStorageSync('obj', value);
    value.list.push(3);
    const read = rt.wx.getStorageSync('obj');
    expect(read).toEqual({ list: [1, 2], nested: { a: 'x' }, when: '1970-01-01T00:00:00.000Z' });
    read.list.push(99);
    expect(rt.wx.getStorageSync('obj').list).toEqual([1, 2]);
    rt.wx.setStorageSync('date', new Date(5));
    expect(rt.wx.getStorageSync('date')).toEqual(new Date(5));
    rt.wx.setStorageSync('n', 0);
    expect(rt.wx.getStorageSync('n')).toBe(0);
    expect(rt.wx.getStorageSync('missing')).toBe('');
    expect(rt.wx.getStorageInfoSync().keys.sort()).toEqual(['date', 'n', 'obj']);
    rt.wx.removeStorageSync('n');
    expect(rt.wx.getStorageSync('n')).toBe('');
    rt.wx.clearStorageSync();
    expect(rt.wx.getStorageInfoSync()).toEqual({ keys: [], currentSize: 0, limitSize: 10240 });
    expect(() => rt.wx.setStorageSync(1 as unknown as string, 'x')).toThrow('setStorageSync:fail parameter error: parameter.key should be String instead of Number;');
  });

  test('async API: callbacks, promises, and "getStorage:fail data not found"', async () => {
    const rt = newRuntime();
    const setMsg = await next<string>((cb) => rt.wx.setStorage({ key: 'k', data: { v: 1 }, success: (r) => cb(r.errMsg) }), 'set');
    expect(setMsg).toBe('setStorage:ok');
    const got = await next<{ data: unknown; errMsg: string }>((cb) => rt.wx.getStorage({ key: 'k', success: cb }), 'get');
    expect(got).toEqual({ errMsg: 'getStorage:ok', data: { v: 1 } });
    const missing = await next<WxError>((cb) => rt.wx.getStorage({ key: 'nope', fail: cb }), 'missing');
    expect(missing.errMsg).toBe('getStorage:fail data not found');

    // Without callbacks these APIs return promises (base library 2.10.2+).
    await expect(rt.wx.setStorage({ key: 'p', data: 'v' })).resolves.toEqual({ errMsg: 'setStorage:ok' });
    await expect(rt.wx.getStorage({ key: 'p' })).resolves.toEqual({ errMsg: 'getStorage:ok', data: 'v' });
    await expect(rt.wx.getStorage({ key: 'nope' })).rejects.toEqual({ errMsg: 'getStorage:fail data not found' });
    await expect(rt.wx.removeStorage({ key: 'p' })).resolves.toEqual({ errMsg: 'removeStorage:ok' });
    await expect(rt.wx.getStorageInfo()).resolves.toMatchObject({ errMsg: 'getStorageInfo:ok', keys: ['k'] });
    await expect(rt.wx.clearStorage()).resolves.toEqual({ errMsg: 'clearStorage:ok' });
    expect(rt.wx.getStorageSync('k')).toBe('');
  });

  test('1 MB per key and 10 MB in total, with WeChat errors', async () => {
    const rt = newRuntime();
    expect(() => rt.wx.setStorageSync('big', 'x'.repeat(MAX_ITEM_BYTES))).toThrow('setStorageSync:fail exceed storage item max length');
    const tooBig = await next<WxError>((cb) => rt.wx.setStorage({ key: 'big', data: 'x'.repeat(MAX_ITEM_BYTES), fail: cb }), 'fail');
    expect(tooBig.errMsg).toBe('setStorage:fail exceed storage item max length');

    const chunk = 'y'.repeat(MAX_ITEM_BYTES - 100);
    for (let i = 0; i < 10; i++) rt.wx.setStorageSync(`c${i}`, chunk);
    expect(rt.wx.getStorageInfoSync().currentSize).toBeGreaterThan(10000);
    expect(() => rt.wx.setStorageSync('c10', chunk)).toThrow('setStorageSync:fail exceed storage max size 10Mb');
    // Overwriting a key counts its old size as freed.
    rt.wx.setStorageSync('c0', chunk);
    rt.wx.removeStorageSync('c1');
    rt.wx.setStorageSync('c10', chunk);
    expect(rt.wx.getStorageInfoSync().keys.length).toBe(10);
  });

  test('each runtime is a separate device; exportStorage() seeds a relaunch', () => {
    const a = newRuntime();
    const b = newRuntime();
    a.wx.setStorageSync('token', 'A');
    expect(b.wx.getStorageSync('token')).toBe('');
    b.wx.setStorageSync('token', 'B');
    expect(a.wx.getStorageSync('token')).toBe('A');
    const relaunched = newRuntime({ storage: a.exportStorage() });
    expect(relaunched.wx.getStorageSync('token')).toBe('A');
  });
});

describe('network status', () => {
  test('going offline cuts sockets (error, then close 1006), fails requests, and blocks new ones', async () => {
    const rt = newRuntime();
    const statuses: unknown[] = [];
    rt.wx.onNetworkStatusChange((s) => statuses.push(s));
    const task = await openSocket(rt);
    await waitFor(() => serverSockets.size >= 1, 'server side socket');
    const serverCountBefore = serverSockets.size;
    const pending = req(rt, { url: `${base}/slow` });
    await waitFor(() => slow.length === 1, 'request at server');

    const order: string[] = [];
    const error = next<WxError>((cb) => task.onError((e) => (order.push('error'), cb(e))), 'error');
    const closed = next<SocketCloseResult>((cb) => task.onClose((c) => (order.push('close'), cb(c))), 'close');
    rt.setNetwork(false);
    expect(task.readyState).toBe(task.CLOSED);
    expect(rt.openSockets()).toBe(0);
    expect((await error).errMsg).toBe('network is down');
    expect(await closed).toEqual({ code: 1006, reason: 'abnormal closure' });
    expect(order).toEqual(['error', 'close']);
    expect(await pending).toEqual({ ok: false, err: { errMsg: 'request:fail network is down' } });
    await waitFor(() => serverSockets.size === serverCountBefore - 1, 'server to see the drop');
    await waitFor(() => statuses.length === 1, 'status event');
    expect(statuses[0]).toEqual({ isConnected: false, networkType: 'none' });
    expect(rt.network).toEqual({ isConnected: false, networkType: 'none' });

    expect(await req(rt, { url: `${base}/echo` })).toEqual({ ok: false, err: { errMsg: 'request:fail network is down' } });
    const refused = await next<WxError>((cb) => rt.wx.connectSocket({ url: wsBase, fail: cb }), 'connect fail');
    expect(refused.errMsg).toBe('connectSocket:fail network is down');
    await expect(rt.wx.getNetworkType()).resolves.toMatchObject({ errMsg: 'getNetworkType:ok', networkType: 'none' });

    rt.setNetwork(true, '4g');
    await waitFor(() => statuses.length === 2, 'online event');
    expect(statuses[1]).toEqual({ isConnected: true, networkType: '4g' });
    expect((await req(rt, { url: `${base}/echo` })).ok).toBe(true);
    await openSocket(rt);
    const type = await next<{ networkType: string }>((cb) => rt.wx.getNetworkType({ success: cb }), 'type');
    expect(type.networkType).toBe('4g');
  });

  test('offNetworkStatusChange removes one listener, or all without an argument; no event without a change', async () => {
    const rt = newRuntime();
    const a: unknown[] = [];
    const b: unknown[] = [];
    const fa = (s: unknown) => a.push(s);
    const fb = (s: unknown) => b.push(s);
    rt.wx.onNetworkStatusChange(fa);
    rt.wx.onNetworkStatusChange(fb);
    rt.wx.offNetworkStatusChange(fa);
    rt.setNetwork(true); // already online over wifi: nothing changes
    rt.setNetwork(false);
    await waitFor(() => b.length === 1, 'b');
    expect(a).toEqual([]);
    rt.wx.offNetworkStatusChange();
    rt.setNetwork(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(b.length).toBe(1);
  });
});

describe('app lifecycle', () => {
  test('hide() and show() fire onAppHide / onAppShow; off removes listeners', async () => {
    const rt = newRuntime({ launchOptions: { path: 'pages/chat/chat', scene: 1007 } });
    const events: unknown[] = [];
    const onShow = (o: unknown) => events.push(['show', o]);
    rt.wx.onAppHide(() => events.push('hide'));
    rt.wx.onAppShow(onShow);
    rt.hide();
    expect(rt.appState).toBe('background');
    await waitFor(() => events.length === 1, 'hide');
    rt.show({ query: { from: 'notice' } });
    await waitFor(() => events.length === 2, 'show');
    expect(events[1]).toEqual(['show', expect.objectContaining({ path: 'pages/chat/chat', scene: 1007, query: { from: 'notice' } })]);
    expect(rt.wx.getEnterOptionsSync().query).toEqual({ from: 'notice' });
    expect(rt.wx.getLaunchOptionsSync().query).toEqual({});
    rt.wx.offAppShow(onShow);
    rt.wx.offAppHide();
    rt.hide();
    rt.show();
    await new Promise((r) => setTimeout(r, 20));
    expect(events.length).toBe(2);
  });

  test('hide({ cutNetworkAfterMs }) cuts sockets and requests like the platform does, until show()', async () => {
    const rt = newRuntime();
    const task = await openSocket(rt);
    const pending = req(rt, { url: `${base}/slow` });
    await waitFor(() => slow.length === 1, 'request at server');
    const error = next<WxError>((cb) => task.onError(cb), 'error');
    const closed = next<SocketCloseResult>((cb) => task.onClose(cb), 'close');
    rt.hide({ cutNetworkAfterMs: 50 });
    expect(rt.openSockets()).toBe(1);
    expect(await error).toEqual({ errMsg: 'interrupted', errno: 600003 });
    expect((await closed).code).toBe(1006);
    expect(await pending).toEqual({ ok: false, err: { errMsg: 'request:fail interrupted', errno: 600003 } });
    expect(await req(rt, { url: `${base}/echo` })).toEqual({ ok: false, err: { errMsg: 'request:fail interrupted', errno: 600003 } });
    rt.show();
    expect((await req(rt, { url: `${base}/echo` })).ok).toBe(true);
  });

  test('showing again before the cut cancels it', async () => {
    const rt = newRuntime();
    const task = await openSocket(rt);
    rt.hide({ cutNetworkAfterMs: 40 });
    rt.show();
    await new Promise((r) => setTimeout(r, 80));
    expect(task.readyState).toBe(task.OPEN);
  });
});

describe('basics and globals', () => {
  test('system info, account info, UI no-ops, nextTick', async () => {
    const rt = newRuntime({ appId: 'wxabc', systemInfo: { platform: 'android' }, modalResponse: () => ({ confirm: false }) });
    const info = rt.wx.getSystemInfoSync();
    expect(info.platform).toBe('android');
    expect(info.windowWidth).toBeGreaterThan(0);
    expect(typeof info.SDKVersion).toBe('string');
    expect(rt.wx.getAccountInfoSync().miniProgram).toEqual({ appId: 'wxabc', envVersion: 'develop', version: '' });
    await expect(rt.wx.showToast({ title: 'sent' })).resolves.toEqual({ errMsg: 'showToast:ok' });
    const modal = await next<{ confirm: boolean; cancel: boolean }>((cb) => rt.wx.showModal({ title: 'Delete?', success: cb }), 'modal');
    expect(modal).toMatchObject({ confirm: false, cancel: true, errMsg: 'showModal:ok' });
    rt.wx.showLoading({ title: 'loading' });
    rt.wx.hideLoading();
    expect(rt.uiCalls.map((c) => c.api)).toEqual(['showToast', 'showModal', 'showLoading', 'hideLoading']);
    expect(rt.uiCalls[0].options).toEqual({ title: 'sent' });
    let ticked = false;
    rt.wx.nextTick(() => (ticked = true));
    expect(ticked).toBe(false);
    await waitFor(() => ticked, 'nextTick');
  });

  test('callbacks are never called synchronously, and a throwing callback goes to onCallbackError', async () => {
    const errors: Array<[unknown, string]> = [];
    const rt = newRuntime({ onCallbackError: (e, api) => errors.push([e, api]) });
    let called = false;
    rt.wx.getNetworkType({
      success: () => {
        called = true;
        throw new Error('boom');
      },
    });
    expect(called).toBe(false);
    await waitFor(() => errors.length === 1, 'reported error');
    expect((errors[0][0] as Error).message).toBe('boom');
    expect(errors[0][1]).toBe('getNetworkType');
  });

  test('installWx / uninstallWx set and restore globalThis.wx and a window that reads undefined', () => {
    const g = globalThis as Record<string, unknown>;
    expect('wx' in g).toBe(false);
    expect('window' in g).toBe(false);
    const a = newRuntime();
    const b = newRuntime();
    installWx(a);
    expect(g.wx).toBe(a.wx);
    expect('window' in g).toBe(true);
    expect(typeof g.window).toBe('undefined');
    installWx(b);
    expect(g.wx).toBe(b.wx);
    uninstallWx();
    expect(g.wx).toBe(a.wx);
    uninstallWx();
    expect('wx' in g).toBe(false);
    expect('window' in g).toBe(false);
    installWx(a, { defineWindow: false });
    expect('window' in g).toBe(false);
    uninstallWx();
  });
});

describe('destroy', () => {
  test('terminates sockets and requests without callbacks; the runtime goes quiet', async () => {
    const rt = newRuntime();
    const task = await openSocket(rt);
    const seen: string[] = [];
    task.onClose(() => seen.push('close'));
    task.onError(() => seen.push('error'));
    const before = serverSockets.size;
    rt.wx.request({ url: `${base}/slow`, complete: () => seen.push('request') });
    await waitFor(() => slow.length === 1, 'request at server');
    rt.hide({ cutNetworkAfterMs: 60_000 });
    rt.destroy();
    expect(rt.destroyed).toBe(true);
    expect(rt.openSockets()).toBe(0);
    expect(rt.pendingRequests()).toBe(0);
    expect(task.readyState).toBe(task.CLOSED);
    await waitFor(() => serverSockets.size === before - 1, 'server to see the socket go');
    await new Promise((r) => setTimeout(r, 30));
    expect(seen).toEqual([]);
  });

  test('after destroy() nothing of the runtime keeps a Node process alive', async () => {
    // The real check: a separate Node process that uses a runtime, destroys it and must then exit
    // on its own. Bundled with esbuild so the child needs no TypeScript loader.
    const dir = mkdtempSync(path.join(tmpdir(), 'wx-runtime-'));
    try {
      const { buildSync } = require('esbuild') as typeof import('esbuild');
      const bundle = path.join(dir, 'testing.cjs');
      buildSync({ entryPoints: [path.join(ROOT, 'testing/index.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node18', external: ['ws'], outfile: bundle, logLevel: 'error' });
      const script = path.join(dir, 'child.cjs');
      writeFileSync(
        script,
        `
const { createWxRuntime } = require(${JSON.stringify(bundle)});
const rt = createWxRuntime();
const fail = (what) => (e) => { console.error(what, e && e.errMsg); process.exitCode = 3; };
const task = rt.wx.connectSocket({ url: process.env.WS_URL, fail: fail('connect') });
task.onError(fail('socket'));
task.onOpen(() => {
  rt.wx.request({ url: process.env.SLOW_URL });
  rt.wx.request({ url: process.env.ECHO_URL, success: () => {
    rt.wx.setStorageSync('k', { v: 1 });
    rt.wx.nextTick(() => {});
    rt.hide({ cutNetworkAfterMs: 60000 });
    rt.wx.connectSocket({ url: process.env.HANG_URL, timeout: 60000 });
    setTimeout(() => { rt.destroy(); console.log('destroyed at', Date.now()); }, 50);
  }, fail: fail('request') });
});
`,
      );
      const started = Date.now();
      const child = spawn(process.execPath, [script], {
        env: {
          ...process.env,
          NODE_PATH: path.join(ROOT, 'node_modules'),
          WS_URL: wsBase,
          SLOW_URL: `${base}/slow`,
          ECHO_URL: `${base}/echo`,
          HANG_URL: `ws://127.0.0.1:${hangPort}/`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`child still alive after destroy():\n${out}`));
        }, 8000);
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(out).toMatch(/destroyed at (\d+)/);
      expect(code).toBe(0);
      const destroyedAt = Number(/destroyed at (\d+)/.exec(out)![1]);
      expect(destroyedAt).toBeGreaterThanOrEqual(started);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the shipped mini-program build', () => {
  const built = path.join(ROOT, 'miniprogram_dist/index.js');
  // miniprogram_dist is build output (npm test builds before jest); without it there is nothing to load.
  (existsSync(built) ? test : test.skip)('loads under installWx and detects the weapp adapter', () => {
    const rt = newRuntime();
    installWx(rt);
    try {
      const mod = require(built) as { detectAdapter: () => { name: string; destroy?: () => void } };
      const adapter = mod.detectAdapter();
      expect(adapter.name).toBe('weapp');
      adapter.destroy?.();
    } finally {
      uninstallWx();
    }
  });
});

describe('socket.io clients through the runtime', () => {
  let ioHttp: http.Server;
  let io: import('socket.io').Server;
  let ioUrl: string;

  beforeAll(async () => {
    const { Server } = require('socket.io') as typeof import('socket.io');
    ioHttp = http.createServer();
    io = new Server(ioHttp, { allowEIO3: true });
    io.on('connection', (socket) => {
      socket.emit('welcome', { id: socket.id, token: (socket.handshake.auth as { token?: string }).token });
      socket.on('hello', (msg: unknown, ack: (r: unknown) => void) => ack({ echo: msg, from: 'server' }));
    });
    await new Promise<void>((r) => ioHttp.listen(0, '127.0.0.1', r));
    ioUrl = `http://127.0.0.1:${(ioHttp.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    io.disconnectSockets(true);
    await new Promise<void>((r) => io.close(() => r()));
  });

  test('weapp.socket.io 3 connects to a socket.io 4 server and exchanges an event with ack', async () => {
    const rt = newRuntime();
    installWx(rt);
    try {
      const weappIo = require('weapp.socket.io') as (url: string, opts: Record<string, unknown>) => any;
      const client = weappIo(ioUrl, { transports: ['websocket'], reconnection: false, forceNew: true });
      const welcome = await next<{ id: string }>((cb) => client.once('welcome', cb), 'welcome');
      expect(typeof welcome.id).toBe('string');
      expect(rt.openSockets()).toBe(1);
      const ack = await next((cb) => client.emit('hello', { text: '你好' }, cb), 'ack');
      expect(ack).toEqual({ echo: { text: '你好' }, from: 'server' });
      client.disconnect();
      await waitFor(() => rt.openSockets() === 0, 'socket closed');
    } finally {
      uninstallWx();
    }
  });

  test("the SDK's weapp adapter runs on the runtime: socket with ack, HTTP, storage, offline/online events", async () => {
    const rt = newRuntime();
    const adapter = createWeappAdapter({ wx: rt.wx });
    const socket = adapter.createSocket(ioUrl, {
      auth: (cb) => cb({ token: 't-1' }),
      query: {},
      reconnection: false,
      reconnectionAttempts: 0,
      reconnectionDelay: 100,
      reconnectionDelayMax: 100,
      timeout: 3000,
      transports: ['websocket'],
      autoConnect: false,
    } as Parameters<typeof adapter.createSocket>[1]);
    const welcome = next<{ token: string }>((cb) => socket.on('welcome', cb as never), 'welcome');
    socket.connect();
    expect((await welcome).token).toBe('t-1');
    expect(rt.openSockets()).toBe(1);
    expect(await next((cb) => socket.emit('hello', 'hi', cb), 'ack')).toEqual({ echo: 'hi', from: 'server' });

    const res = await adapter.request({ method: 'POST', url: `${base}/echo`, headers: {}, body: { a: 1 }, timeout: 3000 });
    expect(res.status).toBe(200);
    expect(JSON.parse((res.data as { body: string }).body)).toEqual({ a: 1 });
    const notFound = await adapter.request({ method: 'GET', url: `${base}/nowhere`, headers: {}, timeout: 3000 });
    expect(notFound.status).toBe(404);

    await adapter.storage!.setItem('k', 'v');
    expect(await adapter.storage!.getItem('k')).toBe('v');
    expect(await adapter.storage!.getItem('missing')).toBeNull();

    const online: boolean[] = [];
    const off = adapter.onNetworkChange!((isOnline) => online.push(isOnline));
    const disconnected = next((cb) => socket.on('disconnect', cb as never), 'disconnect');
    rt.setNetwork(false);
    await disconnected;
    rt.setNetwork(true);
    await waitFor(() => online.length === 2, 'network events');
    expect(online).toEqual([false, true]);
    off();
    socket.disconnect();
    adapter.destroy?.();
  });
});
