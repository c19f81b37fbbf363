const { avatar, listTime, previewParts, describeError } = require('../../utils/format');
const { section, setPageTitle, setTabBarTexts, t } = require('../../utils/i18n');

/** A left swipe longer than this (px) opens a row's Pin / Mute / Delete buttons. */
const SWIPE_OPEN = 40;

/** The row actions (swipe buttons and long-press sheet), by what they do. */
function label(action) {
  return t(`conversations.${action}`);
}

function toItem(c, me, store, swiped) {
  const isGroup = c.chatType === 1;
  const a = avatar(c.targetId, c.name);
  const unread = c.unreadCount || 0;
  const line = previewParts(c, me.userId);
  return {
    pinned: !!c.pinned,
    muted: !!c.muted,
    // Muted: a dot, no number (and not in the tab badge).
    mutedUnread: !!c.muted && unread > 0,
    draft: !!c.draft,
    mention: !!c.mentionedMe && unread > 0,
    online: !isGroup && store.isOnline(c.targetId),
    swiped: swiped === c.conversationId,
    key: c.conversationId,
    chatType: c.chatType,
    targetId: c.targetId,
    name: c.name || c.targetId,
    isGroup,
    avatarText: a.text,
    avatarColor: a.color,
    // The "[草稿]" / "[有人@我]" flag is drawn in red, the rest as usual.
    flagText: line.flag,
    previewRest: line.text,
    timeText: listTime(c.updatedAt || (c.lastMessage && c.lastMessage.timestamp)),
    unread: c.muted ? 0 : unread,
    unreadText: unread > 99 ? '99+' : String(unread),
    pinText: label(c.pinned ? 'unpin' : 'pin'),
    muteText: label(c.muted ? 'unmute' : 'mute'),
  };
}

Page({
  data: {
    me: {},
    items: [],
    loaded: false,
    error: '',
    status: { visible: false },
    i18n: section('conversations'),
  },

  onLoad() {
    setPageTitle('title.conversations');
    this.store = getApp().globalData.store;
    this.swiped = null;
    if (!this.store.me) {
      wx.reLaunch({ url: '/pages/login/login' });
      return;
    }
    const me = this.store.me;
    const a = avatar(me.userId, me.userName);
    this.setData({ me: { userId: me.userId, userName: me.userName, avatarText: a.text, avatarColor: a.color } });
    this.offs = [
      this.store.on('conversations', (list) => this.render(list)),
      this.store.on('presence', () => this.render(this.store.conversations)),
      this.store.on('status', (status) => this.setData({ status })),
      this.store.on('session', (s) => {
        if (!s) wx.reLaunch({ url: '/pages/login/login' });
      }),
    ];
    this.setData({ status: this.store.statusView() });
    if (this.store.conversations.length) this.render(this.store.conversations);
  },

  onShow() {
    setTabBarTexts();
    if (this.store && this.store.me) this.refresh();
  },

  onUnload() {
    (this.offs || []).forEach((off) => off());
  },

  onPullDownRefresh() {
    this.refresh().then(() => wx.stopPullDownRefresh());
  },

  refresh() {
    return this.store
      .loadConversations()
      .then(() => this.setData({ error: '' }))
      .catch((err) => {
        // Offline: the cached list stays on screen; the status bar already says why.
        if (!this.data.items.length && this.store.online) this.setData({ error: describeError(err) });
        this.setData({ loaded: true });
      });
  },

  render(list) {
    const me = this.store.me;
    if (!me) return;
    this.setData({ items: list.map((c) => toItem(c, me, this.store, this.swiped)), loaded: true });
    // Online dots for the people of private chats (the SDK re-subscribes after reconnects).
    this.store.watchPresence(list.filter((c) => c.chatType === 0).map((c) => c.targetId));
  },

  // ---------------------------------------------------------------- swipe: Pin / Mute / Delete

  onTouchStart(e) {
    const t = e.touches && e.touches[0];
    this.touch = t ? { x: t.clientX, y: t.clientY, index: e.currentTarget.dataset.index } : null;
  },

  onTouchEnd(e) {
    const t = e.changedTouches && e.changedTouches[0];
    const start = this.touch;
    this.touch = null;
    if (!t || !start) return;
    const dx = t.clientX - start.x;
    if (Math.abs(dx) < SWIPE_OPEN || Math.abs(dx) < Math.abs(t.clientY - start.y)) return;
    const item = this.data.items[start.index];
    this.swiped = dx < 0 && item ? item.key : null;
    this.swipedAt = Date.now();
    this.render(this.store.conversations);
  },

  /** Long-press: the same actions in a sheet (for those who do not swipe). */
  onLongPress(e) {
    const item = this.data.items[e.currentTarget.dataset.index];
    if (!item) return;
    const actions = [item.pinned ? 'unpin' : 'pin', item.muted ? 'unmute' : 'mute', 'delete'];
    wx.showActionSheet({
      itemList: actions.map(label),
      success: (res) => this.act(item, actions[res.tapIndex]),
      fail() {},
    });
  },

  onPin(e) {
    const item = this.data.items[e.currentTarget.dataset.index];
    if (item) this.act(item, item.pinned ? 'unpin' : 'pin');
  },

  onMute(e) {
    const item = this.data.items[e.currentTarget.dataset.index];
    if (item) this.act(item, item.muted ? 'unmute' : 'mute');
  },

  onDelete(e) {
    const item = this.data.items[e.currentTarget.dataset.index];
    if (item) this.act(item, 'delete');
  },

  act(item, action) {
    this.swiped = null;
    const store = this.store;
    const done =
      action === 'pin' || action === 'unpin'
        ? store.pin(item, action === 'pin')
        : action === 'mute' || action === 'unmute'
          ? store.mute(item, action === 'mute')
          : action === 'delete'
            ? store.remove(item)
            : null;
    if (!done) return;
    // The list follows from the SDK's conversationChanged (on every device of mine).
    done.then(() => this.setData({ error: '' })).catch((err) => this.setData({ error: describeError(err) }));
    this.render(store.conversations);
  },

  onOpen(e) {
    const item = this.data.items[e.currentTarget.dataset.index];
    if (!item) return;
    // A tap that ends a swipe, or on an open row, closes the buttons instead of opening the chat.
    if (this.swiped) {
      const wasOpen = this.swiped === item.key || Date.now() - (this.swipedAt || 0) < 300;
      this.swiped = null;
      this.render(this.store.conversations);
      if (wasOpen) return;
    }
    const type = item.isGroup ? 'group' : 'private';
    wx.navigateTo({ url: `/pages/chat/chat?type=${type}&id=${encodeURIComponent(item.targetId)}&name=${encodeURIComponent(item.name)}` });
  },

  onNewChat() {
    wx.navigateTo({ url: '/pages/contacts/contacts' });
  },

  onStatusTap() {
    if (this.data.status.canRetry) this.store.reconnect();
  },

  onSignOut() {
    wx.showModal({
      title: t('conversations.signOutTitle'),
      content: t('conversations.signOutContent', { name: this.store.me.userName }),
      confirmText: t('conversations.signOutConfirm'),
      success: (res) => {
        if (res.confirm) this.store.signOut();
      },
    });
  },
});
