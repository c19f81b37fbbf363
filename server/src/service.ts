import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mintToken, verifyToken, type TokenClaims } from './auth';
import { ApiError, Code } from './errors';
import type { Metrics } from './observability/metrics';
import type { ConversationRecord, GroupRecord, GroupState, ListCursor, MemberRecord, NewMessage, Outbox, SendOutcome, SendRequest, SendResult, Storage, StoredMessage, UserPatch, UserRecord } from './storage/types';
import type { FileService } from './files/file-service';
import type { Webhooks } from './webhooks/webhooks';
import { KIND_OF_MSG_TYPE, isMedia } from './files/kinds';
import { ConversationService, type ConversationChange } from './conversations';
import { GroupAdmin, outranks, sendRefusal, underGuard, type GroupChangeEvent } from './domain/group-admin';
import { requireClientUserId } from './domain/system-accounts';
import { AppAdmin, type LiveSession } from './domain/admin';
import { GROUP_NOTICE_MSG_TYPE, LIMITS, dataDepth, dataHasNul, groupConvId, hasNul, hasUnpairedSurrogate, hasVisibleText, privateConvId } from './protocol';

export { LIMITS };

/** What the realtime layer must do when the service changes something users should hear about. */
export interface Notifier {
  groupChanged(appId: string, userIds: string[], change: GroupChangeEvent): void;
  /** A group notice (msgType 1001, stored) to the members online, like a group message. */
  groupNotice(appId: string, members: readonly string[], message: StoredMessage): void;
  userDisabled(appId: string, userId: string): void;
  /** A conversation of the user changed (read, pinned, muted, deleted): to all of their devices. */
  conversationChanged(appId: string, userId: string, change: ConversationChange): void;
  /** A message (or event row) the server API stored, with no sending socket: to every online recipient's devices. */
  messageStored(appId: string, result: SendResult): void;
  /** The connected sockets of these users on every node (the server API's session lists). */
  liveSessions(appId: string, userIds: string[]): Promise<Map<string, LiveSession[]>>;
}

export interface Caller {
  appId: string;
  userId: string;
}

/** What a send looks like before it is checked (a chat:send payload, or the server API's). */
export type SendInput = Parameters<ImService['prepareSend']>[1];

export interface Group extends GroupRecord {
  id: string;
}

export { hasVisibleText };

/** Binary (a Socket.IO attachment arrives as a Buffer) would be stored as {"type":"Buffer",...}. */
function hasBinary(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > LIMITS.DATA_DEPTH) return false;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  return Object.values(value as Record<string, unknown>).some((v) => hasBinary(v, depth + 1));
}

/**
 * A group message's mentions: members only (each once); `'all'` for the group's owner and admins.
 * Refusals are 40000 / 40300.
 */
function checkMentions(mentions: string[] | 'all', isStaff: boolean, members: readonly string[]): string[] | 'all' {
  if (mentions === 'all') {
    if (!isStaff) throw new ApiError(Code.FORBIDDEN, "forbidden: only the group's owner and admins may mention everyone");
    return 'all';
  }
  const set = new Set(members);
  const unique = [...new Set(mentions)];
  const strangers = unique.filter((id) => !set.has(id));
  if (strangers.length) throw new ApiError(Code.INVALID_ARGUMENT, `mentions: not members of the group: ${strangers.slice(0, 5).join(', ')}`);
  return unique;
}

/** Characters of the original a reply's preview keeps (whole code points). */
const REPLY_PREVIEW_CHARS = 100;

function previewOf(content: string): string {
  const chars = Array.from(content);
  return chars.length > REPLY_PREVIEW_CHARS ? `${chars.slice(0, REPLY_PREVIEW_CHARS).join('')}…` : content;
}

/** A message's or signal's `data`, checked (null when absent); refusals are ApiErrors. */
export function checkData(value: unknown): unknown {
  const data = value === undefined ? null : value;
  if (data === null) return null;
  if (typeof data !== 'object' && typeof data !== 'string') throw new ApiError(Code.INVALID_ARGUMENT, 'data: must be a JSON object, array, string or null');
  if (hasBinary(data)) throw new ApiError(Code.INVALID_ARGUMENT, 'data: binary values are not allowed; upload the bytes as a file and send its URL');
  // Depth first: serialising a pathologically deep value could exhaust the stack.
  if (dataDepth(data) > LIMITS.DATA_DEPTH) throw new ApiError(Code.INVALID_ARGUMENT, `data: nesting deeper than ${LIMITS.DATA_DEPTH} levels`);
  if (dataHasNul(data)) throw new ApiError(Code.INVALID_ARGUMENT, 'data: keys and strings must not contain U+0000 (NUL)');
  if (Buffer.byteLength(JSON.stringify(data), 'utf8') > LIMITS.DATA_BYTES) throw new ApiError(Code.PAYLOAD_TOO_LARGE, `data is over ${LIMITS.DATA_BYTES} bytes as JSON`);
  return data;
}

