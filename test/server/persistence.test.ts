/** The server is a real, persistent server: data survives restarts, and a graceful stop loses no acked message. */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io as ioV4 } from 'socket.io-client';
import { mintToken } from '../../server/src';
import { DEFAULT_CONFIG } from '../../server/src/config';
import { buildApi } from '../../server/src/http/api';
import { Gateway } from '../../server/src/realtime/gateway';
import { ImService } from '../../server/src/service';
import { SqliteStorage } from '../../server/src/storage/sqlite';
import { DiskStore } from '../../server/src/files/file-store';
import { FileService } from '../../server/src/files/file-service';
import { call, cid, closeAll, closeClients, connect, http, nextEvent, startServer as startTestServer, tokenFor, uniqueUser } from './helpers';

describe('persistence', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'comind-im-persist-'));
  });

  afterEach(async () => {
    await closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('users, groups, messages, read positions and group sequences survive a restart', async () => {
    const a = uniqueUser();
    const b = uniqueUser();
    const first = await startTestServer({ dataDir: dir });
    const tA = await tokenFor(first, a, 'Alice');
    const tB = await tokenFor(first, b, 'Bob');
    const group = (await http(first, 'POST', '/api/groups', { name: 'Durable', userIdList: [b] }, tA)).body.data;
    const sa = await connect(first, tA);
    const acked = [];
    for (let i = 1; i <= 3; i++) acked.push((await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 1, to: group.id, content: `before ${i}` })).data);
    await http(first, 'POST', '/api/conversations/read', { chatType: 1, targetId: group.id, seq: 2 }, tB);
    const { appId, appSecret } = first;
    await first.stop();

    const second = await startTestServer({ dataDir: dir });
    try {
      expect({ appId: second.appId, appSecret: second.appSecret }).toEqual({ appId, appSecret }); // the dev app is kept
      // Old tokens stay valid: same app secret.
      expect((await http(second, 'GET', `/api/groups/${group.id}`, undefined, tB)).body.data).toMatchObject({ name: 'Durable', memberCount: 2 });
      const history = await http(second, 'GET', `/api/groups/${group.id}/messages`, undefined, tB);
      expect(history.body.data.map((m: { messageId: string }) => m.messageId)).toEqual(acked.map((m) => m.messageId));
      const conv = (await http(second, 'GET', '/api/conversations', undefined, tB)).body.data[0];
      expect(conv).toMatchObject({ targetId: group.id, readSeq: 2, unreadCount: 1 });
      // The group's sequence (what members catch up from) is kept.
      const sb = await connect(second, tB);
      expect((await call(sb, 'chat:groups', {})).data.groups).toEqual([{ groupId: group.id, lastSeq: 3, joinedSeq: 0 }]);
      const sa2 = await connect(second, tA);
      const next = await call(sa2, 'chat:send', { clientMsgId: cid(), chatType: 1, to: group.id, content: 'after' });
      expect(next.data).toMatchObject({ seq: 4 });
      expect((await call(sb, 'chat:group-sync', { groupId: group.id, afterSeq: 2 })).data.messages.map((m: { content: string }) => m.content)).toEqual(['before 3', 'after']);
      // An idempotent resend from before the restart still returns the original.
      const resend = await call(sa2, 'chat:send', { clientMsgId: acked[0].clientMsgId, chatType: 1, to: group.id, content: 'before 1' });
      expect(resend.data.messageId).toBe(acked[0].messageId);
    } finally {
      closeClients();
      await second.stop();
    }
  });

  it('stop() while a client is sending: every acknowledged message is stored, later sends are refused or fail', async () => {
    const a = uniqueUser();
    const b = uniqueUser();
    const first = await startTestServer({ dataDir: dir });
    const sa = await connect(first, await tokenFor(first, a));
    await tokenFor(first, b);
    const acked: string[] = [];
    let stopping: Promise<void> | undefined;
    const sends: Array<Promise<void>> = [];
    const closed = new Promise<void>((r) => sa.once('disconnect', () => r()));
    for (let i = 0; i < 200; i++) {
      const answered = call(sa, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `n${i}` }).then((r) => {
        if (r.code === 0) acked.push(r.data.messageId);
        else expect(r.code).toBe(50300);
      });
      // A send the connection closed on was never acknowledged: it may or may not be stored.
      sends.push(Promise.race([answered, closed]).catch(() => undefined));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      if (i === 100) stopping = first.stop();
    }
    await stopping;
    await Promise.all(sends);
    expect(acked.length).toBeGreaterThan(0);
    const second = await startTestServer({ dataDir: dir });
    try {
      const tB = await tokenFor(second, b);
      const stored: string[] = [];
      for (let seq = 0; ; ) {
        const page = (await http(second, 'GET', `/api/private/${a}/messages?limitSize=100&msgSeqId=${seq}&syncType=FORWARD`, undefined, tB)).body.data;
        if (!page.length) break;
        stored.push(...page.map((m: { messageId: string }) => m.messageId));
        seq = page[page.length - 1].seq;
      }
      for (const id of acked) expect(stored).toContain(id);
    } finally {
      await second.stop();
    }
  }, 20000);
});

