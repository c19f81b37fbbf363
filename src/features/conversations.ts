import { LIMITS } from '../../server/src/protocol/limits';
import { CoalescedWriter } from '../core/coalesced-writer';
import { ImError } from '../core/errors';
import { ChatType, MsgType, SocketEvent, type ImConversation, type ImMessage, type ListPage, type MessageEventRow } from '../core/protocol';
import { describe, invalid, optionalInt, requireId, requireObject, utf8Bytes } from '../core/validate';
import type { Feature, FeatureContext } from './feature';
import { resolveMessageUrls } from './media';
import { allPages, allPagesOf, pageQuery } from './paging';

type Conv = ImConversation;

/** The server's order: pinned first, then the most recent, then by id. */
function order(a: Conv, b: Conv): number {
  return Number(b.pinned) - Number(a.pinned) || b.updatedAt - a.updatedAt || (a.conversationId < b.conversationId ? -1 : 1);
}

/** What the app sees of a conversation: copies that agree on it are the same (a live message carries an inboxSeq, the list's does not). */
function sig(c: Conv | undefined): string {
  const m = c && c.lastMessage;
  return c ? JSON.stringify([c.name, c.lastSeq, c.readSeq, c.peerReadSeq, c.unreadCount, c.mentionedMe, c.updatedAt, c.pinned, c.muted, m && [m.messageId, m.revoked, m.editedAt]]) : '';
}

/** The conversation a message is in, as I see it. */
function idOf(m: ImMessage, me: string): string {
  return `${m.chatType}:${m.chatType === ChatType.GROUP || m.from === me ? m.to : m.from}`;
}

function target(method: string, params: unknown, shape: string): { p: Record<string, unknown>; chatType: 0 | 1; targetId: string } {
  const p = requireObject(method, params, shape);
  if (p.chatType !== ChatType.PRIVATE && p.chatType !== ChatType.GROUP) {
    throw invalid(method, `"chatType" must be 0 (private) or 1 (group), got ${describe(p.chatType)}.`);
  }
  return { p, chatType: p.chatType, targetId: requireId(method, 'targetId', p.targetId) };
}

/**
 * The conversation list and the user's settings of it. The list is kept on the device and stays
 * current from events: messages (received, and this device's own sends) update it here, without
 * the server pushing anything per member of a group; what a device cannot see for itself (a read,
 * pin, mute or delete on another device) the server pushes as `conversation:changed`. A message of
 * a conversation the list does not have fetches that one; after every reconnect the whole list is
 * fetched again. Drafts are kept on the device only, per user.
 */
export class Conversations implements Feature {
  readonly name = 'conversations';
  /** By conversationId; undefined until fetched (or read back from storage) for this user. */
  private convs: Map<string, Conv> | undefined;
  private drafts: Record<string, string> = {};
  /** Whose list and drafts are loaded (their storage keys), and the read of them. */
  private keys: { list: string; drafts: string } | undefined;
  private loading: Promise<void> = Promise.resolve();
  private total: number | undefined;
  /** Caught up: before that, a conversation the list lacks is left to the refresh at `ready`. */
  private live = false;
  /** Work on the list that awaits (storage, the network), one at a time in arrival order; how much waits. */
  private queue: Promise<unknown> = Promise.resolve();
  private busy = 0;
  private readonly writer: CoalescedWriter;

  constructor(private readonly fc: FeatureContext) {
    this.writer = new CoalescedWriter(
      () => (this.keys && this.convs ? fc.ctx.adapter.storage.setItem(this.keys.list, JSON.stringify([...this.convs.values()])) : undefined),
      (err) => fc.ctx.log.debug('could not cache conversations', err),
    );
    fc.route(SocketEvent.CONVERSATION_CHANGED, (c: Conv) => this.pushed(c));
  }

  // ------------------------------------------------------------- the API

  /** One page, pinned first then most recent; pass `nextCursor` back as `cursor` for the next. */
  page(params: unknown): Promise<ListPage<Conv>> {
    const m = 'getConversationListPage';
    const p = requireObject(m, params ?? {}, '{ apiServer, limit, cursor }');
    return this.fetchPage(m, p.apiServer, pageQuery(m, p));
  }

  /** Every page; the list is then kept on the device and current from events. */
  list(params: unknown): Promise<Conv[]> {
    const p = requireObject('getConversationList', params ?? {}, '{ apiServer }');
    return this.serial(() => this.refresh('getConversationList', p.apiServer));
  }

