/** Every HTTP endpoint of docs/protocol.md section 5, against the real server, with its error cases. */
import { call, cid, closeAll, connect, http, nextEvent, startServer, tokenFor, uniqueUser, type TestServer } from './helpers';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(closeAll);

describe('health and envelope', () => {
  it('GET /health answers 200 with the envelope and open CORS', async () => {
    const r = await http(server, 'GET', '/health', undefined, undefined, { origin: 'https://some.example' });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ code: 0, message: 'ok', data: { status: 'ready', version: '1' } });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('a CORS preflight from any origin is allowed with the Authorization header', async () => {
    const res = await fetch(`${server.apiUrl}/api/groups`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
  });

  it('an unknown route is 404 with code 40400 naming the route', async () => {
    const r = await http(server, 'GET', '/api/nothing-here?x=1');
    expect(r).toMatchObject({ status: 404, body: { code: 40400, message: expect.stringContaining('/api/nothing-here') } });
    expect((await http(server, 'PUT', '/api/groups')).status).toBe(404);
  });
});

describe('POST /api/token', () => {
  it('creates the user, updates the name, and returns an expiring token', async () => {
    const userId = uniqueUser();
    const r = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId, userName: 'First' });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ userId, token: expect.any(String) });
    expect(r.body.data.expiresAt).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
    expect(r.body.data.expiresAt).toBeLessThanOrEqual(Date.now() + 24 * 3600 * 1000 + 1000);
    await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId, userName: 'Renamed' });
    const me = await http(server, 'GET', `/api/users/${userId}`, undefined, r.body.data.token);
    expect(me.body.data).toMatchObject({ userId, userName: 'Renamed', valid: true, imRole: 'user' });
    // Without userName the name stays.
    await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId });
    expect((await http(server, 'GET', `/api/users/${userId}`, undefined, r.body.data.token)).body.data.userName).toBe('Renamed');
  });

  it('a new user without userName is named by their id', async () => {
    const userId = uniqueUser();
    const r = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId });
    expect((await http(server, 'GET', `/api/users/${userId}`, undefined, r.body.data.token)).body.data.userName).toBe(userId);
  });

  it('refuses wrong credentials with 40103/401 and bad input with 40000/400', async () => {
    const wrong = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: 'nope', userId: 'x' });
    expect(wrong).toMatchObject({ status: 401, body: { code: 40103 } });
    expect(wrong.body).not.toHaveProperty('data');
    const unknownApp = await http(server, 'POST', '/api/token', { appId: 'no-such-app', appSecret: server.appSecret, userId: 'x' });
    expect(unknownApp.body.code).toBe(40103);
    const bad = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: 'has space' });
    expect(bad).toMatchObject({ status: 400, body: { code: 40000, message: expect.stringContaining('userId') } });
    const long = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: 'x'.repeat(65) });
    expect(long.body.code).toBe(40000);
    const missing = await http(server, 'POST', '/api/token', { appId: server.appId, userId: 'x' });
    expect(missing.body).toMatchObject({ code: 40000, message: expect.stringContaining('appSecret') });
  });
});

