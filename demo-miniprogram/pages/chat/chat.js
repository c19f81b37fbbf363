// One page for private chats (?type=private&id=<userId>) and group chats (?type=group&id=<groupId>).
const config = require('../../config');
const { avatar, chatTime, charCount, checkMessage, describeError, groupDigits, isNotice, listTime, noticeText, presenceText, revokedText } = require('../../utils/format');
const { conversationKey } = require('../../utils/store');
const { section, t } = require('../../utils/i18n');

/** A time separator is shown when two messages are further apart than this. */
const TIME_GAP = 5 * 60 * 1000;
/** The server's default IM_REVOKE_WINDOW: the menu offers Revoke on own messages this long. */
const REVOKE_WINDOW = 120 * 1000;
/** Groups: read receipts and "N人已读" refreshes are gathered this long (ms). */
const GROUP_RECEIPT_DELAY = 1500;
/** "对方正在输入…" stays in the title this long after the peer's last notice (they come every 3 s at most). */
const TYPING_SHOWN = 4000;
let localIds = 0;

function decode(value) {
  try {
    return decodeURIComponent(value || '');
  } catch (err) {
    return value || '';
  }
}

function bySeq(a, b) {
  return a.seq - b.seq;
}

const KINDS = { 1: 'image', 2: 'file', 3: 'voice', 4: 'video' };

