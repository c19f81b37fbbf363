import { ApiError, Code } from './errors';
import { groupConvId, privateConvId } from './protocol';
import type { Caller, ListPage, ListQuery, Notifier } from './service';
import type { ConversationCursor, ConversationRecord, Storage, StoredMessage } from './storage/types';

/**
 * A conversation as the server tells a client of it: the list item, and `deleted: true` when it
 * is not on the user's list (deleted and nothing since, or no message yet).
 */
export type ConversationChange = ConversationRecord & { deleted?: true };

/** Opaque to clients: the last item's time, id and whether it is pinned (pinned ones come first). */
function writeCursor(c: ConversationRecord): string {
  return Buffer.from(JSON.stringify([c.updatedAt, c.conversationId, c.pinned ? 1 : 0]), 'utf8').toString('base64url');
}

/** A cursor of an earlier release (no pinned part) reads as one in the unpinned part. */
function readCursor(cursor: string | undefined): ConversationCursor | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [at, id, pinned = 0] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    if (typeof at === 'number' && Number.isFinite(at) && typeof id === 'string' && id.length <= 200 && (pinned === 0 || pinned === 1)) return { at, id, pinned: pinned === 1 };
  } catch {
    // fall through
  }
  throw new ApiError(Code.INVALID_ARGUMENT, 'cursor: not a cursor from a previous page (pass nextCursor as it was returned)');
}

/** The peer or group of a conversation id of the caller's ('p:a:b' or 'g:<groupId>'). */
function targetOf(convId: string, me: string): { chatType: 0 | 1; targetId: string } {
  if (convId.startsWith('g:')) return { chatType: 1, targetId: convId.slice(2) };
  const [, a = '', b = ''] = convId.split(':');
  return { chatType: 0, targetId: a === me ? b : a };
}

/**
 * The caller's conversation list and what they do with it: read, pin, mute, delete, the total
 * unread. Each change is stored on the server (so every device agrees) and pushed to all of the
 * user's devices as `conversation:changed`, with the conversation as the server now computes it.
 * New messages are not pushed this way: clients derive them from the messages they receive, so a
 * group message costs no push per member.
 */
export class ConversationService {
  constructor(
    private readonly storage: Storage,
    private readonly notifier: Notifier,
    /** Messages as they leave the server (signed URLs, reply previews, revoked flag). */
    private readonly present: (appId: string, messages: StoredMessage[]) => Promise<StoredMessage[]>,
    /** Checks the peer (exists: else 40400) or group (member: else 40300/40400); its display name. */
    private readonly targetName: (caller: Caller, chatType: 0 | 1, targetId: string) => Promise<string>,
  ) {}

  /** The caller's listed conversations, pinned first, then most recent first, a page at a time. */
  async list(caller: Caller, q: ListQuery): Promise<ListPage<ConversationRecord>> {
    const page = await this.storage.conversations(caller.appId, caller.userId, { after: readCursor(q.cursor), limit: q.limit });
    const items = await this.shown(caller, page.items);
    const last = items[items.length - 1];
    return { items, nextCursor: page.hasMore && last ? writeCursor(last) : null };
  }

  /** One conversation on the caller's list (what a client fetches when a message starts one it does not have). */
  async one(caller: Caller, chatType: 0 | 1, targetId: string): Promise<ConversationRecord> {
    await this.targetName(caller, chatType, targetId);
    const c = await this.storage.conversation(caller.appId, caller.userId, chatType, targetId);
    if (!c?.listed) throw new ApiError(Code.NOT_FOUND, `conversation ${chatType}:${targetId} is not on your list (no message yet, or deleted and none since)`);
    const { listed, ...record } = c;
    return (await this.shown(caller, [record]))[0]!;
  }

  async setting(caller: Caller, chatType: 0 | 1, targetId: string, setting: 'pinned' | 'muted', on: boolean): Promise<ConversationChange> {
    const name = await this.targetName(caller, chatType, targetId);
    await this.storage.setConversationSetting(caller.appId, caller.userId, this.convId(caller, chatType, targetId), setting, on);
    return this.changed(caller, chatType, targetId, name);
  }

