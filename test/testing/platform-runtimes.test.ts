/**
 * The platform runtimes (createMiniProgramRuntime) against real loopback servers: each quirk the
 * runtime claims to reproduce, shown on the wire. node:http + ws only; the SDK is not involved.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createMiniProgramRuntime, installPlatform, MINI_PROGRAM_PLATFORMS, uninstallPlatform } from '../../testing';
import type { AlipayApi, AlipayRequestError, MiniProgramPlatform, MiniProgramRuntime, SwanApi, TtApi, Wx } from '../../testing';

const WAIT = 4000;
let server: http.Server;
let wss: WebSocketServer;
let base: string;
let wsBase: string;
const runtimes: Array<MiniProgramRuntime<unknown>> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (url.pathname === '/echo') {
        res.writeHead(200, { 'Content-Type': 'application/json', 'X-Custom': 'yes' });
        return res.end(JSON.stringify({ method: req.method, headers: req.headers, body, query: Object.fromEntries(url.searchParams) }));
      }
      if (url.pathname.startsWith('/status/')) {
        res.writeHead(Number(url.pathname.slice(8)), { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ code: 40400, message: 'as asked' }));
      }
      if (url.pathname === '/text') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return res.end('not json {');
      }
      if (url.pathname === '/slow') return void setTimeout(() => res.writeHead(200).end('{}'), 1200);
      if (url.pathname === '/upload') {
        const field = /name="([^"]+)"; filename=/.exec(body)?.[1];
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ field }));
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws, req) => {
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      if (!isBinary && text === 'binary') return ws.send(Buffer.from([1, 2, 3]), { binary: true });
      if (!isBinary && text === 'close') return ws.close(4001, 'bye');
      if (!isBinary && text === 'url') return ws.send(req.url ?? '');
      ws.send(isBinary ? `binary:${Buffer.from(data as Buffer).toString('hex')}` : `echo:${text}`);
    });
  });
  await new Promise<void>((r) => wss.once('listening', r));
  wsBase = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
});

afterEach(() => {
  for (const r of runtimes.splice(0)) r.destroy();
});

afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise((r) => wss.close(r));
  await new Promise((r) => server.close(r));
});

function phone<P extends MiniProgramPlatform>(platform: P, extra: Record<string, unknown> = {}) {
  const r = createMiniProgramRuntime({ platform, ...extra } as { platform: P });
  runtimes.push(r as MiniProgramRuntime<unknown>);
  return r;
}

function until<T>(register: (done: (v: T) => void) => void, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('alipay (my)', () => {
  it('connectSocket without multiple returns nothing: the global my.onSocket* API drives one socket, a second connect fails with error 3', async () => {
    const my = phone('alipay').api as AlipayApi;
    const opened = until<void>((done) => my.onSocketOpen(() => done()), 'open');
    const message = until<unknown>((done) => my.onSocketMessage(done), 'message');
    expect(my.connectSocket({ url: `${wsBase}/g`, data: { a: 1 } })).toBeUndefined();
    await opened;
    const second = await until<unknown>((done) => my.connectSocket({ url: `${wsBase}/g`, fail: done }), 'second connect');
    expect(second).toMatchObject({ error: 3 });
    expect(second).not.toHaveProperty('errMsg');
    my.sendSocketMessage({ data: 'url' });
    expect(await message).toEqual({ data: '/g?a=1', isBuffer: false });
    // Once closeSocket was called the global socket may be replaced; the old one's late close is not the new one's.
    const closes: unknown[] = [];
    my.onSocketClose((c) => closes.push(c));
    my.closeSocket();
    const reopened = until<void>((done) => my.onSocketOpen(() => done()), 'reopen');
    my.connectSocket({ url: `${wsBase}/g2` });
    await reopened;
    await sleep(50);
    expect(closes).toEqual([]);
    const closed = until<unknown>((done) => my.onSocketClose(done), 'close');
    my.closeSocket();
    await closed;
  });

  it('SocketTask (multiple: true): events wrap their data with socketTaskID, binary is ArrayBuffer or base64 (older clients), onClose carries no code, send takes text only', async () => {
    for (const binaryAsBase64 of [false, true]) {
      const my = phone('alipay', { alipay: { binaryAsBase64 } }).api as AlipayApi;
      const task = my.connectSocket({ url: `${wsBase}/t`, multiple: true })!;
      expect(task).toBeDefined();
      expect(task).not.toHaveProperty('readyState');
      const open = await until<any>((done) => task.onOpen(done), 'open');
      expect(open).toEqual({ data: { socketTaskID: expect.any(String) } });
      const messages: any[] = [];
      task.onMessage((m) => messages.push(m));
      task.send({ data: 'hi' });
      task.send({ data: Buffer.from([9, 8]).toString('base64'), isBuffer: true });
      task.send({ data: 'binary' });
      const refused = await until<any>((done) => task.send({ data: new ArrayBuffer(2) as never, fail: done }), 'ArrayBuffer refused');
      expect(refused).toMatchObject({ error: 2 });
      await until<void>((done) => { const t = setInterval(() => messages.length === 3 && (clearInterval(t), done()), 10); }, 'three messages');
      expect(messages[0]).toEqual({ data: { socketTaskID: open.data.socketTaskID, data: 'echo:hi', isBuffer: false } });
      expect(messages[1].data.data).toBe('binary:0908');
      const bin = messages[2].data;
      expect(bin.isBuffer).toBe(true);
      if (binaryAsBase64) expect(bin.data).toBe(Buffer.from([1, 2, 3]).toString('base64'));
      else expect(Buffer.from(bin.data as ArrayBuffer)).toEqual(Buffer.from([1, 2, 3]));
      const closed = until<any>((done) => task.onClose(done), 'close');
      task.send({ data: 'close' });
      expect(await closed).toEqual({ data: { socketTaskID: open.data.socketTaskID } });
    }
  });

  it('request: headers in, { data, status, headers } out; non-2xx fails with error 19 and the body; non-JSON with error 14; `header` is ignored unless the newer fields are on', async () => {
    const my = phone('alipay').api as AlipayApi;
    const ok = await until<any>((done) => my.request!({ url: `${base}/echo`, method: 'POST', headers: { 'X-A': '1' }, header: { 'X-B': '2' }, data: { x: 1 }, success: done, fail: done }), 'request');
    expect(ok).toMatchObject({ status: 200, headers: expect.objectContaining({ 'X-Custom': 'yes' }) });
    expect(ok).not.toHaveProperty('statusCode');
    expect(ok.data.headers['x-a']).toBe('1');
    expect(ok.data.headers['x-b']).toBeUndefined();
    expect(ok.data.headers['content-type']).toBe('application/json');
    expect(JSON.parse(ok.data.body)).toEqual({ x: 1 });
    const notFound = await until<AlipayRequestError>((done) => my.request!({ url: `${base}/status/404`, success: done as never, fail: done }), '404');
    expect(notFound).toMatchObject({ error: 19, errorMessage: 'http status error', status: 404 });
    expect(JSON.parse(notFound.data as string)).toEqual({ code: 40400, message: 'as asked' });
    const notJson = await until<AlipayRequestError>((done) => my.request!({ url: `${base}/text`, success: done as never, fail: done }), 'text');
    expect(notJson).toMatchObject({ error: 14, status: 200, data: 'not json {' });
    const text = await until<any>((done) => my.request!({ url: `${base}/text`, dataType: 'text', success: done, fail: done }), 'dataType text');
    expect(text).toMatchObject({ data: 'not json {', status: 200 });
    const newer = createMiniProgramRuntime({ platform: 'alipay', alipay: { wxRequestFields: true } });
    runtimes.push(newer as MiniProgramRuntime<unknown>);
    const both = await until<any>((done) => newer.api.request!({ url: `${base}/echo`, header: { 'X-B': '2' }, success: done, fail: done }), 'newer fields');
    expect(both).toMatchObject({ status: 200, statusCode: 200 });
    expect(both.data.headers['x-b']).toBe('2');
    // Without callbacks: a promise that also aborts.
    const promised = my.request!({ url: `${base}/echo` }) as Promise<unknown> & { abort(): void };
    await expect(promised).resolves.toMatchObject({ status: 200 });
    const aborted = my.request!({ url: `${base}/slow` }) as Promise<unknown> & { abort(): void };
    aborted.abort();
    await expect(aborted).rejects.toEqual({ error: 9, errorMessage: 'request:fail abort' });
    const offline = phone('alipay');
    offline.setNetwork(false);
    await expect(offline.api.request!({ url: `${base}/echo` })).rejects.toMatchObject({ error: 12 });
  });

  it('storage takes { key, data }; a missing key reads data: null (sync and async); 200 KB per key', async () => {
    const my = phone('alipay').api as AlipayApi;
    expect(my.setStorageSync({ key: 'k', data: { a: 1 } })).toEqual({ success: true });
    expect(my.getStorageSync({ key: 'k' })).toEqual({ data: { a: 1 } });
    expect(my.getStorageSync({ key: 'missing' })).toEqual({ data: null });
    await expect(my.getStorage({ key: 'missing' })).resolves.toEqual({ data: null });
    const big = my.setStorageSync({ key: 'big', data: 'x'.repeat(201 * 1024) });
    expect(big).toMatchObject({ success: false, error: expect.any(Number) });
    await expect(my.setStorage({ key: 'big', data: 'x'.repeat(201 * 1024) })).rejects.toMatchObject({ error: expect.any(Number) });
    expect(my.removeStorageSync({ key: 'k' })).toEqual({ success: true });
    expect(my.getStorageSync({ key: 'k' })).toEqual({ data: null });
  });

  it('uploadFile needs fileName and fileType; network types are upper case; off*() without a listener removes all', async () => {
    const r = phone('alipay');
    const my = r.api;
    const filePath = r.tempFile({ bytes: Buffer.from('hello'), name: 'a.txt' });
    const missing = await until<any>((done) => my.uploadFile({ url: `${base}/upload`, filePath, name: 'file', fileType: 'image', success: done, fail: done }), 'upload without fileName');
    expect(missing).toMatchObject({ error: 2 });
    const up = await until<any>((done) => my.uploadFile({ url: `${base}/upload`, filePath, fileName: 'file', fileType: 'image', success: done, fail: done }), 'upload');
    expect(up).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(up.data)).toEqual({ field: 'file' });
    const changes: unknown[] = [];
    my.onNetworkStatusChange((s) => changes.push(s));
    r.setNetwork(false);
    r.setNetwork(true, '4g');
    await sleep(30);
    expect(changes).toEqual([{ isConnected: false, networkType: 'NOTREACHABLE' }, { isConnected: true, networkType: '4G' }]);
    await expect(my.getNetworkType({})).resolves.toEqual({ networkAvailable: true, networkType: '4G' });
    my.onAppShow(() => undefined);
    my.onAppShow(() => undefined);
    expect(r.listenerCounts()).toMatchObject({ networkStatus: 1, appShow: 2 });
    my.offAppShow();
    my.offNetworkStatusChange();
    expect(r.listenerCounts().total).toBe(0);
  });
});

describe('dingtalk (dd)', () => {
  it('httpRequest only (form-urlencoded by default, GET and POST), one global socket, and both dd and my on install', async () => {
    const r = phone('dingtalk');
    const dd = r.api;
    expect(dd.request).toBeUndefined();
    const ok = await until<any>((done) => dd.httpRequest({ url: `${base}/echo`, method: 'POST', data: { a: 1 }, success: done, fail: done }), 'httpRequest');
    expect(ok.status).toBe(200);
    expect(ok.data.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(ok.data.body).toBe('a=1');
    await expect(dd.httpRequest({ url: `${base}/echo`, method: 'DELETE' })).rejects.toMatchObject({ error: 2 });
    expect(dd.connectSocket({ url: `${wsBase}/d`, multiple: true })).toBeUndefined();
    await until<void>((done) => dd.onSocketOpen(() => done()), 'open');
    expect(r.globals).toEqual(['dd', 'my']);
    const g = globalThis as Record<string, unknown>;
    installPlatform(r);
    try {
      expect(g.dd).toBe(dd);
      expect(g.my).toBe(dd);
    } finally {
      uninstallPlatform();
    }
    expect('dd' in g || 'my' in g).toBe(false);
  });
});

describe('douyin and feishu (tt)', () => {
  it('SocketTask: what is registered before connectSocket succeeds is lost, send fails; after success it works; onClose code is a string', async () => {
    for (const platform of ['douyin', 'feishu'] as const) {
      const tt = phone(platform).api as TtApi;
      const early: unknown[] = [];
      let task!: ReturnType<TtApi['connectSocket']>;
      const connected = until<void>((done) => {
        task = tt.connectSocket({ url: `${wsBase}/tt`, success: () => done() });
      }, 'success');
      task.onOpen((r) => early.push(r));
      const sendEarly = until<any>((done) => task.send({ data: 'x', fail: done }), 'early send');
      expect(await sendEarly).toMatchObject({ errMsg: expect.stringContaining('fail') });
      await connected;
      const closed = until<any>((done) => task.onClose(done), 'close');
      const message = until<any>((done) => task.onMessage(done), 'message');
      await until<void>((done) => { const t = setInterval(() => task.readyState === 1 && (clearInterval(t), done()), 5); }, 'open');
      task.send({ data: 'hi' });
      expect(await message).toMatchObject({ data: 'echo:hi', socketType: 'tradition' });
      task.send({ data: 'close' });
      expect(await closed).toMatchObject({ code: '4001', reason: 'bye' });
      expect(early).toEqual([]);
    }
    const tt = phone('douyin').api as TtApi;
    let refused!: ReturnType<TtApi['connectSocket']>;
    const failed = until<any>((done) => (refused = tt.connectSocket({ url: 42 as never, fail: done })), 'bad url');
    expect(await failed).toMatchObject({ errMsg: expect.stringContaining('parameter.url') });
    expect(refused.readyState).toBeUndefined();
  });

  it('request timeout works on current base libraries and is ignored on older ones; failures carry errNo; a missing storage key is a success with ""', async () => {
    const current = phone('douyin').api as TtApi;
    const timedOut = await until<any>((done) => current.request({ url: `${base}/slow`, timeout: 100, success: done, fail: done }), 'timeout');
    expect(timedOut).toMatchObject({ errMsg: 'request:fail timeout' });
    const older = phone('douyin', { tt: { requestTimeout: false } }).api as TtApi;
    const answered = await until<any>((done) => older.request({ url: `${base}/slow`, timeout: 100, success: done, fail: done }), 'no timeout');
    expect(answered).toMatchObject({ statusCode: 200 });
    const r = phone('douyin', { domains: { request: ['https://example.com'] } });
    const refused = await until<any>((done) => r.api.request({ url: `${base}/echo`, fail: done }), 'refused');
    expect(refused).toEqual({ errMsg: 'request:fail url not in domain list', errNo: 600002 });
    const missing = await until<any>((done) => current.getStorage({ key: 'nope', success: done, fail: done }), 'getStorage');
    expect(missing).toEqual({ errMsg: 'getStorage:ok', data: '' });
    expect(current.getStorageSync('nope')).toBe('');
  });
});

describe('baidu (swan)', () => {
  it('failures carry errCode; offAppShow()/offAppHide() take no argument and remove every listener; getStorage of a missing key succeeds with ""; 6 concurrent requests', async () => {
    const r = phone('baidu');
    const swan = r.api as SwanApi;
    const fail = await until<any>((done) => swan.request({ url: 'not a url', fail: done }), 'bad url');
    expect(fail).toMatchObject({ errCode: 202, errMsg: expect.stringContaining('request:fail') });
    r.setNetwork(false);
    const offline = await until<any>((done) => swan.request({ url: `${base}/echo`, fail: done }), 'offline');
    expect(offline).toMatchObject({ errCode: 1001 });
    r.setNetwork(true);
    const appListener = jest.fn();
    const sdkListener = jest.fn();
    swan.onAppShow(appListener);
    swan.onAppShow(sdkListener);
    swan.onAppHide(() => undefined);
    expect(r.listenerCounts()).toMatchObject({ appShow: 2, appHide: 1 });
    (swan.offAppShow as (fn?: unknown) => void)(sdkListener);
    expect(r.listenerCounts()).toMatchObject({ appShow: 0, appHide: 1 });
    swan.offAppHide();
    expect(r.listenerCounts().appHide).toBe(0);
    const missing = await until<any>((done) => swan.getStorage({ key: 'nope', success: done, fail: done }), 'getStorage');
    expect(missing).toEqual({ errMsg: 'getStorage:ok', data: '' });
    const results = await Promise.all(
      Array.from({ length: 7 }, () => until<any>((done) => swan.request({ url: `${base}/slow`, success: done, fail: done }), 'request')),
    );
    expect(results.filter((x) => 'errCode' in x)).toHaveLength(1);
    expect(typeof swan.offNetworkStatusChange).toBe('function');
    expect(phone('baidu', { swan: { offNetworkStatusChange: false } }).api.offNetworkStatusChange).toBeUndefined();
  });
});

describe('qq, kuaishou, jd (wx-shaped)', () => {
  it('their API objects are wx-shaped; QQ also installs as wx; limits are WeChat\'s', async () => {
    for (const platform of ['qq', 'kuaishou', 'jd', 'weapp'] as const) {
      const r = phone(platform);
      const api = r.api as Wx;
      const res = await until<any>((done) => api.request({ url: `${base}/echo`, success: done, fail: done }), `${platform} request`);
      expect(res).toMatchObject({ statusCode: 200, errMsg: 'request:ok' });
    }
    expect(phone('qq').globals).toEqual(['qq', 'wx']);
    expect(phone('kuaishou').globals).toEqual(['ks']);
    expect(phone('jd').globals).toEqual(['jd']);
    expect(MINI_PROGRAM_PLATFORMS.sort()).toEqual(['alipay', 'baidu', 'dingtalk', 'douyin', 'feishu', 'jd', 'kuaishou', 'qq', 'weapp']);
    expect(() => createMiniProgramRuntime({ platform: 'nope' as never })).toThrow(/unknown platform/);
  });
});
