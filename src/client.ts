import { nanoid } from 'nanoid/non-secure';
import type { ImAdapter, SocketLike, Unsubscribe } from './adapter';
import { detectAdapter } from './adapter-registry';
import { Emitter, type Listener } from './emitter';
import { ImError, fromServerError, toImError } from './errors';
import type { ConnectionStatus, ImClientEvents } from './events';
import { Heartbeat } from './heartbeat';
import { HttpApi } from './http-api';
import { InboxSequencer } from './inbox';
import { Log, type ImLogger, type LogLevel, isLogLevel } from './logger';
import { checkUrl, resolveOptions, type ImClientOptions, type ResolvedOptions } from './options';
import { CoalescedWriter } from './coalesced-writer';
import { readClaims } from './jwt-claims';
import { Outbox, type SendPayload, type StoredSend } from './outbox';
import {
  SocketEvent,
  type Envelope,
  type ImConversation,
  type ImGroup,
  type ImGroupChange,
  type ImGroupMember,
  type ImMessage,
  type ImReceipt,
  type ImUser,
  type SessionInfo,
  type SyncResult,
} from './protocol';
import {
  describe,
  invalid,
  optionalInt,
  optionalString,
  requireContent,
  requireData,
  requireId,
  requireObject,
} from './validate';

type Lifecycle = 'idle' | 'active' | 'stopped' | 'destroyed';

interface HistoryQuery {
  apiServer?: string;
  limitSize?: number;
  msgSeqId?: number;
  syncType?: 'BACK' | 'FORWARD';
  detailType?: number;
}

const SYNC_PAGE = 200;
/** Sends persisted by an app run that was killed are resent only within this age. */
const OUTBOX_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/**
 * How long outbox changes wait before they are written. Every write serialises the whole outbox,
 * and acks usually arrive within milliseconds, so a burst of sends and their acks costs one write
 * (or none) instead of one per send and per ack. What the delay risks is a send made in the last
 * 100 ms before the process dies without warning; app hide and stop write at once.
 */
const OUTBOX_WRITE_DELAY_MS = 100;
/**
 * Automatic delivery receipts wait this long and go out together (`receipts`, up to 100 ids): one
 * packet per burst or sync page instead of one per message, so the receiving device and the
 * server do a fraction of the work, and none of it sits between an arriving message and the app.
 * A delivered tick shown 50 ms later is not noticeable.
 */
const DELIVERY_RECEIPT_DELAY_MS = 50;
const RECEIPTS_PER_PACKET = 100;

/**
 * The instant-messaging client. One instance holds one socket; the API and its behaviour are the
 * same on every platform, only the adapter differs.
 */
export class ImClient {
  private readonly opts: ResolvedOptions;
  private readonly log: Log;
  private readonly events: Emitter<ImClientEvents>;
  private readonly http: HttpApi;
  private readonly outbox: Outbox;
  private readonly inbox: InboxSequencer;
  private readonly heartbeat: Heartbeat;
  private adapterInstance: ImAdapter | undefined;

  private token: string | undefined;
  private apiServerUsed: string | undefined;
  private socket: SocketLike | undefined;
  private socketUrl: string | undefined;
  private socketCleanup: Array<() => void> = [];
  private hookCleanup: Unsubscribe[] = [];
  private lifecycle: Lifecycle = 'idle';
  private currentStatus: ConnectionStatus = 'disconnected';
  private session: SessionInfo | undefined;
  private ready = false;
  private syncing = false;
  private syncAgain = false;
  private foreground = true;
  private lastForcedReconnect = 0;
  private serverDisconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly cursorWriter: CoalescedWriter;
  private readonly outboxWriter: CoalescedWriter;
  private outboxWriteTimer: ReturnType<typeof setTimeout> | undefined;
  private deliveredIds: string[] = [];
  private deliveredTimer: ReturnType<typeof setTimeout> | undefined;
  /** The outbox key this client last removed from storage, so an outbox emptied again costs no write. */
  private outboxClearedFor: string | undefined;
  private restoredOutboxFor: string | undefined;
  private leftovers: { key: string; read: Promise<StoredSend[]> } | undefined;
  /** The storage-key prefix read from a token, kept because decoding the token showed up in profiles. */
  private tokenKeyPrefix: { token: string; prefix: string | undefined } | undefined;
  private forcingReconnect = false;
  private connectWaiters: Array<{ resolve: (v: boolean) => void; reject: (e: ImError) => void }> = [];
  /** Socket requests waiting for an ack: failed at once when the connection goes, not at their timeout. */
  private readonly pendingRequests = new Set<{ timer: ReturnType<typeof setTimeout>; reject: (e: ImError) => void }>();

  constructor(options: ImClientOptions = {}) {
    this.opts = resolveOptions(options);
    this.log = new Log(this.opts.logLevel, options.logger);
    this.events = new Emitter<ImClientEvents>((event, err) =>
      this.log.error(`a listener for "${event}" threw; other listeners still ran`, err),
    );
    if (options.adapter !== undefined) {
      if (!options.adapter || typeof options.adapter.createSocket !== 'function' || typeof options.adapter.request !== 'function') {
        throw new ImError('E_INVALID_ARGUMENT', 'Option "adapter" must implement ImAdapter (createSocket, request, storage).');
      }
      this.adapterInstance = options.adapter;
      this.log.debug(`using injected adapter "${options.adapter.name}"`);
    }
    this.http = new HttpApi(() => this.adapter, this.opts.requestTimeout);
    const storageError = (what: string) => (err: unknown) => this.log.debug(`could not store ${what}`, err);
    this.cursorWriter = new CoalescedWriter(() => this.writeCursor(), storageError('the inbox position'));
    this.outboxWriter = new CoalescedWriter(() => this.writeOutbox(), storageError('the outbox'));
    this.outbox = new Outbox(() => this.opts.sendTimeout, (urgent) => (urgent ? this.writeOutboxNow() : this.writeOutboxSoon()));
    this.inbox = new InboxSequencer((m) => this.deliver(m));
    this.heartbeat = new Heartbeat(
      this.opts.pingInterval,
      this.opts.pingTimeout,
      (onPong) => this.emitHeartbeat(onPong),
      () => {
        this.log.warn(`no heartbeat answer within ${this.opts.pingTimeout} ms; reconnecting`);
        this.reconnectNow(true);
      },
    );
  }

  /** The platform adapter, detected on first use when none was injected. */
  private get adapter(): ImAdapter {
    if (!this.adapterInstance) {
      this.adapterInstance = detectAdapter();
      this.log.debug(`detected adapter "${this.adapterInstance.name}"`);
    }
    return this.adapterInstance;
  }

