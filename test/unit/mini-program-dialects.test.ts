/**
 * The platform dialects of the mini-program adapter (adapters/shared/dialect.ts), each shown on a
 * small stand-in of the platform API where a runtime cannot show it directly (what exactly is
 * passed to the platform, what it must never be asked): Alipay-shaped HTTP, sockets and uploads,
 * DingTalk's httpRequest and app-wide socket, Douyin's late SocketTask, Baidu's listener-less off*,
 * the timer behind every request, and uni-app/Taro taking the socket and hooks from the native `my`.
 * The same behaviours against the real server run in test/sandbox/platforms.test.ts and the
 * per-platform contract suites.
 */
import { createMiniProgramAdapter } from '../../adapters/platforms';
import { createUniappAdapter } from '../../adapters/uniapp';
import { createTaroAdapter } from '../../adapters/taro';
import { socketTaskChannel } from '../../adapters/weapp/socket-task-channel';
import type { HttpRequest } from '../../src/adapter';

type Opts = Record<string, any>;
const GET: HttpRequest = { method: 'GET', url: 'https://im.example.com/api/users/x', headers: { accept: 'application/json' }, timeout: 1000 };
const POST: HttpRequest = { method: 'POST', url: 'https://im.example.com/api/groups', headers: { 'content-type': 'application/json' }, body: { name: 'g' }, timeout: 1000 };

/** A platform object whose calls are recorded and answered by `answer` (or never). */
function fakeApi(answer?: (name: string, opts: Opts) => unknown) {
  const calls: Array<[string, Opts]> = [];
  const fn = (name: string) => (opts: Opts) => {
    calls.push([name, opts]);
    return answer?.(name, opts);
  };
  const api: Opts = {
    request: fn('request'),
    connectSocket: fn('connectSocket'),
    getStorage: fn('getStorage'),
    setStorage: fn('setStorage'),
    removeStorage: fn('removeStorage'),
    uploadFile: fn('uploadFile'),
  };
  return { api, calls };
}

describe('Alipay-shaped HTTP', () => {
  it('sends headers, a string body and dataType text; an HTTP error status in fail (error 19) is a response', async () => {
    const { api, calls } = fakeApi((_, o) =>
      o.fail({ error: 19, errorMessage: 'http status error', status: 404, headers: { 'Content-Type': 'application/json' }, data: '{"code":40400,"message":"no such user"}' }),
    );
    const adapter = createMiniProgramAdapter({ platform: 'alipay', api: api as never });
    await expect(adapter.request(GET)).resolves.toEqual({ status: 404, headers: { 'content-type': 'application/json' }, data: { code: 40400, message: 'no such user' } });
    await adapter.request(POST);
    const [, sent] = calls[1]!;
    expect(sent).toMatchObject({ headers: POST.headers, dataType: 'text', data: '{"name":"g"}', method: 'POST', timeout: 1000 });
    expect(sent.header).toBeUndefined();
  });

  it('reads status/headers of a success, and parses a text body', async () => {
    const { api } = fakeApi((_, o) => o.success({ status: 200, headers: { 'X-A': '1' }, data: '{"code":0,"data":{}}' }));
    const res = await createMiniProgramAdapter({ platform: 'alipay', api: api as never }).request(GET);
    expect(res).toEqual({ status: 200, headers: { 'x-a': '1' }, data: { code: 0, data: {} } });
  });

  it('a failure without a response rejects with its errorMessage and number; error 13 is a timeout', async () => {
    const failing = (e: Opts) => createMiniProgramAdapter({ platform: 'alipay', api: fakeApi((_, o) => o.fail(e)).api as never }).request(GET);
    await expect(failing({ error: 12, errorMessage: '网络出错' })).rejects.toMatchObject({ message: expect.stringMatching(/网络出错 \(error 12\)/), timeout: false });
    await expect(failing({ error: 13, errorMessage: '超时' })).rejects.toMatchObject({ timeout: true });
  });

  it('DingTalk uses httpRequest (its client has no my.request) with the same shapes', async () => {
    const { api, calls } = fakeApi((_, o) => o.success({ status: 200, headers: {}, data: '{}' }));
    api.httpRequest = (o: Opts) => {
      calls.push(['httpRequest', o]);
      o.success({ status: 200, headers: {}, data: '{}' });
    };
    await createMiniProgramAdapter({ platform: 'dingtalk', api: api as never }).request(POST);
    expect(calls.map((c) => c[0])).toEqual(['httpRequest']);
    expect(calls[0]![1]).toMatchObject({ headers: POST.headers, data: '{"name":"g"}' });
  });

  it('uploadFile adds fileType (image, video or audio) and fileName next to name', async () => {
    const { api, calls } = fakeApi((_, o) => o.success({ statusCode: 200, header: {}, data: '{"code":0,"data":{}}' }));
    const adapter = createMiniProgramAdapter({ platform: 'alipay', api: api as never });
    const upload = (kind?: string) =>
      adapter.uploadFile!({ url: 'https://im.example.com/api/files', source: { kind: 'path', path: 'https://resource/apml1.jpg' }, fileName: 'a.jpg', fields: kind ? { name: 'a', kind } : { name: 'a' }, headers: {}, timeout: 1000 });
    await upload('audio');
    await upload('file');
    await upload();
    expect(calls.map(([, o]) => [o.name, o.fileName, o.fileType])).toEqual([
      ['file', 'file', 'audio'],
      ['file', 'file', 'image'],
      ['file', 'file', 'image'],
    ]);
  });

  it('WeChat keeps its own shapes: header, dataType json, the body as an object', async () => {
    const { api, calls } = fakeApi((_, o) => o.success({ statusCode: 201, header: {}, data: { code: 0 } }));
    await expect(createMiniProgramAdapter({ platform: 'weapp', api: api as never }).request(POST)).resolves.toMatchObject({ status: 201 });
    expect(calls[0]![1]).toMatchObject({ header: POST.headers, dataType: 'json', data: { name: 'g' } });
    expect(calls[0]![1].headers).toBeUndefined();
  });
});

