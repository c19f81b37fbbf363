/** Formatting and validation helpers shared by the pages. No wx calls here. */

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
  if (!value.trim()) return { ok: false, error: 'Type a message first.' };
  const chars = charCount(value);
  if (chars > maxChars) {
    return {
      ok: false,
      error: `This message is ${groupDigits(chars)} characters long; the limit is ${groupDigits(maxChars)}. Shorten it or send it in parts.`,
    };
  }
  const bytes = utf8Bytes(value);
  if (bytes > MAX_CONTENT_BYTES) {
    return {
      ok: false,
      error: `This message is ${Math.ceil(bytes / 1024)} KB; a message can be at most 32 KB. Shorten it or send it in parts.`,
    };
  }
  return { ok: true, text: value };
}

function checkUserId(userId) {
  if (!userId) return 'Enter a user id.';
  if (!USER_ID_PATTERN.test(userId)) return 'A user id is 1-64 characters: letters, digits and _ - . @';
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

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const DAY = 24 * 60 * 60 * 1000;

/** Short time for lists: 14:05, Yesterday, Tue, 3/18, 2023/3/18. */
function listTime(ts, now = Date.now()) {
  if (!ts) return '';
  const d = new Date(ts);
  const days = Math.round((startOfDay(now) - startOfDay(ts)) / DAY);
  if (days <= 0) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (days === 1) return 'Yesterday';
  if (days < 7) return WEEKDAYS[d.getDay()];
  if (d.getFullYear() === new Date(now).getFullYear()) return `${d.getMonth() + 1}/${d.getDate()}`;
  return `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()}`;
}

/** Time separators inside a chat: 14:05, Yesterday 14:05, 3/18 14:05. */
function chatTime(ts, now = Date.now()) {
  const d = new Date(ts);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const days = Math.round((startOfDay(now) - startOfDay(ts)) / DAY);
  if (days <= 0) return hm;
  if (days === 1) return `Yesterday ${hm}`;
  if (d.getFullYear() === new Date(now).getFullYear()) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  return `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()} ${hm}`;
}

function fullDate(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}/${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
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

const TYPE_LABELS = { 1: '[Image]', 2: '[File]', 3: '[Voice]', 4: '[Video]', 5: '[Location]' };

/** What a message says, as one line for a list. */
function messageText(message) {
  if (!message) return '';
  if (message.revoked) return '[Message revoked]';
  if (message.msgType && message.msgType !== 0) return TYPE_LABELS[message.msgType] || message.content || '[Message]';
  return String(message.content || '').replace(/\s+/g, ' ');
}

function firstName(name) {
  return String(name || '').split(/\s+/)[0];
}

/** "Alice revoked a message": for the chat and the conversation list. */
function revokedText(m, myUserId) {
  if (m.revokedBy === myUserId) return 'You revoked a message';
  if (m.revokedBy === m.from) return `${firstName(m.fromName) || m.from} revoked a message`;
  return 'An admin revoked a message';
}

/** msgType of the server's group notifications ("Alice made Bob an admin"). */
const GROUP_NOTICE = 1001;

function isNotice(m) {
  return !!m && m.msgType === GROUP_NOTICE;
}

/**
 * A group notification as a sentence for this user ("You made Bob an admin"), from its data; the
 * server's own sentence (content) when the action is one this demo does not know.
 */
function noticeText(m, myUserId) {
  const d = (m && m.data) || {};
  const names = d.names || {};
  const who = (id) => (id === myUserId ? 'you' : firstName(names[id]) || id);
  const by = d.by === myUserId ? 'You' : firstName(d.byName || names[d.by]) || d.by || 'Someone';
  const them = (d.userIds || []).map(who).join(', ');
  switch (d.action) {
    case 'created':
      return `${by} created the group`;
    case 'members_added':
      return `${by} added ${them}`;
    case 'member_removed':
      return `${by} removed ${them}`;
    case 'member_left':
      return `${by} left the group`;
    case 'role_changed':
      return d.role === 'admin' ? `${by} made ${them} an admin` : `${by} made ${them} a member`;
    case 'owner_transferred':
      return `${by} made ${them} the owner`;
    case 'member_muted':
      return d.seconds || d.mutedUntil ? `${by} muted ${them}` : `${by} unmuted ${them}`;
    case 'mute_all':
      return d.muted ? `${by} muted everyone` : `${by} unmuted everyone`;
    case 'info_updated':
      if (d.changes && d.changes.announcement !== undefined) return `${by} updated the announcement`;
      if (d.changes && d.changes.name !== undefined) return `${by} renamed the group to "${d.changes.name}"`;
      return `${by} updated the group info`;
    default:
      return (m && m.content) || '';
  }
}

/** "Online", "Last seen 14:05", or "" when unknown. */
function presenceText(p, now = Date.now()) {
  if (!p) return '';
  if (p.online) return 'Online';
  return p.lastSeenAt ? `Last seen ${listTime(p.lastSeenAt, now)}` : 'Offline';
}

/** The preview line of a conversation: "[Draft] …", "[@me] …", "You: …" for mine, "Bob: …" in groups. */
function preview(conversation, myUserId) {
  if (conversation.draft) return `[Draft] ${String(conversation.draft).replace(/\s+/g, ' ')}`;
  const m = conversation.lastMessage;
  if (!m) return 'No messages yet';
  const text = messageText(m);
  if (m.revoked) return revokedText(m, myUserId);
  if (isNotice(m)) return noticeText(m, myUserId);
  if (conversation.mentionedMe && conversation.unreadCount) return `[@me] ${firstName(m.fromName) || m.from}: ${text}`;
  if (m.from === myUserId) return `You: ${text}`;
  if (conversation.chatType === 1) return `${firstName(m.fromName) || m.from}: ${text}`;
  return text;
}

/** A sentence for an ImError (or anything thrown), for the page. */
function describeError(err, context) {
  const code = err && err.code;
  switch (code) {
    case 'E_NETWORK':
      return 'Cannot reach the IM server. Check the network and that the server is running.';
    case 'E_TIMEOUT':
      return context === 'send' ? 'Not sent: no connection.' : 'The IM server did not answer in time.';
    case 'E_NOT_CONNECTED':
      return 'Not sent: not connected.';
    case 'E_SEND_UNCERTAIN':
      return 'Maybe not sent: the connection dropped before the server confirmed it.';
    case 'E_PAYLOAD_TOO_LARGE':
      return 'Too long to send: a message can be at most 32 KB.';
    case 'E_FORBIDDEN':
      return 'Not allowed: you are not a member of this group (or not its owner).';
    case 'E_NOT_FOUND':
      return 'Not found: no such user or group.';
    case 'E_RATE_LIMITED':
      return 'Sending too fast; wait a moment and try again.';
    case 'E_AUTH':
      return 'The appId / appSecret in config.js do not match the IM server.';
    case 'E_TOKEN_EXPIRED':
    case 'E_TOKEN_INVALID':
      return 'Your session expired. Sign in again.';
    case 'E_INVALID_ARGUMENT':
      return String(err.message || 'Invalid input.').replace(/^\w+: /, '');
    default:
      return (err && err.message) || 'Something went wrong.';
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
  describeError,
};
