/**
 * The chaos harness: many ImClients (web and weapp adapters mixed, each weapp client on its own wx
 * runtime) chat through a proxy that keeps cutting their connections, while the server restarts
 * on the same port and data dir. Afterwards everything is checked against the server's history
 * and database: each stored message reached each recipient exactly once and in order, every send
 * promise settled, and a rejected send is truly absent (E_TIMEOUT) or counted (E_SEND_UNCERTAIN).
 *
 * All randomness comes from one seed (printed in every report; CHAOS_SEED replays the choices).
 * Timing is real, so a replay repeats the plan and the fault schedule, not every interleaving.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWebAdapter } from '../../adapters/web';
import { createWeappAdapter } from '../../adapters/weapp';
import { ImClient } from '../../src/client';
import type { ImError } from '../../src/core/errors';
import type { ImMessage } from '../../src/core/protocol';
import { createWxRuntime, type WxRuntime } from '../../testing';
import { checkDatabase, type DbSummary } from './db-check';
import { createRng, type Rng } from './prng';
import { ChaosProxy, type ProxyStats } from './proxy';
import { ServerRunner, type ServerMode, type StopKind } from './server-runner';

export interface ChaosConfig {
  seed: number;
  /** Users, each with one client (device); see secondDevices. */
  users: number;
  /** The first n users get a second device of the other adapter kind (multi-device). */
  secondDevices: number;
  messages: number;
  restarts: number;
  groups: number;
  /** Every n-th client uses the weapp adapter on its own wx runtime (2 = half of them). */
  weappEvery: number;
  /** Sends one client keeps in flight at most. */
  window: number;
  /** The run's intended length: sends are paced to spread over it. */
  targetMs: number;
  cutMinMs: number;
  cutMaxMs: number;
  /** Share of cuts that leave the connection half-open (only the heartbeat notices). */
  blackholeChance: number;
  serverMode: ServerMode;
  /** How restarts stop the server, in turn. */
  stopKinds: StopKind[];
  /** Clients with a short sendTimeout, to exercise E_TIMEOUT while the server is down. */
  impatient: number;
  /**
   * Times a random client's app calls disconnect() with sends in flight and connect() again soon
   * after: its unanswered sends reject (E_SEND_UNCERTAIN if emitted, E_NOT_CONNECTED if not).
   */
  appDisconnects: number;
  /** Every 1-3 s a random weapp client's phone loses the network for 100-800 ms (wx runtime). */
  networkFlaps: boolean;
  /** Hard limit for the whole run; what is unfinished then is reported, never waited for. */
  deadlineMs: number;
  log?: (line: string) => void;
}

/** The ImClient settings the run needs (see docs/reliability.md). */
export const CHAOS_CLIENT_OPTIONS = {
  reconnectionAttempts: Infinity,
  reconnectionDelay: 25,
  timeout: 5000,
  pingInterval: 500,
  pingTimeout: 3000,
  sendTimeout: 120_000,
  logLevel: 'silent' as const,
};
export const IMPATIENT_SEND_TIMEOUT = 600;

type Outcome = 'pending' | 'resolved' | string; // string: the ImError code of a rejection

interface PlannedSend {
  client: number;
  index: number;
  chatType: 0 | 1;
  to: string;
  convKey: string;
  content: string;
  outcome: Outcome;
  message?: ImMessage;
  error?: string;
  /** From the resolved message or the rejection (ImError.clientMsgId). */
  clientMsgId?: string;
}

export interface ChaosReport {
  seed: number;
  config: Omit<ChaosConfig, 'log'>;
  durationMs: number;
  sends: {
    planned: number;
    resolved: number;
    timeout: number;
    timeoutAbsent: number;
    notConnected: number;
    uncertain: number;
    uncertainStored: number;
    otherRejections: number;
    unsettled: number;
  };
  stored: number;
  deliveries: { expected: number; received: number; duplicates: number; lost: number; unexpected: number; ownEchoes: number; outOfOrder: number };
  senderOrderViolations: number;
  proxy: ProxyStats;
  restarts: number;
  appDisconnects: number;
  networkFlaps: number;
  readyEvents: number;
  db: DbSummary;
  problems: string[];
}

