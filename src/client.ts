import { isJwtShaped } from './auth/token-manager';
import { assembleClient, destroyedError, type ClientParts } from './assembly';
import type { Listener } from './core/emitter';
import type { ConnectionStatus, ImClientEvents } from './core/events';
import { isLogLevel, type ImLogger, type LogLevel } from './core/logger';
import { checkUrl, type ImClientOptions } from './core/options';
import {
  ChatType,
  type ImConversation,
  type ImGroup,
  type ImGroupMember,
  type ImGroupReadReceipt,
  type ImMessage,
  type ImPresence,
  type ImUser,
  type ListPage, type MessageData,
} from './core/protocol';
import { describe, invalid, requireObject } from './core/validate';
import type { HistoryQuery } from './features/history';
import type { UploadedFile, UploadParams } from './features/media';

export type { HistoryQuery } from './features/history';

/** Fields every send takes besides its target. */
export interface SendParams {
  content: string;
  msgType?: number;
  data?: unknown;
  /**
   * The id of an earlier send of this message, to send it again without a second copy: pass
   * `error.clientMsgId` after E_SEND_UNCERTAIN or E_TIMEOUT. The server answers a repeat with
   * the message it stored the first time. Omit it for a new message.
   */
  clientMsgId?: string;
  /** The messageId of a message of this conversation to reply to: the message carries `replyTo`, a preview of it. */
  replyTo?: string;
  /** Group messages: members to mention, or `'all'` (the group's owner). Their conversation gets `mentionedMe`. */
  mentions?: string[] | 'all';
}

/** Who a media message goes to: one user, or a group. */
export type MediaTarget = { recipientId: string; groupId?: undefined } | { groupId: string; recipientId?: undefined };
export type MediaSendParams = MediaTarget & UploadParams & { content?: string; clientMsgId?: string; replyTo?: string; mentions?: string[] | 'all' };

/** Private or group, from which of recipientId / groupId is given. */
function mediaChatType(method: string, params: unknown): 0 | 1 {
  const p = requireObject(method, params, '{ recipientId | groupId, … }');
  if (p.groupId !== undefined && p.recipientId !== undefined) throw invalid(method, 'give "recipientId" or "groupId", not both.');
  return p.groupId !== undefined ? ChatType.GROUP : ChatType.PRIVATE;
}

/**
 * The instant-messaging client. One instance holds one socket; the API and its behaviour are the
 * same on every platform, only the adapter differs. This class is the public surface only: each
 * method checks what it must and hands over to the module that owns the work (see README, Layout).
 */
export class ImClient {
  private readonly ctx: ClientParts['ctx'];
  private readonly auth: ClientParts['auth'];
  private readonly connection: ClientParts['connection'];
  private readonly messenger: ClientParts['messenger'];
  private readonly sync: ClientParts['sync'];
  private readonly features: ClientParts['features'];
  private readonly f: ClientParts['f'];

  constructor(options: ImClientOptions = {}) {
    ({ ctx: this.ctx, auth: this.auth, connection: this.connection, messenger: this.messenger, sync: this.sync, features: this.features, f: this.f } = assembleClient(options));
  }

  // ---------------------------------------------------------------- events and logging

  on<K extends keyof ImClientEvents & string>(event: K, callback: Listener<ImClientEvents[K]>): this {
    this.checkListener('on', event, callback);
    this.ctx.events.on(event, callback);
    return this;
  }

  once<K extends keyof ImClientEvents & string>(event: K, callback: Listener<ImClientEvents[K]>): this {
    this.checkListener('once', event, callback);
    this.ctx.events.on(event, callback, true);
    return this;
  }

  /** Removes one listener, every listener of an event (no callback), or all listeners (no args). */
  off<K extends keyof ImClientEvents & string>(event?: K, callback?: Listener<ImClientEvents[K]>): this {
    if (event !== undefined && typeof event !== 'string') throw invalid('off', `event must be a string, got ${describe(event)}.`);
    if (callback !== undefined && typeof callback !== 'function') {
      throw invalid('off', `callback must be a function, got ${describe(callback)}.`);
    }
    this.ctx.events.off(event, callback);
    return this;
  }

