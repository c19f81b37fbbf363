/**
 * The protocol's limits and text rules (docs/protocol.md section 1), one copy for the server and
 * the SDK: the SDK checks the same rules so bad input never leaves the device. Plain code only:
 * this file is bundled into mini-programs, whose older engines lack regex lookbehind and
 * TextEncoder, hence the loops.
 */
export const LIMITS = {
  /** UTF-8 bytes of `content`. */
  CONTENT_BYTES: 32768,
  /** UTF-8 bytes of `data` as JSON. */
  DATA_BYTES: 32768,
  /** Levels of nesting in `data`: each object or array is one, an empty one too. */
  DATA_DEPTH: 16,
  HISTORY_MAX: 100,
  SYNC_MAX: 500,
  ID_LIST_MAX: 500,
  GROUP_STATES_MAX: 500,
  /** A conversation's unreadCount stops here ("1000" is 1,000 or more): counting costs at most this many rows. */
  UNREAD_COUNT_MAX: 1000,
  /** User ids in one presence:subscribe, presence:unsubscribe or presence:get. */
  PRESENCE_IDS: 500,
  /** Presence subscriptions one connection may hold (per user: this times IM_MAX_SOCKETS_PER_USER). */
  PRESENCE_SUBSCRIPTIONS: 1000,
  /** messageIds of one getGroupMessageReadReceipts call. */
  READ_RECEIPT_IDS_MAX: 100,
  /** Group settings (updateGroupInfo): characters of the announcement and of the avatar URL. */
  GROUP_ANNOUNCEMENT_CHARS: 2000,
  GROUP_AVATAR_CHARS: 1000,
  /** The longest mute of a group member, seconds (30 days). */
  GROUP_MUTE_MAX_SECONDS: 2_592_000,
} as const;

/** msgType of group notifications, stored by the server; outside 0-1000, so no app can send one. */
export const GROUP_NOTICE_MSG_TYPE = 1001;

/** appId, userId, groupId. */
export const ID_SOURCE = '^[A-Za-z0-9_.@-]{1,64}$';
export const ID_PATTERN = new RegExp(ID_SOURCE);
/** A send's idempotency key (the SDK's generated ones, base36 time + nanoid, fit it). */
export const CLIENT_MSG_ID_SOURCE = '^[A-Za-z0-9_-]{1,64}$';
export const CLIENT_MSG_ID_PATTERN = new RegExp(CLIENT_MSG_ID_SOURCE);

/**
 * What a reader cannot see: whitespace, control characters, zero-width and other format
 * characters, and the Hangul fillers. A text message of only these is empty.
 */
const INVISIBLE = /[\s\u0000-\u001f\u007f-\u009f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb]/g;

export function hasVisibleText(text: string): boolean {
  return text.replace(INVISIBLE, '').length > 0;
}

/** True when `text` has half of a UTF-16 surrogate pair: it has no UTF-8 form. */
export function hasUnpairedSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    }
  }
  return false;
}

/**
 * U+0000 is refused in every stored text (content, data's keys and strings, names): PostgreSQL's
 * text and jsonb cannot hold it and XML (so XMPP) forbids it, so one rule keeps both storages and
 * any bridge byte-exact, instead of one engine storing what another refuses.
 */
export function hasNul(text: string): boolean {
  return text.indexOf('\u0000') !== -1;
}

/** True when a string or key anywhere in `value` holds U+0000 (stops past LIMITS.DATA_DEPTH). */
export function dataHasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return hasNul(value);
  if (value === null || typeof value !== 'object' || depth > LIMITS.DATA_DEPTH) return false;
  for (const key of Object.keys(value as Record<string, unknown>)) {
    if (hasNul(key) || dataHasNul((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/** UTF-8 length without TextEncoder. */
export function utf8Bytes(text: string): number {
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

/** Levels of nesting of `value` (see LIMITS.DATA_DEPTH); stops counting once past the limit. */
export function dataDepth(value: unknown, depth = 0): number {
  if (depth > LIMITS.DATA_DEPTH || value === null || typeof value !== 'object') return depth;
  let max = depth + 1;
  for (const v of Object.values(value as Record<string, unknown>)) {
    max = Math.max(max, dataDepth(v, depth + 1));
    if (max > LIMITS.DATA_DEPTH) break;
  }
  return max;
}