/** A message's content, on a send and on an edit; refusals are ApiErrors. */
export function checkContent(msgType: number, content: string): void {
  if (Buffer.byteLength(content, 'utf8') > LIMITS.CONTENT_BYTES) {
    throw new ApiError(Code.PAYLOAD_TOO_LARGE, `content is over ${LIMITS.CONTENT_BYTES} bytes of UTF-8`);
  }
  if (msgType === 0 && !hasVisibleText(content)) throw new ApiError(Code.INVALID_ARGUMENT, 'content: a text message (msgType 0) needs some visible text');
  // An unpaired UTF-16 surrogate has no UTF-8 form: SQLite would store U+FFFD instead, so the ack
  // and live copy would differ from history and sync, and an idempotent resend after a lost ack
  // would be refused 40900 although the message was stored (test/reliability/security.test.ts).
  if (hasUnpairedSurrogate(content)) throw new ApiError(Code.INVALID_ARGUMENT, 'content: must be valid Unicode text (it contains an unpaired surrogate)');
  if (hasNul(content)) throw new ApiError(Code.INVALID_ARGUMENT, 'content: must not contain U+0000 (NUL), which no storage keeps byte-exact');
}

/** Names and other short texts are stored as given: refuse what has no UTF-8 form. */
export function checkText(field: string, value: string | undefined): void {
  if (value !== undefined && hasUnpairedSurrogate(value)) {
    throw new ApiError(Code.INVALID_ARGUMENT, `${field}: must be valid Unicode text (it contains an unpaired surrogate)`);
  }
  if (value !== undefined && hasNul(value)) throw new ApiError(Code.INVALID_ARGUMENT, `${field}: must not contain U+0000 (NUL)`);
}

export interface ServiceSettings {
  /** Lifetime of tokens this server mints, seconds. */
  tokenTtl: number;
  /** The longest lifetime a presented token may claim, seconds. */
  tokenMaxTtl: number;
  groupMaxMembers: number;
  /** Seconds a sender may revoke their message (default 120). */
  revokeWindow?: number;
  /** Seconds a sender may edit their message (default 86,400). */
  editWindow?: number;
  /** Counts the messages sends store (im_messages_stored_total). */
  metrics?: Pick<Metrics, 'messageStored'>;
}

/** Bytes a message adds to a reply, close to its JSON size without serialising its content. */
function replySize(m: StoredMessage): number {
  return 300 + Buffer.byteLength(m.content, 'utf8') + (m.data === null || m.data === undefined ? 0 : Buffer.byteLength(JSON.stringify(m.data), 'utf8'));
}

/**
 * The longest run of `messages` (from the start, or from the end when `fromEnd`) within
 * `maxBytes`; always at least one message, so a reader can page past any single message.
 */
export function withinBytes(messages: StoredMessage[], maxBytes: number, fromEnd = false): { messages: StoredMessage[]; bytes: number; cut: boolean } {
  let bytes = 0;
  let n = 0;
  for (; n < messages.length; n++) {
    const m = messages[fromEnd ? messages.length - 1 - n : n]!;
    const size = replySize(m);
    if (n > 0 && bytes + size > maxBytes) break;
    bytes += size;
  }
  const kept = fromEnd ? messages.slice(messages.length - n) : messages.slice(0, n);
  return { messages: kept, bytes, cut: n < messages.length };
}

/** Rows read from storage per step of a bounded read: reading past the byte limit costs at most this many. */
const READ_CHUNK = 32;

/**
 * Reads forward (`read(after, n)`: the n rows after position `after`; undefined for the start)
 * in small steps until `limit` messages or `maxBytes`, so a page of large messages never parses
 * hundreds of rows to send a dozen.
 */
async function readWithinBytes(
  limit: number,
  maxBytes: number,
  read: (after: number | undefined, n: number) => Promise<StoredMessage[]>,
  position: (m: StoredMessage) => number,
): Promise<{ messages: StoredMessage[]; hasMore: boolean; bytes: number }> {
  const messages: StoredMessage[] = [];
  let bytes = 0;
  let after: number | undefined;
  for (;;) {
    const want = Math.min(READ_CHUNK, limit - messages.length);
    const rows = await read(after, want + 1);
    for (const m of rows.slice(0, want)) {
      const size = replySize(m);
      if (messages.length > 0 && bytes + size > maxBytes) return { messages, hasMore: true, bytes };
      messages.push(m);
      bytes += size;
    }
    if (rows.length <= want) return { messages, hasMore: false, bytes };
    if (messages.length >= limit) return { messages, hasMore: true, bytes };
    after = position(messages[messages.length - 1]!);
  }
}

/** The rules of the IM domain, shared by the HTTP API and the socket gateway. */
export class ImService {
  constructor(
    readonly storage: Storage,
    private readonly settings: ServiceSettings,
    private readonly notifier: Notifier,
    /** Media: checks fileIds on send, signs URLs on the way out (none in unit setups). */
    private readonly files?: FileService,
  ) {
    this.groupAdmin = new GroupAdmin(storage, notifier);
    this.admin = new AppAdmin(this, storage, notifier, (appId, messages) => this.present(appId, messages));
    this.convs = new ConversationService(storage, notifier, (appId, messages) => this.present(appId, messages), async (caller, chatType, targetId) => {
      if (chatType === 1) return (await this.memberGroup(caller, targetId)).name;
      return (await this.getUser(caller, targetId)).userName;
    });
  }

  /** The conversation list, read positions and the user's settings of conversations (server/src/conversations.ts). */
  readonly convs: ConversationService;

  /** Roles, settings, mutes and group notices (server/src/domain/group-admin.ts). */
  readonly groupAdmin: GroupAdmin;

  /** What the app's backend does through the server REST API (server/src/domain/admin.ts). */
  readonly admin: AppAdmin;

  /** The app's backend in the message flow (server/src/webhooks); set by the server. */
  webhooks?: Webhooks;

