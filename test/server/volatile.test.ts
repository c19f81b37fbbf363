/** chat:typing and chat:signal on the real server with raw sockets: who gets them, limits, nothing stored. */
import { call, closeAll, collect, connect, http, sleep, startServer, tokenFor, until, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => closeAll());

it('typing: to every device of the peer, none of the sender\'s; one per conversation per second from a socket', async () => {
  const ta = await tokenFor(server, 'vt-a');
  const tb = await tokenFor(server, 'vt-b');
  const a = await connect(server, ta);
  const a2 = await connect(server, ta);
  const b1 = await connect(server, tb);
  const b2 = await connect(server, tb);
  const got = [collect(b1, 'typing'), collect(b2, 'typing'), collect(a2, 'typing')];
  expect((await call(a, 'chat:typing', { to: 'vt-b' })).code).toBe(0);
  const again = await call(a, 'chat:typing', { to: 'vt-b' });
  expect(again).toMatchObject({ code: 42900, message: expect.stringContaining('typing') });
  await until(() => got[0]!.length === 1 && got[1]!.length === 1);
  await sleep(100);
  expect(got.map((g) => g.length)).toEqual([1, 1, 0]);
  expect(got[0]![0]).toEqual({ from: 'vt-a', chatType: 0, to: 'vt-b' });
  expect((await call(a, 'chat:typing', { to: 'has space' })).code).toBe(40000);
});

it('signals: checked like data, charged by members, not stored, members only', async () => {
  const ta = await tokenFor(server, 'vs-a');
  const tb = await tokenFor(server, 'vs-b');
  const tc = await tokenFor(server, 'vs-c');
  const group = (await http(server, 'POST', '/api/groups', { name: 'Signals', userIdList: ['vs-b'] }, ta)).body.data;
  const a = await connect(server, ta);
  const b = await connect(server, tb);
  const c = await connect(server, tc);
  const toB = collect(b, 'signal');
  const toA = collect(a, 'signal');
  expect(await call(a, 'chat:signal', { chatType: 1, to: group.id, data: { ring: true } })).toMatchObject({ code: 0, data: { recipients: 1 } });
  expect(await call(a, 'chat:signal', { chatType: 0, to: 'vs-b', data: 'x'.repeat(33_000) })).toMatchObject({ code: 41300 });
  expect((await call(a, 'chat:signal', { chatType: 0, to: 'vs-b', data: { k: 'a\u0000b' } })).code).toBe(40000);
  expect((await call(c, 'chat:signal', { chatType: 1, to: group.id, data: 'let me in' })).code).toBe(40300);
  expect((await call(a, 'chat:signal', { chatType: 0, to: 'vs-nobody', data: 'x' })).code).toBe(40400);
  await until(() => toB.length === 1);
  expect(toB[0]).toMatchObject({ from: 'vs-a', chatType: 1, to: group.id, data: { ring: true }, timestamp: expect.any(Number) });
  expect(toA).toEqual([]); // the sender's own devices are not told
  const history = await http(server, 'GET', `/api/groups/${group.id}/messages`, undefined, tb);
  expect(history.body.data).toEqual([]);
});
