const { avatar, listTime, preview, describeError } = require('../../utils/format');

function toItem(c, me) {
  const isGroup = c.chatType === 1;
  const a = avatar(c.targetId, c.name);
  const unread = c.unreadCount || 0;
  return {
    key: c.conversationId,
    chatType: c.chatType,
    targetId: c.targetId,
    name: c.name || c.targetId,
    isGroup,
    avatarText: a.text,
    avatarColor: a.color,
    preview: preview(c, me.userId),
    timeText: listTime(c.updatedAt || (c.lastMessage && c.lastMessage.timestamp)),
    unread,
    unreadText: unread > 99 ? '99+' : String(unread),
  };
}

Page({
  data: {
    me: {},
    items: [],
    loaded: false,
    error: '',
    status: { visible: false },
  },

  onLoad() {
    this.store = getApp().globalData.store;
    if (!this.store.me) {
      wx.reLaunch({ url: '/pages/login/login' });
      return;
    }
    const me = this.store.me;
    const a = avatar(me.userId, me.userName);
    this.setData({ me: { userId: me.userId, userName: me.userName, avatarText: a.text, avatarColor: a.color } });
    this.offs = [
      this.store.on('conversations', (list) => this.render(list)),
      this.store.on('status', (status) => this.setData({ status })),
      this.store.on('session', (s) => {
        if (!s) wx.reLaunch({ url: '/pages/login/login' });
      }),
    ];
    this.setData({ status: this.store.statusView() });
    if (this.store.conversations.length) this.render(this.store.conversations);
  },

  onShow() {
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
    this.setData({ items: list.map((c) => toItem(c, me)), loaded: true });
  },

  onOpen(e) {
    const item = this.data.items[e.currentTarget.dataset.index];
    if (!item) return;
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
      title: 'Sign out?',
      content: `You are signed in as ${this.store.me.userName}.`,
      confirmText: 'Sign out',
      success: (res) => {
        if (res.confirm) this.store.signOut();
      },
    });
  },
});
