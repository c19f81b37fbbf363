/**
 * Group roles (owner, admin, member), settings, mutes and group notifications on the reference
 * server, on SQLite and on PostgreSQL: who may do what (allowed and refused), that a mute blocks
 * sends until it ends, mute-all, ownership transfer, and that every change reaches the members as
 * `group:changed` and as a notice message (msgType 1001) in the group's history.
 */
import { bothStorages, call, closeClients, collect, connect, http, sleep, startServer, type TestServer, type TestSocket, tokenFor, until } from './helpers';

jest.setTimeout(60_000);

const engines = bothStorages();

const NOTICE = 1001;

describe.each(engines)('group roles and settings on $name', ({ name, url }) => {
  let server: TestServer;
  let n = 0;
  const id = (p: string) => `${name.slice(0, 2).toLowerCase()}-${p}-${++n}`;

  beforeAll(async () => {
    // No revoke window: only privilege lets anyone revoke, so the admin rules show plainly.
    server = await startServer(url() ? { databaseUrl: url(), revokeWindow: 0 } : { revokeWindow: 0 });
  });
  afterEach(() => closeClients());
  afterAll(async () => {
    await server.stop();
  });

  interface Person {
    id: string;
    token: string;
    socket: TestSocket;
    changes: any[];
    chats: any[];
  }

  const person = async (label: string, on: TestServer = server): Promise<Person> => {
    const uid = id(label.toLowerCase());
    const token = await tokenFor(on, uid, label);
    const socket = await connect(on, token);
    return { id: uid, token, socket, changes: collect(socket, 'group:changed'), chats: collect(socket, 'imchat') };
  };
  /** An owner and members, the group made and its `created` events past. */
  const team = async (...labels: string[]) => {
    const [owner, ...rest] = await Promise.all(labels.map((l) => person(l)));
    const g = (await http(server, 'POST', '/api/groups', { name: 'Team', userIdList: rest.map((p) => p.id) }, owner!.token)).body.data;
    await until(() => [owner!, ...rest].every((p) => p.changes.length === 1), 5000, 'created');
    return { g, owner: owner!, rest };
  };
  const api = (p: Person, method: string, path: string, body?: unknown) => http(server, method, path, body, p.token);
  const send = (p: Person, groupId: string, content: string, extra: Record<string, unknown> = {}) =>
    call(p.socket, 'chat:send', { clientMsgId: id('c'), chatType: 1, to: groupId, content, ...extra });
  const notices = async (p: Person, groupId: string) =>
    ((await api(p, 'GET', `/api/groups/${groupId}/messages?limitSize=100`)).body.data as any[]).filter((m) => m.msgType === NOTICE);

  it('roles: the owner makes an admin and a member again; everyone hears it and history says so; nobody else may', async () => {
    const { g, owner, rest } = await team('Olga', 'Bob', 'Cid');
    const [bob, cid] = rest as [Person, Person];
    const made = await api(owner, 'POST', `/api/groups/${g.id}/members/${bob.id}/role`, { role: 'admin' });
    expect(made.body).toMatchObject({ code: 0, data: { userId: bob.id, role: 'admin', mutedUntil: 0 } });
    await until(() => [owner, bob, cid].every((p) => p.changes.length === 2 && p.chats.length === 1), 5000, 'role_changed and its notice');
    expect(cid.changes[1]).toEqual({ groupId: g.id, action: 'role_changed', userIds: [bob.id], role: 'admin', by: owner.id, timestamp: expect.any(Number) });
    // The notice: live to every member (the owner's own device too), a message of the group.
    const live = cid.chats[0];
    expect(live).toMatchObject({ chatType: 1, to: g.id, from: owner.id, fromName: 'Olga', msgType: NOTICE, content: 'Olga made Bob an admin', seq: 1 });
    expect(live.data).toEqual({ action: 'role_changed', by: owner.id, byName: 'Olga', userIds: [bob.id], names: { [bob.id]: 'Bob' }, role: 'admin' });
    expect(owner.chats[0].messageId).toBe(live.messageId);
    expect((await notices(cid, g.id)).map((m) => m.messageId)).toEqual([live.messageId]);
    // Owner first, then admins, then members.
    const members = (await api(cid, 'GET', `/api/groups/${g.id}/members`)).body.data;
    expect(members.map((m: any) => [m.userId, m.role])).toEqual([[owner.id, 'owner'], [bob.id, 'admin'], [cid.id, 'member']]);

    // Only the owner: not an admin, not a member; not on the owner; only members; only these roles.
    expect((await api(bob, 'POST', `/api/groups/${g.id}/members/${cid.id}/role`, { role: 'admin' })).body.code).toBe(40300);
    expect((await api(cid, 'POST', `/api/groups/${g.id}/members/${cid.id}/role`, { role: 'admin' })).body.code).toBe(40300);
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${owner.id}/role`, { role: 'member' })).body).toMatchObject({ code: 40300, message: expect.stringContaining('transfer') });
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/nobody-here/role`, { role: 'admin' })).body.code).toBe(40400);
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${cid.id}/role`, { role: 'owner' })).body.code).toBe(40000);
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${cid.id}/role`, {})).body.code).toBe(40000);
    // The same role again changes nothing and tells nobody.
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${bob.id}/role`, { role: 'admin' })).body.data.role).toBe('admin');

    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${bob.id}/role`, { role: 'member' })).body.data.role).toBe('member');
    await until(() => cid.chats.length === 2, 5000, 'demotion notice');
    expect(cid.chats[1]).toMatchObject({ msgType: NOTICE, content: 'Olga removed Bob as an admin', data: { action: 'role_changed', role: 'member' } });
    await sleep(50);
    expect(cid.changes.map((c) => c.action)).toEqual(['created', 'role_changed', 'role_changed']);
  });

  it('admins remove plain members (not the owner, not admins), revoke their messages, mention everyone; a demoted admin loses it at once', async () => {
    const { g, owner, rest } = await team('Olga', 'Ada', 'Abe', 'Mia', 'Max');
    const [ada, abe, mia, max] = rest as [Person, Person, Person, Person];
    for (const a of [ada, abe]) expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${a.id}/role`, { role: 'admin' })).body.code).toBe(0);

    // Revokes (the window is 0 s, so only rank counts): an admin, a member's message any time;
    // not the owner's, not another admin's. A member, nobody's.
    const fromMia = (await send(mia, g.id, 'mia says')).data;
    const fromOwner = (await send(owner, g.id, 'owner says')).data;
    const fromAbe = (await send(abe, g.id, 'abe says')).data;
    await sleep(5);
    expect((await call(max.socket, 'chat:revoke', { messageId: fromMia.messageId })).code).toBe(40300);
    expect((await call(ada.socket, 'chat:revoke', { messageId: fromOwner.messageId })).code).toBe(40300);
    expect((await call(ada.socket, 'chat:revoke', { messageId: fromAbe.messageId })).code).toBe(40300);
    expect((await call(ada.socket, 'chat:revoke', { messageId: fromMia.messageId })).data.message).toMatchObject({ revoked: true, revokedBy: ada.id });
    expect((await call(owner.socket, 'chat:revoke', { messageId: fromAbe.messageId })).data.message).toMatchObject({ revoked: true, revokedBy: owner.id });

    // Mentioning everyone: owner and admins.
    expect((await send(ada, g.id, '@all hi', { mentions: 'all' })).data.mentions).toBe('all');
    expect((await send(mia, g.id, '@all hi', { mentions: 'all' })).code).toBe(40300);

    // Removing: an admin removes a member; not the owner, not an admin; a member nobody.
    expect((await api(mia, 'DELETE', `/api/groups/${g.id}/members/${max.id}`)).body.code).toBe(40300);
    expect((await api(ada, 'DELETE', `/api/groups/${g.id}/members/${owner.id}`)).body.code).toBe(40300);
    expect((await api(ada, 'DELETE', `/api/groups/${g.id}/members/${abe.id}`)).body.code).toBe(40300);
    expect((await api(ada, 'DELETE', `/api/groups/${g.id}/members/nobody-here`)).body.code).toBe(40400);
    const removed = await api(ada, 'DELETE', `/api/groups/${g.id}/members/${max.id}`);
    expect(removed.body.data.map((m: any) => m.userId)).not.toContain(max.id);
    await until(() => max.changes.some((c) => c.action === 'member_removed'), 5000, 'removed');
    expect(max.changes.at(-1)).toMatchObject({ action: 'member_removed', userIds: [max.id], by: ada.id });
    // An admin adds members too, as any member may.
    expect((await api(ada, 'POST', `/api/groups/${g.id}/members`, { userIdList: [max.id] })).body.code).toBe(0);

    // Demoted: the next request is refused (the role is read from the database each time).
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${ada.id}/role`, { role: 'member' })).body.code).toBe(0);
    expect((await api(ada, 'DELETE', `/api/groups/${g.id}/members/${max.id}`)).body.code).toBe(40300);
    expect((await send(ada, g.id, '@all again', { mentions: 'all' })).code).toBe(40300);
    // The owner removes an admin.
    expect((await api(owner, 'DELETE', `/api/groups/${g.id}/members/${abe.id}`)).body.code).toBe(0);
  });

  it('updateGroupInfo: name, description and avatar by the owner, the announcement by owner or admin; getGroupInfo returns them', async () => {
    const { g, owner, rest } = await team('Olga', 'Ada', 'Mia');
    const [ada, mia] = rest as [Person, Person];
    expect(g).toMatchObject({ announcement: '', avatar: '', muteAll: false });
    await api(owner, 'POST', `/api/groups/${g.id}/members/${ada.id}/role`, { role: 'admin' });
    const info = (p: Person, body: unknown) => api(p, 'POST', `/api/groups/${g.id}/info`, body);

    const renamed = await info(owner, { name: 'Weekend', description: 'plans', avatar: 'https://cdn.example.com/g.png' });
    expect(renamed.body.data).toMatchObject({ id: g.id, name: 'Weekend', description: 'plans', avatar: 'https://cdn.example.com/g.png', announcement: '' });
    const announced = await info(ada, { announcement: 'Bring snacks' });
    expect(announced.body.data).toMatchObject({ name: 'Weekend', announcement: 'Bring snacks' });
    // An admin's form may send the name as it is: only what changes needs the owner.
    expect((await info(ada, { name: 'Weekend', announcement: 'Bring snacks and drinks' })).body.code).toBe(0);
    expect((await info(ada, { name: 'Mine now' })).body).toMatchObject({ code: 40300, message: expect.stringContaining('name') });
    expect((await info(ada, { avatar: 'x' })).body.code).toBe(40300);
    expect((await info(mia, { announcement: 'hi' })).body.code).toBe(40300);
    expect((await info(mia, { name: 'Weekend' })).body.code).toBe(40300);
    // Bad input.
    for (const bad of [{}, { name: '' }, { name: '   ' }, { ownerId: mia.id }, { announcement: 'a'.repeat(2001) }, { avatar: 5 }, { description: 'a\u0000b' }, { announcement: 'half \ud83d' }]) {
      expect([bad, (await info(owner, bad)).body.code]).toEqual([bad, 40000]);
    }
    expect((await api(owner, 'POST', `/api/groups/no-such-group/info`, { name: 'x' })).body.code).toBe(40400);

    for (const p of [owner, mia]) {
      expect((await api(p, 'GET', `/api/groups/${g.id}`)).body.data).toMatchObject({ name: 'Weekend', description: 'plans', announcement: 'Bring snacks and drinks', avatar: 'https://cdn.example.com/g.png', muteAll: false });
    }
    expect((await api(mia, 'GET', '/api/groups')).body.data.find((x: any) => x.id === g.id)).toMatchObject({ name: 'Weekend', announcement: 'Bring snacks and drinks' });
    // Each change that changed something: one info_updated and one notice.
    const texts = (await notices(mia, g.id)).map((m) => m.content);
    expect(texts).toEqual(['Olga made Ada an admin', 'Olga changed the group name, description and avatar', 'Ada changed the group announcement', 'Ada changed the group announcement']);
    await until(() => mia.changes.filter((c) => c.action === 'info_updated').length === 3, 5000, 'info_updated');
    expect(mia.changes.find((c) => c.action === 'info_updated')).toEqual({
      groupId: g.id, action: 'info_updated', userIds: [], by: owner.id, timestamp: expect.any(Number),
      changes: { name: 'Weekend', description: 'plans', avatar: 'https://cdn.example.com/g.png' },
    });
    expect((await info(owner, { name: 'Renamed' })).body.code).toBe(0);
    expect((await notices(mia, g.id)).at(-1)).toMatchObject({ content: 'Olga renamed the group to "Renamed"', data: { action: 'info_updated', changes: { name: 'Renamed' } } });
  });

  it('mute: a muted member cannot send or edit until it ends; owner and admins mute, within their rank; 0 unmutes', async () => {
    const { g, owner, rest } = await team('Olga', 'Ada', 'Abe', 'Mia');
    const [ada, abe, mia] = rest as [Person, Person, Person];
    for (const a of [ada, abe]) await api(owner, 'POST', `/api/groups/${g.id}/members/${a.id}/role`, { role: 'admin' });
    const mute = (by: Person, who: Person | string, body: unknown) => api(by, 'POST', `/api/groups/${g.id}/members/${typeof who === 'string' ? who : who.id}/mute`, body);
    const before = (await send(mia, g.id, 'before')).data;

    const t0 = Date.now();
    const muted = await mute(ada, mia, { seconds: 1 });
    expect(muted.body.data).toMatchObject({ userId: mia.id, role: 'member' });
    expect(muted.body.data.mutedUntil).toBeGreaterThanOrEqual(t0 + 1000);
    const refused = await send(mia, g.id, 'let me speak');
    expect(refused.code).toBe(40300);
    expect(refused.message).toMatch(/muted in group .* until \d{4}-\d\d-\d\dT/);
    expect((await call(mia.socket, 'chat:edit', { messageId: before.messageId, content: 'edited while muted' })).code).toBe(40300);
    expect((await api(mia, 'GET', `/api/groups/${g.id}/members`)).body.data.find((m: any) => m.userId === mia.id).mutedUntil).toBe(muted.body.data.mutedUntil);
    await until(() => mia.changes.some((c) => c.action === 'member_muted'), 5000, 'member_muted');
    expect(mia.changes.at(-1)).toEqual({ groupId: g.id, action: 'member_muted', userIds: [mia.id], seconds: 1, mutedUntil: muted.body.data.mutedUntil, by: ada.id, timestamp: expect.any(Number) });
    expect((await notices(owner, g.id)).at(-1)).toMatchObject({ from: ada.id, content: 'Ada muted Mia for 1 second', data: { action: 'member_muted', seconds: 1, mutedUntil: muted.body.data.mutedUntil } });

    // It ends by itself.
    await sleep(Math.max(0, muted.body.data.mutedUntil - Date.now()) + 50);
    expect((await send(mia, g.id, 'free again')).code).toBe(0);
    expect((await api(mia, 'GET', `/api/groups/${g.id}/members`)).body.data.find((m: any) => m.userId === mia.id).mutedUntil).toBe(0);

    // Who may: not a member; an admin not an admin; nobody the owner; the owner an admin.
    expect((await mute(mia, abe, { seconds: 60 })).body.code).toBe(40300);
    expect((await mute(ada, abe, { seconds: 60 })).body.code).toBe(40300);
    expect((await mute(ada, owner, { seconds: 60 })).body.code).toBe(40300);
    expect((await mute(owner, owner, { seconds: 60 })).body.code).toBe(40300);
    expect((await mute(owner, 'nobody-here', { seconds: 60 })).body.code).toBe(40400);
    for (const bad of [{ seconds: -1 }, { seconds: 2_592_001 }, { seconds: 1.5 }, { seconds: '60' }, {}]) expect([bad, (await mute(owner, mia, bad)).body.code]).toEqual([bad, 40000]);
    expect((await mute(owner, abe, { seconds: 3600 })).body.code).toBe(0);
    expect((await send(abe, g.id, 'an admin muted')).code).toBe(40300);

    // Unmute: 0 ends it at once; unmuting someone not muted changes nothing.
    expect((await mute(ada, mia, { seconds: 600 })).body.code).toBe(0);
    expect((await send(mia, g.id, 'x')).code).toBe(40300);
    expect((await mute(ada, mia, { seconds: 0 })).body.data.mutedUntil).toBe(0);
    expect((await send(mia, g.id, 'unmuted')).code).toBe(0);
    const count = (await notices(owner, g.id)).length;
    expect((await mute(ada, mia, { seconds: 0 })).body.code).toBe(0);
    const texts = (await notices(owner, g.id)).map((m) => m.content);
    expect(texts).toHaveLength(count);
    expect(texts.slice(-3)).toEqual(['Olga muted Abe for 1 hour', 'Ada muted Mia for 10 minutes', 'Ada unmuted Mia']);
  });

  it('mute-all: only owner and admins may send while it is on; members may not turn it on', async () => {
    const { g, owner, rest } = await team('Olga', 'Ada', 'Mia');
    const [ada, mia] = rest as [Person, Person];
    await api(owner, 'POST', `/api/groups/${g.id}/members/${ada.id}/role`, { role: 'admin' });
    const muteAll = (p: Person, body: unknown) => api(p, 'POST', `/api/groups/${g.id}/mute-all`, body);
    expect((await muteAll(mia, { muted: true })).body.code).toBe(40300);
    expect((await muteAll(ada, { muted: 'yes' })).body.code).toBe(40000);
    expect((await muteAll(ada, { muted: true })).body.data).toMatchObject({ id: g.id, muteAll: true });
    const refused = await send(mia, g.id, 'hello?');
    expect(refused).toMatchObject({ code: 40300, message: expect.stringContaining('only its owner and admins') });
    expect((await send(ada, g.id, 'admins may')).code).toBe(0);
    expect((await send(owner, g.id, 'the owner may')).code).toBe(0);
    await until(() => mia.changes.some((c) => c.action === 'mute_all'), 5000, 'mute_all');
    expect(mia.changes.find((c) => c.action === 'mute_all')).toEqual({ groupId: g.id, action: 'mute_all', userIds: [], muted: true, by: ada.id, timestamp: expect.any(Number) });
    // Again: nothing new.
    expect((await muteAll(owner, { muted: true })).body.data.muteAll).toBe(true);
    expect((await muteAll(owner, { muted: false })).body.data.muteAll).toBe(false);
    expect((await send(mia, g.id, 'at last')).code).toBe(0);
    expect((await notices(mia, g.id)).map((m) => m.content).slice(1)).toEqual(['Ada muted all members', 'Olga unmuted all members']);
  });

  it('transfer: to a member only, by the owner only; the old owner becomes a member and the new one is never muted', async () => {
    const { g, owner, rest } = await team('Olga', 'Bob', 'Mia');
    const [bob, mia] = rest as [Person, Person];
    const transfer = (p: Person, userId: string) => api(p, 'POST', `/api/groups/${g.id}/owner`, { userId });
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${bob.id}/mute`, { seconds: 600 })).body.code).toBe(0);
    expect((await transfer(bob, bob.id)).body.code).toBe(40300);
    expect((await transfer(owner, owner.id)).body.code).toBe(40000);
    expect((await transfer(owner, 'nobody-here')).body.code).toBe(40400);
    expect((await api(owner, 'POST', `/api/groups/${g.id}/owner`, {})).body.code).toBe(40000);

    const done = await transfer(owner, bob.id);
    expect(done.body.data).toMatchObject({ id: g.id, ownerId: bob.id, memberCount: 3 });
    const members = (await api(mia, 'GET', `/api/groups/${g.id}/members`)).body.data;
    expect(members[0]).toMatchObject({ userId: bob.id, role: 'owner', mutedUntil: 0 });
    expect(members.slice(1).map((m: any) => [m.userId, m.role]).sort()).toEqual([[owner.id, 'member'], [mia.id, 'member']].sort());
    expect((await send(bob, g.id, 'mine now')).code).toBe(0);
    await until(() => mia.changes.some((c) => c.action === 'owner_transferred'), 5000, 'owner_transferred');
    expect(mia.changes.find((c) => c.action === 'owner_transferred')).toEqual({ groupId: g.id, action: 'owner_transferred', userIds: [bob.id], by: owner.id, timestamp: expect.any(Number) });
    expect((await notices(mia, g.id)).at(-1)).toMatchObject({ content: 'Olga made Bob the group owner', data: { action: 'owner_transferred', userIds: [bob.id], names: { [bob.id]: 'Bob' } } });

    // The rights moved with it.
    expect((await transfer(owner, mia.id)).body.code).toBe(40300);
    expect((await api(owner, 'DELETE', `/api/groups/${g.id}`)).body.code).toBe(40300);
    expect((await api(owner, 'POST', `/api/groups/${g.id}/leave`)).body.code).toBe(0);
    expect((await api(bob, 'POST', `/api/groups/${g.id}/leave`)).body.code).toBe(40300);
    expect((await api(bob, 'DELETE', `/api/groups/${g.id}`)).body.code).toBe(0);
  });

  it('notices: members added, removed and left are in history and catch-up, live to the members; created and dismissed are not; none can be revoked, edited or sent', async () => {
    const { g, owner, rest } = await team('Olga', 'Bob', 'Cid');
    const [bob, cid] = rest as [Person, Person];
    const [dan, eve] = await Promise.all([person('Dan'), person('Eve')]);
    expect(await notices(owner, g.id)).toEqual([]);
    expect((await api(bob, 'POST', `/api/groups/${g.id}/members`, { userIdList: [dan.id, eve.id] })).body.code).toBe(0);
    expect((await api(owner, 'DELETE', `/api/groups/${g.id}/members/${eve.id}`)).body.code).toBe(0);
    expect((await api(cid, 'POST', `/api/groups/${g.id}/leave`)).body.code).toBe(0);
    const history = await notices(owner, g.id);
    expect(history.map((m) => [m.seq, m.from, m.content])).toEqual([
      [1, bob.id, 'Bob added Dan and Eve'],
      [2, owner.id, 'Olga removed Eve'],
      [3, cid.id, 'Cid left the group'],
    ]);
    expect(history[0].data).toEqual({ action: 'members_added', by: bob.id, byName: 'Bob', userIds: [dan.id, eve.id], names: { [dan.id]: 'Dan', [eve.id]: 'Eve' } });
    expect(history[2].data).toMatchObject({ action: 'member_left', by: cid.id, userIds: [cid.id] });
    // Live: the members at the time; the one who joined sees their own welcome; the removed and the
    // one who left do not get what followed.
    await until(() => owner.chats.length === 3 && dan.chats.length === 3, 5000, 'live notices');
    expect(dan.chats.map((m) => m.content)).toEqual(['Bob added Dan and Eve', 'Olga removed Eve', 'Cid left the group']);
    await sleep(50);
    expect(eve.chats.map((m) => m.content)).toEqual(['Bob added Dan and Eve']);
    expect(cid.chats.map((m) => m.content)).toEqual(['Bob added Dan and Eve', 'Olga removed Eve']);
    // Catch-up has them in order, from where the member joined.
    expect((await call(dan.socket, 'chat:group-sync', { groupId: g.id })).data.messages.map((m: any) => m.seq)).toEqual([1, 2, 3]);
    // The conversation list shows the group with its last notice.
    const conv = (await api(dan, 'GET', '/api/conversations')).body.data.find((c: any) => c.targetId === g.id);
    expect(conv.lastMessage).toMatchObject({ msgType: NOTICE, content: 'Cid left the group' });

    // The record stays as it is: no revoke (not even the owner's), no edit by its actor.
    expect((await call(owner.socket, 'chat:revoke', { messageId: history[0].messageId })).code).toBe(40300);
    expect((await call(bob.socket, 'chat:edit', { messageId: history[0].messageId, content: 'Bob made himself owner' })).code).toBe(40300);
    expect((await call(eve.socket, 'chat:revoke', { messageId: history[0].messageId })).code).toBe(40400);
    // Apps send 0-1000 only.
    expect((await send(owner, g.id, 'fake notice', { msgType: NOTICE })).code).toBe(40000);

    const before = dan.chats.length;
    expect((await api(owner, 'DELETE', `/api/groups/${g.id}`)).body.code).toBe(0);
    await until(() => dan.changes.some((c) => c.action === 'dismissed'), 5000, 'dismissed');
    await sleep(50);
    expect(dan.chats).toHaveLength(before);
  });

  it('a mute outlives leaving and removal: a member brought back while it lasts is still muted until it ends', async () => {
    const { g, owner, rest } = await team('Olga', 'Bob', 'Cid');
    const [bob, cid] = rest as [Person, Person];
    const mute = (who: Person, seconds: number) => api(owner, 'POST', `/api/groups/${g.id}/members/${who.id}/mute`, { seconds });
    const addBack = async (who: Person) => {
      const r = await api(cid, 'POST', `/api/groups/${g.id}/members`, { userIdList: [who.id] });
      expect(r.body.code).toBe(0);
      return r.body.data.find((m: any) => m.userId === who.id);
    };
    const until = (await mute(bob, 3)).body.data.mutedUntil as number;
    // Left, and added back by a plain member (any member may add).
    expect((await api(bob, 'POST', `/api/groups/${g.id}/leave`)).body.code).toBe(0);
    expect(await addBack(bob)).toMatchObject({ role: 'member', mutedUntil: until });
    expect((await send(bob, g.id, 'back and loud')).code).toBe(40300);
    // Removed and added back: the same.
    expect((await api(owner, 'DELETE', `/api/groups/${g.id}/members/${bob.id}`)).body.code).toBe(0);
    expect((await addBack(bob)).mutedUntil).toBe(until);
    expect((await send(bob, g.id, 'still?')).code).toBe(40300);
    // It ends when it would have.
    await sleep(Math.max(0, until - Date.now()) + 50);
    expect((await send(bob, g.id, 'free')).code).toBe(0);
    // A mute that ended, or was lifted, is not brought back.
    expect((await api(bob, 'POST', `/api/groups/${g.id}/leave`)).body.code).toBe(0);
    expect((await addBack(bob)).mutedUntil).toBe(0);
    expect((await mute(bob, 600)).body.code).toBe(0);
    expect((await mute(bob, 0)).body.code).toBe(0);
    expect((await api(bob, 'POST', `/api/groups/${g.id}/leave`)).body.code).toBe(0);
    expect((await addBack(bob)).mutedUntil).toBe(0);
    expect((await send(bob, g.id, 'unmuted for good')).code).toBe(0);
  });

  it('the rights are checked again where the change is written: a role that changed meanwhile refuses it', async () => {
    const { g, owner, rest } = await team('Olga', 'Ada', 'Mia', 'Max');
    const [ada, mia, max] = rest as [Person, Person, Person];
    const role = (who: Person, r: 'admin' | 'member') => api(owner, 'POST', `/api/groups/${g.id}/members/${who.id}/role`, { role: r });
    expect((await role(ada, 'admin')).body.code).toBe(0);
    const storage = server.im.storage as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    /** Runs `act` once, after the service checked the rights and before storage writes the change. */
    const meanwhile = (method: 'changeGroup' | 'removeMember', act: () => Promise<unknown>) => {
      const own = Object.prototype.hasOwnProperty.call(storage, method);
      const original = storage[method]!;
      storage[method] = async (...args: unknown[]) => {
        if (own) storage[method] = original;
        else delete storage[method];
        await act();
        return original.apply(storage, args);
      };
    };
    const mutedUntil = async (who: Person) => (await api(owner, 'GET', `/api/groups/${g.id}/members`)).body.data.find((m: any) => m.userId === who.id)?.mutedUntil;
    const meanwhileRefusal = { code: 40300, message: expect.stringContaining('changed meanwhile') };

    // Demoted between the check and the write: the mute is refused and nothing of it is stored.
    meanwhile('changeGroup', () => role(ada, 'member'));
    expect((await api(ada, 'POST', `/api/groups/${g.id}/members/${mia.id}/mute`, { seconds: 60 })).body).toMatchObject(meanwhileRefusal);
    expect(await mutedUntil(mia)).toBe(0);
    expect((await notices(owner, g.id)).map((m) => m.content)).toEqual(['Olga made Ada an admin', 'Olga removed Ada as an admin']);
    // The same for a removal.
    expect((await role(ada, 'admin')).body.code).toBe(0);
    meanwhile('removeMember', () => role(ada, 'member'));
    expect((await api(ada, 'DELETE', `/api/groups/${g.id}/members/${max.id}`)).body).toMatchObject(meanwhileRefusal);
    expect((await api(owner, 'GET', `/api/groups/${g.id}/members`)).body.data.map((m: any) => m.userId)).toContain(max.id);
    // The member acted on became an admin meanwhile: out of an admin's reach, for a removal and a mute.
    expect((await role(ada, 'admin')).body.code).toBe(0);
    meanwhile('removeMember', () => role(max, 'admin'));
    expect((await api(ada, 'DELETE', `/api/groups/${g.id}/members/${max.id}`)).body).toMatchObject(meanwhileRefusal);
    expect((await role(max, 'member')).body.code).toBe(0);
    meanwhile('changeGroup', () => role(max, 'admin'));
    expect((await api(ada, 'POST', `/api/groups/${g.id}/members/${max.id}/mute`, { seconds: 60 })).body).toMatchObject(meanwhileRefusal);
    expect(await mutedUntil(max)).toBe(0);
    // An announcement by an admin demoted meanwhile.
    meanwhile('changeGroup', () => role(ada, 'member'));
    expect((await api(ada, 'POST', `/api/groups/${g.id}/info`, { announcement: 'mine' })).body).toMatchObject(meanwhileRefusal);
    expect((await api(owner, 'GET', `/api/groups/${g.id}`)).body.data.announcement).toBe('');
    // Nothing changed meanwhile: it goes through.
    expect((await api(owner, 'DELETE', `/api/groups/${g.id}/members/${max.id}`)).body.code).toBe(0);
  });

  it('refusals in the documented order: a user who is not a member is 40400 before the rights are looked at', async () => {
    const { g, owner, rest } = await team('Olga', 'Ada', 'Mia');
    const [ada, mia] = rest as [Person, Person];
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${ada.id}/role`, { role: 'admin' })).body.code).toBe(0);
    const ask = (p: Person, userId: string) => ({
      remove: () => api(p, 'DELETE', `/api/groups/${g.id}/members/${userId}`),
      mute: () => api(p, 'POST', `/api/groups/${g.id}/members/${userId}/mute`, { seconds: 60 }),
      role: () => api(p, 'POST', `/api/groups/${g.id}/members/${userId}/role`, { role: 'admin' }),
      transfer: () => api(p, 'POST', `/api/groups/${g.id}/owner`, { userId }),
    });
    for (const [who, p] of [['member', mia], ['admin', ada]] as const) {
      for (const [what, run] of Object.entries(ask(p, 'nobody-here'))) expect([who, what, (await run()).body.code]).toEqual([who, what, 40400]);
      // A member named: the rights decide.
      for (const [what, run] of Object.entries(ask(p, owner.id))) expect([who, what, (await run()).body.code]).toEqual([who, what, 40300]);
    }
  });

  it('bad input and strangers: clear refusals', async () => {
    const { g, owner } = await team('Olga', 'Bob');
    const stranger = await person('Sam');
    for (const [path, body] of [
      [`/api/groups/${g.id}/members/${owner.id}/role`, { role: 'admin' }],
      [`/api/groups/${g.id}/members/${owner.id}/mute`, { seconds: 1 }],
      [`/api/groups/${g.id}/owner`, { userId: stranger.id }],
      [`/api/groups/${g.id}/info`, { announcement: 'mine' }],
      [`/api/groups/${g.id}/mute-all`, { muted: true }],
    ] as const) {
      expect([path, (await api(stranger, 'POST', path, body)).body.code]).toEqual([path, 40300]);
      expect([path, (await http(server, 'POST', path, body)).body.code]).toEqual([path, 40100]);
      expect([path, (await api(stranger, 'POST', path.replace(g.id, 'no-such-group'), body)).body.code]).toEqual([path, 40400]);
    }
    expect((await api(owner, 'POST', `/api/groups/${g.id}/members/a%20b/role`, { role: 'admin' })).body.code).toBe(40000);
    expect((await api(owner, 'POST', `/api/groups/${g.id}/mute-all`, 'not json')).body.code).toBe(40000);
  });

  if (name === 'PostgreSQL') {
    it('across nodes: an admin demoted on one node is refused on the other at once', async () => {
      const other = await startServer({ databaseUrl: url(), revokeWindow: 0 });
      try {
        const { g, owner, rest } = await team('Olga', 'Ada', 'Mia');
        const [ada, mia] = rest as [Person, Person];
        await api(owner, 'POST', `/api/groups/${g.id}/members/${ada.id}/role`, { role: 'admin' });
        const onOther = (path: string, body: unknown) => http(other, 'POST', path, body, ada.token);
        expect((await onOther(`/api/groups/${g.id}/members/${mia.id}/mute`, { seconds: 60 })).body.code).toBe(0);
        expect((await api(owner, 'POST', `/api/groups/${g.id}/members/${ada.id}/role`, { role: 'member' })).body.code).toBe(0);
        expect((await onOther(`/api/groups/${g.id}/members/${mia.id}/mute`, { seconds: 0 })).body.code).toBe(40300);
        // The mute set on the other node holds here.
        expect((await send(mia, g.id, 'muted?')).code).toBe(40300);
      } finally {
        await other.stop();
      }
    });
  }
});
