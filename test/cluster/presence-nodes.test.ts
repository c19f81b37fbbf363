/**
 * Presence across nodes on one PostgreSQL and one Redis: a subscriber on one node sees users whose
 * devices are on others, one event per transition however the devices are spread; a device moving
 * to another node within the grace period is no transition; and the users of a node killed with
 * SIGKILL go offline on their own (the built CLI runs that node, as in the chaos test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { call, closeAll, collect, connect, sleep, startServer, tokenFor, until, type TestServer } from '../server/helpers';
import { ServerRunner } from '../reliability/server-runner';
import { startPostgres, startRedis, type Engine } from './engines';

jest.setTimeout(90_000);

const APP = { devAppId: 'pr-app', devAppSecret: 'pr-app-secret-0123456789' };
const GRACE_MS = 1000;
let pg: Engine;
let redis: Engine;
let nodes: TestServer[];
let doomed: ServerRunner;
let doomedDir: string;

beforeAll(async () => {
  pg = await startPostgres();
  redis = await startRedis();
  nodes = [];
  for (let i = 0; i < 2; i++) nodes.push(await startServer({ ...APP, databaseUrl: pg.url, dbPoolSize: 3, redisUrl: redis.url, presenceGrace: GRACE_MS / 1000 }));
  doomedDir = mkdtempSync(path.join(tmpdir(), 'comind-im-presence-node-'));
  doomed = new ServerRunner({
    mode: 'process',
    dataDir: doomedDir,
    appId: APP.devAppId,
    appSecret: APP.devAppSecret,
    env: { IM_DATABASE_URL: pg.url, IM_REDIS_URL: redis.url, IM_DB_POOL_SIZE: '3', IM_PRESENCE_GRACE: String(GRACE_MS / 1000) },
  });
  await doomed.start();
});

afterAll(async () => {
  await closeAll();
  await doomed?.stop('kill').catch(() => undefined);
  await redis?.stop();
  await pg?.stop();
  if (doomedDir) rmSync(doomedDir, { recursive: true, force: true });
});

async function watch(node: TestServer, userIds: string[]) {
  const socket = await connect(node, await tokenFor(node, `pr-w-${Math.random().toString(36).slice(2, 8)}`));
  const events = collect<any>(socket, 'presence');
  const r = await call(socket, 'presence:subscribe', { userIds });
  expect(r.code).toBe(0);
  return { socket, events, answer: r.data.presence as any[] };
}

it('a subscriber on one node sees a user on another: online once for two devices on two nodes, offline once the last has gone', async () => {
  const [n1, n2] = nodes as [TestServer, TestServer];
  const token = await tokenFor(n1, 'pr-two');
  const w = await watch(n1, ['pr-two']);
  expect(w.answer).toEqual([{ userId: 'pr-two', online: false, lastSeenAt: null }]);
  const onB = await connect(n2, token);
  await until(() => w.events.length === 1, 5000, 'online');
  expect(w.events[0]).toEqual({ userId: 'pr-two', online: true, lastSeenAt: null });
  const onA = await connect(n1, token);
  onB.close();
  await sleep(GRACE_MS + 700);
  // The device on node 1 keeps the user online, though node 2's last socket of theirs went.
  expect(w.events).toHaveLength(1);
  expect((await call(w.socket, 'presence:get', { userIds: ['pr-two'] })).data.presence[0].online).toBe(true);
  const left = Date.now();
  onA.close();
  await until(() => w.events.length === 2, 5000, 'offline');
  expect(w.events[1]).toMatchObject({ userId: 'pr-two', online: false });
  expect(w.events[1].lastSeenAt).toBeGreaterThanOrEqual(left - 50);
  await sleep(300);
  expect(w.events).toHaveLength(2);
  // Asked through the other node: the same answer, from Redis and the shared database.
  const other = await connect(n2, await tokenFor(n2, 'pr-asker'));
  expect((await call(other, 'presence:get', { userIds: ['pr-two'] })).data.presence).toEqual([w.events[1]]);
});

it('a device that moves to another node within the grace period is no transition', async () => {
  const [n1, n2] = nodes as [TestServer, TestServer];
  const token = await tokenFor(n1, 'pr-move');
  const first = await connect(n1, token);
  const w = await watch(n2, ['pr-move']);
  expect(w.answer[0].online).toBe(true);
  first.close();
  await sleep(GRACE_MS / 4);
  const moved = await connect(n2, token);
  await sleep(GRACE_MS + 1000);
  expect(w.events).toEqual([]);
  moved.close();
  await until(() => w.events.length === 1, 5000, 'offline');
  expect(w.events[0]).toMatchObject({ userId: 'pr-move', online: false });
});

it('the users of a node killed with SIGKILL go offline within 20 s; one with a device on a live node stays online', async () => {
  const [n1] = nodes as [TestServer];
  const on3 = { socketUrl: doomed.socketUrl };
  const [lone, both] = [await tokenFor(n1, 'pr-lone'), await tokenFor(n1, 'pr-both')];
  await connect(on3, lone);
  await connect(on3, both);
  await connect(n1, both);
  const w = await watch(n1, ['pr-lone', 'pr-both']);
  expect(w.answer.map((p) => p.online)).toEqual([true, true]);
  const killedAt = Date.now();
  await doomed.stop('kill');
  await until(() => w.events.length >= 1, 25_000, 'the killed node\'s user offline');
  const took = Date.now() - killedAt;
  expect(took).toBeLessThan(21_000);
  expect(w.events[0]).toMatchObject({ userId: 'pr-lone', online: false });
  // Last seen when a node last vouched for them: before the kill, by at most one renewal (5 s).
  expect(w.events[0].lastSeenAt).toBeLessThanOrEqual(killedAt);
  expect(w.events[0].lastSeenAt).toBeGreaterThan(killedAt - 6000);
  await sleep(6000); // past another sweep
  expect(w.events).toHaveLength(1);
  expect((await call(w.socket, 'presence:get', { userIds: ['pr-lone', 'pr-both'] })).data.presence.map((p: any) => p.online)).toEqual([false, true]);
});
