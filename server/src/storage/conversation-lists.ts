import { GROUP_NOTICE_MSG_TYPE, LIMITS } from '../protocol/limits';
import { MENTIONED_SQL } from './rows';
import type { ConversationRecord, ConversationCursor, StoredMessage } from './types';

/**
 * The SQL of conversation lists, shared by both storages: one "head" row per conversation of a
 * user with everything the list needs but the counts (last message, read position, the user's
 * settings), then the counts for the conversations of one page only.
 *
 * Unread is counted after the user's own start of the conversation: the furthest of the read
 * position (read_state, which the peer sees as peerReadSeq, so deleting never moves it), where it
 * was deleted (conversation_settings.hidden_seq) and, in a group, where the user joined. Not
 * counted: the user's own messages, event rows (revokes, edits) and group notices.
 *
 * A deleted conversation is off the list until a message (not an event row: a revoke of an old
 * message brings nothing back) comes after hidden_seq; the subquery runs only for deleted ones.
 */

const UNREAD_COUNT_MAX = LIMITS.UNREAD_COUNT_MAX;
/**
 * getTotalUnreadCount adds up at most this many conversations: the most recently active that have
 * something unread (HAS_UNREAD), so conversations with nothing to read never take a place.
 */
export const TOTAL_UNREAD_CONVERSATIONS = 1000;

/** One conversation of a user before its counts (PostgreSQL bigints arrive as numbers). */
export interface ConversationHead {
  conv_id: string;
  target_id: string;
  /** `<chatType>:<targetId>`. */
  id: string;
  chat_type: number;
  last_seq: number;
  last_message_id: string | null;
  updated_at: number;
  name: string;
  joined_seq: number;
  read_seq: number;
  /** 0 or 1 on both engines. */
  pinned: number;
  muted: number;
  hidden_seq: number;
  /** 1 while on the list: never deleted, or a message came after. */
  listed: number;
}

type Dialect = 'sqlite' | 'pg';

/** A setting as 0/1 on both engines (SQLite stores integers, PostgreSQL booleans). */
const flag = (d: Dialect, col: string) => (d === 'pg' ? `CASE WHEN cs.${col} THEN 1 ELSE 0 END` : `COALESCE(cs.${col}, 0)`);

const COMMON = (d: Dialect) => `COALESCE(r.read_seq, 0) AS read_seq, ${flag(d, 'pinned')} AS pinned, ${flag(d, 'muted')} AS muted,
    COALESCE(cs.hidden_seq, 0) AS hidden_seq,
    CASE WHEN COALESCE(cs.hidden_seq, 0) = 0 THEN 1
      WHEN (SELECT lm.seq FROM messages lm WHERE lm.app_id = c.app_id AND lm.message_id = c.last_message_id) > cs.hidden_seq THEN 1 ELSE 0 END AS listed`;

const JOINS = (app: string, user: string, conv: string) => `LEFT JOIN read_state r ON r.app_id = ${app} AND r.user_id = ${user} AND r.conv_id = ${conv}
  LEFT JOIN conversation_settings cs ON cs.app_id = ${app} AND cs.user_id = ${user} AND cs.conv_id = ${conv}`;

/** The user's private conversations (those with a message), `where` narrowing them (alias uc). */
function privateHeads(d: Dialect, app: string, user: string, where = ''): string {
  return `SELECT uc.conv_id, uc.target_id, '0:' || uc.target_id AS id, 0 AS chat_type, c.last_seq, c.last_message_id, c.updated_at,
    COALESCE(u.user_name, uc.target_id) AS name, 0 AS joined_seq, ${COMMON(d)}
  FROM user_conversations uc JOIN conversations c ON c.app_id = uc.app_id AND c.conv_id = uc.conv_id
  LEFT JOIN users u ON u.app_id = uc.app_id AND u.user_id = uc.target_id
  ${JOINS('uc.app_id', 'uc.user_id', 'uc.conv_id')}
  WHERE uc.app_id = ${app} AND uc.user_id = ${user}${where}`;
}

/** The user's groups that have a message (alias gm for the membership). */
function groupHeads(d: Dialect, app: string, user: string, where = ''): string {
  return `SELECT c.conv_id, g.group_id AS target_id, '1:' || g.group_id AS id, 1 AS chat_type, c.last_seq, c.last_message_id, c.updated_at,
    g.name, gm.joined_seq, ${COMMON(d)}
  FROM group_members gm JOIN groups g ON g.app_id = gm.app_id AND g.group_id = gm.group_id AND g.dismissed_at IS NULL
  JOIN conversations c ON c.app_id = gm.app_id AND c.conv_id = 'g:' || gm.group_id
  ${JOINS('gm.app_id', 'gm.user_id', 'c.conv_id')}
  WHERE gm.app_id = ${app} AND gm.user_id = ${user}${where}`;
}