  setLogLevel(level: LogLevel): void {
    if (!isLogLevel(level)) throw invalid('setLogLevel', "level must be one of 'debug', 'info', 'warn', 'error', 'silent'.");
    this.ctx.log.setLevel(level);
  }

  setLogger(logger: ImLogger): void {
    if (!logger || ['debug', 'info', 'warn', 'error'].some((m) => typeof (logger as unknown as Record<string, unknown>)[m] !== 'function')) {
      throw invalid('setLogger', 'logger must have debug, info, warn and error methods.');
    }
    this.ctx.log.setLogger(logger);
  }

  // ---------------------------------------------------------------- auth

  /**
   * Gets a token from the API server with the app secret. For development: in production mint
   * tokens on your backend and pass them to `connect({ token })` or `tokenProvider`.
   */
  async getToken(params: { apiServer?: string; appId: string; appSecret: string; userId: string; userName?: string }): Promise<string> {
    this.assertAlive();
    return this.f.users.getToken(params);
  }

  /** Registers a user or updates their profile (needs the app secret: a backend or development call). */
  async registerUser(params: {
    apiServer?: string;
    appId: string;
    appSecret: string;
    userId: string;
    userName?: string;
    userImg?: string;
    companyName?: string;
    imRole?: 'user' | 'admin' | 'guest';
    valid?: boolean;
  }): Promise<ImUser> {
    this.assertAlive();
    return this.f.users.register(params);
  }

  /** Replaces the token; on a live connection the server is told at once (`token:renew`). */
  async renewToken(token: string): Promise<void> {
    this.assertAlive();
    if (!isJwtShaped(token)) throw invalid('renewToken', `token must be a JWT string from your backend or getToken(), got ${describe(token)}.`);
    this.auth.set(token);
    await this.connection.pushToken(token);
  }

  // ---------------------------------------------------------------- connection

  /**
   * Connects to the socket server. Resolves `true` once the server has accepted the session; the
   * `ready` event follows when missed messages have been caught up. A second call while connected
   * reuses the socket.
   */
  async connect(params: { serverUrl?: string; token?: string } = {}): Promise<boolean> {
    this.assertAlive();
    const p = requireObject('connect', params ?? {}, '{ serverUrl, token }');
    const serverUrl = p.serverUrl !== undefined ? checkUrl('serverUrl', p.serverUrl) : this.ctx.opts.serverUrl;
    if (!serverUrl) throw invalid('connect', 'no serverUrl: pass connect({ serverUrl }) or new ImClient({ serverUrl }).');
    if (p.token !== undefined) {
      if (!isJwtShaped(p.token)) throw invalid('connect', `"token" must be a JWT string, got ${describe(p.token)}.`);
      this.auth.set(p.token);
      const user = this.auth.user();
      if (user) this.connection.forgetSessionOf(user);
    }
    // Only a missing token waits: with one, the connection is active before connect() returns,
    // so a send made right after it is queued rather than refused.
    if (!this.auth.current) await this.auth.ensure('connect', 'Call getToken() first, pass connect({ token }), or set the tokenProvider option.');
    return this.connection.connect(serverUrl);
  }

  /** Closes the connection. Unsent messages are rejected; `connect()` may be called again later. */
  disconnect(): void {
    this.connection.stop('E_NOT_CONNECTED', 'disconnect() was called', 'io client disconnect');
  }

  /** Releases the socket, timers, platform listeners and event listeners. The instance is unusable afterwards. */
  destroy(): void {
    if (this.connection.destroyed) return;
    this.connection.stop('E_DESTROYED', 'destroy() was called', 'io client disconnect', undefined, 'destroyed');
    this.features.dispose();
    this.ctx.dispose();
  }

  /** Sends a heartbeat now; false when not connected. */
  sendHeartbeat(): boolean {
    return !this.connection.destroyed && this.connection.beat();
  }

  /** 'active' while heartbeats are answered within pingTimeout, else 'inactive'. */
  getHeartbeatStatus(): 'active' | 'inactive' {
    return this.connection.heartbeatActive ? 'active' : 'inactive';
  }

