// Peers: the IM server against real XMPP servers on the same machine, same workloads, same
// durability (configs and helpers in bench/peers/, see bench/peers/README.md):
//   ours      the IM server (bench/lib/server-process.mjs), raw socket.io-client 4 connections
//             emitting chat:send (ack = stored), the fan-out sender an ImClient (web adapter)
//   ejabberd  Debian ejabberd 23.01, SQLite, mod_mam + mod_offline + persistent MUC with MAM
//   prosody   Debian Prosody 0.12, SQLite (LuaDBI), mod_mam + mod_offline + muc_mam
// Peers are driven over WebSocket (RFC 7395) by bench/peers/xmpp.mjs: SCRAM-SHA-1 logins, stream
// management (XEP-0198) <a h/> as the "handled and stored" ack, raw stanzas for the load.
// Durability levels, each measured:
//   full    ours with IM_DURABILITY=full (fsync per commit) vs the peers' SQLite defaults
//           (synchronous=FULL: fsync per commit), every store on the same disk;
//   nosync  ours with IM_DURABILITY=normal (WAL, no fsync per commit) vs the peers with their
//           SQLite file on tmpfs (fsync is a no-op; neither peer has a setting for it), ours on
//           the same tmpfs.
// Workloads: A->B latency one at a time (both online); throughput, window 100; fan-out to a
// 1,000-member room/group; reconnect: from opening a new connection to the first message missed
// while offline; memory per idle authenticated connection (server RSS delta) at two counts, each
// side on a fresh server of its own (see memory() and bench/peers/README.md), over WebSocket and,
// for the peers, over plain TCP c2s as a second row.
// Client CPU (process.cpuUsage) is reported next to each result: the load generator must not be
// what limits a figure.
import { body, emitAck, load, log, now, pool, rawImClient, ratio, rssOf, sleep, startServer, stats, token, waitFor, webImClient } from '../lib/common.mjs';
import { ensureInstalled, PASSWORD, startEjabberd, startProsody } from '../peers/servers.mjs';
import { escapeXml, XmppConnection } from '../peers/xmpp.mjs';

const round1 = (x) => (x == null ? null : Math.round(x * 10) / 10);

/** Runs fn with a deadline: a peer that stops answering becomes an error entry, never a hang. */
async function bounded(what, ms, fn) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU of this process (the load generator) and of the server over a workload. */
async function withCpu(serverCpuUs, fn) {
  const s0 = await serverCpuUs();
  const c0 = process.cpuUsage();
  const t0 = now();
  const result = await fn();
  const wallMs = now() - t0;
  const c1 = process.cpuUsage(c0);
  const s1 = await serverCpuUs();
  return { ...result, wallMs: Math.round(wallMs), clientCpuPct: Math.round(((c1.user + c1.system) / 1000 / wallMs) * 100), serverCpuPct: Math.round(((s1 - s0) / 1000 / wallMs) * 100) };
}

// ---- the drivers: one shape for ours and for the peers -------------------------------------

function oursDriver(server) {
  let seq = 0;
  return {
    name: 'ours',
    serverCpuUs: async () => {
      const c = await server.cpu();
      return c.user + c.system;
    },
    gc: 'global.gc() twice in the server process (node --expose-gc)',
    collect: () => server.mem(),
    rss: async () => rssOf(server.pid),
    vmMemory: 'V8 heapUsed',
    vmBytes: async () => (await server.call('mem', { gc: false })).heapUsed,
    createUsers: (ids) => server.createUsers(ids),
    async connect(user) {
      const s = await rawImClient(server, user);
      return {
        onMessage: (fn) => s.on('imchat', (m) => fn(m.content)),
        send: (to, content) => emitAck(s, 'chat:send', { clientMsgId: `p${++seq}`, chatType: 0, to, content, msgType: 0 }),
        close: () => s.disconnect(),
      };
    },
    /** A group of `ids` (the owner an ImClient), every member online: returns { members, send, close }. */
    async group(ownerId, ids) {
      const owner = await webImClient(server, ownerId);
      const g = await owner.createGroup({ name: `peers ${ids.length}`, userIdList: ids.slice(0, 500) });
      for (let i = 500; i < ids.length; i += 500) await owner.addGroupMembers({ groupId: g.id, userIdList: ids.slice(i, i + 500) });
      const members = new Array(ids.length);
      await pool(ids.length, 50, async (i) => {
        members[i] = await this.connect(ids[i]);
      });
      return {
        members,
        send: (content) => owner.sendGroupMessage({ groupId: g.id, content }),
        close: () => {
          owner.destroy();
          for (const m of members) m?.close();
        },
      };
    },
    /** B is an ImClient that disconnects and connects again (it catches up from its last inboxSeq). */
    async reconnector(user) {
      const c = await webImClient(server, user);
      let expect;
      c.on('imchat', (m) => expect && m.content === expect.content && expect.resolve(now()));
      return {
        leave: () => c.disconnect(),
        async back(content) {
          const got = new Promise((resolve) => (expect = { content, resolve }));
          const t0 = now();
          await c.connect();
          return (await got) - t0;
        },
        close: () => c.destroy(),
      };
    },
  };
}