interface Device {
  index: number;
  /** Index of the device's user. */
  user: number;
  userId: string;
  kind: 'web' | 'weapp';
  client: ImClient;
  runtime?: WxRuntime;
  token: string;
  received: ImMessage[];
  ready: number;
  inflight: number;
  /** The app has called disconnect(): its send loop waits. */
  away: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function api<T>(base: string, method: string, p: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const env = (await res.json()) as { code: number; message: string; data: T };
  if (env.code !== 0) throw new Error(`${method} ${p}: ${env.code} ${env.message}`);
  return env.data;
}

/** Every message of one conversation, oldest first, paging FORWARD. */
async function fullHistory(base: string, p: string, token: string): Promise<ImMessage[]> {
  const all: ImMessage[] = [];
  for (let after = 0; ; ) {
    const page = await api<ImMessage[]>(base, 'GET', `${p}?limitSize=100&msgSeqId=${after}&syncType=FORWARD`, undefined, token);
    if (!page.length) return all;
    all.push(...page);
    after = page[page.length - 1]!.seq;
  }
}

export async function runChaos(config: ChaosConfig): Promise<ChaosReport> {
  const log = config.log ?? (() => undefined);
  const rng: Rng = createRng(config.seed);
  const started = Date.now();
  const problems: string[] = [];
  const run = `r${config.seed.toString(36)}${Date.now().toString(36)}`;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'comind-im-chaos-'));
  const appId = 'chaos-app';
  const appSecret = 'chaos-secret-0123456789';
  const runner = new ServerRunner({ mode: config.serverMode, dataDir, appId, appSecret });
  let proxy: ChaosProxy | undefined;
  const devices: Device[] = [];
  let restartsDone = 0;
  let restartChain: Promise<void> = Promise.resolve();
  let disconnectsDone = 0;
  const appChain: Promise<void>[] = [];
  let flapTimer: ReturnType<typeof setTimeout> | undefined;
  let flaps = 0;

  try {
    await runner.start();
    proxy = new ChaosProxy(runner.socketPort);
    const proxyUrl = await proxy.listen();

    // ------------------------------------------------------------ users, groups, clients
    const users = Array.from({ length: config.users }, (_, i) => `${run}u${i}`);
    const tokens: string[] = [];
    for (const userId of users) {
      tokens.push((await api<{ token: string }>(runner.apiUrl, 'POST', '/api/token', { appId, appSecret, userId, userName: `Chaos ${userId}` })).token);
    }
    const groups: Array<{ id: string; members: number[] }> = [];
    for (let g = 0; g < config.groups; g++) {
      const size = rng.int(Math.min(3, config.users), Math.max(3, Math.ceil(config.users / 2)));
      const members = rng.shuffle([...users.keys()]).slice(0, size);
      const owner = members[0]!;
      const group = await api<{ id: string }>(runner.apiUrl, 'POST', '/api/groups', { name: `chaos ${g}`, userIdList: members.slice(1).map((m) => users[m]) }, tokens[owner]);
      groups.push({ id: group.id, members: members.sort((a, b) => a - b) });
    }

    const firstKind = (u: number) => (config.weappEvery > 0 && u % config.weappEvery === 1 % config.weappEvery ? 'weapp' : 'web');
    const deviceUsers = [...users.keys(), ...Array.from({ length: Math.min(config.secondDevices, config.users) }, (_, j) => j)];
    for (const [i, user] of deviceUsers.entries()) {
      const kind = i < config.users ? firstKind(user) : firstKind(user) === 'web' ? 'weapp' : 'web';
      const runtime = kind === 'weapp' ? createWxRuntime() : undefined;
      const adapter = runtime ? createWeappAdapter({ wx: runtime.wx as never }) : createWebAdapter();
      const client = new ImClient({
        ...CHAOS_CLIENT_OPTIONS,
        sendTimeout: i < config.impatient ? IMPATIENT_SEND_TIMEOUT : CHAOS_CLIENT_OPTIONS.sendTimeout,
        serverUrl: proxyUrl,
        apiServer: runner.apiUrl,
        adapter,
      });
      const device: Device = { index: i, user, userId: users[user]!, kind, client, runtime, token: tokens[user]!, received: [], ready: 0, inflight: 0, away: false };
      client.on('imchat', (m) => device.received.push(m));
      client.on('ready', () => device.ready++);
      client.on('error', () => undefined);
      devices.push(device);
    }
    await Promise.all(devices.map((d) => d.client.connect({ token: d.token })));
    const deadlineAt = started + config.deadlineMs;
    const waitUntil = async (check: () => boolean, what: string, limit = deadlineAt) => {
      while (!check()) {
        if (Date.now() > limit) throw new Error(`timed out waiting for ${what}`);
        await sleep(20);
      }
    };
    await waitUntil(() => devices.every((d) => d.ready > 0), 'every client ready');
    log(`seed ${config.seed}: ${config.users} users on ${devices.length} clients (${devices.filter((d) => d.kind === 'weapp').length} weapp), ${config.groups} groups, ${config.messages} messages, ${config.restarts} restarts, server ${config.serverMode}`);

    // ------------------------------------------------------------ the plan
    const plan: PlannedSend[][] = devices.map(() => []);
    for (let n = 0; n < config.messages; n++) {
      const device = n % devices.length;
      const sender = devices[device]!.user;
      const myGroups = groups.filter((g) => g.members.includes(sender));
      const toGroup = myGroups.length > 0 && rng.chance(0.5);
      let chatType: 0 | 1;
      let to: string;
      let convKey: string;
      if (toGroup) {
        const g = rng.pick(myGroups);
        chatType = 1;
        to = g.id;
        convKey = `g:${g.id}`;
      } else {
        let peer = rng.int(0, config.users - 2);
        if (peer >= sender) peer++;
        chatType = 0;
        to = users[peer]!;
        convKey = `p:${[users[sender], to].sort().join(':')}`;
      }
      const index = plan[device]!.length;
      // Unique per planned send (run|device|index), so history can be matched even for rejected sends.
      const extra = rng.chance(0.1) ? ' 你好 😀 <b>&amp;</b>' : '';
      plan[device]!.push({ client: device, index, chatType, to, convKey, content: `${run}|${device}|${index}${extra}`, outcome: 'pending' });
    }
    const allSends = plan.flat();

    // ------------------------------------------------------------ run
    proxy.startChaos(rng, { minMs: config.cutMinMs, maxMs: config.cutMaxMs, maxPerTick: 3, allChance: 0.05, blackholeChance: config.blackholeChance });
    const restartAt = Array.from({ length: config.restarts }, (_, k) => Math.floor(((k + 1) * config.messages) / (config.restarts + 1)));
    let issued = 0;
    const restartRng = createRng(rng.int(0, 0xffffffff));
    const disconnectAt = Array.from({ length: config.appDisconnects }, (_, k) => Math.floor(((k + 0.5) * config.messages) / (config.appDisconnects + 0.5)));
    const faultRng = createRng(rng.int(0, 0xffffffff));
    const maybeDisconnect = () => {
      while (disconnectAt.length && issued >= disconnectAt[0]!) {
        disconnectAt.shift();
        // Preferably one with sends in flight: that is what E_SEND_UNCERTAIN is about.
        const present = devices.filter((x) => !x.away);
        const busy = present.filter((x) => x.inflight > 0);
        const d = faultRng.pick(busy.length ? busy : present);
        const awayMs = faultRng.int(100, 600);
        disconnectsDone++;
        log(`app disconnect ${disconnectsDone}: client ${d.index} (${d.kind}) with ${d.inflight} sends in flight, away ${awayMs} ms`);
        d.away = true;
        d.client.disconnect();
        appChain.push(
          sleep(awayMs)
            .then(() => d.client.connect())
            .then(() => undefined)
            .catch((e) => {
              problems.push(`client ${d.index}: connect() after disconnect() failed: ${String(e?.message ?? e)}`);
            })
            .finally(() => {
              d.away = false;
            }),
        );
      }
    };
    const weapps = devices.filter((d) => d.runtime);
    const flap = () => {
      flapTimer = setTimeout(() => {
        const d = faultRng.pick(weapps);
        flaps++;
        d.runtime!.setNetwork(false);
        setTimeout(() => {
          if (!d.runtime!.destroyed) d.runtime!.setNetwork(true);
        }, faultRng.int(100, 800));
        flap();
      }, faultRng.int(1000, 3000));
    };
    if (config.networkFlaps && weapps.length) flap();
    const maybeRestart = () => {
      while (restartAt.length && issued >= restartAt[0]!) {
        restartAt.shift();
        const kind = config.stopKinds[restartsDone % config.stopKinds.length]!;
        const downMs = restartRng.int(200, 1200);
        restartsDone++;
        const k = restartsDone;
        restartChain = restartChain.then(async () => {
          log(`restart ${k}: ${kind} stop after ${issued} sends, down ${downMs} ms`);
          await runner.stop(kind);
          await sleep(downMs);
          await runner.start();
        });
      }
    };
    const gapMean = (config.targetMs * config.users) / config.messages;
    const sendLoop = async (d: Device) => {
      const crng = createRng((config.seed ^ (d.index * 0x9e3779b1)) >>> 0);
      for (const s of plan[d.index]!) {
        while (d.inflight >= config.window || d.away) {
          if (Date.now() > deadlineAt) return;
          await sleep(5);
        }
        await sleep(crng.int(0, Math.round(2 * gapMean)));
        d.inflight++;
        issued++;
        maybeRestart();
        maybeDisconnect();
        const promise = s.chatType === 0 ? d.client.sendPrivateMessage({ content: s.content, recipientId: s.to }) : d.client.sendGroupMessage({ content: s.content, groupId: s.to });
        promise.then(
          (m) => {
            s.outcome = 'resolved';
            s.message = m;
          },
          (err: ImError) => {
            s.outcome = err?.code ?? 'UNKNOWN';
            s.error = String(err?.message ?? err);
            s.clientMsgId = err?.clientMsgId;
          },
        ).finally(() => d.inflight--);
      }
    };
    await Promise.all(devices.map(sendLoop));
    await waitUntil(() => allSends.every((s) => s.outcome !== 'pending'), 'every send to settle').catch((e) => problems.push(String(e.message)));
    await restartChain;
    await Promise.all(appChain);
    proxy.stopChaos();
    if (flapTimer) clearTimeout(flapTimer);
    flapTimer = undefined;
    for (const d of weapps) d.runtime!.setNetwork(true);
    log(`sends settled after ${Date.now() - started} ms; ${proxy.stats.cuts} cuts, ${restartsDone} restarts`);

    // ------------------------------------------------------------ what the server stored
    const stored = new Map<string, ImMessage>(); // by messageId
    const storedByContent = new Map<string, ImMessage[]>();
    const convs = new Map<string, { path: string; token: string }>();
    for (const s of allSends) {
      if (!convs.has(s.convKey)) {
        convs.set(s.convKey, { path: s.chatType === 1 ? `/api/groups/${s.to}/messages` : `/api/private/${s.to}/messages`, token: devices[s.client]!.token });
      }
    }
    const byConv = new Map<string, ImMessage[]>();
    for (const [key, c] of convs) {
      const history = await fullHistory(runner.apiUrl, c.path, c.token);
      byConv.set(key, history);
      history.forEach((m, i) => {
        if (m.seq !== i + 1) problems.push(`history of ${key}: position ${i + 1} has seq ${m.seq}`);
        stored.set(m.messageId, m);
        const list = storedByContent.get(m.content) ?? [];
        list.push(m);
        storedByContent.set(m.content, list);
      });
    }

    // ------------------------------------------------------------ the sends
    /** Stored messages whose send ended E_SEND_UNCERTAIN: the sending device gets them as imchat. */
    const uncertainStored = new Set<string>();
    const sends = { planned: allSends.length, resolved: 0, timeout: 0, timeoutAbsent: 0, notConnected: 0, uncertain: 0, uncertainStored: 0, otherRejections: 0, unsettled: 0 };
    for (const [content, list] of storedByContent) if (list.length > 1) problems.push(`stored ${list.length} times: ${content}`);
    for (const s of allSends) {
      const found = storedByContent.get(s.content) ?? [];
      if (s.outcome === 'pending') {
        sends.unsettled++;
        problems.push(`never settled: ${s.content}`);
      } else if (s.outcome === 'resolved') {
        sends.resolved++;
        if (found.length !== 1 || found[0]!.messageId !== s.message!.messageId) problems.push(`resolved but not stored as answered: ${s.content}`);
      } else if (s.outcome === 'E_TIMEOUT') {
        sends.timeout++;
        if (found.length) problems.push(`E_TIMEOUT but stored (a timed-out message must never arrive): ${s.content}`);
        else sends.timeoutAbsent++;
      } else if (s.outcome === 'E_NOT_CONNECTED') {
        // disconnect() before the message was ever emitted: it must not be stored either.
        sends.notConnected++;
        if (found.length) problems.push(`E_NOT_CONNECTED but stored (the message was never sent): ${s.content}`);
      } else if (s.outcome === 'E_SEND_UNCERTAIN') {
        // The error's clientMsgId is how an app looks the message up; here it must agree with history.
        sends.uncertain++;
        if (!s.clientMsgId) problems.push(`E_SEND_UNCERTAIN without clientMsgId: ${s.content}`);
        if (found.length) {
          sends.uncertainStored++;
          if (found[0]!.clientMsgId !== s.clientMsgId) problems.push(`E_SEND_UNCERTAIN names ${s.clientMsgId}, history has ${found[0]!.clientMsgId}: ${s.content}`);
          uncertainStored.add(found[0]!.messageId);
        }
      } else {
        sends.otherRejections++;
        problems.push(`rejected with ${s.outcome}: ${s.content} (${s.error})`);
      }
    }
    for (const [content] of storedByContent) {
      if (!allSends.some((s) => s.content === content)) problems.push(`stored but never sent: ${content}`);
    }

    // Per sender device and conversation, the server kept the order of the sends that resolved.
    // (A send that ended E_SEND_UNCERTAIN may still arrive later, e.g. on a dying connection, and
    // then lands after what was sent meanwhile; docs/reliability.md says so.)
    let senderOrderViolations = 0;
    for (const list of plan) {
      const lastSeq = new Map<string, number>();
      for (const s of list) {
        const m = s.outcome === 'resolved' ? s.message : undefined;
        if (!m) continue;
        if ((lastSeq.get(s.convKey) ?? 0) >= m.seq) {
          senderOrderViolations++;
          if (senderOrderViolations <= 10) problems.push(`sender order: ${s.content} got seq ${m.seq} after ${lastSeq.get(s.convKey)}`);
        }
        lastSeq.set(s.convKey, m.seq);
      }
    }

    // ------------------------------------------------------------ deliveries
    // Every device of every member of the conversation (the sender's user included: its other
    // devices get the message too), except the device that sent it.
    const expectedFor = (m: ImMessage): number[] => {
      const members = m.chatType === 0 ? [users.indexOf(m.to), users.indexOf(m.from)] : groups.find((x) => x.id === m.to)!.members;
      const sentBy = Number(m.content.split('|')[1]);
      // ...except a send that ended E_SEND_UNCERTAIN but was stored: its own device learns of it
      // through imchat when it catches up (docs/reliability.md), exactly once like everyone else.
      return devices.filter((d) => members.includes(d.user) && (d.index !== sentBy || uncertainStored.has(m.messageId))).map((d) => d.index);
    };
    const expected = new Map<number, Set<string>>(devices.map((d) => [d.index, new Set<string>()]));
    let expectedCount = 0;
    for (const m of stored.values()) {
      for (const i of expectedFor(m)) {
        expected.get(i)!.add(m.messageId);
        expectedCount++;
      }
    }
    // Everyone connected again and caught up: what is missing now is lost.
    const quietAt = Date.now();
    await waitUntil(() => devices.every((d) => d.client.getStatus() === 'connected'), 'every client reconnected', Date.now() + 30000).catch((e) =>
      problems.push(String(e.message)),
    );
    const reconnectedMs = Date.now() - quietAt;
    const have = (d: Device) => new Set(d.received.map((m) => m.messageId));
    const complete = (d: Device) => {
      const got = have(d);
      return [...expected.get(d.index)!].every((id) => got.has(id));
    };
    const lateDevices = new Map<number, number>();
    await waitUntil(
      () => {
        for (const d of devices) if (!lateDevices.has(d.index) && complete(d)) lateDevices.set(d.index, Date.now() - quietAt);
        return lateDevices.size === devices.length;
      },
      'every delivery',
      Math.min(deadlineAt + 30000, Date.now() + 30000),
    ).catch(() => undefined);
    const slow = [...lateDevices].filter(([, ms]) => ms > 5000);
    log(`after the faults stopped: all connected in ${reconnectedMs} ms, all caught up in ${Math.max(0, ...lateDevices.values())} ms`);
    if (slow.length) {
      // Catch-up is bounded by a reconnect (at most reconnectionDelayMax) plus a sync: seconds, not more.
      problems.push(`slow catch-up after the faults stopped: ${slow.map(([i, ms]) => `client ${i} (${devices[i]!.kind}) ${ms} ms`).join(', ')}`);
    }
    await sleep(300); // late duplicates would show up now

    const deliveries = { expected: expectedCount, received: 0, duplicates: 0, lost: 0, unexpected: 0, ownEchoes: 0, outOfOrder: 0 };
    for (const d of devices) {
      const seen = new Map<string, number>();
      const lastSeq = new Map<string, number>();
      for (const m of d.received) {
        deliveries.received++;
        seen.set(m.messageId, (seen.get(m.messageId) ?? 0) + 1);
        if (Number(m.content.split('|')[1]) === d.index && !uncertainStored.has(m.messageId)) {
          deliveries.ownEchoes++;
          if (deliveries.ownEchoes <= 10) problems.push(`client ${d.index} (${d.kind}) got its own send as imchat: ${m.content}`);
        } else if (!expected.get(d.index)!.has(m.messageId)) {
          deliveries.unexpected++;
          problems.push(`client ${d.index} got a message it should not have: ${m.content}`);
        }
        const conv = m.chatType === 1 ? `g:${m.to}` : `p:${[m.from, m.to].sort().join(':')}`;
        if ((lastSeq.get(conv) ?? 0) >= m.seq) {
          deliveries.outOfOrder++;
          if (deliveries.outOfOrder <= 10) problems.push(`client ${d.index} (${d.kind}) order: ${conv} seq ${m.seq} after ${lastSeq.get(conv)}`);
        }
        lastSeq.set(conv, Math.max(lastSeq.get(conv) ?? 0, m.seq));
      }
      for (const [id, n] of seen) {
        if (n > 1) {
          deliveries.duplicates += n - 1;
          if (deliveries.duplicates <= 10) problems.push(`client ${d.index} (${d.kind}) saw ${stored.get(id)?.content ?? id} ${n} times`);
        }
      }
      const missing = [...expected.get(d.index)!].filter((id) => !seen.has(id));
      deliveries.lost += missing.length;
      if (missing.length) problems.push(`client ${d.index} (${d.kind}, status ${d.client.getStatus()}) never got ${missing.length}: ${missing.slice(0, 3).map((id) => stored.get(id)?.content).join(', ')}`);
    }

    // ------------------------------------------------------------ database
    for (const d of devices) d.client.destroy();
    const proxyStats = { ...proxy.stats, cutsByKind: { ...proxy.stats.cutsByKind } };
    await proxy.close();
    proxy = undefined;
    await runner.stop('graceful');
    const db = checkDatabase(dataDir);
    problems.push(...db.problems.map((p) => `database: ${p}`));
    if (db.messages !== stored.size) problems.push(`database has ${db.messages} messages, history showed ${stored.size}`);

    const report: ChaosReport = {
      seed: config.seed,
      config: { ...config, log: undefined } as Omit<ChaosConfig, 'log'>,
      durationMs: Date.now() - started,
      sends,
      stored: stored.size,
      deliveries,
      senderOrderViolations,
      proxy: proxyStats,
      restarts: restartsDone,
      appDisconnects: disconnectsDone,
      networkFlaps: flaps,
      readyEvents: devices.reduce((n, d) => n + d.ready, 0),
      db,
      problems,
    };
    return report;
  } finally {
    if (flapTimer) clearTimeout(flapTimer);
    for (const d of devices) {
      d.client.destroy();
      d.runtime?.destroy();
    }
    await restartChain.catch(() => undefined);
    if (proxy) await proxy.close().catch(() => undefined);
    await runner.stop('kill').catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
