import { randomBytes } from 'node:crypto';
import { ApiError, Code } from '../errors';
import { GROUP_NOTICE_MSG_TYPE, LIMITS, groupConvId, privateConvId } from '../protocol';
import type { ConversationRecord, GroupRecord, MemberRecord, Storage, StoredMessage, UserPatch, UserRecord } from '../storage/types';
import { checkText, withinBytes, type ImService, type ListPage, type Notifier } from '../service';
import { SYSTEM_ACCOUNT, isSystemAccount, requireClientUserId } from './system-accounts';

/**
 * What an app's own backend (and the admin console) does through the server REST API
 * (docs/protocol.md section 8), acting as the app rather than as a user: find users and their
 * sessions on every node, import, disable and enable users, read any conversation, send as any
 * user or as a system account, revoke any message, dismiss any group. Each goes through the
 * paths the users' own actions take (the send's checks, webhooks and group commit; the revoke
 * event; the kick on disable), with the app's rights in place of a member's.
 */

/** A connected socket as the server API lists it (the gateway reads them on every node). */
export interface LiveSession {
  id: string;
  /** What the client said it runs on (the SDK sends its adapter's name: web, weapp, …), or "unknown". */
  platform: string;
  connectedAt: number;
  /** The node holding the socket. */
  node: string;
}

/** Page sizes of the server API's lists. */
export const ADMIN_LIST = { DEFAULT: 50, MAX: 200 } as const;
/** Users in one import. */
export const IMPORT_MAX = 1000;
const HISTORY_DEFAULT = 20;

export interface AdminListQuery {
  limit: number;
  cursor?: string;
  query?: string;
}

export interface AdminUser {
  userId: string;
  userName: string;
  userImg: string;
  companyName: string;
  imRole: UserRecord['imRole'];
  valid: boolean;
  online: boolean;
  sessions: number;
}

export interface AdminGroup {
  groupId: string;
  groupName: string;
  ownerId: string;
  memberCount: number;
  createdAt: number;
}

export interface AdminSend {
  /** Omitted: the system account @system. An "@" id: that system account. */
  from?: string;
  chatType: 0 | 1;
  to: string;
  msgType?: number;
  content: string;
  data?: unknown;
  /** Makes a retried call idempotent, as a client's send is; generated when omitted. */
  clientMsgId?: string;
}

export interface ImportedUser {
  userId: string;
  userName?: string;
  userImg?: string;
  companyName?: string;
  imRole?: UserRecord['imRole'];
}

/** Opaque to callers: the last id of the page. */
function writeIdCursor(id: string): string {
  return Buffer.from(JSON.stringify({ after: id }), 'utf8').toString('base64url');
}

function readIdCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const after = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
    if (typeof after === 'string' && after.length <= 64) return after;
  } catch {
    // fall through
  }
  throw new ApiError(Code.INVALID_ARGUMENT, 'cursor: not a cursor from a previous page (pass nextCursor as it was returned)');
}

function page<T>(items: T[], hasMore: boolean, idOf: (item: T) => string): ListPage<T> {
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? writeIdCursor(idOf(last)) : null };
}

function adminGroup(g: GroupRecord): AdminGroup {
  return { groupId: g.groupId, groupName: g.name, ownerId: g.ownerId, memberCount: g.memberCount, createdAt: g.createdAt };
}

export class AppAdmin {
  constructor(
    private readonly service: ImService,
    private readonly storage: Storage,
    private readonly notifier: Notifier,
    /** Messages as they leave the server (signed URLs, reply previews, revoked flag). */
    private readonly present: (appId: string, messages: StoredMessage[]) => Promise<StoredMessage[]>,
  ) {}

  // ------------------------------------------------------------- users

  /** A page of the app's users by id, each with its live sessions on every node. */
  async users(appId: string, q: AdminListQuery): Promise<ListPage<AdminUser>> {
    const found = await this.storage.searchUsers(appId, { query: q.query, after: readIdCursor(q.cursor), limit: q.limit });
    const live = await this.notifier.liveSessions(appId, found.items.map((u) => u.userId));
    const items = found.items.map((u) => {
      const sessions = live.get(u.userId)?.length ?? 0;
      return { userId: u.userId, userName: u.userName, userImg: u.userImg, companyName: u.companyName, imRole: u.imRole, valid: u.valid, online: sessions > 0, sessions };
    });
    return page(items, found.hasMore, (u) => u.userId);
  }

  /** One user with the sockets they have open, on whichever node. */
  async user(appId: string, userId: string): Promise<UserRecord & { online: boolean; sessionList: LiveSession[] }> {
    const user = await this.existing(appId, userId);
    const sessionList = (await this.notifier.liveSessions(appId, [userId])).get(userId) ?? [];
    return { ...user, online: sessionList.length > 0, sessionList };
  }