  // ---------------------------------------------------------------- events

  on<K extends keyof ImClientEvents & string>(event: K, callback: Listener<ImClientEvents[K]>): this {
    this.checkListener('on', event, callback);
    this.events.on(event, callback);
    return this;
  }

  once<K extends keyof ImClientEvents & string>(event: K, callback: Listener<ImClientEvents[K]>): this {
    this.checkListener('once', event, callback);
    this.events.on(event, callback, true);
    return this;
  }

  /** Removes one listener, every listener of an event (no callback), or all listeners (no args). */
  off<K extends keyof ImClientEvents & string>(event?: K, callback?: Listener<ImClientEvents[K]>): this {
    if (event !== undefined && typeof event !== 'string') throw invalid('off', `event must be a string, got ${describe(event)}.`);
    if (callback !== undefined && typeof callback !== 'function') {
      throw invalid('off', `callback must be a function, got ${describe(callback)}.`);
    }
    this.events.off(event, callback);
    return this;
  }

  private checkListener(method: string, event: unknown, callback: unknown): void {
    this.assertAlive();
    if (typeof event !== 'string' || !event) throw invalid(method, `event must be a non-empty string, got ${describe(event)}.`);
    if (typeof callback !== 'function') throw invalid(method, `callback must be a function, got ${describe(callback)}.`);
  }

  // ---------------------------------------------------------------- logging

  setLogLevel(level: LogLevel): void {
    if (!isLogLevel(level)) throw invalid('setLogLevel', "level must be one of 'debug', 'info', 'warn', 'error', 'silent'.");
    this.log.setLevel(level);
  }

  setLogger(logger: ImLogger): void {
    if (!logger || ['debug', 'info', 'warn', 'error'].some((m) => typeof (logger as unknown as Record<string, unknown>)[m] !== 'function')) {
      throw invalid('setLogger', 'logger must have debug, info, warn and error methods.');
    }
    this.log.setLogger(logger);
  }

  // ---------------------------------------------------------------- auth

  /**
   * Gets a token from the API server with the app secret. For development: in production mint
   * tokens on your backend and pass them to `connect({ token })` or `tokenProvider`.
   */
  async getToken(params: { apiServer?: string; appId: string; appSecret: string; userId: string; userName?: string }): Promise<string> {
    this.assertAlive();
    const p = requireObject('getToken', params, '{ apiServer, appId, appSecret, userId, userName }');
    const apiServer = this.apiServerFor('getToken', p.apiServer);
    const body = {
      appId: requireId('getToken', 'appId', p.appId),
      appSecret: this.requireSecret('getToken', p.appSecret),
      userId: requireId('getToken', 'userId', p.userId),
      userName: optionalString('getToken', 'userName', p.userName, 100),
    };
    const data = await this.http.call<{ token: string; userId: string; expiresAt: number }>(apiServer, {
      method: 'POST',
      path: '/api/token',
      body,
      context: 'getToken',
    });
    this.token = data.token;
    this.apiServerUsed = apiServer;
    return data.token;
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
    const m = 'registerUser';
    const p = requireObject(m, params, '{ apiServer, appId, appSecret, userId, userName, ... }');
    const apiServer = this.apiServerFor(m, p.apiServer);
    if (p.imRole !== undefined && !['user', 'admin', 'guest'].includes(p.imRole as string)) {
      throw invalid(m, `"imRole" must be 'user', 'admin' or 'guest', got ${describe(p.imRole)}.`);
    }
    if (p.valid !== undefined && typeof p.valid !== 'boolean') throw invalid(m, `"valid" must be true or false, got ${describe(p.valid)}.`);
    const body: Record<string, unknown> = {
      appId: requireId(m, 'appId', p.appId),
      appSecret: this.requireSecret(m, p.appSecret),
      userId: requireId(m, 'userId', p.userId),
    };
    const name = optionalString(m, 'userName', p.userName, 100);
    const img = optionalString(m, 'userImg', p.userImg, 1000);
    const company = optionalString(m, 'companyName', p.companyName, 200);
    if (name !== undefined) body.userName = name;
    if (img !== undefined) body.userImg = img;
    if (company !== undefined) body.companyName = company;
    if (p.imRole !== undefined) body.imRole = p.imRole;
    if (p.valid !== undefined) body.valid = p.valid;
    return this.http.call<ImUser>(apiServer, { method: 'POST', path: '/api/users', body, context: m });
  }

  /** Replaces the token; on a live connection the server is told at once (`token:renew`). */
  async renewToken(token: string): Promise<void> {
    this.assertAlive();
    if (typeof token !== 'string' || token.split('.').length !== 3) {
      throw invalid('renewToken', `token must be a JWT string from your backend or getToken(), got ${describe(token)}.`);
    }
    this.token = token;
    const socket = this.socket;
    if (socket && socket.connected) {
      await this.request<{ expiresAt: number }>(SocketEvent.TOKEN_RENEW, { token }, 'renewToken');
    } else if (this.lifecycle === 'active' && socket && this.currentStatus === 'disconnected') {
      socket.connect();
    }
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
    const serverUrl = p.serverUrl !== undefined ? checkUrl('serverUrl', p.serverUrl) : this.opts.serverUrl;
    if (!serverUrl) {
      throw invalid('connect', 'no serverUrl: pass connect({ serverUrl }) or new ImClient({ serverUrl }).');
    }
    if (p.token !== undefined) {
      if (typeof p.token !== 'string' || p.token.split('.').length !== 3) {
        throw invalid('connect', `"token" must be a JWT string, got ${describe(p.token)}.`);
      }
      this.token = p.token;
    }
    if (!this.token) this.token = await this.fetchProvidedToken('connect');
    if (!this.token) {
      throw new ImError('E_NO_TOKEN', 'connect: no token. Call getToken() first, pass connect({ token }), or set the tokenProvider option.');
    }

    if (this.socket && this.socketUrl === serverUrl && this.lifecycle === 'active') {
      if (this.session && this.socket.connected) return true;
      const waiting = this.waitForConnect();
      if (this.currentStatus === 'disconnected') {
        // Reconnection had given up; an explicit connect() tries again.
        this.setStatus('connecting');
        this.socket.connect();
      }
      return waiting;
    }
    if (this.socket) this.teardownSocket();

    this.lifecycle = 'active';
    this.socketUrl = serverUrl;
    this.installHooks();
    const socket = this.createSocket(serverUrl);
    this.socket = socket;
    const waiting = this.waitForConnect();
    this.setStatus('connecting');
    socket.connect();
    return waiting;
  }