  /** The current connection status, as last reported by the `status` event. */
  getStatus(): ConnectionStatus {
    return this.connection.status;
  }

  /** The user of the current session, once connected. */
  getCurrentUser(): { userId: string; userName: string; appId: string } | undefined {
    const s = this.connection.session;
    return s ? { userId: s.userId, userName: s.userName, appId: s.appId } : undefined;
  }

  // ---------------------------------------------------------------- messages

  /** Resolves when the server stored the message; queued while reconnecting. */
  async sendPrivateMessage(params: SendParams & { recipientId: string }): Promise<ImMessage> {
    this.assertAlive();
    return this.messenger.send('sendPrivateMessage', ChatType.PRIVATE, params, 'recipientId');
  }

  async sendGroupMessage(params: SendParams & { groupId: string }): Promise<ImMessage> {
    this.assertAlive();
    return this.messenger.send('sendGroupMessage', ChatType.GROUP, params, 'groupId');
  }

  // ---------------------------------------------------------------- media (docs/media.md)

  /** Uploads a file for a message the app builds itself. */
  uploadFile(params: UploadParams): Promise<UploadedFile> {
    return this.f.media.upload(params);
  }

  /** An image (msgType 1): uploaded (EXIF stripped, thumbnail made by the server), then sent. */
  async sendImageMessage(params: MediaSendParams): Promise<ImMessage> {
    this.assertAlive();
    return this.f.media.image(params, mediaChatType('sendImageMessage', params));
  }

  /** Any file (msgType 2). */
  async sendFileMessage(params: MediaSendParams): Promise<ImMessage> {
    this.assertAlive();
    return this.f.media.file(params, mediaChatType('sendFileMessage', params));
  }

  /** A voice note (msgType 3); `duration` in seconds, as RecorderManager's onStop reports it (÷ 1000). */
  async sendAudioMessage(params: MediaSendParams & { duration: number }): Promise<ImMessage> {
    this.assertAlive();
    return this.f.media.audio(params, mediaChatType('sendAudioMessage', params));
  }

  /** A video (msgType 4); size and length default to what a chooseMedia item says, its thumbnail becomes the cover. */
  async sendVideoMessage(params: MediaSendParams & { duration?: number; width?: number; height?: number }): Promise<ImMessage> {
    this.assertAlive();
    return this.f.media.video(params, mediaChatType('sendVideoMessage', params));
  }

  /** "typing…" to a peer: the `typing` event on their devices. At most one per 3 s per peer (false when skipped or not connected). */
  sendTyping(params: { recipientId: string }): boolean {
    this.assertAlive();
    return this.f.signals.typing(params);
  }

  /** Takes a message back (sender within IM_REVOKE_WINDOW, group owner any time): `messageRevoked` on every device. */
  async revokeMessage(params: { messageId: string }): Promise<void> {
    this.assertAlive();
    return this.f.actions.revoke(params);
  }

  /** Edits one's own message within IM_EDIT_WINDOW; resolves with it as it is now; `messageEdited` on every device. */
  async editMessage(params: { messageId: string; content: string; data?: MessageData }): Promise<ImMessage> {
    this.assertAlive();
    return this.f.actions.edit(params);
  }

  /** An online-only signal to a peer or a group's members (`signal` event); never stored or caught up. */
  async sendSignal(params: MediaTarget & { data: unknown }): Promise<void> {
    this.assertAlive();
    return this.f.signals.signal(params, mediaChatType('sendSignal', params));
  }

  /** Tells the sender their message was read. Returns false when not connected (nothing is sent). */
  sendReadReceipt(messageId: string, toUserId?: string): boolean {
    this.assertAlive();
    return this.f.receipts.sendRead(messageId, toUserId);
  }

  // ---------------------------------------------------------------- users, groups, history

  getUserInfo(params: { apiServer?: string; userId: string }): Promise<ImUser> {
    return this.f.users.info(params);
  }

