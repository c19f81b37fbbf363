/** Groups in realtime: group:changed to the right people, delivery following membership, fan-out. */
import { call, cid, closeAll, collect, connect, http, sleep, startServer, tokenFor, uniqueUser, until, type TestServer, type TestSocket } from './helpers';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(closeAll);

interface Person {
  id: string;
  token: string;
  socket: TestSocket;
  changes: any[];
  chats: any[];
}

async function person(name: string): Promise<Person> {
  const id = uniqueUser(name);
  const token = await tokenFor(server, id, name);
  const socket = await connect(server, token);
  return { id, token, socket, changes: collect(socket, 'group:changed'), chats: collect(socket, 'imchat') };
}

const actions = (p: Person) => p.changes.map((c) => c.action);

describe('group:changed', () => {
  it('a leave that finds the member removed meanwhile is refused and announces nothing', async () => {
    const [owner, b] = await Promise.all(['owner', 'b'].map(person));
    const g = (await http(server, 'POST', '/api/groups', { name: 'Gone', userIdList: [b.id] }, owner.token)).body.data;
    // The owner removes B after the leave's membership check and before its write.
    const storage = server.im.storage as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const own = Object.prototype.hasOwnProperty.call(storage, 'removeMember');
    const original = storage.removeMember!;
    storage.removeMember = async (...args: unknown[]) => {
      if (own) storage.removeMember = original;
      else delete storage.removeMember;
      expect((await http(server, 'DELETE', `/api/groups/${g.id}/members/${b.id}`, undefined, owner.token)).body.code).toBe(0);
      return original.apply(storage, args);
    };
    expect((await http(server, 'POST', `/api/groups/${g.id}/leave`, undefined, b.token)).body.code).toBe(40300);
    await until(() => actions(owner).includes('member_removed'), 5000, 'member_removed');
    await sleep(100);
    expect(actions(owner)).not.toContain('member_left');
    const history = (await http(server, 'GET', `/api/groups/${g.id}/messages?limitSize=20&msgSeqId=0&syncType=BACK`, undefined, owner.token)).body.data;
    expect(history.filter((m: any) => m.msgType === 1001).map((m: any) => m.data.action)).toEqual(['member_removed']);
  });

  it('created, members_added, member_removed, member_left, dismissed reach members (and the removed)', async () => {
    const [owner, b, c, d, outsider] = await Promise.all(['owner', 'b', 'c', 'd', 'out'].map(person));
    const g = (await http(server, 'POST', '/api/groups', { name: 'Events', userIdList: [b.id] }, owner.token)).body.data;
    await until(() => owner.changes.length === 1 && b.changes.length === 1, 5000, 'created events');
    expect(b.changes[0]).toEqual({ groupId: g.id, action: 'created', userIds: [owner.id, b.id], by: owner.id, timestamp: expect.any(Number) });

    await http(server, 'POST', `/api/groups/${g.id}/members`, { userIdList: [c.id, d.id, b.id] }, b.token);
    await until(() => [owner, b, c, d].every((p) => actions(p).includes('members_added')), 5000, 'members_added');
    expect(c.changes.at(-1)).toMatchObject({ groupId: g.id, action: 'members_added', userIds: [c.id, d.id], by: b.id });

    await http(server, 'DELETE', `/api/groups/${g.id}/members/${d.id}`, undefined, owner.token);
    await until(() => [owner, b, c, d].every((p) => actions(p).includes('member_removed')), 5000, 'member_removed');
    expect(d.changes.at(-1)).toMatchObject({ action: 'member_removed', userIds: [d.id], by: owner.id });

    await http(server, 'POST', `/api/groups/${g.id}/leave`, undefined, c.token);
    await until(() => [owner, b, c].every((p) => actions(p).includes('member_left')), 5000, 'member_left');
    expect(owner.changes.at(-1)).toMatchObject({ action: 'member_left', userIds: [c.id], by: c.id });

    await http(server, 'DELETE', `/api/groups/${g.id}`, undefined, owner.token);
    await until(() => [owner, b].every((p) => actions(p).includes('dismissed')), 5000, 'dismissed');
    expect(b.changes.at(-1)).toMatchObject({ groupId: g.id, action: 'dismissed', by: owner.id });
    expect(b.changes.at(-1).userIds.sort()).toEqual([owner.id, b.id].sort());

    await sleep(50);
    expect(actions(owner)).toEqual(['created', 'members_added', 'member_removed', 'member_left', 'dismissed']);
    expect(actions(b)).toEqual(['created', 'members_added', 'member_removed', 'member_left', 'dismissed']);
    expect(actions(c)).toEqual(['members_added', 'member_removed', 'member_left']);
    expect(actions(d)).toEqual(['members_added', 'member_removed']);
    expect(outsider.changes).toEqual([]);
  });

  it('adding only existing members changes nothing and tells nobody', async () => {
    const [owner, b] = await Promise.all(['owner', 'b'].map(person));
    const g = (await http(server, 'POST', '/api/groups', { name: 'Same', userIdList: [b.id] }, owner.token)).body.data;
    await until(() => b.changes.length === 1);
    const r = await http(server, 'POST', `/api/groups/${g.id}/members`, { userIdList: [b.id, owner.id] }, owner.token);
    expect(r.body.data).toHaveLength(2);
    await sleep(50);
    expect(actions(b)).toEqual(['created']);
  });
});

