/** Formatting and validation helpers shared by the pages, in the UI language (i18n.js). No wx calls here. */
const { t } = require('./i18n');

/** The protocol's limit for `content`: 32 KB of UTF-8. */
const MAX_CONTENT_BYTES = 32768;
const USER_ID_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;

const AVATAR_COLORS = ['#5B8FF9', '#61C48C', '#F6BD16', '#E8684A', '#6DC8EC', '#9270CA', '#FF9D4D', '#269A99', '#FF99C3', '#7A8C9E'];

function utf8Bytes(text) {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Characters as a person counts them (an emoji is one, not two UTF-16 units). */
function charCount(text) {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) i++;
    n++;
  }
  return n;
}

function groupDigits(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * Checks a draft before sending. Returns { ok: true, text } or { ok: false, error } with a sentence
 * for the page.
 */
function checkMessage(text, maxChars) {
  const value = typeof text === 'string' ? text : '';
  if (!value.trim()) return { ok: false, error: t('input.empty') };
  const chars = charCount(value);
  if (chars > maxChars) return { ok: false, error: t('input.tooManyChars', { chars: groupDigits(chars), max: groupDigits(maxChars) }) };
  const bytes = utf8Bytes(value);
  if (bytes > MAX_CONTENT_BYTES) return { ok: false, error: t('input.tooManyBytes', { kb: Math.ceil(bytes / 1024) }) };
  return { ok: true, text: value };
}

function checkUserId(userId) {
  if (!userId) return t('input.userIdMissing');
  if (!USER_ID_PATTERN.test(userId)) return t('input.userIdInvalid');
  return '';
}

function pad(n) {
  return n < 10 ? `0${n}` : String(n);
}

function startOfDay(ts) {
  const d = new Date(ts);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

const DAY = 24 * 60 * 60 * 1000;

function hourMinute(d) {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** 3/18 or 3月18日; with the year (2023/3/18, 2023年3月18日) when it is not this year's. */
function dayText(d, withYear) {
  const parts = { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() };
  return withYear ? t('time.yearMonthDay', parts) : t('time.monthDay', parts);
}

/** Short time for lists: 14:05, 昨天 / Yesterday, 星期二 / Tue, 3月18日 / 3/18, 2023年3月18日 / 2023/3/18. */
function listTime(ts, now = Date.now()) {
  if (!ts) return '';
  const d = new Date(ts);
  const days = Math.round((startOfDay(now) - startOfDay(ts)) / DAY);
  if (days <= 0) return hourMinute(d);
  if (days === 1) return t('time.yesterday');
  if (days < 7) return t('time.weekdays').split(',')[d.getDay()];
  return dayText(d, d.getFullYear() !== new Date(now).getFullYear());
}

/** Time separators inside a chat: 14:05, 昨天 14:05, 3月18日 14:05 (Yesterday 14:05, 3/18 14:05). */
function chatTime(ts, now = Date.now()) {
  const d = new Date(ts);
  const hm = hourMinute(d);
  const days = Math.round((startOfDay(now) - startOfDay(ts)) / DAY);
  if (days <= 0) return hm;
  if (days === 1) return t('time.yesterdayAt', { time: hm });
  return `${dayText(d, d.getFullYear() !== new Date(now).getFullYear())} ${hm}`;
}

function fullDate(ts) {
  const d = new Date(ts);
  return `${dayText(d, true)} ${hourMinute(d)}`;
}

function hash(text) {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return Math.abs(h);
}

/** A coloured initial instead of a picture: { text, color }. */
function avatar(id, name) {
  const label = (name || id || '?').trim();
  const words = label.split(/\s+/).filter(Boolean);
  let text = words.length > 1 ? words[0][0] + words[1][0] : label.slice(0, 2);
  if (/[\u4e00-\u9fff]/.test(label)) text = label.slice(-2);
  return { text: text.toUpperCase(), color: AVATAR_COLORS[hash(id || label) % AVATAR_COLORS.length] };
}

const TYPE_LABELS = { 1: 'preview.image', 2: 'preview.file', 3: 'preview.voice', 4: 'preview.video', 5: 'preview.location' };

/** What a message says, as one line for a list. */
function messageText(message) {
  if (!message) return '';
  if (message.revoked) return t('preview.revoked');
  if (message.msgType && message.msgType !== 0) return TYPE_LABELS[message.msgType] ? t(TYPE_LABELS[message.msgType]) : message.content || t('preview.message');
  return String(message.content || '').replace(/\s+/g, ' ');
}

function firstName(name) {
  return String(name || '').split(/\s+/)[0];
}

/** "Alice撤回了一条消息" / "Alice revoked a message": for the chat and the conversation list. */
function revokedText(m, myUserId) {
  if (m.revokedBy === myUserId) return t('revoked.byMe');
  if (m.revokedBy === m.from) return t('revoked.bySender', { name: firstName(m.fromName) || m.from });
  return t('revoked.byAdmin');
}

/** msgType of the server's group notifications ("Alice将Bob设为管理员"). */
const GROUP_NOTICE = 1001;

function isNotice(m) {
  return !!m && m.msgType === GROUP_NOTICE;
}

/**
 * A group notification as a sentence for this user ("你将Bob设为管理员" / "You made Bob an admin"),
 * from its data; the server's own sentence (content) when the action is one this demo does not know.
 */
function noticeText(m, myUserId) {
  const d = (m && m.data) || {};
  const names = d.names || {};
  const who = (id) => (id === myUserId ? t('common.you') : firstName(names[id]) || id);
  const by = d.by === myUserId ? t('common.You') : firstName(d.byName || names[d.by]) || d.by || t('common.someone');
  const them = (d.userIds || []).map(who).join(t('common.separator'));
  const say = (key, extra) => t(`notice.${key}`, Object.assign({ by, them }, extra));
  switch (d.action) {
    case 'created':
      return say('created');
    case 'members_added':
      return say('membersAdded');
    case 'member_removed':
      return say('memberRemoved');
    case 'member_left':
      return say('memberLeft');
    case 'role_changed':
      return say(d.role === 'admin' ? 'madeAdmin' : 'madeMember');
    case 'owner_transferred':
      return say('ownerTransferred');
    case 'member_muted':
      return say(d.seconds || d.mutedUntil ? 'muted' : 'unmuted');
    case 'mute_all':
      return say(d.muted ? 'mutedAll' : 'unmutedAll');
    case 'info_updated':
      if (d.changes && d.changes.announcement !== undefined) return say('announcement');
      if (d.changes && d.changes.name !== undefined) return say('renamed', { name: d.changes.name });
      return say('infoUpdated');
    default:
      return (m && m.content) || '';
  }
}

/** "在线" / "Online", "最后在线 14:05" / "Last seen 14:05", or "" when unknown. */
function presenceText(p, now = Date.now()) {
  if (!p) return '';
  if (p.online) return t('presence.online');
  return p.lastSeenAt ? t('presence.lastSeen', { time: listTime(p.lastSeenAt, now) }) : t('presence.offline');
}

/**
 * The preview line of a conversation as { flag, text }: flag "[草稿]" / "[Draft]" or "[有人@我]" /
 * "[@me]" (drawn in red) or ""; text "我: …" for mine, "Bob: …" in groups.
 */
function previewParts(conversation, myUserId) {
  if (conversation.draft) return { flag: t('preview.draft'), text: String(conversation.draft).replace(/\s+/g, ' ') };
  const m = conversation.lastMessage;
  if (!m) return { flag: '', text: t('preview.empty') };
  if (m.revoked) return { flag: '', text: revokedText(m, myUserId) };
  if (isNotice(m)) return { flag: '', text: noticeText(m, myUserId) };
  const text = messageText(m);
  const sender = t('preview.sender', { name: firstName(m.fromName) || m.from, text });
  if (conversation.mentionedMe && conversation.unreadCount) return { flag: t('preview.mention'), text: sender };
  if (m.from === myUserId) return { flag: '', text: t('preview.mine', { text }) };
  return { flag: '', text: conversation.chatType === 1 ? sender : text };
}

/** The preview as one line: "[Draft] …", "[@me] …", "You: …", "Bob: …". */
function preview(conversation, myUserId) {
  const parts = previewParts(conversation, myUserId);
  return parts.flag ? `${parts.flag} ${parts.text}` : parts.text;
}

/** A sentence for an ImError (or anything thrown), for the page. */
function describeError(err, context) {
  const code = err && err.code;
  switch (code) {
    case 'E_NETWORK':
      return t('error.network');
    case 'E_TIMEOUT':
      return t(context === 'send' ? 'error.notSentOffline' : 'error.timeout');
    case 'E_NOT_CONNECTED':
      return t('error.notConnected');
    case 'E_SEND_UNCERTAIN':
      return t('error.sendUncertain');
    case 'E_PAYLOAD_TOO_LARGE':
      return t('error.payloadTooLarge');
    case 'E_FORBIDDEN':
      return t('error.forbidden');
    case 'E_NOT_FOUND':
      return t('error.notFound');
    case 'E_RATE_LIMITED':
      return t('error.rateLimited');
    case 'E_REFUSED': {
      // The app's backend (beforeSend webhook) refused it; its reason is in the server's message.
      const reason = /refused by the app's backend: (.*?)(?: \(server code \d+\))?$/.exec(String(err.message || ''));
      return reason && reason[1] ? t('error.refusedReason', { reason: reason[1] }) : t('error.refused');
    }
    case 'E_AUTH':
      return t('error.auth');
    case 'E_TOKEN_EXPIRED':
    case 'E_TOKEN_INVALID':
      return t('error.sessionExpired');
    case 'E_INVALID_ARGUMENT':
      // The SDK's sentence starts with the method ("sendPrivateMessage: …"): shown without it.
      return err.message ? t('error.invalidArgumentDetail', { detail: String(err.message).replace(/^\w+: /, '') }) : t('error.invalidArgument');
    default:
      // Unknown codes carry the SDK's or server's own (English) sentence, still better than nothing.
      return (err && err.message) || t('error.unknown');
  }
}

module.exports = {
  revokedText,
  GROUP_NOTICE,
  isNotice,
  noticeText,
  presenceText,
  MAX_CONTENT_BYTES,
  USER_ID_PATTERN,
  utf8Bytes,
  charCount,
  groupDigits,
  checkMessage,
  checkUserId,
  listTime,
  chatTime,
  fullDate,
  avatar,
  messageText,
  firstName,
  preview,
  previewParts,
  describeError,
};
