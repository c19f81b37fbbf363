/**
 * The server REST API on a cluster: two nodes on one PostgreSQL and one Redis. A call to either
 * node sees the sessions of every node, its disable kicks sockets wherever they are, its sends and
 * revokes reach recipients on the other node; the lists and the import run on PostgreSQL here;
 * an operator token signed out through one node is refused by the other.
 */
import { closeAll, collect, connect, http, nextEvent, startServer, tokenFor, until, type TestServer } from '../server/helpers';
import { startPostgres, startRedis, type Engine } from './engines';

jest.setTimeout(90_000);

const APP = { devAppId: 'sa-cluster-app', devAppSecret: 'sa-cluster-secret-0123456789' };
let pg: Engine;
let redis: Engine;
let n1: TestServer;
let n2: TestServer;

beforeAll(async () => {
  pg = await startPostgres();
  redis = await startRedis();
  n1 = await startServer({ ...APP, databaseUrl: pg.url, dbPoolSize: 3, redisUrl: redis.url, nodeId: 'node-one' });
  n2 = await startServer({ ...APP, databaseUrl: pg.url, dbPoolSize: 3, redisUrl: redis.url, nodeId: 'node-two' });
});

afterAll(async () => {
  await closeAll();
  await redis?.stop();
  await pg?.stop();
});

const auth = { authorization: `Basic ${Buffer.from(`${APP.devAppId}:${APP.devAppSecret}`).toString('base64')}` };
async function api(node: TestServer, method: string, path: string, body?: unknown): Promise<any> {
  const r = await http(node, method, path, body, undefined, auth);
  if (r.body.code !== 0) throw new Error(`${method} ${path}: ${r.body.code} ${r.body.message}`);
  return r.body.data;
}

it('sessions of both nodes are listed by either; disable on one node kicks the sockets on both', async () => {
  const token = await tokenFor(n1, 'sa-c-spread');
  const here = await connect(n1, token, { auth: { token, platform: 'web' } });
  const there = await connect(n2, token, { auth: { token, platform: 'weapp' } });
  for (const node of [n1, n2]) {
    const user = await api(node, 'GET', '/api/server/users/sa-c-spread');
    expect(user.sessionList.map((s: any) => [s.platform, s.node]).sort()).toEqual([['weapp', 'node-two'], ['web', 'node-one']]);
    expect((await api(node, 'GET', '/api/server/users?query=sa-c-spread')).items[0]).toMatchObject({ online: true, sessions: 2 });
  }
  const kicked = [nextEvent<any>(here, 'kicked'), nextEvent<any>(there, 'kicked')];
  expect(await api(n1, 'POST', '/api/server/users/sa-c-spread/disable')).toEqual({ userId: 'sa-c-spread', valid: false, kicked: 2 });
  expect(await Promise.all(kicked)).toEqual([{ reason: 'user_disabled' }, { reason: 'user_disabled' }]);
  await until(() => !here.connected && !there.connected, 5000, 'both sockets closed');
  expect((await http(n2, 'POST', '/api/token', { appId: APP.devAppId, appSecret: APP.devAppSecret, userId: 'sa-c-spread' })).body.code).toBe(40301);
});

it('a send and a revoke through one node reach a recipient on the other', async () => {
  const bob = await connect(n2, await tokenFor(n2, 'sa-c-bob'));
  const live = collect<any>(bob, 'imchat');
  const sent = await api(n1, 'POST', '/api/server/messages', { chatType: 0, to: 'sa-c-bob', content: 'across nodes' });
  await until(() => live.length === 1, 5000, 'the message on the other node');
  expect(live[0]).toMatchObject({ messageId: sent.messageId, from: '@system', content: 'across nodes' });
  await api(n1, 'POST', `/api/server/messages/${sent.messageId}/revoke`);
  await until(() => live.length === 2, 5000, 'the revoke on the other node');
  expect(live[1]).toMatchObject({ event: 'revoke', eventOf: sent.messageId });
  expect((await api(n2, 'GET', '/api/server/private/@system/sa-c-bob/messages'))[0]).toMatchObject({ messageId: sent.messageId, revoked: true });
});