describe('POST /api/users and GET /api/users/:userId', () => {
  it('registers and updates profiles; fields not given keep their value', async () => {
    const userId = uniqueUser();
    const created = await http(server, 'POST', '/api/users', {
      appId: server.appId, appSecret: server.appSecret, userId, userName: '张三', userImg: 'https://example.com/a.jpg', companyName: 'ACME', imRole: 'admin',
    });
    expect(created.status).toBe(200);
    expect(created.body.data).toEqual({
      userId, userName: '张三', userImg: 'https://example.com/a.jpg', companyName: 'ACME', imRole: 'admin', valid: true,
      createdAt: expect.any(Number), updatedAt: expect.any(Number),
    });
    const partial = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId, companyName: 'New Co' });
    expect(partial.body.data).toMatchObject({ userName: '张三', companyName: 'New Co', imRole: 'admin', userImg: 'https://example.com/a.jpg' });
    expect(partial.body.data.createdAt).toBe(created.body.data.createdAt);
  });

  it('valid:false kicks the user\'s sockets, refuses tokens (40301) and old tokens; valid:true lets them back', async () => {
    const userId = uniqueUser();
    const token = await tokenFor(server, userId);
    const socket = await connect(server, token);
    const kicked = nextEvent(socket, 'kicked');
    const closed = nextEvent(socket, 'disconnect');
    const disabled = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId, valid: false });
    expect(disabled.body.data.valid).toBe(false);
    await expect(kicked).resolves.toEqual({ reason: 'user_disabled' });
    await closed;
    expect(await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId })).toMatchObject({ status: 403, body: { code: 40301 } });
    expect((await http(server, 'GET', `/api/users/${userId}`, undefined, token)).body.code).toBe(40301);
    await expect(connect(server, token)).rejects.toMatchObject({ data: { code: 40301 } });
    await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId, valid: true });
    expect((await http(server, 'GET', `/api/users/${userId}`, undefined, token)).body.code).toBe(0);
  });

  it('needs the right app secret (40103) and valid fields (40000)', async () => {
    const userId = uniqueUser();
    const wrong = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: 'not-the-secret', userId, userName: 'Mallory' });
    expect(wrong).toMatchObject({ status: 401, body: { code: 40103 } });
    const otherApp = await http(server, 'POST', '/api/users', { appId: 'no-such-app', appSecret: server.appSecret, userId });
    expect(otherApp.body.code).toBe(40103);
    const noSecret = await http(server, 'POST', '/api/users', { appId: server.appId, userId });
    expect(noSecret.body.code).toBe(40000);
    // Nothing was created by the refused calls.
    const t = await tokenFor(server, uniqueUser());
    expect((await http(server, 'GET', `/api/users/${userId}`, undefined, t)).body.code).toBe(40400);
    for (const patch of [{ imRole: 'root' }, { valid: 'yes' }, { userName: 42 }, { userImg: ['x'] }]) {
      const r = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId, ...patch });
      expect([Object.keys(patch)[0], r.status, r.body.code]).toEqual([Object.keys(patch)[0], 400, 40000]);
    }
  });

  it('GET /api/users/:id needs a token and finds only users of the caller\'s app', async () => {
    const token = await tokenFor(server, uniqueUser());
    expect(await http(server, 'GET', '/api/users/nobody')).toMatchObject({ status: 401, body: { code: 40100 } });
    expect(await http(server, 'GET', '/api/users/nobody', undefined, token)).toMatchObject({ status: 404, body: { code: 40400 } });
    expect((await http(server, 'GET', '/api/users/bad%20id', undefined, token)).body.code).toBe(40000);
  });
});