/** A message (alias `m`) that counts as unread for `user`: someone else's, not an event row, not a notice. */
const COUNTED = (m: string, user: string) => `${m}.from_id <> ${user} AND ${m}.event IS NULL AND ${m}.msg_type <> ${GROUP_NOTICE_MSG_TYPE}`;

/** Unread messages after a seq, counted up to UNREAD_COUNT_MAX. */
const UNREAD = (app: string, conv: string, after: string, user: string) => `SELECT COUNT(*) AS n FROM (SELECT 1 FROM messages m
  WHERE m.app_id = ${app} AND m.conv_id = ${conv} AND m.seq > ${after} AND ${COUNTED('m', user)} LIMIT ${UNREAD_COUNT_MAX}) x`;

/**
 * Whether anything is unread after `after`, decided from the conversation's last message (never an
 * event row, so revokes and edits after the read position do not make it look unread): when that
 * one counts, yes; when it is at or before `after`, no; only when it is a notice (or one's own) are
 * the messages after `after` looked at, up to the first that counts.
 */
const HAS_UNREAD = (app: string, conv: string, lastMessageId: string, after: string, user: string) => `EXISTS (SELECT 1 FROM messages lm
  WHERE lm.app_id = ${app} AND lm.message_id = ${lastMessageId} AND lm.seq > ${after}
    AND ((${COUNTED('lm', user)}) OR EXISTS (SELECT 1 FROM messages m WHERE m.app_id = ${app} AND m.conv_id = ${conv} AND m.seq > ${after} AND ${COUNTED('m', user)})))`;

export const SQLITE_CONVERSATIONS = {
  /** @app, @user: every head of the user (the list is ordered and paged in JS). */
  privateHeads: privateHeads('sqlite', '@app', '@user'),
  groupHeads: groupHeads('sqlite', '@app', '@user'),
  /** @app, @user, @conv / @group: one head. */
  privateHead: privateHeads('sqlite', '@app', '@user', ' AND uc.conv_id = @conv'),
  groupHead: groupHeads('sqlite', '@app', '@user', ' AND gm.group_id = @group'),
  unread: UNREAD('@app', '@conv', '@after', '@user'),
  /** @app, @conv, @last (its last_message_id), @after, @user: 1 when something is unread. */
  hasUnread: `SELECT ${HAS_UNREAD('@app', '@conv', '@last', '@after', '@user')} AS hit`,
  settings: `SELECT pinned, muted FROM conversation_settings WHERE app_id = @app AND user_id = @user AND conv_id = @conv`,
  setPinned: `INSERT INTO conversation_settings (app_id, user_id, conv_id, pinned) VALUES (@app, @user, @conv, @on)
    ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET pinned = excluded.pinned`,
  setMuted: `INSERT INTO conversation_settings (app_id, user_id, conv_id, muted) VALUES (@app, @user, @conv, @on)
    ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET muted = excluded.muted`,
  hide: `INSERT INTO conversation_settings (app_id, user_id, conv_id, hidden_seq)
    VALUES (@app, @user, @conv, COALESCE((SELECT last_seq FROM conversations WHERE app_id = @app AND conv_id = @conv), 0))
    ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET hidden_seq = MAX(hidden_seq, excluded.hidden_seq), pinned = 0`,
};

