/**
 * What the server needs from a database. The SQLite implementation is synchronous (better-sqlite3),
 * which makes each send one atomic step with the live emit that follows; a networked database
 * would implement an async variant of the same operations (clients tolerate out-of-order delivery:
 * they order by inboxSeq and sync gaps).
 */
export interface AppRecord {
  appId: string;
  appSecret: string;
  createdAt: number;
}

export interface UserRecord {
  userId: string;
  userName: string;
  userImg: string;
  companyName: string;
  imRole: 'user' | 'admin' | 'guest';
  valid: boolean;
  createdAt: number;
  updatedAt: number;
}

export type UserPatch = Partial<Pick<UserRecord, 'userName' | 'userImg' | 'companyName' | 'imRole' | 'valid'>>;

export interface GroupRecord {
  groupId: string;
  name: string;
  description: string;
  ownerId: string;
  memberCount: number;
  createdAt: number;
}

/** Where a list page ends: the last item's time (updatedAt or createdAt) and id. */
export interface ListCursor {
  at: number;
  id: string;
}

/** A group as one member's catch-up sees it. */
export interface GroupState {
  groupId: string;
  /** The group's newest seq. */
  lastSeq: number;
  /** The group's seq when this member joined: they read the messages after it. */
  joinedSeq: number;
}

export interface MemberRecord {
  userId: string;
  userName: string;
  userImg: string;
  role: 'owner' | 'member';
  joinedAt: number;
}

export interface StoredMessage {
  messageId: string;
  clientMsgId: string;
  from: string;
  fromName: string;
  to: string;
  content: string;
  chatType: 0 | 1;
  msgType: number;
  timestamp: number;
  data: unknown;
  seq: number;
  inboxSeq?: number;
}

export interface NewMessage {
  clientMsgId: string;
  from: string;
  fromName: string;
  to: string;
  chatType: 0 | 1;
  msgType: number;
  content: string;
  data: unknown;
}

export interface SendResult {
  message: StoredMessage;
  /** The sender's inboxSeq for this message. */
  senderInboxSeq: number;
  /** inboxSeq per recipient (sender included); empty when `duplicate`. */
  deliveries: Array<{ userId: string; inboxSeq: number }>;
  /** True when this clientMsgId was already stored: nothing new was written. */
  duplicate: boolean;
  /** Group messages: the members to emit it to live (they have no inbox entries). */
  members?: readonly string[];
}

export interface ConversationRecord {
  conversationId: string;
  chatType: 0 | 1;
  targetId: string;
  name: string;
  lastMessage: StoredMessage | null;
  lastSeq: number;
  readSeq: number;
  /** Private conversations: the peer's read position (null for groups). */
  peerReadSeq: number | null;
  unreadCount: number;
  updatedAt: number;
}

export interface Storage {
  // apps
  getApp(appId: string): AppRecord | undefined;
  upsertApp(appId: string, appSecret: string): AppRecord;
  /** The app created on first start, if any. */
  getDevApp(): AppRecord | undefined;
  setDevApp(appId: string): void;

  // users
  getUser(appId: string, userId: string): UserRecord | undefined;
  upsertUser(appId: string, userId: string, patch: UserPatch): UserRecord;
  missingUsers(appId: string, userIds: string[]): string[];
  latestInboxSeq(appId: string, userId: string): number;

  // groups
  createGroup(appId: string, group: { groupId: string; name: string; description: string; ownerId: string }, memberIds: string[]): GroupRecord;
  getGroup(appId: string, groupId: string): GroupRecord | undefined;
  /** True also for dismissed groups: their ids are never reused. */
  groupIdTaken(appId: string, groupId: string): boolean;
  /** The user's groups, newest first, one page after `after`. */
  listGroupsOf(appId: string, userId: string, page: { after?: ListCursor; limit: number }): { items: GroupRecord[]; hasMore: boolean };
  isMember(appId: string, groupId: string, userId: string): boolean;
  members(appId: string, groupId: string): MemberRecord[];
  /** Just the ids: the recipients of a group send. */
  memberIds(appId: string, groupId: string): string[];
  /** The member's joined seq, or undefined when not a member. */
  joinedSeq(appId: string, groupId: string, userId: string): number | undefined;
  /** The user's groups after `afterGroupId` (by id, at most `limit`). */
  groupStates(appId: string, userId: string, afterGroupId: string, limit: number): GroupState[];
  addMembers(appId: string, groupId: string, userIds: string[]): string[];
  removeMember(appId: string, groupId: string, userId: string): boolean;
  dismissGroup(appId: string, groupId: string): void;

  // messages
  /**
   * Stores a message and the inbox entries of `recipients` atomically; idempotent on (sender,
   * clientMsgId). Group messages pass no recipients: members read the group's own sequence.
   */
  sendMessage(appId: string, msg: NewMessage, recipients: string[]): SendResult;
  /**
   * Runs `work` as one transaction with one commit. Writes inside it are nested: one that throws
   * is undone alone (a savepoint) when `work` catches its error; if `work` or the commit throws,
   * nothing of it is stored. The gateway stores the sends of one event-loop turn this way.
   */
  batch<T>(work: () => T): T;
  findByClientId(appId: string, from: string, clientMsgId: string): (StoredMessage & { senderInboxSeq: number }) | undefined;
  getMessage(appId: string, messageId: string): StoredMessage | undefined;
  inboxAfter(appId: string, userId: string, afterInboxSeq: number, limit: number): StoredMessage[];
  history(appId: string, convId: string, direction: 'BACK' | 'FORWARD', fromSeq: number, limit: number): StoredMessage[];

  // conversations
  /** The user's conversations, most recent first, one page after `after`. */
  conversations(appId: string, userId: string, page: { after?: ListCursor; limit: number }): { items: ConversationRecord[]; hasMore: boolean };
  markRead(appId: string, userId: string, convId: string, seq: number | undefined): { readSeq: number; unreadCount: number };
  lastSeq(appId: string, convId: string): number;

  close(): void;
}

export { groupConvId, privateConvId } from '../protocol';
