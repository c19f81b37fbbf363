/**
 * The app's chat state, shared by every page through getApp().globalData.store.
 *
 * It owns nothing but plain data and listens to the one ImClient of the app. Pages subscribe with
 * store.on(event, fn) (which returns the unsubscribe function) and render what they get:
 *
 *   'session'        { userId, userName } | null    signed in / out
 *   'status'         { kind, text, visible, ... }   connection bar
 *   'conversations'  Conversation[]                 newest first, with unreadCount
 *   'message'        Message                        every message received (live or caught up) or sent
 *   'receipt'        { peerId, status, seq }        the peer received (1) / read (2) up to seq
 *   'groups'         Group[]
 *   'groupChanged'   { groupId, action, ... }
 *   'presence'       { userId, online, lastSeenAt }  a watched user came online / went offline
 */
const { Emitter } = require('./emitter');
const { describeError } = require('./format');
const { t } = require('./i18n');

const SESSION_KEY = 'demo:session';
const RECEIPTS_KEY = 'demo:receipts:';

function conversationKey(chatType, targetId) {
  return `${chatType}:${targetId}`;
}

/** The list's order, as the SDK and server keep it: pinned first, then the most recent. */
function byPinnedThenRecent(a, b) {
  return (b.pinned ? 1 : 0) - (a.pinned ? 1 : 0) || (b.updatedAt || 0) - (a.updatedAt || 0);
}

class ChatStore extends Emitter {
  constructor(im, config) {
    super();
    this.im = im;
    this.config = config;
    this.me = null;
    this.online = true;
    this.kicked = false;
    this.conversations = [];
    this.conversationsLoaded = false;
    this.groups = [];
    this.groupsLoaded = false;
    /** Key of the conversation whose chat page is on screen: its messages are read, not unread. */
    this.active = null;
    /** peerId -> { read, delivered }: the highest seq of my messages the peer received / read. */
    this.receipts = {};
    this.refreshTimer = null;
    this.restoring = null;
    /** userId -> { online, lastSeenAt } of the users some page watches (online dots). */
    this.presence = {};
    /** userId -> 'waiting' (to subscribe once connected) | 'followed'. */
    this.watching = {};

    im.on('status', () => this.emit('status', this.statusView()));
    im.on('imchat', (m) => this.onMessage(m));
    im.on('receipt', (r) => this.onReceipt(r));
    im.on('groupChanged', (c) => this.onGroupChanged(c));
    im.on('messageRevoked', (r) => this.onChanged(r.messageId, { revoked: true, revokedBy: r.by, revokedAt: r.revokedAt, content: '', data: null }));
    im.on('messageEdited', (m) => this.onChanged(m.messageId, m));
    im.on('typing', (t) => this.emit('typing', t));
    // The SDK keeps the conversation list current (new messages, reads on other devices, pins,
    // mutes, deletes, revokes): the store only mirrors it.
    im.on('conversationChanged', (c) => this.onConversationChanged(c));
    im.on('presence', (p) => this.onPresence(p));
    im.on('ready', () => this.subscribeWaiting());
    im.on('kicked', () => {
      this.kicked = true;
      this.emit('status', this.statusView());
    });
    im.on('error', (err) => console.warn('[demo] IM error:', err && err.message));

    wx.onNetworkStatusChange((res) => {
      this.online = !!res.isConnected;
      this.emit('status', this.statusView());
      // The SDK reconnects by itself when the network returns; if it had given up, start again.
      if (this.online && this.me && im.getStatus() === 'disconnected' && !this.kicked) this.reconnect();
    });
    wx.getNetworkType({
      success: (res) => {
        this.online = res.networkType !== 'none';
        this.emit('status', this.statusView());
      },
    });
  }

  // ------------------------------------------------------------------ session

  /**
   * Development sign-in: registers the user (and the demo contacts, so they can be added to
   * groups) and gets a token with the app secret from config.js. In production your backend
   * returns the token and this becomes `im.connect({ token })`.
   */
  async signIn(user) {
    const { apiServer, appId, appSecret, demoUsers } = this.config;
    const userId = user.userId;
    const userName = user.userName || user.userId;
    await this.im.registerUser({ apiServer, appId, appSecret, userId, userName });
    const token = await this.im.getToken({ apiServer, appId, appSecret, userId, userName });
    // Demo contacts that never signed in do not exist yet; register them so they can be added to
    // groups and found on the contacts page.
    const contacts = demoUsers.filter((u) => u.userId !== userId);
    await Promise.all(
      contacts.map((u) =>
        this.im.getUserInfo({ apiServer, userId: u.userId }).catch((err) =>
          err && err.code === 'E_NOT_FOUND'
            ? this.im.registerUser({ apiServer, appId, appSecret, userId: u.userId, userName: u.userName }).catch(() => null)
            : null,
        ),
      ),
    );
    this.startSession({ userId, userName, token });
    this.connect();
    return this.me;
  }

