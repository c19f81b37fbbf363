/**
 * The adapter contract suite: the same behaviour checks for every platform adapter, always against
 * the real reference server over real sockets. An adapter file calls `runContractSuite` with a
 * factory; everything else here is adapter-agnostic.
 */
import { ImClient } from '../../src/client';
import type { ImAdapter } from '../../src/adapter';
import { MsgType, type ImConversation, type ImGroupChange, type ImMessage, type ImPresence, type ImReceipt } from '../../src/core/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { nextEvent, startTestServer, uniqueUser, waitFor, type TestServer } from '../helpers/server';
import sharp from 'sharp';
import { mp3, png } from '../media/fixtures';
import { startS3, s3Options, type S3Server } from '../media/s3';

async function sharpSize(bytes: Buffer): Promise<{ width?: number; height?: number }> {
  const m = await sharp(bytes).metadata();
  return { width: m.width, height: m.height };
}

export interface ContractTarget {
  /** A fresh adapter per client: separate storage, like separate devices. */
  createAdapter(): ImAdapter;
  /** Optional: simulate the device going offline and online (cuts real sockets). */
  setOnline?(adapter: ImAdapter, online: boolean): void | Promise<void>;
  /** Optional: simulate app hide/show; hiding must cut the sockets as the platform does. */
  setAppState?(adapter: ImAdapter, state: 'foreground' | 'background'): void | Promise<void>;
  teardown?(): void | Promise<void>;
  /** Media: what the app would pass as `file` for these bytes (a chooseMedia item, a path, a Blob …). */
  pickFile?(adapter: ImAdapter, file: { bytes: Buffer; name: string; as: 'media' | 'file' | 'recording' }): Promise<unknown>;
  /** Media: fetch a download URL the way the platform does (wx.downloadFile, fetch …). */
  download?(adapter: ImAdapter, url: string): Promise<Buffer>;
}

