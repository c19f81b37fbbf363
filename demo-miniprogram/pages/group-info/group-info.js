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
    isStaff: false,
    muteAll: false,
  },

  onLoad(query) {
    this.store = getApp().globalData.store;
    this.groupId = decode(query.id);
    this.fromChat = query.from === 'chat';
    this.offs = [
      this.store.on('groupChanged', (c) => {
        if (c.groupId === this.groupId) this.load();
      }),
      this.store.on('presence', (p) => {
        if (!this.data.members.some((m) => m.userId === p.userId)) return;
        this.setData({ members: this.data.members.map((m) => (m.userId === p.userId ? Object.assign({}, m, { online: !!p.online }) : m)) });
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
      const myRole = (members.find((m) => m.userId === me.userId) || {}).role || 'member';
      this.members = members;
      this.group = group;
      this.myRole = myRole;
      if (!this.watching) {
        this.watching = true;
        this.store.watchPresence(members.map((m) => m.userId).slice(0, 500));
      }
      const now = Date.now();
      const a = avatar(group.id, group.name);
      wx.setNavigationBarTitle({ title: group.name });
      this.setData({
        loaded: true,
        error: '',
        isOwner: group.ownerId === me.userId,
        isStaff: myRole === 'owner' || myRole === 'admin',
        muteAll: !!group.muteAll,
        group: {
          announcement: group.announcement || '',
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
            isAdmin: m.role === 'admin',
            isMe: m.userId === me.userId,
            online: m.userId === me.userId || this.store.isOnline(m.userId),
            muted: !!m.mutedUntil && m.mutedUntil > now,
            mutedText: m.mutedUntil && m.mutedUntil > now ? `Muted until ${listTime(m.mutedUntil)}` : '',
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

  // ---------------------------------------------------------------- owner and admins

  /** Tap on a member: what my role may do to theirs (the server checks it again). */
  onMember(e) {
    const m = this.members && this.members[e.currentTarget.dataset.index];
    if (!m || m.userId === this.store.me.userId || !this.data.isStaff || m.role === 'owner') return;
    const owner = this.myRole === 'owner';
    if (!owner && m.role === 'admin') return; // admins do not manage admins
    const muted = m.mutedUntil && m.mutedUntil > Date.now();
    const im = this.store.im;
    const groupId = this.groupId;
    const actions = [];
    if (owner) actions.push(m.role === 'admin' ? { label: 'Remove admin', run: () => im.setGroupMemberRole({ groupId, userId: m.userId, role: 'member' }) } : { label: 'Make admin', run: () => im.setGroupMemberRole({ groupId, userId: m.userId, role: 'admin' }) });
    actions.push(muted ? { label: 'Unmute', run: () => im.muteGroupMember({ groupId, userId: m.userId, seconds: 0 }) } : { label: 'Mute for 10 minutes', run: () => im.muteGroupMember({ groupId, userId: m.userId, seconds: 600 }) });
    if (owner) actions.push({ label: 'Make owner', run: () => this.confirmTransfer(m) });
    actions.push({ label: 'Remove from group', run: () => im.removeGroupMember({ groupId, userId: m.userId }) });
    wx.showActionSheet({
      itemList: actions.map((a) => a.label),
      success: (res) => {
        const a = actions[res.tapIndex];
        if (a) this.run(a.run());
      },
      fail() {},
    });
  },

  confirmTransfer(m) {
    return new Promise((resolve, reject) => {
      wx.showModal({
        title: `Make ${m.userName || m.userId} the owner?`,
        content: 'You become a member of the group.',
        confirmText: 'Transfer',
        success: (res) => (res.confirm ? this.store.im.transferGroupOwner({ groupId: this.groupId, userId: m.userId }).then(resolve, reject) : resolve()),
        fail: () => resolve(),
      });
    });
  },

  onEditAnnouncement() {
    if (!this.data.isStaff) return;
    wx.showModal({
      title: 'Group announcement',
      editable: true,
      placeholderText: 'Everyone sees this at the top of the chat',
      content: this.data.group.announcement,
      success: (res) => {
        if (res.confirm) this.run(this.store.im.updateGroupInfo({ groupId: this.groupId, announcement: res.content || '' }));
      },
    });
  },

  onToggleMuteAll() {
    if (!this.data.isStaff) return;
    this.run(this.store.im.muteAllMembers({ groupId: this.groupId, muted: !this.data.muteAll }));
  },

  /** An admin action: the page reloads on its groupChanged; a refusal shows here. */
  run(promise) {
    Promise.resolve(promise)
      .then(() => this.load())
      .catch((err) => this.setData({ error: describeError(err) }));
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