  /**
   * The app's beforeSend check of a send, before it joins a batch: the send as it is to be stored
   * (maybe with the backend's replacement), or a REFUSED ApiError. Null: nothing to check.
   */
  screenSend(caller: Caller, input: SendInput): Promise<SendInput> | null {
    return this.webhooks?.screen(caller, input) ?? null;
  }

  /**
   * Messages as they leave the server: media fields get fresh signed URLs, a reply carries a
   * preview of the message it answers, and an event row (revoke, edit) the message it acted on,
   * each read now (so they show those messages as they are today).
   */
  private async present<M extends StoredMessage>(appId: string, messages: M[]): Promise<M[]> {
    const shown = await this.presentMessages(appId, messages);
    if (!shown.some((m) => m.event)) return shown;
    const ids = [...new Set(shown.flatMap((m) => (m.event && m.eventOf ? [m.eventOf] : [])))];
    const found = (await Promise.all(ids.map((id) => this.storage.getMessage(appId, id)))).filter((t): t is StoredMessage => !!t);
    const targets = new Map((await this.presentMessages(appId, found)).map((t) => [t.messageId, t]));
    return shown.map((m) => (m.event ? ({ ...m, target: targets.get(m.eventOf ?? '') ?? null } as M) : m));
  }

  /** False when `present` would return the message as it is. */
  private needsPresenting(m: StoredMessage): boolean {
    return m.event !== undefined || m.replyToId !== undefined || m.revokedAt !== undefined || (this.files !== undefined && isMedia(m));
  }

  private async presentMessages<M extends StoredMessage>(appId: string, messages: M[]): Promise<M[]> {
    const signed = this.files ? await this.files.present(appId, messages) : messages;
    const shown = signed.map((m) => (m.revokedAt !== undefined ? { ...m, revoked: true } : m));
    if (!shown.some((m) => m.replyToId)) return shown;
    const originals = new Map<string, StoredMessage | undefined>();
    for (const m of shown) if (m.replyToId && !originals.has(m.replyToId)) originals.set(m.replyToId, await this.storage.getMessage(appId, m.replyToId));
    return shown.map((m) => {
      if (!m.replyToId) return m;
      const { replyToId, ...rest } = m;
      const o = originals.get(replyToId);
      const replyTo = o
        ? { messageId: o.messageId, from: o.from, fromName: o.fromName, msgType: o.msgType, content: previewOf(o.content), ...(o.revokedAt !== undefined ? { revoked: true } : {}) }
        : { messageId: replyToId, from: '', fromName: '', msgType: 0, content: '' };
      return { ...rest, replyTo } as unknown as M;
    });
  }

  /** Checks a token (signature, app, lifetime cap); the claims are all the server trusts. */
  async verifyToken(token: unknown): Promise<TokenClaims> {
    return verifyToken((appId) => this.storage.getApp(appId), token, this.settings.tokenMaxTtl);
  }

  /** The newest position in the caller's inbox (for `session`). */
  async latestInboxSeq(caller: Caller): Promise<number> {
    return await this.storage.latestInboxSeq(caller.appId, caller.userId);
  }

  // ------------------------------------------------------------- apps and users

  async checkApp(appId: string, appSecret: string): Promise<void> {
    const app = await this.storage.getApp(appId);
    // Same answer for an unknown app and a wrong secret: no probing for app ids.
    if (!app || !sameSecret(app.appSecret, appSecret)) throw new ApiError(Code.APP_CREDENTIALS_INVALID, 'app credentials invalid: check appId and appSecret');
  }

  async issueToken(appId: string, appSecret: string, userId: string, userName?: string): Promise<{ token: string; userId: string; expiresAt: number }> {
    await this.checkApp(appId, appSecret);
    requireClientUserId('userId', userId);
    checkText('userName', userName);
    const existing = await this.storage.getUser(appId, userId);
    if (existing && !existing.valid) throw new ApiError(Code.USER_DISABLED, `user ${userId} is disabled (valid: false)`);
    const user = !existing || (userName !== undefined && userName !== existing.userName) ? await this.storage.upsertUser(appId, userId, userName === undefined ? {} : { userName }) : existing;
    const ttl = this.settings.tokenTtl;
    const token = mintToken({ appId, appSecret, userId, userName: user.userName, ttlSeconds: ttl });
    return { token, userId, expiresAt: (Math.floor(Date.now() / 1000) + ttl) * 1000 };
  }

  async registerUser(appId: string, appSecret: string, userId: string, patch: UserPatch): Promise<UserRecord> {
    await this.checkApp(appId, appSecret);
    requireClientUserId('userId', userId);
    return this.updateUser(appId, userId, patch);
  }

  /** Creates or changes a user of the app (credentials checked by the caller); disabling kicks every session. */
  async updateUser(appId: string, userId: string, patch: UserPatch): Promise<UserRecord> {
    checkText('userName', patch.userName);
    checkText('userImg', patch.userImg);
    checkText('companyName', patch.companyName);
    const user = await this.storage.upsertUser(appId, userId, patch);
    if (patch.valid === false) this.notifier.userDisabled(appId, userId);
    return user;
  }

  async activeUser(appId: string, userId: string): Promise<UserRecord> {
    const user = await this.storage.getUser(appId, userId);
    if (!user) throw new ApiError(Code.TOKEN_INVALID, `token invalid: user ${userId} does not exist in app ${appId}`);
    if (!user.valid) throw new ApiError(Code.USER_DISABLED, `user ${userId} is disabled (valid: false)`);
    return user;
  }