it('on PostgreSQL: an import of 1000 users, then pages by id with a query; groups and members page', async () => {
  const users = Array.from({ length: 1000 }, (_, i) => ({ userId: `sa-c-imp-${String(i).padStart(4, '0')}`, userName: `Pg User ${i}` }));
  expect(await api(n1, 'POST', '/api/server/users/import', { users })).toEqual({ count: 1000 });
  // Again, changing only the names of some: the rest stay.
  await api(n2, 'POST', '/api/server/users/import', { users: [{ userId: 'sa-c-imp-0001', companyName: 'Renamed Co' }] });
  expect(await api(n2, 'GET', '/api/server/users/sa-c-imp-0001')).toMatchObject({ userName: 'Pg User 1', companyName: 'Renamed Co', valid: true });
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await api(n2, 'GET', `/api/server/users?query=SA-C-IMP&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    seen.push(...page.items.map((u: any) => u.userId));
    cursor = page.nextCursor;
  } while (cursor && seen.length <= 1000);
  expect(seen).toEqual(users.map((u) => u.userId));
  expect((await api(n1, 'GET', `/api/server/users?query=${encodeURIComponent('pg user 77')}`)).items.map((u: any) => u.userId)).toEqual(['sa-c-imp-0077', 'sa-c-imp-0770', 'sa-c-imp-0771', 'sa-c-imp-0772', 'sa-c-imp-0773', 'sa-c-imp-0774', 'sa-c-imp-0775', 'sa-c-imp-0776', 'sa-c-imp-0777', 'sa-c-imp-0778', 'sa-c-imp-0779']);

  const owner = await tokenFor(n1, 'sa-c-owner');
  const g = (await http(n1, 'POST', '/api/groups', { name: 'Cluster Group', userIdList: ['sa-c-imp-0002', 'sa-c-imp-0003'] }, owner)).body.data;
  expect((await api(n2, 'GET', '/api/server/groups?query=cluster group')).items).toEqual([{ groupId: g.groupId, groupName: 'Cluster Group', ownerId: 'sa-c-owner', memberCount: 3, createdAt: expect.any(Number) }]);
  const first = await api(n2, 'GET', `/api/server/groups/${g.groupId}/members?limit=2`);
  const rest = await api(n2, 'GET', `/api/server/groups/${g.groupId}/members?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`);
  expect([...first.items, ...rest.items].map((m: any) => m.userId)).toEqual(['sa-c-imp-0002', 'sa-c-imp-0003', 'sa-c-owner']);
  expect(rest.nextCursor).toBeNull();
});

it('an operator token signed out on one node is refused on the other; a revoke of all on one cuts the tokens minted on both', async () => {
  const signIn = async (node: TestServer) => (await http(node, 'POST', '/api/server/session', { appId: APP.devAppId, appSecret: APP.devAppSecret })).body.data.token as string;
  const check = async (node: TestServer, token: string) => (await http(node, 'GET', '/api/server/app', undefined, token)).body;
  const [out, kept] = [await signIn(n1), await signIn(n2)];
  for (const node of [n1, n2]) expect((await check(node, out)).code).toBe(0);

  expect((await http(n1, 'POST', '/api/server/session/revoke', undefined, out)).body.data).toEqual({ revoked: true });
  for (const node of [n2, n1]) expect(await check(node, out)).toMatchObject({ code: 40101, message: expect.stringMatching(/^token revoked/) });
  for (const node of [n1, n2]) expect((await check(node, kept)).code).toBe(0);

  const fromOne = await signIn(n1);
  expect((await http(n2, 'POST', '/api/server/session/revoke', { all: true }, undefined, auth)).body.data).toEqual({ revoked: true, all: true });
  for (const node of [n1, n2]) {
    for (const token of [kept, fromOne]) expect(await check(node, token)).toMatchObject({ code: 40101, message: expect.stringMatching(/all revoked/) });
  }
  // A token minted on either node after it carries the new generation: both accept it.
  const fresh = await signIn(n1);
  for (const node of [n1, n2]) expect((await check(node, fresh)).code).toBe(0);
});
