const config = require('../../config');
const { avatar, charCount, describeError } = require('../../utils/format');
const { section, setPageTitle, t } = require('../../utils/i18n');

const MAX_NAME = 100;
const MAX_DESCRIPTION = 1000;

Page({
  data: {
    name: '',
    description: '',
    candidates: [],
    selectedCount: 0,
    membersTitle: t('groupCreate.members', { count: 0 }),
    error: '',
    busy: false,
    i18n: section('groupCreate'),
  },

  onLoad() {
    setPageTitle('title.groupCreate');
    this.store = getApp().globalData.store;
    const me = this.store.me || {};
    const people = {};
    config.demoUsers.forEach((u) => {
      people[u.userId] = u.userName;
    });
    // Also everyone I have a private chat with.
    this.store.conversations.forEach((c) => {
      if (c.chatType === 0 && !people[c.targetId]) people[c.targetId] = c.name;
    });
    delete people[me.userId];
    this.setData({
      candidates: Object.keys(people).map((userId) => {
        const a = avatar(userId, people[userId]);
        return { userId, userName: people[userId], avatarText: a.text, avatarColor: a.color, selected: false };
      }),
    });
  },

  onNameInput(e) {
    this.setData({ name: e.detail.value, error: '' });
  },

  onDescriptionInput(e) {
    this.setData({ description: e.detail.value, error: '' });
  },

  onToggle(e) {
    const i = e.currentTarget.dataset.index;
    const c = this.data.candidates[i];
    if (!c) return;
    const selectedCount = this.data.selectedCount + (c.selected ? -1 : 1);
    this.setData({ [`candidates[${i}].selected`]: !c.selected, selectedCount, membersTitle: t('groupCreate.members', { count: selectedCount }), error: '' });
  },

  validate() {
    const name = this.data.name.trim();
    if (!name) return t('groupCreate.nameMissing');
    if (charCount(name) > MAX_NAME) return t('groupCreate.nameTooLong', { count: charCount(name), max: MAX_NAME });
    if (charCount(this.data.description) > MAX_DESCRIPTION) return t('groupCreate.descriptionTooLong', { max: MAX_DESCRIPTION });
    if (!this.data.selectedCount) return t('groupCreate.noMembers');
    return '';
  },

  async onCreate() {
    if (this.data.busy) return;
    const problem = this.validate();
    if (problem) {
      this.setData({ error: problem });
      return;
    }
    this.setData({ busy: true, error: '' });
    try {
      const group = await this.store.createGroup({
        name: this.data.name.trim(),
        description: this.data.description.trim(),
        userIdList: this.data.candidates.filter((c) => c.selected).map((c) => c.userId),
      });
      this.setData({ busy: false });
      wx.redirectTo({ url: `/pages/chat/chat?type=group&id=${encodeURIComponent(group.id)}&name=${encodeURIComponent(group.name)}` });
    } catch (err) {
      this.setData({
        busy: false,
        error: err && err.code === 'E_NOT_FOUND' ? t('groupCreate.notSignedIn') : describeError(err),
      });
    }
  },
});