  /** Closes the connection. Unsent messages are rejected; `connect()` may be called again later. */
  disconnect(): void {
    if (this.lifecycle === 'destroyed') return;
    this.stop('E_NOT_CONNECTED', 'disconnect() was called', 'io client disconnect');
  }

  /** Releases the socket, timers, platform listeners and event listeners. The instance is unusable afterwards. */
  destroy(): void {
    if (this.lifecycle === 'destroyed') return;
    this.stop('E_DESTROYED', 'destroy() was called', 'io client disconnect');
    this.lifecycle = 'destroyed';
    try {
      this.adapterInstance?.destroy?.();
    } catch (err) {
      this.log.warn('adapter.destroy() threw', err);
    }
    this.events.off();
  }

  /** Sends a heartbeat now; false when not connected. */
  sendHeartbeat(): boolean {
    if (this.lifecycle === 'destroyed') return false;
    return this.heartbeat.beat();
  }

  /** 'active' while heartbeats are answered within pingTimeout, else 'inactive'. */
  getHeartbeatStatus(): 'active' | 'inactive' {
    return this.socket?.connected && this.heartbeat.isActive() ? 'active' : 'inactive';
  }

  /** The current connection status, as last reported by the `status` event. */
  getStatus(): ConnectionStatus {
    return this.currentStatus;
  }

  /** The user of the current session, once connected. */
  getCurrentUser(): { userId: string; userName: string; appId: string } | undefined {
    return this.session ? { userId: this.session.userId, userName: this.session.userName, appId: this.session.appId } : undefined;
  }

  // ---------------------------------------------------------------- messages

  sendPrivateMessage(params: { content: string; recipientId: string; msgType?: number; data?: unknown }): Promise<ImMessage> {
    return this.send('sendPrivateMessage', 0, params, 'recipientId');
  }

  sendGroupMessage(params: { content: string; groupId: string; msgType?: number; data?: unknown }): Promise<ImMessage> {
    return this.send('sendGroupMessage', 1, params, 'groupId');
  }

  private async send(method: string, chatType: 0 | 1, params: unknown, targetField: string): Promise<ImMessage> {
    this.assertAlive();
    const p = requireObject(method, params, `{ content, ${targetField} }`);
    const msgType = optionalInt(method, 'msgType', p.msgType, 0, 1000) ?? 0;
    const payload: SendPayload = {
      clientMsgId: `${Date.now().toString(36)}-${nanoid(12)}`,
      chatType,
      to: requireId(method, targetField, p[targetField]),
      content: requireContent(method, p.content, msgType),
      msgType,
      data: requireData(method, p.data),
    };
    if (this.lifecycle !== 'active') {
      throw new ImError('E_NOT_CONNECTED', `${method}: not connected. Call connect() first (after getToken()).`);
    }
    const result = this.outbox.enqueue(payload);
    if (this.ready) this.flushOutbox();
    return result;
  }

  /** Tells the sender their message was read. Returns false when not connected (nothing is sent). */
  sendReadReceipt(messageId: string, toUserId?: string): boolean {
    this.assertAlive();
    if (typeof messageId !== 'string' || !messageId || messageId.length > 64) {
      throw invalid('sendReadReceipt', `messageId must be the messageId of a received message, got ${describe(messageId)}.`);
    }
    // Read implies delivered: a delivered receipt still waiting would reach the sender after this
    // one and turn "read" back into "delivered".
    const waiting = this.deliveredIds.indexOf(messageId);
    if (waiting >= 0) this.deliveredIds.splice(waiting, 1);
    const payload: Record<string, unknown> = { messageId, status: 2 };
    if (toUserId !== undefined && toUserId !== null) payload.to = requireId('sendReadReceipt', 'toUserId', toUserId);
    return this.emitReceipt(payload);
  }

  // ---------------------------------------------------------------- users, groups, history

  getUserInfo(params: { apiServer?: string; userId: string }): Promise<ImUser> {
    const p = requireObject('getUserInfo', params, '{ apiServer, userId }');
    const userId = requireId('getUserInfo', 'userId', p.userId);
    return this.authed('getUserInfo', p.apiServer, { method: 'GET', path: `/api/users/${encodeURIComponent(userId)}` });
  }

  createGroup(params: { apiServer?: string; name: string; description?: string; userIdList?: string[]; groupId?: string }): Promise<ImGroup> {
    const m = 'createGroup';
    const p = requireObject(m, params, '{ apiServer, name, description, userIdList }');
    if (typeof p.name !== 'string' || !p.name.trim() || p.name.length > 100) {
      throw invalid(m, `"name" must be a non-empty string of at most 100 characters, got ${describe(p.name)}.`);
    }
    const body: Record<string, unknown> = { name: p.name, userIdList: this.idList(m, p.userIdList ?? []) };
    const description = optionalString(m, 'description', p.description, 1000);
    if (description !== undefined) body.description = description;
    if (p.groupId !== undefined) body.groupId = requireId(m, 'groupId', p.groupId);
    return this.authed(m, p.apiServer, { method: 'POST', path: '/api/groups', body });
  }

  getGroupList(params: { apiServer?: string } = {}): Promise<ImGroup[]> {
    const p = requireObject('getGroupList', params ?? {}, '{ apiServer }');
    return this.authed('getGroupList', p.apiServer, { method: 'GET', path: '/api/groups' });
  }

  getGroupInfo(params: { apiServer?: string; groupId: string }): Promise<ImGroup> {
    const p = requireObject('getGroupInfo', params, '{ apiServer, groupId }');
    return this.authed('getGroupInfo', p.apiServer, { method: 'GET', path: this.groupPath('getGroupInfo', p.groupId) });
  }

  getGroupMembers(params: { apiServer?: string; groupId: string }): Promise<ImGroupMember[]> {
    const p = requireObject('getGroupMembers', params, '{ apiServer, groupId }');
    return this.authed('getGroupMembers', p.apiServer, { method: 'GET', path: `${this.groupPath('getGroupMembers', p.groupId)}/members` });
  }

  addGroupMembers(params: { apiServer?: string; groupId: string; userIdList: string[] }): Promise<ImGroupMember[]> {
    const m = 'addGroupMembers';
    const p = requireObject(m, params, '{ apiServer, groupId, userIdList }');
    const path = `${this.groupPath(m, p.groupId)}/members`;
    const list = this.idList(m, p.userIdList);
    if (!list.length) throw invalid(m, '"userIdList" must name at least one user.');
    return this.authed(m, p.apiServer, { method: 'POST', path, body: { userIdList: list } });
  }