  /** Signs in again with the session saved on this phone (no network needed to show cached data). */
  restore() {
    if (this.me) return Promise.resolve(true);
    let saved = null;
    try {
      saved = wx.getStorageSync(SESSION_KEY);
    } catch (err) {
      saved = null;
    }
    if (!saved || !saved.userId || !saved.token) return Promise.resolve(false);
    this.startSession(saved);
    this.connect();
    return Promise.resolve(true);
  }

  startSession({ userId, userName, token }) {
    this.me = { userId, userName };
    this.token = token;
    this.kicked = false;
    this.conversations = [];
    this.conversationsLoaded = false;
    this.groups = [];
    this.groupsLoaded = false;
    this.presence = {};
    this.watching = {};
    try {
      wx.setStorageSync(SESSION_KEY, { userId, userName, token });
      this.receipts = wx.getStorageSync(RECEIPTS_KEY + userId) || {};
    } catch (err) {
      this.receipts = {};
    }
    this.emit('session', this.me);
  }

  connect() {
    this.im.connect({ token: this.token }).catch((err) => this.onConnectError(err));
  }

  reconnect() {
    this.kicked = false;
    this.connect();
  }

  onConnectError(err) {
    // disconnect() / destroy() end a pending connect on purpose; expired tokens go through
    // tokenProvider (freshToken below); anything else shows in the connection bar.
    if (!this.me || (err && (err.code === 'E_NOT_CONNECTED' || err.code === 'E_DESTROYED'))) return;
    console.warn('[demo] connect failed:', describeError(err));
  }

  /**
   * The app's tokenProvider. Development path: ask the IM server with the app secret. In production
   * replace the body with a request to your backend, which mints the token.
   */
  async freshToken() {
    if (!this.me) throw new Error('not signed in');
    const { apiServer, appId, appSecret } = this.config;
    const token = await this.im.getToken({ apiServer, appId, appSecret, userId: this.me.userId, userName: this.me.userName });
    this.token = token;
    try {
      wx.setStorageSync(SESSION_KEY, { userId: this.me.userId, userName: this.me.userName, token });
    } catch (err) {
      // the token is only cached for the next launch
    }
    return token;
  }

  signOut() {
    this.im.disconnect();
    try {
      wx.removeStorageSync(SESSION_KEY);
    } catch (err) {
      // nothing saved
    }
    this.me = null;
    this.token = null;
    this.conversations = [];
    this.groups = [];
    this.active = null;
    this.updateBadge();
    this.emit('session', null);
  }

  // ------------------------------------------------------------------ connection bar

  statusView() {
    const status = this.im.getStatus();
    if (this.kicked) return { kind: 'error', visible: true, text: t('status.kicked'), canRetry: true };
    if (!this.online) return { kind: 'offline', visible: true, text: t('status.offline'), canRetry: false };
    if (status === 'connecting') return { kind: 'connecting', visible: true, text: t('status.connecting'), canRetry: false };
    if (status === 'reconnecting') return { kind: 'reconnecting', visible: true, text: t('status.reconnecting'), canRetry: false };
    if (status === 'disconnected' && this.me) return { kind: 'error', visible: true, text: t('status.disconnected'), canRetry: true };
    return { kind: status, visible: false, text: '', canRetry: false };
  }

  // ------------------------------------------------------------------ conversations

  /** Emits the cached list first (instant, works offline), then the server's. */
  async loadConversations() {
    if (!this.me) return this.conversations;
    if (!this.conversationsLoaded) {
      const cached = await this.im.getCachedConversationList().catch(() => []);
      if (!this.conversationsLoaded && cached.length) this.setConversations(cached, false);
    }
    const list = await this.im.getConversationList();
    this.setConversations(list, true);
    return this.conversations;
  }

  setConversations(list, fresh) {
    // Keep unread at 0 for the chat that is open, whatever the server had a moment ago.
    this.conversations = list
      .map((c) => (c.conversationId === this.active ? Object.assign({}, c, { unreadCount: 0 }) : c))
      .sort(byPinnedThenRecent);
    if (fresh) this.conversationsLoaded = true;
    this.updateBadge();
    this.emit('conversations', this.conversations);
  }

  findConversation(chatType, targetId) {
    const key = conversationKey(chatType, targetId);
    return this.conversations.find((c) => c.conversationId === key);
  }

