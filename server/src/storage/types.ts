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
  announcement: string;
  avatar: string;
  /** While true only the owner and admins may send. */
  muteAll: boolean;
}

export type GroupRole = 'owner' | 'admin' | 'member';

/** A change of a group's roles or settings (`changeGroup`); each takes effect only if it changes something. */
export type GroupSettingChange =
  | { kind: 'role'; userId: string; role: 'admin' | 'member' }
  | { kind: 'owner'; from: string; to: string }
  | { kind: 'info'; name?: string; description?: string; announcement?: string; avatar?: string }
  | { kind: 'mute'; userId: string; mutedUntil: number }
  | { kind: 'muteAll'; muted: boolean };

/**
 * What the service's rights check found, to hold again inside the transaction that writes the
 * change (the check reads outside it, and a role may change in between, on any node): the actor
 * still has one of `roles`, and the member acted on, if still a member, one of `target.roles`.
 * When it no longer holds nothing is written and the storage throws GuardFailed.
 */
export interface ChangeGuard {
  actor: string;
  roles: readonly GroupRole[];
  target?: { userId: string; roles: readonly GroupRole[] };
}

/** A page of one of an app's lists (server REST API): by id after `after`, optionally filtered. */
export interface AppListPage {
  query?: string;
  after?: string;
  limit: number;
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
  role: GroupRole;
  joinedAt: number;
  /** ms since the epoch; 0 when not muted (also once a mute has run out). */
  mutedUntil: number;
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
  /** This user's settings of it (conversation_settings): listed first; left out of the total unread. */
  pinned: boolean;
  muted: boolean;
}

/** Where a conversation list page ends: pinned ones come first, so the cursor says which part. */
export interface ConversationCursor extends ListCursor {
  pinned: boolean;
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

/** A row of the webhook queue (table webhook_events) written in the transaction of the message it reports. */
export interface OutboxRow {
  id: string;
  appId: string;
  event: string;
  body: string;
  createdAt: number;
  /** When it is first due: a row whose body is still to be completed after the commit is held back. */
  nextAt: number;
}

/**
 * Called inside the group commit for each newly stored send (not for a duplicate): the queue row
 * to write with it, in the same savepoint, or none. Synchronous, because SQLite's transaction is.
 */
export type Outbox = (item: SendRequest, result: SendResult) => OutboxRow | undefined;

/** What the storage knows of an operator token: signed out, and the generation it must carry. */
export interface OperatorTokenState {
  revoked: boolean;
  generation: number;
}

/** Per send of a group commit: stored (or found stored: idempotency), or refused alone. */
export type SendOutcome = { result: SendResult; error?: undefined } | { result?: undefined; error: unknown };

/** A group message whose read count is asked: its position in the group and its sender (never counted). */
export interface ReadTarget {
  messageId: string;
  seq: number;
  from: string;
}

/** Of the members who had a message (joined before it, not its sender): how many have read it, how many not. */
export interface ReadCount {
  readCount: number;
  unreadCount: number;
}

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
  /** users.last_seen_at of those of `userIds` that have one (ms): when their last device went. */
  lastSeen(appId: string, userIds: string[]): Promise<Map<string, number>>;
  /** Records when users went offline, in one commit; a time never moves back (nodes may race). */
  recordLastSeen(items: Array<{ appId: string; userId: string; at: number }>): Promise<void>;

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
  /** Adds them as members; one whose mute (group_mutes) still runs from before comes back muted. */
  addMembers(appId: string, groupId: string, userIds: string[]): Promise<string[]>;
  /**
   * Removes a member (never the owner); false when not a member. A mute still running is kept
   * (group_mutes) for when they are added back. With `guard`, checked in the same transaction.
   */
  removeMember(appId: string, groupId: string, userId: string, guard?: ChangeGuard): Promise<boolean>;
  dismissGroup(appId: string, groupId: string): Promise<void>;
  /** One member with their role, mute and joined seq (read each time: roles are checked against it). */
  member(appId: string, groupId: string, userId: string): Promise<(MemberRecord & { joinedSeq: number }) | undefined>;
  /**
   * Applies a change of roles or settings and, in the same transaction, stores its notification
   * message (`notice`, a group message). Null when the change took no effect (nothing written):
   * the state already was so, or it moved meanwhile (a transfer by someone no longer the owner).
   * With `guard`, checked first in the same transaction (GuardFailed when it no longer holds).
   */
  changeGroup(appId: string, groupId: string, change: GroupSettingChange, notice: SendRequest, guard?: ChangeGuard): Promise<SendResult | null>;