  removeGroupMember(params: { apiServer?: string; groupId: string; userId: string }): Promise<ImGroupMember[]> {
    const m = 'removeGroupMember';
    const p = requireObject(m, params, '{ apiServer, groupId, userId }');
    const path = `${this.groupPath(m, p.groupId)}/members/${encodeURIComponent(requireId(m, 'userId', p.userId))}`;
    return this.authed(m, p.apiServer, { method: 'DELETE', path });
  }

  leaveGroup(params: { apiServer?: string; groupId: string }): Promise<{ groupId: string }> {
    const p = requireObject('leaveGroup', params, '{ apiServer, groupId }');
    return this.authed('leaveGroup', p.apiServer, { method: 'POST', path: `${this.groupPath('leaveGroup', p.groupId)}/leave` });
  }

  dismissGroup(params: { apiServer?: string; groupId: string }): Promise<{ groupId: string }> {
    const p = requireObject('dismissGroup', params, '{ apiServer, groupId }');
    return this.authed('dismissGroup', p.apiServer, { method: 'DELETE', path: this.groupPath('dismissGroup', p.groupId) });
  }

  /** Group history, oldest first. Page back with the smallest `seq` as `msgSeqId` and `syncType: 'BACK'`. */
  getGroupHistoryMessages(params: HistoryQuery & { groupId: string }): Promise<ImMessage[]> {
    const m = 'getGroupHistoryMessages';
    const p = requireObject(m, params, '{ apiServer, groupId, limitSize, msgSeqId, syncType }');
    return this.authed(m, p.apiServer, { method: 'GET', path: `${this.groupPath(m, p.groupId)}/messages`, query: this.historyQuery(m, p) });
  }

  /** Private-chat history with `peerId`, oldest first; paging as for groups. */
  getPrivateHistoryMessages(params: HistoryQuery & { peerId: string }): Promise<ImMessage[]> {
    const m = 'getPrivateHistoryMessages';
    const p = requireObject(m, params, '{ apiServer, peerId, limitSize, msgSeqId, syncType }');
    const peer = requireId(m, 'peerId', p.peerId);
    return this.authed(m, p.apiServer, { method: 'GET', path: `/api/private/${encodeURIComponent(peer)}/messages`, query: this.historyQuery(m, p) });
  }

  /** Conversations with their last message and unread count, most recent first. Also refreshes the local cache. */
  async getConversationList(params: { apiServer?: string } = {}): Promise<ImConversation[]> {
    const p = requireObject('getConversationList', params ?? {}, '{ apiServer }');
    const list = await this.authed<ImConversation[]>('getConversationList', p.apiServer, { method: 'GET', path: '/api/conversations' });
    const key = this.storageKey('conversations');
    if (key) {
      this.adapter.storage.setItem(key, JSON.stringify(list)).catch((err) => this.log.debug('could not cache conversations', err));
    }
    return list;
  }

  /**
   * The conversation list as last fetched on this device, for rendering before the network is up
   * (needs a token, to know whose cache to read). Empty when nothing is cached.
   */
  async getCachedConversationList(): Promise<ImConversation[]> {
    this.assertAlive();
    const key = this.storageKey('conversations');
    if (!key) return [];
    try {
      const raw = await this.adapter.storage.getItem(key);
      const list = raw ? (JSON.parse(raw) as unknown) : [];
      return Array.isArray(list) ? (list as ImConversation[]) : [];
    } catch (err) {
      this.log.debug('could not read cached conversations', err);
      return [];
    }
  }

  /** Marks a conversation read up to `seq` (default: everything). */
  markConversationRead(params: { apiServer?: string; chatType: 0 | 1; targetId: string; seq?: number }): Promise<{ conversationId: string; readSeq: number; unreadCount: number }> {
    const m = 'markConversationRead';
    const p = requireObject(m, params, '{ apiServer, chatType, targetId, seq }');
    if (p.chatType !== 0 && p.chatType !== 1) throw invalid(m, `"chatType" must be 0 (private) or 1 (group), got ${describe(p.chatType)}.`);
    const body: Record<string, unknown> = { chatType: p.chatType, targetId: requireId(m, 'targetId', p.targetId) };
    const seq = optionalInt(m, 'seq', p.seq, 0, Number.MAX_SAFE_INTEGER);
    if (seq !== undefined) body.seq = seq;
    return this.authed(m, p.apiServer, { method: 'POST', path: '/api/conversations/read', body });
  }

  // ---------------------------------------------------------------- HTTP helpers

  private apiServerFor(method: string, given: unknown): string {
    if (given !== undefined && given !== null && given !== '') return checkUrl('apiServer', given);
    const fallback = this.opts.apiServer ?? this.apiServerUsed;
    if (!fallback) {
      throw new ImError('E_NO_API_SERVER', `${method}: no apiServer. Pass { apiServer } in this call or new ImClient({ apiServer }).`);
    }
    return fallback;
  }

  private requireSecret(method: string, value: unknown): string {
    if (typeof value !== 'string' || !value || value.length > 200) {
      throw invalid(method, `"appSecret" must be the app's secret string, got ${describe(value)}.`);
    }
    return value;
  }

  private idList(method: string, value: unknown): string[] {
    if (!Array.isArray(value) || value.length > 500) {
      throw invalid(method, `"userIdList" must be an array of at most 500 user ids, got ${describe(value)}.`);
    }
    return value.map((id, i) => requireId(method, `userIdList[${i}]`, id));
  }

  private groupPath(method: string, groupId: unknown): string {
    return `/api/groups/${encodeURIComponent(requireId(method, 'groupId', groupId))}`;
  }

  private historyQuery(method: string, p: Record<string, unknown>): Record<string, string | number | undefined> {
    const syncType = p.syncType ?? 'BACK';
    if (syncType !== 'BACK' && syncType !== 'FORWARD') throw invalid(method, `"syncType" must be 'BACK' or 'FORWARD', got ${describe(syncType)}.`);
    return {
      limitSize: optionalInt(method, 'limitSize', p.limitSize, 1, 10000) ?? 20,
      msgSeqId: optionalInt(method, 'msgSeqId', p.msgSeqId, 0, Number.MAX_SAFE_INTEGER) ?? 0,
      syncType,
      detailType: optionalInt(method, 'detailType', p.detailType, 0, 0),
    };
  }

