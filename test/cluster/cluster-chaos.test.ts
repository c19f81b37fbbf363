/**
 * Chaos across nodes: three server processes (the built CLI) on one PostgreSQL and one Redis,
 * SDK clients spread over them, chatting privately and in a group. Mid-burst one node is killed
 * with SIGKILL and comes back, then Redis restarts. Afterwards every send has settled with the
 * server's answer, every message is stored once, and every device received each message meant
 * for it exactly once and in seq order. `npm test` runs a short burst; `npm run test:cluster` a
 * long one (CLUSTER_LONG=1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWebAdapter } from '../../adapters/web';
import { ImClient } from '../../src/client';
import type { ImError } from '../../src/core/errors';
import type { ImMessage } from '../../src/core/protocol';
import { ServerRunner } from '../reliability/server-runner';
import { startPostgres, startRedis, type Engine } from './engines';

const LONG = process.env.CLUSTER_LONG === '1';
const USERS = 6;
const PER_USER = LONG ? 300 : 40;
jest.setTimeout(LONG ? 600_000 : 120_000);

const APP_ID = 'chaos-app';
const APP_SECRET = 'chaos-app-secret-0123456789';

let pg: Engine;
let redis: Engine;
let nodes: ServerRunner[];
const dirs: string[] = [];

beforeAll(async () => {
  pg = await startPostgres();
  redis = await startRedis();
  nodes = [];
  for (let i = 0; i < 3; i++) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'comind-im-cluster-node-'));
    dirs.push(dataDir);
    const node = new ServerRunner({ mode: 'process', dataDir, appId: APP_ID, appSecret: APP_SECRET, env: { IM_DATABASE_URL: pg.url, IM_REDIS_URL: redis.url, IM_DB_POOL_SIZE: '5' } });
    await node.start();
    nodes.push(node);
  }
});

afterAll(async () => {
  for (const n of nodes ?? []) await n.stop('kill').catch(() => undefined);
  await redis?.stop();
  await pg?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function token(userId: string): Promise<string> {
  const res = await fetch(`${nodes[0]!.apiUrl}/api/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appId: APP_ID, appSecret: APP_SECRET, userId }) });
  return ((await res.json()) as { data: { token: string } }).data.token;
}

it(`${USERS} users on 3 nodes, ${USERS * PER_USER} messages, a node killed and Redis restarted mid-burst: nothing lost, nothing twice, order kept`, async () => {
  const ids = Array.from({ length: USERS }, (_, i) => `chaos-u${i}`);
  const tokens = await Promise.all(ids.map(token));
  const clients = ids.map(
    (_, i) =>
      new ImClient({
        serverUrl: nodes[i % 3]!.socketUrl,
        apiServer: nodes[i % 3]!.apiUrl,
        adapter: createWebAdapter(),
        logLevel: 'silent',
        reconnectionDelay: 100,
        reconnectionAttempts: Infinity,
        sendTimeout: 60_000,
      }),
  );
  const received: ImMessage[][] = ids.map(() => []);
  clients.forEach((c, i) => c.on('imchat', (m) => received[i]!.push(m)));
  try {
    for (const [i, c] of clients.entries()) {
      const ready = new Promise((r) => c.once('ready', r));
      await c.connect({ token: tokens[i]! });
      await ready;
    }
    const group = await clients[0]!.createGroup({ name: 'chaos', userIdList: ids.slice(1) });
    await new Promise((r) => setTimeout(r, 200));

    const sent: Array<{ from: number; message?: ImMessage; error?: ImError; chatType: 0 | 1; to: string }> = [];
    let done = 0;
    const total = USERS * PER_USER;
    const faults = (async () => {
      while (done < total / 3) await new Promise((r) => setTimeout(r, 20));
      await nodes[1]!.stop('kill'); // a node dies mid-burst
      await new Promise((r) => setTimeout(r, 500));
      await nodes[1]!.start();
      while (done < (2 * total) / 3) await new Promise((r) => setTimeout(r, 20));
      const port = redis.port;
      await redis.stop(); // Redis restarts mid-burst
      await new Promise((r) => setTimeout(r, 300));
      redis = await startRedis(port);
    })();
    await Promise.all(
      clients.map(async (c, i) => {
        const inFlight = new Set<Promise<void>>();
        for (let k = 0; k < PER_USER; k++) {
          const toGroup = k % 3 === 0;
          const to = toGroup ? group.id : ids[(i + 1) % USERS]!;
          const entry: (typeof sent)[number] = { from: i, chatType: toGroup ? 1 : 0, to };
          sent.push(entry);
          const p = (toGroup ? c.sendGroupMessage({ groupId: to, content: `${i}:${k}` }) : c.sendPrivateMessage({ recipientId: to, content: `${i}:${k}` })).then(
            (m) => void (entry.message = m),
            (e: ImError) => void (entry.error = e),
          );
          const tracked = p.finally(() => {
            done++;
            inFlight.delete(tracked);
          });
          inFlight.add(tracked);
          if (inFlight.size >= 4) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      }),
    );
    await faults;

    // Every send ended with the server's answer (no disconnect(), reconnection never gives up).
    expect(sent.filter((s) => s.error).map((s) => `${s.error!.code} ${s.error!.message}`)).toEqual([]);
    const stored = sent.map((s) => s.message!);
    expect(new Set(stored.map((m) => m.messageId)).size).toBe(stored.length);

    // Every device gets what is meant for it, once; catch-up fills whatever a live packet missed.
    const expected = ids.map((_, r) => new Set(stored.filter((m, j) => (sent[j]!.chatType === 1 ? sent[j]!.from !== r : m.to === ids[r])).map((m) => m.messageId)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && received.some((got, r) => new Set(got.map((m) => m.messageId)).size < expected[r]!.size)) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const [r, got] of received.entries()) {
      const gotIds = got.map((m) => m.messageId);
      expect({ device: r, duplicates: gotIds.length - new Set(gotIds).size }).toEqual({ device: r, duplicates: 0 });
      expect({ device: r, missing: [...expected[r]!].filter((id) => !gotIds.includes(id)).length }).toEqual({ device: r, missing: 0 });
      // In seq order per conversation.
      const byConv = new Map<string, number[]>();
      for (const m of got) {
        const key = m.chatType === 1 ? m.to : [m.from, m.to].sort().join('|');
        byConv.set(key, [...(byConv.get(key) ?? []), m.seq]);
      }
      for (const seqs of byConv.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    // The group's sequence is gap-free: 1..N once each.
    const groupSeqs = stored.filter((_, j) => sent[j]!.chatType === 1).map((m) => m.seq).sort((a, b) => a - b);
    expect(groupSeqs).toEqual(Array.from({ length: groupSeqs.length }, (_, i) => i + 1));
  } finally {
    for (const c of clients) c.destroy();
  }
});