  createGroup(params: { apiServer?: string; name: string; description?: string; userIdList?: string[]; groupId?: string }): Promise<ImGroup> {
    return this.f.groups.create(params);
  }

  getGroupList(params: { apiServer?: string } = {}): Promise<ImGroup[]> {
    return this.f.groups.list(params);
  }

  /** One page of `getGroupList()`: pass `nextCursor` back as `cursor`; `limit` 1-500 (default 100). */
  getGroupListPage(params: { apiServer?: string; limit?: number; cursor?: string } = {}): Promise<ListPage<ImGroup>> {
    return this.f.groups.page(params);
  }

  getGroupInfo(params: { apiServer?: string; groupId: string }): Promise<ImGroup> {
    return this.f.groups.info(params);
  }

  getGroupMembers(params: { apiServer?: string; groupId: string }): Promise<ImGroupMember[]> {
    return this.f.groups.members(params);
  }

  addGroupMembers(params: { apiServer?: string; groupId: string; userIdList: string[] }): Promise<ImGroupMember[]> {
    return this.f.groups.addMembers(params);
  }

  /** Owner or admin (an admin removes plain members only). */
  removeGroupMember(params: { apiServer?: string; groupId: string; userId: string }): Promise<ImGroupMember[]> {
    return this.f.groups.removeMember(params);
  }

  leaveGroup(params: { apiServer?: string; groupId: string }): Promise<{ groupId: string }> {
    return this.f.groups.leave(params);
  }

  /** Owner only. */
  dismissGroup(params: { apiServer?: string; groupId: string }): Promise<{ groupId: string }> {
    return this.f.groups.dismiss(params);
  }

  /** Group history, oldest first. Page back with the smallest `seq` as `msgSeqId` and `syncType: 'BACK'`. */
  getGroupHistoryMessages(params: HistoryQuery & { groupId: string }): Promise<ImMessage[]> {
    return this.f.history.group(params);
  }

  /** Private-chat history with `peerId`, oldest first; paging as for groups. */
  getPrivateHistoryMessages(params: HistoryQuery & { peerId: string }): Promise<ImMessage[]> {
    return this.f.history.withPeer(params);
  }

  /** Conversations with their last message and unread count, pinned first, then most recent (every page). Kept on the device, current from events. */
  async getConversationList(params: { apiServer?: string } = {}): Promise<ImConversation[]> {
    return this.f.conversations.list(params);
  }

  /** One page of `getConversationList()` (not cached): pass `nextCursor` back as `cursor`. */
  getConversationListPage(params: { apiServer?: string; limit?: number; cursor?: string } = {}): Promise<ListPage<ImConversation>> {
    return this.f.conversations.page(params);
  }

  /**
   * The conversation list on this device (as last fetched, kept current from events since), for
   * rendering before the network is up (needs a token, to know whose it is). Empty when never fetched.
   */
  async getCachedConversationList(): Promise<ImConversation[]> {
    this.assertAlive();
    return this.f.conversations.cached();
  }

  /** Marks a conversation read up to `seq` (default: everything). */
  markConversationRead(params: { apiServer?: string; chatType: 0 | 1; targetId: string; seq?: number }): Promise<{ conversationId: string; readSeq: number; unreadCount: number }> {
    return this.f.conversations.markRead(params);
  }

  // ---------------------------------------------------------------- presence

  /** Follows users' presence (at most 500 a call, 1,000 in all): resolves with it now; `presence` events follow, also after reconnects. */
  subscribePresence(params: { userIds: string[] }): Promise<ImPresence[]> {
    return this.f.presence.subscribe(params);
  }

  /** Stops following these users (no more `presence` events for them). */
  unsubscribePresence(params: { userIds: string[] }): Promise<void> {
    return this.f.presence.unsubscribe(params);
  }

  /** Whether these users (at most 500) are online now, and when offline ones were last seen; follows nothing. */
  getPresence(params: { userIds: string[] }): Promise<ImPresence[]> {
    return this.f.presence.get(params);
  }

  // ---------------------------------------------------------------- conversation settings