  /** An HTTP call as the current user; an expired token is renewed once through `tokenProvider`. */
  private async authed<T>(method: string, apiServerArg: unknown, req: { method: 'GET' | 'POST' | 'DELETE'; path: string; body?: unknown; query?: Record<string, string | number | undefined> }): Promise<T> {
    this.assertAlive();
    const apiServer = this.apiServerFor(method, apiServerArg);
    if (!this.token) this.token = await this.fetchProvidedToken(method);
    if (!this.token) {
      throw new ImError('E_NO_TOKEN', `${method}: no token. Call getToken() or connect({ token }) first, or set the tokenProvider option.`);
    }
    const call = () => this.http.call<T>(apiServer, { ...req, token: this.token, context: method });
    try {
      return await call();
    } catch (err) {
      if (err instanceof ImError && err.code === 'E_TOKEN_EXPIRED' && this.opts.tokenProvider) {
        this.token = await this.fetchProvidedToken(method);
        if (this.token) return call();
      }
      throw err;
    }
  }

  private async fetchProvidedToken(context: string): Promise<string | undefined> {
    if (!this.opts.tokenProvider) return undefined;
    let token: unknown;
    try {
      token = await this.opts.tokenProvider();
    } catch (err) {
      throw toImError(err, 'E_NO_TOKEN', `${context}: tokenProvider failed`);
    }
    if (typeof token !== 'string' || token.split('.').length !== 3) {
      throw new ImError('E_NO_TOKEN', `${context}: tokenProvider must return a token string, it returned ${describe(token)}.`);
    }
    return token;
  }

  // ---------------------------------------------------------------- socket lifecycle

  private createSocket(url: string): SocketLike {
    const socket = this.adapter.createSocket(url, {
      auth: (cb) => cb({ token: this.token ?? '' }),
      reconnection: this.opts.reconnection,
      reconnectionAttempts: this.opts.reconnectionAttempts,
      reconnectionDelay: this.opts.reconnectionDelay,
      reconnectionDelayMax: Math.max(this.opts.reconnectionDelay, 5000),
      timeout: this.opts.timeout,
      transports: ['websocket'],
      autoConnect: false,
    });
    const on = (target: { on(e: string, f: (...a: any[]) => void): unknown; off(e?: string, f?: (...a: any[]) => void): unknown }, event: string, fn: (...a: any[]) => void) => {
      const guarded = (...args: any[]) => {
        try {
          fn(...args);
        } catch (err) {
          this.log.error(`internal error handling "${event}"`, err);
        }
      };
      target.on(event, guarded);
      this.socketCleanup.push(() => target.off(event, guarded));
    };
    on(socket, 'connect', () => this.onSocketConnect());
    on(socket, 'disconnect', (reason: string) => this.onSocketDisconnect(String(reason)));
    on(socket, 'connect_error', (err: unknown) => this.onConnectError(err));
    on(socket, SocketEvent.SESSION, (s: SessionInfo) => this.onSession(s));
    on(socket, SocketEvent.IMCHAT, (m: ImMessage) => this.onLiveMessage(m));
    on(socket, SocketEvent.RECEIPT, (r: ImReceipt) => this.events.emit('receipt', r));
    on(socket, SocketEvent.GROUP_CHANGED, (c: ImGroupChange) => this.events.emit('groupChanged', c));
    on(socket, SocketEvent.KICKED, (info: { reason?: string }) => this.onKicked(String(info?.reason ?? 'unknown')));
    on(socket, SocketEvent.TOKEN_WILL_EXPIRE, (info: { expiresAt: number }) => this.onTokenWillExpire(info));
    on(socket, SocketEvent.TOKEN_EXPIRED, (info: { expiresAt: number }) => this.onTokenExpired(info));
    on(socket.io, 'reconnect_attempt', () => this.setStatus('reconnecting'));
    on(socket.io, 'reconnect', (attempt: number) => this.events.emit('reconnect', Number(attempt)));
    on(socket.io, 'reconnect_failed', () => this.onReconnectFailed());
    return socket;
  }

  private installHooks(): void {
    if (this.hookCleanup.length) return;
    const adapter = this.adapter;
    if (adapter.onNetworkChange) {
      this.hookCleanup.push(
        adapter.onNetworkChange((online) => {
          this.log.debug(`network ${online ? 'online' : 'offline'}`);
          if (online) this.reconnectNow(false);
        }),
      );
    }
    if (adapter.onAppStateChange) {
      this.hookCleanup.push(
        adapter.onAppStateChange((state) => {
          this.log.debug(`app ${state}`);
          this.foreground = state === 'foreground';
          if (!this.foreground) {
            this.heartbeat.stop();
            // A hidden app may be killed without another callback: pending sends must be stored now.
            this.flushOutboxWrite();
            return;
          }
          if (this.socket?.connected) this.heartbeat.start();
          else this.reconnectNow(false);
        }),
      );
    }
  }

  /**
   * Reconnects at once instead of waiting out the backoff timer (network back, app shown, dead
   * heartbeat). Rate-limited so a burst of platform events cannot cause a reconnect storm.
   */
  private reconnectNow(force: boolean): void {
    const socket = this.socket;
    if (this.lifecycle !== 'active' || !socket) return;
    if (socket.connected && !force) return;
    const now = Date.now();
    if (now - this.lastForcedReconnect < 2000) return;
    this.lastForcedReconnect = now;
    this.log.info('reconnecting now');
    // disconnect() cancels the manager's pending backoff timer; connect() opens a fresh attempt.
    this.forcingReconnect = true;
    try {
      socket.disconnect();
    } finally {
      this.forcingReconnect = false;
    }
    this.onConnectionLost('reconnecting');
    socket.connect();
  }

