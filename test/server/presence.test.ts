/**
 * Presence on the reference server, on SQLite and on PostgreSQL (one node; across nodes: the
 * cluster suite): online from a user's first socket, offline once the last one has been gone for
 * the grace period (IM_PRESENCE_GRACE, 1 s here), one event per transition, last-seen times that
 * outlive the server, subscriptions per connection with their caps, and bad input refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bothStorages, call, closeClients, collect, connect, sleep, startServer, type TestServer, tokenFor, until } from './helpers';

jest.setTimeout(60_000);

const GRACE_MS = 1000;
const engines = bothStorages();

describe.each(engines)('presence on $name', ({ name, url }) => {
  let server: TestServer;
  let n = 0;
  const id = (p: string) => `${name.slice(0, 2).toLowerCase()}-${p}-${++n}`;
  const options = (extra: Record<string, unknown> = {}) => ({ presenceGrace: GRACE_MS / 1000, ...(url() ? { databaseUrl: url() } : {}), ...extra });

  beforeAll(async () => {
    server = await startServer(options());
  });
  afterEach(() => closeClients());
  afterAll(async () => {
    await server.stop();
  });

  /** A watcher subscribed to `userIds`, with every presence event it gets from now on. */
  const watcher = async (on: TestServer, userIds: string[]) => {
    const socket = await connect(on, await tokenFor(on, id('w')));
    const events = collect<any>(socket, 'presence');
    const r = await call(socket, 'presence:subscribe', { userIds });
    expect(r.code).toBe(0);
    return { socket, events, answer: r.data.presence as any[] };
  };

  it('first device: online once; a second device: no event; one of two goes: still online; the last goes: offline after the grace, with lastSeenAt', async () => {
    const u = id('u');
    const token = await tokenFor(server, u);
    const w = await watcher(server, [u]);
    expect(w.answer).toEqual([{ userId: u, online: false, lastSeenAt: null }]);

    const phone = await connect(server, token);
    await until(() => w.events.length === 1, 5000, 'online event');
    expect(w.events[0]).toEqual({ userId: u, online: true, lastSeenAt: null });
    const laptop = await connect(server, token);
    laptop.close();
    await sleep(GRACE_MS + 500);
    expect(w.events).toHaveLength(1);
    expect((await call(w.socket, 'presence:get', { userIds: [u] })).data.presence).toEqual([{ userId: u, online: true, lastSeenAt: null }]);

    const before = Date.now();
    phone.close();
    await sleep(GRACE_MS / 2);
    expect(w.events).toHaveLength(1); // still in the grace period
    await until(() => w.events.length === 2, 5000, 'offline event');
    const off = w.events[1];
    expect(off).toMatchObject({ userId: u, online: false });
    // When the last device went, not when the grace ended.
    expect(off.lastSeenAt).toBeGreaterThanOrEqual(before - 50);
    expect(off.lastSeenAt).toBeLessThan(before + GRACE_MS / 2);
    expect((await call(w.socket, 'presence:get', { userIds: [u] })).data.presence).toEqual([{ userId: u, online: false, lastSeenAt: off.lastSeenAt }]);
  });

  it('a reconnect within the grace period is no transition at all', async () => {
    const u = id('u');
    const token = await tokenFor(server, u);
    const first = await connect(server, token);
    const w = await watcher(server, [u]);
    expect(w.answer).toEqual([{ userId: u, online: true, lastSeenAt: null }]);
    first.close();
    await sleep(GRACE_MS / 4);
    const again = await connect(server, token);
    await sleep(GRACE_MS + 500);
    expect(w.events).toEqual([]);
    again.close();
    await until(() => w.events.length === 1, 5000, 'offline event');
    expect(w.events[0]).toMatchObject({ userId: u, online: false, lastSeenAt: expect.any(Number) });
  });

  it('unsubscribe stops the events; answers follow the order asked, duplicates once', async () => {
    const [a, b] = [id('a'), id('b')];
    const [ta, tb] = [await tokenFor(server, a), await tokenFor(server, b)];
    const w = await watcher(server, [a, b, a]);
    expect(w.answer.map((p) => p.userId)).toEqual([a, b]);
    const un = await call(w.socket, 'presence:unsubscribe', { userIds: [a, 'never-subscribed'] });
    expect(un).toMatchObject({ code: 0, data: { subscriptions: 1 } });
    await connect(server, ta);
    await connect(server, tb);
    await until(() => w.events.length === 1, 5000, 'b online');
    await sleep(200);
    expect(w.events).toEqual([{ userId: b, online: true, lastSeenAt: null }]);
    // Who is online can still be asked without a subscription.
    expect((await call(w.socket, 'presence:get', { userIds: [a] })).data.presence).toEqual([{ userId: a, online: true, lastSeenAt: null }]);
  });

  it('users that do not exist, and users of another app with the same id, are offline with lastSeenAt null', async () => {
    const other = await startServer(options({ extraApps: [{ appId: `${name}-other`, appSecret: 'other-secret-0123456789' }] }));
    try {
      const shared = id('shared');
      // The same userId online in another app of the same server.
      const res = await fetch(`${other.apiUrl}/api/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appId: `${name}-other`, appSecret: 'other-secret-0123456789', userId: shared }) });
      const foreign = ((await res.json()) as { data: { token: string } }).data.token;
      await connect(other, foreign);
      await tokenFor(other, shared); // and a user of that id in the dev app, never connected
      const w = await watcher(other, [shared, 'nobody-at-all']);
      expect(w.answer).toEqual([
        { userId: shared, online: false, lastSeenAt: null },
        { userId: 'nobody-at-all', online: false, lastSeenAt: null },
      ]);
      await sleep(200);
      expect(w.events).toEqual([]);
    } finally {
      closeClients();
      await other.stop();
    }
  });

  it('caps and bad input are refused with the right code, and nothing is subscribed', async () => {
    const token = await tokenFor(server, id('caps'));
    const socket = await connect(server, token);
    const ids = (k: number, from = 0) => Array.from({ length: k }, (_, i) => `cap-${from + i}`);
    for (const event of ['presence:subscribe', 'presence:unsubscribe', 'presence:get']) {
      expect(await call(socket, event, { userIds: ids(501) })).toMatchObject({ code: 40000, message: expect.stringContaining('500') });
      expect((await call(socket, event, { userIds: 'u1' })).code).toBe(40000);
      expect((await call(socket, event, { userIds: ['has space'] })).code).toBe(40000);
      expect((await call(socket, event, {})).code).toBe(40000);
      expect((await call(socket, event, null)).code).toBe(40000);
    }
    expect((await call(socket, 'presence:subscribe', { userIds: ids(500) })).data.subscriptions).toBe(500);
    expect((await call(socket, 'presence:subscribe', { userIds: ids(500, 500) })).data.subscriptions).toBe(1000);
    // Ids already subscribed cost no place; one more does not fit.
    expect((await call(socket, 'presence:subscribe', { userIds: ids(10) })).code).toBe(0);
    const over = await call(socket, 'presence:subscribe', { userIds: ['cap-x', 'cap-0'] });
    expect(over).toMatchObject({ code: 40300, message: expect.stringContaining('1000 subscriptions per connection') });
    expect((await call(socket, 'presence:unsubscribe', { userIds: ['cap-0'] })).data.subscriptions).toBe(999);
    expect((await call(socket, 'presence:subscribe', { userIds: ['cap-x'] })).data.subscriptions).toBe(1000);
    // Per connection: the same user's other socket has its own 1000.
    const second = await connect(server, token);
    expect((await call(second, 'presence:subscribe', { userIds: ['cap-y'] })).data.subscriptions).toBe(1);
  });

  it('calls are charged by the ids they name: 500 ids count as 50 events', async () => {
    const tight = await startServer(options({ rateLimit: 1, rateBurst: 60 }));
    try {
      const socket = await connect(tight, await tokenFor(tight, id('rate')));
      const ids = Array.from({ length: 500 }, (_, i) => `r-${i}`);
      expect((await call(socket, 'presence:get', { userIds: ids })).code).toBe(0);
      const second = await call(socket, 'presence:get', { userIds: ids });
      expect(second).toMatchObject({ code: 42900, message: expect.stringContaining('counts as 50 events') });
      // A few ids still fit in what is left.
      expect((await call(socket, 'presence:get', { userIds: ids.slice(0, 5) })).code).toBe(0);
    } finally {
      closeClients();
      await tight.stop();
    }
  });

  it('lastSeenAt outlives the server: written when the last device went, and for users online at a shutdown', async () => {
    const dir = url() ? undefined : mkdtempSync(path.join(tmpdir(), 'comind-im-presence-'));
    const opts = options(dir ? { dataDir: dir } : {});
    let first: TestServer | undefined = await startServer(opts);
    let second: TestServer | undefined;
    try {
      const [gone, stays] = [id('gone'), id('stays')];
      const goneSocket = await connect(first, await tokenFor(first, gone));
      await connect(first, await tokenFor(first, stays));
      const w = await watcher(first, [gone]);
      goneSocket.close();
      expect(w.answer[0].online).toBe(true);
      await until(() => w.events.length === 1, 5000, 'gone offline');
      const goneAt = w.events[0].lastSeenAt as number;
      const stoppedAt = Date.now();
      await first.stop(); // `stays` is still connected
      first = undefined;
      closeClients();

      second = await startServer({ ...opts, apiPort: 0, socketPort: 0 });
      const again = await watcher(second, [gone, stays]);
      expect(again.answer[0]).toEqual({ userId: gone, online: false, lastSeenAt: goneAt });
      expect(again.answer[1]).toMatchObject({ userId: stays, online: false });
      expect(again.answer[1].lastSeenAt).toBeGreaterThanOrEqual(stoppedAt - 50);
    } finally {
      closeClients();
      await first?.stop();
      await second?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });
});
