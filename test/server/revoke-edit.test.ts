/**
 * Revokes and edits on the reference server, on SQLite and on PostgreSQL: who may, when, what is
 * left of a revoked message everywhere it shows, and how devices that were offline learn of it
 * (the event is part of catch-up, in order, after the message).
 */
import { bothStorages, call, closeClients, collect, connect, http, sleep, startServer, type TestServer, tokenFor, until } from './helpers';

jest.setTimeout(60_000);

const engines = bothStorages();

describe.each(engines)('revoke and edit on $name', ({ name, url }) => {
  let server: TestServer;
  /** A server whose windows are 0 s: every sender's revoke or edit is too late. */
  let late: TestServer;
  let n = 0;
  const id = (p: string) => `${name.slice(0, 2).toLowerCase()}-${p}-${++n}`;

  beforeAll(async () => {
    server = await startServer(url() ? { databaseUrl: url() } : {});
    late = await startServer(url() ? { databaseUrl: url(), revokeWindow: 0, editWindow: 0 } : { revokeWindow: 0, editWindow: 0 });
  });
  afterEach(() => closeClients());
  afterAll(async () => {
    await server.stop();
    await late.stop();
  });

  const send = async (socket: any, to: string, content: string, chatType: 0 | 1 = 0, extra: Record<string, unknown> = {}) => {
    const r = await call(socket, 'chat:send', { clientMsgId: id('c'), chatType, to, content, ...extra });
    expect(r.code).toBe(0);
    return r.data;
  };

  it('private: the sender revokes; peer and other devices get the event live, an offline device never sees the content', async () => {
    const [a, b] = [id('a'), id('b')];
    const ta = await tokenFor(server, a, 'Alice');
    const tb = await tokenFor(server, b, 'Bob');
    const alice = await connect(server, ta);
    const alice2 = await connect(server, ta);
    const bob = await connect(server, tb);
    const before = (await call(bob, 'chat:sync', { afterInboxSeq: 0 })).data.latestInboxSeq;
    const bobLive = collect<any>(bob, 'imchat');
    const alice2Live = collect<any>(alice2, 'imchat');
    const m = await send(alice, b, 'secret plan');
    await until(() => bobLive.length === 1);

    const r = await call(alice, 'chat:revoke', { messageId: m.messageId });
    expect(r.code).toBe(0);
    expect(r.data.message).toMatchObject({ messageId: m.messageId, revoked: true, revokedBy: a, content: '', data: null });
    expect(r.data.message.revokedAt).toEqual(expect.any(Number));
    expect(r.data.event).toMatchObject({ event: 'revoke', eventOf: m.messageId, from: a, inboxSeq: m.inboxSeq + 1, target: { messageId: m.messageId, revoked: true } });
    await until(() => bobLive.length === 2 && alice2Live.length === 2);
    expect(bobLive[1]).toMatchObject({ event: 'revoke', inboxSeq: bobLive[0].inboxSeq + 1, target: { messageId: m.messageId, revoked: true, content: '' } });
    expect(JSON.stringify(bobLive[1])).not.toContain('secret plan');

    // A device of Bob's that was offline: the message arrives already a tombstone, then the event.
    const synced = (await call(bob, 'chat:sync', { afterInboxSeq: before })).data.messages;
    expect(synced.map((x: any) => x.event ?? 'message')).toEqual(['message', 'revoke']);
    expect(synced[0]).toMatchObject({ messageId: m.messageId, content: '', data: null, revoked: true });
    expect(JSON.stringify(synced)).not.toContain('secret plan');
    // History and the conversation list show the tombstone; the event is no message and not unread.
    const history = (await http(server, 'GET', `/api/private/${a}/messages?limitSize=10`, undefined, tb)).body.data;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ messageId: m.messageId, revoked: true, revokedBy: a, content: '' });
    const conv = (await http(server, 'GET', '/api/conversations', undefined, tb)).body.data.find((c: any) => c.targetId === a);
    expect(conv.lastMessage).toMatchObject({ messageId: m.messageId, revoked: true, content: '' });
    expect(conv.unreadCount).toBe(1);
    // Again: the tombstone, and no second event.
    const again = await call(alice, 'chat:revoke', { messageId: m.messageId });
    expect(again.data.event).toBeNull();
    expect(again.data.message.revoked).toBe(true);
    await sleep(100);
    expect(bobLive).toHaveLength(2);
  });

  it('private: the recipient may not revoke, a stranger and an unknown id get "not found", the window ends it', async () => {
    const [a, b, c] = [id('a'), id('b'), id('c')];
    const alice = await connect(server, await tokenFor(server, a));
    const bob = await connect(server, await tokenFor(server, b));
    const carol = await connect(server, await tokenFor(server, c));
    const m = await send(alice, b, 'hi');
    expect((await call(bob, 'chat:revoke', { messageId: m.messageId })).code).toBe(40300);
    expect((await call(carol, 'chat:revoke', { messageId: m.messageId })).code).toBe(40400);
    expect((await call(alice, 'chat:revoke', { messageId: 'no-such-message' })).code).toBe(40400);
    expect((await call(alice, 'chat:revoke', {})).code).toBe(40000);
    // The event row itself is not a message one can act on.
    const ev = (await call(alice, 'chat:revoke', { messageId: m.messageId })).data.event;
    expect((await call(alice, 'chat:revoke', { messageId: ev.messageId })).code).toBe(40400);

    const la = await connect(late, await tokenFor(late, a));
    await tokenFor(late, b);
    const old = await send(la, b, 'too late');
    await sleep(5);
    const refused = await call(la, 'chat:revoke', { messageId: old.messageId });
    expect(refused.code).toBe(40300);
    expect(refused.message).toMatch(/IM_REVOKE_WINDOW/);
  });

  it('groups: a member revokes their own, the owner anyone’s at any time, others may not; offline members catch the event up in order', async () => {
    const [o, m1, m2, out] = [id('owner'), id('m1'), id('m2'), id('out')];
    const to = await tokenFor(late, o, 'Olga');
    const t1 = await tokenFor(late, m1);
    const t2 = await tokenFor(late, m2);
    const g = (await http(late, 'POST', '/api/groups', { name: 'G', userIdList: [m1, m2] }, to)).body.data;
    const owner = await connect(late, to);
    const one = await connect(late, t1);
    const two = await connect(late, t2);
    const stranger = await connect(late, await tokenFor(late, out));
    const ownerLive = collect<any>(owner, 'imchat');
    const msg = await send(one, g.id, 'member says', 1);
    const next = await send(one, g.id, 'and more', 1);
    await sleep(5);
    // The window (0 s) is over for the sender; a peer may never; a stranger cannot see it.
    expect((await call(one, 'chat:revoke', { messageId: msg.messageId })).code).toBe(40300);
    expect((await call(two, 'chat:revoke', { messageId: msg.messageId })).code).toBe(40300);
    expect((await call(stranger, 'chat:revoke', { messageId: msg.messageId })).code).toBe(40400);
    const r = await call(owner, 'chat:revoke', { messageId: msg.messageId });
    expect(r.code).toBe(0);
    expect(r.data.event).toMatchObject({ event: 'revoke', chatType: 1, to: g.id, from: o, seq: next.seq + 1, target: { messageId: msg.messageId, revokedBy: o, revoked: true } });
    expect(r.data.event.inboxSeq).toBeUndefined();
    await until(() => ownerLive.length === 2);
    // A member catching up reads message, message, event: the first already empty.
    const caught = (await call(two, 'chat:group-sync', { groupId: g.id })).data.messages;
    expect(caught.map((x: any) => [x.event ?? 'message', x.seq])).toEqual([['message', msg.seq], ['message', next.seq], ['revoke', next.seq + 1]]);
    expect(caught[0]).toMatchObject({ content: '', revoked: true });
    // History pages over messages only.
    const history = (await http(late, 'GET', `/api/groups/${g.id}/messages?limitSize=10`, undefined, t2)).body.data;
    expect(history.map((x: any) => x.messageId)).toEqual([msg.messageId, next.messageId]);
    // Someone who joins later cannot see (or revoke) what came before.
    const [newcomer] = [id('new')];
    const tn = await tokenFor(late, newcomer);
    await http(late, 'POST', `/api/groups/${g.id}/members`, { userIdList: [newcomer] }, to);
    const nc = await connect(late, tn);
    expect((await call(nc, 'chat:revoke', { messageId: next.messageId })).code).toBe(40400);
  });

  it('a revoke drops the mentions and shows in reply previews', async () => {
    const [o, m1] = [id('owner'), id('m1')];
    const to = await tokenFor(server, o);
    const t1 = await tokenFor(server, m1);
    const g = (await http(server, 'POST', '/api/groups', { name: 'M', userIdList: [m1] }, to)).body.data;
    const owner = await connect(server, to);
    const one = await connect(server, t1);
    const mention = await send(owner, g.id, '@m1 look', 1, { mentions: [m1] });
    const conv = async () => (await http(server, 'GET', '/api/conversations', undefined, t1)).body.data.find((c: any) => c.targetId === g.id);
    expect((await conv()).mentionedMe).toBe(true);
    const reply = await send(one, g.id, 'what?', 1, { replyTo: mention.messageId });
    expect(reply.replyTo).toMatchObject({ content: '@m1 look' });
    expect((await call(owner, 'chat:revoke', { messageId: mention.messageId })).code).toBe(0);
    expect((await conv()).mentionedMe).toBe(false);
    const history = (await http(server, 'GET', `/api/groups/${g.id}/messages?limitSize=10`, undefined, t1)).body.data;
    expect(history.find((x: any) => x.messageId === reply.messageId).replyTo).toEqual({ messageId: mention.messageId, from: o, fromName: o, msgType: 0, content: '', revoked: true });
  });

  it('edit: the sender changes content (and data) within the window; everyone gets the updated message; the rules of a send hold', async () => {
    const [a, b] = [id('a'), id('b')];
    const ta = await tokenFor(server, a);
    const tb = await tokenFor(server, b);
    const alice = await connect(server, ta);
    const bob = await connect(server, tb);
    const bobLive = collect<any>(bob, 'imchat');
    const m = await send(alice, b, 'helo', 0, { data: { v: 1 } });
    const e = await call(alice, 'chat:edit', { messageId: m.messageId, content: 'hello' });
    expect(e.code).toBe(0);
    expect(e.data.message).toMatchObject({ messageId: m.messageId, content: 'hello', data: { v: 1 }, seq: m.seq });
    expect(e.data.message.editedAt).toBeGreaterThanOrEqual(m.timestamp);
    expect(e.data.event).toMatchObject({ event: 'edit', eventOf: m.messageId, target: { content: 'hello', editedAt: e.data.message.editedAt } });
    await until(() => bobLive.length === 2);
    expect(bobLive[1]).toMatchObject({ event: 'edit', target: { messageId: m.messageId, content: 'hello' } });
    const e2 = await call(alice, 'chat:edit', { messageId: m.messageId, content: 'hello!', data: { v: 2 } });
    expect(e2.data.message).toMatchObject({ content: 'hello!', data: { v: 2 } });
    const history = (await http(server, 'GET', `/api/private/${b}/messages?limitSize=10`, undefined, ta)).body.data;
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ content: 'hello!', data: { v: 2 }, editedAt: e2.data.message.editedAt });
    // Catch-up: the message as it is now, then both edit events (each showing it as it is now).
    const synced = (await call(bob, 'chat:sync', { afterInboxSeq: bobLive[0].inboxSeq - 1 })).data.messages;
    expect(synced.map((x: any) => x.event ?? x.content)).toEqual(['hello!', 'edit', 'edit']);

    expect((await call(alice, 'chat:edit', { messageId: m.messageId, content: '   ' })).code).toBe(40000);
    expect((await call(alice, 'chat:edit', { messageId: m.messageId, content: 'x'.repeat(40_000) })).code).toBe(41300);
    expect((await call(alice, 'chat:edit', { messageId: m.messageId, content: 'ok', data: 5 })).code).toBe(40000);
    expect((await call(bob, 'chat:edit', { messageId: m.messageId, content: 'mine now' })).code).toBe(40300);
    expect((await call(alice, 'chat:revoke', { messageId: m.messageId })).code).toBe(0);
    expect((await call(alice, 'chat:edit', { messageId: m.messageId, content: 'back?' })).code).toBe(40300);

    const la = await connect(late, await tokenFor(late, a));
    await tokenFor(late, b);
    const old = await send(la, b, 'too late');
    await sleep(5);
    const refused = await call(la, 'chat:edit', { messageId: old.messageId, content: 'fixed' });
    expect(refused.code).toBe(40300);
    expect(refused.message).toMatch(/IM_EDIT_WINDOW/);
  });
});
