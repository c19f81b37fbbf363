import type { ImError } from './errors';
import type { ImConversation, ImGroupChange, ImMessage, ImMessageRevoked, ImPresence, ImReceipt, SessionInfo } from './protocol';

export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** Every event `ImClient` emits, with its arguments; `client.on(name, fn)` infers `fn` from here. */
export interface ImClientEvents {
  [event: string]: unknown[];
  /** The socket connected (first time and after every reconnect). */
  connect: [];
  disconnect: [reason: string];
  /** Same payload as `imchat`; kept for code written against older versions. */
  message: [message: ImMessage];
  error: [error: ImError];
  /** Reconnected after a drop; the attempt number that succeeded. */
  reconnect: [attemptNumber: number];
  status: [status: ConnectionStatus];
  /** A private or group message, live or caught up after a reconnect, each exactly once and in order. */
  imchat: [message: ImMessage];
  receipt: [receipt: ImReceipt];
  /** The post-connect catch-up has been delivered; the session is in sync with the server. */
  ready: [session: SessionInfo];
  /** Another login or the server ended this session; the client will not reconnect by itself. */
  kicked: [info: { reason: string }];
  tokenWillExpire: [info: { expiresAt: number }];
  tokenExpired: [info: { expiresAt: number }];
  groupChanged: [change: ImGroupChange];
  /** A peer is typing to me (at most one per 3 s per conversation; nothing is sent for "stopped"). */
  typing: [notice: { from: string; chatType: 0 | 1; to: string }];
  /** An online-only signal (call invite and the like): never stored, never caught up. */
  signal: [signal: { from: string; chatType: 0 | 1; to: string; data: unknown; timestamp: number }];
  /** A message was taken back (live, or caught up in order after it); its content is gone. On every device, the revoker's too. */
  messageRevoked: [info: ImMessageRevoked];
  /** A message was edited: the message as it is now (with `editedAt`). On every device, the editor's too. */
  messageEdited: [message: ImMessage];
  /** A user followed with `subscribePresence` came online (first device) or went offline (last device, after the grace period). */
  presence: [presence: ImPresence];
  /** One of my conversations as it is now: a message, a read, pin, mute or delete (`deleted: true`) on any device, a revoke of its last message, a draft. */
  conversationChanged: [conversation: ImConversation];
  /** The unread count of my conversations that are not muted changed (from the list on this device). */
  totalUnreadChanged: [total: number];
}
