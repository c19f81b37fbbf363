import { CLIENT_MSG_ID_PATTERN, GROUP_NOTICE_MSG_TYPE, ID_PATTERN, LIMITS } from '../../server/src/protocol/limits';

/** Wire types shared with the reference server; docs/protocol.md is the normative text. */

export const ChatType = { PRIVATE: 0, GROUP: 1 } as const;
export type ChatTypeValue = 0 | 1;

/** GROUP_NOTICE: a group notification the server stored ("Alice made Bob an admin"); `data` is an ImGroupNoticeData. */
export const MsgType = { TEXT: 0, IMAGE: 1, FILE: 2, AUDIO: 3, VIDEO: 4, LOCATION: 5, GROUP_NOTICE: GROUP_NOTICE_MSG_TYPE } as const;

export const ReceiptStatus = { DELIVERED: 1, READ: 2 } as const;
export type ReceiptStatusValue = 1 | 2;

export type MessageData = Record<string, unknown> | unknown[] | string | null;

export interface ImMessage {
  messageId: string;
  clientMsgId: string;
  from: string;
  fromName: string;
  to: string;
  content: string;
  chatType: ChatTypeValue;
  msgType: number;
  timestamp: number;
  data: MessageData;
  /** Position in its conversation; history pages by it. */
  seq: number;
  /**
   * Position in the receiving user's inbox, on private messages (live and synced). Group messages
   * have none: they are read from the group's own sequence (`seq`).
   */
  inboxSeq?: number;
  /** On a reply: the message it answers, as that message is now (content shortened to 100 characters; `revoked` once taken back). */
  replyTo?: { messageId: string; from: string; fromName: string; msgType: number; content: string; revoked?: boolean };
  /** Group messages: the members mentioned, or `'all'`. */
  mentions?: string[] | 'all';
  /** Taken back (`revokeMessage`): `content` is `''` and `data` `null`, on the server too. */
  revoked?: boolean;
  /** Who revoked it (the sender, or the group's owner). */
  revokedBy?: string;
  revokedAt?: number;
  /** Set once the sender edited it (`editMessage`); the content is the latest. */
  editedAt?: number;
}

/** `messageRevoked`: a message was taken back; its content is gone everywhere. */
export interface ImMessageRevoked {
  messageId: string;
  chatType: ChatTypeValue;
  /** The sender of the revoked message. */
  from: string;
  /** The peer or group it was sent to. */
  to: string;
  /** Who revoked it. */
  by: string;
  revokedAt: number;
}

/**
 * A revoke or edit as the server sequences it: a row in the conversation (and inboxes) after the
 * messages around it, carrying the message as it is now. The SDK turns it into an event.
 */
export interface MessageEventRow extends ImMessage {
  event: 'revoke' | 'edit';
  eventOf: string;
  target: ImMessage | null;
}

export function isEventRow(m: ImMessage): m is MessageEventRow {
  return (m as Partial<MessageEventRow>).event === 'revoke' || (m as Partial<MessageEventRow>).event === 'edit';
}

export interface ImReceipt {
  messageId: string;
  status: ReceiptStatusValue;
  /** The user who delivered or read the message. */
  from: string;
  /** The conversation target as the original sender sees it (peer or group). */
  to: string;
  chatType: ChatTypeValue;
  seq: number;
  timestamp: number;
}