export function runContractSuite(name: string, target: ContractTarget): void {
  describe(`adapter contract: ${name}`, () => {
    let server: TestServer;
    const clients: ImClient[] = [];

    beforeAll(async () => {
      server = await startTestServer();
    });

    afterEach(() => {
      for (const c of clients.splice(0)) c.destroy();
    });

    afterAll(async () => {
      await target.teardown?.();
      await server.stop();
    });

    function newClient(extra: Record<string, unknown> = {}, on: TestServer = server): { client: ImClient; adapter: ImAdapter } {
      const adapter = target.createAdapter();
      const client = new ImClient({ serverUrl: on.socketUrl, apiServer: on.apiUrl, adapter, logLevel: 'silent', reconnectionDelay: 200, ...extra });
      clients.push(client);
      return { client, adapter };
    }

    async function login(userName = 'User', extra: Record<string, unknown> = {}, on: TestServer = server) {
      const { client, adapter } = newClient(extra, on);
      const userId = uniqueUser();
      await client.getToken({ appId: on.appId, appSecret: on.appSecret, userId, userName });
      const ready = nextEvent(client, 'ready');
      await client.connect();
      await ready;
      return { client, adapter, userId };
    }

    it('HTTP through the adapter: getToken, registerUser and getUserInfo', async () => {
      const { client } = newClient();
      const userId = uniqueUser();
      const user = await client.registerUser({ appId: server.appId, appSecret: server.appSecret, userId, userName: 'Zhang San', companyName: 'ACME', imRole: 'admin' });
      expect(user).toMatchObject({ userId, userName: 'Zhang San', companyName: 'ACME', imRole: 'admin', valid: true });
      const token = await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId });
      expect(token.split('.')).toHaveLength(3);
      await expect(client.getUserInfo({ userId })).resolves.toMatchObject({ userId, userName: 'Zhang San' });
      await expect(client.getUserInfo({ userId: 'nobody-here' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    it('a wrong app secret is refused with E_AUTH', async () => {
      const { client } = newClient();
      await expect(client.getToken({ appId: server.appId, appSecret: 'wrong', userId: uniqueUser() })).rejects.toMatchObject({ code: 'E_AUTH' });
    });

    it('connect reports connecting -> connected and a second connect reuses the socket', async () => {
      const { client } = newClient();
      const statuses: string[] = [];
      client.on('status', (s) => statuses.push(s));
      await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId: uniqueUser() });
      await expect(client.connect()).resolves.toBe(true);
      await expect(client.connect()).resolves.toBe(true);
      expect(statuses).toEqual(['connecting', 'connected']);
      expect(client.sendHeartbeat()).toBe(true);
      await waitFor(() => client.getHeartbeatStatus() === 'active', 3000, 'heartbeat active');
    });

    it('private message: the sender gets the stored message, the recipient gets every seed field', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const got = nextEvent<ImMessage>(b.client, 'imchat');
      const sent = await a.client.sendPrivateMessage({ content: 'Hello!', recipientId: b.userId });
      expect(sent.messageId).toEqual(expect.any(String));
      const m = await got;
      expect(m).toMatchObject({ messageId: sent.messageId, from: a.userId, fromName: 'Alice', to: b.userId, content: 'Hello!', chatType: 0, msgType: 0, data: null });
      expect(m.timestamp).toEqual(expect.any(Number));
      expect(m.seq).toBe(sent.seq);
    });

    it('delivery receipt (1) arrives automatically and a read receipt (2) on sendReadReceipt', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const receipts: ImReceipt[] = [];
      a.client.on('receipt', (r) => receipts.push(r));
      const got = nextEvent<ImMessage>(b.client, 'imchat');
      const sent = await a.client.sendPrivateMessage({ content: 'read me', recipientId: b.userId });
      const m = await got;
      await waitFor(() => receipts.some((r) => r.status === 1), 3000, 'delivered receipt');
      expect(b.client.sendReadReceipt(m.messageId, a.userId)).toBe(true);
      await waitFor(() => receipts.some((r) => r.status === 2), 3000, 'read receipt');
      expect(receipts.find((r) => r.status === 2)).toMatchObject({ messageId: sent.messageId, from: b.userId, status: 2 });
    });

    it('groups: create, list, info, members, group chat with sender names, history paging', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const c = await login('Carol');
      const group = await a.client.createGroup({ name: 'My Group', description: 'This is my group', userIdList: [b.userId, c.userId] });
      expect(group).toMatchObject({ name: 'My Group', description: 'This is my group', ownerId: a.userId, memberCount: 3 });
      expect(group.id).toBe(group.groupId);
      expect((await b.client.getGroupList()).map((g) => g.id)).toContain(group.id);
      // Paged: one group per page, the second page's cursor from the first.
      const second = await a.client.createGroup({ name: 'Second', userIdList: [b.userId] });
      const p1 = await b.client.getGroupListPage({ limit: 1 });
      expect(p1.items.map((g) => g.id)).toEqual([second.id]);
      const p2 = await b.client.getGroupListPage({ limit: 1, cursor: p1.nextCursor! });
      expect(p2.items.map((g) => g.id)).toEqual([group.id]);
      expect((await b.client.getGroupList()).map((g) => g.id)).toEqual([second.id, group.id]);
      await expect(c.client.getGroupInfo({ groupId: group.id })).resolves.toMatchObject({ name: 'My Group' });
      const members = await b.client.getGroupMembers({ groupId: group.id });
      expect(members.map((m) => m.userId).sort()).toEqual([a.userId, b.userId, c.userId].sort());

      const bGot: ImMessage[] = [];
      const cGot: ImMessage[] = [];
      b.client.on('imchat', (m) => bGot.push(m));
      c.client.on('imchat', (m) => cGot.push(m));
      for (let i = 1; i <= 5; i++) await a.client.sendGroupMessage({ content: `g${i}`, groupId: group.id });
      await waitFor(() => bGot.length === 5 && cGot.length === 5, 5000, 'group fan-out');
      expect(bGot.map((m) => m.content)).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
      expect(cGot.every((m) => m.chatType === 1 && m.to === group.id && m.fromName === 'Alice')).toBe(true);

      const newest = await c.client.getGroupHistoryMessages({ groupId: group.id, limitSize: 2, msgSeqId: 0, syncType: 'BACK', detailType: 0 });
      expect(newest.map((m) => m.content)).toEqual(['g4', 'g5']);
      const older = await c.client.getGroupHistoryMessages({ groupId: group.id, limitSize: 2, msgSeqId: newest[0]!.seq, syncType: 'BACK' });
      expect(older.map((m) => m.content)).toEqual(['g2', 'g3']);
      const forward = await c.client.getGroupHistoryMessages({ groupId: group.id, limitSize: 10, msgSeqId: older[1]!.seq, syncType: 'FORWARD' });
      expect(forward.map((m) => m.content)).toEqual(['g4', 'g5']);
    });

    it('a non-member can neither send to nor read a group', async () => {
      const a = await login('Alice');
      const outsider = await login('Mallory');
      const group = await a.client.createGroup({ name: 'Private', userIdList: [] });
      await expect(outsider.client.sendGroupMessage({ content: 'hi', groupId: group.id })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
      await expect(outsider.client.getGroupHistoryMessages({ groupId: group.id })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
    });

    it('private history, conversation list with unread counts, and mark-as-read', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      for (let i = 1; i <= 3; i++) await a.client.sendPrivateMessage({ content: `p${i}`, recipientId: b.userId });
      const history = await b.client.getPrivateHistoryMessages({ peerId: a.userId, limitSize: 10 });
      expect(history.map((m) => m.content)).toEqual(['p1', 'p2', 'p3']);
      const before = await b.client.getConversationList();
      const conv = before.find((c) => c.targetId === a.userId);
      expect(conv).toMatchObject({ chatType: 0, unreadCount: 3, name: 'Alice' });
      expect(conv!.lastMessage!.content).toBe('p3');
      await b.client.markConversationRead({ chatType: 0, targetId: a.userId });
      const after = await b.client.getConversationList();
      expect(after.find((c) => c.targetId === a.userId)!.unreadCount).toBe(0);
    });

    // ---- conversation management: pin, mute, delete, drafts, and the list kept current from events

    /** Another device of a user: its own client and storage, the same account. */
    async function secondDevice(userId: string) {
      const { client, adapter } = newClient();
      await client.getToken({ appId: server.appId, appSecret: server.appSecret, userId });
      const ready = nextEvent(client, 'ready');
      await client.connect();
      await ready;
      return { client, adapter, userId };
    }

    /** Everything a client tells of its conversations, in order. */
    function watch(client: ImClient) {
      const changes: ImConversation[] = [];
      const totals: number[] = [];
      client.on('conversationChanged', (c) => changes.push(c));
      client.on('totalUnreadChanged', (n) => totals.push(n));
      return { changes, totals };
    }

    it('conversations: pin, mute and delete are stored on the server and reach the other device; the next message brings a deleted one back', async () => {
      const a = await login('Alice');
      const b1 = await login('Bob');
      const b2 = await secondDevice(b1.userId);
      await a.client.sendPrivateMessage({ recipientId: b1.userId, content: 'one' });
      await a.client.sendPrivateMessage({ recipientId: b1.userId, content: 'two' });
      await b1.client.getConversationList();
      expect((await b2.client.getConversationList())[0]).toMatchObject({ targetId: a.userId, unreadCount: 2, pinned: false, muted: false });
      const seen = watch(b2.client);
      const conv = async () => (await b2.client.getCachedConversationList()).find((c) => c.targetId === a.userId);

      await expect(b1.client.pinConversation({ chatType: 0, targetId: a.userId, pinned: true })).resolves.toMatchObject({ pinned: true, unreadCount: 2 });
      await waitFor(() => seen.changes.some((c) => c.pinned), 3000, 'the pin on the other device');
      expect(await conv()).toMatchObject({ pinned: true });
      await b1.client.muteConversation({ chatType: 0, targetId: a.userId, muted: true });
      await waitFor(() => seen.totals.includes(0), 3000, 'totalUnreadChanged without the muted one');
      expect(await conv()).toMatchObject({ muted: true, unreadCount: 2 });
      await expect(b2.client.getTotalUnreadCount()).resolves.toBe(0);

      const here = watch(b1.client);
      await b1.client.deleteConversation({ chatType: 0, targetId: a.userId });
      await waitFor(() => seen.changes.some((c) => c.deleted), 3000, 'the delete on the other device');
      // The deleting device hears of it once: from its answer or the push, whichever comes first.
      await new Promise((r) => setTimeout(r, 100));
      expect(here.changes.filter((c) => c.deleted)).toHaveLength(1);
      expect(seen.changes.find((c) => c.deleted)).toMatchObject({ conversationId: `0:${a.userId}`, deleted: true });
      expect(await conv()).toBeUndefined();
      expect((await b1.client.getConversationList()).map((c) => c.targetId)).not.toContain(a.userId);
      await a.client.sendPrivateMessage({ recipientId: b1.userId, content: 'three' });
      await waitFor(() => seen.changes.some((c) => c.lastMessage?.content === 'three'), 3000, 'the conversation back on the other device');
      expect(await conv()).toMatchObject({ unreadCount: 1, pinned: false, muted: true });
      expect((await b1.client.getConversationList()).find((c) => c.targetId === a.userId)).toMatchObject({ unreadCount: 1 });
    });

    it('conversations: new messages, reads on another device, revokes and reconnects keep the cached list current; drafts stay on the device', async () => {
      const a = await login('Alice');
      const b1 = await login('Bob');
      const b2 = await secondDevice(b1.userId);
      await a.client.sendPrivateMessage({ recipientId: b1.userId, content: 'first' });
      await b1.client.getConversationList();
      await b2.client.getConversationList();
      const seen = watch(b2.client);
      const conv = async () => (await b2.client.getCachedConversationList()).find((c) => c.targetId === a.userId)!;

      const sent = await a.client.sendPrivateMessage({ recipientId: b1.userId, content: 'second' });
      await waitFor(() => seen.changes.some((c) => c.lastMessage?.content === 'second'), 3000, 'conversationChanged on a new message');
      expect(await conv()).toMatchObject({ unreadCount: 2, lastSeq: sent.seq });
      expect(seen.totals.at(-1)).toBe(2);
      await b1.client.markConversationRead({ chatType: 0, targetId: a.userId });
      await waitFor(() => seen.totals.at(-1) === 0, 3000, 'the read on the other device');
      expect(await conv()).toMatchObject({ unreadCount: 0, readSeq: sent.seq });

      await a.client.revokeMessage({ messageId: sent.messageId });
      await waitFor(() => seen.changes.some((c) => c.lastMessage?.revoked === true), 3000, 'the revoke of the last message');
      expect((await conv()).lastMessage).toMatchObject({ messageId: sent.messageId, revoked: true, content: '' });

      // An own send: the last message, nothing unread.
      await b2.client.sendPrivateMessage({ recipientId: a.userId, content: 'mine' });
      expect(await conv()).toMatchObject({ unreadCount: 0, lastMessage: { content: 'mine' } });

      await b2.client.setConversationDraft({ chatType: 0, targetId: a.userId, draft: 'half a thought' });
      expect(seen.changes.at(-1)).toMatchObject({ conversationId: `0:${a.userId}`, draft: 'half a thought' });
      expect((await conv()).draft).toBe('half a thought');
      expect((await b2.client.getConversationList()).find((c) => c.targetId === a.userId)!.draft).toBe('half a thought');
      expect((await b1.client.getCachedConversationList()).find((c) => c.targetId === a.userId)!.draft).toBeUndefined();

      // Offline meanwhile: a pin on the other device and a message arrive with the refresh after reconnect.
      b2.client.disconnect();
      await b1.client.pinConversation({ chatType: 0, targetId: a.userId, pinned: true });
      await a.client.sendPrivateMessage({ recipientId: b1.userId, content: 'while away' });
      const ready = nextEvent(b2.client, 'ready');
      await b2.client.connect();
      await ready;
      await waitFor(() => seen.changes.some((c) => c.pinned && c.lastMessage?.content === 'while away'), 3000, 'the refresh after reconnect');
      expect(await conv()).toMatchObject({ pinned: true, unreadCount: 1, draft: 'half a thought' });
      await b2.client.setConversationDraft({ chatType: 0, targetId: a.userId, draft: '' });
      expect((await conv()).draft).toBeUndefined();
    });

    it('messages sent while the recipient was disconnected arrive once, in order, after connect()', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const got: string[] = [];
      b.client.on('imchat', (m) => got.push(m.content));
      b.client.disconnect();
      for (let i = 1; i <= 5; i++) await a.client.sendPrivateMessage({ content: `m${i}`, recipientId: b.userId });
      const ready = nextEvent(b.client, 'ready');
      await b.client.connect();
      await ready;
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    });

    const withNetwork = target.setOnline ? it : it.skip;
    const withAppState = target.setAppState ? it : it.skip;

    withNetwork('a send while offline is queued and delivered once, right after the network is back', async () => {
      const a = await login('Alice', { reconnectionDelay: 60000 });
      const b = await login('Bob');
      const got: string[] = [];
      b.client.on('imchat', (m) => got.push(m.content));
      await target.setOnline!(a.adapter, false);
      await waitFor(() => a.client.getStatus() !== 'connected', 5000, 'offline');
      const pending = a.client.sendPrivateMessage({ content: 'queued while offline', recipientId: b.userId });
      const backAt = Date.now();
      await target.setOnline!(a.adapter, true);
      // With a 60 s backoff delay, only the network event can explain a quick delivery.
      await expect(pending).resolves.toMatchObject({ content: 'queued while offline' });
      expect(Date.now() - backAt).toBeLessThan(10000);
      await waitFor(() => got.length === 1, 5000, 'delivery');
      expect(got).toEqual(['queued while offline']);
    });

    withNetwork('the recipient offline: messages sent meanwhile arrive once, in order, when it is back', async () => {
      const a = await login('Alice');
      const b = await login('Bob', { reconnectionDelay: 60000 });
      const got: string[] = [];
      b.client.on('imchat', (m) => got.push(m.content));
      await target.setOnline!(b.adapter, false);
      await waitFor(() => b.client.getStatus() !== 'connected', 5000, 'offline');
      for (let i = 1; i <= 4; i++) await a.client.sendPrivateMessage({ content: `while away ${i}`, recipientId: b.userId });
      const ready = nextEvent(b.client, 'ready', 10000);
      await target.setOnline!(b.adapter, true);
      await ready;
      await a.client.sendPrivateMessage({ content: 'after', recipientId: b.userId });
      await waitFor(() => got.length === 5, 5000, 'all messages');
      expect(got).toEqual(['while away 1', 'while away 2', 'while away 3', 'while away 4', 'after']);
    });

    withAppState('hidden then shown: reconnects at once if the socket was cut, and catches up', async () => {
      const a = await login('Alice');
      const b = await login('Bob', { reconnectionDelay: 60000 });
      const got: string[] = [];
      b.client.on('imchat', (m) => got.push(m.content));
      // The target cuts the sockets of a hidden app, as the platform does a few seconds after hiding.
      await target.setAppState!(b.adapter, 'background');
      await waitFor(() => b.client.getStatus() !== 'connected', 5000, 'cut');
      await a.client.sendPrivateMessage({ content: 'while hidden', recipientId: b.userId });
      const ready = nextEvent(b.client, 'ready', 10000);
      await target.setAppState!(b.adapter, 'foreground');
      await ready;
      await waitFor(() => got.length === 1, 5000, 'catch-up');
      expect(got).toEqual(['while hidden']);
    });

    let s3: S3Server | undefined;
    let s3Server: TestServer | undefined;
    afterAll(async () => {
      await s3Server?.stop();
      await s3?.stop();
    });

    async function exchangeMedia(on: TestServer): Promise<void> {
      const a = await login('Alice', {}, on);
      const b = await login('Bob', {}, on);
      const gotByB: ImMessage[] = [];
      const gotByA: ImMessage[] = [];
      b.client.on('imchat', (m) => gotByB.push(m));
      a.client.on('imchat', (m) => gotByA.push(m));
      const photo = await png(900, 600);
      const progress: number[] = [];
      const image = await a.client.sendImageMessage({
        recipientId: b.userId,
        file: await target.pickFile!(a.adapter, { bytes: photo, name: 'photo.png', as: 'media' }),
        onProgress: (p) => progress.push(p.percent),
      });
      expect(image).toMatchObject({ msgType: 1, from: a.userId, to: b.userId, data: { mime: 'image/png', width: 900, height: 600 } });
      expect(progress[progress.length - 1]).toBe(100);
      expect(progress.every((v, i) => i === 0 || v >= progress[i - 1]!)).toBe(true);
      const doc = Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), Buffer.alloc(20_000, 0x41)]);
      const file = await b.client.sendFileMessage({ recipientId: a.userId, file: await target.pickFile!(b.adapter, { bytes: doc, name: '报告.pdf', as: 'file' }) });
      expect(file.data).toMatchObject({ mime: 'application/pdf', size: doc.length, name: '报告.pdf' });
      const voice = mp3(20);
      const audio = await b.client.sendAudioMessage({ recipientId: a.userId, file: await target.pickFile!(b.adapter, { bytes: voice, name: 'voice.mp3', as: 'recording' }), duration: 3 });
      expect(audio.data).toMatchObject({ mime: 'audio/mpeg', duration: 3 });
      await waitFor(() => gotByB.length === 1 && gotByA.length === 2, 5000, 'the media messages to arrive');
      // Each downloads what the other sent, with the platform's own download.
      const imageData = gotByB[0]!.data as { url: string; thumbnailUrl: string };
      expect(imageData.url).toMatch(/^https?:\/\//);
      const served = await target.download!(b.adapter, imageData.url);
      expect(await sharpSize(served)).toEqual({ width: 900, height: 600 });
      expect(await sharpSize(await target.download!(b.adapter, imageData.thumbnailUrl))).toEqual({ width: 400, height: 267 });
      const [gotFile, gotVoice] = gotByA.sort((x, y) => x.msgType - y.msgType) as [ImMessage, ImMessage];
      expect((await target.download!(a.adapter, (gotFile.data as { url: string }).url)).equals(doc)).toBe(true);
      expect((await target.download!(a.adapter, (gotVoice.data as { url: string }).url)).equals(voice)).toBe(true);
      // History has fresh, absolute URLs too.
      const history = await b.client.getPrivateHistoryMessages({ peerId: a.userId, limitSize: 10 });
      expect((await target.download!(b.adapter, (history.find((m) => m.msgType === 1)!.data as { url: string }).url)).length).toBe((image.data as { size: number }).size);
    }

    (target.pickFile && target.download ? it : it.skip)('media: two users exchange an image, a file and a voice note with progress, and each downloads what the other sent (disk driver)', () => exchangeMedia(server));

    (target.pickFile && target.download ? it : it.skip)('media: the same through the s3 driver (s3rver)', async () => {
      s3 = await startS3();
      s3Server = await startTestServer(s3Options(s3));
      await exchangeMedia(s3Server);
    });

    it('media: a file that is not there, a type that does not match, or no connection: a clear ImError, nothing sent', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      await expect(a.client.sendImageMessage({ recipientId: b.userId, file: 42 as never })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      if (target.pickFile) {
        const notImage = await target.pickFile(a.adapter, { bytes: Buffer.from('plain text'), name: 'fake.png', as: 'file' });
        await expect(a.client.sendImageMessage({ recipientId: b.userId, file: notImage })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT', message: expect.stringContaining('not an accepted image') });
        a.client.disconnect();
        await expect(a.client.sendImageMessage({ recipientId: b.userId, file: notImage })).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
      }
      expect(await b.client.getPrivateHistoryMessages({ peerId: a.userId, limitSize: 10 })).toEqual([]);
    });

    it('a reply: replyTo on the send, a preview of the original on both sides and in history', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const got: ImMessage[] = [];
      a.client.on('imchat', (m) => got.push(m));
      const original = await a.client.sendPrivateMessage({ recipientId: b.userId, content: 'Lunch?' });
      const reply = await b.client.sendPrivateMessage({ recipientId: a.userId, content: 'Sure', replyTo: original.messageId });
      const preview = { messageId: original.messageId, from: a.userId, fromName: 'Alice', msgType: 0, content: 'Lunch?' };
      expect(reply.replyTo).toEqual(preview);
      await waitFor(() => got.length === 1, 3000, 'the reply');
      expect(got[0]!.replyTo).toEqual(preview);
      const history = await a.client.getPrivateHistoryMessages({ peerId: b.userId, limitSize: 10 });
      expect(history.map((m) => m.replyTo?.messageId)).toEqual([undefined, original.messageId]);
      await expect(b.client.sendPrivateMessage({ recipientId: a.userId, content: 'x', replyTo: 'nope' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    it('mentions: the mentioned member sees them on the message and mentionedMe on the conversation until read', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const group = await a.client.createGroup({ name: 'Mentions', userIdList: [b.userId] });
      const got: ImMessage[] = [];
      b.client.on('imchat', (m) => got.push(m));
      await a.client.sendGroupMessage({ groupId: group.id, content: '@Bob please look', mentions: [b.userId] });
      await waitFor(() => got.length === 1, 3000, 'the mention');
      expect(got[0]!.mentions).toEqual([b.userId]);
      const conv = async () => (await b.client.getConversationList()).find((c) => c.targetId === group.id)!;
      expect((await conv()).mentionedMe).toBe(true);
      await b.client.markConversationRead({ chatType: 1, targetId: group.id });
      expect((await conv()).mentionedMe).toBe(false);
      await expect(a.client.sendPrivateMessage({ recipientId: b.userId, content: 'x', mentions: [b.userId] })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    });

    it('revoke: every device of both sides gets messageRevoked once (not an imchat), history keeps a tombstone, the rules hold', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      // A second device of Alice's.
      const a2 = newClient();
      await a2.client.getToken({ appId: server.appId, appSecret: server.appSecret, userId: a.userId });
      const a2ready = nextEvent(a2.client, 'ready');
      await a2.client.connect();
      await a2ready;
      const revoked: Array<[string, unknown]> = [];
      const chats: Array<[string, ImMessage]> = [];
      for (const [who, c] of [['a', a.client], ['a2', a2.client], ['b', b.client]] as const) {
        c.on('messageRevoked', (r) => revoked.push([who, r]));
        c.on('imchat', (m) => chats.push([who, m]));
      }
      const sent = await a.client.sendPrivateMessage({ recipientId: b.userId, content: 'oops, wrong chat' });
      await waitFor(() => chats.length === 2, 3000, 'the message on b and a2');
      await expect(b.client.revokeMessage({ messageId: sent.messageId })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
      await expect(a.client.revokeMessage({ messageId: 'no-such-message' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      await expect(a.client.revokeMessage({ messageId: 42 } as never)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      await a.client.revokeMessage({ messageId: sent.messageId });
      await waitFor(() => revoked.length === 3, 3000, 'messageRevoked on a, a2 and b');
      const info = { messageId: sent.messageId, chatType: 0, from: a.userId, to: b.userId, by: a.userId, revokedAt: expect.any(Number) };
      expect(revoked.map(([who]) => who).sort()).toEqual(['a', 'a2', 'b']);
      for (const [, r] of revoked) expect(r).toEqual(info);
      expect(chats).toHaveLength(2);
      const history = await b.client.getPrivateHistoryMessages({ peerId: a.userId, limitSize: 10 });
      expect(history).toHaveLength(1);
      expect(history[0]).toMatchObject({ messageId: sent.messageId, revoked: true, revokedBy: a.userId, content: '', data: null });
      await expect(a.client.revokeMessage({ messageId: sent.messageId })).resolves.toBeUndefined();
      await new Promise((r) => setTimeout(r, 200));
      expect(revoked).toHaveLength(3);
    });

    it('revoke and edit reach a device that was offline through catch-up, in order, and the content never', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const seen: string[] = [];
      b.client.on('imchat', (m) => seen.push(`imchat:${m.content || (m.revoked ? '<revoked>' : '')}`));
      b.client.on('messageRevoked', (r) => seen.push(`revoked:${r.messageId === first.messageId ? 'first' : '?'}`));
      b.client.on('messageEdited', (m) => seen.push(`edited:${m.content}`));
      b.client.disconnect();
      const first = await a.client.sendPrivateMessage({ recipientId: b.userId, content: 'secret' });
      const second = await a.client.sendPrivateMessage({ recipientId: b.userId, content: 'helo' });
      await a.client.revokeMessage({ messageId: first.messageId });
      const edited = await a.client.editMessage({ messageId: second.messageId, content: 'hello' });
      expect(edited).toMatchObject({ messageId: second.messageId, content: 'hello', editedAt: expect.any(Number) });
      const ready = nextEvent(b.client, 'ready');
      await b.client.connect();
      await ready;
      await waitFor(() => seen.length === 4, 3000, 'catch-up');
      expect(seen).toEqual(['imchat:<revoked>', 'imchat:hello', 'revoked:first', 'edited:hello']);
      // A group: the owner revokes a member's message; a member that was away catches it up.
      const c = await login('Carol');
      const group = await a.client.createGroup({ name: 'Away', userIdList: [b.userId, c.userId] });
      const groupSeen: string[] = [];
      b.client.on('messageRevoked', (r) => groupSeen.push(`${r.chatType}:${r.by === a.userId ? 'owner' : r.by}`));
      b.client.disconnect();
      const gm = await c.client.sendGroupMessage({ groupId: group.id, content: 'member talk' });
      await expect(b.client.revokeMessage({ messageId: gm.messageId })).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
      await a.client.revokeMessage({ messageId: gm.messageId });
      const again = nextEvent(b.client, 'ready');
      await b.client.connect();
      await again;
      await waitFor(() => groupSeen.length === 1, 3000, 'group revoke caught up');
      expect(groupSeen).toEqual(['1:owner']);
    });

    it('edit: the sender only, never empty; the peer gets messageEdited with the message as it is now', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const edits: ImMessage[] = [];
      b.client.on('messageEdited', (m) => edits.push(m));
      const sent = await a.client.sendPrivateMessage({ recipientId: b.userId, content: 'teh plan' });
      await expect(a.client.editMessage({ messageId: sent.messageId, content: '  ' })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      await expect(b.client.editMessage({ messageId: sent.messageId, content: 'mine' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
      await expect(a.client.editMessage({ messageId: sent.messageId, content: 7 } as never)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      const m = await a.client.editMessage({ messageId: sent.messageId, content: 'the plan', data: { fixed: true } });
      expect(m).toMatchObject({ messageId: sent.messageId, content: 'the plan', data: { fixed: true }, seq: sent.seq });
      await waitFor(() => edits.length === 1, 3000, 'messageEdited');
      expect(edits[0]).toMatchObject({ messageId: sent.messageId, content: 'the plan', editedAt: m.editedAt });
      const history = await b.client.getPrivateHistoryMessages({ peerId: a.userId, limitSize: 10 });
      expect(history.map((x) => [x.content, x.editedAt])).toEqual([['the plan', m.editedAt]]);
    });

    it('typing and signals: to online devices only, never stored; typing at most once per 3 s', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const c = await login('Carol');
      const typing: unknown[] = [];
      const signals: Array<{ from: string; chatType: number; to: string; data: unknown }> = [];
      b.client.on('typing', (t) => typing.push(t));
      b.client.on('signal', (s) => signals.push(s));
      c.client.on('signal', (s) => signals.push(s));
      expect(a.client.sendTyping({ recipientId: b.userId })).toBe(true);
      expect(a.client.sendTyping({ recipientId: b.userId })).toBe(false); // within 3 s: skipped
      await waitFor(() => typing.length === 1, 3000, 'the typing notice');
      expect(typing).toEqual([{ from: a.userId, chatType: 0, to: b.userId }]);
      await a.client.sendSignal({ recipientId: b.userId, data: { type: 'call-invite', room: 'r1' } });
      const group = await a.client.createGroup({ name: 'Call', userIdList: [b.userId, c.userId] });
      await a.client.sendSignal({ groupId: group.id, data: { type: 'ring' } });
      await waitFor(() => signals.length === 3, 3000, 'three signals');
      expect(signals.map((s) => [s.to, s.chatType, s.data])).toEqual(
        expect.arrayContaining([[b.userId, 0, { type: 'call-invite', room: 'r1' }], [group.id, 1, { type: 'ring' }], [group.id, 1, { type: 'ring' }]]),
      );
      // Nothing of it is a message: history is empty, and a device that was away gets nothing later.
      expect(await b.client.getPrivateHistoryMessages({ peerId: a.userId, limitSize: 10 })).toEqual([]);
      b.client.disconnect();
      await a.client.sendSignal({ recipientId: b.userId, data: 'while you were away' });
      const ready = nextEvent(b.client, 'ready');
      await b.client.connect();
      await ready;
      await new Promise((r) => setTimeout(r, 200));
      expect(signals.filter((s) => s.to === b.userId)).toHaveLength(1);
      // Refusals: not a member, nobody, too big.
      const d = await login('Dave');
      await expect(d.client.sendSignal({ groupId: group.id, data: 'hi' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
      await expect(a.client.sendSignal({ recipientId: 'nobody-here', data: 'hi' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      await expect(a.client.sendSignal({ recipientId: b.userId, data: 'x'.repeat(40_000) })).rejects.toMatchObject({ code: 'E_PAYLOAD_TOO_LARGE' });
    });

    // ---- group roles and settings
    it('group roles: an admin is made, sets the announcement but not the name; members get groupChanged and the notice as imchat', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const c = await login('Carol');
      const group = await a.client.createGroup({ name: 'Roles', userIdList: [b.userId, c.userId] });
      const changed = nextEvent<ImGroupChange>(c.client, 'groupChanged');
      const notice = nextEvent<ImMessage>(c.client, 'imchat');
      const ownNotice = nextEvent<ImMessage>(a.client, 'imchat');
      expect(await a.client.setGroupMemberRole({ groupId: group.id, userId: b.userId, role: 'admin' })).toMatchObject({ userId: b.userId, role: 'admin', mutedUntil: 0 });
      expect(await changed).toMatchObject({ groupId: group.id, action: 'role_changed', userIds: [b.userId], role: 'admin', by: a.userId });
      const m = await notice;
      expect(m).toMatchObject({ chatType: 1, to: group.id, from: a.userId, msgType: MsgType.GROUP_NOTICE, content: 'Alice made Bob an admin' });
      expect(m.data).toMatchObject({ action: 'role_changed', byName: 'Alice', names: { [b.userId]: 'Bob' } });
      // The actor's devices get it too: the change was made over HTTP, not sent from a socket.
      expect((await ownNotice).messageId).toBe(m.messageId);
      expect((await c.client.getGroupMembers({ groupId: group.id })).map((x) => x.role)).toEqual(['owner', 'admin', 'member']);

      expect(await b.client.updateGroupInfo({ groupId: group.id, announcement: 'Meeting at 10' })).toMatchObject({ announcement: 'Meeting at 10', name: 'Roles' });
      await expect(b.client.updateGroupInfo({ groupId: group.id, name: 'Taken over' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
      await expect(c.client.setGroupMemberRole({ groupId: group.id, userId: c.userId, role: 'admin' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
      expect(await c.client.getGroupInfo({ groupId: group.id })).toMatchObject({ announcement: 'Meeting at 10', avatar: '', muteAll: false });
      const history = await c.client.getGroupHistoryMessages({ groupId: group.id });
      expect(history.map((x) => x.content)).toEqual(['Alice made Bob an admin', 'Bob changed the group announcement']);
    });

    it('mute: a muted member\'s group send rejects with E_FORBIDDEN until unmuted; mute-all lets only owner and admins speak; transfer', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const group = await a.client.createGroup({ name: 'Quiet', userIdList: [b.userId] });
      const muted = await a.client.muteGroupMember({ groupId: group.id, userId: b.userId, seconds: 600 });
      expect(muted.mutedUntil).toBeGreaterThan(Date.now());
      await expect(b.client.sendGroupMessage({ groupId: group.id, content: 'hello?' })).rejects.toMatchObject({ code: 'E_FORBIDDEN', message: expect.stringContaining('muted') });
      expect((await a.client.muteGroupMember({ groupId: group.id, userId: b.userId, seconds: 0 })).mutedUntil).toBe(0);
      await expect(b.client.sendGroupMessage({ groupId: group.id, content: 'free' })).resolves.toMatchObject({ content: 'free' });

      expect((await a.client.muteAllMembers({ groupId: group.id, muted: true })).muteAll).toBe(true);
      await expect(b.client.sendGroupMessage({ groupId: group.id, content: 'still?' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
      await expect(a.client.sendGroupMessage({ groupId: group.id, content: 'the owner may' })).resolves.toMatchObject({ seq: expect.any(Number) });
      await a.client.muteAllMembers({ groupId: group.id, muted: false });
      expect(await a.client.transferGroupOwner({ groupId: group.id, userId: b.userId })).toMatchObject({ ownerId: b.userId });
      await expect(a.client.muteGroupMember({ groupId: group.id, userId: b.userId, seconds: 60 })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
    });

    // ---- group read receipts
    it('group read receipts: read by one of two others is 1 read / 1 unread, and the read members list the reader', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      const c = await login('Carol');
      const group = await a.client.createGroup({ name: 'Receipts', userIdList: [b.userId, c.userId] });
      const sent = await a.client.sendGroupMessage({ groupId: group.id, content: 'who read this?' });
      const ask = { groupId: group.id, messageIds: [sent.messageId] };
      expect(await a.client.getGroupMessageReadReceipts(ask)).toEqual([{ messageId: sent.messageId, readCount: 0, unreadCount: 2 }]);
      await b.client.markConversationRead({ chatType: 1, targetId: group.id });
      expect(await a.client.getGroupMessageReadReceipts(ask)).toEqual([{ messageId: sent.messageId, readCount: 1, unreadCount: 1 }]);
      const read = await a.client.getGroupMessageReadMembers({ groupId: group.id, messageId: sent.messageId, filter: 'read' });
      expect(read).toEqual({ items: [expect.objectContaining({ userId: b.userId, userName: 'Bob' })], nextCursor: null });
      const unread = await c.client.getGroupMessageReadMembers({ groupId: group.id, messageId: sent.messageId, filter: 'unread', limit: 1 });
      expect(unread.items.map((m) => m.userId)).toEqual([c.userId]);
      // Members only; a message not of the group is not found.
      const { client: stranger } = newClient();
      await stranger.getToken({ appId: server.appId, appSecret: server.appSecret, userId: uniqueUser() });
      await expect(stranger.getGroupMessageReadReceipts(ask)).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
      await expect(b.client.getGroupMessageReadMembers({ groupId: group.id, messageId: 'no-such-message', filter: 'read' })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    // ---- presence
    describe('presence', () => {
      /** A server of its own: a 1 s grace period, and a data dir and ports to restart on. */
      let ps: TestServer | undefined;
      const psDir = mkdtempSync(path.join(tmpdir(), 'comind-im-presence-'));
      const startPs = async (ports: { apiPort?: number; socketPort?: number } = {}) => {
        for (let attempt = 0; ; attempt++) {
          try {
            return await startTestServer({ presenceGrace: 1, dataDir: psDir, ...ports });
          } catch (err) {
            if (attempt >= 40 || !/EADDRINUSE/.test(String(err))) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };
      beforeAll(async () => {
        ps = await startPs();
      });
      afterAll(async () => {
        await ps?.stop();
        rmSync(psDir, { recursive: true, force: true });
      });

      it('subscribe answers who is online now; presence when the last device goes and the first comes back; getPresence; unsubscribe stops it', async () => {
        const a = await login('Alice', {}, ps);
        const b = await login('Bob', {}, ps);
        const events: ImPresence[] = [];
        a.client.on('presence', (p) => events.push(p));
        expect(await a.client.subscribePresence({ userIds: [b.userId, 'nobody-here'] })).toEqual([
          { userId: b.userId, online: true, lastSeenAt: null },
          { userId: 'nobody-here', online: false, lastSeenAt: null },
        ]);
        const left = Date.now();
        b.client.disconnect();
        await waitFor(() => events.length === 1, 5000, 'offline');
        expect(events[0]).toEqual({ userId: b.userId, online: false, lastSeenAt: expect.any(Number) });
        expect(events[0]!.lastSeenAt).toBeGreaterThanOrEqual(left - 50);
        await b.client.connect();
        await waitFor(() => events.length === 2, 5000, 'online');
        expect(events[1]).toEqual({ userId: b.userId, online: true, lastSeenAt: null });
        expect(await a.client.getPresence({ userIds: [b.userId] })).toEqual([{ userId: b.userId, online: true, lastSeenAt: null }]);
        await a.client.unsubscribePresence({ userIds: [b.userId] });
        b.client.disconnect();
        await new Promise((r) => setTimeout(r, 1500));
        expect(events).toHaveLength(2);
        await expect(a.client.getPresence({ userIds: [b.userId] })).resolves.toEqual([{ userId: b.userId, online: false, lastSeenAt: expect.any(Number) }]);
      });

      it('after the SDK reconnects it subscribes again and tells what changed while it was away', async () => {
        const a = await login('Alice', {}, ps);
        const b = await login('Bob', {}, ps);
        expect(await a.client.subscribePresence({ userIds: [b.userId] })).toEqual([{ userId: b.userId, online: true, lastSeenAt: null }]);
        const events: ImPresence[] = [];
        a.client.on('presence', (p) => events.push(p));
        // The server restarts; Bob does not come back. Nothing reached Alice while it was down.
        const { port: apiPort } = new URL(ps!.apiUrl);
        const { port: socketPort } = new URL(ps!.socketUrl);
        await ps!.stop();
        ps = undefined;
        b.client.destroy();
        expect(events).toEqual([]);
        ps = await startPs({ apiPort: Number(apiPort), socketPort: Number(socketPort) });
        await waitFor(() => events.length === 1, 10_000, 'presence after the reconnect');
        expect(events[0]).toEqual({ userId: b.userId, online: false, lastSeenAt: expect.any(Number) });
        // Followed on the new connection too: Bob's next device is news.
        const bob = newClient({}, ps).client;
        await bob.getToken({ appId: ps.appId, appSecret: ps.appSecret, userId: b.userId });
        await bob.connect();
        await waitFor(() => events.length === 2, 5000, 'online again');
        expect(events[1]).toEqual({ userId: b.userId, online: true, lastSeenAt: null });
      });
    });

    it('bad input is refused locally with E_INVALID_ARGUMENT and nothing is sent', async () => {
      const a = await login('Alice');
      await expect(a.client.sendPrivateMessage({ content: '', recipientId: 'x' })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
      await expect(a.client.sendPrivateMessage({ content: 'x'.repeat(40000), recipientId: 'x' })).rejects.toMatchObject({ code: 'E_PAYLOAD_TOO_LARGE' });
      await expect(a.client.sendGroupMessage({ content: 'x', groupId: '' })).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' });
    });

    it('a forged token is refused at connect with E_TOKEN_INVALID', async () => {
      const { client } = newClient();
      client.on('error', () => undefined);
      const forged = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiYXBwIjoieCJ9.c2lnbmF0dXJl';
      await expect(client.connect({ token: forged })).rejects.toMatchObject({ code: 'E_TOKEN_INVALID' });
      expect(client.getStatus()).toBe('disconnected');
    });

    it('destroy() closes the socket: the server sees the user go away', async () => {
      const a = await login('Alice');
      const b = await login('Bob');
      b.client.destroy();
      // A message to a destroyed client's user is stored, not lost: history has it.
      await a.client.sendPrivateMessage({ content: 'after destroy', recipientId: b.userId });
      const history = await a.client.getPrivateHistoryMessages({ peerId: b.userId });
      expect(history.map((m) => m.content)).toContain('after destroy');
      expect(() => b.client.sendHeartbeat()).not.toThrow();
      await expect(b.client.connect()).rejects.toMatchObject({ code: 'E_DESTROYED' });
    });
  });
}
