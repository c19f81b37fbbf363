import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mintToken } from './auth';
import { ApiError, Code } from './errors';
import type { GroupRecord, MemberRecord, SendResult, Storage, StoredMessage, UserPatch, UserRecord } from './storage/types';
import { groupConvId, privateConvId } from './storage/types';

export const LIMITS = {
  CONTENT_BYTES: 32768,
  DATA_BYTES: 32768,
  DATA_DEPTH: 16,
  HISTORY_MAX: 100,
  SYNC_MAX: 500,
  ID_LIST_MAX: 500,
};

/** What the realtime layer must do when the service changes something users should hear about. */
export interface Notifier {
  groupChanged(appId: string, userIds: string[], change: { groupId: string; action: string; userIds: string[]; by: string; timestamp: number }): void;
  userDisabled(appId: string, userId: string): void;
}

export interface Caller {
  appId: string;
  userId: string;
}

export interface Group extends GroupRecord {
  id: string;
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function depthOf(value: unknown, depth = 0): number {
  if (depth > LIMITS.DATA_DEPTH || value === null || typeof value !== 'object') return depth;
  let max = depth;
  for (const v of Object.values(value as Record<string, unknown>)) {
    max = Math.max(max, depthOf(v, depth + 1));
    if (max > LIMITS.DATA_DEPTH) break;
  }
  return max;
}

/** The rules of the IM domain, shared by the HTTP API and the socket gateway. */
export class ImService {
  constructor(
    readonly storage: Storage,
    private readonly tokenTtl: number,
    private readonly notifier: Notifier,
  ) {}

  // ------------------------------------------------------------- apps and users

  checkApp(appId: string, appSecret: string): void {
    const app = this.storage.getApp(appId);
    // Same answer for an unknown app and a wrong secret: no probing for app ids.
    if (!app || !sameSecret(app.appSecret, appSecret)) throw new ApiError(Code.APP_CREDENTIALS_INVALID, 'app credentials invalid: check appId and appSecret');
  }

  issueToken(appId: string, appSecret: string, userId: string, userName?: string): { token: string; userId: string; expiresAt: number } {
    this.checkApp(appId, appSecret);
    const existing = this.storage.getUser(appId, userId);
    if (existing && !existing.valid) throw new ApiError(Code.USER_DISABLED, `user ${userId} is disabled (valid: false)`);
    const user = !existing || (userName !== undefined && userName !== existing.userName) ? this.storage.upsertUser(appId, userId, userName === undefined ? {} : { userName }) : existing;
    const token = mintToken({ appId, appSecret, userId, userName: user.userName, ttlSeconds: this.tokenTtl });
    return { token, userId, expiresAt: (Math.floor(Date.now() / 1000) + this.tokenTtl) * 1000 };
  }

  registerUser(appId: string, appSecret: string, userId: string, patch: UserPatch): UserRecord {
    this.checkApp(appId, appSecret);
    const user = this.storage.upsertUser(appId, userId, patch);
    if (patch.valid === false) this.notifier.userDisabled(appId, userId);
    return user;
  }

  activeUser(appId: string, userId: string): UserRecord {
    const user = this.storage.getUser(appId, userId);
    if (!user) throw new ApiError(Code.TOKEN_INVALID, `token invalid: user ${userId} does not exist in app ${appId}`);
    if (!user.valid) throw new ApiError(Code.USER_DISABLED, `user ${userId} is disabled (valid: false)`);
    return user;
  }

  getUser(caller: Caller, userId: string): UserRecord {
    const user = this.storage.getUser(caller.appId, userId);
    if (!user) throw new ApiError(Code.NOT_FOUND, `user ${userId} not found`);
    return user;
  }

  // ------------------------------------------------------------- groups

  private group(caller: Caller, groupId: string): GroupRecord {
    const group = this.storage.getGroup(caller.appId, groupId);
    if (!group) throw new ApiError(Code.NOT_FOUND, `group ${groupId} not found`);
    return group;
  }

  private memberGroup(caller: Caller, groupId: string): GroupRecord {
    const group = this.group(caller, groupId);
    if (!this.storage.isMember(caller.appId, groupId, caller.userId)) {
      throw new ApiError(Code.FORBIDDEN, `forbidden: you are not a member of group ${groupId}`);
    }
    return group;
  }

  private ownedGroup(caller: Caller, groupId: string): GroupRecord {
    const group = this.memberGroup(caller, groupId);
    if (group.ownerId !== caller.userId) throw new ApiError(Code.FORBIDDEN, `forbidden: only the owner of group ${groupId} can do this`);
    return group;
  }

  private requireUsers(caller: Caller, ids: string[]): void {
    const missing = this.storage.missingUsers(caller.appId, ids);
    if (missing.length) throw new ApiError(Code.NOT_FOUND, `unknown users: ${missing.slice(0, 20).join(', ')}`);
  }

  private notifyGroup(caller: Caller, groupId: string, action: string, userIds: string[], extra: string[] = []): void {
    const members = this.storage.members(caller.appId, groupId).map((m) => m.userId);
    this.notifier.groupChanged(caller.appId, [...new Set([...members, ...extra])], { groupId, action, userIds, by: caller.userId, timestamp: Date.now() });
  }