export interface ImUser {
  userId: string;
  userName: string;
  userImg: string;
  companyName: string;
  imRole: 'user' | 'admin' | 'guest';
  valid: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ImGroup {
  id: string;
  groupId: string;
  name: string;
  description: string;
  ownerId: string;
  memberCount: number;
  createdAt: number;
  announcement: string;
  /** An image URL the app chose ('' for none). */
  avatar: string;
  /** While true only the owner and admins may send. */
  muteAll: boolean;
}

export interface ImGroupMember {
  userId: string;
  userName: string;
  userImg: string;
  role: 'owner' | 'admin' | 'member';
  joinedAt: number;
  /** Until when (ms) the member may not send to the group; 0 when not muted. */
  mutedUntil: number;
}

export interface ImConversation {
  conversationId: string;
  chatType: ChatTypeValue;
  targetId: string;
  name: string;
  lastMessage: ImMessage | null;
  lastSeq: number;
  readSeq: number;
  /** Private conversations: how far the peer has read (my messages with seq <= it are read); null for groups. */
  peerReadSeq: number | null;
  unreadCount: number;
  /** An unread message mentions me (or everyone); cleared by markConversationRead. */
  mentionedMe: boolean;
  updatedAt: number;
  /** Listed first (pinConversation); on the server, so on every device of the user. */
  pinned: boolean;
  /** Not in getTotalUnreadCount() / totalUnreadChanged (muteConversation); its own unreadCount still counts. */
  muted: boolean;
  /** Kept on this device only (setConversationDraft); absent when there is none. */
  draft?: string;
  /** Only in `conversationChanged`: it left the list (deleteConversation on any device, or a pin or mute before its first message). */
  deleted?: boolean;
}

/** `getGroupMessageReadReceipts`: of the members who had the message (not its sender, not those who joined after it), how many have read it. */
export interface ImGroupReadReceipt {
  messageId: string;
  readCount: number;
  unreadCount: number;
}

/** Whether a user is online: `presence`, `getPresence`, `subscribePresence`. */
export interface ImPresence {
  userId: string;
  /** A device connected, on any node, or gone for less than the server's grace period (IM_PRESENCE_GRACE, 5 s by default). */
  online: boolean;
  /** When the user's last device went (ms); null while online and for users never seen. */
  lastSeenAt: number | null;
}

export type ImGroupAction =
  | 'created' | 'members_added' | 'member_removed' | 'member_left' | 'dismissed'
  | 'role_changed' | 'owner_transferred' | 'info_updated' | 'member_muted' | 'mute_all';

/** A group's fields that `updateGroupInfo` changes. */
export interface ImGroupInfoPatch {
  name?: string;
  description?: string;
  announcement?: string;
  avatar?: string;
}

/** What changed in a group; the action's own fields are set for it only. */
export interface ImGroupChange {
  groupId: string;
  action: ImGroupAction;
  /** The members it is about (added, removed, given a role, muted, the new owner). */
  userIds: string[];
  by: string;
  timestamp: number;
  /** role_changed: the new role. */
  role?: 'admin' | 'member';
  /** member_muted: for how long and until when (ms); both 0 when unmuted. */
  seconds?: number;
  mutedUntil?: number;
  /** mute_all: on or off. */
  muted?: boolean;
  /** info_updated: the fields that changed, with their new values. */
  changes?: ImGroupInfoPatch;
}

/** `data` of a group notice (msgType 1001): who did it, to whom, with names to render it by. */
export interface ImGroupNoticeData extends Omit<ImGroupChange, 'groupId' | 'timestamp'> {
  byName: string;
  /** userId → userName, for (the first 20 of) userIds. */
  names: Record<string, string>;
}

export interface SessionInfo {
  userId: string;
  userName: string;
  appId: string;
  latestInboxSeq: number;
  /**
   * True when the server keeps group messages out of the inbox (read diffusion): groups are then
   * caught up with `chat:groups` / `chat:group-sync`. Absent on older servers.
   */
  groupSync?: boolean;
  tokenExpiresAt: number;
  serverTime: number;
}

export interface Envelope<T = unknown> {
  code: number;
  message: string;
  data?: T;
}

/** One page of a list (groups, conversations); `nextCursor` is null on the last. */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

export interface SyncResult {
  messages: ImMessage[];
  hasMore: boolean;
  latestInboxSeq: number;
}

/** Socket event names, both directions. */
export const SocketEvent = {
  SEND: 'chat:send',
  SYNC: 'chat:sync',
  /** The user's groups with their newest seq and the user's joined seq (client → server). */
  GROUPS: 'chat:groups',
  /** One group's messages after a seq (client → server): group catch-up. */
  GROUP_SYNC: 'chat:group-sync',
  RECEIPT: 'receipt',
  /** Several receipts of one status in one packet (client → server). */
  RECEIPTS: 'receipts',
  HEARTBEAT: 'heartbeat',
  TOKEN_RENEW: 'token:renew',
  SESSION: 'session',
  IMCHAT: 'imchat',
  GROUP_CHANGED: 'group:changed',
  TOKEN_WILL_EXPIRE: 'token:will-expire',
  TOKEN_EXPIRED: 'token:expired',
  KICKED: 'kicked',
  /** Client → server: a typing notice for a peer. */
  TYPING_SEND: 'chat:typing',
  /** Client → server: an online-only signal to a peer or group. */
  SIGNAL_SEND: 'chat:signal',
  TYPING: 'typing',
  SIGNAL: 'signal',
  /** Client → server: take a message back. */
  REVOKE: 'chat:revoke',
  /** Client → server: change a message's content. */
  EDIT: 'chat:edit',
  /** Client → server: follow users' presence (answers it), stop following, or just ask. */
  PRESENCE_SUBSCRIBE: 'presence:subscribe',
  PRESENCE_UNSUBSCRIBE: 'presence:unsubscribe',
  PRESENCE_GET: 'presence:get',
  /** Server → client: a followed user's first device came or last device went. */
  PRESENCE: 'presence',
  /** Server → client: one of my conversations as the server now has it, after a read, pin, mute or delete on any of my devices. */
  CONVERSATION_CHANGED: 'conversation:changed',
} as const;

/** Limits the server enforces (one copy, shared with it); checked on the client too so bad input never leaves the device. */
export const Limits = {
  CONTENT_BYTES: LIMITS.CONTENT_BYTES,
  DATA_BYTES: LIMITS.DATA_BYTES,
  DATA_DEPTH: LIMITS.DATA_DEPTH,
  ID_PATTERN,
  CLIENT_MSG_ID_PATTERN,
  HISTORY_MAX: LIMITS.HISTORY_MAX,
} as const;
