import { newMessageId } from './message-ids';
import type { ChangeGuard, FileRecord, GroupRecord, GroupRole, MemberRecord, MessageEventRequest, NewMessage, StoredMessage } from './types';

/** The columns of a message row, as both storages select them (table alias `m`). */
export const MESSAGE_COLUMNS =
  'm.message_id, m.client_msg_id, m.from_id, m.from_name, m.to_id, m.content, m.chat_type, m.msg_type, m.timestamp, m.data, m.seq, m.sender_inbox_seq, m.reply_to, m.mentions,\n  m.event, m.event_of, m.revoked_by, m.revoked_at, m.edited_at';

/** A message row of either storage (same schema; `data` is stored as JSON text). */
export interface MessageRow {
  message_id: string;
  client_msg_id: string;
  from_id: string;
  from_name: string;
  to_id: string;
  content: string;
  chat_type: number;
  msg_type: number;
  timestamp: number;
  data: string | null;
  seq: number;
  sender_inbox_seq: number;
  reply_to?: string | null;
  mentions?: string | null;
  event?: string | null;
  event_of?: string | null;
  revoked_by?: string | null;
  revoked_at?: number | string | null;
  edited_at?: number | string | null;
  inbox_seq?: number | null;
}

export interface GroupRow {
  group_id: string;
  name: string;
  description: string;
  owner_id: string;
  created_at: number;
  /** PostgreSQL's COUNT(*) arrives as a string. */
  member_count: number | string;
  announcement: string;
  avatar: string;
  /** SQLite 0/1, PostgreSQL boolean. */
  mute_all: number | boolean;
}

/** The group columns after g.group_id … g.created_at, as both storages select them (alias `g`). */
export const GROUP_SETTING_COLUMNS = 'g.announcement, g.avatar, g.mute_all';

/** A member row of either storage (alias `gm`, joined to users as `u`); the order: owner, admins, members, each by join time. */
export const MEMBER_COLUMNS = "gm.user_id, gm.role, gm.joined_at, gm.muted_until, gm.joined_seq, COALESCE(u.user_name, gm.user_id) AS user_name, COALESCE(u.user_img, '') AS user_img";
export const MEMBER_ORDER = "CASE gm.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, gm.joined_at, gm.user_id";

export interface MemberRow {
  user_id: string;
  role: string;
  joined_at: number;
  muted_until: number;
  joined_seq: number;
  user_name: string;
  user_img: string;
}

/**
 * Whether a guard holds for the roles read inside the transaction (undefined: not a member). A
 * target who is gone fails nothing here: the change then finds nothing to change, its own answer.
 */
export function guardHolds(guard: ChangeGuard, actorRole: string | undefined, targetRole: string | undefined): boolean {
  if (actorRole === undefined || !guard.roles.includes(actorRole as GroupRole)) return false;
  return !guard.target || targetRole === undefined || guard.target.roles.includes(targetRole as GroupRole);
}

export function toMember(r: MemberRow, now = Date.now()): MemberRecord {
  const until = Number(r.muted_until);
  return { userId: r.user_id, userName: r.user_name, userImg: r.user_img, role: r.role as GroupRole, joinedAt: Number(r.joined_at), mutedUntil: until > now ? until : 0 };
}

export function toMessage(r: MessageRow): StoredMessage {
  const m: StoredMessage = {
    messageId: r.message_id,
    clientMsgId: r.client_msg_id,
    from: r.from_id,
    fromName: r.from_name,
    to: r.to_id,
    content: r.content,
    chatType: r.chat_type as 0 | 1,
    msgType: r.msg_type,
    timestamp: r.timestamp,
    data: r.data === null ? null : (JSON.parse(r.data) as unknown),
    seq: r.seq,
  };
  if (r.inbox_seq !== undefined && r.inbox_seq !== null) m.inboxSeq = r.inbox_seq;
  if (typeof r.reply_to === 'string') m.replyToId = r.reply_to;
  if (typeof r.mentions === 'string') m.mentions = JSON.parse(r.mentions) as string[] | 'all';
  if (r.event === 'revoke' || r.event === 'edit') {
    m.event = r.event;
    m.eventOf = r.event_of ?? '';
  }
  if (r.revoked_at !== null && r.revoked_at !== undefined) {
    m.revokedAt = Number(r.revoked_at);
    m.revokedBy = r.revoked_by ?? '';
  }
  if (r.edited_at !== null && r.edited_at !== undefined) m.editedAt = Number(r.edited_at);
  return m;
}

export function toGroup(r: GroupRow): GroupRecord {
  return {
    groupId: r.group_id,
    name: r.name,
    description: r.description,
    ownerId: r.owner_id,
    memberCount: Number(r.member_count),
    createdAt: r.created_at,
    announcement: r.announcement,
    avatar: r.avatar,
    muteAll: r.mute_all === true || r.mute_all === 1,
  };
}

/** A files row (either engine; bigint and integer columns read as numbers). */
export function toFile(r: Record<string, unknown>): FileRecord {
  const f: FileRecord = {
    fileId: r.file_id as string,
    ownerId: r.owner_id as string,
    kind: r.kind as FileRecord['kind'],
    mime: r.mime as string,
    size: Number(r.size),
    name: r.name as string,
    createdAt: Number(r.created_at),
  };
  if (r.width !== null && r.width !== undefined) f.width = Number(r.width);
  if (r.height !== null && r.height !== undefined) f.height = Number(r.height);
  if (typeof r.thumb_mime === 'string') f.thumbMime = r.thumb_mime;
  return f;
}

/**
 * Whether an unread message of a conversation mentions the user (by id, or everyone): mentions are
 * JSON text, and ids cannot contain a quote, so `"<id>"` matches exactly one entry. Parameters:
 * app, conversation, read seq, user, mentionPattern(user). Uses the partial index on mentions.
 */
export const MENTIONED_SQL = `SELECT 1 AS hit FROM messages WHERE app_id = $1 AND conv_id = $2 AND seq > $3 AND mentions IS NOT NULL AND from_id <> $4
  AND (mentions = '"all"' OR mentions LIKE $5 ESCAPE '\\') LIMIT 1`;

export function mentionPattern(userId: string): string {
  // _ and % are LIKE wildcards (_ may be in an id): escaped, so the pattern matches the id only.
  return `%"${userId.replace(/[\\%_]/g, (c) => `\\${c}`)}"%`;
}

/** What a revoke leaves of a message: no content, no data, no mentions (parameters: by, at, app, id). */
export const REVOKE_SQL = `UPDATE messages SET content = '', data = NULL, mentions = NULL, reply_to = NULL, revoked_by = $1, revoked_at = $2
  WHERE app_id = $3 AND message_id = $4 AND revoked_at IS NULL AND event IS NULL`;

/** An edit (parameters: content, data, at, app, id); a revoked message stays revoked. */
export const EDIT_SQL = `UPDATE messages SET content = $1, data = $2, edited_at = $3
  WHERE app_id = $4 AND message_id = $5 AND revoked_at IS NULL AND event IS NULL`;

/** The event row of a revoke or edit: from whoever did it, in the target's conversation, no content of its own. */
export function eventRow(req: MessageEventRequest): NewMessage {
  const t = req.target;
  const to = t.chatType === 1 ? t.to : req.by === t.from ? t.to : t.from;
  return { clientMsgId: `${req.kind}:${newMessageId()}`, from: req.by, fromName: req.byName, to, chatType: t.chatType, msgType: t.msgType, content: '', data: null, event: req.kind, eventOf: t.messageId };
}