  /** Pinned conversations are listed first; stored on the server, so every device of the user gets `conversationChanged`. */
  pinConversation(params: { apiServer?: string; chatType: 0 | 1; targetId: string; pinned: boolean }): Promise<ImConversation> {
    return this.f.conversations.setting('pinConversation', params, 'pinned');
  }
  /** A muted conversation keeps its unreadCount but is left out of getTotalUnreadCount() and totalUnreadChanged. */
  muteConversation(params: { apiServer?: string; chatType: 0 | 1; targetId: string; muted: boolean }): Promise<ImConversation> {
    return this.f.conversations.setting('muteConversation', params, 'muted');
  }
  /** Off the list on every device, its unread cleared (not marked read); the next message brings it back. */
  deleteConversation(params: { apiServer?: string; chatType: 0 | 1; targetId: string }): Promise<void> {
    return this.f.conversations.remove(params);
  }
  /** Unread messages of the conversations that are not muted, from the server. */
  getTotalUnreadCount(params: { apiServer?: string } = {}): Promise<number> {
    return this.f.conversations.totalUnread(params);
  }
  /** A draft kept on this device only ('' or null clears it): `draft` on the conversation, and `conversationChanged`. */
  setConversationDraft(params: { chatType: 0 | 1; targetId: string; draft: string | null }): Promise<void> {
    return this.f.conversations.setDraft(params);
  }

  // ---------------------------------------------------------------- group roles and settings

  /** Owner only: a member becomes an admin, or an admin a member again; members get `groupChanged` and a notice message. */
  setGroupMemberRole(params: { apiServer?: string; groupId: string; userId: string; role: 'admin' | 'member' }): Promise<ImGroupMember> {
    return this.f.groupAdmin.setRole(params);
  }
  /** Owner only, to a member: they become the owner, the caller a plain member. */
  transferGroupOwner(params: { apiServer?: string; groupId: string; userId: string }): Promise<ImGroup> {
    return this.f.groupAdmin.transferOwner(params);
  }
  /** Name, description, avatar: the owner; announcement: the owner or an admin. Resolves with the group as it is now. */
  updateGroupInfo(params: { apiServer?: string; groupId: string; name?: string; description?: string; announcement?: string; avatar?: string }): Promise<ImGroup> {
    return this.f.groupAdmin.updateInfo(params);
  }
  /** Owner or admin (an admin mutes plain members): no group sends (E_FORBIDDEN) for `seconds`, at most 30 days; 0 unmutes. */
  muteGroupMember(params: { apiServer?: string; groupId: string; userId: string; seconds: number }): Promise<ImGroupMember> {
    return this.f.groupAdmin.mute(params);
  }
  /** Owner or admin: while `muted`, only the owner and admins may send. */
  muteAllMembers(params: { apiServer?: string; groupId: string; muted: boolean }): Promise<ImGroup> {
    return this.f.groupAdmin.muteAll(params);
  }

  // ---------------------------------------------------------------- group read receipts

  /** Read / unread counts of up to 100 group messages (the sender and later joiners not counted), from the members' read positions. */
  getGroupMessageReadReceipts(params: { apiServer?: string; groupId: string; messageIds: string[] }): Promise<ImGroupReadReceipt[]> {
    return this.f.groupReceipts.counts(params);
  }

  /** One page of the members who have read (or not) a group message, by userId: pass `nextCursor` back as `cursor`; `limit` 1-500 (default 100). */
  getGroupMessageReadMembers(params: { apiServer?: string; groupId: string; messageId: string; filter: 'read' | 'unread'; cursor?: string; limit?: number }): Promise<ListPage<ImGroupMember>> {
    return this.f.groupReceipts.members(params);
  }

  // ---------------------------------------------------------------- checks

  private checkListener(method: string, event: unknown, callback: unknown): void {
    this.assertAlive();
    if (typeof event !== 'string' || !event) throw invalid(method, `event must be a non-empty string, got ${describe(event)}.`);
    if (typeof callback !== 'function') throw invalid(method, `callback must be a function, got ${describe(callback)}.`);
  }

  private assertAlive(): void {
    if (this.connection.destroyed) throw destroyedError();
  }
}
