/**
 * Property-based fuzzing of the server's whole surface (docs/protocol.md sections 5 and 6) with
 * fast-check: every socket event and every HTTP endpoint gets random and malformed input (wrong
 * types, huge strings, deep nesting, unicode, `__proto__` / `constructor` keys, broken JSON, bad
 * packets). The server must answer every one with an envelope carrying a code of section 3 (never
 * 50000: bad input is the client's error, not the server's), must never crash or hang, and its
 * database must be consistent afterwards. Runs are bounded (numRuns) to keep `npm test` fast;
 * FUZZ_RUNS scales them, FUZZ_SEED replays one.
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as ioV4, type Socket } from 'socket.io-client';
import { createImServer, mintToken, type ImServer } from '../../server/src';
import { checkDatabase } from './db-check';
import { RawSocket } from './raw-socket';

const CODES = new Set([0, 40000, 40100, 40101, 40102, 40103, 40300, 40301, 40400, 40900, 41300, 42900, 50000, 50300]);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const params = (n: number): fc.Parameters<unknown> => ({ numRuns: runs(n), ...(SEED === undefined ? {} : { seed: SEED }), endOnFailure: true });
const clip = (s: string, n = 1500) => (s.length > n ? `${s.slice(0, n / 2)} … ${s.slice(-n / 2)} (${s.length} characters)` : s);

/** fc.assert with a readable failure: counterexamples here can be megabytes of text. */
async function check<T>(prop: fc.IAsyncPropertyWithHooks<T>, p: fc.Parameters<T>): Promise<void> {
  const out = await fc.check(prop, p);
  if (out.failed) {
    const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
    throw new Error(`property failed (seed ${out.seed}, path ${out.counterexamplePath}; replay with FUZZ_SEED=${out.seed}):\n${clip(cause)}\ncounterexample: ${clip(fc.stringify(out.counterexample), 600)}`);
  }
}
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

let server: ImServer;
let dataDir: string;
let apiUrl: string;
let socketUrl: string;
const appId = 'fuzz-app';
const appSecret = 'fuzz-secret-0123456789';
const tokens: Record<string, string> = {};
let groupId: string;
let messageId: string;
const sockets: Socket[] = [];
const raws: RawSocket[] = [];

interface Env {
  code: number;
  message: string;
  data?: unknown;
}