  /** The list as this device has it (needs a token, to know whose it is). */
  async cached(): Promise<Conv[]> {
    return (await this.load()) && this.convs ? [...this.convs.values()].sort(order).map((c) => this.shown(c)) : [];
  }

  async markRead(params: unknown): Promise<{ conversationId: string; readSeq: number; unreadCount: number }> {
    const m = 'markConversationRead';
    const { p, chatType, targetId } = target(m, params, '{ apiServer, chatType, targetId, seq }');
    const body: Record<string, unknown> = { chatType, targetId };
    const seq = optionalInt(m, 'seq', p.seq, 0, Number.MAX_SAFE_INTEGER);
    if (seq !== undefined) body.seq = seq;
    const r = await this.fc.api.authed<{ conversationId: string; readSeq: number; unreadCount: number }>(m, p.apiServer, { method: 'POST', path: '/api/conversations/read', body });
    // Current when this resolves; the server's push (the same, or newer) follows.
    this.onList(() => {
      const c = this.convs?.get(r.conversationId);
      if (c) this.put({ ...c, readSeq: Math.max(c.readSeq, r.readSeq), unreadCount: r.unreadCount, mentionedMe: c.mentionedMe && r.unreadCount > 0 });
      return undefined;
    }, false);
    return r;
  }

  /** pinConversation / muteConversation: the conversation as the server now has it. */
  setting(method: string, params: unknown, setting: 'pinned' | 'muted'): Promise<Conv> {
    const { p, chatType, targetId } = target(method, params, `{ apiServer, chatType, targetId, ${setting} }`);
    if (typeof p[setting] !== 'boolean') throw invalid(method, `"${setting}" must be true or false, got ${describe(p[setting])}.`);
    return this.change(method, p.apiServer, setting === 'pinned' ? 'pin' : 'mute', { chatType, targetId, [setting]: p[setting] });
  }

  async remove(params: unknown): Promise<void> {
    const m = 'deleteConversation';
    const { p, chatType, targetId } = target(m, params, '{ apiServer, chatType, targetId }');
    await this.change(m, p.apiServer, 'delete', { chatType, targetId });
  }

  async totalUnread(params: unknown): Promise<number> {
    const m = 'getTotalUnreadCount';
    const p = requireObject(m, params ?? {}, '{ apiServer }');
    return (await this.fc.api.authed<{ totalUnreadCount: number }>(m, p.apiServer, { method: 'GET', path: '/api/conversations/unread-count' })).totalUnreadCount;
  }

  /** A draft on this device only ('' or null clears it), shown as `draft` on its conversation. */
  async setDraft(params: unknown): Promise<void> {
    const m = 'setConversationDraft';
    const { p, chatType, targetId } = target(m, params, '{ chatType, targetId, draft }');
    const draft = p.draft ?? '';
    if (typeof draft !== 'string' || utf8Bytes(draft) > LIMITS.CONTENT_BYTES) {
      throw invalid(m, `"draft" must be a string of at most ${LIMITS.CONTENT_BYTES} bytes of UTF-8 ('' or null clears it), got ${describe(p.draft)}.`);
    }
    if (!(await this.load()) || !this.keys) throw new ImError('E_NO_TOKEN', `${m}: drafts are kept per user; call getToken() or connect({ token }) first.`);
    const id = `${chatType}:${targetId}`;
    if ((this.drafts[id] ?? '') === draft) return;
    if (draft) this.drafts[id] = draft;
    else delete this.drafts[id];
    await this.fc.ctx.adapter.storage.setItem(this.keys.drafts, JSON.stringify(this.drafts)).catch((err) => this.fc.ctx.log.debug('could not store drafts', err));
    const c = this.convs?.get(id);
    if (c) this.emit(c);
  }

  // ------------------------------------------------------------- the feature's hooks

  onMessage(m: ImMessage): void {
    this.onList(() => this.message(m), true);
  }

  onSent(m: ImMessage): void {
    this.onList(() => this.message(m), true);
  }

  /** A revoke or edit of a conversation's last message changes what the list shows of it. */
  onEvent(row: MessageEventRow): void {
    this.onList(() => {
      const me = this.fc.session()?.userId;
      const t = row.target;
      const c = t && me ? this.convs?.get(idOf(t, me)) : undefined;
      if (t && c?.lastMessage?.messageId === t.messageId) this.put({ ...c, lastMessage: resolveMessageUrls(t, this.fc.api.base()) });
      return undefined;
    }, false);
  }

  /** A group the user is no longer in is off the list (the server lists only current members' groups). */
  onGroupLeft(groupId: string): void {
    this.onList(() => void this.drop(`${ChatType.GROUP}:${groupId}`), false);
  }