  async getUser(caller: Caller, userId: string): Promise<UserRecord> {
    const user = await this.storage.getUser(caller.appId, userId);
    if (!user) throw new ApiError(Code.NOT_FOUND, `user ${userId} not found`);
    return user;
  }

  // ------------------------------------------------------------- groups

  private async group(caller: Caller, groupId: string): Promise<GroupRecord> {
    const group = await this.storage.getGroup(caller.appId, groupId);
    if (!group) throw new ApiError(Code.NOT_FOUND, `group ${groupId} not found`);
    return group;
  }

  private async memberGroup(caller: Caller, groupId: string): Promise<GroupRecord> {
    const group = await this.group(caller, groupId);
    if (!await this.storage.isMember(caller.appId, groupId, caller.userId)) {
      throw new ApiError(Code.FORBIDDEN, `forbidden: you are not a member of group ${groupId}`);
    }
    return group;
  }

  private async ownedGroup(caller: Caller, groupId: string): Promise<GroupRecord> {
    const group = await this.memberGroup(caller, groupId);
    if (group.ownerId !== caller.userId) throw new ApiError(Code.FORBIDDEN, `forbidden: only the owner of group ${groupId} can do this`);
    return group;
  }

  /** IM_GROUP_MAX_MEMBERS: past it every message would reach more people than the server is sized for. */
  private checkGroupSize(current: number, adding: number): void {
    const max = this.settings.groupMaxMembers;
    if (current + adding > max) {
      throw new ApiError(Code.FORBIDDEN, `forbidden: a group has at most ${max} members (IM_GROUP_MAX_MEMBERS); it has ${current}, ${adding} more would be ${current + adding}`);
    }
  }

  private async requireUsers(caller: Caller, ids: string[]): Promise<void> {
    const missing = await this.storage.missingUsers(caller.appId, ids);
    if (missing.length) throw new ApiError(Code.NOT_FOUND, `unknown users: ${missing.slice(0, 20).join(', ')}`);
  }

  /** group:changed, and for all but `created` a notice in the group's history (a new group starts empty). */
  private async notifyGroup(caller: Caller, groupId: string, action: string, userIds: string[], extra: string[] = []): Promise<void> {
    await this.groupAdmin.changed(caller, groupId, action, userIds, { notice: action !== 'created', alsoTo: extra });
  }

  async createGroup(caller: Caller, input: { name: string; description?: string; userIdList?: string[]; groupId?: string }): Promise<Group> {
    if (!hasVisibleText(input.name)) throw new ApiError(Code.INVALID_ARGUMENT, 'name: must contain a visible character');
    checkText('name', input.name);
    checkText('description', input.description);
    const members = [...new Set(input.userIdList ?? [])].filter((id) => id !== caller.userId);
    this.checkGroupSize(0, members.length + 1);
    await this.requireUsers(caller, members);
    const groupId = input.groupId ?? `g_${randomBytes(12).toString('base64url').slice(0, 16)}`;
    if (await this.storage.groupIdTaken(caller.appId, groupId)) {
      throw new ApiError(Code.CONFLICT, `group id ${groupId} is already taken`);
    }
    const group = await this.storage.createGroup(caller.appId, { groupId, name: input.name, description: input.description ?? '', ownerId: caller.userId }, members);
    await this.notifyGroup(caller, groupId, 'created', [caller.userId, ...members]);
    return withId(group);
  }

  /** The caller's groups, newest first, a page at a time (`cursor` from the previous page). */
  async listGroups(caller: Caller, q: ListQuery): Promise<ListPage<Group>> {
    const page = await this.storage.listGroupsOf(caller.appId, caller.userId, { after: readCursor(q.cursor), limit: q.limit });
    const items = page.items.map(withId);
    const last = items[items.length - 1];
    return { items, nextCursor: page.hasMore && last ? writeCursor(last.createdAt, last.groupId) : null };
  }

  async groupInfo(caller: Caller, groupId: string): Promise<Group> {
    return withId(await this.memberGroup(caller, groupId));
  }

  async groupMembers(caller: Caller, groupId: string): Promise<MemberRecord[]> {
    await this.memberGroup(caller, groupId);
    return await this.storage.members(caller.appId, groupId);
  }

  async addMembers(caller: Caller, groupId: string, userIds: string[]): Promise<MemberRecord[]> {
    const group = await this.memberGroup(caller, groupId);
    const ids: string[] = [];
    for (const id of new Set(userIds)) if (!(await this.storage.isMember(caller.appId, groupId, id))) ids.push(id);
    this.checkGroupSize(group.memberCount, ids.length);
    await this.requireUsers(caller, ids);
    const added = await this.storage.addMembers(caller.appId, groupId, ids);
    if (added.length) await this.notifyGroup(caller, groupId, 'members_added', added);
    return await this.storage.members(caller.appId, groupId);
  }

  async removeMember(caller: Caller, groupId: string, userId: string): Promise<MemberRecord[]> {
    const guard = await this.groupAdmin.checkRemove(caller, groupId, userId);
    if (!(await underGuard(groupId, () => this.storage.removeMember(caller.appId, groupId, userId, guard)))) throw new ApiError(Code.NOT_FOUND, `user ${userId} is not a member of group ${groupId}`);
    await this.notifyGroup(caller, groupId, 'member_removed', [userId], [userId]);
    return await this.storage.members(caller.appId, groupId);
  }