async function http(method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: Env }> {
  const res = await fetch(`${apiUrl}${p}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Env };
}

function connect(token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = ioV4(socketUrl, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(s);
    const timer = setTimeout(() => reject(new Error('no session')), 5000);
    s.once('session', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('connect_error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function call(s: Socket, event: string, ...args: unknown[]): Promise<Env | 'no-ack'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('no-ack'), 3000);
    s.emit(event, ...args, (res: Env) => {
      clearTimeout(timer);
      resolve(res);
    });
  });
}

/** The envelope rule every answer must satisfy. */
function checkEnvelope(res: unknown, where: string): Env {
  if (res === 'no-ack' || res === 'closed') throw new Error(`${where}: ${res} (the server hung or dropped the connection)`);
  const env = res as Env;
  if (!env || typeof env !== 'object' || typeof env.code !== 'number' || !CODES.has(env.code) || typeof env.message !== 'string') {
    throw new Error(`${where}: not an envelope with a protocol code: ${JSON.stringify(res)?.slice(0, 200)}`);
  }
  if (env.code === 50000) throw new Error(`${where}: internal error (50000) on client input: ${env.message}`);
  if (env.code !== 0 && (env.data !== undefined || env.message.length === 0)) throw new Error(`${where}: error envelope with data or without message`);
  return env;
}

// ---------------------------------------------------------------- arbitraries

const nastyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', '', ' ', '\u0000', '😀', '$where', 'a.b', 'k'.repeat(300));
const nastyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\udfff', '\u202e', '<script>alert(1)</script>', "'; DROP TABLE messages; --", '../../etc/passwd', '%00', 'null', 'undefined', 'NaN', '-1', '1e309', '0x10'),
  fc.constantFrom(20_000, 33_000, 41_000).map((n) => 'x'.repeat(n)),
  fc.constant('好'.repeat(11_000)),
);
const nastyNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 1, 2, 1.5, -0, 2 ** 31, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308));
/** Any JSON-ish value, with hostile keys and strings; JSON turns -0/NaN/Infinity into 0/null, as the wire does. */
const nastyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    nastyNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(nastyKey, fc.string({ maxLength: 10 })), tie('value'), { maxKeys: 5 }),
  ),
})).value;
/** A valid payload with one field replaced or added (the interesting boundary). */
function mutated(base: () => Record<string, unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(fc.oneof(fc.constantFrom(...Object.keys(base())), nastyKey, fc.string({ maxLength: 8 })), nastyValue).map(([k, v]) => {
    const o = base();
    Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
    return o;
  });
}
const deepArray = fc.integer({ min: 10, max: 30_000 }).map((d) => '['.repeat(d) + ']'.repeat(d));
const deepObject = fc.integer({ min: 10, max: 12_000 }).map((d) => '{"a":'.repeat(d) + '1' + '}'.repeat(d));

let counter = 0;
const cid = () => `fz${Date.now().toString(36)}${++counter}`;
const validSend = () => ({ clientMsgId: cid(), chatType: 0, to: 'fuzz-b', content: 'hello', msgType: 0 });
const validGroupSend = () => ({ clientMsgId: cid(), chatType: 1, to: groupId, content: 'hi group', data: { k: 1 } });
const validSync = () => ({ afterInboxSeq: 0, limit: 5 });
const validReceipt = () => ({ messageId, status: 2, to: 'fuzz-a' });
const validRenew = () => ({ token: tokens.b! });

const EVENTS: Array<[string, () => Record<string, unknown>]> = [
  ['chat:send', validSend],
  ['chat:sync', validSync],
  ['receipt', validReceipt],
  ['heartbeat', () => ({ ts: 1 })],
  ['token:renew', validRenew],
];

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'comind-im-fuzz-'));
  server = createImServer({
    host: '127.0.0.1',
    apiPort: 0,
    socketPort: 0,
    dataDir,
    devAppId: appId,
    devAppSecret: appSecret,
    extraApps: [{ appId: 'fuzz-other', appSecret: 'fuzz-other-secret' }],
    rateLimit: 1_000_000,
    rateBurst: 1_000_000,
  });
  const info = await server.start();
  apiUrl = info.apiUrl;
  socketUrl = info.socketUrl;
  for (const u of ['a', 'b', 'c']) {
    tokens[u] = ((await http('POST', '/api/token', { appId, appSecret, userId: `fuzz-${u}`, userName: u.toUpperCase() })).body.data as { token: string }).token;
  }
  groupId = ((await http('POST', '/api/groups', { name: 'fuzz', userIdList: ['fuzz-b'] }, tokens.a)).body.data as { id: string }).id;
  const a = await connect(tokens.a!);
  const first = (await call(a, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'fuzz-b', content: 'seed message' })) as Env;
  messageId = (first.data as { messageId: string }).messageId;
});

afterAll(async () => {
  for (const s of sockets.splice(0)) s.disconnect();
  for (const r of raws.splice(0)) r.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

afterEach(async () => {
  // After every property: the server is alive, serves HTTP and sockets, nothing leaked into
  // Object.prototype, and the database holds together.
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect((await http('GET', '/health')).status).toBe(200);
  const probe = await connect(tokens.c!);
  expect(checkEnvelope(await call(probe, 'heartbeat', {}), 'probe heartbeat').code).toBe(0);
  probe.disconnect();
  const db = checkDatabase(dataDir, server.storage);
  expect(db.problems).toEqual([]);
});

// ---------------------------------------------------------------- socket events

describe('socket events under random input', () => {
  it.each(EVENTS)('%s: random values, mutated valid payloads, extra and missing arguments', async (event, valid) => {
    const s = await connect(tokens.b!);
    const payload = fc.oneof(nastyValue, mutated(valid), fc.constant(undefined));
    // Under the 100,000-byte packet limit (over it the server closes the connection by design;
    // test/server/socket.test.ts covers that).
    const args = fc.tuple(payload, fc.array(nastyValue, { maxLength: 2 })).filter(([p, extra]) => bytes([event, p, ...extra]) < 90_000);
    await check(
      fc.asyncProperty(args, async ([p, extra]) => {
        const env = checkEnvelope(await call(s, event, p, ...extra), `${event} ${JSON.stringify(p)?.slice(0, 120)}`);
        if (!s.connected) throw new Error(`${event}: the connection closed on a payload under the size limit`);
        return env.code !== undefined;
      }),
      params(60),
    );
    s.disconnect();
  });

  it('every event: arbitrary JSON text, deep nesting and broken packets over a bare WebSocket', async () => {
    const first = await RawSocket.connect(socketUrl, tokens.b!);
    raws.push(first);
    const eventName = fc.oneof(fc.constantFrom(...EVENTS.map(([e]) => e)), fc.constantFrom('', 'connect', 'disconnect', 'session', 'imchat', '__proto__', 'constructor'), fc.string({ maxLength: 10 }));
    const argsText = fc.oneof(
      fc.tuple(eventName, nastyValue).map(([e, v]) => JSON.stringify([e, v])),
      fc.tuple(eventName, deepArray).map(([e, d]) => `[${JSON.stringify(e)},${d}]`),
      fc.tuple(eventName, deepObject).map(([e, d]) => `[${JSON.stringify(e)},${d}]`),
      fc.tuple(eventName).map(([e]) => `[${JSON.stringify(e)},{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"clientMsgId":"x","chatType":0,"to":"fuzz-a","content":"p"}]`),
    ).filter((text) => Buffer.byteLength(text, 'utf8') < 90_000);
    const known = new Set(EVENTS.map(([e]) => e));
    // Socket.IO refuses these names from a client as a protocol violation and closes that connection.
    const reserved = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);
    let raw = first;
    await check(
      fc.asyncProperty(argsText, async (text) => {
        const event = (() => {
          try {
            return (JSON.parse(text.slice(0, 200).replace(/,.*$/s, ']')) as string[])[0];
          } catch {
            return undefined;
          }
        })();
        // Unknown events are ignored (no answer), so only known ones are waited for.
        const res = await raw.emitRaw(text, typeof event === 'string' && known.has(event) ? 3000 : 100);
        if (raw.closed) {
          if (!(typeof event === 'string' && reserved.has(event))) throw new Error(`the server closed the connection on ${text.slice(0, 100)}`);
          raw = await RawSocket.connect(socketUrl, tokens.b!);
          raws.push(raw);
          return;
        }
        // Unknown (and reserved) event names are ignored: no answer is the documented behaviour.
        if (typeof event === 'string' && known.has(event)) checkEnvelope(Array.isArray(res) ? res[0] : res, `raw ${text.slice(0, 100)}`);
      }),
      params(40),
    );
    // Malformed packets: the server may close this one connection, never crash or answer garbage.
    for (const frame of ['4', '42', '42[', '42{}', '42["chat:send"', '421["chat:send",', '43', '4x', '45-["a"]', '451-["chat:send",{"_placeholder":true,"num":0}]', '\u0000', '41', '40{"token":1}', '9', '']) {
      const victim = await RawSocket.connect(socketUrl, tokens.c!);
      raws.push(victim);
      victim.sendFrame(frame);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(checkEnvelope(await call(await connect(tokens.b!), 'heartbeat', {}), 'after malformed frames').code).toBe(0);
  });

  it('group sends with hostile data still store consistently', async () => {
    const s = await connect(tokens.a!);
    await check(
      fc.asyncProperty(mutated(validGroupSend).filter((p) => bytes(p) < 90_000), async (p) => {
        checkEnvelope(await call(s, 'chat:send', p), `group send ${JSON.stringify(p).slice(0, 120)}`);
      }),
      params(40),
    );
    s.disconnect();
  });
});

// ---------------------------------------------------------------- HTTP

type Route = { method: 'GET' | 'POST' | 'DELETE'; path: string; body?: () => Record<string, unknown>; query?: boolean };
const ROUTES: Route[] = [
  { method: 'GET', path: '/health' },
  { method: 'POST', path: '/api/token', body: () => ({ appId, appSecret, userId: 'fuzz-new', userName: 'N' }) },
  { method: 'POST', path: '/api/users', body: () => ({ appId, appSecret, userId: 'fuzz-new', userName: 'N', imRole: 'user', valid: true }) },
  { method: 'GET', path: '/api/users/:userId' },
  { method: 'POST', path: '/api/groups', body: () => ({ name: 'g', description: 'd', userIdList: ['fuzz-b'] }) },
  { method: 'GET', path: '/api/groups' },
  { method: 'GET', path: '/api/groups/:groupId' },
  { method: 'GET', path: '/api/groups/:groupId/members' },
  { method: 'POST', path: '/api/groups/:groupId/members', body: () => ({ userIdList: ['fuzz-c'] }) },
  { method: 'DELETE', path: '/api/groups/:groupId/members/:userId' },
  { method: 'POST', path: '/api/groups/:groupId/members/:userId/remove' },
  { method: 'POST', path: '/api/groups/:groupId/leave' },
  { method: 'POST', path: '/api/groups/:groupId/members/:userId/role', body: () => ({ role: 'admin' }) },
  { method: 'POST', path: '/api/groups/:groupId/members/:userId/mute', body: () => ({ seconds: 60 }) },
  { method: 'POST', path: '/api/groups/:groupId/owner', body: () => ({ userId: 'fuzz-b' }) },
  { method: 'POST', path: '/api/groups/:groupId/info', body: () => ({ name: 'g', announcement: 'a', avatar: 'https://x/y.png' }) },
  { method: 'POST', path: '/api/groups/:groupId/mute-all', body: () => ({ muted: true }) },
  { method: 'DELETE', path: '/api/groups/:groupId' },
  { method: 'POST', path: '/api/groups/:groupId/dismiss' },
  { method: 'GET', path: '/api/groups/:groupId/messages', query: true },
  { method: 'POST', path: '/api/groups/:groupId/read-receipts', body: () => ({ messageIds: ['m1', 'm2'] }) },
  { method: 'GET', path: '/api/groups/:groupId/messages/:messageId/read-members', query: true },
  { method: 'GET', path: '/api/private/:peerId/messages', query: true },
  { method: 'GET', path: '/api/conversations' },
  { method: 'POST', path: '/api/conversations/read', body: () => ({ chatType: 0, targetId: 'fuzz-a', seq: 1 }) },
  { method: 'GET', path: '/api/conversations/unread-count' },
  { method: 'GET', path: '/api/conversations/:conversationId' },
  { method: 'POST', path: '/api/conversations/pin', body: () => ({ chatType: 0, targetId: 'fuzz-a', pinned: true }) },
  { method: 'POST', path: '/api/conversations/mute', body: () => ({ chatType: 0, targetId: 'fuzz-b', muted: true }) },
  { method: 'POST', path: '/api/conversations/delete', body: () => ({ chatType: 0, targetId: 'fuzz-a' }) },
];

/** Lone surrogates cannot be %-encoded; replace them as String.prototype.toWellFormed does. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
const pathParam = fc.oneof(
  fc.constantFrom('fuzz-a', 'fuzz-b', 'nobody', 'g_doesnotexist'),
  fc.constant('GROUP'), // replaced by the real group id
  nastyString.map((s) => encodeURIComponent(wellFormed(s.slice(0, 2000)))),
  fc.constantFrom('%2e%2e%2f', '..', '%00', '%ZZ', '%', 'a%2Fb', '__proto__', 'constructor', '%F0%9F%98%80'),
);
const queryString = fc.dictionary(
  fc.oneof(fc.constantFrom('limitSize', 'msgSeqId', 'syncType', 'detailType'), nastyKey, fc.string({ maxLength: 6 })),
  fc.oneof(fc.constantFrom('0', '1', '100', '101', '-1', '1.5', '99999999999999999999', 'BACK', 'FORWARD', 'back', ''), nastyString.map((s) => s.slice(0, 500))),
  { maxKeys: 4 },
);
/** Header values travel as bytes: the text's UTF-8 bytes, as Latin-1, minus what HTTP forbids (CR, LF, NUL). */
const headerSafe = (s: string) => Buffer.from(s, 'utf8').toString('latin1').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
const authHeader = fc.oneof(
  fc.constantFrom('A', 'B', 'NONE', 'OTHER_APP', 'FORGED', 'EXPIRED'),
  nastyString.map((s) => `Bearer ${headerSafe(s.slice(0, 5000))}`),
  fc.constantFrom('Bearer', 'Basic abc', 'bearer  ', 'Bearer a.b.c', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJmdXp6LWEiLCJhcHAiOiJmdXp6LWFwcCJ9.'),
);
const bodyText = (route: Route) =>
  fc.oneof(
    route.body ? mutated(route.body).map((o) => JSON.stringify(o)) : fc.constant(undefined),
    nastyValue.map((v) => JSON.stringify(v)),
    fc.constantFrom('{', '{"a":', 'null', '[]', '""', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '\u0000', 'not json'),
    deepArray.map((d) => d.slice(0, 20_000) + d.slice(-20_000)),
    fc.constant(JSON.stringify({ big: 'x'.repeat(300_000) })),
  );
const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', '', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x');

describe('HTTP endpoints under random input', () => {
  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (_name, route) => {
    const other = (await http('POST', '/api/token', { appId: 'fuzz-other', appSecret: 'fuzz-other-secret', userId: 'fuzz-a' })).body.data as unknown as { token: string };
    const auth: Record<string, string | undefined> = {
      A: `Bearer ${tokens.a}`,
      B: `Bearer ${tokens.b}`,
      NONE: undefined,
      OTHER_APP: `Bearer ${other.token}`,
      FORGED: `Bearer ${mintToken({ appId, appSecret: 'wrong-secret', userId: 'fuzz-a' })}`,
      EXPIRED: `Bearer ${mintToken({ appId, appSecret, userId: 'fuzz-a', ttlSeconds: -60 })}`,
    };
    await check(
      fc.asyncProperty(
        fc.record({ p1: pathParam, p2: pathParam, query: queryString, auth: authHeader, body: bodyText(route), type: contentType }),
        async (req) => {
          let n = 0;
          const url = route.path.replace(/:[a-zA-Z]+/g, () => {
            const v = n++ === 0 ? req.p1 : req.p2;
            return v === 'GROUP' ? groupId : v;
          });
          const qs = route.query ? new URLSearchParams(req.query).toString() : '';
          const headers: Record<string, string> = {};
          const a = req.auth in auth ? auth[req.auth] : req.auth;
          if (a !== undefined) headers.authorization = a;
          const withBody = route.method !== 'GET' && req.body !== undefined;
          if (withBody && req.type) headers['content-type'] = req.type;
          const controller = new AbortController();
          const timer = setTimeout(() => controller.abort(), 5000);
          let res: Response;
          try {
            res = await fetch(`${apiUrl}${url}${qs ? `?${qs}` : ''}`, { method: route.method, headers, body: withBody ? req.body : undefined, signal: controller.signal });
          } catch (err) {
            throw new Error(`${route.method} ${url}: no answer within 5 s (${(err as Error).message})`);
          } finally {
            clearTimeout(timer);
          }
          const text = await res.text();
          let env: unknown;
          try {
            env = JSON.parse(text);
          } catch {
            throw new Error(`${route.method} ${url}: status ${res.status} with a body that is not JSON: ${text.slice(0, 100)}`);
          }
          const e = checkEnvelope(env, `${route.method} ${url} ${String(req.body).slice(0, 80)}`);
          const status = e.code === 0 ? 200 : Math.floor(e.code / 100);
          if (res.status !== status) throw new Error(`${route.method} ${url}: HTTP ${res.status} for code ${e.code}`);
        },
      ),
      params(30),
    );
  });
});
