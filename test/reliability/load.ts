/**
 * The load harness: N raw socket.io-client 4 connections at once, each sending M messages (mostly
 * private to random peers, some to groups) as fast as the acks come back. Checks: every send is
 * acknowledged with code 0, every recipient socket gets every message exactly once, each user's
 * inbox seqs seen (live imchat plus own acks) are exactly 1..latest, and the database is consistent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { checkDatabase, type DbSummary } from './db-check';
import { createRng } from './prng';
import { ServerRunner, type ServerMode } from './server-runner';

export interface LoadConfig {
  seed: number;
  clients: number;
  messagesEach: number;
  /** Groups of `groupSize` members; a tenth of the messages go to a group of the sender. */
  groups: number;
  groupSize: number;
  serverMode: ServerMode;
  deadlineMs: number;
}

export interface LoadReport {
  seed: number;
  clients: number;
  messages: number;
  connectMs: number;
  sendMs: number;
  deliverMs: number;
  ackLatencyMs: { p50: number; p99: number; max: number };
  errors: string[];
  deliveries: { expected: number; received: number; duplicates: number; lost: number };
  inboxGaps: number;
  openHandlesAfter: number;
  db: DbSummary;
  problems: string[];
}

interface Env {
  code: number;
  message: string;
  data?: any;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function pool<T>(items: T[], width: number, work: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

export async function runLoad(config: LoadConfig): Promise<LoadReport> {
  const rng = createRng(config.seed);
  const problems: string[] = [];
  const errors: string[] = [];
  const dataDir = mkdtempSync(path.join(tmpdir(), 'comind-im-load-'));
  const appId = 'load-app';
  const appSecret = 'load-secret-0123456789';
  const runner = new ServerRunner({ mode: config.serverMode, dataDir, appId, appSecret, rateLimit: 1_000_000, rateBurst: 1_000_000 });
  const sockets: Socket[] = [];
  const run = `l${config.seed.toString(36)}`;
  const deadline = Date.now() + config.deadlineMs;
  try {
    await runner.start();
    const api = async (method: string, p: string, body: unknown, token?: string): Promise<any> => {
      const res = await fetch(`${runner.apiUrl}${p}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      const env = (await res.json()) as Env;
      if (env.code !== 0) throw new Error(`${method} ${p}: ${env.code} ${env.message}`);
      return env.data;
    };
    const users = Array.from({ length: config.clients }, (_, i) => `${run}u${i}`);
    const tokens: string[] = new Array(config.clients);
    await pool(users, 32, async (userId, i) => {
      tokens[i] = (await api('POST', '/api/token', { appId, appSecret, userId })).token;
    });
    const groups: Array<{ id: string; members: number[] }> = [];
    for (let g = 0; g < config.groups; g++) {
      const members = rng.shuffle([...users.keys()]).slice(0, config.groupSize);
      const created = await api('POST', '/api/groups', { name: `load ${g}`, userIdList: members.slice(1).map((m) => users[m]) }, tokens[members[0]!]);
      groups.push({ id: created.id, members });
    }

    // ------------------------------------------------------------ connect everyone
    const received: Array<Map<string, number>> = users.map(() => new Map());
    const inboxSeen: Array<Set<number>> = users.map(() => new Set());
    // Group messages have no inbox position (read diffusion): their seqs per group instead.
    const groupSeen: Array<Map<string, Set<number>>> = users.map(() => new Map());
    const seeGroup = (i: number, groupId: string, seq: number) => {
      const seen = groupSeen[i]!.get(groupId) ?? new Set<number>();
      seen.add(seq);
      groupSeen[i]!.set(groupId, seen);
    };
    const latest: number[] = new Array(config.clients).fill(0);
    const connectStart = Date.now();
    await pool(users, 100, async (_u, i) => {
      const socket = io(runner.socketUrl, { auth: { token: tokens[i] }, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 20000 });
      sockets[i] = socket;
      socket.on('imchat', (m: { messageId: string; inboxSeq?: number; chatType: number; to: string; seq: number }) => {
        received[i]!.set(m.messageId, (received[i]!.get(m.messageId) ?? 0) + 1);
        if (typeof m.inboxSeq === 'number') inboxSeen[i]!.add(m.inboxSeq);
        else if (m.chatType === 1) seeGroup(i, m.to, m.seq);
      });
      socket.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect') problems.push(`client ${i} disconnected: ${reason}`);
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('session', () => resolve());
        socket.once('connect_error', (e) => reject(new Error(`client ${i} could not connect: ${e.message}`)));
      });
    });
    const connectMs = Date.now() - connectStart;

    // ------------------------------------------------------------ everyone sends at once
    const plan = users.map((_u, i) =>
      Array.from({ length: config.messagesEach }, (_, k) => {
        const mine = groups.filter((g) => g.members.includes(i));
        if (mine.length && rng.chance(0.1)) return { chatType: 1 as const, to: rng.pick(mine).id, content: `${run}|${i}|${k}` };
        let peer = rng.int(0, config.clients - 2);
        if (peer >= i) peer++;
        return { chatType: 0 as const, to: users[peer]!, content: `${run}|${i}|${k}` };
      }),
    );
    const latencies: number[] = [];
    const stored: Array<{ messageId: string; from: number; chatType: 0 | 1; to: string }> = [];
    const sendStart = Date.now();
    await Promise.all(
      sockets.map(async (socket, i) => {
        for (const [k, m] of plan[i]!.entries()) {
          const t0 = Date.now();
          const ack = await new Promise<Env | 'timeout'>((resolve) => {
            const timer = setTimeout(() => resolve('timeout'), Math.max(1000, deadline - Date.now()));
            socket.emit('chat:send', { clientMsgId: `${run}c${i}x${k}`, ...m }, (res: Env) => {
              clearTimeout(timer);
              resolve(res);
            });
          });
          latencies.push(Date.now() - t0);
          if (ack === 'timeout' || ack.code !== 0) {
            errors.push(`client ${i} message ${k}: ${ack === 'timeout' ? 'no ack' : `${ack.code} ${ack.message}`}`);
            continue;
          }
          stored.push({ messageId: ack.data.messageId, from: i, chatType: m.chatType, to: m.to });
          if (typeof ack.data.inboxSeq === 'number') inboxSeen[i]!.add(ack.data.inboxSeq);
          else seeGroup(i, m.to, ack.data.seq);
        }
      }),
    );
    const sendMs = Date.now() - sendStart;

    // ------------------------------------------------------------ deliveries
    const expected: Array<Set<string>> = users.map(() => new Set());
    const userIndex = new Map(users.map((u, i) => [u, i]));
    for (const m of stored) {
      if (m.chatType === 0) expected[userIndex.get(m.to)!]!.add(m.messageId);
      else for (const r of groups.find((g) => g.id === m.to)!.members) if (r !== m.from) expected[r]!.add(m.messageId);
    }
    const expectedCount = expected.reduce((n, s) => n + s.size, 0);
    const receivedCount = () => received.reduce((n, r) => n + r.size, 0);
    while (receivedCount() < expectedCount && Date.now() < deadline) await sleep(20);
    await sleep(200);
    const deliverMs = Date.now() - sendStart;
    let duplicates = 0;
    let lost = 0;
    let total = 0;
    received.forEach((r, i) => {
      for (const [id, n] of r) {
        total += n;
        if (n > 1) duplicates += n - 1;
        if (!expected[i]!.has(id)) problems.push(`client ${i} got a message not meant for it`);
      }
      for (const id of expected[i]!) if (!r.has(id)) lost++;
    });
    if (duplicates) problems.push(`${duplicates} duplicate deliveries`);
    if (lost) problems.push(`${lost} deliveries lost`);

    // Each user's inbox, as seen live: exactly 1..latest, nothing skipped.
    await pool(users, 50, async (_u, i) => {
      const sync = await new Promise<Env>((resolve) => sockets[i]!.emit('chat:sync', { afterInboxSeq: 0, limit: 1 }, resolve));
      latest[i] = sync.data.latestInboxSeq;
    });
    let inboxGaps = 0;
    inboxSeen.forEach((seen, i) => {
      for (let s = 1; s <= latest[i]!; s++) if (!seen.has(s)) inboxGaps++;
      if (seen.size !== latest[i]) problems.push(`client ${i}: saw ${seen.size} inbox seqs, latest is ${latest[i]}`);
    });
    if (inboxGaps) problems.push(`${inboxGaps} inbox seqs never seen live`);
    // Each member saw every seq of each of its groups, live or as its own ack: 1..last, no gap.
    for (const g of groups) {
      const last = stored.filter((m) => m.chatType === 1 && m.to === g.id).length;
      for (const r of g.members) {
        const seen = groupSeen[r]!.get(g.id) ?? new Set<number>();
        for (let s = 1; s <= last; s++) if (!seen.has(s)) inboxGaps++;
        if (seen.size !== last) problems.push(`client ${r}: saw ${seen.size} seqs of group ${g.id}, it has ${last}`);
      }
    }
    if (errors.length) problems.push(`${errors.length} sends failed, e.g. ${errors.slice(0, 3).join('; ')}`);

    for (const s of sockets) s.disconnect();
    sockets.length = 0;
    await runner.stop('graceful');
    const db = checkDatabase(dataDir);
    problems.push(...db.problems.map((p) => `database: ${p}`));
    if (db.messages !== stored.length) problems.push(`database has ${db.messages} messages, ${stored.length} were acknowledged`);
    latencies.sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
    return {
      seed: config.seed,
      clients: config.clients,
      messages: config.clients * config.messagesEach,
      connectMs,
      sendMs,
      deliverMs,
      ackLatencyMs: { p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] ?? 0 },
      errors,
      deliveries: { expected: expectedCount, received: total, duplicates, lost },
      inboxGaps,
      openHandlesAfter: process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPWrap').length,
      db,
      problems,
    };
  } finally {
    for (const s of sockets) s?.disconnect();
    await runner.stop('kill').catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function formatLoad(r: LoadReport): string {
  return [
    `seed ${r.seed}: ${r.clients} concurrent clients, ${r.messages} messages`,
    `connect ${(r.connectMs / 1000).toFixed(1)} s, all acked in ${(r.sendMs / 1000).toFixed(1)} s (${Math.round(r.messages / (r.sendMs / 1000))} msg/s), all delivered by ${(r.deliverMs / 1000).toFixed(1)} s`,
    `ack latency p50 ${r.ackLatencyMs.p50} ms, p99 ${r.ackLatencyMs.p99} ms, max ${r.ackLatencyMs.max} ms`,
    `errors ${r.errors.length}; deliveries ${r.deliveries.expected} expected, ${r.deliveries.received} received, duplicates ${r.deliveries.duplicates}, lost ${r.deliveries.lost}; inbox gaps ${r.inboxGaps}`,
    `database: ${r.db.messages} messages, ${r.db.inboxEntries} inbox entries, ${r.db.problems.length} problems`,
  ].join('\n');
}