  async leaveGroup(caller: Caller, groupId: string): Promise<{ groupId: string }> {
    const group = await this.memberGroup(caller, groupId);
    if (group.ownerId === caller.userId) throw new ApiError(Code.FORBIDDEN, 'forbidden: the owner cannot leave; dismiss the group instead');
    // Removed (or left on another device) meanwhile: that change was announced already.
    if ((await this.storage.removeMember(caller.appId, groupId, caller.userId)) !== true) {
      throw new ApiError(Code.FORBIDDEN, `forbidden: you are not a member of group ${groupId}`);
    }
    await this.notifyGroup(caller, groupId, 'member_left', [caller.userId], [caller.userId]);
    return { groupId };
  }

  async dismissGroup(caller: Caller, groupId: string): Promise<{ groupId: string }> {
    await this.ownedGroup(caller, groupId);
    return this.endGroup(caller.appId, groupId, caller.userId);
  }

  /** Dismisses a group, by its owner or (the server API) a system account: every member hears of it. */
  async endGroup(appId: string, groupId: string, by: string): Promise<{ groupId: string }> {
    const members = await this.storage.memberIds(appId, groupId);
    await this.storage.dismissGroup(appId, groupId);
    this.notifier.groupChanged(appId, members, { groupId, action: 'dismissed', userIds: members, by, timestamp: Date.now() });
    return { groupId };
  }

  // ------------------------------------------------------------- messages

  /**
   * Checks a send and finds what it becomes: the stored message again (a retried clientMsgId), or
   * a message to store with its inbox recipients (and, for a group, its members for the live
   * emit). Refusals throw an ApiError. Stored by `commitSends`, with the others of its turn.
   */
  async prepareSend(
    caller: Caller,
    input: { clientMsgId: string; chatType: 0 | 1; to: string; content: string; msgType?: number; data?: unknown; replyTo?: string; mentions?: string[] | 'all' },
    /** 'system': a system account of the server API, which sends to any group of the app, whatever its mutes. */
    as: 'user' | 'system' = 'user',
  ): Promise<PreparedSend> {
    const msgType = input.msgType ?? 0;
    checkContent(msgType, input.content);
    const data = checkData(input.data);
    const sender = await this.activeUser(caller.appId, caller.userId);

    // Idempotency first: a retry of something already stored must succeed even if, say, the
    // sender has since left the group.
    const existing = await this.storage.findByClientId(caller.appId, caller.userId, input.clientMsgId);
    if (existing) {
      const { senderInboxSeq, ...message } = existing;
      if (message.content !== input.content || message.chatType !== input.chatType || message.to !== input.to || message.msgType !== msgType) {
        throw new ApiError(Code.CONFLICT, `clientMsgId ${input.clientMsgId} was already used for a different message`);
      }
      return { appId: caller.appId, stored: { message, senderInboxSeq, deliveries: [], duplicate: true } };
    }

    // A media message's file: the sender's own upload; its size, type and name from the record.
    const media = this.files ? await this.files.attach(caller.appId, caller.userId, msgType, data) : data;
    const msg: NewMessage = { clientMsgId: input.clientMsgId, from: caller.userId, fromName: sender.userName, to: input.to, chatType: input.chatType, msgType, content: input.content, data: media };
    if (input.replyTo !== undefined) msg.replyTo = await this.replyTarget(caller, input.chatType, input.to, input.replyTo);
    if (input.mentions !== undefined && input.chatType !== 1) throw new ApiError(Code.INVALID_ARGUMENT, 'mentions: only group messages mention members');
    if (input.chatType === 1 && as === 'system') {
      if (!(await this.storage.getGroup(caller.appId, input.to))) throw new ApiError(Code.NOT_FOUND, `group ${input.to} not found`);
      const members = await this.storage.memberIds(caller.appId, input.to);
      if (input.mentions !== undefined) msg.mentions = checkMentions(input.mentions, true, members);
      return { request: { appId: caller.appId, msg, recipients: [] }, members };
    }
    if (input.chatType === 1) {
      const { group, me } = await this.groupAdmin.membership(caller, input.to);
      const refusal = sendRefusal(group, me);
      if (refusal) throw refusal;
      // Read diffusion: O(1) writes whatever the group's size; the members are only for the live emit.
      const members = await this.storage.memberIds(caller.appId, input.to);
      if (input.mentions !== undefined) msg.mentions = checkMentions(input.mentions, me.role !== 'member', members);
      return { request: { appId: caller.appId, msg, recipients: [] }, members };
    }
    const peer = await this.storage.getUser(caller.appId, input.to);
    if (!peer) throw new ApiError(Code.NOT_FOUND, `recipient ${input.to} not found`);
    return { request: { appId: caller.appId, msg, recipients: [caller.userId, input.to] } };
  }

  /**
   * The group commit: the prepared sends of one turn stored in one transaction, in this order (the
   * order of their seqs). Rejects, storing nothing, when the transaction as a whole failed.
   */
  async commitSends(prepared: PreparedSend[]): Promise<SendOutcome[]> {
    const requests = prepared.flatMap((p) => (p.request ? [p.request] : []));
    const afterSend = this.webhooks ? await this.webhooks.afterSendOutbox(requests, (m) => this.needsPresenting(m), asStored) : undefined;
    const outcomes = await this.commitStored(prepared, requests, afterSend?.outbox);
    // What is acked and emitted carries fresh URLs and reply previews; each send's own app.
    const presented = await Promise.all(
      outcomes.map(async (o, i): Promise<SendOutcome> => {
        if (!o.result) return o;
        const p = prepared[i]!;
        const appId = p.request ? p.request.appId : p.appId;
        // Most messages are plain text: nothing to sign or look up, so no copy and no awaits.
        if (!this.needsPresenting(o.result.message)) return o;
        const [message] = await this.present(appId, [o.result.message]);
        return { result: { ...o.result, message: message! } };
      }),
    );
    // The afterSend events were stored with the messages; the ones that waited for the presented
    // message get it before the acks go out.
    if (afterSend) await this.webhooks!.committed(afterSend, presented);
    return presented;
  }