  // messages
  /**
   * Stores the sends in one transaction, each idempotent on (sender, clientMsgId) and in a
   * savepoint of its own: a refused one fails alone (its outcome has the error). A failure that
   * may have ended the transaction rejects the call, and nothing of the batch is stored.
   * `outbox`: queue rows stored atomically with their messages (the webhook queue's afterSend).
   */
  sendMessages(items: SendRequest[], outbox?: Outbox): Promise<SendOutcome[]>;
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

  // conversations (the SQL of both engines: storage/conversation-lists.ts)
  /** The user's conversations on their list, pinned first, then most recent first, one page after `after`. */
  conversations(appId: string, userId: string, page: { after?: ConversationCursor; limit: number }): Promise<{ items: ConversationRecord[]; hasMore: boolean }>;
  /**
   * One conversation of the user as the list shows it, and whether it is on the list (`listed`:
   * false once deleted, until a message comes). Undefined before its first message, and for a
   * group the user is not in.
   */
  conversation(appId: string, userId: string, chatType: 0 | 1, targetId: string): Promise<(ConversationRecord & { listed: boolean }) | undefined>;
  /** The user's pin and mute of a conversation, also of one without a message yet. */
  conversationSettings(appId: string, userId: string, convId: string): Promise<{ pinned: boolean; muted: boolean }>;
  /** The user's pin or mute of a conversation (a settings row is made when there is none). */
  setConversationSetting(appId: string, userId: string, convId: string, setting: 'pinned' | 'muted', on: boolean): Promise<void>;
  /** Takes the conversation off the user's list up to its present seq (and unpins it); read_state stays. */
  hideConversation(appId: string, userId: string, convId: string): Promise<void>;
  /** Unread messages of the user's listed conversations that are not muted (bounded: storage/conversation-lists.ts). */
  totalUnread(appId: string, userId: string): Promise<number>;
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

  // group read receipts (from the members' read positions)
  /** The messages of the group among `messageIds` (event rows and other conversations' messages left out). */
  groupReadTargets(appId: string, groupId: string, messageIds: string[]): Promise<ReadTarget[]>;
  /** Read and unread counts of each target, in one consistent read, from the current members' read positions. */
  groupReadCounts(appId: string, groupId: string, targets: ReadTarget[]): Promise<ReadCount[]>;
  /** A page of the members who have read (or not) `target`, by userId (byte order) after `after`. */
  groupReadMembers(appId: string, groupId: string, target: ReadTarget, filter: 'read' | 'unread', page: { after?: string; limit: number }): Promise<{ items: MemberRecord[]; hasMore: boolean }>;

  // the server REST API (the app's backend, the admin console): storage/admin-queries.ts
  /**
   * A page of the app's users by userId after `after`. `query`: a case-insensitive substring of
   * the id or the name (a scan of the app's users: no index serves a substring).
   */
  searchUsers(appId: string, page: AppListPage): Promise<{ items: UserRecord[]; hasMore: boolean }>;
  /** Creates or updates users (each as upsertUser does) in one transaction; the ids are distinct. */
  upsertUsers(appId: string, users: Array<{ userId: string; patch: UserPatch }>): Promise<void>;
  /** A page of the app's groups (dismissed ones left out) by groupId after `after`; `query` as searchUsers', on the id or the name. */
  listGroupsOfApp(appId: string, page: AppListPage): Promise<{ items: GroupRecord[]; hasMore: boolean }>;
  /** A page of a group's members by userId after `after`. */
  membersPage(appId: string, groupId: string, page: { after?: string; limit: number }): Promise<{ items: MemberRecord[]; hasMore: boolean }>;

  // operator tokens' sign-out (docs/protocol.md section 8.1), shared by every node
  /**
   * Refuses the operator token `jti` of the app from now on. The row is kept until `expiresAt`
   * (ms, the token's own expiry), after which the token is refused anyway; rows past theirs are
   * deleted here, so the table holds at most an hour of sign-outs.
   */
  revokeOperatorToken(appId: string, jti: string, expiresAt: number): Promise<void>;
  /** Refuses every operator token of the app minted so far: its generation moves on; the new one. */
  revokeOperatorTokens(appId: string): Promise<number>;
  /**
   * In one read: whether `jti` was signed out (false for null: a token still to be minted), and
   * the app's generation (0 until the first revoke of all).
   */
  operatorTokenState(appId: string, jti: string | null): Promise<OperatorTokenState>;

  close(): Promise<void>;
}

export { groupConvId, privateConvId } from '../protocol';