  /**
   * Off the list: its unread is cleared (counting starts after its present seq) and it is
   * unpinned; the mute stays. read_state does not move, so the peer's peerReadSeq still says what
   * was really read. The next message brings it back with only that message unread.
   */
  async remove(caller: Caller, chatType: 0 | 1, targetId: string): Promise<ConversationChange> {
    const name = await this.targetName(caller, chatType, targetId);
    await this.storage.hideConversation(caller.appId, caller.userId, this.convId(caller, chatType, targetId));
    return this.changed(caller, chatType, targetId, name);
  }

  async totalUnread(caller: Caller): Promise<{ totalUnreadCount: number }> {
    return { totalUnreadCount: await this.storage.totalUnread(caller.appId, caller.userId) };
  }

  async markRead(caller: Caller, chatType: 0 | 1, targetId: string, seq?: number): Promise<{ conversationId: string; readSeq: number; unreadCount: number }> {
    const name = await this.targetName(caller, chatType, targetId);
    const convId = this.convId(caller, chatType, targetId);
    const conversationId = `${chatType}:${targetId}`;
    // Nothing to mark before the first message: no read row is written for it.
    if ((await this.storage.lastSeq(caller.appId, convId)) === 0) return { conversationId, readSeq: 0, unreadCount: 0 };
    const { readSeq, unreadCount } = await this.storage.markRead(caller.appId, caller.userId, convId, seq);
    await this.changed(caller, chatType, targetId, name);
    return { conversationId, readSeq, unreadCount };
  }

  /**
   * Read receipts moved the caller's read positions: each conversation to every device of theirs.
   * Not awaited by the receipt's answer, and a failure here loses only a push (clients refresh the
   * list after every reconnect).
   */
  readMoved(caller: Caller, convIds: string[]): void {
    void (async () => {
      for (const convId of new Set(convIds)) {
        const { chatType, targetId } = targetOf(convId, caller.userId);
        await this.changed(caller, chatType, targetId, targetId);
      }
    })().catch(() => undefined);
  }

  private convId(caller: Caller, chatType: 0 | 1, targetId: string): string {
    return chatType === 1 ? groupConvId(targetId) : privateConvId(caller.userId, targetId);
  }

  /** The conversation as it is now, pushed to the caller's devices (every node); also the answer. */
  private async changed(caller: Caller, chatType: 0 | 1, targetId: string, name: string): Promise<ConversationChange> {
    const found = await this.storage.conversation(caller.appId, caller.userId, chatType, targetId);
    let change: ConversationChange;
    if (found) {
      const { listed, ...record } = found;
      change = (await this.shown(caller, [record]))[0]!;
      if (!listed) change.deleted = true;
    } else {
      // No message yet (a pin or mute ahead of the first one): the settings, off the list.
      const none = { conversationId: `${chatType}:${targetId}`, chatType, targetId, name, lastMessage: null, lastSeq: 0, readSeq: 0, peerReadSeq: chatType === 0 ? 0 : null };
      const settings = await this.storage.conversationSettings(caller.appId, caller.userId, this.convId(caller, chatType, targetId));
      change = { ...none, unreadCount: 0, mentionedMe: false, updatedAt: 0, ...settings, deleted: true };
    }
    this.notifier.conversationChanged(caller.appId, caller.userId, change);
    return change;
  }

  /** Last messages as they leave the server. */
  private async shown<C extends ConversationRecord>(caller: Caller, items: C[]): Promise<C[]> {
    const shown = await this.present(caller.appId, items.flatMap((c) => (c.lastMessage ? [c.lastMessage] : [])));
    let k = 0;
    return items.map((c) => (c.lastMessage ? { ...c, lastMessage: shown[k++]! } : { ...c }));
  }
}