  private async commitStored(prepared: PreparedSend[], requests: SendRequest[], outbox: Outbox | undefined): Promise<SendOutcome[]> {
    const stored = requests.length ? await this.storage.sendMessages(requests, outbox) : [];
    let next = 0;
    return prepared.map((p): SendOutcome => {
      if (p.stored) return { result: p.stored };
      const outcome = stored[next++]!;
      const r = outcome.result;
      if (!r) return outcome;
      if (!r.duplicate) this.settings.metrics?.messageStored(r.message.chatType);
      // The same clientMsgId twice in one batch: the second finds the first, and must match it.
      const m = p.request!.msg;
      if (r.duplicate && (r.message.content !== m.content || r.message.chatType !== m.chatType || r.message.to !== m.to || r.message.msgType !== m.msgType)) {
        return { error: new ApiError(Code.CONFLICT, `clientMsgId ${m.clientMsgId} was already used for a different message`) };
      }
      return p.members ? { result: { ...r, members: p.members } } : outcome;
    });
  }

  /**
   * A reply answers a message of the conversation it is sent to: that one is visible to the
   * sender (who is in the conversation); anything else is "not found", whether it exists or not.
   */
  private async replyTarget(caller: Caller, chatType: 0 | 1, to: string, replyTo: string): Promise<string> {
    const original = await this.storage.getMessage(caller.appId, replyTo);
    const conv = chatType === 1 ? groupConvId(to) : privateConvId(caller.userId, to);
    const originalConv = original && (original.chatType === 1 ? groupConvId(original.to) : privateConvId(original.from, original.to));
    if (!original || originalConv !== conv) throw new ApiError(Code.NOT_FOUND, `replyTo: message ${replyTo} not found in this conversation`);
    return original.messageId;
  }

  /**
   * A message the caller may act on, with the inboxes its event goes to. One the caller cannot
   * see (not theirs, not in their group, from before they joined, or an event row) is "not found",
   * whether it exists or not. `privileged`: the group's owner, or an admin for the messages of
   * plain (and former) members. Group notices are the record of what happened: never changed.
   */
  private async actionable(caller: Caller, messageId: string): Promise<{ message: StoredMessage; privileged: boolean; recipients: string[]; members?: string[]; muted?: ApiError }> {
    const message = await this.storage.getMessage(caller.appId, messageId);
    const notFound = () => new ApiError(Code.NOT_FOUND, `message ${messageId} not found`);
    if (!message || message.event) throw notFound();
    if (message.chatType === 0) {
      if (message.from !== caller.userId && message.to !== caller.userId) throw notFound();
      return { message, privileged: false, recipients: [message.from, message.to] };
    }
    const group = await this.storage.getGroup(caller.appId, message.to);
    const me = group && (await this.storage.member(caller.appId, message.to, caller.userId));
    if (!group || !me || message.seq <= me.joinedSeq) throw notFound();
    if (message.msgType === GROUP_NOTICE_MSG_TYPE) throw new ApiError(Code.FORBIDDEN, 'forbidden: group notifications cannot be revoked or edited');
    const sender = message.from === caller.userId ? me : await this.storage.member(caller.appId, message.to, message.from);
    const privileged = message.from === caller.userId ? me.role === 'owner' : outranks(me.role, sender?.role);
    return { message, privileged, recipients: [], members: await this.storage.memberIds(caller.appId, message.to), muted: sendRefusal(group, me) };
  }

  /** What a revoke or edit answers and emits: the message as it is now, and its stored event. */
  private async presentEvent(caller: Caller, stored: SendResult | null, target: StoredMessage, members?: string[]): Promise<{ message: StoredMessage; stored: SendResult | null }> {
    const now = (await this.storage.getMessage(caller.appId, target.messageId)) ?? target;
    const [message] = await this.present(caller.appId, [now]);
    if (!stored) return { message: message!, stored: null };
    const [event] = await this.present(caller.appId, [stored.message]);
    return { message: message!, stored: { ...stored, message: event!, ...(members ? { members } : {}) } };
  }

  /**
   * Takes a message back: its content and data are wiped on the server, and a revoke event is
   * sequenced after the conversation's last message. The sender may within IM_REVOKE_WINDOW, a
   * group's owner always, an admin always for plain members' messages; a second revoke answers
   * the tombstone with no new event.
   */
  async revokeMessage(caller: Caller, messageId: string): Promise<{ message: StoredMessage; stored: SendResult | null }> {
    const { message, privileged, recipients, members } = await this.actionable(caller, messageId);
    if (message.revokedAt !== undefined) return this.presentEvent(caller, null, message);
    if (!privileged) {
      if (message.from !== caller.userId) throw new ApiError(Code.FORBIDDEN, "forbidden: only the sender, the group's owner, or an admin (for a plain member's message) may revoke a message");
      const window = this.settings.revokeWindow ?? 120;
      if (Date.now() - message.timestamp > window * 1000) throw new ApiError(Code.FORBIDDEN, `forbidden: a message can be revoked within ${window} s of sending (IM_REVOKE_WINDOW)`);
    }
    const actor = await this.activeUser(caller.appId, caller.userId);
    const stored = await this.storage.applyMessageEvent(caller.appId, { kind: 'revoke', target: message, by: caller.userId, byName: actor.userName, recipients });
    return this.presentEvent(caller, stored, message, members);
  }