describe('groups', () => {
  it('create, list, info, members, add, remove, leave, dismiss with owner rules', async () => {
    const [owner, b, c, d] = [uniqueUser(), uniqueUser(), uniqueUser(), uniqueUser()];
    const tOwner = await tokenFor(server, owner, 'Owner');
    const tB = await tokenFor(server, b, 'Bee');
    const tC = await tokenFor(server, c);
    const tD = await tokenFor(server, d);
    const g = await http(server, 'POST', '/api/groups', { name: 'Team', description: 'desc', userIdList: [b, c, owner, b] }, tOwner);
    expect(g.body.data).toEqual({ id: expect.any(String), groupId: g.body.data.id, name: 'Team', description: 'desc', ownerId: owner, memberCount: 3, createdAt: expect.any(Number), announcement: '', avatar: '', muteAll: false });
    const id = g.body.data.id as string;
    expect(id).toMatch(/^g_[A-Za-z0-9_-]{16}$/);

    const listB = (await http(server, 'GET', '/api/groups', undefined, tB)).body.data;
    expect(listB.map((x: { id: string }) => x.id)).toContain(id);
    expect((await http(server, 'GET', `/api/groups/${id}`, undefined, tC)).body.data).toMatchObject({ name: 'Team', memberCount: 3 });
    const members = await http(server, 'GET', `/api/groups/${id}/members`, undefined, tB);
    expect(members.body.data).toHaveLength(3);
    expect(members.body.data[0]).toEqual({ userId: owner, userName: 'Owner', userImg: '', role: 'owner', joinedAt: expect.any(Number), mutedUntil: 0 });
    expect(members.body.data.slice(1).map((m: { role: string }) => m.role)).toEqual(['member', 'member']);

    // Any member may add; existing members are skipped.
    const added = await http(server, 'POST', `/api/groups/${id}/members`, { userIdList: [d, b] }, tB);
    expect(added.body.data.map((m: { userId: string }) => m.userId).sort()).toEqual([owner, b, c, d].sort());
    expect(added.body.data.at(-1).userId).toBe(d); // by join time
    expect((await http(server, 'POST', `/api/groups/${id}/members`, { userIdList: ['ghost-user'] }, tB)).body).toMatchObject({ code: 40400, message: expect.stringContaining('ghost-user') });

    // DELETE and its POST twin (for platforms whose HTTP API sends GET and POST only) are one route.
    expect(await http(server, 'POST', `/api/groups/${id}/members/${d}/remove`, undefined, tB)).toMatchObject({ status: 403, body: { code: 40300 } });
    expect((await http(server, 'DELETE', `/api/groups/${id}/members/${owner}`, undefined, tOwner)).body.code).toBe(40300);
    const removed = await http(server, 'DELETE', `/api/groups/${id}/members/${d}`, undefined, tOwner);
    expect(removed.body.data.map((m: { userId: string }) => m.userId)).not.toContain(d);
    expect((await http(server, 'POST', `/api/groups/${id}/members/${d}/remove`, undefined, tOwner)).body.code).toBe(40400);
    expect((await http(server, 'GET', `/api/groups/${id}`, undefined, tD)).body.code).toBe(40300);

    expect((await http(server, 'POST', `/api/groups/${id}/leave`, undefined, tOwner)).body.code).toBe(40300);
    expect((await http(server, 'POST', `/api/groups/${id}/leave`, undefined, tC)).body.data).toEqual({ groupId: id });
    expect((await http(server, 'GET', `/api/groups/${id}`, undefined, tC)).body.code).toBe(40300);
    expect((await http(server, 'POST', `/api/groups/${id}/leave`, undefined, tC)).body.code).toBe(40300);
    expect((await http(server, 'GET', `/api/groups/${id}`, undefined, tOwner)).body.data.memberCount).toBe(2);

    expect((await http(server, 'POST', `/api/groups/${id}/dismiss`, undefined, tB)).body.code).toBe(40300);
    expect((await http(server, 'POST', `/api/groups/${id}/dismiss`, undefined, tOwner)).body.data).toEqual({ groupId: id });
    for (const path of [`/api/groups/${id}`, `/api/groups/${id}/members`, `/api/groups/${id}/messages`]) {
      expect([path, (await http(server, 'GET', path, undefined, tOwner)).status]).toEqual([path, 404]);
    }
    expect((await http(server, 'DELETE', `/api/groups/${id}`, undefined, tOwner)).body.code).toBe(40400);
    expect((await http(server, 'GET', '/api/groups', undefined, tB)).body.data.map((x: { id: string }) => x.id)).not.toContain(id);
    // A dismissed group's id is not handed out again.
    expect((await http(server, 'POST', '/api/groups', { name: 'again', groupId: id }, tOwner)).body.code).toBe(40900);
  });

  it('create: chosen ids, conflicts, unknown members, bad names', async () => {
    const owner = uniqueUser();
    const t = await tokenFor(server, owner);
    const groupId = `team-${uniqueUser()}`;
    expect((await http(server, 'POST', '/api/groups', { name: 'Chosen', groupId }, t)).body.data).toMatchObject({ id: groupId, groupId, memberCount: 1 });
    expect(await http(server, 'POST', '/api/groups', { name: 'dup', groupId }, t)).toMatchObject({ status: 409, body: { code: 40900 } });
    expect((await http(server, 'POST', '/api/groups', { name: 'x', userIdList: ['ghost-a', 'ghost-b'] }, t)).body).toMatchObject({ code: 40400, message: expect.stringMatching(/ghost-a.*ghost-b/) });
    for (const body of [{ name: '' }, { name: '   ' }, { name: 'x'.repeat(101) }, { name: 'x', description: 'y'.repeat(1001) }, { name: 'x', userIdList: 'bob' }, { name: 'x', userIdList: Array.from({ length: 501 }, (_, i) => `u${i}`) }, { name: 'x', groupId: 'bad id' }]) {
      const r = await http(server, 'POST', '/api/groups', body, t);
      expect([JSON.stringify(body).slice(0, 60), r.status, r.body.code]).toEqual([JSON.stringify(body).slice(0, 60), 400, 40000]);
    }
  });

  it('GET /api/groups lists the caller\'s groups newest first', async () => {
    const t = await tokenFor(server, uniqueUser());
    const first = (await http(server, 'POST', '/api/groups', { name: 'older' }, t)).body.data;
    await new Promise((r) => setTimeout(r, 5));
    const second = (await http(server, 'POST', '/api/groups', { name: 'newer' }, t)).body.data;
    expect((await http(server, 'GET', '/api/groups', undefined, t)).body.data.map((g: { id: string }) => g.id)).toEqual([second.id, first.id]);
  });
});

