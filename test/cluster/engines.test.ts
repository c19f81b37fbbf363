/**
 * The engines the cluster runs on, started the way the cluster tests start them (engines.ts):
 * PostgreSQL allocates a conversation's seqs in the message's own transaction (the counter row
 * pattern the PostgreSQL storage relies on), Redis answers, and HAProxy with deploy/haproxy.cfg
 * keeps a long-polling client on one node (sticky sessions) while spreading the HTTP API.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import { io as ioV4 } from 'socket.io-client';
import { call, cid, closeAll, http, startServer, tokenFor, type TestServer } from '../server/helpers';
import { freePort, startHaproxy, startPostgres, startRedis, type Engine } from './engines';

jest.setTimeout(60_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('PostgreSQL', () => {
  let pg: Engine;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    const pid = pg?.pid;
    await pg?.stop();
    if (pid) expect(alive(pid)).toBe(false);
  });

  it('a counter row updated in the message transaction gives seqs 1..N once each; a rollback burns none', async () => {
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query('CREATE TABLE conv (id text PRIMARY KEY, last_seq bigint NOT NULL)');
    await admin.query('CREATE TABLE msg (conv text NOT NULL, seq bigint NOT NULL, body text, PRIMARY KEY (conv, seq))');
    await admin.query("INSERT INTO conv VALUES ('c', 0)");
    const clients = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const c = new Client({ connectionString: pg.url });
        await c.connect();
        return c;
      }),
    );
    const send = async (c: Client, body: string, rollback = false) => {
      await c.query('BEGIN');
      const { rows } = await c.query("UPDATE conv SET last_seq = last_seq + 1 WHERE id = 'c' RETURNING last_seq");
      await c.query('INSERT INTO msg VALUES ($1, $2, $3)', ['c', rows[0].last_seq, body]);
      await c.query(rollback ? 'ROLLBACK' : 'COMMIT');
    };
    await Promise.all(clients.map(async (c, i) => {
      for (let k = 0; k < 5; k++) await send(c, `${i}-${k}`, k === 2 && i % 2 === 0);
    }));
    const { rows } = await admin.query('SELECT seq FROM msg ORDER BY seq');
    const committed = 8 * 5 - 4;
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: committed }, (_, i) => i + 1));
    await Promise.all([...clients, admin].map((c) => c.end()));
  });
});

describe('Redis', () => {
  it('answers PING and keeps a value', async () => {
    const redis = await startRedis();
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(redis.port, '127.0.0.1');
        let got = '';
        s.on('data', (d) => {
          got += d.toString();
          if (got.split('\r\n').length > 3) {
            s.destroy();
            resolve(got);
          }
        });
        s.once('error', reject);
        s.write('PING\r\nSET k v\r\nGET k\r\n');
      });
      expect(reply).toBe('+PONG\r\n+OK\r\n$1\r\nv\r\n');
    } finally {
      const pid = redis.pid;
      await redis.stop();
      expect(alive(pid)).toBe(false);
    }
  });
});

describe('HAProxy with deploy/haproxy.cfg', () => {
  let nodes: TestServer[];
  let proxy: Engine;
  let apiUrl: string;
  let socketUrl: string;
  beforeAll(async () => {
    // Three independent nodes (no shared database yet): a long-poll that reached the wrong node
    // would be answered "Session ID unknown", so the test sees whether stickiness holds.
    nodes = await Promise.all([0, 1, 2].map(() => startServer({ devAppId: 'ha-app', devAppSecret: 'ha-app-secret-0123456789' })));
    const vars: Record<string, number> = { API_PORT: await freePort(), SOCKET_PORT: await freePort() };
    nodes.forEach((n, i) => {
      vars[`NODE${i + 1}_API`] = Number(new URL(n.apiUrl).port);
      vars[`NODE${i + 1}_SOCKET`] = Number(new URL(n.socketUrl).port);
    });
    proxy = await startHaproxy(readFileSync(path.join(__dirname, '../../deploy/haproxy.cfg'), 'utf8'), vars, 'API_PORT');
    apiUrl = `http://127.0.0.1:${vars.API_PORT}`;
    socketUrl = `http://127.0.0.1:${vars.SOCKET_PORT}`;
  });
  afterAll(async () => {
    await closeAll();
    await proxy?.stop();
  });

  it('a long-polling client stays on one node through the proxy and chats', async () => {
    // The user must exist on the node the socket lands on: create it on all three.
    const user = `ha-${Date.now().toString(36)}`;
    let token = '';
    for (const n of nodes) token = await tokenFor(n, user);
    for (const n of nodes) await tokenFor(n, 'ha-peer');
    const socket = ioV4(socketUrl, { auth: { token }, transports: ['polling'], reconnection: false, forceNew: true, withCredentials: true });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('session', () => resolve());
        socket.once('connect_error', reject);
      });
      // Several polling round trips on the one Engine.IO session.
      for (let i = 0; i < 5; i++) {
        const ack = await call(socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to: 'ha-peer', content: `through the proxy ${i}` });
        expect(ack.code).toBe(0);
      }
      expect(socket.io.engine.transport.name).toBe('polling');
      expect(socket.connected).toBe(true);
    } finally {
      socket.close();
    }
  });

  it('the HTTP API is answered through the proxy by every node in turn', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await http({ apiUrl }, 'POST', '/api/token', { appId: 'ha-app', appSecret: 'ha-app-secret-0123456789', userId: `rr-${i}` });
      expect(r.body.code).toBe(0);
    }
    // Each node has created some of the six users: the requests were spread.
    for (const [i, n] of nodes.entries()) {
      const t = await tokenFor(n, 'rr-probe');
      const found = await Promise.all(Array.from({ length: 6 }, (_, k) => http(n, 'GET', `/api/users/rr-${k}`, undefined, t)));
      if (found.some((f) => f.body.code === 0)) seen.add(String(i));
    }
    expect(seen.size).toBeGreaterThanOrEqual(2);
  });
});
