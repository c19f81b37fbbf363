import { CLIENT_MSG_ID_PATTERN, ID_PATTERN, LIMITS } from '../../server/src/protocol/limits';

/** Wire types shared with the reference server; docs/protocol.md is the normative text. */

export const ChatType = { PRIVATE: 0, GROUP: 1 } as const;
export type ChatTypeValue = 0 | 1;

export const MsgType = { TEXT: 0, IMAGE: 1, FILE: 2, AUDIO: 3, VIDEO: 4, LOCATION: 5 } as const;

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
}

export interface ImGroupMember {
  userId: string;
  userName: string;
  userImg: string;
  role: 'owner' | 'member';
  joinedAt: number;
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
}

export interface ImGroupChange {
  groupId: string;
  action: 'created' | 'members_added' | 'member_removed' | 'member_left' | 'dismissed';
  userIds: string[];
  by: string;
  timestamp: number;
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