  createGroup(caller: Caller, input: { name: string; description?: string; userIdList?: string[]; groupId?: string }): Group {
    if (input.name.trim() === '') throw new ApiError(Code.INVALID_ARGUMENT, 'name: must contain a visible character');
    const members = [...new Set(input.userIdList ?? [])].filter((id) => id !== caller.userId);
    this.requireUsers(caller, members);
    const groupId = input.groupId ?? `g_${randomBytes(12).toString('base64url').slice(0, 16)}`;
    if (this.storage.groupIdTaken(caller.appId, groupId)) {
      throw new ApiError(Code.CONFLICT, `group id ${groupId} is already taken`);
    }
    const group = this.storage.createGroup(caller.appId, { groupId, name: input.name, description: input.description ?? '', ownerId: caller.userId }, members);
    this.notifyGroup(caller, groupId, 'created', [caller.userId, ...members]);
    return withId(group);
  }

  listGroups(caller: Caller): Group[] {
    return this.storage.listGroupsOf(caller.appId, caller.userId).map(withId);
  }

  groupInfo(caller: Caller, groupId: string): Group {
    return withId(this.memberGroup(caller, groupId));
  }

  groupMembers(caller: Caller, groupId: string): MemberRecord[] {
    this.memberGroup(caller, groupId);
    return this.storage.members(caller.appId, groupId);
  }

  addMembers(caller: Caller, groupId: string, userIds: string[]): MemberRecord[] {
    this.memberGroup(caller, groupId);
    const ids = [...new Set(userIds)];
    this.requireUsers(caller, ids);
    const added = this.storage.addMembers(caller.appId, groupId, ids);
    if (added.length) this.notifyGroup(caller, groupId, 'members_added', added);
    return this.storage.members(caller.appId, groupId);
  }

  removeMember(caller: Caller, groupId: string, userId: string): MemberRecord[] {
    const group = this.ownedGroup(caller, groupId);
    if (userId === group.ownerId) throw new ApiError(Code.FORBIDDEN, 'forbidden: the owner cannot be removed; dismiss the group instead');
    if (!this.storage.removeMember(caller.appId, groupId, userId)) throw new ApiError(Code.NOT_FOUND, `user ${userId} is not a member of group ${groupId}`);
    this.notifyGroup(caller, groupId, 'member_removed', [userId], [userId]);
    return this.storage.members(caller.appId, groupId);
  }

  leaveGroup(caller: Caller, groupId: string): { groupId: string } {
    const group = this.memberGroup(caller, groupId);
    if (group.ownerId === caller.userId) throw new ApiError(Code.FORBIDDEN, 'forbidden: the owner cannot leave; dismiss the group instead');
    this.storage.removeMember(caller.appId, groupId, caller.userId);
    this.notifyGroup(caller, groupId, 'member_left', [caller.userId], [caller.userId]);
    return { groupId };
  }

  dismissGroup(caller: Caller, groupId: string): { groupId: string } {
    this.ownedGroup(caller, groupId);
    const members = this.storage.members(caller.appId, groupId).map((m) => m.userId);
    this.storage.dismissGroup(caller.appId, groupId);
    this.notifier.groupChanged(caller.appId, members, { groupId, action: 'dismissed', userIds: members, by: caller.userId, timestamp: Date.now() });
    return { groupId };
  }

  // ------------------------------------------------------------- messages

  send(caller: Caller, input: { clientMsgId: string; chatType: 0 | 1; to: string; content: string; msgType?: number; data?: unknown }): SendResult {
    const msgType = input.msgType ?? 0;
    if (Buffer.byteLength(input.content, 'utf8') > LIMITS.CONTENT_BYTES) {
      throw new ApiError(Code.PAYLOAD_TOO_LARGE, `content is over ${LIMITS.CONTENT_BYTES} bytes of UTF-8`);
    }
    if (msgType === 0 && input.content.trim().length === 0) throw new ApiError(Code.INVALID_ARGUMENT, 'content: a text message (msgType 0) needs some text');
    // An unpaired UTF-16 surrogate has no UTF-8 form: SQLite would store U+FFFD instead, so the ack
    // and live copy would differ from history and sync, and an idempotent resend after a lost ack
    // would be refused 40900 although the message was stored (test/reliability/security.test.ts).
    if (UNPAIRED_SURROGATE.test(input.content)) throw new ApiError(Code.INVALID_ARGUMENT, 'content: must be valid Unicode text (it contains an unpaired surrogate)');
    const data = input.data === undefined ? null : input.data;
    if (data !== null) {
      if (typeof data !== 'object' && typeof data !== 'string') throw new ApiError(Code.INVALID_ARGUMENT, 'data: must be a JSON object, array, string or null');
      // Depth first: serialising a pathologically deep value could exhaust the stack.
      if (depthOf(data) > LIMITS.DATA_DEPTH) throw new ApiError(Code.INVALID_ARGUMENT, `data: nesting deeper than ${LIMITS.DATA_DEPTH} levels`);
      if (Buffer.byteLength(JSON.stringify(data), 'utf8') > LIMITS.DATA_BYTES) throw new ApiError(Code.PAYLOAD_TOO_LARGE, `data is over ${LIMITS.DATA_BYTES} bytes as JSON`);
    }
    const sender = this.activeUser(caller.appId, caller.userId);

    // Idempotency first: a retry of something already stored must succeed even if, say, the
    // sender has since left the group.
    const existing = this.storage.findByClientId(caller.appId, caller.userId, input.clientMsgId);
    if (existing) {
      const { senderInboxSeq, ...message } = existing;
      if (message.content !== input.content || message.chatType !== input.chatType || message.to !== input.to || message.msgType !== msgType) {
        throw new ApiError(Code.CONFLICT, `clientMsgId ${input.clientMsgId} was already used for a different message`);
      }
      return { message, senderInboxSeq, deliveries: [], duplicate: true };
    }

    let recipients: string[];
    if (input.chatType === 1) {
      this.memberGroup(caller, input.to);
      recipients = this.storage.memberIds(caller.appId, input.to);
    } else {
      const peer = this.storage.getUser(caller.appId, input.to);
      if (!peer) throw new ApiError(Code.NOT_FOUND, `recipient ${input.to} not found`);
      recipients = [caller.userId, input.to];
    }
    return this.storage.sendMessage(
      caller.appId,
      { clientMsgId: input.clientMsgId, from: caller.userId, fromName: sender.userName, to: input.to, chatType: input.chatType, msgType, content: input.content, data },
      recipients,
    );
  }

