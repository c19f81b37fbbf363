const { avatar, describeError, firstName } = require('../../utils/format');
const { section, setPageTitle, setTabBarTexts, t } = require('../../utils/i18n');

Page({
  data: {
    groups: [],
    loaded: false,
    error: '',
    status: { visible: false },
    countText: '',
    i18n: section('groups'),
  },

  onLoad() {
    setPageTitle('title.groups');
    this.store = getApp().globalData.store;
    if (!this.store.me) {
      wx.reLaunch({ url: '/pages/login/login' });
      return;
    }
    this.offs = [
      this.store.on('groups', (list) => this.render(list)),
      this.store.on('status', (status) => this.setData({ status })),
    ];
    this.setData({ status: this.store.statusView() });
    if (this.store.groupsLoaded) this.render(this.store.groups);
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
      .loadGroups()
      .then(() => this.setData({ error: '' }))
      .catch((err) => this.setData({ loaded: true, error: this.data.groups.length ? '' : describeError(err) }));
  },

  render(list) {
    const me = this.store.me;
    this.setData({
      loaded: true,
      countText: list.length ? t(list.length === 1 ? 'groups.countOne' : 'groups.count', { count: list.length }) : t('groups.tagline'),
      groups: list.map((g) => {
        const a = avatar(g.id, g.name);
        const owner = g.ownerId === me.userId ? t('common.you') : firstName(this.store.nameOf(0, g.ownerId));
        const vars = { count: g.memberCount, owner, description: g.description };
        return {
          id: g.id,
          name: g.name,
          avatarText: a.text,
          avatarColor: a.color,
          sub: t(g.description ? 'groups.subWithDescription' : 'groups.sub', vars),
        };
      }),
    });
  },

  onOpen(e) {
    const g = this.data.groups[e.currentTarget.dataset.index];
    if (g) wx.navigateTo({ url: `/pages/chat/chat?type=group&id=${encodeURIComponent(g.id)}&name=${encodeURIComponent(g.name)}` });
  },

  onInfo(e) {
    const g = this.data.groups[e.currentTarget.dataset.index];
    if (g) wx.navigateTo({ url: `/pages/group-info/group-info?id=${encodeURIComponent(g.id)}` });
  },

  onCreate() {
    wx.navigateTo({ url: '/pages/group-create/group-create' });
  },

  onStatusTap() {
    if (this.data.status.canRetry) this.store.reconnect();
  },
});
