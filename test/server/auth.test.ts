/** Tokens (docs/protocol.md section 4) on both channels: what is accepted, what is refused and why, and app isolation. */
import jwt from 'jsonwebtoken';
import { mintToken, verifyToken } from '../../server/src';
import { call, cid, closeAll, connect, http, refusal, startServer, tokenFor, uniqueUser, type TestServer } from './helpers';

const OTHER = { appId: 'other-app', appSecret: 'other-secret-123' };
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ extraApps: [OTHER] });
});

afterAll(closeAll);

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** Tokens that must be refused, with the code each gets. `user` exists in the dev app only. */
function badTokens(user: string): Array<[string, string, number]> {
  const claims = { sub: user, app: server.appId, exp: now() + 600 };
  return [
    ['not a JWT', 'not-a-jwt', 40101],
    ['forged signature', mintToken({ appId: server.appId, appSecret: 'forged-secret', userId: user }), 40101],
    ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`, 40101],
    ['HS512 with the right secret', jwt.sign(claims, server.appSecret, { algorithm: 'HS512' }), 40101],
    ['tampered payload', (() => {
      const [h, , s] = mintToken({ appId: server.appId, appSecret: server.appSecret, userId: 'someone-else' }).split('.');
      return `${h}.${b64({ ...claims, iat: now() })}.${s}`;
    })(), 40101],
    ['unknown app', mintToken({ appId: 'no-such-app', appSecret: 'x', userId: user }), 40101],
    ['no app claim', jwt.sign({ sub: user, exp: now() + 600 }, server.appSecret), 40101],
    ['no sub claim', jwt.sign({ app: server.appId, exp: now() + 600 }, server.appSecret), 40101],
    ['no exp claim', jwt.sign({ sub: user, app: server.appId }, server.appSecret), 40101],
    ['unknown user', mintToken({ appId: server.appId, appSecret: server.appSecret, userId: 'never-registered' }), 40101],
    ['user of another app', mintToken({ ...OTHER, userId: user }), 40101],
    ['expired', mintToken({ appId: server.appId, appSecret: server.appSecret, userId: user, ttlSeconds: -10 }), 40102],
  ];
}

describe('tokens', () => {
  it('mintToken makes an HS256 token with sub/app/name/iat/exp that the server accepts without /api/token', async () => {
    const user = uniqueUser();
    await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId: user, userName: 'Minted' });
    const token = mintToken({ appId: server.appId, appSecret: server.appSecret, userId: user, userName: 'Minted', ttlSeconds: 120 });
    const decoded = jwt.decode(token, { complete: true }) as jwt.Jwt & { payload: jwt.JwtPayload };
    expect(decoded.header.alg).toBe('HS256');
    expect(decoded.payload).toEqual({ sub: user, app: server.appId, name: 'Minted', iat: expect.any(Number), exp: decoded.payload.iat! + 120 });
    expect(jwt.decode(mintToken({ appId: 'a', appSecret: 's', userId: 'u' }), { json: true })).toMatchObject({ exp: expect.any(Number) });
    expect((jwt.decode(mintToken({ appId: 'a', appSecret: 's', userId: 'u' }), { json: true }) as jwt.JwtPayload).exp! - now()).toBeGreaterThan(86390);
    expect((await http(server, 'GET', `/api/users/${user}`, undefined, token)).body.data.userName).toBe('Minted');
    const s = await connect(server, token);
    expect(s.session).toMatchObject({ userId: user, appId: server.appId, tokenExpiresAt: decoded.payload.exp! * 1000 });
    await expect(verifyToken(server.im.storage, token)).resolves.toMatchObject({ sub: user, app: server.appId, name: 'Minted' });
  });

  it('HTTP refuses every bad token with its code and 401', async () => {
    const user = uniqueUser();
    await tokenFor(server, user);
    await tokenFor({ ...server, ...OTHER }, uniqueUser()); // the other app has users too
    expect(await http(server, 'GET', '/api/groups')).toMatchObject({ status: 401, body: { code: 40100 } });
    expect((await http(server, 'GET', '/api/groups', undefined, undefined, { authorization: 'Basic abc' })).body.code).toBe(40101);
    for (const [what, token, code] of badTokens(user)) {
      const r = await http(server, 'GET', '/api/groups', undefined, token);
      expect([what, r.status, r.body.code]).toEqual([what, 401, code]);
    }
  });

  it('the socket refuses every bad token at connect with err.data = { code, message }', async () => {
    const user = uniqueUser();
    await tokenFor(server, user);
    const missing = await refusal(server, undefined);
    expect(missing?.data).toEqual({ code: 40100, message: expect.stringMatching(/no token/) });
    expect(missing?.message).toBe(missing?.data?.message);
    for (const [what, token, code] of badTokens(user)) {
      const err = await refusal(server, token);
      expect([what, err?.data?.code]).toEqual([what, code]);
    }
  });

  it('token:renew refuses bad, expired and foreign tokens and keeps the connection', async () => {
    const user = uniqueUser();
    const s = await connect(server, await tokenFor(server, user));
    for (const [what, token, code] of badTokens(user)) {
      const r = await call(s, 'token:renew', { token });
      // Validly signed tokens for another (even unknown) user are "someone else's".
      const expected = what === 'unknown user' || what === 'user of another app' ? 40300 : code;
      expect([what, r.code]).toEqual([what, expected]);
    }
    expect((await call(s, 'token:renew', { token: await tokenFor(server, uniqueUser()) })).code).toBe(40300);
    // The same user id in another app is someone else.
    await tokenFor({ ...server, ...OTHER }, user);
    expect((await call(s, 'token:renew', { token: mintToken({ ...OTHER, userId: user }) })).code).toBe(40300);
    const fresh = mintToken({ appId: server.appId, appSecret: server.appSecret, userId: user, ttlSeconds: 7200 });
    const renewed = await call(s, 'token:renew', { token: fresh });
    expect(renewed).toEqual({ code: 0, message: 'ok', data: { expiresAt: (jwt.decode(fresh, { json: true }) as jwt.JwtPayload).exp! * 1000 } });
    expect(s.connected).toBe(true);
  });
});

describe('app isolation', () => {
  it("a token of another app sees none of this app's users, groups or messages", async () => {
    const a = uniqueUser();
    const tA = await tokenFor(server, a);
    const g = (await http(server, 'POST', '/api/groups', { name: 'mine' }, tA)).body.data;
    const sa = await connect(server, tA);
    const sent = await call(sa, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'private to app A' });
    // The same user id, registered in the other app, is a different user.
    const other = { ...server, ...OTHER };
    const tOther = await tokenFor(other, a);
    expect((await http(server, 'GET', `/api/groups/${g.id}`, undefined, tOther)).status).toBe(404);
    expect((await http(server, 'GET', `/api/groups/${g.id}/messages`, undefined, tOther)).status).toBe(404);
    expect((await http(server, 'GET', '/api/groups', undefined, tOther)).body.data).toEqual([]);
    expect((await http(server, 'GET', '/api/conversations', undefined, tOther)).body.data).toEqual([]);
    const b = uniqueUser();
    await tokenFor(server, b);
    expect((await http(server, 'GET', `/api/users/${b}`, undefined, tOther)).status).toBe(404);
    const so = await connect(server, tOther);
    expect(so.session).toMatchObject({ appId: OTHER.appId, latestInboxSeq: 0 });
    expect((await call(so, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: 'x' })).code).toBe(40400);
    expect((await call(so, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'x' })).code).toBe(40400);
    expect((await call(so, 'receipt', { messageId: sent.data.messageId, status: 2 })).code).toBe(40400);
    expect((await call(so, 'chat:sync', { afterInboxSeq: 0 })).data).toEqual({ messages: [], hasMore: false, latestInboxSeq: 0 });
  });
});