describe('every platform', () => {
  it('a request the platform never ends is ended by the timer, and its task aborted', async () => {
    const abort = jest.fn();
    const { api } = fakeApi(() => ({ abort }));
    const adapter = createMiniProgramAdapter({ platform: 'douyin', api: api as never });
    await expect(adapter.request({ ...GET, timeout: 30 })).rejects.toMatchObject({ timeout: true });
    expect(abort).toHaveBeenCalledTimes(1);
  });

  it("storage: a missing key answered as '' (Douyin, Baidu) or null (Alipay) reads as absent", async () => {
    for (const data of ['', null]) {
      const { api } = fakeApi((name, o) => (name === 'getStorage' ? o.success({ data }) : undefined));
      await expect(createMiniProgramAdapter({ platform: 'douyin', api: api as never }).storage.getItem('k')).resolves.toBeNull();
    }
  });
});

/** A SocketTask stand-in that records its listeners; `guard` throws when a method may not be called yet. */
function fakeTask(guard: () => void = () => undefined) {
  const on: Record<string, (res: any) => void> = {};
  const task: Opts = {};
  for (const m of ['onMessage', 'onError', 'onClose', 'onOpen']) {
    task[m] = (cb: (res: any) => void) => {
      guard();
      on[m] = cb;
    };
  }
  task.send = jest.fn(() => guard());
  task.close = jest.fn();
  return { task, on };
}

describe('sockets', () => {
  it('Alipay: multiple: true, nested frames unwrapped, a base64 binary frame (isBuffer) given as binary', () => {
    const { task, on } = fakeTask();
    const connect = jest.fn((_opts: Opts) => task);
    const got: unknown[] = [];
    socketTaskChannel({ connectSocket: connect }, { ali: true })('wss://im.example.com/x', { message: (d) => got.push(d), close: () => undefined });
    expect(connect.mock.calls[0]![0]).toMatchObject({ url: 'wss://im.example.com/x', multiple: true });
    on.onMessage!({ data: { socketTaskID: '1', data: '40', isBuffer: false } });
    on.onMessage!({ data: '3' });
    on.onMessage!({ data: { socketTaskID: '1', data: 'AAEC', isBuffer: true } });
    expect(got).toEqual(['40', '3', null]);
  });

  it('Douyin: no SocketTask method is called before connectSocket succeeds', () => {
    let succeeded = false;
    const { task, on } = fakeTask(() => {
      if (!succeeded) throw new Error('SocketTask used before success');
    });
    let success: () => void = () => undefined;
    const connect = (o: Opts) => {
      success = o.success;
      return task;
    };
    const closed: unknown[] = [];
    const channel = socketTaskChannel({ connectSocket: connect }, { lateTask: true })('wss://x', { message: () => undefined, close: (e) => closed.push(e) });
    expect(on.onMessage).toBeUndefined();
    succeeded = true;
    success();
    expect(typeof on.onMessage).toBe('function');
    channel.send('2');
    expect(task.send).toHaveBeenCalledWith(expect.objectContaining({ data: '2' }));
    expect(closed).toEqual([]);
  });

  it('no SocketTask although multiple: true asked for one: the app-wide socket API drives that connection, and its listeners go at close', () => {
    const listeners: Record<string, Set<(res: any) => void>> = { Message: new Set(), Error: new Set(), Close: new Set() };
    const api: Opts = { connectSocket: jest.fn(() => undefined), sendSocketMessage: jest.fn(), closeSocket: jest.fn() };
    for (const e of Object.keys(listeners)) {
      api[`onSocket${e}`] = (cb: (res: any) => void) => listeners[e]!.add(cb);
      api[`offSocket${e}`] = (cb: (res: any) => void) => listeners[e]!.delete(cb);
    }
    const got: unknown[] = [];
    const closes: unknown[] = [];
    const channel = socketTaskChannel(api as never, { ali: true })('wss://x', { message: (d) => got.push(d), close: (e) => closes.push(e) });
    for (const cb of listeners.Message!) cb({ data: '0{"sid":"a"}', isBuffer: false });
    expect(got).toEqual(['0{"sid":"a"}']);
    channel.send('40');
    expect(api.sendSocketMessage).toHaveBeenCalledWith(expect.objectContaining({ data: '40' }));
    channel.close();
    expect(api.closeSocket).toHaveBeenCalled();
    expect([...Object.values(listeners)].map((s) => s.size)).toEqual([0, 0, 0]);
    expect(closes).toEqual([]);
  });
});