describe('history paging', () => {
  let alice: string;
  let bob: string;
  let tA: string;
  let tB: string;

  beforeAll(async () => {
    alice = uniqueUser();
    bob = uniqueUser();
    tA = await tokenFor(server, alice);
    tB = await tokenFor(server, bob);
  });

  const page = async (q: string, token = tA, peer = bob) => (await http(server, 'GET', `/api/private/${peer}/messages${q}`, undefined, token)).body;
  const seqs = (body: { data?: Array<{ seq: number }> }) => (body.data ?? []).map((m) => m.seq);

  it('an empty conversation returns an empty array in both directions', async () => {
    expect(await page('')).toEqual({ code: 0, message: 'ok', data: [] });
    expect((await page('?syncType=FORWARD')).data).toEqual([]);
    expect((await page('?msgSeqId=5&syncType=BACK')).data).toEqual([]);
  });

  it('pages BACK and FORWARD in ascending order, with exact pages, msgSeqId 0 and the 100 cap', async () => {
    const socket = await connect(server, tA);
    for (let i = 1; i <= 25; i++) expect((await call(socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to: bob, content: `m${i}` })).code).toBe(0);
    const dflt = await page('');
    expect(seqs(dflt)).toEqual(Array.from({ length: 20 }, (_, i) => i + 6)); // default: the newest 20
    const newest = await page('?limitSize=10&msgSeqId=0&syncType=BACK');
    expect(newest.data.map((m: { content: string }) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 16}`));
    expect(newest.data[0]).not.toHaveProperty('inboxSeq');
    expect(seqs(await page(`?limitSize=10&msgSeqId=${newest.data[0].seq}&syncType=BACK`))).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(seqs(await page('?limitSize=5&msgSeqId=6&syncType=BACK'))).toEqual([1, 2, 3, 4, 5]); // exactly one page left
    expect((await page('?limitSize=5&msgSeqId=1&syncType=BACK')).data).toEqual([]);
    expect(seqs(await page('?limitSize=25&msgSeqId=0&syncType=BACK'))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1)); // page size = total
    expect(seqs(await page('?limitSize=4&msgSeqId=0&syncType=FORWARD'))).toEqual([1, 2, 3, 4]); // FORWARD from 0: the oldest
    expect(seqs(await page('?limitSize=4&msgSeqId=20&syncType=FORWARD'))).toEqual([21, 22, 23, 24]);
    expect(seqs(await page('?limitSize=5&msgSeqId=20&syncType=FORWARD'))).toEqual([21, 22, 23, 24, 25]); // exactly the rest
    expect((await page('?limitSize=4&msgSeqId=25&syncType=FORWARD')).data).toEqual([]);
    expect((await page('?limitSize=4&msgSeqId=999&syncType=FORWARD')).data).toEqual([]);
    expect(seqs(await page('?limitSize=3&msgSeqId=999&syncType=BACK'))).toEqual([23, 24, 25]);
    expect((await page('?detailType=0&limitSize=1')).data).toHaveLength(1);
    // The peer sees the same conversation.
    expect(seqs(await page('?limitSize=3', tB, alice))).toEqual([23, 24, 25]);
  });

  it('caps limitSize at 100', async () => {
    const a = uniqueUser();
    const b = uniqueUser();
    const t = await tokenFor(server, a);
    await tokenFor(server, b);
    const socket = await connect(server, t);
    const sends = Array.from({ length: 105 }, (_, i) => call(socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `n${i}` }));
    expect((await Promise.all(sends)).every((r) => r.code === 0)).toBe(true);
    const capped = await page('?limitSize=1000', t, b);
    expect(capped.data).toHaveLength(100);
    expect(capped.data[0].seq).toBe(6);
  });

  it('rejects malformed paging parameters', async () => {
    for (const q of ['?limitSize=abc', '?limitSize=0', '?limitSize=-1', '?limitSize=1.5', '?syncType=SIDEWAYS', '?syncType=back', '?msgSeqId=-1', '?msgSeqId=x', '?detailType=1']) {
      const r = await page(q);
      expect([q, r.code]).toEqual([q, 40000]);
    }
    expect((await http(server, 'GET', '/api/private/bad%20peer/messages', undefined, tA)).body.code).toBe(40000);
  });

  it('group history: members only, same paging', async () => {
    const owner = uniqueUser();
    const member = uniqueUser();
    const tOwner = await tokenFor(server, owner);
    const tMember = await tokenFor(server, member);
    const tOut = await tokenFor(server, uniqueUser());
    const g = (await http(server, 'POST', '/api/groups', { name: 'hist', userIdList: [member] }, tOwner)).body.data;
    const empty = await http(server, 'GET', `/api/groups/${g.id}/messages`, undefined, tMember);
    expect(empty.body).toEqual({ code: 0, message: 'ok', data: [] });
    const s = await connect(server, tOwner);
    for (let i = 1; i <= 7; i++) await call(s, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: `g${i}` });
    const back = await http(server, 'GET', `/api/groups/${g.id}/messages?limitSize=3&msgSeqId=7&syncType=BACK`, undefined, tMember);
    expect(back.body.data.map((m: { content: string }) => m.content)).toEqual(['g4', 'g5', 'g6']);
    expect(back.body.data[0]).toMatchObject({ chatType: 1, to: g.id, from: owner });
    const fwd = await http(server, 'GET', `/api/groups/${g.id}/messages?limitSize=3&msgSeqId=5&syncType=FORWARD`, undefined, tMember);
    expect(seqs(fwd.body)).toEqual([6, 7]);
    expect(await http(server, 'GET', `/api/groups/${g.id}/messages`, undefined, tOut)).toMatchObject({ status: 403, body: { code: 40300 } });
    expect((await http(server, 'GET', '/api/groups/no-such-group/messages', undefined, tOut)).status).toBe(404);
  });
});

describe('conversations', () => {
  it('private: unread counts clear on mark-read, never move backwards, and the sender sees the peer\'s read position', async () => {
    const a = uniqueUser();
    const b = uniqueUser();
    const tA = await tokenFor(server, a, 'Ann');
    const tB = await tokenFor(server, b, 'Ben');
    expect((await http(server, 'GET', '/api/conversations', undefined, tB)).body.data).toEqual([]);
    const socket = await connect(server, tA);
    for (let i = 1; i <= 3; i++) await call(socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `hi ${i}` });
    const list = await http(server, 'GET', '/api/conversations', undefined, tB);
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({ conversationId: `0:${a}`, chatType: 0, targetId: a, name: 'Ann', unreadCount: 3, lastSeq: 3, readSeq: 0, updatedAt: expect.any(Number) });
    expect(list.body.data[0].lastMessage).toMatchObject({ content: 'hi 3', seq: 3, from: a });
    const senderView = await http(server, 'GET', '/api/conversations', undefined, tA);
    expect(senderView.body.data[0]).toMatchObject({ conversationId: `0:${b}`, targetId: b, name: 'Ben', unreadCount: 0, readSeq: 3, peerReadSeq: 0 });

    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: a, seq: 2 }, tB)).body.data).toEqual({ conversationId: `0:${a}`, readSeq: 2, unreadCount: 1 });
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: a, seq: 1 }, tB)).body.data.readSeq).toBe(2);
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: a, seq: 99 }, tB)).body.data).toMatchObject({ readSeq: 3, unreadCount: 0 });
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: a }, tB)).body.data).toMatchObject({ readSeq: 3, unreadCount: 0 });
    expect((await http(server, 'GET', '/api/conversations', undefined, tA)).body.data[0].peerReadSeq).toBe(3);
    for (const body of [{ chatType: 2, targetId: a }, { chatType: '0', targetId: a }, { chatType: 0 }, { chatType: 0, targetId: a, seq: -1 }, { chatType: 0, targetId: a, seq: 'x' }]) {
      expect((await http(server, 'POST', '/api/conversations/read', body, tB)).body.code).toBe(40000);
    }
  });

  it('groups: unread counts others\' messages; most recently active first; non-members cannot mark read', async () => {
    const [owner, m, out] = [uniqueUser(), uniqueUser(), uniqueUser()];
    const tOwner = await tokenFor(server, owner);
    const tM = await tokenFor(server, m);
    const tOut = await tokenFor(server, out);
    const g = (await http(server, 'POST', '/api/groups', { name: 'Convo', userIdList: [m] }, tOwner)).body.data;
    expect((await http(server, 'GET', '/api/conversations', undefined, tM)).body.data).toEqual([]); // no messages yet
    const so = await connect(server, tOwner);
    const sm = await connect(server, tM);
    await call(so, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'one' });
    await call(so, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'two' });
    await call(sm, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'mine' });
    await call(so, 'chat:send', { clientMsgId: cid(), chatType: 0, to: m, content: 'private, later' });
    const list = (await http(server, 'GET', '/api/conversations', undefined, tM)).body.data;
    expect(list.map((c: { conversationId: string }) => c.conversationId)).toEqual([`0:${owner}`, `1:${g.id}`]);
    // Sending moved m's read position to its own message (seq 3): nothing unread in the group.
    expect(list[1]).toMatchObject({ chatType: 1, targetId: g.id, name: 'Convo', lastSeq: 3, readSeq: 3, unreadCount: 0, peerReadSeq: null });
    await call(so, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: 'four' });
    const after = (await http(server, 'GET', '/api/conversations', undefined, tM)).body.data;
    expect(after[0]).toMatchObject({ conversationId: `1:${g.id}`, unreadCount: 1, lastSeq: 4 });
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 1, targetId: g.id }, tM)).body.data).toEqual({ conversationId: `1:${g.id}`, readSeq: 4, unreadCount: 0 });
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 1, targetId: g.id }, tOut)).body.code).toBe(40300);
    // A member who leaves no longer lists the group.
    await http(server, 'POST', `/api/groups/${g.id}/leave`, undefined, tM);
    expect((await http(server, 'GET', '/api/conversations', undefined, tM)).body.data.map((c: { targetId: string }) => c.targetId)).toEqual([owner]);
  });
});

describe('every endpoint survives bad input', () => {
  it('authenticated endpoints check the token before anything else', async () => {
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/api/users/x'],
      ['POST', '/api/groups', { name: 42 }],
      ['GET', '/api/groups'],
      ['GET', '/api/groups/bad%20id'],
      ['DELETE', '/api/groups/g'],
      ['GET', '/api/groups/g/members'],
      ['POST', '/api/groups/g/members', 'not json'],
      ['DELETE', '/api/groups/g/members/u'],
      ['POST', '/api/groups/g/members/u/remove'],
      ['POST', '/api/groups/g/dismiss'],
      ['POST', '/api/groups/g/leave'],
      ['POST', '/api/groups/g/members/u/role', { role: 'owner' }],
      ['POST', '/api/groups/g/members/u/mute', { seconds: -1 }],
      ['POST', '/api/groups/g/owner', {}],
      ['POST', '/api/groups/g/info', { name: 42 }],
      ['POST', '/api/groups/g/mute-all', 'not json'],
      ['GET', '/api/groups/g/messages?limitSize=abc'],
      ['POST', '/api/groups/g/read-receipts', { messageIds: [] }],
      ['GET', '/api/groups/g/messages/m/read-members?filter=all'],
      ['GET', '/api/private/p/messages'],
      ['GET', '/api/conversations'],
      ['POST', '/api/conversations/read', []],
    ];
    for (const [method, path, body] of routes) {
      const r = await http(server, method, path, body);
      expect([method, path, r.status, r.body.code]).toEqual([method, path, 401, 40100]);
    }
  });

  it('non-object bodies, wrong types, bad JSON, __proto__, oversized bodies and bad ids get an envelope', async () => {
    const token = await tokenFor(server, uniqueUser());
    const g = (await http(server, 'POST', '/api/groups', { name: 'target' }, token)).body.data;
    const bodies = ['[]', '"text"', '42', 'null', 'true', '{not json', '{"a":1', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}'];
    const posts: Array<[string, boolean]> = [
      ['/api/token', false],
      ['/api/users', false],
      ['/api/groups', true],
      [`/api/groups/${g.id}/members`, true],
      [`/api/groups/${g.id}/info`, true],
      [`/api/groups/${g.id}/mute-all`, true],
      ['/api/conversations/read', true],
    ];
    for (const [path, authed] of posts) {
      for (const body of bodies) {
        const r = await http(server, 'POST', path, body, authed ? token : undefined);
        expect([path, body, r.status, r.body.code]).toEqual([path, body, 400, 40000]);
        expect(r.body.message).toEqual(expect.any(String));
      }
      const huge = await http(server, 'POST', path, { name: 'x', description: 'y'.repeat(300 * 1024) }, authed ? token : undefined);
      expect([path, huge.status, huge.body.code]).toEqual([path, 413, 41300]);
    }
    const wrongType = await http(server, 'POST', '/api/groups', { name: 42 }, token);
    expect(wrongType.body).toMatchObject({ code: 40000, message: expect.stringContaining('name') });
    const unsupported = await http(server, 'POST', '/api/groups', 'name=x', token, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(unsupported.body.code).toBe(40000);
    for (const path of ['/api/users/a%20b', '/api/groups/..%2F..', `/api/groups/${'x'.repeat(65)}/members`, '/api/private/%00/messages']) {
      const r = await http(server, 'GET', path, undefined, token);
      expect([path, r.status, r.body.code]).toEqual([path, 400, 40000]);
    }
    expect((await http(server, 'DELETE', `/api/groups/${g.id}/members/a%20b`, undefined, token)).body.code).toBe(40000);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect((await http(server, 'GET', '/health')).status).toBe(200);
  });

  it('an empty body sent as JSON counts as no body', async () => {
    const owner = uniqueUser();
    const leaver = uniqueUser();
    const tOwner = await tokenFor(server, owner);
    const tLeaver = await tokenFor(server, leaver);
    const g = (await http(server, 'POST', '/api/groups', { name: 'empty body', userIdList: [leaver] }, tOwner)).body.data;
    const res = await fetch(`${server.apiUrl}/api/groups/${g.id}/leave`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tLeaver}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown }).data).toEqual({ groupId: g.id });
    const noBody = await fetch(`${server.apiUrl}/api/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' });
    expect(((await noBody.json()) as { code: number }).code).toBe(40000);
  });
});
