/** Every HTTP endpoint of docs/protocol.md section 5, against the real server, with its error cases. */
import { startTestServer, uniqueUser, type TestServer } from '../helpers/server';
import { call, cid, closeAll, connect, http, tokenFor } from './raw';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  closeAll();
  await server.stop();
});

describe('HTTP API', () => {
  it('GET /health answers 200 with the envelope', async () => {
    const r = await http(server, 'GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ code: 0, message: 'ok', data: { status: 'ready', version: '1' } });
  });

  it('POST /api/token creates the user, updates the name, and returns an expiring token', async () => {
    const userId = uniqueUser();
    const r = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId, userName: 'First' });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ userId, token: expect.any(String) });
    expect(r.body.data.expiresAt).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
    await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId, userName: 'Renamed' });
    const me = await http(server, 'GET', `/api/users/${userId}`, undefined, r.body.data.token);
    expect(me.body.data).toMatchObject({ userId, userName: 'Renamed', valid: true, imRole: 'user' });
  });

  it('POST /api/token refuses wrong credentials with 40103 and bad input with 40000', async () => {
    const wrong = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: 'nope', userId: 'x' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe(40103);
    const unknownApp = await http(server, 'POST', '/api/token', { appId: 'no-such-app', appSecret: server.appSecret, userId: 'x' });
    expect(unknownApp.body.code).toBe(40103);
    const bad = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId: 'has space' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(40000);
    expect(bad.body.message).toMatch(/userId/);
  });

  it('POST /api/users registers and updates profiles; valid:false refuses tokens and kicks sockets', async () => {
    const userId = uniqueUser();
    const created = await http(server, 'POST', '/api/users', {
      appId: server.appId, appSecret: server.appSecret, userId, userName: '张三', userImg: 'https://example.com/a.jpg', companyName: 'ACME', imRole: 'admin',
    });
    expect(created.body.data).toMatchObject({ userId, userName: '张三', userImg: 'https://example.com/a.jpg', companyName: 'ACME', imRole: 'admin', valid: true });
    const partial = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId, companyName: 'New Co' });
    expect(partial.body.data).toMatchObject({ userName: '张三', companyName: 'New Co' });

    const socket = await connect(server, await tokenFor(server, userId, '张三'));
    const kicked = new Promise((r) => socket.once('kicked', r));
    const disabled = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId, valid: false });
    expect(disabled.body.data.valid).toBe(false);
    await expect(kicked).resolves.toEqual({ reason: 'user_disabled' });
    const refused = await http(server, 'POST', '/api/token', { appId: server.appId, appSecret: server.appSecret, userId });
    expect(refused.body.code).toBe(40301);
    const badRole = await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId, imRole: 'root' });
    expect(badRole.body.code).toBe(40000);
    const noSecret = await http(server, 'POST', '/api/users', { appId: server.appId, userId: uniqueUser() });
    expect(noSecret.body.code).toBe(40000);
  });

  it('GET /api/users/:id needs a token and finds only users of the caller\'s app', async () => {
    const token = await tokenFor(server, uniqueUser());
    expect((await http(server, 'GET', '/api/users/nobody')).body.code).toBe(40100);
    expect((await http(server, 'GET', '/api/users/nobody', undefined, token)).status).toBe(404);
    expect((await http(server, 'GET', '/api/users/bad%20id', undefined, token)).body.code).toBe(40000);
  });

  it('groups: create, list, info, members, add, remove, leave, dismiss with owner rules', async () => {
    const [owner, b, c, d] = [uniqueUser(), uniqueUser(), uniqueUser(), uniqueUser()];
    const tOwner = await tokenFor(server, owner, 'Owner');
    const tB = await tokenFor(server, b, 'Bee');
    const tC = await tokenFor(server, c);
    await tokenFor(server, d);
    const g = await http(server, 'POST', '/api/groups', { name: 'Team', description: 'desc', userIdList: [b, c] }, tOwner);
    expect(g.body.data).toMatchObject({ name: 'Team', description: 'desc', ownerId: owner, memberCount: 3 });
    const id = g.body.data.id as string;
    expect(g.body.data.groupId).toBe(id);
    expect(id).toMatch(/^g_[A-Za-z0-9_-]{16}$/);

    expect((await http(server, 'POST', '/api/groups', { name: 'x', userIdList: ['ghost-user'] }, tOwner)).body).toMatchObject({ code: 40400, message: expect.stringContaining('ghost-user') });
    expect((await http(server, 'POST', '/api/groups', { name: 'dup', groupId: id }, tOwner)).body.code).toBe(40900);
    expect((await http(server, 'POST', '/api/groups', { name: '' }, tOwner)).body.code).toBe(40000);

    expect((await http(server, 'GET', '/api/groups', undefined, tB)).body.data.map((x: { id: string }) => x.id)).toContain(id);
    expect((await http(server, 'GET', `/api/groups/${id}`, undefined, tC)).body.data.name).toBe('Team');
    const members = await http(server, 'GET', `/api/groups/${id}/members`, undefined, tB);
    expect(members.body.data[0]).toMatchObject({ userId: owner, role: 'owner', userName: 'Owner' });
    expect(members.body.data).toHaveLength(3);

    const added = await http(server, 'POST', `/api/groups/${id}/members`, { userIdList: [d, b] }, tB);
    expect(added.body.data.map((m: { userId: string }) => m.userId).sort()).toEqual([owner, b, c, d].sort());
    expect((await http(server, 'DELETE', `/api/groups/${id}/members/${d}`, undefined, tB)).body.code).toBe(40300); // not the owner
    expect((await http(server, 'DELETE', `/api/groups/${id}/members/${owner}`, undefined, tOwner)).body.code).toBe(40300);
    const removed = await http(server, 'DELETE', `/api/groups/${id}/members/${d}`, undefined, tOwner);
    expect(removed.body.data).toHaveLength(3);
    expect((await http(server, 'POST', `/api/groups/${id}/leave`, undefined, tOwner)).body.code).toBe(40300);
    expect((await http(server, 'POST', `/api/groups/${id}/leave`, undefined, tC)).body.data).toEqual({ groupId: id });
    expect((await http(server, 'GET', `/api/groups/${id}`, undefined, tC)).body.code).toBe(40300);
    expect((await http(server, 'DELETE', `/api/groups/${id}`, undefined, tB)).body.code).toBe(40300);
    expect((await http(server, 'DELETE', `/api/groups/${id}`, undefined, tOwner)).body.data).toEqual({ groupId: id });
    expect((await http(server, 'GET', `/api/groups/${id}`, undefined, tOwner)).status).toBe(404);
    expect((await http(server, 'GET', '/api/groups', undefined, tB)).body.data.map((x: { id: string }) => x.id)).not.toContain(id);
  });

  describe('history paging', () => {
    let alice: string;
    let bob: string;
    let tA: string;

    beforeAll(async () => {
      alice = uniqueUser();
      bob = uniqueUser();
      tA = await tokenFor(server, alice);
      await tokenFor(server, bob);
    });

    const page = async (q: string) => (await http(server, 'GET', `/api/private/${bob}/messages${q}`, undefined, tA)).body;

    it('an empty conversation returns an empty array', async () => {
      expect(await page('')).toMatchObject({ code: 0, data: [] });
    });

    it('pages BACK and FORWARD in ascending order, with exact pages and the 100 cap', async () => {
      const socket = await connect(server, tA);
      for (let i = 1; i <= 25; i++) {
        const r = await call(socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to: bob, content: `m${i}` });
        expect(r.code).toBe(0);
      }
      const newest = await page('?limitSize=10&msgSeqId=0&syncType=BACK');
      expect(newest.data.map((m: { content: string }) => m.content)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 16}`));
      const older = await page(`?limitSize=10&msgSeqId=${newest.data[0].seq}&syncType=BACK`);
      expect(older.data.map((m: { seq: number }) => m.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      const oldest = await page('?limitSize=5&msgSeqId=6&syncType=BACK');
      expect(oldest.data.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4, 5]); // exactly one page left
      expect((await page('?limitSize=5&msgSeqId=1&syncType=BACK')).data).toEqual([]);
      const forward = await page('?limitSize=4&msgSeqId=20&syncType=FORWARD');
      expect(forward.data.map((m: { seq: number }) => m.seq)).toEqual([21, 22, 23, 24]);
      expect((await page('?limitSize=4&msgSeqId=25&syncType=FORWARD')).data).toEqual([]);
      expect((await page('?limitSize=1000')).data).toHaveLength(25); // capped at 100, only 25 exist
      expect(newest.data[0]).not.toHaveProperty('inboxSeq');
    });

    it('rejects malformed paging parameters', async () => {
      expect((await page('?limitSize=abc')).code).toBe(40000);
      expect((await page('?syncType=SIDEWAYS')).code).toBe(40000);
      expect((await page('?msgSeqId=-1')).code).toBe(40000);
      expect((await page('?detailType=1')).code).toBe(40000);
    });
  });

  it('conversations list unread counts that clear on mark-read and never move backwards', async () => {
    const a = uniqueUser();
    const b = uniqueUser();
    const tA = await tokenFor(server, a, 'Ann');
    const tB = await tokenFor(server, b, 'Ben');
    const socket = await connect(server, tA);
    for (let i = 1; i <= 3; i++) await call(socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b, content: `hi ${i}` });
    const list = await http(server, 'GET', '/api/conversations', undefined, tB);
    expect(list.body.data[0]).toMatchObject({ conversationId: `0:${a}`, chatType: 0, targetId: a, name: 'Ann', unreadCount: 3, lastSeq: 3, readSeq: 0 });
    expect(list.body.data[0].lastMessage.content).toBe('hi 3');
    const senderView = await http(server, 'GET', '/api/conversations', undefined, tA);
    expect(senderView.body.data[0]).toMatchObject({ targetId: b, unreadCount: 0, readSeq: 3, peerReadSeq: 0 });

    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: a, seq: 2 }, tB)).body.data).toEqual({ conversationId: `0:${a}`, readSeq: 2, unreadCount: 1 });
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: a, seq: 1 }, tB)).body.data.readSeq).toBe(2);
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 0, targetId: a }, tB)).body.data).toMatchObject({ readSeq: 3, unreadCount: 0 });
    // The sender sees how far the recipient has read.
    expect((await http(server, 'GET', '/api/conversations', undefined, tA)).body.data[0].peerReadSeq).toBe(3);
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: 2, targetId: a }, tB)).body.code).toBe(40000);
    expect((await http(server, 'POST', '/api/conversations/read', { chatType: '0', targetId: a }, tB)).body.code).toBe(40000);
  });

  it('malformed requests get an envelope, never a crash', async () => {
    const token = await tokenFor(server, uniqueUser());
    const notJson = await http(server, 'POST', '/api/groups', '{not json', token);
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe(40000);
    const proto = await http(server, 'POST', '/api/groups', '{"name":"x","__proto__":{"admin":true}}', token);
    expect(proto.body.code).toBe(40000);
    const huge = await http(server, 'POST', '/api/groups', { name: 'x', description: 'y'.repeat(300 * 1024) }, token);
    expect(huge.body.code).toBe(41300);
    const wrongType = await http(server, 'POST', '/api/groups', { name: 42 }, token);
    expect(wrongType.body).toMatchObject({ code: 40000, message: expect.stringContaining('name') });
    const noRoute = await http(server, 'GET', '/api/nothing-here');
    expect(noRoute).toMatchObject({ status: 404, body: { code: 40400 } });
    const badAuth = await http(server, 'GET', '/api/groups', undefined, 'Basic abc');
    expect(badAuth.body.code).toBe(40101);
    expect((await http(server, 'GET', '/health')).status).toBe(200);
  });
});