  /**
   * Changes a message's content (and data): the sender only, within IM_EDIT_WINDOW, never after
   * a revoke; the content rules are a send's. A media message keeps its file: only its text changes.
   */
  async editMessage(caller: Caller, messageId: string, content: string, data: unknown): Promise<{ message: StoredMessage; stored: SendResult }> {
    const { message, recipients, members, muted } = await this.actionable(caller, messageId);
    if (message.from !== caller.userId) throw new ApiError(Code.FORBIDDEN, 'forbidden: only the sender may edit a message');
    // An edit says something new: not while the group keeps the sender quiet.
    if (muted) throw muted;
    if (message.revokedAt !== undefined) throw new ApiError(Code.FORBIDDEN, 'forbidden: the message was revoked');
    const window = this.settings.editWindow ?? 86_400;
    if (Date.now() - message.timestamp > window * 1000) throw new ApiError(Code.FORBIDDEN, `forbidden: a message can be edited within ${window} s of sending (IM_EDIT_WINDOW)`);
    checkContent(message.msgType, content);
    const media = KIND_OF_MSG_TYPE[message.msgType] !== undefined;
    if (media && data !== undefined) throw new ApiError(Code.INVALID_ARGUMENT, 'data: a media message keeps its file; edit its content only, or revoke it and send another');
    const actor = await this.activeUser(caller.appId, caller.userId);
    let next = media || data === undefined ? message.data : checkData(data);
    // The app's beforeSend sees an edit as a send: otherwise editing would get round moderation.
    // A media message's data is its file, which an edit does not change.
    const screened = this.webhooks?.screenEdit(caller, message, content, media ? null : next);
    if (screened) {
      const decided = await screened;
      content = decided.content;
      if (!media) next = decided.data;
    }
    const stored = await this.storage.applyMessageEvent(caller.appId, { kind: 'edit', target: message, by: caller.userId, byName: actor.userName, content, data: next, recipients });
    if (!stored) throw new ApiError(Code.FORBIDDEN, 'forbidden: the message was revoked');
    return (await this.presentEvent(caller, stored, message, members)) as { message: StoredMessage; stored: SendResult };
  }

  /**
   * Who gets a signal (online only, never stored): the peer (who must exist) or the group's other
   * members (the caller must be one).
   */
  async signalRecipients(caller: Caller, chatType: 0 | 1, to: string): Promise<string[]> {
    if (chatType === 1) {
      await this.memberGroup(caller, to);
      return (await this.storage.memberIds(caller.appId, to)).filter((id) => id !== caller.userId);
    }
    if (!(await this.storage.getUser(caller.appId, to))) throw new ApiError(Code.NOT_FOUND, `user ${to} not found`);
    return [to];
  }

  /** One send on its own (the server's REST API and tests): prepared and committed. */
  async send(caller: Caller, input: SendInput, as: 'user' | 'system' = 'user'): Promise<SendResult> {
    const screened = this.screenSend(caller, input);
    const [outcome] = await this.commitSends([await this.prepareSend(caller, screened ? await screened : input, as)]);
    if (outcome!.error !== undefined) throw outcome!.error;
    return outcome!.result!;
  }

  /** At most `limit` messages and `maxBytes` of them (at least one); `hasMore` says to page on. */
  async sync(caller: Caller, afterInboxSeq: number, limit: number, maxBytes: number): Promise<{ messages: StoredMessage[]; hasMore: boolean; latestInboxSeq: number; bytes: number }> {
    const capped = Math.min(Math.max(limit, 1), LIMITS.SYNC_MAX);
    const page = await readWithinBytes(capped, maxBytes, (after, n) => this.storage.inboxAfter(caller.appId, caller.userId, after ?? afterInboxSeq, n), (m) => m.inboxSeq ?? 0);
    return { ...page, messages: await this.present(caller.appId, page.messages), latestInboxSeq: await this.storage.latestInboxSeq(caller.appId, caller.userId) };
  }

  /** The caller's groups (by id, after `after`) with their newest seq and the caller's joined seq. */
  async groupStates(caller: Caller, after: string, limit: number): Promise<{ groups: GroupState[]; hasMore: boolean }> {
    const capped = Math.min(Math.max(limit, 1), LIMITS.GROUP_STATES_MAX);
    const rows = await this.storage.groupStates(caller.appId, caller.userId, after, capped + 1);
    return { groups: rows.slice(0, capped), hasMore: rows.length > capped };
  }