  private waitForConnect(): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
  }

  private settleConnect(err: ImError | null): void {
    const waiters = this.connectWaiters;
    this.connectWaiters = [];
    for (const w of waiters) {
      if (err) w.reject(err);
      else w.resolve(true);
    }
  }

  private onSocketConnect(): void {
    this.log.info(`connected to ${this.socketUrl}`);
    if (this.serverDisconnectTimer) clearTimeout(this.serverDisconnectTimer);
    this.setStatus('connected');
    this.events.emit('connect');
  }

  private onSession(session: SessionInfo): void {
    if (!session || typeof session.userId !== 'string') return;
    const previous = this.session;
    this.session = session;
    if (previous && (previous.userId !== session.userId || previous.appId !== session.appId)) this.inbox.clear();
    this.heartbeat.reset();
    if (this.foreground) this.heartbeat.start();
    this.settleConnect(null);
    void this.catchUp();
  }

  /** After every (re)connect: restore the cursor, sync what was missed, flush the outbox, then `ready`. */
  private async catchUp(): Promise<void> {
    const session = this.session;
    if (!session) return;
    if (this.inbox.position === undefined) {
      const stored = await this.readCursor(session);
      if (this.session !== session) return;
      // A device without a stored cursor starts at the present; older messages are in history.
      this.inbox.reset(stored ?? session.latestInboxSeq);
    }
    await this.restoreOutbox();
    if (this.session !== session) return;
    const synced = await this.sync();
    if (this.session !== session || !this.socket?.connected) return;
    if (!synced) {
      // Connected but the sync failed (timed out): a fresh connection is the reliable retry.
      this.reconnectNow(true);
      return;
    }
    this.ready = true;
    this.flushOutbox();
    this.events.emit('ready', session);
  }

  /** Pulls inbox pages until the server has nothing newer. Returns false if the connection dropped. */
  private async sync(): Promise<boolean> {
    if (this.syncing) {
      this.syncAgain = true;
      return true;
    }
    this.syncing = true;
    try {
      do {
        this.syncAgain = false;
        for (;;) {
          const after = this.inbox.position ?? 0;
          const page = await this.request<SyncResult>(SocketEvent.SYNC, { afterInboxSeq: after, limit: SYNC_PAGE }, 'sync');
          for (const m of page.messages) this.acceptInbox(m);
          if (!page.hasMore || !page.messages.length) break;
        }
        // The server numbers inboxes without gaps, so a gap left after a complete sync can never
        // fill; skipping it keeps delivery live instead of stalling behind it forever.
        if (this.inbox.hasGap) {
          this.log.warn('inbox gap not filled by a complete sync; skipping ahead');
          this.inbox.skipGap();
        }
      } while (this.syncAgain);
      return true;
    } catch (err) {
      this.log.warn('catch-up sync failed; it will run again on the next connection', err);
      return false;
    } finally {
      this.syncing = false;
    }
  }

  private onLiveMessage(m: ImMessage): void {
    if (!m || typeof m !== 'object') return;
    const gap = this.acceptInbox(m);
    if (gap && this.ready && !this.syncing) void this.sync();
  }

  /** Routes one inbox message: the sender's own pending send settles it, others go to the sequencer. */
  private acceptInbox(m: ImMessage): boolean {
    if (typeof m.inboxSeq !== 'number') return false;
    const own = this.session && m.from === this.session.userId && this.outbox.has(m.clientMsgId);
    if (own) {
      // Our own send seen in a sync: its ack was lost with the connection, this is the answer.
      this.outbox.answer(m.clientMsgId, null, m);
      return this.inbox.accept({ inboxSeq: m.inboxSeq, message: null });
    }
    return this.inbox.accept({ inboxSeq: m.inboxSeq, message: m });
  }

  private deliver(m: ImMessage): void {
    this.saveCursor();
    this.events.emit('imchat', m);
    this.events.emit('message', m);
    if (this.opts.autoDeliveryReceipt && m.chatType === 0 && this.session && m.from !== this.session.userId) {
      this.queueDeliveryReceipt(m.messageId);
    }
  }

  private flushOutbox(): void {
    const socket = this.socket;
    if (!socket?.connected) return;
    this.outbox.flush((payload, onAck) => {
      socket.emit(SocketEvent.SEND, payload, (res: Envelope<ImMessage>) => {
        if (!res || typeof res !== 'object' || typeof res.code !== 'number') {
          onAck(new ImError('E_SERVER', 'sendMessage: the server answered without an envelope.'));
          return;
        }
        if (res.code !== 0 || !res.data) {
          onAck(fromServerError(res.code, res.message, 'sendMessage'));
          return;
        }
        const message = res.data;
        if (typeof message.inboxSeq === 'number') this.inbox.accept({ inboxSeq: message.inboxSeq, message: null });
        this.saveCursor();
        onAck(null, message);
      });
    });
  }

  private onSocketDisconnect(reason: string): void {
    this.log.info(`disconnected: ${reason}`);
    this.onConnectionLost(this.lifecycle === 'active' ? 'reconnecting' : 'disconnected');
    this.events.emit('disconnect', reason);
    if (this.lifecycle !== 'active') return;
    if (reason === 'io server disconnect') {
      // The server closed this session deliberately; socket.io will not retry by itself. Kicks and
      // expiry stop the lifecycle before we get here, so this is a restart or an admin action.
      this.setStatus('reconnecting');
      this.serverDisconnectTimer = setTimeout(() => {
        if (this.lifecycle === 'active' && this.socket && !this.socket.connected) this.socket.connect();
      }, this.opts.reconnectionDelay);
    } else if (reason === 'io client disconnect' && !this.forcingReconnect) {
      this.setStatus('disconnected');
    } else if (!this.opts.reconnection) {
      this.giveUp('E_NETWORK', `connection lost (${reason}) and reconnection is off`);
    }
  }

  private onConnectionLost(status: ConnectionStatus): void {
    this.deliveredIds.length = 0;
    if (this.deliveredTimer !== undefined) clearTimeout(this.deliveredTimer);
    this.deliveredTimer = undefined;
    this.failPendingRequests();
    this.ready = false;
    this.heartbeat.stop();
    this.heartbeat.reset();
    this.outbox.connectionLost();
    this.setStatus(status);
  }

  private onConnectError(err: unknown): void {
    const data = (err as { data?: { code?: number; message?: string } } | undefined)?.data;
    const text = err instanceof Error ? err.message : String(err);
    if (data && typeof data.code === 'number') {
      const error = fromServerError(data.code, data.message ?? text, 'connect');
      if (error.code === 'E_TOKEN_EXPIRED' && this.opts.tokenProvider) {
        void this.refreshTokenAndReconnect();
        return;
      }
      if (error.code === 'E_TOKEN_EXPIRED') this.events.emit('tokenExpired', { expiresAt: 0 });
      this.emitError(error);
      this.stop(error.code === 'E_TOKEN_EXPIRED' ? 'E_TOKEN_EXPIRED' : 'E_NOT_CONNECTED', `the server refused the connection (${error.message})`, 'io client disconnect', error);
      return;
    }
    const hint = this.adapterInstance?.socketErrorHint?.(this.socketUrl ?? '');
    this.log.warn(`cannot reach ${this.socketUrl}: ${text}${hint ? ` (${hint})` : ''}`);
    if (!this.opts.reconnection) {
      this.giveUp('E_NETWORK', `cannot reach ${this.socketUrl} (${text})`);
    } else if (this.currentStatus !== 'connecting') {
      this.setStatus('reconnecting');
    }
  }

  private async refreshTokenAndReconnect(): Promise<void> {
    try {
      const token = await this.fetchProvidedToken('reconnect');
      if (!token || this.lifecycle !== 'active') return;
      this.token = token;
      this.socket?.connect();
    } catch (err) {
      const error = toImError(err, 'E_TOKEN_EXPIRED', 'reconnect');
      this.emitError(error);
      this.stop('E_TOKEN_EXPIRED', 'the token expired and tokenProvider failed', 'io client disconnect', error);
    }
  }

  private onReconnectFailed(): void {
    this.giveUp('E_NETWORK', `could not reconnect to ${this.socketUrl} after ${this.opts.reconnectionAttempts} attempts`);
  }

  /** Reconnection gave up: report it, fail what is waiting, but keep the socket for a later reconnectNow(). */
  private giveUp(code: 'E_NETWORK', reason: string): void {
    const error = new ImError(code, `${reason}. Check the network and serverUrl; the client reconnects when the network comes back or connect() is called.`);
    this.setStatus('disconnected');
    this.emitError(error);
    this.settleConnect(error);
    this.outbox.failAll(code, reason);
  }

  private onKicked(reason: string): void {
    this.log.warn(`kicked by the server: ${reason}`);
    this.events.emit('kicked', { reason });
    this.stop('E_KICKED', `the server ended this session (${reason})`, 'kicked');
  }

  private onTokenWillExpire(info: { expiresAt: number }): void {
    this.events.emit('tokenWillExpire', { expiresAt: Number(info?.expiresAt) || 0 });
    if (!this.opts.tokenProvider) return;
    void (async () => {
      try {
        const token = await this.fetchProvidedToken('renewToken');
        if (token) await this.renewToken(token);
      } catch (err) {
        this.emitError(toImError(err, 'E_TOKEN_EXPIRED', 'automatic token renewal failed'));
      }
    })();
  }

  private onTokenExpired(info: { expiresAt: number }): void {
    this.events.emit('tokenExpired', { expiresAt: Number(info?.expiresAt) || 0 });
    if (this.opts.tokenProvider) {
      // The server closes the socket next; a fresh token makes the reconnect succeed.
      void this.refreshTokenAndReconnect();
      return;
    }
    this.stop('E_TOKEN_EXPIRED', 'the token expired', 'token expired');
  }

  /** Ends the connection on our side (explicit disconnect, kick, auth failure, destroy). */
  private stop(code: 'E_NOT_CONNECTED' | 'E_KICKED' | 'E_DESTROYED' | 'E_TOKEN_EXPIRED', reason: string, disconnectReason: string, connectError?: ImError): void {
    const wasActive = this.lifecycle === 'active';
    if (this.lifecycle !== 'destroyed') this.lifecycle = 'stopped';
    const socket = this.socket;
    const wasConnected = !!socket?.connected;
    this.teardownSocket();
    this.settleConnect(connectError ?? new ImError(code, `connect: ${reason}.`));
    this.outbox.failAll(code, reason);
    // failAll() wrote at once if it rejected anything; this covers acks still waiting for the delay,
    // and leaves no timer behind destroy().
    this.flushOutboxWrite();
    this.onConnectionLost('disconnected');
    if (wasActive && wasConnected) this.events.emit('disconnect', disconnectReason);
  }

  private failPendingRequests(): void {
    for (const pending of [...this.pendingRequests]) {
      clearTimeout(pending.timer);
      pending.reject(new ImError('E_NOT_CONNECTED', 'the connection was lost before the server answered.'));
    }
    this.pendingRequests.clear();
  }

  private teardownSocket(): void {
    this.failPendingRequests();
    if (this.serverDisconnectTimer) clearTimeout(this.serverDisconnectTimer);
    for (const undo of this.socketCleanup.splice(0)) undo();
    for (const undo of this.hookCleanup.splice(0)) undo();
    const socket = this.socket;
    this.socket = undefined;
    this.session = undefined;
    this.ready = false;
    this.heartbeat.stop();
    if (socket) {
      try {
        socket.disconnect();
      } catch (err) {
        this.log.debug('socket.disconnect() threw', err);
      }
    }
  }

  // ---------------------------------------------------------------- socket helpers

  /** An emit with ack as a promise, bounded by `sendTimeout`. */
  private request<T>(event: string, payload: unknown, context: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const socket = this.socket;
      if (!socket?.connected) {
        reject(new ImError('E_NOT_CONNECTED', `${context}: not connected.`));
        return;
      }
      const pending = {
        timer: setTimeout(() => {
          this.pendingRequests.delete(pending);
          reject(new ImError('E_TIMEOUT', `${context}: no answer from the server within ${this.opts.sendTimeout} ms.`));
        }, this.opts.sendTimeout),
        reject,
      };
      this.pendingRequests.add(pending);
      socket.emit(event, payload, (res: Envelope<T>) => {
        if (!this.pendingRequests.delete(pending)) return; // already failed or timed out
        clearTimeout(pending.timer);
        if (!res || typeof res.code !== 'number') reject(new ImError('E_SERVER', `${context}: the server answered without an envelope.`));
        else if (res.code !== 0) reject(fromServerError(res.code, res.message, context));
        else resolve(res.data as T);
      });
    });
  }

  private emitHeartbeat(onPong: () => void): boolean {
    const socket = this.socket;
    if (!socket?.connected) return false;
    socket.emit(SocketEvent.HEARTBEAT, { ts: Date.now() }, (res: Envelope) => {
      if (res && res.code === 0) onPong();
    });
    return true;
  }

  private queueDeliveryReceipt(messageId: string): void {
    this.deliveredIds.push(messageId);
    if (this.deliveredIds.length >= RECEIPTS_PER_PACKET) this.sendDeliveryReceipts();
    else if (this.deliveredTimer === undefined) this.deliveredTimer = setTimeout(() => this.sendDeliveryReceipts(), DELIVERY_RECEIPT_DELAY_MS);
  }

  /**
   * Receipts are live only (protocol 6.7): ids gathered while the connection drops are not kept,
   * as a single receipt would not have been sent either.
   */
  private sendDeliveryReceipts(): void {
    if (this.deliveredTimer !== undefined) clearTimeout(this.deliveredTimer);
    this.deliveredTimer = undefined;
    const ids = this.deliveredIds.splice(0);
    const socket = this.socket;
    if (!ids.length || !socket?.connected) return;
    socket.emit(SocketEvent.RECEIPTS, { messageIds: ids, status: 1 }, (res: Envelope<{ refused?: Array<{ messageId: string; message: string }> }>) => {
      if (res && res.code !== 0) this.log.debug(`delivery receipts refused: ${res.message}`);
      for (const r of res?.data?.refused ?? []) this.log.debug(`delivery receipt for ${r.messageId} refused: ${r.message}`);
    });
  }

  private emitReceipt(payload: Record<string, unknown>): boolean {
    const socket = this.socket;
    if (!socket?.connected) return false;
    socket.emit(SocketEvent.RECEIPT, payload, (res: Envelope) => {
      if (res && res.code !== 0) this.log.debug(`receipt for ${String(payload.messageId)} refused: ${res.message}`);
    });
    return true;
  }

  private emitError(error: ImError): void {
    if (this.events.listenerCount('error') === 0) this.log.error(error.message);
    this.events.emit('error', error);
  }

  private setStatus(status: ConnectionStatus): void {
    if (status === this.currentStatus) return;
    this.currentStatus = status;
    this.events.emit('status', status);
  }

  private assertAlive(): void {
    if (this.lifecycle === 'destroyed') {
      throw new ImError('E_DESTROYED', 'This ImClient was destroyed; create a new one.');
    }
  }

  // ---------------------------------------------------------------- cursor persistence

  /** Per-user storage keys; the user comes from the token, so caches work before the socket is up. */
  private storageKey(what: 'inboxSeq' | 'outbox' | 'conversations'): string | undefined {
    const s = this.session;
    const prefix = s?.appId && s.userId ? `comind-im:v1:${s.appId}:${s.userId}:` : this.prefixFromToken();
    return prefix === undefined ? undefined : prefix + what;
  }

  private prefixFromToken(): string | undefined {
    const token = this.token;
    if (!token) return undefined;
    if (this.tokenKeyPrefix?.token !== token) {
      const claims = readClaims(token);
      this.tokenKeyPrefix = { token, prefix: claims ? `comind-im:v1:${claims.app}:${claims.sub}:` : undefined };
    }
    return this.tokenKeyPrefix.prefix;
  }

  private cursorKey(s: SessionInfo): string {
    return `comind-im:v1:${s.appId}:${s.userId}:inboxSeq`;
  }

  /** Persists the outbox within OUTBOX_WRITE_DELAY_MS; later changes in that window ride along. */
  private writeOutboxSoon(): void {
    // Once stopped nothing else would flush it (and destroy() must leave no timer), so write now.
    if (this.lifecycle !== 'active') {
      this.writeOutboxNow();
      return;
    }
    if (this.outboxWriteTimer !== undefined) return;
    this.outboxWriteTimer = setTimeout(() => {
      this.outboxWriteTimer = undefined;
      this.outboxWriter.schedule();
    }, OUTBOX_WRITE_DELAY_MS);
  }

  /** Persists the outbox at once (after a write in progress); a change waiting for its delay goes with it. */
  private writeOutboxNow(): void {
    if (this.outboxWriteTimer !== undefined) clearTimeout(this.outboxWriteTimer);
    this.outboxWriteTimer = undefined;
    this.outboxWriter.schedule();
  }

  /** Writes now what is waiting for the delay, if anything: without a timer, storage is current or being written. */
  private flushOutboxWrite(): void {
    if (this.outboxWriteTimer !== undefined) this.writeOutboxNow();
  }

  private async writeOutbox(): Promise<void> {
    const key = this.storageKey('outbox');
    if (!key) return;
    // Until what an earlier run left under this key has been taken in, a write would replace it
    // unread (a send made before the session is ready does that). While active it joins the
    // outbox (and goes out first); otherwise it only stays in the stored copy, so it can never be
    // sent on a connection of whichever user connects next.
    let kept: StoredSend[] = [];
    if (this.restoredOutboxFor !== key) {
      const left = await this.leftoversOf(key);
      if (this.storageKey('outbox') !== key) return; // another user now; their own write follows
      if (this.lifecycle === 'active') this.takeLeftovers(key, left);
      else kept = left;
    }
    const current = this.outbox.snapshot();
    const items = kept.length ? [...kept.filter((k) => !current.some((c) => c.payload.clientMsgId === k.payload.clientMsgId)), ...current] : current;
    if (items.length) {
      this.outboxClearedFor = undefined;
      await this.adapter.storage.setItem(key, JSON.stringify(items));
    } else if (this.outboxClearedFor !== key) {
      await this.adapter.storage.removeItem(key);
      this.outboxClearedFor = key;
    }
  }

  /** Once per user and client: picks up sends an earlier run of the app left unconfirmed. */
  private async restoreOutbox(): Promise<void> {
    const key = this.storageKey('outbox');
    if (!key || this.restoredOutboxFor === key) return;
    const left = await this.leftoversOf(key);
    if (this.storageKey('outbox') === key && this.lifecycle === 'active') this.takeLeftovers(key, left);
  }

  private takeLeftovers(key: string, items: StoredSend[]): void {
    if (this.restoredOutboxFor === key) return;
    this.restoredOutboxFor = key;
    if (items.length) {
      this.log.info(`resending ${items.length} message(s) left unconfirmed by an earlier run`);
      this.outbox.restore(items);
    }
  }

  /** What an earlier run left under `key`, read once; concurrent callers share the read. */
  private leftoversOf(key: string): Promise<StoredSend[]> {
    if (this.leftovers?.key !== key) {
      const read = (async (): Promise<StoredSend[]> => {
        try {
          const raw = await this.adapter.storage.getItem(key);
          if (!raw) return [];
          return (JSON.parse(raw) as StoredSend[]).filter(
            (i) => i && i.payload && typeof i.payload.clientMsgId === 'string' && typeof i.createdAt === 'number' && Date.now() - i.createdAt < OUTBOX_MAX_AGE_MS,
          );
        } catch (err) {
          this.log.warn('could not read the stored outbox', err);
          return [];
        }
      })();
      this.leftovers = { key, read };
    }
    return this.leftovers.read;
  }

  private async readCursor(s: SessionInfo): Promise<number | undefined> {
    try {
      const raw = await this.adapter.storage.getItem(this.cursorKey(s));
      const n = raw === null ? NaN : Number(raw);
      // A stored cursor past the server's newest means the server was reset: start over.
      return Number.isInteger(n) && n >= 0 && n <= s.latestInboxSeq ? n : undefined;
    } catch (err) {
      this.log.warn('could not read the stored inbox position', err);
      return undefined;
    }
  }

  private saveCursor(): void {
    this.cursorWriter.schedule();
  }

  private async writeCursor(): Promise<void> {
    const s = this.session;
    const pos = this.inbox.position;
    if (s && pos !== undefined) await this.adapter.storage.setItem(this.cursorKey(s), String(pos));
  }
}
