const { avatar, describeError, firstName, fullDate, listTime } = require('../../utils/format');

function decode(value) {
  try {
    return decodeURIComponent(value || '');
  } catch (err) {
    return value || '';
  }
}

Page({
  data: {
    loaded: false,
    error: '',
    group: {},
    members: [],
    isOwner: false,
  },

  onLoad(query) {
    this.store = getApp().globalData.store;
    this.groupId = decode(query.id);
    this.fromChat = query.from === 'chat';
    this.offs = [
      this.store.on('groupChanged', (c) => {
        if (c.groupId === this.groupId) this.load();
      }),
    ];
    this.load();
  },

  onUnload() {
    (this.offs || []).forEach((off) => off());
  },

  async load() {
    const im = this.store.im;
    try {
      const [group, members] = await Promise.all([im.getGroupInfo({ groupId: this.groupId }), im.getGroupMembers({ groupId: this.groupId })]);
      const me = this.store.me;
      const owner = members.find((m) => m.userId === group.ownerId);
      const a = avatar(group.id, group.name);
      wx.setNavigationBarTitle({ title: group.name });
      this.setData({
        loaded: true,
        error: '',
        isOwner: group.ownerId === me.userId,
        group: {
          id: group.id,
          name: group.name,
          description: group.description,
          avatarText: a.text,
          avatarColor: a.color,
          meta: `Created ${fullDate(group.createdAt)} by ${group.ownerId === me.userId ? 'you' : firstName(owner ? owner.userName : group.ownerId)}`,
        },
        members: members.map((m) => {
          const ma = avatar(m.userId, m.userName);
          return {
            userId: m.userId,
            userName: m.userName || m.userId,
            avatarText: ma.text,
            avatarColor: ma.color,
            joined: listTime(m.joinedAt),
            isOwner: m.role === 'owner' || m.userId === group.ownerId,
            isMe: m.userId === me.userId,
          };
        }),
      });
    } catch (err) {
      const gone = err && (err.code === 'E_NOT_FOUND' || err.code === 'E_FORBIDDEN');
      this.setData({ loaded: false, error: gone ? 'This group was dismissed, or you are no longer a member.' : describeError(err) });
    }
  },

  onOpenChat() {
    if (this.fromChat) {
      wx.navigateBack();
      return;
    }
    const g = this.data.group;
    wx.redirectTo({ url: `/pages/chat/chat?type=group&id=${encodeURIComponent(g.id)}&name=${encodeURIComponent(g.name)}` });
  },

  onLeave() {
    this.confirmThen('Leave this group?', 'You will stop getting its messages.', 'Leave', () => this.store.im.leaveGroup({ groupId: this.groupId }));
  },

  onDismiss() {
    this.confirmThen('Dismiss this group?', 'It is removed for every member. This cannot be undone.', 'Dismiss', () =>
      this.store.im.dismissGroup({ groupId: this.groupId }),
    );
  },

  confirmThen(title, content, confirmText, action) {
    wx.showModal({
      title,
      content,
      confirmText,
      confirmColor: '#FA5151',
      success: (res) => {
        if (!res.confirm) return;
        action()
          .then(() => {
            this.store.loadGroups().catch(() => undefined);
            this.store.loadConversations().catch(() => undefined);
            wx.switchTab({ url: '/pages/groups/groups' });
          })
          .catch((err) => this.setData({ error: describeError(err) }));
      },
    });
  },
});