describe("Baidu's offAppShow()/offAppHide() without a listener", () => {
  it('are never called: one listener per swan object fans out to the clients, and destroy() only leaves the fan-out', () => {
    const show = new Set<() => void>();
    const api: Opts = {
      ...fakeApi().api,
      onAppShow: (cb: () => void) => show.add(cb),
      offAppShow: jest.fn(() => show.clear()),
      onAppHide: () => undefined,
      offAppHide: jest.fn(),
    };
    const a = createMiniProgramAdapter({ platform: 'baidu', api: api as never });
    const b = createMiniProgramAdapter({ platform: 'baidu', api: api as never });
    const seen: string[] = [];
    a.onAppStateChange!((s) => seen.push(`a:${s}`));
    const offB = b.onAppStateChange!((s) => seen.push(`b:${s}`));
    show.add(() => seen.push('app'));
    expect(show.size).toBe(2); // the SDK's one listener and the app's own
    for (const cb of show) cb();
    expect(seen.sort()).toEqual(['a:foreground', 'app', 'b:foreground']);
    offB();
    a.destroy!();
    seen.length = 0;
    for (const cb of show) cb();
    expect(seen).toEqual(['app']);
    const c = createMiniProgramAdapter({ platform: 'baidu', api: api as never });
    c.onAppStateChange!((s) => seen.push(`c:${s}`));
    expect(show.size).toBe(2);
    expect(api.offAppShow).not.toHaveBeenCalled();
    expect(api.offAppHide).not.toHaveBeenCalled();
    c.destroy!();
  });
});

describe('uni-app and Taro on Alipay', () => {
  const g = globalThis as { my?: unknown };
  afterEach(() => delete g.my);

  /** The native `my` with a SocketTask and hooks, and a framework object that must not be used for them. */
  const setup = () => {
    const { task } = fakeTask();
    const my: Opts = { ...fakeApi().api, connectSocket: jest.fn(() => task), onAppShow: jest.fn(), offAppShow: jest.fn(), onAppHide: jest.fn(), offAppHide: jest.fn(), onNetworkStatusChange: jest.fn(), offNetworkStatusChange: jest.fn() };
    g.my = my;
    const fw = fakeApi((name, o) => (name === 'request' ? o.success({ statusCode: 200, header: {}, data: {} }) : undefined));
    const framework: Opts = { ...fw.api, connectSocket: jest.fn(), onAppShow: jest.fn(), offAppShow: jest.fn(), onAppHide: jest.fn(), offAppHide: jest.fn(), onNetworkStatusChange: jest.fn(), offNetworkStatusChange: jest.fn() };
    return { my, framework, frameworkCalls: fw.calls };
  };

  it.each([
    ['uniapp', (api: Opts) => createUniappAdapter({ uni: api as never, target: 'miniprogram' })],
    ['taro', (api: Opts) => createTaroAdapter({ Taro: api as never, target: 'miniprogram' })],
  ])('%s: the socket and the hooks are the native my (multiple: true); HTTP stays the framework', async (_, make) => {
    const { my, framework, frameworkCalls } = setup();
    const adapter = make(framework);
    const socket = adapter.createSocket('https://im.example.com', { auth: (cb) => cb({ token: 't' }), reconnection: false, reconnectionAttempts: 0, reconnectionDelay: 1, reconnectionDelayMax: 1, timeout: 1000, transports: ['websocket'], autoConnect: false });
    socket.connect();
    expect(my.connectSocket).toHaveBeenCalledWith(expect.objectContaining({ multiple: true }));
    expect(framework.connectSocket).not.toHaveBeenCalled();
    const off = adapter.onAppStateChange!(() => undefined);
    off();
    expect(my.onAppShow).toHaveBeenCalledTimes(1);
    expect(my.offAppShow).toHaveBeenCalledWith(my.onAppShow.mock.calls[0][0]);
    expect(framework.onAppShow).not.toHaveBeenCalled();
    await adapter.request(GET);
    expect(frameworkCalls.map((c) => c[0])).toEqual(['request']);
    expect(frameworkCalls[0]![1]).toMatchObject({ header: GET.headers });
    socket.disconnect();
    adapter.destroy!();
  });
});
