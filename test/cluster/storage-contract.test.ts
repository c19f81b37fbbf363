/**
 * One storage contract, run on both storages: SQLite (the embedded default) and PostgreSQL (a
 * real server started by engines.ts). The same calls must give the same answers, and the group
 * commit must keep seqs gap-free and once each under concurrent batches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GuardFailed } from '../../server/src/storage/errors';
import { PostgresStorage } from '../../server/src/storage/postgres';
import { SqliteStorage } from '../../server/src/storage/sqlite';
import type { ChangeGuard, NewMessage, Outbox, SendRequest, Storage } from '../../server/src/storage/types';
import { PostgresWebhookStore } from '../../server/src/webhooks/postgres-store';
import { SqliteWebhookStore } from '../../server/src/webhooks/sqlite-store';
import type { WebhookStore } from '../../server/src/webhooks/store';
import { groupConvId, privateConvId } from '../../server/src/storage/types';
import { startPostgres, type Engine } from './engines';

jest.setTimeout(60_000);

const APP = 'contract-app';
let counter = 0;
const cid = () => `c${++counter}`;
const msg = (from: string, to: string, chatType: 0 | 1, content: string, clientMsgId = cid()): NewMessage => ({ clientMsgId, from, fromName: from.toUpperCase(), to, chatType, msgType: 0, content, data: chatType ? null : { n: counter } });
const privateSend = (from: string, to: string, content: string, clientMsgId?: string): SendRequest => ({ appId: APP, msg: msg(from, to, 0, content, clientMsgId), recipients: [from, to] });
const groupSend = (from: string, groupId: string, content: string): SendRequest => ({ appId: APP, msg: msg(from, groupId, 1, content), recipients: [] });

interface Subject {
  name: string;
  open(): Promise<Storage>;
  close(): Promise<void>;
  /** The webhook queue on the same database. */
  queue(s: Storage): WebhookStore;
}

let pg: Engine | undefined;
let sqliteDir: string | undefined;
const subjects: Subject[] = [
  {
    name: 'SQLite',
    async open() {
      sqliteDir = mkdtempSync(path.join(tmpdir(), 'comind-im-contract-'));
      return new SqliteStorage(sqliteDir);
    },
    queue: (s) => new SqliteWebhookStore((s as SqliteStorage).db),
    async close() {
      if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      pg = await startPostgres();
      return PostgresStorage.open({ url: pg.url, poolSize: 8 });
    },
    queue: (s) => new PostgresWebhookStore((s as PostgresStorage).pool),
    async close() {
      await pg?.stop();
    },
  },
];