  /** The name to show for a chat: the conversation's, the group's, or the demo contact's. */
  nameOf(chatType, targetId) {
    const c = this.findConversation(chatType, targetId);
    if (c && c.name) return c.name;
    if (chatType === 1) {
      const g = this.groups.find((x) => x.id === targetId);
      return g ? g.name : t('chat.groupChat');
    }
    const u = this.config.demoUsers.find((x) => x.userId === targetId);
    return u ? u.userName : targetId;
  }

  /** The tab badge: muted conversations are not counted (they show a dot instead). */
  totalUnread() {
    return this.conversations.reduce((n, c) => n + (c.muted ? 0 : c.unreadCount || 0), 0);
  }

  updateBadge() {
    const n = this.totalUnread();
    const done = { fail() {} };
    if (n > 0) wx.setTabBarBadge(Object.assign({ index: 0, text: n > 99 ? '99+' : String(n) }, done));
    else wx.removeTabBarBadge(Object.assign({ index: 0 }, done));
  }

  /** Called by the chat page while it is on screen (key) and when it leaves (null). */
  setActive(key) {
    this.active = key;
  }

  /** Marks a conversation read up to seq (default: everything) here and on the server. */
  markRead(chatType, targetId, seq) {
    const c = this.findConversation(chatType, targetId);
    if (c && c.unreadCount) {
      c.unreadCount = 0;
      this.updateBadge();
      this.emit('conversations', this.conversations);
    }
    const params = { chatType, targetId };
    if (seq) params.seq = seq;
    return this.im.markConversationRead(params).catch((err) => console.warn('[demo] markConversationRead:', describeError(err)));
  }

  onMessage(m) {
    if (!this.me) return;
    this.emit('message', m);
  }

  /** One conversation as the SDK now has it (a message, a read, a pin, a mute, a delete …). */
  onConversationChanged(c) {
    if (!this.me) return;
    const rest = this.conversations.filter((x) => x.conversationId !== c.conversationId);
    if (c.deleted) this.conversations = rest;
    else {
      // The chat on screen reads what arrives: no unread flash while its read mark is on its way.
      const shown = c.conversationId === this.active ? Object.assign({}, c, { unreadCount: 0, mentionedMe: false }) : c;
      this.conversations = [shown].concat(rest).sort(byPinnedThenRecent);
    }
    this.updateBadge();
    this.emit('conversations', this.conversations);
  }

  pin(c, pinned) {
    return this.im.pinConversation({ chatType: c.chatType, targetId: c.targetId, pinned });
  }

  mute(c, muted) {
    return this.im.muteConversation({ chatType: c.chatType, targetId: c.targetId, muted });
  }

  remove(c) {
    return this.im.deleteConversation({ chatType: c.chatType, targetId: c.targetId });
  }

  /** What was typed in a chat and not sent: kept on this phone, shown as "[草稿]" in the list. */
  saveDraft(chatType, targetId, draft) {
    const c = this.findConversation(chatType, targetId);
    if ((c ? c.draft || '' : '') === draft) return Promise.resolve();
    return this.im.setConversationDraft({ chatType, targetId, draft }).catch((err) => console.warn('[demo] setConversationDraft:', describeError(err)));
  }

  // ------------------------------------------------------------------ presence

  /**
   * Online dots for these users: their presence now, then a 'presence' event when it changes. The
   * SDK follows them again after every reconnect; before the first connect they wait for 'ready'.
   */
  watchPresence(userIds) {
    const ids = userIds.filter((id) => id && id !== (this.me && this.me.userId) && !this.watching[id]);
    if (!ids.length) return Promise.resolve([]);
    ids.forEach((id) => (this.watching[id] = 'waiting'));
    if (this.im.getStatus() !== 'connected') return Promise.resolve([]);
    return this.subscribeWaiting();
  }

  subscribeWaiting() {
    const ids = Object.keys(this.watching).filter((id) => this.watching[id] === 'waiting').slice(0, 500);
    if (!ids.length) return Promise.resolve([]);
    ids.forEach((id) => (this.watching[id] = 'followed'));
    return this.im
      .subscribePresence({ userIds: ids })
      .then((list) => {
        (list || []).forEach((p) => this.onPresence(p));
        return list;
      })
      .catch((err) => {
        // Not connected after all: try again on the next 'ready'.
        ids.forEach((id) => (this.watching[id] = 'waiting'));
        console.warn('[demo] subscribePresence:', describeError(err));
        return [];
      });
  }

  onPresence(p) {
    const before = this.presence[p.userId];
    this.presence[p.userId] = { online: !!p.online, lastSeenAt: p.lastSeenAt || 0 };
    if (!before || before.online !== !!p.online || before.lastSeenAt !== (p.lastSeenAt || 0)) this.emit('presence', p);
  }