describe('group messages follow membership', () => {
  it('members get each message live and from the group sequence after they joined; removed and left members stop; rejoined ones get new ones only', async () => {
    const [owner, b, c] = await Promise.all(['owner', 'b', 'c'].map(person));
    await call(owner.socket, 'chat:send', { clientMsgId: cid(), chatType: 0, to: b.id, content: 'private first' });
    const g = (await http(server, 'POST', '/api/groups', { name: 'Flow', userIdList: [b.id, c.id] }, owner.token)).body.data;
    const send = (p: Person, content: string) => call(p.socket, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content });
    const groupSync = (p: Person, afterSeq?: number) => call(p.socket, 'chat:group-sync', afterSeq === undefined ? { groupId: g.id } : { groupId: g.id, afterSeq });

    const m1 = await send(owner, 'hello all');
    // Read diffusion: a group message has a seq in the group and no inbox position.
    expect(m1.data).toMatchObject({ chatType: 1, to: g.id, seq: 1, fromName: 'owner' });
    expect(m1.data.inboxSeq).toBeUndefined();
    await until(() => b.chats.length === 2 && c.chats.length === 1, 5000, 'group message delivered');
    expect(b.chats[1]).toMatchObject({ messageId: m1.data.messageId, seq: 1 });
    expect(c.chats[0]).toMatchObject({ messageId: m1.data.messageId, seq: 1 });
    // Nothing of it is in anyone's inbox.
    expect((await call(b.socket, 'chat:sync', { afterInboxSeq: 0 })).data.messages.map((m: { content: string }) => m.content)).toEqual(['private first']);
    expect((await groupSync(c)).data).toMatchObject({ lastSeq: 1, joinedSeq: 0, hasMore: false, messages: [{ messageId: m1.data.messageId }] });

    // Removing c is a notice of the group (seq 2), which c no longer gets.
    await http(server, 'DELETE', `/api/groups/${g.id}/members/${c.id}`, undefined, owner.token);
    expect((await send(c, 'still here?')).code).toBe(40300);
    expect((await groupSync(c)).code).toBe(40300);
    await send(b, 'c is gone');
    await until(() => owner.chats.length === 2);
    expect(owner.chats.map((m) => [m.seq, m.msgType, m.content])).toEqual([[2, 1001, 'owner removed c'], [3, 0, 'c is gone']]);
    await sleep(50);
    expect(c.chats).toHaveLength(1);

    // Added back: c's catch-up starts after seq 3 (where it rejoined), with the notice of it.
    await http(server, 'POST', `/api/groups/${g.id}/members`, { userIdList: [c.id] }, b.token);
    await send(owner, 'welcome back');
    await until(() => c.chats.length === 3);
    expect(c.chats.slice(1).map((m) => [m.seq, m.content])).toEqual([[4, 'b added c'], [5, 'welcome back']]);
    // Rejoined at seq 3: catch-up starts after it, the message sent while away is not there.
    const cSync = await groupSync(c);
    expect(cSync.data.joinedSeq).toBe(3);
    expect(cSync.data.messages.map((m: { content: string }) => m.content)).toEqual(['b added c', 'welcome back']);
    expect((await call(c.socket, 'chat:groups', {})).data.groups).toEqual([{ groupId: g.id, lastSeq: 5, joinedSeq: 3 }]);
    // Asking from before the join does not reach the messages of the time away.
    expect((await groupSync(c, 0)).data.messages.map((m: { content: string }) => m.content)).toEqual(['b added c', 'welcome back']);

    await http(server, 'POST', `/api/groups/${g.id}/leave`, undefined, b.token);
    expect((await send(b, 'after leaving')).code).toBe(40300);
    await send(owner, 'b left');
    await until(() => c.chats.length === 5);
    expect(c.chats.slice(3).map((m) => m.content)).toEqual(['b left the group', 'b left']);
    await sleep(50);
    // b heard the notices of its own time in the group, its own "added c" too (on every device).
    expect(b.chats.map((m) => m.content)).toEqual(['private first', 'hello all', 'owner removed c', 'b added c', 'welcome back']);
    expect((await call(b.socket, 'chat:groups', {})).data.groups).toEqual([]);

    await http(server, 'DELETE', `/api/groups/${g.id}`, undefined, owner.token);
    expect((await send(owner, 'into the void')).code).toBe(40400);
    // A resend of something stored before the dismissal still returns the original.
    const resend = await call(owner.socket, 'chat:send', { clientMsgId: m1.data.clientMsgId, chatType: 1, to: g.id, content: 'hello all' });
    expect(resend.data.messageId).toBe(m1.data.messageId);
  });

  it('fan-out: a 300-member group send reaches every connected member once, and costs no row per member', async () => {
    const owner = await person('big');
    const ids: string[] = [];
    for (let i = 0; i < 299; i++) {
      const id = uniqueUser('m');
      ids.push(id);
      await http(server, 'POST', '/api/users', { appId: server.appId, appSecret: server.appSecret, userId: id });
    }
    const listeners = await Promise.all(ids.slice(0, 20).map(async (id) => ({ id, chats: collect(await connect(server, await tokenFor(server, id)), 'imchat') })));
    const g = (await http(server, 'POST', '/api/groups', { name: 'Big', userIdList: ids }, owner.token)).body.data;
    expect(g.memberCount).toBe(300);
    const db = (server.im.storage as unknown as { db: { prepare(sql: string): { get(): { n: number } } } }).db;
    const changes = () => db.prepare('SELECT total_changes() AS n').get().n;
    const before = changes();
    for (let i = 0; i < 5; i++) expect((await call(owner.socket, 'chat:send', { clientMsgId: cid(), chatType: 1, to: g.id, content: `big ${i}` })).code).toBe(0);
    // Per message: the message row, the conversation counter and the sender's read position.
    expect(changes() - before).toBeLessThanOrEqual(5 * 3);
    await until(() => listeners.every((l) => l.chats.length === 5), 5000, 'fan-out');
    for (const l of listeners) expect(l.chats.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    // Members who were offline catch up from the group's sequence.
    const offline = ids[250]!;
    const s = await connect(server, await tokenFor(server, offline));
    expect(s.session.latestInboxSeq).toBe(0);
    expect((await call(s, 'chat:group-sync', { groupId: g.id, afterSeq: 3 })).data.messages.map((m: { content: string }) => m.content)).toEqual(['big 3', 'big 4']);
  }, 20000);
});