function sizeText(bytes) {
  if (!bytes) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** How a message's bubble looks: text, or an image / voice / video / file card. */
function mediaView(m) {
  // A send on its way shows what was picked (the local file) until the server's copy is there.
  const kind = m.kind || KINDS[m.msgType] || 'text';
  if (kind === 'text') return { kind };
  const d = m.data || m.preview || {};
  const ratio = d.width && d.height ? d.height / d.width : 0.75;
  const width = Math.min(200, d.width || 200);
  return {
    kind,
    url: d.url || '',
    thumb: d.thumbnailUrl || d.url || '',
    mediaWidth: width,
    mediaHeight: Math.round(width * ratio),
    fileName: d.name || t('chat.fileName'),
    fileSize: sizeText(d.size),
    seconds: d.duration ? `${Math.max(1, Math.round(d.duration))}″` : '',
    voiceWidth: 80 + Math.min(120, Math.round((d.duration || 1) * 6)),
  };
}

Page({
  data: {
    title: '',
    isGroup: false,
    peer: {},
    memberCount: 0,
    memberText: '',
    groupNotice: '',
    status: { visible: false },
    messages: [],
    loaded: false,
    spoken: false,
    loadError: '',
    noMore: false,
    refreshing: false,
    scrollInto: '',
    draft: '',
    inputError: '',
    counter: '',
    tooLong: false,
    canSend: true,
    panel: false,
    recording: false,
    replying: null,
    mentionPanel: false,
    members: [],
    presence: '',
    peerOnline: false,
    announcement: '',
    mutedText: '',
    i18n: section('chat'),
  },

  onLoad(query) {
    this.store = getApp().globalData.store;
    if (!this.store.me) {
      wx.reLaunch({ url: '/pages/login/login' });
      return;
    }
    this.me = this.store.me;
    this.chatType = query.type === 'group' ? 1 : 0;
    this.targetId = decode(query.id);
    this.key = conversationKey(this.chatType, this.targetId);
    this.title = decode(query.name) || this.store.nameOf(this.chatType, this.targetId);
    /** Messages the server stored, by messageId, kept sorted by seq in `confirmed`. */
    this.byId = {};
    this.confirmed = [];
    /** My messages on their way (or failed), in the order I sent them. */
    this.pending = [];
    this.visible = false;
    this.receiptSeq = 0;

    const peer = avatar(this.targetId, this.title);
    wx.setNavigationBarTitle({ title: this.title });
    this.setData({
      title: this.title,
      memberText: t('chat.groupChat'),
      isGroup: this.chatType === 1,
      peer: { avatarText: peer.text, avatarColor: peer.color },
      status: this.store.statusView(),
    });

    this.offs = [
      this.store.on('message', (m) => this.onMessage(m)),
      this.store.on('receipt', (r) => {
        if (this.chatType === 0 && r.peerId === this.targetId) this.render(false);
      }),
      this.store.on('status', (status) => this.onStatus(status)),
      this.store.on('groupChanged', (c) => {
        if (this.chatType === 1 && c.groupId === this.targetId) this.loadGroupInfo();
      }),
      this.store.on('messageChanged', (c) => {
        const m = this.byId[c.messageId];
        if (!m) return;
        Object.assign(m, c.fields);
        if (m.revoked) {
          // Quotes of it say so, and a reply being written to it is dropped.
          this.confirmed.forEach((x) => {
            if (x.replyTo && x.replyTo.messageId === m.messageId) x.replyTo = Object.assign({}, x.replyTo, { revoked: true, content: '' });
          });
          if (this.replyTo && this.replyTo.messageId === c.messageId) this.onCancelReply();
        }
        this.render(false);
      }),
      this.store.on('typing', (t) => {
        if (this.chatType === 0 && t.from === this.targetId) this.showTyping();
      }),
    ];
    /** The message a reply answers, and the members picked with "@" (id -> name). */
    this.replyTo = null;
    this.mentions = {};
    /** Group chats: messageId -> { readCount, unreadCount } of my messages; my role and mute. */
    this.readCounts = {};
    this.role = 'member';
    // What was typed here last time and not sent.
    const saved = this.store.findConversation(this.chatType, this.targetId);
    if (saved && saved.draft) this.setData({ draft: saved.draft });
    this.offs.push(
      this.store.on('presence', (p) => {
        if (this.chatType === 0 && p.userId === this.targetId) this.showPresence();
      }),
      this.store.on('groupRead', (r) => {
        if (this.chatType === 1 && r.groupId === this.targetId) this.scheduleReadCounts();
      }),
    );
    this.loadLatest();
    if (this.chatType === 1) this.loadGroupInfo();
    else this.store.watchPresence([this.targetId]).then(() => this.showPresence());
  },

  onShow() {
    if (!this.store || !this.store.me) return;
    this.visible = true;
    this.store.setActive(this.key);
    this.markAllRead();
  },

  onHide() {
    this.visible = false;
    if (this.store && this.store.active === this.key) this.store.setActive(null);
  },

  onUnload() {
    this.onHide();
    if (this.store && this.store.me) this.store.saveDraft(this.chatType, this.targetId, this.data.draft || '');
    clearTimeout(this.countsTimer);
    clearTimeout(this.unmuteTimer);
    clearTimeout(this.groupReceiptTimer);
    clearTimeout(this.typingTimer);
    if (this.audio) this.audio.destroy();
    (this.offs || []).forEach((off) => off());
    clearTimeout(this.readTimer);
  },

  // ---------------------------------------------------------------- loading

  loadLatest() {
    return this.store
      .history(this.chatType, this.targetId, 0)
      .then((list) => {
        list.forEach((m) => this.addConfirmed(m));
        this.setData({ loaded: true, loadError: '', noMore: list.length < config.historyPageSize });
        this.render(true);
        this.markAllRead();
        this.scheduleReadCounts();
      })
      .catch((err) => {
        this.setData({ loaded: true, loadError: t('chat.loadFailed', { detail: describeError(err) }) });
        if (err && err.code === 'E_FORBIDDEN') this.setData({ canSend: false });
      });
  },

  /** Pull down in the message list: the page of messages before the oldest one shown. */
  onPullOlder() {
    if (this.loadingOlder) return;
    if (this.data.noMore || !this.confirmed.length) {
      this.setData({ refreshing: false });
      if (!this.confirmed.length) this.loadLatest();
      return;
    }
    this.loadingOlder = true;
    this.setData({ refreshing: true });
    const oldest = this.confirmed[0];
    this.store
      .history(this.chatType, this.targetId, oldest.seq)
      .then((list) => {
        list.forEach((m) => this.addConfirmed(m));
        this.loadingOlder = false;
        this.setData({ refreshing: false, noMore: list.length < config.historyPageSize, loadError: '' });
        // Keep the message that was on top in view.
        this.render(false, `m-${oldest.messageId}`);
      })
      .catch((err) => {
        this.loadingOlder = false;
        this.setData({ refreshing: false, loadError: t('chat.loadOlderFailed', { detail: describeError(err) }) });
      });
  },

  onPullDownRefresh() {
    this.onPullOlder();
    wx.stopPullDownRefresh();
  },

  loadGroupInfo() {
    const im = this.store.im;
    Promise.all([im.getGroupInfo({ groupId: this.targetId }), im.getGroupMembers({ groupId: this.targetId })])
      .then(([group, members]) => {
        this.title = group.name;
        this.ownerId = group.ownerId;
        const me = members.find((x) => x.userId === this.me.userId) || {};
        this.role = me.role || 'member';
        this.memberTotal = members.length;
        wx.setNavigationBarTitle({ title: group.name });
        // Muted (me, or everyone but the owner and admins): the composer says so and until when.
        const staff = this.role === 'owner' || this.role === 'admin';
        const mutedUntil = me.mutedUntil && me.mutedUntil > Date.now() ? me.mutedUntil : 0;
        const muted = mutedUntil ? t('chat.mutedUntil', { time: listTime(mutedUntil) }) : group.muteAll && !staff ? t('chat.mutedAll') : '';
        clearTimeout(this.unmuteTimer);
        if (mutedUntil) this.unmuteTimer = setTimeout(() => this.loadGroupInfo(), Math.min(mutedUntil - Date.now() + 500, 2 ** 31 - 1));
        this.setData({
          title: group.name,
          memberCount: group.memberCount,
          memberText: group.memberCount ? t('chat.members', { count: group.memberCount }) : t('chat.groupChat'),
          announcement: group.announcement || '',
          groupNotice: muted,
          canSend: !muted,
          mutedText: muted,
        });
      })
      .catch((err) => {
        if (err && (err.code === 'E_FORBIDDEN' || err.code === 'E_NOT_FOUND')) {
          this.setData({ groupNotice: t('chat.notMember'), canSend: false, mutedText: '' });
        }
      });
  },

  /** Private chats: "在线" / "最后在线 14:05" under the title. */
  showPresence() {
    const p = this.store.presence[this.targetId];
    this.setData({ presence: presenceText(p), peerOnline: !!(p && p.online) });
  },

  // ---------------------------------------------------------------- group read receipts

  /** "3人已读 · 2人未读" under my group messages, asked for a moment after reads come in. */
  scheduleReadCounts(later) {
    if (this.chatType !== 1) return;
    // Others' messages only say their senders read on: asked at most every few seconds, and only
    // with a message of mine on screen.
    if (later) {
      if (this.countsTimer || !this.confirmed.some((m) => m.from === this.me.userId)) return;
      this.countsTimer = setTimeout(() => {
        this.countsTimer = null;
        this.loadReadCounts();
      }, GROUP_RECEIPT_DELAY);
      return;
    }
    clearTimeout(this.countsTimer);
    this.countsTimer = setTimeout(() => {
      this.countsTimer = null;
      this.loadReadCounts();
    }, 300);
  },

  loadReadCounts() {
    const mine = this.confirmed.filter((m) => m.from === this.me.userId && !m.revoked && !isNotice(m)).slice(-20);
    if (!mine.length) return;
    this.store.im
      .getGroupMessageReadReceipts({ groupId: this.targetId, messageIds: mine.map((m) => m.messageId) })
      .then((list) => {
        list.forEach((r) => (this.readCounts[r.messageId] = r));
        this.render(false);
      })
      .catch((err) => console.warn('[demo] getGroupMessageReadReceipts:', describeError(err)));
  },

  /** Tap on "N人已读": who read it and who has not yet. */
  onReadMembers(e) {
    const messageId = e.currentTarget.dataset.key;
    const im = this.store.im;
    const page = (filter) => im.getGroupMessageReadMembers({ groupId: this.targetId, messageId, filter, limit: 50 });
    Promise.all([page('read'), page('unread')])
      .then(([read, unread]) => {
        const names = (p) => (p.items || []).map((x) => x.userName || x.userId).join(t('common.separator')) || t('common.nobody');
        wx.showModal({ title: t('chat.readReceipts'), content: t('chat.readMembers', { read: names(read), unread: names(unread) }), showCancel: false });
      })
      .catch((err) => wx.showToast({ title: describeError(err), icon: 'none' }));
  },

  // ---------------------------------------------------------------- live updates

  addConfirmed(m) {
    if (this.byId[m.messageId]) return false;
    this.byId[m.messageId] = m;
    const list = this.confirmed;
    if (!list.length || list[list.length - 1].seq < m.seq) list.push(m);
    else {
      list.push(m);
      list.sort(bySeq);
    }
    return true;
  },

  onMessage(m) {
    if (conversationKey(m.chatType, m.chatType === 1 ? m.to : m.from === this.me.userId ? m.to : m.from) !== this.key) return;
    if (!this.addConfirmed(m)) return;
    this.render(true);
    if (m.from !== this.me.userId && this.visible) this.readNow(m);
    // Mine: a new count to show. Theirs: the sender's read position moved past my earlier ones.
    this.scheduleReadCounts(m.from !== this.me.userId);
    // A notice about roles or mutes may change who can send here.
    if (isNotice(m) && this.chatType === 1) this.loadGroupInfo();
  },

  onStatus(status) {
    this.setData({ status });
    if (this.store.im.getStatus() === 'connected') {
      if (this.data.loadError && !this.confirmed.length) this.loadLatest();
      else if (this.visible) this.markAllRead();
    }
  },

  /** A message from someone else is on screen: tell them (private) and move my read position. */
  readNow(m) {
    if (this.chatType === 0) {
      if (m.seq > this.receiptSeq && this.store.sendReadReceipt(m)) this.receiptSeq = m.seq;
    } else if (!isNotice(m)) {
      // Groups: one read receipt for the newest message of a burst (it covers the ones before), so
      // a busy group does not cost every sender a receipt per member per message.
      this.newestRead = m;
      if (!this.groupReceiptTimer) {
        this.groupReceiptTimer = setTimeout(() => {
          this.groupReceiptTimer = null;
          const newest = this.newestRead;
          if (newest && newest.seq > this.receiptSeq && this.store.sendReadReceipt(newest)) this.receiptSeq = newest.seq;
        }, GROUP_RECEIPT_DELAY);
      }
    }
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.store.markRead(this.chatType, this.targetId, m.seq), 300);
  },

  markAllRead() {
    if (!this.visible || !this.confirmed.length) return;
    let newestTheirs = null;
    for (let i = this.confirmed.length - 1; i >= 0; i--) {
      if (this.confirmed[i].from !== this.me.userId && !isNotice(this.confirmed[i])) {
        newestTheirs = this.confirmed[i];
        break;
      }
    }
    if (newestTheirs && newestTheirs.seq > this.receiptSeq && this.store.sendReadReceipt(newestTheirs)) {
      this.receiptSeq = newestTheirs.seq;
    }
    this.store.markRead(this.chatType, this.targetId);
  },

  // ---------------------------------------------------------------- rendering

  render(toBottom, anchor) {
    const meId = this.me.userId;
    const receipts = this.chatType === 0 ? this.store.receiptsFor(this.targetId) : null;
    const entries = this.confirmed.map((m) => ({ message: m, state: 'sent' })).concat(this.pending.map((p) => ({ message: p, state: p.state })));
    let lastMine = -1;
    entries.forEach((e, i) => {
      if (e.state === 'sent' && e.message.from === meId) lastMine = i;
    });
    const now = Date.now();
    const messages = entries.map((e, i) => {
      const m = e.message;
      const mine = m.from === meId;
      const prev = i > 0 ? entries[i - 1].message : null;
      const who = avatar(m.from, m.fromName);
      let state = e.state;
      let statusText = '';
      if (state === 'sending') statusText = t('chat.sending');
      else if (state === 'failed') statusText = m.error;
      else if (mine && receipts && i === lastMine) {
        if (receipts.read >= m.seq) state = 'read';
        else if (receipts.delivered >= m.seq) state = 'delivered';
        statusText = t(state === 'read' ? 'chat.read' : state === 'delivered' ? 'chat.delivered' : 'chat.sent');
      }
      const key = m.messageId || m.localId;
      if (state === 'sending' && m.kind) statusText = m.progress < 100 ? t('chat.uploading', { percent: m.progress || 0 }) : t('chat.sending');
      const quote = m.replyTo
        ? m.replyTo.revoked
          ? t('chat.quoteRevoked')
          : t('chat.quote', { name: m.replyTo.fromName || m.replyTo.from, text: m.replyTo.content || t('preview.message') })
        : '';
      const counts = this.chatType === 1 && mine && e.state === 'sent' ? this.readCounts[m.messageId] : null;
      if (counts) statusText = counts.unreadCount === 0 ? t('chat.readByAll') : t('chat.readCount', { read: counts.readCount, unread: counts.unreadCount });
      const view = m.revoked ? { kind: 'revoked', revokedText: revokedText(m, meId) } : isNotice(m) ? { kind: 'notice', noticeText: noticeText(m, meId) } : mediaView(m);
      return Object.assign(view, {
        readCounts: !!counts,
        key,
        quote,
        edited: !!m.editedAt && !m.revoked,
        anchor: `m-${key}`,
        mine,
        content: m.content,
        showTime: !prev || m.timestamp - prev.timestamp > TIME_GAP,
        timeText: chatTime(m.timestamp, now),
        senderName: this.chatType === 1 && !mine ? m.fromName || m.from : '',
        avatarText: who.text,
        avatarColor: who.color,
        state,
        statusText,
        failed: state === 'failed',
      });
    });
    // Group notifications alone ("Alice创建了群聊") still leave the "say hello" hint.
    const update = { messages, spoken: messages.some((x) => x.kind !== 'notice') };
    if (anchor) update.scrollInto = anchor;
    else if (toBottom && messages.length) update.scrollInto = messages[messages.length - 1].anchor;
    this.setData(update);
  },

  // ---------------------------------------------------------------- sending

  onInput(e) {
    const draft = e.detail.value;
    if (draft && this.chatType === 0) this.store.im.sendTyping({ recipientId: this.targetId });
    if (this.chatType === 1 && draft.length > this.data.draft.length && draft.endsWith('@')) this.openMentions();
    const chars = charCount(draft);
    const max = config.maxMessageChars;
    const tooLong = chars > max;
    this.setData({
      draft,
      tooLong,
      counter: chars > max * 0.8 ? `${groupDigits(chars)} / ${groupDigits(max)}` : '',
      inputError: tooLong ? checkMessage(draft, max).error : '',
    });
  },

  onSend() {
    if (!this.data.canSend) return;
    const check = checkMessage(this.data.draft, config.maxMessageChars);
    if (!check.ok) {
      this.setData({ inputError: check.error });
      return;
    }
    // Mentions: the members picked with "@" whose name is still in the text.
    const mentions = Object.keys(this.mentions).filter((id) => check.text.includes(`@${this.mentions[id]}`));
    const extra = {};
    if (this.replyTo) extra.replyTo = this.replyTo.messageId;
    if (mentions.length) extra.mentions = mentions.includes('all') ? 'all' : mentions;
    this.replyTo = null;
    this.mentions = {};
    this.setData({ draft: '', inputError: '', counter: '', tooLong: false, replying: null });
    this.enqueue(check.text, undefined, extra);
  },

  /**
   * `clientMsgId`: a retry passes the id the failed send had, so a message the server stored
   * after all (E_SEND_UNCERTAIN) comes back as that message instead of being stored twice.
   */
  enqueue(content, clientMsgId, extra) {
    this.track({ content, clientMsgId, extra }, () => this.store.send(this.chatType, this.targetId, content, clientMsgId, extra));
  },

  /**
   * A send on its way: shown at once as "sending" (fields: what the bubble needs), moved to the
   * confirmed list when the server has it, or marked failed with Retry.
   */
  track(fields, send) {
    localIds += 1;
    const entry = Object.assign({ localId: `local-${localIds}`, from: this.me.userId, fromName: this.me.userName, content: '', timestamp: Date.now(), state: 'sending', error: '' }, fields);
    this.pending.push(entry);
    this.render(true);
    send(entry)
      .then((m) => {
        this.pending.splice(this.pending.indexOf(entry), 1);
        this.addConfirmed(m);
        this.render(true);
      })
      .catch((err) => {
        entry.state = 'failed';
        entry.error = describeError(err, 'send');
        if (err && err.clientMsgId) entry.clientMsgId = err.clientMsgId;
        this.render(false);
      });
  },

  onRetry(e) {
    const key = e.currentTarget.dataset.key;
    const entry = this.pending.find((p) => p.localId === key);
    if (!entry || entry.state !== 'failed') return;
    this.pending.splice(this.pending.indexOf(entry), 1);
    // A failed upload is uploaded again; a failed send of text goes again under its clientMsgId.
    if (entry.kind) this.enqueueMedia(entry.kind, entry.file, entry.extra, entry.preview);
    else this.enqueue(entry.content, entry.clientMsgId, entry.extra);
  },

  // ---------------------------------------------------------------- long-press menu, reply, @, typing

  onLongPress(e) {
    const m = this.byId[e.currentTarget.dataset.key];
    if (!m || m.revoked || isNotice(m)) return;
    const mine = m.from === this.me.userId;
    const text = !m.msgType;
    const actions = [{ label: t('chat.reply'), run: () => this.startReply(m) }];
    if (text) actions.push({ label: t('chat.copy'), run: () => wx.setClipboardData({ data: m.content }) });
    if (mine && text) actions.push({ label: t('chat.edit'), run: () => this.editMessage(m) });
    if ((mine && Date.now() - m.timestamp < REVOKE_WINDOW) || (this.chatType === 1 && (this.role === 'owner' || this.role === 'admin'))) {
      actions.push({ label: t('chat.revoke'), run: () => this.revokeMessage(m) });
    }
    wx.showActionSheet({ itemList: actions.map((a) => a.label), success: (res) => actions[res.tapIndex] && actions[res.tapIndex].run() });
  },

  startReply(m) {
    this.replyTo = m;
    const text = m.msgType ? t('chat.media') : m.content;
    const name = m.from === this.me.userId ? t('chat.yourself') : m.fromName || m.from;
    this.setData({ replying: { name, text: t('chat.replyingTo', { name, text: text.length > 40 ? `${text.slice(0, 40)}…` : text }) } });
  },

  onCancelReply() {
    this.replyTo = null;
    this.setData({ replying: null });
  },

  revokeMessage(m) {
    this.store.revoke(m.messageId).catch((err) => wx.showToast({ title: err && err.code === 'E_FORBIDDEN' ? t('chat.tooLateToRevoke') : describeError(err), icon: 'none' }));
  },

  editMessage(m) {
    wx.showModal({
      title: t('chat.editTitle'),
      editable: true,
      content: m.content,
      success: (res) => {
        if (!res.confirm || !res.content || res.content === m.content) return;
        this.store.edit(m.messageId, res.content).catch((err) => wx.showToast({ title: describeError(err), icon: 'none' }));
      },
    });
  },

  /** "@" in a group: the member list to pick from (the owner may mention everyone). */
  openMentions() {
    this.store.im
      .getGroupMembers({ groupId: this.targetId })
      .then((list) => {
        const members = list.filter((x) => x.userId !== this.me.userId).map((x) => ({ userId: x.userId, name: x.userName || x.userId }));
        // My role from this same list: the group info may still be on its way.
        const mine = list.find((x) => x.userId === this.me.userId);
        if (mine) this.role = mine.role;
        if (this.role === 'owner' || this.role === 'admin') members.unshift({ userId: 'all', name: t('chat.everyone') });
        this.setData({ mentionPanel: true, members, panel: false });
      })
      .catch(() => undefined);
  },

  onPickMention(e) {
    const { id, name } = e.currentTarget.dataset;
    this.mentions[id] = name;
    this.setData({ draft: `${this.data.draft}${name} `, mentionPanel: false });
  },

  onCloseMentions() {
    this.setData({ mentionPanel: false });
  },

  showTyping() {
    wx.setNavigationBarTitle({ title: t('chat.typing') });
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => wx.setNavigationBarTitle({ title: this.title }), TYPING_SHOWN);
  },

  // ---------------------------------------------------------------- media ("+" panel)

  onPlus() {
    if (!this.data.canSend) return;
    this.setData({ panel: !this.data.panel });
  },

  onAlbum() {
    this.chooseMedia(['album']);
  },

  onCamera() {
    this.chooseMedia(['camera']);
  },

  chooseMedia(sourceType) {
    wx.chooseMedia({
      count: 1,
      mediaType: ['image', 'video'],
      sourceType,
      success: (res) => {
        const item = res.tempFiles[0];
        const kind = item.fileType === 'video' ? 'video' : 'image';
        this.setData({ panel: false });
        this.enqueueMedia(kind, item, {}, { url: item.tempFilePath, width: item.width, height: item.height, size: item.size, duration: item.duration });
      },
    });
  },

  onFile() {
    wx.chooseMessageFile({
      count: 1,
      type: 'all',
      success: (res) => {
        const item = res.tempFiles[0];
        this.setData({ panel: false });
        this.enqueueMedia('file', item, {}, { name: item.name, size: item.size });
      },
    });
  },

  /** Hold to talk: recording starts on touch and is sent when the finger lifts. */
  onVoiceStart() {
    if (!this.recorder) {
      this.recorder = wx.getRecorderManager();
      this.recorder.onStop((res) => {
        this.setData({ recording: false });
        const duration = Math.max(1, Math.round(res.duration / 1000));
        this.enqueueMedia('audio', res.tempFilePath, { duration }, { duration, size: res.fileSize });
      });
      this.recorder.onError(() => this.setData({ recording: false }));
    }
    this.setData({ recording: true });
    this.recorder.start({ format: 'mp3', duration: 60000 });
  },

  onVoiceEnd() {
    if (this.recorder && this.data.recording) this.recorder.stop();
  },

  enqueueMedia(kind, file, extra, preview) {
    this.track({ kind: kind === 'audio' ? 'voice' : kind, file, extra, preview, progress: 0 }, (entry) =>
      this.store.sendMedia(this.chatType, this.targetId, kind, file, extra, (p) => {
        entry.progress = p.percent;
        this.render(false);
      }),
    );
  },

  onPreview(e) {
    const url = e.currentTarget.dataset.url;
    const urls = this.confirmed.filter((m) => m.msgType === 1 && m.data && m.data.url).map((m) => m.data.url);
    wx.previewImage({ urls: urls.length ? urls : [url], current: url });
  },

  onPlayVoice(e) {
    if (!this.audio) this.audio = wx.createInnerAudioContext();
    this.audio.stop();
    this.audio.src = e.currentTarget.dataset.url;
    this.audio.play();
  },

  onOpenFile(e) {
    const url = e.currentTarget.dataset.url;
    if (!url) return;
    wx.showLoading({ title: t('chat.opening') });
    wx.downloadFile({
      url,
      success: (res) => {
        wx.hideLoading();
        if (res.statusCode === 200) wx.openDocument({ filePath: res.tempFilePath, showMenu: true });
        else wx.showToast({ title: t('chat.openFailed'), icon: 'none' });
      },
      fail: () => {
        wx.hideLoading();
        wx.showToast({ title: t('chat.downloadFailed'), icon: 'none' });
      },
    });
  },

  // ---------------------------------------------------------------- navigation

  onStatusTap() {
    if (this.data.status.canRetry) this.store.reconnect();
  },

  onGroupInfo() {
    wx.navigateTo({ url: `/pages/group-info/group-info?id=${encodeURIComponent(this.targetId)}&from=chat` });
  },
});