  isOnline(userId) {
    const p = this.presence[userId];
    return !!(p && p.online);
  }

  /** A revoke or edit (on any device): the conversation list and open chat pages show it. */
  onChanged(messageId, fields) {
    this.emit('messageChanged', { messageId, fields });
  }

  revoke(messageId) {
    return this.im.revokeMessage({ messageId });
  }

  edit(messageId, content) {
    return this.im.editMessage({ messageId, content });
  }

  /** A conversation we did not know about: ask the server for the real entry (name, counts). */
  scheduleRefresh() {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.loadConversations().catch(() => undefined);
    }, 300);
  }

  // ------------------------------------------------------------------ messages

  /**
   * Sends text; resolves with the stored message, rejects with an ImError. A retry passes the
   * failed send's `clientMsgId` (from the error), so the server never stores it twice.
   */
  send(chatType, targetId, content, clientMsgId, extra) {
    const params = Object.assign(clientMsgId ? { content, clientMsgId } : { content }, extra);
    const sending =
      chatType === 1 ? this.im.sendGroupMessage({ ...params, groupId: targetId }) : this.im.sendPrivateMessage({ ...params, recipientId: targetId });
    return sending.then((m) => {
      this.onSent(m);
      return m;
    });
  }

  /**
   * An image, video, file or voice note: the SDK uploads it (onProgress with { percent }), then
   * sends it like text. `extra`: { duration } for voice.
   */
  sendMedia(chatType, targetId, kind, file, extra, onProgress) {
    const target = chatType === 1 ? { groupId: targetId } : { recipientId: targetId };
    const params = Object.assign({}, target, extra, { file, onProgress });
    const im = this.im;
    const sending =
      kind === 'image' ? im.sendImageMessage(params) : kind === 'video' ? im.sendVideoMessage(params) : kind === 'audio' ? im.sendAudioMessage(params) : im.sendFileMessage(params);
    return sending.then((m) => {
      this.onSent(m);
      return m;
    });
  }

  onSent(m) {
    // The server does not echo a message to the socket that sent it: tell open chat pages here.
    this.emit('message', m);
  }

  history(chatType, targetId, beforeSeq) {
    const query = { msgSeqId: beforeSeq || 0, syncType: 'BACK', limitSize: this.config.historyPageSize };
    return chatType === 1
      ? this.im.getGroupHistoryMessages(Object.assign({ groupId: targetId }, query))
      : this.im.getPrivateHistoryMessages(Object.assign({ peerId: targetId }, query));
  }

  /** Tells the sender of a private message that it was read. False when offline (nothing sent). */
  sendReadReceipt(message) {
    try {
      return this.im.sendReadReceipt(message.messageId, message.from);
    } catch (err) {
      return false;
    }
  }

  onReceipt(r) {
    if (!this.me) return;
    // A member read my group message: the chat page asks the server for the new counts.
    if (r.chatType === 1) {
      if (r.status === 2) this.emit('groupRead', { groupId: r.to, seq: r.seq });
      return;
    }
    const peerId = r.from;
    const entry = this.receipts[peerId] || { read: 0, delivered: 0 };
    if (r.status === 2) entry.read = Math.max(entry.read, r.seq);
    entry.delivered = Math.max(entry.delivered, r.seq);
    this.receipts[peerId] = entry;
    try {
      wx.setStorageSync(RECEIPTS_KEY + this.me.userId, this.receipts);
    } catch (err) {
      // storage full: receipts are only a nicety
    }
    this.emit('receipt', { peerId, status: r.status, seq: r.seq });
  }

  receiptsFor(peerId) {
    return this.receipts[peerId] || { read: 0, delivered: 0 };
  }

  // ------------------------------------------------------------------ groups

  async loadGroups() {
    const list = await this.im.getGroupList();
    this.groups = list;
    this.groupsLoaded = true;
    this.emit('groups', list);
    return list;
  }

  async createGroup({ name, description, userIdList }) {
    const group = await this.im.createGroup({ name, description, userIdList });
    this.groups = [group].concat(this.groups.filter((g) => g.id !== group.id));
    this.emit('groups', this.groups);
    return group;
  }

  onGroupChanged(change) {
    this.emit('groupChanged', change);
    // Also when the groups tab was never opened: a group's first message should show its name.
    this.loadGroups().catch(() => undefined);
    if (change.action === 'dismissed' || (change.userIds || []).indexOf(this.me && this.me.userId) >= 0) {
      this.scheduleRefresh();
    }
  }
}

module.exports = { ChatStore, conversationKey };
