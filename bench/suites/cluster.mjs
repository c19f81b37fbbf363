// Cluster: the same chat workload on one SQLite process (the baseline) and on 1, 2 and 3 nodes on
// one PostgreSQL and one Redis, all on this machine. PostgreSQL and Redis come from Debian's
// packages, started in temp dirs on free loopback ports by test/cluster/engines.ts (bundled here
// with esbuild, so the bench and the tests start them the same way).
//
// Workload: PAIRS sender/recipient pairs (raw socket.io-client 4, chat:send with acks), WINDOW sends
// in flight per sender; a pair's sender and recipient are on different nodes whenever there are
// two or more, so every message crosses Redis. Elapsed = first send until every ack is in and every
// recipient has every message. Latency = send → recipient's `imchat`, under that load and alone
// (one message at a time). CPU per message: all node processes, PostgreSQL (postmaster and its
// backends, from /proc) and Redis.
import { readFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { body, closeAll, emitAck, log, now, percentile, pool, rawImClient, ratio, require, root, startServer, waitFor } from '../lib/common.mjs';

const CLK_TCK = 100; // Linux's USER_HZ: /proc/<pid>/stat counts CPU in 1/100 s

async function engines() {
  const out = path.join(root, 'bench/.cache/engines.mjs');
  mkdirSync(path.dirname(out), { recursive: true });
  require('esbuild').buildSync({ entryPoints: [path.join(root, 'test/cluster/engines.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', logLevel: 'silent' });
  return import(pathToFileURL(out).href);
}

/** CPU seconds of a process and of its direct children (PostgreSQL's backends), from /proc. */
function procCpu(pid) {
  const stat = (p) => {
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK };
    } catch {
      return undefined;
    }
  };
  let total = stat(pid)?.cpu ?? 0;
  for (const entry of require('node:fs').readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (s?.ppid === pid) total += s.cpu;
  }
  return total;
}

const cpuSeconds = (u) => (u.user + u.system) / 1e6;

async function measure(nodes, { pairs, messages, window, idle, tag, engineCpu }) {
  const clients = [];
  try {
    const users = [];
    for (let i = 0; i < pairs; i++) users.push(`${tag}-s${i}`, `${tag}-r${i}`);
    await nodes[0].createUsers([...users, `${tag}-idle-a`, `${tag}-idle-b`]);
    const pairList = [];
    for (let i = 0; i < pairs; i++) {
      const sender = await rawImClient(nodes[i % nodes.length], `${tag}-s${i}`);
      const recipient = await rawImClient(nodes[(i + 1) % nodes.length], `${tag}-r${i}`);
      clients.push(sender, recipient);
      const p = { sender, to: `${tag}-r${i}`, got: 0, sentAt: new Map(), latencies: [] };
      recipient.on('imchat', (m) => {
        p.got++;
        const t0 = p.sentAt.get(m.clientMsgId);
        if (t0 !== undefined) p.latencies.push(now() - t0);
      });
      pairList.push(p);
    }
    let id = 0;
    const burst = async (perPair, record) => {
      const start = pairList.map((p) => p.got);
      const t0 = now();
      await Promise.all(
        pairList.map((p) =>
          pool(perPair, window, async (i) => {
            const clientMsgId = `${tag}-${++id}`;
            if (record) p.sentAt.set(clientMsgId, now());
            await emitAck(p.sender, 'chat:send', { clientMsgId, chatType: 0, to: p.to, content: body(`${tag} ${i}`), msgType: 0 });
          }),
        ),
      );
      await waitFor(() => pairList.every((p, k) => p.got - start[k] >= perPair), 60_000, `${tag}: every recipient has every message`);
      return now() - t0;
    };
    const perPair = Math.ceil(messages / pairs);
    await burst(Math.ceil(perPair / 5), false); // warm-up
    const c0 = await Promise.all(nodes.map((n) => n.cpu()));
    const e0 = engineCpu();
    const ms = await burst(perPair, true);
    const c1 = await Promise.all(nodes.map((n) => n.cpu()));
    const e1 = engineCpu();
    const total = perPair * pairs;
    const nodeCpu = c1.reduce((sum, c, i) => sum + cpuSeconds(c) - cpuSeconds(c0[i]), 0);
    const loaded = pairList.flatMap((p) => p.latencies).sort((a, b) => a - b);

    // Alone: one message at a time between two users on different nodes (when there are two).
    const a = await rawImClient(nodes[0], `${tag}-idle-a`);
    const b = await rawImClient(nodes[nodes.length > 1 ? 1 : 0], `${tag}-idle-b`);
    clients.push(a, b);
    const lone = [];
    for (let i = 0; i < idle; i++) {
      const got = new Promise((resolve) => b.once('imchat', resolve));
      const t0 = now();
      await emitAck(a, 'chat:send', { clientMsgId: `${tag}-idle-${i}`, chatType: 0, to: `${tag}-idle-b`, content: body(`idle ${i}`), msgType: 0 });
      await got;
      lone.push(now() - t0);
    }
    lone.sort((x, y) => x - y);
    const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
    return {
      messages: total,
      ms: Math.round(ms),
      perSec: Math.round((total / ms) * 1000),
      loadedLatency: { p50: round(percentile(loaded, 50), 2), p99: round(percentile(loaded, 99), 2) },
      idleLatency: { p50: round(percentile(lone, 50), 3), p99: round(percentile(lone, 99), 3) },
      nodeCpuUsPerMsg: round((nodeCpu / total) * 1e6),
      postgresCpuUsPerMsg: e0.postgres === undefined ? null : round(((e1.postgres - e0.postgres) / total) * 1e6),
      redisCpuUsPerMsg: e0.redis === undefined ? null : round(((e1.redis - e0.redis) / total) * 1e6),
    };
  } finally {
    closeAll(clients);
  }
}

export async function run({ quick }) {
  const { startPostgres, startRedis, postgresBin } = await engines();
  if (!postgresBin()) return { skipped: 'PostgreSQL is not installed (Debian: apt-get install postgresql redis-server)' };
  const opts = { pairs: 16, messages: quick ? 3200 : 16000, window: 8, idle: quick ? 100 : 400 };
  const results = {};
  const servers = [];
  const pg = await startPostgres({ maxConnections: 100, durable: true });
  const redis = await startRedis();
  try {
    log('cluster: one SQLite process');
    const sqlite = await startServer({ mode: 'im' });
    servers.push(sqlite);
    results.sqlite1 = await measure([sqlite], { ...opts, tag: 'sq1', engineCpu: () => ({}) });
    await sqlite.stop();
    const engineCpu = () => ({ postgres: procCpu(pg.pid), redis: procCpu(redis.pid) });
    const nodes = [];
    // pg1 without Redis first: what the Redis hop costs one node.
    for (const [name, k, withRedis] of [['pg1NoRedis', 1, false], ['pg1', 1, true], ['pg2', 2, true], ['pg3', 3, true]]) {
      // Each size on its own fresh nodes, all on the one database: conversations do not repeat (tags differ).
      for (const n of nodes.splice(0)) await n.stop();
      for (let i = 0; i < k; i++) {
        const node = await startServer({ mode: 'im', env: { BENCH_DATABASE_URL: pg.url, BENCH_REDIS_URL: withRedis ? redis.url : '' } });
        nodes.push(node);
        servers.push(node);
      }
      log(`cluster: ${k} node(s) on PostgreSQL${withRedis ? ' and Redis' : ''}`);
      results[name] = await measure(nodes, { ...opts, tag: name, engineCpu });
    }
    for (const n of nodes.splice(0)) await n.stop();
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    await redis.stop();
    await pg.stop();
  }
  const base = results.sqlite1;
  for (const r of Object.values(results)) {
    r.throughputRatio = ratio(r.perSec, base.perSec);
    r.idleP50Ratio = ratio(r.idleLatency.p50, base.idleLatency.p50);
  }
  return {
    ...opts,
    cores: require('node:os').cpus().length,
    runs: results,
    notes: [
      'Every process (clients, nodes, PostgreSQL, Redis) shares this machine\'s cores: more nodes add CPU contention, not capacity. What the run can show is the cost of the cluster path (PostgreSQL round trips, the Redis hop) and that 2 and 3 nodes stay correct under the same load; not how far it scales on separate machines.',
    ],
  };
}