export const PG_CONVERSATIONS = {
  /**
   * $1 app, $2 user, then the cursor ($3 pinned 0/1, or 2 for the first page; $4 at; $5 id) and
   * $6 limit: one page in SQL, pinned first, then most recent, then id in byte order.
   */
  page: `SELECT * FROM (${privateHeads('pg', '$1', '$2')} UNION ALL ${groupHeads('pg', '$1', '$2')}) h
    WHERE listed = 1 AND (pinned < $3 OR (pinned = $3 AND (updated_at < $4 OR (updated_at = $4 AND id COLLATE "C" > $5 COLLATE "C"))))
    ORDER BY pinned DESC, updated_at DESC, id COLLATE "C" LIMIT $6`,
  /** $1 app, $2 user, $3 conv / group id. */
  privateHead: privateHeads('pg', '$1', '$2', ' AND uc.conv_id = $3'),
  groupHead: groupHeads('pg', '$1', '$2', ' AND gm.group_id = $3'),
  /** $1 app, $2 conv, $3 after, $4 user. */
  unread: UNREAD('$1', '$2', '$3', '$4'),
  /** A page item's counts in one round trip: $1 app, $2 conv, $3 after, $4 user, $5 mentionPattern(user), $6 the peer (null for groups). */
  counts: `SELECT (${UNREAD('$1', '$2', '$3', '$4')}) AS n, EXISTS (${MENTIONED_SQL}) AS hit,
    (SELECT read_seq FROM read_state WHERE app_id = $1 AND user_id = $6 AND conv_id = $2) AS peer`,
  /**
   * $1 app, $2 user: the total in one statement (one round trip; it reads a head per conversation
   * of the user, and the last message of those with seqs after their start).
   */
  total: `SELECT COALESCE(SUM(u.n), 0) AS total FROM (
      SELECT conv_id, GREATEST(read_seq, hidden_seq, joined_seq) AS after FROM (${privateHeads('pg', '$1', '$2')} UNION ALL ${groupHeads('pg', '$1', '$2')}) h
      WHERE listed = 1 AND muted = 0 AND last_seq > GREATEST(read_seq, hidden_seq, joined_seq)
        AND ${HAS_UNREAD('$1', 'h.conv_id', 'h.last_message_id', 'GREATEST(h.read_seq, h.hidden_seq, h.joined_seq)', '$2')}
      ORDER BY updated_at DESC LIMIT ${TOTAL_UNREAD_CONVERSATIONS}
    ) t CROSS JOIN LATERAL (${UNREAD('$1', 't.conv_id', 't.after', '$2')}) u`,
  /** $1 app, $2 user, $3 conv. */
  settings: 'SELECT pinned, muted FROM conversation_settings WHERE app_id = $1 AND user_id = $2 AND conv_id = $3',
  /** $1 app, $2 user, $3 conv, $4 on. */
  setPinned: `INSERT INTO conversation_settings (app_id, user_id, conv_id, pinned) VALUES ($1, $2, $3, $4)
    ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET pinned = excluded.pinned`,
  setMuted: `INSERT INTO conversation_settings (app_id, user_id, conv_id, muted) VALUES ($1, $2, $3, $4)
    ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET muted = excluded.muted`,
  hide: `INSERT INTO conversation_settings AS cs (app_id, user_id, conv_id, hidden_seq)
    VALUES ($1, $2, $3, COALESCE((SELECT last_seq FROM conversations WHERE app_id = $1 AND conv_id = $3), 0))
    ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET hidden_seq = GREATEST(cs.hidden_seq, excluded.hidden_seq), pinned = false`,
};

/** Where the user's unread messages of a conversation start. */
export function unreadAfter(h: ConversationHead): number {
  return Math.max(Number(h.read_seq), Number(h.hidden_seq), Number(h.joined_seq));
}

/** Pinned first, then the most recent, then by id (byte order, as PostgreSQL's COLLATE "C"). */
export function headOrder(a: ConversationHead, b: ConversationHead): number {
  return b.pinned - a.pinned || b.updated_at - a.updated_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** True when `h` comes after the cursor in headOrder. */
export function afterCursor(h: ConversationHead, c: ConversationCursor | undefined): boolean {
  if (!c) return true;
  const p = c.pinned ? 1 : 0;
  return h.pinned < p || (h.pinned === p && (h.updated_at < c.at || (h.updated_at === c.at && h.id > c.id)));
}

/** The record of a head with its counts. */
export function toConversation(
  h: ConversationHead,
  counts: { unreadCount: number; mentionedMe: boolean; peerReadSeq: number | null; lastMessage: StoredMessage | null },
): ConversationRecord {
  return {
    conversationId: h.id,
    chatType: h.chat_type === 1 ? 1 : 0,
    targetId: h.target_id,
    name: h.name,
    lastMessage: counts.lastMessage,
    lastSeq: Number(h.last_seq),
    readSeq: Number(h.read_seq),
    peerReadSeq: counts.peerReadSeq,
    unreadCount: counts.unreadCount,
    mentionedMe: counts.mentionedMe,
    updatedAt: Number(h.updated_at),
    pinned: Number(h.pinned) === 1,
    muted: Number(h.muted) === 1,
  };
}
