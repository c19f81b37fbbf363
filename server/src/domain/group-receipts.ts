import { ApiError, Code } from '../errors';
import { ID_PATTERN, LIMITS } from '../protocol';
import type { Caller, ListPage } from '../service';
import type { MemberRecord, ReadTarget, Storage } from '../storage/types';

export interface GroupReadReceipt {
  messageId: string;
  readCount: number;
  unreadCount: number;
}

/** Members of a read-members page, like a list page: 1-500, default 100. */
const PAGE_DEFAULT = 100;
const PAGE_MAX = 500;

/** Opaque to clients: the last userId of the page. */
function writeCursor(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url');
}

function readCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const userId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ID_PATTERN.test(userId) || writeCursor(userId) !== cursor) {
    throw new ApiError(Code.INVALID_ARGUMENT, 'cursor: not a cursor from a previous page (pass nextCursor as it was returned)');
  }
  return userId;
}

/**
 * Group read receipts (docs/protocol.md, "Group read receipts"): who of a group has read a message,
 * from the members' read positions, which read receipts (status 2), markConversationRead and one's
 * own sends already move. Nothing is stored per message or per reader.
 */
export class GroupReceipts {
  constructor(private readonly storage: Storage) {}

  /**
   * The asked messages, each once, in the order given. Members only (40300); a message that is not
   * one of this group's (another conversation's, an event row, or unknown) or that the caller cannot
   * see (sent before they joined) is 40400, whether it exists or not.
   */
  private async targets(caller: Caller, groupId: string, messageIds: string[]): Promise<ReadTarget[]> {
    // A member's row is proof enough that the group exists (dismissing deletes them); only a
    // non-member pays for telling "no such group" from "not yours".
    const joinedSeq = await this.storage.joinedSeq(caller.appId, groupId, caller.userId);
    if (joinedSeq === undefined) {
      if (!(await this.storage.getGroup(caller.appId, groupId))) throw new ApiError(Code.NOT_FOUND, `group ${groupId} not found`);
      throw new ApiError(Code.FORBIDDEN, `forbidden: you are not a member of group ${groupId}`);
    }
    const found = new Map((await this.storage.groupReadTargets(caller.appId, groupId, messageIds)).filter((t) => t.seq > joinedSeq).map((t) => [t.messageId, t]));
    const missing = messageIds.filter((id) => !found.has(id));
    if (missing.length) throw new ApiError(Code.NOT_FOUND, `messages not found in group ${groupId}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
    return messageIds.map((id) => found.get(id)!);
  }

  /** Read and unread counts of up to 100 messages (a repeated id answered once). */
  async counts(caller: Caller, groupId: string, messageIds: string[]): Promise<GroupReadReceipt[]> {
    const ids = [...new Set(messageIds)];
    if (!ids.length || ids.length > LIMITS.READ_RECEIPT_IDS_MAX) {
      throw new ApiError(Code.INVALID_ARGUMENT, `messageIds: 1 to ${LIMITS.READ_RECEIPT_IDS_MAX} message ids`);
    }
    const targets = await this.targets(caller, groupId, ids);
    const counts = await this.storage.groupReadCounts(caller.appId, groupId, targets);
    return targets.map((t, i) => ({ messageId: t.messageId, readCount: counts[i]!.readCount, unreadCount: counts[i]!.unreadCount }));
  }

  /** One page of the members who have read the message (`read`) or not yet (`unread`), by userId. */
  async members(caller: Caller, groupId: string, messageId: string, filter: 'read' | 'unread', q: { limit?: number; cursor?: string }): Promise<ListPage<MemberRecord>> {
    const limit = q.limit ?? PAGE_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) throw new ApiError(Code.INVALID_ARGUMENT, `limit must be an integer from 1 to ${PAGE_MAX}`);
    const after = readCursor(q.cursor);
    const [target] = await this.targets(caller, groupId, [messageId]);
    const page = await this.storage.groupReadMembers(caller.appId, groupId, target!, filter, { after, limit });
    const last = page.items[page.items.length - 1];
    return { items: page.items, nextCursor: page.hasMore && last ? writeCursor(last.userId) : null };
  }
}
