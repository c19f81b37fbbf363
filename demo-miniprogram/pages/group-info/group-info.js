const { avatar, describeError, firstName, fullDate, listTime } = require('../../utils/format');
const { section, setPageTitle, t } = require('../../utils/i18n');

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
    membersTitle: '',
    i18n: section('groupInfo'),
  },

  onLoad(query) {
    setPageTitle('title.groupInfo');
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
        membersTitle: t('groupInfo.members', { count: members.length }),
        group: {
          announcement: group.announcement || '',
          id: group.id,
          name: group.name,
          description: group.description,
          avatarText: a.text,
          avatarColor: a.color,
          meta: t('groupInfo.meta', { date: fullDate(group.createdAt), owner: group.ownerId === me.userId ? t('common.you') : firstName(owner ? owner.userName : group.ownerId) }),
        },
        members: members.map((m) => {
          const ma = avatar(m.userId, m.userName);
          const muted = !!m.mutedUntil && m.mutedUntil > now;
          return {
            userId: m.userId,
            userName: m.userName || m.userId,
            avatarText: ma.text,
            avatarColor: ma.color,
            // "@bob · 昨天 加入" / "@bob · 禁言至 14:05"
            sub: `@${m.userId} · ${muted ? t('groupInfo.mutedUntil', { time: listTime(m.mutedUntil) }) : t('groupInfo.joined', { time: listTime(m.joinedAt) })}`,
            isOwner: m.role === 'owner' || m.userId === group.ownerId,
            isAdmin: m.role === 'admin',
            isMe: m.userId === me.userId,
            online: m.userId === me.userId || this.store.isOnline(m.userId),
            muted,
          };
        }),
      });
    } catch (err) {
      const gone = err && (err.code === 'E_NOT_FOUND' || err.code === 'E_FORBIDDEN');
      this.setData({ loaded: false, error: gone ? t('groupInfo.gone') : describeError(err) });
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
    if (owner) {
      actions.push(
        m.role === 'admin'
          ? { label: t('groupInfo.removeAdmin'), run: () => im.setGroupMemberRole({ groupId, userId: m.userId, role: 'member' }) }
          : { label: t('groupInfo.makeAdmin'), run: () => im.setGroupMemberRole({ groupId, userId: m.userId, role: 'admin' }) },
      );
    }
    actions.push(
      muted
        ? { label: t('groupInfo.unmute'), run: () => im.muteGroupMember({ groupId, userId: m.userId, seconds: 0 }) }
        : { label: t('groupInfo.mute10'), run: () => im.muteGroupMember({ groupId, userId: m.userId, seconds: 600 }) },
    );
    if (owner) actions.push({ label: t('groupInfo.makeOwner'), run: () => this.confirmTransfer(m) });
    actions.push({ label: t('groupInfo.remove'), run: () => im.removeGroupMember({ groupId, userId: m.userId }) });
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
        title: t('groupInfo.transferTitle', { name: m.userName || m.userId }),
        content: t('groupInfo.transferContent'),
        confirmText: t('groupInfo.transferConfirm'),
        success: (res) => (res.confirm ? this.store.im.transferGroupOwner({ groupId: this.groupId, userId: m.userId }).then(resolve, reject) : resolve()),
        fail: () => resolve(),
      });
    });
  },

  onEditAnnouncement() {
    if (!this.data.isStaff) return;
    wx.showModal({
      title: t('groupInfo.announcementTitle'),
      editable: true,
      placeholderText: t('groupInfo.announcementPlaceholder'),
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
    this.confirmThen(t('groupInfo.leaveTitle'), t('groupInfo.leaveContent'), t('groupInfo.leaveConfirm'), () => this.store.im.leaveGroup({ groupId: this.groupId }));
  },

  onDismiss() {
    this.confirmThen(t('groupInfo.dismissTitle'), t('groupInfo.dismissContent'), t('groupInfo.dismissConfirm'), () =>
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