  /** Caught up after a (re)connect: what changed meanwhile (reads, deletes, messages) comes with the list. */
  onReady(): void {
    this.live = true;
    this.later(async () => {
      if ((await this.load()) && this.convs) await this.refresh('getConversationList', undefined);
    });
  }

  onConnectionLost(): void {
    this.live = false;
  }

  // ------------------------------------------------------------- the list on the device

  private serial<T>(work: () => Promise<T>): Promise<T> {
    this.busy++;
    const run = this.queue.then(work).finally(() => this.busy--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Applies an event to the list: at once when nothing waits, so the list is current when the
   * event reaches the app; else in turn, after what waits (reading storage, a fetch). A step may
   * answer the id of a conversation it needs the server's copy of: that is fetched, and with
   * `again` the step runs once more on it.
   */
  private onList(step: () => string | undefined, again: boolean): void {
    const fetched = async (id: string) => {
      const fresh = await this.fetch(id);
      if (fresh === null) this.drop(id);
      else if (fresh) {
        this.put(fresh);
        if (again) step();
      }
    };
    if (!this.busy && this.convs && this.keys?.list === this.fc.keys.current('conversations')) {
      const id = step();
      if (id !== undefined) this.later(() => fetched(id));
      return;
    }
    this.later(async () => {
      if (!(await this.load())) return;
      const id = step();
      if (id !== undefined) await fetched(id);
    });
  }

  /** Work for an event: nobody awaits it, so a failure is only logged (the next refresh mends the list). */
  private later(work: () => Promise<void>): void {
    this.serial(work).catch((err) => this.fc.ctx.log.debug('could not update the conversation list', err));
  }

  /** Reads the current user's list and drafts from storage once; false without a user. */
  private async load(): Promise<boolean> {
    const list = this.fc.keys.current('conversations');
    const drafts = this.fc.keys.current('drafts');
    if (!list || !drafts) return false;
    if (this.keys?.list !== list) {
      const keys = (this.keys = { list, drafts });
      this.convs = undefined;
      this.drafts = {};
      this.total = undefined;
      this.loading = Promise.all([this.read(list), this.read(drafts)]).then(([l, d]) => {
        if (this.keys !== keys) return;
        if (!this.convs && Array.isArray(l)) {
          this.convs = new Map((l as Conv[]).map((c) => [c.conversationId, c]));
          this.total = this.sum();
        }
        if (d && typeof d === 'object') this.drafts = d as Record<string, string>;
      });
    }
    await this.loading;
    return this.keys?.list === list;
  }

  private async read(key: string): Promise<unknown> {
    try {
      const raw = await this.fc.ctx.adapter.storage.getItem(key);
      return raw ? (JSON.parse(raw) as unknown) : undefined;
    } catch (err) {
      this.fc.ctx.log.debug('could not read the conversation cache', err);
      return undefined;
    }
  }

  /** A message, received or sent: the conversation's last message, unread count and mention. */
  private message(m: ImMessage): string | undefined {
    const me = this.fc.session()?.userId;
    if (!me || !this.convs) return undefined;
    const id = idOf(m, me);
    const c = this.convs.get(id);
    // Not on the list (new, or deleted before): the server's copy, not a guess; before `ready`
    // the refresh then brings it.
    if (!c) return this.live ? id : undefined;
    if (m.seq <= c.lastSeq) return undefined;
    const next: Conv = { ...c, lastMessage: m, lastSeq: m.seq, updatedAt: m.timestamp };
    // Sending reads the conversation up to one's own message, on the server too.
    // A group notice reads nothing (the server does not move the actor's read position for it).
    if (m.msgType === MsgType.GROUP_NOTICE) {
      // counted neither way
    } else if (m.from === me) Object.assign(next, { readSeq: m.seq, unreadCount: 0, mentionedMe: false });
    else {
      next.unreadCount = Math.min(c.unreadCount + 1, LIMITS.UNREAD_COUNT_MAX);
      if (m.mentions === 'all' || (Array.isArray(m.mentions) && m.mentions.includes(me))) next.mentionedMe = true;
    }
    const renamed = m.msgType === MsgType.GROUP_NOTICE && (m.data as { changes?: { name?: unknown } } | null)?.changes?.name;
    if (typeof renamed === 'string') next.name = renamed;
    this.put(next);
    return undefined;
  }

  /** The server's copy of one conversation: null when it is not on the list, undefined when the request failed. */
  private async fetch(id: string): Promise<Conv | null | undefined> {
    try {
      const c = await this.fc.api.authed<Conv>('getConversationList', undefined, { method: 'GET', path: `/api/conversations/${encodeURIComponent(id)}` });
      if (c?.lastMessage) resolveMessageUrls(c.lastMessage, this.fc.api.base());
      return c;
    } catch (err) {
      if (err instanceof ImError && err.code === 'E_NOT_FOUND') return null;
      this.fc.ctx.log.debug(`could not fetch conversation ${id}`, err);
      return undefined;
    }
  }

  /** A conversation as the server computed it (pushed, or the answer of a change made here). */
  private pushed(c: Conv): void {
    if (!c || typeof c.conversationId !== 'string') return;
    if (c.lastMessage) resolveMessageUrls(c.lastMessage, this.fc.api.base());
    this.onList(() => {
      if (!this.convs) return void this.emit(c);
      // Computed before a message this device already has: ask again rather than lose the message.
      if ((this.convs.get(c.conversationId)?.lastSeq ?? 0) > c.lastSeq) return c.conversationId;
      if (c.deleted) this.drop(c.conversationId, c);
      else this.put(c);
      return undefined;
    }, false);
  }

  /** Off the list; the app is told once (with the server's copy when there is one). */
  private drop(id: string, told?: Conv): void {
    const old = this.convs?.get(id);
    if (!old || !this.convs!.delete(id)) return;
    this.emit({ ...(told ?? old), unreadCount: 0, mentionedMe: false, deleted: true });
    this.changed();
  }

  /** Every page from the server becomes the list; what differs from the list before is told. */
  private async refresh(method: string, apiServer: unknown): Promise<Conv[]> {
    const owner = this.fc.keys.current('conversations');
    const fetchPage = (cursor: string | undefined) => this.fetchPage(method, apiServer, { limit: 100, cursor });
    const fresh = new Map((await allPages<Conv>(fetchPage)).map((c) => [c.conversationId, c]));
    // Pages follow pins and activity, so a conversation that moved to the front while later pages
    // were read is behind the cursor: the first page again brings it back.
    if (fresh.size > 100) for (const c of await allPagesOf(fetchPage, 1)) fresh.set(c.conversationId, c);
    // Another user signed in meanwhile: this list is not theirs to keep.
    if (!(await this.load()) || this.keys?.list !== owner) return [...fresh.values()].sort(order);
    const before = this.convs;
    this.convs = fresh;
    if (before) {
      for (const c of fresh.values()) if (sig(c) !== sig(before.get(c.conversationId))) this.emit(c);
      for (const [id, c] of before) if (!fresh.has(id)) this.emit({ ...c, unreadCount: 0, mentionedMe: false, deleted: true });
    }
    this.changed();
    return this.cached();
  }

  private fetchPage(method: string, apiServer: unknown, query: Record<string, string | number | undefined>): Promise<ListPage<Conv>> {
    return this.fc.api.authed<ListPage<Conv>>(method, apiServer, { method: 'GET', path: '/api/conversations', query }).then((page) => {
      if (Array.isArray(page?.items)) {
        const base = this.fc.api.serverFor(method, apiServer);
        for (const c of page.items) if (c?.lastMessage) resolveMessageUrls(c.lastMessage, base);
      }
      return page;
    });
  }

  private async change(method: string, apiServer: unknown, path: string, body: Record<string, unknown>): Promise<Conv> {
    const c = await this.fc.api.authed<Conv>(method, apiServer, { method: 'POST', path: `/api/conversations/${path}`, body });
    this.pushed(c);
    return this.shown(c);
  }

  /** Replaces a conversation of the list, telling the app if it changed. */
  private put(c: Conv): void {
    if (!this.convs) return;
    const { deleted, draft, ...clean } = c;
    if (sig(this.convs.get(c.conversationId)) === sig(clean)) return;
    this.convs.set(c.conversationId, clean);
    this.emit(clean);
    this.changed();
  }

  /** The list changed: stored, and the total told when it moved. */
  private changed(): void {
    this.writer.schedule();
    const n = this.sum();
    if (n === this.total) return;
    this.total = n;
    this.fc.ctx.events.emit('totalUnreadChanged', n);
  }

  private sum(): number {
    let n = 0;
    for (const c of this.convs?.values() ?? []) if (!c.muted) n += c.unreadCount;
    return n;
  }

  private emit(c: Conv): void {
    this.fc.ctx.events.emit('conversationChanged', this.shown(c));
  }

  /** A copy for the app, with this device's draft. */
  private shown(c: Conv): Conv {
    const draft = this.drafts[c.conversationId];
    return draft ? { ...c, draft } : { ...c };
  }
}
