// One page for private chats (?type=private&id=<userId>) and group chats (?type=group&id=<groupId>).
const config = require('../../config');
const { avatar, chatTime, charCount, checkMessage, describeError, groupDigits } = require('../../utils/format');
const { conversationKey } = require('../../utils/store');

/** A time separator is shown when two messages are further apart than this. */
const TIME_GAP = 5 * 60 * 1000;
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
    fileName: d.name || 'File',
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
    groupNotice: '',
    status: { visible: false },
    messages: [],
    loaded: false,
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
    ];
    this.loadLatest();
    if (this.chatType === 1) this.loadGroupInfo();
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
      })
      .catch((err) => {
        this.setData({ loaded: true, loadError: `Could not load messages. ${describeError(err)}` });
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
        this.setData({ refreshing: false, loadError: `Could not load earlier messages. ${describeError(err)}` });
      });
  },

  onPullDownRefresh() {
    this.onPullOlder();
    wx.stopPullDownRefresh();
  },

  loadGroupInfo() {
    this.store.im
      .getGroupInfo({ groupId: this.targetId })
      .then((group) => {
        this.title = group.name;
        wx.setNavigationBarTitle({ title: group.name });
        this.setData({ title: group.name, memberCount: group.memberCount, groupNotice: '', canSend: true });
      })
      .catch((err) => {
        if (err && (err.code === 'E_FORBIDDEN' || err.code === 'E_NOT_FOUND')) {
          this.setData({ groupNotice: 'You are no longer a member of this group', canSend: false });
        }
      });
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
    }
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.store.markRead(this.chatType, this.targetId, m.seq), 300);
  },

  markAllRead() {
    if (!this.visible || !this.confirmed.length) return;
    let newestTheirs = null;
    for (let i = this.confirmed.length - 1; i >= 0; i--) {
      if (this.confirmed[i].from !== this.me.userId) {
        newestTheirs = this.confirmed[i];
        break;
      }
    }
    if (this.chatType === 0 && newestTheirs && newestTheirs.seq > this.receiptSeq && this.store.sendReadReceipt(newestTheirs)) {
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
      if (state === 'sending') statusText = 'Sending…';
      else if (state === 'failed') statusText = m.error;
      else if (mine && receipts && i === lastMine) {
        if (receipts.read >= m.seq) state = 'read';
        else if (receipts.delivered >= m.seq) state = 'delivered';
        statusText = state === 'read' ? 'Read' : state === 'delivered' ? 'Delivered' : 'Sent';
      }
      const key = m.messageId || m.localId;
      if (state === 'sending' && m.kind) statusText = m.progress < 100 ? `Uploading ${m.progress || 0}%` : 'Sending…';
      return Object.assign(mediaView(m), {
        key,
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
    const update = { messages };
    if (anchor) update.scrollInto = anchor;
    else if (toBottom && messages.length) update.scrollInto = messages[messages.length - 1].anchor;
    this.setData(update);
  },

  // ---------------------------------------------------------------- sending

  onInput(e) {
    const draft = e.detail.value;
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
    this.setData({ draft: '', inputError: '', counter: '', tooLong: false });
    this.enqueue(check.text);
  },

  /**
   * `clientMsgId`: a retry passes the id the failed send had, so a message the server stored
   * after all (E_SEND_UNCERTAIN) comes back as that message instead of being stored twice.
   */
  enqueue(content, clientMsgId) {
    this.track({ content, clientMsgId }, () => this.store.send(this.chatType, this.targetId, content, clientMsgId));
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
    else this.enqueue(entry.content, entry.clientMsgId);
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
    wx.showLoading({ title: 'Opening…' });
    wx.downloadFile({
      url,
      success: (res) => {
        wx.hideLoading();
        if (res.statusCode === 200) wx.openDocument({ filePath: res.tempFilePath, showMenu: true });
        else wx.showToast({ title: 'Could not open the file', icon: 'none' });
      },
      fail: () => {
        wx.hideLoading();
        wx.showToast({ title: 'Could not download the file', icon: 'none' });
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