function xmppDriver(peer) {
  let seq = 0;
  const jid = (u) => `${u}@${peer.domain}`;
  const connect = async (user, { transport = 'websocket', ...opts } = {}) => {
    const c = new XmppConnection({ url: peer.url, tcp: transport === 'tcp' ? peer.c2s : undefined, domain: peer.domain, user, password: PASSWORD });
    await c.connect(opts);
    return c;
  };
  return {
    name: peer.name,
    serverCpuUs: async () => peer.cpuUs(),
    gc: peer.gc,
    collect: () => peer.collect(),
    rss: async () => peer.rss(),
    vmMemory: peer.vmMemory,
    vmBytes: () => peer.vmBytes(),
    // Registered before the start (usersOf in run()).
    createUsers: async () => {},
    async connect(user, opts) {
      const c = await connect(user, opts);
      return {
        conn: c,
        onMessage: (fn) => c.on('message', (m) => fn(m.body)),
        send: (to, content) => c.ackedUpTo(c.sendWithAck(c.chat(jid(to), content, `p${++seq}`))),
        close: () => c.close(),
      };
    },
    async group(ownerId, ids) {
      const room = `room${Date.now()}@${peer.muc}`;
      const owner = await connect(ownerId);
      const joined = (c, nick) =>
        new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`${nick}: no room presence in 30 s`)), 30000);
          const on = (frame) => {
            if (frame.includes(`from='${room}/${nick}'`) || frame.includes(`from="${room}/${nick}"`)) {
              clearTimeout(t);
              c.off('presence', on);
              if (/type=['"]error/.test(frame)) reject(new Error(`${nick}: join refused: ${frame.slice(0, 300)}`));
              else resolve();
            }
          };
          c.on('presence', on);
        });
      const join = (c, nick) => {
        const p = joined(c, nick);
        c.send(`<presence xmlns='jabber:client' to='${room}/${nick}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`);
        return p;
      };
      await join(owner, ownerId);
      // An instant room (XEP-0045 10.1.2): ejabberd keeps a new room locked until configured.
      await owner.request(
        `<iq xmlns='jabber:client' type='set' id='cfg' to='${room}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
        (f) => f.includes("id='cfg'") || f.includes('id="cfg"'),
      );
      const members = new Array(ids.length);
      await pool(ids.length, 50, async (i) => {
        const c = await connect(ids[i]);
        await join(c, ids[i]);
        members[i] = { conn: c, onMessage: (fn) => c.on('message', (m) => m.type === 'groupchat' && fn(m.body)), close: () => c.close() };
      });
      return {
        members,
        send: (content) => owner.ackedUpTo(owner.sendWithAck(`<message xmlns='jabber:client' to='${room}' type='groupchat' id='g${++seq}'><body>${escapeXml(content)}</body></message>`)),
        close: () => {
          owner.close();
          for (const m of members) m?.close();
        },
      };
    },
    /** B ends its stream (no resumable session left), then logs in again on a new connection. */
    async reconnector(user) {
      let c = await connect(user);
      return {
        leave: () => c.close(),
        async back(content) {
          const t0 = now();
          c = new XmppConnection({ url: peer.url, domain: peer.domain, user, password: PASSWORD, resource: `r${++seq}` });
          const got = new Promise((resolve) => c.on('message', (m) => m.body === content && resolve(now())));
          await c.connect();
          return (await got) - t0;
        },
        close: () => c.close(),
      };
    },
  };
}

// ---- the workloads ------------------------------------------------------------------------

async function latency(d, { n, warm, prefix }) {
  await d.createUsers([`${prefix}-la`, `${prefix}-lb`]);
  const a = await d.connect(`${prefix}-la`);
  const b = await d.connect(`${prefix}-lb`);
  let current;
  b.onMessage((content) => {
    if (current && content === current.content) current.resolve(now());
  });
  const one = async (content) => {
    const recv = new Promise((resolve) => (current = { content, resolve }));
    const t0 = now();
    const ack = a.send(`${prefix}-lb`, content).then(() => now());
    const [tr, ta] = await Promise.all([recv, ack]);
    return { ms: tr - t0, ackMs: ta - t0 };
  };
  try {
    for (let i = 0; i < warm; i++) await one(body(`warm ${i}`));
    return await withCpu(d.serverCpuUs, async () => {
      const ms = [];
      const ackMs = [];
      for (let i = 0; i < n; i++) {
        const r = await one(body(`lat ${i}`));
        ms.push(r.ms);
        ackMs.push(r.ackMs);
      }
      return { messages: n, delivery: stats(ms), ack: stats(ackMs) };
    });
  } finally {
    a.close();
    b.close();
  }
}

async function throughput(d, { n, warm, prefix }) {
  await d.createUsers([`${prefix}-ta`, `${prefix}-tb`]);
  const a = await d.connect(`${prefix}-ta`);
  const b = await d.connect(`${prefix}-tb`);
  let got = 0;
  b.onMessage(() => got++);
  const burst = async (count, tag) => {
    const start = got;
    const t0 = now();
    await pool(count, 100, (i) => a.send(`${prefix}-tb`, body(`${tag} ${i}`)));
    await waitFor(() => got - start >= count, 120000, `${tag}: B to receive ${count}`);
    return now() - t0;
  };
  try {
    await burst(warm, 'warm');
    return await withCpu(d.serverCpuUs, async () => {
      const ms = await burst(n, 'tp');
      return { messages: n, window: 100, perSec: Math.round((n / ms) * 1000) };
    });
  } finally {
    a.close();
    b.close();
  }
}

async function fanout(d, { members, rounds, prefix }) {
  const ids = Array.from({ length: members }, (_, i) => `${prefix}-f${i}`);
  await d.createUsers([`${prefix}-fo`, ...ids]);
  const t0 = now();
  const g = await d.group(`${prefix}-fo`, ids);
  const setupMs = Math.round(now() - t0);
  let current;
  for (const m of g.members) m.onMessage((content) => current && content === current.content && current.times.push(now()));
  const one = async (tag) => {
    const c = { content: body(tag), times: [] };
    current = c;
    const t = now();
    await g.send(c.content);
    await waitFor(() => c.times.length >= members, 120000, `${tag}: all ${members} members`);
    current = null;
    c.times.sort((x, y) => x - y);
    return c.times[members - 1] - t;
  };
  try {
    await one('warm fan-out');
    return await withCpu(d.serverCpuUs, async () => {
      const last = [];
      for (let r = 0; r < rounds; r++) {
        last.push(await one(`fan-out ${r}`));
        await sleep(50);
      }
      return { members, rounds, setupMs, last: stats(last), msLast: stats(last).p50 };
    });
  } finally {
    g.close();
  }
}

// The same rule for every side: a server started for this step alone (nothing else has run in it,
// so no freed-but-kept heap of earlier workloads hides or inflates the delta), one warm-up login
// and logout (lazily loaded modules, SQL statements, pools), then at the base and after each count:
// a settle, a full GC where the server offers one (ours: global.gc; ejabberd: ejabberdctl gc;
// Prosody: collectgarbage through mod_admin_shell), a second settle, and the readings: the RSS of
// the server process and its children (not the runuser/sh wrappers), and the runtime's own count
// of its heap (V8 heapUsed, erlang:memory(total), Lua collectgarbage("count")) beside it.
const SETTLE_MS = 3000;
const AFTER_GC_MS = 1000;

async function memory(d, { counts, prefix, transport = 'websocket' }) {
  const max = Math.max(...counts);
  const ids = Array.from({ length: max }, (_, i) => `${prefix}-m${i}`);
  await d.createUsers([`${prefix}-mwarm`, ...ids]);
  const conns = [];
  const reading = async () => {
    await sleep(SETTLE_MS);
    await d.collect();
    await sleep(AFTER_GC_MS);
    return { rss: await d.rss(), vm: await d.vmBytes() };
  };
  try {
    const warm = await d.connect(`${prefix}-mwarm`, { transport });
    warm.close();
    const base = await reading();
    const out = { transport, freshServer: true, gc: d.gc, vmMemory: d.vmMemory, settleMs: SETTLE_MS, afterGcMs: AFTER_GC_MS, baseRssBytes: base.rss, baseVmBytes: base.vm };
    let loginMs = 0;
    let clientUs = 0;
    let serverUs = 0;
    let previous = { count: 0, ...base };
    for (const count of [...counts].sort((x, y) => x - y)) {
      // CPU over the logins only, not over the settles and GCs.
      const s0 = await d.serverCpuUs();
      const c0 = process.cpuUsage();
      const t0 = now();
      await pool(count - conns.length, 50, async () => {
        const i = conns.length;
        conns.push(null);
        conns[i] = await d.connect(ids[i], { transport });
      });
      loginMs += now() - t0;
      const c1 = process.cpuUsage(c0);
      clientUs += c1.user + c1.system;
      serverUs += (await d.serverCpuUs()) - s0;
      const r = await reading();
      out[count] = {
        rssDeltaBytes: r.rss - base.rss,
        bytesPerConnection: Math.round((r.rss - base.rss) / count),
        kibPerConnection: round1((r.rss - base.rss) / count / 1024),
        vmDeltaBytes: r.vm - base.vm,
        vmBytesPerConnection: Math.round((r.vm - base.vm) / count),
        ...(previous.count ? { marginalBytesPerConnection: Math.round((r.rss - previous.rss) / (count - previous.count)) } : {}),
      };
      previous = { count, ...r };
    }
    out.loginsPerSec = Math.round((conns.length / loginMs) * 1000);
    out.clientCpuPct = Math.round((clientUs / 1000 / loginMs) * 100);
    out.serverCpuPct = Math.round((serverUs / 1000 / loginMs) * 100);
    return out;
  } finally {
    for (const c of conns) c?.close();
    await sleep(500);
  }
}

async function reconnect(d, { rounds, prefix }) {
  await d.createUsers([`${prefix}-ra`, `${prefix}-rb`]);
  const a = await d.connect(`${prefix}-ra`);
  const b = await d.reconnector(`${prefix}-rb`);
  const ms = [];
  try {
    for (let r = 0; r < rounds; r++) {
      // B leaves; a message for it arrives while it is away (stored offline); B comes back.
      b.leave();
      await sleep(300);
      const content = body(`missed ${r}`);
      await a.send(`${prefix}-rb`, content);
      ms.push(await b.back(content));
      await sleep(300);
    }
    return { rounds, msToFirstMissed: stats(ms), ours: 'the same ImClient: disconnect(), then connect() (token login, catch-up sync)', peers: 'stream closed, then a new WebSocket, SCRAM login, bind, SM, presence (offline messages flushed)' };
  } finally {
    a.close();
    b.close();
  }
}

// ---- the suite ----------------------------------------------------------------------------

export async function run({ quick, offline }) {
  const P = quick
    ? { latency: 300, latWarm: 50, tp: 2000, tpWarm: 200, fanMembers: 1000, fanRounds: 3, memCounts: [1000, 2000], rcRounds: 3, stepMs: 120000 }
    : { latency: 2000, latWarm: 200, tp: 20000, tpWarm: 2000, fanMembers: 1000, fanRounds: 5, memCounts: [1000, 10000], rcRounds: 6, stepMs: 300000 };
  const LEVELS = ['full', 'nosync'];
  const out = {
    method: 'bench/suites/peers.mjs; peer configs in bench/peers/ (ejabberd.yml, prosody.cfg.lua, README.md)',
    counts: { latencyMessages: P.latency, throughputMessages: P.tp, window: 100, fanoutMembers: P.fanMembers, memoryConnections: P.memCounts, reconnectRounds: P.rcRounds },
    levels: {
      full: 'fsync per commit: ours IM_DURABILITY=full (WAL, synchronous=FULL); peers SQLite defaults (rollback journal, synchronous=FULL); all on the same disk',
      nosync: 'no fsync per commit: ours IM_DURABILITY=normal (WAL, synchronous=NORMAL); peers SQLite on tmpfs (fsync is a no-op; no setting for it in either peer); ours on the same tmpfs',
    },
    memoryMethod: 'level "full" only; per side and transport a server started for the step alone; one warm-up login; base and each count read after a 3 s settle, the server\'s full GC (gc) and 1 s: RSS of the server process and its children, and the runtime heap (vmMemory); memory = WebSocket, memoryTcp = plain TCP c2s (the peers only); bench/peers/README.md "Memory per connection"',
    ours: { levels: {} },
  };
  const step = async (at, label, name, fn) => {
    try {
      at[name] = await bounded(`${label} ${name}`, P.stepMs, fn);
    } catch (e) {
      at[name] = { error: String(e?.message ?? e).slice(0, 500) };
    }
    log(`peers: ${label} ${name}: ${JSON.stringify(summary(name, at[name]))}`);
  };
  const steps = async (d, level, prefix, target) => {
    const at = (target.levels[level] = {});
    const label = `${d.name} ${level}`;
    await step(at, label, 'latency', () => latency(d, { n: P.latency, warm: P.latWarm, prefix }));
    await step(at, label, 'throughput', () => throughput(d, { n: P.tp, warm: P.tpWarm, prefix }));
    await step(at, label, 'fanout', () => fanout(d, { members: P.fanMembers, rounds: P.fanRounds, prefix }));
    if (level === 'full') await step(at, label, 'reconnect', () => reconnect(d, { rounds: P.rcRounds, prefix }));
  };
  // The memory rows ("full" level): per transport, a server started for the row alone.
  // startFresh() -> { driver, stop }.
  const memoryRows = async (at, label, transports, prefix, startFresh, note) => {
    for (const transport of transports) {
      const name = transport === 'websocket' ? 'memory' : 'memoryTcp';
      let fresh;
      try {
        fresh = await bounded(`${label} ${name}: fresh server`, 180000, startFresh);
      } catch (e) {
        at[name] = { transport, error: `could not start a fresh server: ${String(e?.message ?? e).slice(0, 400)}` };
        log(`peers: ${label} ${name}: ${at[name].error}`);
        continue;
      }
      try {
        await step(at, label, name, async () => ({ ...(await memory(fresh.driver, { counts: P.memCounts, prefix, transport })), ...(note ? { serverSettings: note } : {}) }));
      } finally {
        await fresh.stop();
      }
    }
  };

  // Every account a level uses, known up front: the peers get them before they start (Prosody's
  // SQLite file must not be written by a second process while Prosody has it open).
  const usersOf = (prefix) => [...['la', 'lb', 'ta', 'tb', 'fo', 'ra', 'rb'].map((k) => `${prefix}-${k}`), ...Array.from({ length: P.fanMembers }, (_, i) => `${prefix}-f${i}`)];
  const memoryUsersOf = (prefix) => [`${prefix}-mwarm`, ...Array.from({ length: Math.max(...P.memCounts) }, (_, i) => `${prefix}-m${i}`)];
  const envOf = (level) => ({ BENCH_DURABILITY: level === 'full' ? 'full' : 'normal', ...(level === 'nosync' ? { TMPDIR: '/dev/shm' } : {}) });
  for (const level of LEVELS) {
    const server = await startServer({ env: envOf(level) });
    try {
      await steps(oursDriver(server), level, `o${level}`, out.ours);
    } finally {
      await server.stop();
    }
  }
  await memoryRows(out.ours.levels.full, 'ours full', ['websocket'], 'ofull', async () => {
    const server = await startServer({ env: envOf('full') });
    return { driver: oursDriver(server), stop: () => server.stop() };
  });

  for (const [name, start] of [
    ['ejabberd', startEjabberd],
    ['prosody', startProsody],
  ]) {
    const entry = (out[name] = { levels: {} });
    const reason = ensureInstalled(name, { offline });
    if (reason) {
      out[name] = { skipped: reason };
      log(`peers: ${name} skipped: ${reason}`);
      continue;
    }
    for (const level of LEVELS) {
      let peer;
      try {
        peer = await bounded(`${name} start`, 180000, () => start({ nosync: level === 'nosync', users: usersOf(`${name[0]}${level}`) }));
      } catch (e) {
        entry.levels[level] = { skipped: `could not start: ${String(e?.message ?? e).slice(0, 400)}` };
        log(`peers: ${name} ${level} skipped: ${entry.levels[level].skipped}`);
        continue;
      }
      try {
        entry.version = peer.version;
        entry.storage ??= {};
        entry.storage[level] = peer.storage;
        entry.toolRegistration = peer.ctlRegister;
        await steps(xmppDriver(peer), level, `${name[0]}${level}`, entry);
      } finally {
        await peer.stop();
      }
    }
    const full = entry.levels.full;
    if (full && !full.skipped) {
      // Prosody's mod_smacks preallocates its queue per session: the load steps' 100,000 slots
      // would be 1.6 MB of every idle connection; the memory rows run with its default.
      const note = name === 'prosody' ? 'smacks_max_queue_size = 500 (mod_smacks default; the load steps use 100,000, preallocated per session)' : undefined;
      const prefix = `${name[0]}full`;
      await memoryRows(full, `${name} full`, ['websocket', 'tcp'], prefix, async () => {
        const peer = await start({ nosync: false, users: memoryUsersOf(prefix), smacksQueue: 500 });
        return { driver: xmppDriver(peer), stop: () => peer.stop() };
      }, note);
    }
    if (Object.values(entry.levels).every((l) => l.skipped)) out[name] = { skipped: entry.levels.full?.skipped ?? 'could not start', version: entry.version ?? null };
  }

  // Ratios, ours / theirs, at each level; the headline keys at equal durability with fsync ("full").
  const get = (o, level, pathFn) => {
    try {
      return pathFn(o.levels[level]) ?? null;
    } catch {
      return null;
    }
  };
  const metric = {
    latencyP50: (l) => l.latency.delivery.p50,
    throughput: (l) => l.throughput.perSec,
    fanout1000: (l) => l.fanout.msLast,
    // The WebSocket row at the largest count; a delta at or below zero is noise, not a figure.
    memoryPerConnection: (l) => {
      const counts = Object.keys(l.memory).filter((k) => /^\d+$/.test(k));
      const b = l.memory[counts.sort((x, y) => y - x)[0]].bytesPerConnection;
      return b > 0 ? b : null;
    },
    reconnect: (l) => l.reconnect.msToFirstMissed.p50,
  };
  for (const name of ['ejabberd', 'prosody']) {
    const e = out[name];
    if (e.skipped) continue;
    for (const level of LEVELS) {
      const r = (k) => ratio(get(out.ours, level, metric[k]), get(e, level, metric[k]));
      e.levels[level].ratios = { latencyP50Ratio: r('latencyP50'), throughputRatio: r('throughput'), fanout1000Ratio: r('fanout1000'), ...(level === 'full' ? { memoryPerConnectionRatio: r('memoryPerConnection'), reconnectRatio: r('reconnect') } : {}) };
    }
    Object.assign(e, { durability: 'full', ...e.levels.full.ratios, nosync: e.levels.nosync?.ratios ?? null });
  }
  return out;
}

function summary(name, r) {
  if (!r || r.error) return r;
  if (name === 'latency') return { p50: r.delivery.p50, p99: r.delivery.p99, clientCpuPct: r.clientCpuPct, serverCpuPct: r.serverCpuPct };
  if (name === 'throughput') return { perSec: r.perSec, clientCpuPct: r.clientCpuPct, serverCpuPct: r.serverCpuPct };
  if (name === 'fanout') return { msLast: r.msLast, setupMs: r.setupMs, clientCpuPct: r.clientCpuPct };
  if (name === 'memory' || name === 'memoryTcp') {
    const counts = Object.keys(r).filter((k) => /^\d+$/.test(k));
    return { transport: r.transport, ...Object.fromEntries(counts.map((k) => [k, `${r[k].kibPerConnection} KiB RSS, ${round1(r[k].vmBytesPerConnection / 1024)} KiB ${r.vmMemory}`])), loginsPerSec: r.loginsPerSec, clientCpuPct: r.clientCpuPct, serverCpuPct: r.serverCpuPct };
  }
  if (name === 'reconnect') return { p50: r.msToFirstMissed.p50 };
  return r;
}
