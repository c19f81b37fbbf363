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
  /** The message this one replies to (stored); the service turns it into `replyTo` on the way out. */
  replyToId?: string;
  /** Group messages: the members mentioned, or everyone. */
  mentions?: string[] | 'all';
  /**
   * An event row: a revoke or an edit of message `eventOf`, in the conversation's sequence (and
   * its members' inboxes) like a message, so catch-up delivers it in order; never shown in history.
   */
  event?: MessageEventKind;
  eventOf?: string;
  /** Revoked: content and data are gone; who did it and when. */
  revokedBy?: string;
  revokedAt?: number;
  editedAt?: number;
}

export type MessageEventKind = 'revoke' | 'edit';

/** A revoke or an edit, applied to its message in the same transaction that sequences the event. */
export interface MessageEventRequest {
  kind: MessageEventKind;
  target: StoredMessage;
  by: string;
  byName: string;
  /** Edits: the new content and data. */
  content?: string;
  data?: unknown;
  /** Private: both parties' inboxes; group: none (members read the group's sequence). */
  recipients: string[];
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
  /** A message of the same conversation this one replies to (checked by the service). */
  replyTo?: string;
  mentions?: string[] | 'all';
  event?: MessageEventKind;
  eventOf?: string;
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
  /** An unread message of it mentions this user (or everyone). */
  mentionedMe: boolean;
  updatedAt: number;
}

/** One send of a group commit: the message and whose inboxes it goes into. */
/** An uploaded file: the bytes are in the file store (disk or S3), this is what the database knows. */
export interface FileRecord {
  fileId: string;
  ownerId: string;
  /** image, audio, video or file. */
  kind: 'image' | 'audio' | 'video' | 'file';
  /** Sniffed from the bytes. */
  mime: string;
  size: number;
  name: string;
  width?: number;
  height?: number;
  /** The thumbnail's type, when there is one (images). */
  thumbMime?: string;
  createdAt: number;
}

export interface SendRequest {
  appId: string;
  msg: NewMessage;
  /** Private: sender and recipient. Group: none (members read the group's sequence). */
  recipients: string[];
}

/** Per send of a group commit: stored (or found stored: idempotency), or refused alone. */
export type SendOutcome = { result: SendResult; error?: undefined } | { result?: undefined; error: unknown };

/**
 * What the server needs from a database, asynchronous so that a networked database fits behind
 * it (SQLite's calls complete before they resolve). Writes that must be atomic together are one
 * call: `sendMessages` (the group commit of the sends of one event-loop turn) and `markReadMany`.
 */
export interface Storage {
  // apps
  getApp(appId: string): Promise<AppRecord | undefined>;
  upsertApp(appId: string, appSecret: string): Promise<AppRecord>;
  /** The app created on first start, if any. */
  getDevApp(): Promise<AppRecord | undefined>;
  setDevApp(appId: string): Promise<void>;

  // users
  getUser(appId: string, userId: string): Promise<UserRecord | undefined>;
  upsertUser(appId: string, userId: string, patch: UserPatch): Promise<UserRecord>;
  missingUsers(appId: string, userIds: string[]): Promise<string[]>;
  latestInboxSeq(appId: string, userId: string): Promise<number>;

  // groups
  createGroup(appId: string, group: { groupId: string; name: string; description: string; ownerId: string }, memberIds: string[]): Promise<GroupRecord>;
  getGroup(appId: string, groupId: string): Promise<GroupRecord | undefined>;
  /** True also for dismissed groups: their ids are never reused. */
  groupIdTaken(appId: string, groupId: string): Promise<boolean>;
  /** The user's groups, newest first, one page after `after`. */
  listGroupsOf(appId: string, userId: string, page: { after?: ListCursor; limit: number }): Promise<{ items: GroupRecord[]; hasMore: boolean }>;
  isMember(appId: string, groupId: string, userId: string): Promise<boolean>;
  members(appId: string, groupId: string): Promise<MemberRecord[]>;
  /** Just the ids: the recipients of a group send. */
  memberIds(appId: string, groupId: string): Promise<string[]>;
  /** The member's joined seq, or undefined when not a member. */
  joinedSeq(appId: string, groupId: string, userId: string): Promise<number | undefined>;
  /** The user's groups after `afterGroupId` (by id, at most `limit`). */
  groupStates(appId: string, userId: string, afterGroupId: string, limit: number): Promise<GroupState[]>;
  addMembers(appId: string, groupId: string, userIds: string[]): Promise<string[]>;
  removeMember(appId: string, groupId: string, userId: string): Promise<boolean>;
  dismissGroup(appId: string, groupId: string): Promise<void>;

  // messages
  /**
   * Stores the sends in one transaction, each idempotent on (sender, clientMsgId) and in a
   * savepoint of its own: a refused one fails alone (its outcome has the error). A failure that
   * may have ended the transaction rejects the call, and nothing of the batch is stored.
   */
  sendMessages(items: SendRequest[]): Promise<SendOutcome[]>;
  findByClientId(appId: string, from: string, clientMsgId: string): Promise<(StoredMessage & { senderInboxSeq: number }) | undefined>;
  getMessage(appId: string, messageId: string): Promise<StoredMessage | undefined>;
  inboxAfter(appId: string, userId: string, afterInboxSeq: number, limit: number): Promise<StoredMessage[]>;
  /** Messages by seq; event rows only with `withEvents` (catch-up), never in what users page through. */
  history(appId: string, convId: string, direction: 'BACK' | 'FORWARD', fromSeq: number, limit: number, withEvents?: boolean): Promise<StoredMessage[]>;
  /**
   * Applies a revoke (content and data wiped, mentions dropped) or an edit to the target and
   * stores the event row after the conversation's last message, in one transaction. Null when the
   * target is already revoked (nothing written).
   */
  applyMessageEvent(appId: string, req: MessageEventRequest): Promise<SendResult | null>;

  // conversations
  /** The user's conversations, most recent first, one page after `after`. */
  conversations(appId: string, userId: string, page: { after?: ListCursor; limit: number }): Promise<{ items: ConversationRecord[]; hasMore: boolean }>;
  markRead(appId: string, userId: string, convId: string, seq: number | undefined): Promise<{ readSeq: number; unreadCount: number }>;
  /** Several read positions of one user in one commit (a packet of read receipts). */
  markReadMany(appId: string, userId: string, marks: Array<{ convId: string; seq: number }>): Promise<void>;
  lastSeq(appId: string, convId: string): Promise<number>;
  /** Records an upload once its bytes are stored. */
  createFile(appId: string, file: FileRecord): Promise<void>;
  getFile(appId: string, fileId: string): Promise<FileRecord | undefined>;
  /** A message holds the file: it is kept for good (until the message goes). */
  markFileAttached(appId: string, fileId: string): Promise<void>;
  /** Uploads never put into a message, made before `before` (ms), oldest first. */
  unattachedFiles(before: number, limit: number): Promise<Array<{ appId: string; file: FileRecord }>>;
  /** Deletes the record of an upload still not in a message; false if one took it meanwhile. */
  deleteUnattachedFile(appId: string, fileId: string): Promise<boolean>;

  close(): Promise<void>;
}

export { groupConvId, privateConvId } from '../protocol';