  /** Disables a user: their sessions are kicked on every node and their tokens refused from now on. */
  async disable(appId: string, userId: string): Promise<{ userId: string; valid: false; kicked: number }> {
    requireClientUserId('userId', userId);
    await this.existing(appId, userId);
    const kicked = (await this.notifier.liveSessions(appId, [userId])).get(userId)?.length ?? 0;
    await this.service.updateUser(appId, userId, { valid: false });
    return { userId, valid: false, kicked };
  }

  async enable(appId: string, userId: string): Promise<{ userId: string; valid: true }> {
    requireClientUserId('userId', userId);
    await this.existing(appId, userId);
    await this.service.updateUser(appId, userId, { valid: true });
    return { userId, valid: true };
  }

  /**
   * Creates or updates up to IMPORT_MAX users in one transaction; each changes only the fields it
   * names (a disabled user stays disabled). The same id twice: the last one counts.
   */
  async importUsers(appId: string, users: ImportedUser[]): Promise<{ count: number }> {
    if (users.length < 1 || users.length > IMPORT_MAX) throw new ApiError(Code.INVALID_ARGUMENT, `users: from 1 to ${IMPORT_MAX} users per import`);
    const byId = new Map<string, UserPatch>();
    users.forEach((u, i) => {
      requireClientUserId(`users[${i}].userId`, u.userId);
      for (const field of ['userName', 'userImg', 'companyName'] as const) checkText(`users[${i}].${field}`, u[field]);
      const { userId, ...patch } = u;
      byId.delete(userId);
      byId.set(userId, patch);
    });
    // In id order: two imports sharing users then take their rows' locks in the same order.
    const sorted = [...byId].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([userId, patch]) => ({ userId, patch }));
    await this.storage.upsertUsers(appId, sorted);
    return { count: sorted.length };
  }

  /** The user's conversation list, as GET /api/conversations shows it to them. */
  async conversations(appId: string, userId: string, q: { limit: number; cursor?: string }): Promise<ListPage<ConversationRecord>> {
    await this.existing(appId, userId);
    return this.service.convs.list({ appId, userId }, q);
  }

  // ------------------------------------------------------------- groups

  async groups(appId: string, q: AdminListQuery): Promise<ListPage<AdminGroup>> {
    const found = await this.storage.listGroupsOfApp(appId, { query: q.query, after: readIdCursor(q.cursor), limit: q.limit });
    return page(found.items.map(adminGroup), found.hasMore, (g) => g.groupId);
  }

  async group(appId: string, groupId: string): Promise<AdminGroup & { description: string; announcement: string; avatar: string; muteAll: boolean }> {
    const g = await this.liveGroup(appId, groupId);
    return { ...adminGroup(g), description: g.description, announcement: g.announcement, avatar: g.avatar, muteAll: g.muteAll };
  }

  async members(appId: string, groupId: string, q: { limit: number; cursor?: string }): Promise<ListPage<Pick<MemberRecord, 'userId' | 'userName' | 'role' | 'joinedAt' | 'mutedUntil'>>> {
    await this.liveGroup(appId, groupId);
    const found = await this.storage.membersPage(appId, groupId, { after: readIdCursor(q.cursor), limit: q.limit });
    const items = found.items.map((m) => ({ userId: m.userId, userName: m.userName, role: m.role, joinedAt: m.joinedAt, mutedUntil: m.mutedUntil }));
    return page(items, found.hasMore, (m) => m.userId);
  }

  async dismiss(appId: string, groupId: string): Promise<{ groupId: string; dismissed: true }> {
    await this.liveGroup(appId, groupId);
    await this.system(appId);
    await this.service.endGroup(appId, groupId, SYSTEM_ACCOUNT.userId);
    return { groupId, dismissed: true };
  }

  // ------------------------------------------------------------- messages

  /** A group's messages before `beforeSeq` (default: the newest), oldest first; also of a dismissed group. */
  async groupHistory(appId: string, groupId: string, q: { beforeSeq?: number; limit?: number }, maxBytes: number): Promise<StoredMessage[]> {
    if (!(await this.storage.groupIdTaken(appId, groupId))) throw new ApiError(Code.NOT_FOUND, `group ${groupId} not found`);
    return this.history(appId, groupConvId(groupId), q, maxBytes);
  }

  async privateHistory(appId: string, userA: string, userB: string, q: { beforeSeq?: number; limit?: number }, maxBytes: number): Promise<StoredMessage[]> {
    const missing = await this.storage.missingUsers(appId, [...new Set([userA, userB])]);
    if (missing.length) throw new ApiError(Code.NOT_FOUND, `user ${missing[0]} not found`);
    return this.history(appId, privateConvId(userA, userB), q, maxBytes);
  }

  private async history(appId: string, convId: string, q: { beforeSeq?: number; limit?: number }, maxBytes: number): Promise<StoredMessage[]> {
    const limit = Math.min(q.limit ?? HISTORY_DEFAULT, LIMITS.HISTORY_MAX);
    if (limit < 1) throw new ApiError(Code.INVALID_ARGUMENT, `limit must be an integer from 1 to ${LIMITS.HISTORY_MAX}`);
    const rows = await this.storage.history(appId, convId, 'BACK', q.beforeSeq ?? 0, limit);
    return this.present(appId, withinBytes(rows, maxBytes, true).messages);
  }

  /**
   * Sends as user `from` (who must exist and be enabled; the group rules apply to them as to
   * their own sends) or as a system account, which may send to any group of the app. The normal
   * send path: beforeSend, the group commit, afterSend; then out to every online recipient.
   */
  async send(appId: string, input: AdminSend): Promise<StoredMessage> {
    const from = input.from ?? SYSTEM_ACCOUNT.userId;
    const system = isSystemAccount(from);
    if (system && from.length < 2) throw new ApiError(Code.INVALID_ARGUMENT, 'from: a system account is "@" and a name, e.g. "@system" or "@notice"');
    if (system) await this.system(appId, from);
    else {
      const sender = await this.storage.getUser(appId, from);
      if (!sender) throw new ApiError(Code.NOT_FOUND, `from: user ${from} not found`);
      if (!sender.valid) throw new ApiError(Code.USER_DISABLED, `from: user ${from} is disabled (valid: false)`);
    }
    const clientMsgId = input.clientMsgId ?? `srv-${Date.now().toString(36)}-${randomBytes(9).toString('base64url')}`;
    const send = { clientMsgId, chatType: input.chatType, to: input.to, content: input.content, msgType: input.msgType, data: input.data };
    const result = await this.service.send({ appId, userId: from }, send, system ? 'system' : 'user');
    this.notifier.messageStored(appId, result);
    return result.message;
  }

  /**
   * Revokes any message of the app, at any age: content and data are wiped and the revoke event
   * reaches the conversation's clients as a sender's revoke does. Group notices are the record of
   * what happened and stay; a message revoked already answers the same.
   */
  async revoke(appId: string, messageId: string): Promise<{ messageId: string; revoked: true }> {
    const message = await this.storage.getMessage(appId, messageId);
    if (!message || message.event) throw new ApiError(Code.NOT_FOUND, `message ${messageId} not found`);
    if (message.msgType === GROUP_NOTICE_MSG_TYPE) throw new ApiError(Code.FORBIDDEN, 'forbidden: group notifications cannot be revoked');
    if (message.revokedAt !== undefined) return { messageId, revoked: true };
    const by = await this.system(appId);
    const recipients = message.chatType === 0 ? [...new Set([message.from, message.to])] : [];
    const stored = await this.storage.applyMessageEvent(appId, { kind: 'revoke', target: message, by: by.userId, byName: by.userName, recipients });
    // Null: revoked meanwhile, by someone whose event went out already.
    if (!stored) return { messageId, revoked: true };
    const [event] = await this.present(appId, [stored.message]);
    const members = message.chatType === 1 ? await this.storage.memberIds(appId, message.to) : undefined;
    this.notifier.messageStored(appId, { ...stored, message: event!, ...(members ? { members } : {}) });
    return { messageId, revoked: true };
  }

  // ------------------------------------------------------------- helpers

  private async existing(appId: string, userId: string): Promise<UserRecord> {
    const user = await this.storage.getUser(appId, userId);
    if (!user) throw new ApiError(Code.NOT_FOUND, `user ${userId} not found`);
    return user;
  }

  private async liveGroup(appId: string, groupId: string): Promise<GroupRecord> {
    const group = await this.storage.getGroup(appId, groupId);
    if (!group) throw new ApiError(Code.NOT_FOUND, `group ${groupId} not found`);
    return group;
  }

  /** The system account's user record, made on first use (a message's sender must be a user). */
  private async system(appId: string, userId: string = SYSTEM_ACCOUNT.userId): Promise<UserRecord> {
    const existing = await this.storage.getUser(appId, userId);
    if (existing) return existing;
    return this.storage.upsertUser(appId, userId, { userName: userId === SYSTEM_ACCOUNT.userId ? SYSTEM_ACCOUNT.userName : userId.slice(1) });
  }
}
