/**
 * The server's JSON log (pino), captured from a real server at debug: every line is one JSON
 * object, requests carry their reqId, the gateway's own lines go through the same logger, and no
 * credential ever appears: app secret, user and operator tokens, Basic credentials, the
 * signatures of download URLs, a socket handshake's token (in `auth` or in the query string).
 */
import { Writable } from 'node:stream';
import { io as ioV4 } from 'socket.io-client';
import { call, closeAll, connect, http, refusal, startServer, tokenFor, track, until, type TestServer } from './helpers';
import { pdf } from '../media/fixtures';
import { download, upload } from '../media/upload';

jest.setTimeout(60_000);

let server: TestServer;
let captured = '';
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    captured += chunk.toString('utf8');
    done();
  },
});

beforeAll(async () => {
  server = await startServer({ singlePort: true, nodeId: 'logs-node', logger: { level: 'debug', destination: sink } });
});

afterAll(closeAll);

function lines(): Array<Record<string, any>> {
  return captured
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, any>;
      } catch {
        throw new Error(`a log line that is not JSON: ${l}`);
      }
    });
}

it('logs JSON lines with request ids, and never a secret, a token or a signature', async () => {
  const secrets: string[] = [server.appSecret];
  // Tokens with the app secret, and failing attempts.
  const alice = await tokenFor(server, 'log-alice');
  const bob = await tokenFor(server, 'log-bob');
  secrets.push(alice, bob);
  const wrongSecret = 'not-the-secret-0123456789';
  secrets.push(wrongSecret);
  expect((await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: wrongSecret, userId: 'log-x' })).body.code).toBe(40103);
  const forged = `${alice.slice(0, -6)}AAAAAA`;
  secrets.push(forged);
  expect((await http(server, 'GET', '/api/users/log-bob', undefined, forged)).body.code).toBe(40101);
  expect((await http(server, 'GET', '/api/users/log-bob', undefined, alice, { 'x-request-id': 'req-from-client-1' })).body.code).toBe(0);

  // Sockets: the token in auth (WebSocket), in the query string (long-polling on the API port), a refused one.
  const sa = await connect(server, alice);
  const sb = await connect(server, bob, { transports: ['polling'], auth: {}, query: { token: bob } });
  expect((await call(sa, 'chat:send', { clientMsgId: 'log-1', chatType: 0, to: 'log-bob', content: 'hello' })).code).toBe(0);
  expect((await refusal(server, forged))?.data?.code).toBe(40101);
  const q = track(ioV4(server.socketUrl, { transports: ['polling'], query: { token: forged }, reconnection: false, forceNew: true }));
  await new Promise((resolve) => q.once('connect_error', resolve));

  // An upload and its signed download.
  const up = await upload(server, alice, pdf(), { filename: 'log.pdf' });
  expect(up.status).toBe(200);
  const url: string = up.body.data.url;
  const signature = new URL(url, server.apiUrl).searchParams.get('s')!;
  expect(signature.length).toBeGreaterThan(10);
  secrets.push(signature);
  expect((await download(server, url)).status).toBe(200);

  // The server API: Basic credentials, a sign-in with the secret, its operator token.
  const basicValue = Buffer.from(`${server.appId}:${server.appSecret}`).toString('base64');
  secrets.push(basicValue);
  expect((await http(server, 'GET', '/api/server/app', undefined, undefined, { authorization: `Basic ${basicValue}` })).body.code).toBe(0);
  const session = await http(server, 'POST', '/api/server/session', { appId: server.appId, appSecret: server.appSecret });
  expect(session.body.code).toBe(0);
  const operator: string = session.body.data.token;
  secrets.push(operator);
  expect((await http(server, 'GET', '/api/server/stats', undefined, operator)).body.code).toBe(0);

  sa.close();
  sb.close();
  await until(() => lines().filter((l) => l.msg === 'socket disconnected').length >= 2, 5000, 'the disconnect lines');

  const all = lines();
  expect(all.length).toBeGreaterThan(20);
  for (const l of all) {
    expect(l).toMatchObject({ level: expect.any(Number), time: expect.any(String), node: 'logs-node', msg: expect.any(String) });
  }
  // Requests: each line of one carries its id; the client's own id is kept.
  const requestLines = all.filter((l) => l.req || l.res);
  expect(requestLines.length).toBeGreaterThan(10);
  for (const l of requestLines) expect(l.reqId).toEqual(expect.any(String));
  const mine = all.filter((l) => l.reqId === 'req-from-client-1').map((l) => l.msg);
  expect(mine).toEqual(['incoming request', 'request completed']);
  // Request lines carry no headers at all.
  expect(requestLines.filter((l) => l.req && 'headers' in l.req)).toEqual([]);
  // The download's request line shows the URL with its signature replaced.
  const downloaded = all.find((l) => l.req?.url?.startsWith('/files/'));
  expect(downloaded?.req.url).toMatch(/[?&]s=\[redacted\]/);
  // The gateway's lines go through the same logger, as fields.
  expect(all.filter((l) => l.msg === 'socket connected').map((l) => l.userId).sort()).toEqual(['log-alice', 'log-bob']);
  expect(all.filter((l) => l.msg === 'socket refused' && l.code === 40101).length).toBeGreaterThanOrEqual(2);

  for (const secret of secrets) expect({ secret, found: captured.includes(secret) }).toEqual({ secret, found: false });
});

it('IM_LOG_LEVEL=warn keeps request and socket lines out', async () => {
  let text = '';
  const quietSink = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const quiet = await startServer({ logger: { level: 'warn', destination: quietSink } });
  const t = await tokenFor(quiet, 'quiet-user');
  const s = await connect(quiet, t);
  expect((await http(quiet, 'GET', '/api/users/quiet-user', undefined, t)).body.code).toBe(0);
  s.close();
  await quiet.stop();
  expect(text).toBe('');
});