describe.each(subjects)('storage contract on $name', (subject) => {
  let s: Storage;
  beforeAll(async () => {
    s = await subject.open();
    await s.upsertApp(APP, 'contract-secret');
    for (const u of ['alice', 'bob', 'carol', 'dave']) await s.upsertUser(APP, u, {});
  });
  afterAll(async () => {
    await s?.close();
    await subject.close();
  });

  it('apps, the dev app and users (a patch changes only what it names)', async () => {
    expect(await s.getApp(APP)).toMatchObject({ appId: APP, appSecret: 'contract-secret' });
    await s.setDevApp(APP);
    expect((await s.getDevApp())?.appId).toBe(APP);
    expect(await s.upsertUser(APP, 'erin', { userName: 'Erin', companyName: 'Co' })).toMatchObject({ userId: 'erin', userName: 'Erin', companyName: 'Co', imRole: 'user', valid: true });
    expect(await s.upsertUser(APP, 'erin', { valid: false })).toMatchObject({ userName: 'Erin', companyName: 'Co', valid: false });
    expect(await s.missingUsers(APP, ['alice', 'nobody', 'erin'])).toEqual(['nobody']);
    expect(await s.getUser(APP, 'nobody')).toBeUndefined();
  });

  it('last-seen times: none until recorded, per app, never moved back, one batch for many users', async () => {
    await s.upsertApp('seen-other', 'other-secret');
    await s.upsertUser('seen-other', 'alice', {});
    expect(await s.lastSeen(APP, ['alice', 'bob', 'nobody'])).toEqual(new Map());
    await s.recordLastSeen([{ appId: APP, userId: 'alice', at: 2000 }, { appId: APP, userId: 'bob', at: 1000 }, { appId: 'seen-other', userId: 'alice', at: 5000 }, { appId: APP, userId: 'nobody', at: 1 }]);
    expect(await s.lastSeen(APP, ['alice', 'bob', 'nobody'])).toEqual(new Map([['alice', 2000], ['bob', 1000]]));
    // An older time (a slower node's) does not overwrite a newer one.
    await s.recordLastSeen([{ appId: APP, userId: 'alice', at: 1500 }, { appId: APP, userId: 'bob', at: 3000 }]);
    expect(await s.lastSeen(APP, ['alice', 'bob'])).toEqual(new Map([['alice', 2000], ['bob', 3000]]));
    expect(await s.lastSeen('seen-other', ['alice'])).toEqual(new Map([['alice', 5000]]));
    await s.recordLastSeen([]);
    expect(await s.lastSeen(APP, [])).toEqual(new Map());
  });

  it('the outbox: a queue row is stored with its message, in its transaction; none for a duplicate; no message when its row fails', async () => {
    const q = subject.queue(s);
    for (const u of ['ob-alice', 'ob-bob']) await s.upsertUser(APP, u, {});
    const rowFor: Outbox = (item, r) => ({ id: `ev-${r.message.messageId}`, appId: item.appId, event: 'afterSend', body: JSON.stringify({ m: r.message.messageId }), createdAt: 1000, nextAt: 1000 });
    const [one] = await s.sendMessages([privateSend('ob-alice', 'ob-bob', 'outbox one', 'ob-1')], rowFor);
    expect(one?.result?.duplicate).toBe(false);
    const [again] = await s.sendMessages([privateSend('ob-alice', 'ob-bob', 'outbox one', 'ob-1')], rowFor);
    expect(again?.result?.duplicate).toBe(true);
    // The row cannot be written: the message it reports is not stored either (SQLite refuses that
    // send alone; PostgreSQL the batch).
    const failed = await s.sendMessages([privateSend('ob-bob', 'ob-alice', 'never stored', 'ob-2')], () => {
      throw new Error('the queue is unavailable');
    }).then((outcomes) => outcomes[0]?.error, (err: unknown) => err);
    expect(failed).toEqual(new Error('the queue is unavailable'));
    expect(await s.findByClientId(APP, 'ob-bob', 'ob-2')).toBeUndefined();
    const queued = (await q.claim(2000, 100, 10_000)).filter((e) => e.appId === APP);
    expect(queued.map((e) => e.body)).toEqual([JSON.stringify({ m: one!.result!.message.messageId })]);
    await q.remove(queued[0]!.id);
  });

  it('a held queue row: not due until released with its final body; a release after a claim changes nothing', async () => {
    const q = subject.queue(s);
    for (const u of ['ob-carol', 'ob-dave']) await s.upsertUser(APP, u, {});
    const held: Outbox = (item, r) => ({ id: `held-${r.message.messageId}`, appId: item.appId, event: 'afterSend', body: '"as stored"', createdAt: 1000, nextAt: 50_000 });
    const [a, b] = await s.sendMessages([privateSend('ob-carol', 'ob-dave', 'held a', 'hd-1'), privateSend('ob-carol', 'ob-dave', 'held b', 'hd-2')], held);
    const idA = `held-${a!.result!.message.messageId}`;
    const idB = `held-${b!.result!.message.messageId}`;
    expect((await q.claim(2000, 100, 10_000)).filter((e) => e.appId === APP)).toEqual([]);
    await q.release(idA, '"presented"', 50_000, 1500);
    await q.release(idB, '"presented"', 49_999, 1500); // not the hold it was written with: unchanged
    const due = (await q.claim(2000, 100, 10_000)).filter((e) => e.appId === APP);
    expect(due.map((e) => [e.id, e.body])).toEqual([[idA, '"presented"']]);
    await q.release(idA, '"changed under the delivery"', 50_000, 1500);
    // B's hold runs out: it goes as stored; A, claimed, keeps its body.
    const later = (await q.claim(60_000, 100, 70_000)).filter((e) => e.appId === APP).sort((x, y) => x.id.localeCompare(y.id));
    expect(later.map((e) => [e.id, e.body]).sort()).toEqual([[idA, '"presented"'], [idB, '"as stored"']].sort());
    for (const e of later) await q.remove(e.id);
  });

  it('private sends: seqs per conversation, inbox positions per user, idempotent by clientMsgId', async () => {
    const [a, b] = await s.sendMessages([privateSend('alice', 'bob', 'one'), privateSend('bob', 'alice', 'two', 'dup-1')]);
    expect(a!.result).toMatchObject({ duplicate: false, message: { seq: 1, content: 'one', from: 'alice', data: { n: expect.any(Number) } } });
    expect(b!.result!.message.seq).toBe(2);
    expect(a!.result!.deliveries.map((d) => d.userId).sort()).toEqual(['alice', 'bob']);
    const again = await s.sendMessages([privateSend('bob', 'alice', 'two', 'dup-1')]);
    expect(again[0]!.result).toMatchObject({ duplicate: true, deliveries: [], message: { messageId: b!.result!.message.messageId } });
    expect(await s.latestInboxSeq(APP, 'bob')).toBe(2);
    expect((await s.inboxAfter(APP, 'bob', 0, 10)).map((m) => [m.inboxSeq, m.content])).toEqual([[1, 'one'], [2, 'two']]);
    expect((await s.inboxAfter(APP, 'bob', 1, 10)).map((m) => m.content)).toEqual(['two']);
    expect(await s.findByClientId(APP, 'bob', 'dup-1')).toMatchObject({ content: 'two', senderInboxSeq: 2 });
    expect((await s.getMessage(APP, a!.result!.message.messageId))?.content).toBe('one');
    const conv = privateConvId('alice', 'bob');
    expect(await s.lastSeq(APP, conv)).toBe(2);
    expect((await s.history(APP, conv, 'BACK', 0, 1)).map((m) => m.seq)).toEqual([2]);
    expect((await s.history(APP, conv, 'FORWARD', 0, 10)).map((m) => m.seq)).toEqual([1, 2]);
  });

  it('a reply keeps the id of the message it answers, in every read', async () => {
    for (const u of ['erin', 'frank']) await s.upsertUser(APP, u, {});
    const [orig] = await s.sendMessages([privateSend('erin', 'frank', 'question')]);
    const id = orig!.result!.message.messageId;
    const reply = privateSend('frank', 'erin', 'answer');
    reply.msg.replyTo = id;
    const [r] = await s.sendMessages([reply]);
    expect(r!.result!.message.replyToId).toBe(id);
    const conv = privateConvId('erin', 'frank');
    expect((await s.history(APP, conv, 'FORWARD', 0, 10)).map((m) => m.replyToId)).toEqual([undefined, id]);
    expect((await s.inboxAfter(APP, 'erin', 0, 10)).find((m) => m.content === 'answer')?.replyToId).toBe(id);
    expect((await s.getMessage(APP, r!.result!.message.messageId))?.replyToId).toBe(id);
  });

  it('mentions: stored with the message; mentionedMe while an unread message names the user (or all), until read', async () => {
    for (const u of ['m_1', 'mx1', 'mowner']) await s.upsertUser(APP, u, {});
    await s.createGroup(APP, { groupId: 'g-mentions', name: 'M', description: '', ownerId: 'mowner' }, ['mowner', 'm_1', 'mx1']);
    const conv = groupConvId('g-mentions');
    const named = groupSend('mowner', 'g-mentions', 'hey m_1');
    named.msg.mentions = ['m_1'];
    const [r] = await s.sendMessages([named]);
    expect(r!.result!.message.mentions).toEqual(['m_1']);
    expect((await s.history(APP, conv, 'FORWARD', 0, 10)).map((m) => m.mentions)).toEqual([['m_1']]);
    const mentioned = async (u: string) => (await s.conversations(APP, u, { limit: 50 })).items.find((c) => c.targetId === 'g-mentions')!.mentionedMe;
    // "m_1" is mentioned; "mx1" is not, though "_" would match "x" as a LIKE wildcard; the sender is not.
    expect([await mentioned('m_1'), await mentioned('mx1'), await mentioned('mowner')]).toEqual([true, false, false]);
    await s.markRead(APP, 'm_1', conv, undefined);
    expect(await mentioned('m_1')).toBe(false);
    const all = groupSend('mowner', 'g-mentions', 'everyone');
    all.msg.mentions = 'all';
    await s.sendMessages([all]);
    expect([await mentioned('m_1'), await mentioned('mx1'), await mentioned('mowner')]).toEqual([true, true, false]);
  });

  it('groups: members with their joined seq, read diffusion (no inbox rows), paging of the list, dismissal', async () => {
    const g = await s.createGroup(APP, { groupId: 'g-contract', name: 'G', description: 'd', ownerId: 'alice' }, ['bob']);
    expect(g).toMatchObject({ groupId: 'g-contract', ownerId: 'alice', memberCount: 2 });
    expect(await s.isMember(APP, 'g-contract', 'bob')).toBe(true);
    expect((await s.memberIds(APP, 'g-contract')).sort()).toEqual(['alice', 'bob']);
    expect((await s.members(APP, 'g-contract'))[0]).toMatchObject({ userId: 'alice', role: 'owner' });
    const before = await s.latestInboxSeq(APP, 'bob');
    const sent = await s.sendMessages([groupSend('alice', 'g-contract', 'hello'), groupSend('bob', 'g-contract', 'hi')]);
    expect(sent.map((o) => [o.result!.message.seq, o.result!.senderInboxSeq, o.result!.deliveries.length])).toEqual([[1, 0, 0], [2, 0, 0]]);
    expect(await s.latestInboxSeq(APP, 'bob')).toBe(before);
    expect(await s.addMembers(APP, 'g-contract', ['carol', 'bob'])).toEqual(['carol']);
    expect(await s.joinedSeq(APP, 'g-contract', 'carol')).toBe(2);
    expect(await s.joinedSeq(APP, 'g-contract', 'dave')).toBeUndefined();
    expect(await s.groupStates(APP, 'carol', '', 10)).toEqual([{ groupId: 'g-contract', lastSeq: 2, joinedSeq: 2 }]);
    await s.createGroup(APP, { groupId: 'g-second', name: 'G2', description: '', ownerId: 'carol' }, []);
    const p1 = await s.listGroupsOf(APP, 'carol', { limit: 1 });
    expect(p1).toMatchObject({ hasMore: true, items: [{ groupId: 'g-second' }] });
    const p2 = await s.listGroupsOf(APP, 'carol', { limit: 1, after: { at: p1.items[0]!.createdAt, id: p1.items[0]!.groupId } });
    expect(p2).toMatchObject({ hasMore: false, items: [{ groupId: 'g-contract' }] });
    expect(await s.removeMember(APP, 'g-contract', 'alice')).toBe(false); // the owner stays
    expect(await s.removeMember(APP, 'g-contract', 'carol')).toBe(true);
    await s.dismissGroup(APP, 'g-second');
    expect(await s.getGroup(APP, 'g-second')).toBeUndefined();
    expect(await s.groupIdTaken(APP, 'g-second')).toBe(true);
  });

  it('guards: a change or removal whose roles no longer hold writes nothing; a mute outlives removal until it ends', async () => {
    await s.createGroup(APP, { groupId: 'g-guard', name: 'G', description: '', ownerId: 'alice' }, ['bob', 'carol']);
    const notice = () => groupSend('alice', 'g-guard', 'a notice');
    const bobAsAdmin: ChangeGuard = { actor: 'bob', roles: ['admin'], target: { userId: 'carol', roles: ['member'] } };
    const until = Date.now() + 60_000;
    // Bob is no admin (yet): nothing is written, not even the notice.
    await expect(s.changeGroup(APP, 'g-guard', { kind: 'mute', userId: 'carol', mutedUntil: until }, notice(), bobAsAdmin)).rejects.toBeInstanceOf(GuardFailed);
    await expect(s.removeMember(APP, 'g-guard', 'carol', bobAsAdmin)).rejects.toBeInstanceOf(GuardFailed);
    expect(await s.lastSeq(APP, groupConvId('g-guard'))).toBe(0);
    expect(await s.member(APP, 'g-guard', 'carol')).toMatchObject({ role: 'member', mutedUntil: 0 });
    // Now he is: it holds.
    expect(await s.changeGroup(APP, 'g-guard', { kind: 'role', userId: 'bob', role: 'admin' }, notice(), { actor: 'alice', roles: ['owner'] })).toMatchObject({ message: { seq: 1 } });
    expect(await s.changeGroup(APP, 'g-guard', { kind: 'mute', userId: 'carol', mutedUntil: until }, notice(), bobAsAdmin)).toMatchObject({ message: { seq: 2 } });
    // Removed while muted, added back: muted as before; taken back once only.
    expect(await s.removeMember(APP, 'g-guard', 'carol', bobAsAdmin)).toBe(true);
    expect(await s.removeMember(APP, 'g-guard', 'carol', bobAsAdmin)).toBe(false);
    expect(await s.addMembers(APP, 'g-guard', ['carol'])).toEqual(['carol']);
    expect((await s.member(APP, 'g-guard', 'carol'))!.mutedUntil).toBe(until);
    expect(await s.removeMember(APP, 'g-guard', 'carol')).toBe(true);
    await s.changeGroup(APP, 'g-guard', { kind: 'role', userId: 'bob', role: 'member' }, notice(), { actor: 'alice', roles: ['owner'] });
    expect(await s.removeMember(APP, 'g-guard', 'bob')).toBe(true);
    expect(await s.addMembers(APP, 'g-guard', ['carol', 'bob'])).toEqual(['carol', 'bob']);
    expect(new Map((await s.members(APP, 'g-guard')).map((m) => [m.userId, m.mutedUntil]))).toEqual(new Map([['alice', 0], ['bob', 0], ['carol', until]]));
    // The target promoted out of reach: refused.
    await s.changeGroup(APP, 'g-guard', { kind: 'role', userId: 'bob', role: 'admin' }, notice(), { actor: 'alice', roles: ['owner'] });
    await s.changeGroup(APP, 'g-guard', { kind: 'role', userId: 'carol', role: 'admin' }, notice(), { actor: 'alice', roles: ['owner'] });
    await expect(s.removeMember(APP, 'g-guard', 'carol', bobAsAdmin)).rejects.toBeInstanceOf(GuardFailed);
    expect(await s.isMember(APP, 'g-guard', 'carol')).toBe(true);
    await s.dismissGroup(APP, 'g-guard');
  });

  it('conversations: most recent first, paged, with read positions and unread counts', async () => {
    await s.sendMessages([privateSend('carol', 'dave', 'c1')]);
    await new Promise((r) => setTimeout(r, 5));
    await s.sendMessages([privateSend('dave', 'carol', 'd1'), privateSend('dave', 'carol', 'd2')]);
    const page = await s.conversations(APP, 'carol', { limit: 10 });
    const mine = page.items.filter((c) => c.targetId === 'dave');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ conversationId: '0:dave', chatType: 0, lastSeq: 3, readSeq: 1, unreadCount: 2, peerReadSeq: 3, lastMessage: { content: 'd2' } });
    // Alice has a private conversation and a group: one per page.
    const all = await s.conversations(APP, 'alice', { limit: 10 });
    expect(all.items.map((c) => c.conversationId).sort()).toEqual(['0:bob', '1:g-contract']);
    const one = await s.conversations(APP, 'alice', { limit: 1 });
    expect(one.hasMore).toBe(true);
    const rest = await s.conversations(APP, 'alice', { limit: 10, after: { at: one.items[0]!.updatedAt, id: one.items[0]!.conversationId, pinned: false } });
    expect(rest.hasMore).toBe(false);
    expect([...one.items, ...rest.items].map((c) => c.conversationId)).toEqual(all.items.map((c) => c.conversationId));
    expect(all.items.find((c) => c.chatType === 1)).toMatchObject({ targetId: 'g-contract', name: 'G', lastSeq: 2, peerReadSeq: null });
    const conv = privateConvId('carol', 'dave');
    expect(await s.markRead(APP, 'carol', conv, 2)).toEqual({ readSeq: 2, unreadCount: 1 });
    expect(await s.markRead(APP, 'carol', conv, 1)).toEqual({ readSeq: 2, unreadCount: 1 }); // never backwards
    await s.markReadMany(APP, 'carol', [{ convId: conv, seq: 3 }, { convId: groupConvId('g-contract'), seq: 2 }]);
    expect(await s.markRead(APP, 'carol', conv, undefined)).toEqual({ readSeq: 3, unreadCount: 0 });
  });

  it('conversation settings: pinned first, muted out of the total, hidden until the next message, read_state untouched', async () => {
    for (const u of ['pin-me', 'pin-a', 'pin-b']) await s.upsertUser(APP, u, {});
    await s.sendMessages([privateSend('pin-a', 'pin-me', 'a1')]);
    await new Promise((r) => setTimeout(r, 5));
    await s.sendMessages([privateSend('pin-b', 'pin-me', 'b1'), privateSend('pin-b', 'pin-me', 'b2')]);
    const ids = async () => (await s.conversations(APP, 'pin-me', { limit: 10 })).items.map((c) => c.targetId);
    expect(await ids()).toEqual(['pin-b', 'pin-a']);
    expect(await s.totalUnread(APP, 'pin-me')).toBe(3);
    const convA = privateConvId('pin-me', 'pin-a');
    await s.setConversationSetting(APP, 'pin-me', convA, 'pinned', true);
    expect(await ids()).toEqual(['pin-a', 'pin-b']);
    // A page boundary inside the pinned part: the cursor says which part it is in.
    const first = await s.conversations(APP, 'pin-me', { limit: 1 });
    expect(first.items[0]).toMatchObject({ targetId: 'pin-a', pinned: true, muted: false });
    const after = { at: first.items[0]!.updatedAt, id: first.items[0]!.conversationId, pinned: true };
    expect((await s.conversations(APP, 'pin-me', { limit: 5, after })).items.map((c) => c.targetId)).toEqual(['pin-b']);
    // The same position in the unpinned part: pin-b is more recent than it, so nothing follows.
    expect((await s.conversations(APP, 'pin-me', { limit: 5, after: { ...after, pinned: false } })).items).toEqual([]);
    const convB = privateConvId('pin-me', 'pin-b');
    await s.setConversationSetting(APP, 'pin-me', convB, 'muted', true);
    expect(await s.conversationSettings(APP, 'pin-me', convB)).toEqual({ pinned: false, muted: true });
    expect(await s.totalUnread(APP, 'pin-me')).toBe(1);
    await s.hideConversation(APP, 'pin-me', convA);
    expect(await ids()).toEqual(['pin-b']);
    expect(await s.conversation(APP, 'pin-me', 0, 'pin-a')).toMatchObject({ listed: false, unreadCount: 0, pinned: false, readSeq: 0 });
    expect(await s.totalUnread(APP, 'pin-me')).toBe(0);
    expect((await s.conversation(APP, 'pin-a', 0, 'pin-me'))!.peerReadSeq).toBe(0);
    await s.sendMessages([privateSend('pin-a', 'pin-me', 'a2')]);
    expect(await s.conversation(APP, 'pin-me', 0, 'pin-a')).toMatchObject({ listed: true, unreadCount: 1, lastSeq: 2 });
    expect(await ids()).toEqual(['pin-a', 'pin-b']);
    expect(await s.markRead(APP, 'pin-me', convA, undefined)).toEqual({ readSeq: 2, unreadCount: 0 });
    expect(await s.conversation(APP, 'pin-me', 0, 'nobody')).toBeUndefined();
    expect(await s.conversationSettings(APP, 'pin-me', privateConvId('pin-me', 'nobody'))).toEqual({ pinned: false, muted: false });
  });

  it('the total unread is not crowded out by conversations whose newer seqs are only event rows or notices', async () => {
    const me = 'total-me';
    await s.upsertUser(APP, me, {});
    // The one with something unread is the least recently active of all.
    await s.sendMessages([privateSend('total-old', me, 'unread')]);
    await new Promise((r) => setTimeout(r, 5));
    const peers = Array.from({ length: 1000 }, (_, i) => `total-p${i}`);
    const first = await s.sendMessages(peers.map((p) => privateSend(p, me, 'read')));
    await s.markReadMany(APP, me, peers.map((p) => ({ convId: privateConvId(p, me), seq: 1 })));
    expect(await s.totalUnread(APP, me)).toBe(1);
    // An edit of each: a seq after the read position that is nothing to read.
    await s.sendMessages(peers.map((p, i) => ({ appId: APP, msg: { ...msg(p, me, 0, 'edited'), event: 'edit' as const, eventOf: first[i]!.result!.message.messageId }, recipients: [p, me] })));
    expect((await s.conversation(APP, me, 0, peers[0]!))).toMatchObject({ lastSeq: 2, readSeq: 1, unreadCount: 0 });
    expect(await s.totalUnread(APP, me)).toBe(1);
    // A group whose newest message is a notice: counted by what it has unread before the notice.
    await s.createGroup(APP, { groupId: 'g-total', name: 'T', description: '', ownerId: 'alice' }, [me]);
    await s.sendMessages([groupSend('alice', 'g-total', 'to read')]);
    await s.sendMessages([{ appId: APP, msg: { ...msg('alice', 'g-total', 1, 'Alice changed the group'), msgType: 1001 }, recipients: [] }]);
    expect(await s.totalUnread(APP, me)).toBe(2);
    await s.markRead(APP, me, groupConvId('g-total'), 1);
    expect(await s.totalUnread(APP, me)).toBe(1);
  });

  it('files: records, attachment, and unattached uploads swept once', async () => {
    const base = { ownerId: 'alice', kind: 'image' as const, mime: 'image/png', size: 10, name: '图.png', width: 4, height: 3, thumbMime: 'image/jpeg' };
    await s.createFile(APP, { ...base, fileId: 'f-kept', createdAt: 1000 });
    await s.createFile(APP, { ...base, fileId: 'f-orphan', createdAt: 2000, width: undefined, height: undefined, thumbMime: undefined, kind: 'file', mime: 'application/pdf' });
    expect(await s.getFile(APP, 'f-kept')).toEqual({ ...base, fileId: 'f-kept', createdAt: 1000 });
    expect(await s.getFile(APP, 'f-orphan')).toEqual({ fileId: 'f-orphan', ownerId: 'alice', kind: 'file', mime: 'application/pdf', size: 10, name: '图.png', createdAt: 2000 });
    expect(await s.getFile(APP, 'f-none')).toBeUndefined();
    await s.markFileAttached(APP, 'f-kept');
    const old = await s.unattachedFiles(10_000, 10);
    expect(old.map((o) => o.file.fileId)).toEqual(['f-orphan']);
    expect(await s.unattachedFiles(1500, 10)).toEqual([]);
    // Two sweepers: only one deletes it.
    expect(await Promise.all([s.deleteUnattachedFile(APP, 'f-orphan'), s.deleteUnattachedFile(APP, 'f-orphan')])).toEqual(expect.arrayContaining([true, false]));
    expect(await s.deleteUnattachedFile(APP, 'f-kept')).toBe(false);
    expect(await s.getFile(APP, 'f-kept')).toBeDefined();
  });

  it('operator sign-outs: per token and app, pruned once past their expiry; the generation moves by one per revoke of all', async () => {
    const later = Date.now() + 3_600_000;
    expect(await s.operatorTokenState(APP, 'jti-a')).toEqual({ revoked: false, generation: 0 });
    await s.revokeOperatorToken(APP, 'jti-a', later);
    await s.revokeOperatorToken(APP, 'jti-a', later); // twice: no error, one sign-out
    expect(await s.operatorTokenState(APP, 'jti-a')).toEqual({ revoked: true, generation: 0 });
    expect(await s.operatorTokenState(APP, 'jti-b')).toEqual({ revoked: false, generation: 0 });
    expect(await s.operatorTokenState(APP, null)).toEqual({ revoked: false, generation: 0 });
    expect(await s.operatorTokenState('op-other', 'jti-a')).toEqual({ revoked: false, generation: 0 });

    // A row past its token's expiry goes with the next sign-out (the token is refused as expired by then).
    await s.revokeOperatorToken(APP, 'jti-expired', Date.now() - 1);
    expect((await s.operatorTokenState(APP, 'jti-expired')).revoked).toBe(true);
    await s.revokeOperatorToken(APP, 'jti-c', later);
    expect((await s.operatorTokenState(APP, 'jti-expired')).revoked).toBe(false);
    expect((await s.operatorTokenState(APP, 'jti-a')).revoked).toBe(true);
    expect((await s.operatorTokenState(APP, 'jti-c')).revoked).toBe(true);

    expect(await s.revokeOperatorTokens(APP)).toBe(1);
    expect(await Promise.all([s.revokeOperatorTokens(APP), s.revokeOperatorTokens(APP)])).toEqual(expect.arrayContaining([2, 3]));
    expect(await s.operatorTokenState(APP, 'jti-b')).toEqual({ revoked: false, generation: 3 });
    expect(await s.operatorTokenState('op-other', null)).toEqual({ revoked: false, generation: 0 });
  });

  it('the group commit: concurrent batches into one conversation give seqs 1..N once each, in each batch in order', async () => {
    await s.createGroup(APP, { groupId: 'g-hot', name: 'Hot', description: '', ownerId: 'alice' }, ['bob', 'carol']);
    const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 5 }, (_, i) => groupSend(['alice', 'bob', 'carol'][(b + i) % 3]!, 'g-hot', `b${b}-${i}`)));
    const results = await Promise.all(batches.map((batch) => s.sendMessages(batch)));
    const seqs = results.flat().map((o) => o.result!.message.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const r of results) {
      const inBatch = r.map((o) => o.result!.message.seq);
      expect(inBatch).toEqual([...inBatch].sort((x, y) => x - y));
    }
    expect(await s.lastSeq(APP, groupConvId('g-hot'))).toBe(40);
    // A repeated clientMsgId inside one batch: the second is the first, stored once.
    const twice = await s.sendMessages([privateSend('alice', 'dave', 'x', 'same-id'), privateSend('alice', 'dave', 'x', 'same-id')]);
    expect(twice[1]!.result).toMatchObject({ duplicate: true, message: { messageId: twice[0]!.result!.message.messageId } });
  });
});