/** Compiles server/ when any source file is newer than the entry `npm start` runs. */
function buildServerIfStale(root: string): void {
  const entry = path.join(root, 'server/dist/main.js');
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs)));
  if (newest(path.join(root, 'server/src')) > built) {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'server/tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
  }
}

describe('npm start', () => {
  it('starts with IM_* variables, prints the dev app, answers /health, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-cli-'));
    const root = path.resolve(__dirname, '../..');
    // The compiled entry that `npm start` runs (`npm test` builds it first; rebuilt here when stale).
    // Fixed credentials prove the variables are read.
    buildServerIfStale(root);
    const child = spawn(process.execPath, ['server/dist/main.js'], {
      cwd: root,
      env: { ...process.env, IM_API_PORT: '0', IM_SOCKET_PORT: '0', IM_HOST: '127.0.0.1', IM_DATA_DIR: dir, IM_DEV_APP_ID: 'cli-app', IM_DEV_APP_SECRET: 'cli-secret-123', IM_TOKEN_TTL: '600' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const deadline = Date.now() + 20000;
      while (!/HTTP API\s+(\S+)/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(out).toMatch(/appId\s+cli-app/);
      expect(out).toMatch(/appSecret\s+cli-secret-123/);
      const apiUrl = /HTTP API\s+(\S+)/.exec(out)![1]!.replace('localhost', '127.0.0.1');
      const health = await fetch(`${apiUrl}/health`);
      expect(health.status).toBe(200);
      const token = await fetch(`${apiUrl}/api/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appId: 'cli-app', appSecret: 'cli-secret-123', userId: 'u1' }) });
      const body = (await token.json()) as { data: { expiresAt: number } };
      expect(body.data.expiresAt - Date.now()).toBeLessThan(601 * 1000);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);
});

describe('shutting down', () => {
  it('once shutdown begins: events are answered 50300, new sockets are refused 50300, HTTP answers 503', async () => {
    // The parts of the server wired by hand, so the shutdown phase can be held open and observed.
    const storage = new SqliteStorage(':memory:');
    const filesDir = mkdtempSync(path.join(tmpdir(), 'comind-im-files-'));
    storage.upsertApp('app', 'app-secret-1');
    storage.upsertUser('app', 'alice', {});
    storage.upsertUser('app', 'bob', {});
    const d = DEFAULT_CONFIG;
    const gateway = new Gateway({ sessionPolicy: 'multi', rateLimit: 1000, rateBurst: 1000, maxSocketsPerUser: d.maxSocketsPerUser, maxConnectionsPerIp: 0, replyMaxBytes: d.replyMaxBytes, log: () => undefined });
    const service = new ImService(storage, { tokenTtl: 600, tokenMaxTtl: d.tokenMaxTtl, groupMaxMembers: d.groupMaxMembers }, gateway);
    let shuttingDown = false;
    const api = buildApi(service, {
      logger: false,
      isShuttingDown: () => shuttingDown,
      requestTimeoutMs: d.httpRequestTimeout * 1000,
      uploadTimeoutMs: d.uploadTimeout * 1000,
      files: new FileService(storage, { store: new DiskStore(filesDir), tmpDir: filesDir, limits: { maxBytes: 1e6, image: 1e6, audio: 1e6, video: 1e6 }, urlTtlSeconds: 3600, publicUrl: '' }),
      idleTimeoutMs: d.httpRequestTimeout * 1000,
      maxConnectionsPerIp: 0,
      httpRateLimit: d.httpRateLimit,
      httpAuthRateLimit: d.httpAuthRateLimit,
      replyMaxBytes: d.replyMaxBytes,
    });
    const httpServer = createServer();
    gateway.attach(httpServer, service);
    await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
    const token = mintToken({ appId: 'app', appSecret: 'app-secret-1', userId: 'alice' });
    try {
      const s = await connect({ socketUrl: url }, token);
      expect((await call(s, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'bob', content: 'before' })).code).toBe(0);
      gateway.beginShutdown();
      shuttingDown = true;
      const refused = await call(s, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'bob', content: 'during' });
      expect(refused).toMatchObject({ code: 50300, message: expect.stringMatching(/shutting down/) });
      expect((await call(s, 'heartbeat', {})).code).toBe(50300);
      expect((await storage.inboxAfter('app', 'bob', 0, 10)).map((m) => m.content)).toEqual(['before']);
      const late = ioV4(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
      const err = await nextEvent(late, 'connect_error');
      late.close();
      expect(err.data).toMatchObject({ code: 50300 });
      await api.listen({ port: 0, host: '127.0.0.1' });
      const health = await http({ apiUrl: `http://127.0.0.1:${(api.server.address() as AddressInfo).port}` }, 'GET', '/health');
      expect(health).toMatchObject({ status: 503, body: { code: 50300 } });
      s.close();
    } finally {
      await gateway.close();
      await api.close();
      storage.close();
      rmSync(filesDir, { recursive: true, force: true });
    }
  });
});