  sync(caller: Caller, afterInboxSeq: number, limit: number): { messages: StoredMessage[]; hasMore: boolean; latestInboxSeq: number } {
    const capped = Math.min(Math.max(limit, 1), LIMITS.SYNC_MAX);
    const rows = this.storage.inboxAfter(caller.appId, caller.userId, afterInboxSeq, capped + 1);
    return { messages: rows.slice(0, capped), hasMore: rows.length > capped, latestInboxSeq: this.storage.latestInboxSeq(caller.appId, caller.userId) };
  }

  groupHistory(caller: Caller, groupId: string, q: HistoryQuery): StoredMessage[] {
    this.memberGroup(caller, groupId);
    return this.storage.history(caller.appId, groupConvId(groupId), q.syncType, q.msgSeqId, Math.min(q.limitSize, LIMITS.HISTORY_MAX));
  }

  privateHistory(caller: Caller, peerId: string, q: HistoryQuery): StoredMessage[] {
    return this.storage.history(caller.appId, privateConvId(caller.userId, peerId), q.syncType, q.msgSeqId, Math.min(q.limitSize, LIMITS.HISTORY_MAX));
  }

  /** Validates a receipt; returns the original sender and what to tell them. */
  receipt(caller: Caller, messageId: string, status: 1 | 2, to?: string): { senderId: string; payload: Record<string, unknown> } {
    const message = this.storage.getMessage(caller.appId, messageId);
    if (!message) throw new ApiError(Code.NOT_FOUND, `message ${messageId} not found`);
    if (to !== undefined && to !== message.from) throw new ApiError(Code.INVALID_ARGUMENT, `to: message ${messageId} was sent by ${message.from}, not ${to}`);
    if (message.from === caller.userId) throw new ApiError(Code.FORBIDDEN, 'forbidden: you cannot send a receipt for your own message');
    const convId = message.chatType === 1 ? groupConvId(message.to) : privateConvId(message.from, message.to);
    if (message.chatType === 1) {
      if (!this.storage.isMember(caller.appId, message.to, caller.userId)) throw new ApiError(Code.FORBIDDEN, 'forbidden: you are not a member of that group');
    } else if (message.to !== caller.userId) {
      throw new ApiError(Code.FORBIDDEN, 'forbidden: that message was not sent to you');
    }
    if (status === 2) this.storage.markRead(caller.appId, caller.userId, convId, message.seq);
    return {
      senderId: message.from,
      payload: { messageId, status, from: caller.userId, to: message.chatType === 1 ? message.to : caller.userId, chatType: message.chatType, seq: message.seq, timestamp: Date.now() },
    };
  }

  conversations(caller: Caller) {
    return this.storage.conversations(caller.appId, caller.userId);
  }

  markRead(caller: Caller, chatType: 0 | 1, targetId: string, seq?: number) {
    if (chatType === 1) this.memberGroup(caller, targetId);
    const convId = chatType === 1 ? groupConvId(targetId) : privateConvId(caller.userId, targetId);
    const { readSeq, unreadCount } = this.storage.markRead(caller.appId, caller.userId, convId, seq);
    return { conversationId: `${chatType}:${targetId}`, readSeq, unreadCount };
  }
}

export interface HistoryQuery {
  limitSize: number;
  msgSeqId: number;
  syncType: 'BACK' | 'FORWARD';
}

/** Constant-time comparison (of digests, so differing lengths leak nothing either). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

function withId(group: GroupRecord): Group {
  return { id: group.groupId, ...group };
}