  /**
   * A group's messages after `afterSeq` (default: where the caller joined), for catch-up; members
   * only. Bounded by count and bytes like chat:sync.
   */
  async groupSync(caller: Caller, groupId: string, afterSeq: number | undefined, limit: number, maxBytes: number) {
    await this.group(caller, groupId);
    const joinedSeq = await this.storage.joinedSeq(caller.appId, groupId, caller.userId);
    if (joinedSeq === undefined) throw new ApiError(Code.FORBIDDEN, `forbidden: you are not a member of group ${groupId}`);
    const capped = Math.min(Math.max(limit, 1), LIMITS.SYNC_MAX);
    // Never before the join: what was sent while the caller was not a member is not theirs to catch up.
    const from = Math.max(afterSeq ?? joinedSeq, joinedSeq);
    const page = await readWithinBytes(capped, maxBytes, (after, n) => this.storage.history(caller.appId, groupConvId(groupId), 'FORWARD', after ?? from, n, true), (m) => m.seq);
    return { ...page, messages: await this.present(caller.appId, page.messages), lastSeq: await this.storage.lastSeq(caller.appId, groupConvId(groupId)), joinedSeq };
  }

  async groupHistory(caller: Caller, groupId: string, q: HistoryQuery, maxBytes: number): Promise<StoredMessage[]> {
    await this.memberGroup(caller, groupId);
    return await this.historyPage(caller, groupConvId(groupId), q, maxBytes);
  }

  async privateHistory(caller: Caller, peerId: string, q: HistoryQuery, maxBytes: number): Promise<StoredMessage[]> {
    return await this.historyPage(caller, privateConvId(caller.userId, peerId), q, maxBytes);
  }

  /** A history page within `maxBytes`: the messages nearest the cursor are the ones kept. */
  private async historyPage(caller: Caller, convId: string, q: HistoryQuery, maxBytes: number): Promise<StoredMessage[]> {
    const rows = await this.storage.history(caller.appId, convId, q.syncType, q.msgSeqId, Math.min(q.limitSize, LIMITS.HISTORY_MAX));
    // BACK pages are oldest first and end next to the cursor; FORWARD pages start there.
    return this.present(caller.appId, withinBytes(rows, maxBytes, q.syncType === 'BACK').messages);
  }

  /** Validates a receipt; returns the original sender and what to tell them. */
  /** Validates a receipt and moves the read position (status 2); returns the sender and the notice. */
  async receipt(caller: Caller, messageId: string, status: 1 | 2, to?: string): Promise<{ senderId: string; payload: Record<string, unknown> }> {
    const checked = await this.checkReceipt(caller, messageId, status, to);
    if (checked.mark) {
      await this.storage.markRead(caller.appId, caller.userId, checked.mark.convId, checked.mark.seq);
      this.convs.readMoved(caller, [checked.mark.convId]);
    }
    return checked;
  }

  /** Several read positions of the caller in one commit (a packet of read receipts). */
  async markReads(caller: Caller, marks: Array<{ convId: string; seq: number }>): Promise<void> {
    await this.storage.markReadMany(caller.appId, caller.userId, marks);
    if (marks.length) this.convs.readMoved(caller, marks.map((m) => m.convId));
  }

  /** A receipt checked, without writing: the sender, the notice, and the read position it sets (status 2). */
  async checkReceipt(
    caller: Caller,
    messageId: string,
    status: 1 | 2,
    to?: string,
  ): Promise<{ senderId: string; payload: Record<string, unknown>; mark?: { convId: string; seq: number } }> {
    // Who may see it comes first: a stranger gets the same answer whether or not the id exists,
    // and never learns who sent it.
    const message = await this.storage.getMessage(caller.appId, messageId);
    const visible =
      !!message &&
      (message.from === caller.userId ||
        (message.chatType === 1 ? await this.storage.isMember(caller.appId, message.to, caller.userId) : message.to === caller.userId));
    if (!message || !visible) throw new ApiError(Code.NOT_FOUND, `message ${messageId} not found`);
    if (message.from === caller.userId) throw new ApiError(Code.FORBIDDEN, 'forbidden: you cannot send a receipt for your own message');
    if (to !== undefined && to !== message.from) throw new ApiError(Code.INVALID_ARGUMENT, `to: message ${messageId} was sent by ${message.from}, not ${to}`);
    const convId = message.chatType === 1 ? groupConvId(message.to) : privateConvId(message.from, message.to);
    return {
      mark: status === 2 ? { convId, seq: message.seq } : undefined,
      senderId: message.from,
      payload: { messageId, status, from: caller.userId, to: message.chatType === 1 ? message.to : caller.userId, chatType: message.chatType, seq: message.seq, timestamp: Date.now() },
    };
  }
}

/**
 * A message as stored, in the protocol's shape (a reply as a bare reference, media without signed
 * URLs, `data.fileId` kept): what an afterSend carries when the server stopped between the commit
 * and presenting the message.
 */
function asStored(m: StoredMessage): StoredMessage {
  if (!m.replyToId) return m;
  const { replyToId, ...rest } = m;
  return { ...rest, replyTo: { messageId: replyToId } } as unknown as StoredMessage;
}

/** A checked send: either found stored already, or a request for the group commit. */
export type PreparedSend =
  | { stored: SendResult; appId: string; request?: undefined; members?: undefined }
  | { stored?: undefined; request: SendRequest; members?: readonly string[] };

export interface ListQuery {
  limit: number;
  cursor?: string;
}

export interface ListPage<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/** Opaque to clients: the last item's time and id. */
function writeCursor(at: number, id: string): string {
  return Buffer.from(JSON.stringify([at, id]), 'utf8').toString('base64url');
}

function readCursor(cursor: string | undefined): ListCursor | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'number' && Number.isFinite(at) && typeof id === 'string' && id.length <= 200) return { at, id };
  } catch {
    // fall through
  }
  throw new ApiError(Code.INVALID_ARGUMENT, 'cursor: not a cursor from a previous page (pass nextCursor as it was returned)');
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
