import type { ReadCount, ReadTarget } from './types';

/**
 * Group read receipts, computed from the members' read positions (read_state of 'g:<groupId>')
 * rather than stored per message and reader: a group message still costs O(1) writes, and a
 * reader's position covers every message up to it.
 *
 * A message of seq s from f counts the current members who had it: joined before it
 * (joined_seq < s) and not f. Of those, the ones whose read_seq >= s have read it. One statement
 * (so one snapshot on either engine) returns four small sets, and `countReads` does the rest for
 * every asked message at once (min: the oldest asked seq):
 *   't'  the number of members;
 *   'x'  each member who joined at min or later (few: those who came in during the asked span),
 *        with their read_seq, since they count for some of the messages only;
 *   'r'  the other members' read positions at min or later, counted per read_seq: one range scan of
 *        the read_state_by_conv index in its own order, each reader joined to its member row;
 *   's'  each asked sender's joined_seq and read_seq, to take them out of their messages' counts.
 * Readers usually sit at a few positions (the newest messages), so the sets stay small whatever the
 * group's size; the cost is the one range scan, shared by every message of the call.
 */

export interface ReadStatRow {
  k: 't' | 'x' | 'r' | 's';
  /** 'x' and 's': the member. */
  u: string | null;
  /** 'x' and 's': joined_seq. */
  a: number | string;
  /** 'x', 'r' and 's': read_seq (0: none). */
  b: number | string;
  n: number | string;
}

const STATS = (p: { app: string; group: string; conv: string; min: string; senders: string }) => `
  SELECT 't' AS k, NULL AS u, 0 AS a, 0 AS b, COUNT(*) AS n FROM group_members WHERE app_id = ${p.app} AND group_id = ${p.group}
  UNION ALL
  SELECT 'x', gm.user_id, gm.joined_seq, COALESCE(r.read_seq, 0), 1
    FROM group_members gm LEFT JOIN read_state r ON r.app_id = gm.app_id AND r.user_id = gm.user_id AND r.conv_id = ${p.conv}
    WHERE gm.app_id = ${p.app} AND gm.group_id = ${p.group} AND gm.joined_seq >= ${p.min}
  UNION ALL
  SELECT 'r', NULL, 0, r.read_seq, COUNT(*)
    FROM read_state r JOIN group_members gm ON gm.app_id = r.app_id AND gm.group_id = ${p.group} AND gm.user_id = r.user_id
    WHERE r.app_id = ${p.app} AND r.conv_id = ${p.conv} AND r.read_seq >= ${p.min} AND gm.joined_seq < ${p.min} GROUP BY r.read_seq
  UNION ALL
  SELECT 's', gm.user_id, gm.joined_seq, COALESCE(r.read_seq, 0), 1
    FROM group_members gm LEFT JOIN read_state r ON r.app_id = gm.app_id AND r.user_id = gm.user_id AND r.conv_id = ${p.conv}
    WHERE gm.app_id = ${p.app} AND gm.group_id = ${p.group} AND gm.user_id IN ${p.senders}`;

/** Parameters: app, group, conv, oldest seq, senders (text[]). */
export const PG_READ_STATS = STATS({ app: '$1', group: '$2', conv: '$3', min: '$4::bigint', senders: '(SELECT unnest($5::text[]))' });
/** Named parameters: app, group, conv, min, senders (a JSON array). */
export const SQLITE_READ_STATS = STATS({ app: '@app', group: '@group', conv: '@conv', min: '@min', senders: '(SELECT value FROM json_each(@senders))' });

/** Each target's counts from the rows of a *_READ_STATS statement. */
export function countReads(targets: ReadTarget[], rows: ReadStatRow[]): ReadCount[] {
  let total = 0;
  const late: Array<[joined: number, read: number]> = [];
  const readers: Array<[read: number, n: number]> = [];
  const senders = new Map<string, { joined: number; read: number }>();
  for (const r of rows) {
    if (r.k === 't') total = Number(r.n);
    else if (r.k === 'x') late.push([Number(r.a), Number(r.b)]);
    else if (r.k === 'r') readers.push([Number(r.b), Number(r.n)]);
    else if (r.u !== null) senders.set(r.u, { joined: Number(r.a), read: Number(r.b) });
  }
  return targets.map(({ seq, from }) => {
    let had = total;
    let read = 0;
    for (const [at, n] of readers) if (at >= seq) read += n;
    for (const [joined, at] of late) {
      if (joined >= seq) had -= 1;
      else if (at >= seq) read += 1;
    }
    const sender = senders.get(from);
    if (sender && sender.joined < seq) {
      had -= 1;
      if (sender.read >= seq) read -= 1;
    }
    return { readCount: read, unreadCount: Math.max(0, had - read) };
  });
}

/**
 * A page of the members who had the message (joined before it, not its sender) and have read it
 * (`read`) or not yet (`unread`), by userId in byte order (COLLATE "C" on PostgreSQL, SQLite's
 * default), so a cursor means the same on both engines.
 */
function membersSql(filter: 'read' | 'unread', p: { app: string; group: string; conv: string; seq: string; from: string; after: string; limit: string; collate: string }, columns: string): string {
  return `SELECT ${columns}
    FROM group_members gm
    LEFT JOIN read_state r ON r.app_id = gm.app_id AND r.user_id = gm.user_id AND r.conv_id = ${p.conv}
    LEFT JOIN users u ON u.app_id = gm.app_id AND u.user_id = gm.user_id
    WHERE gm.app_id = ${p.app} AND gm.group_id = ${p.group} AND gm.user_id${p.collate} > ${p.after}${p.collate}
      AND gm.joined_seq < ${p.seq} AND gm.user_id <> ${p.from} AND COALESCE(r.read_seq, 0) ${filter === 'read' ? '>=' : '<'} ${p.seq}
    ORDER BY gm.user_id${p.collate} LIMIT ${p.limit}`;
}

/** Parameters: app, group, conv, seq, from, after, limit. */
export const pgReadMembersSql = (filter: 'read' | 'unread', columns: string) =>
  membersSql(filter, { app: '$1', group: '$2', conv: '$3', seq: '$4::bigint', from: '$5', after: '$6', limit: '$7', collate: ' COLLATE "C"' }, columns);
/** Named parameters: app, group, conv, seq, from, after, limit. */
export const sqliteReadMembersSql = (filter: 'read' | 'unread', columns: string) =>
  membersSql(filter, { app: '@app', group: '@group', conv: '@conv', seq: '@seq', from: '@from', after: '@after', limit: '@limit', collate: '' }, columns);

/** Parameters: app, conv, ids (text[]). */
export const PG_READ_TARGETS = 'SELECT message_id, seq, from_id FROM messages WHERE app_id = $1 AND conv_id = $2 AND event IS NULL AND message_id = ANY($3::text[])';
/** Named parameters: app, conv, ids (a JSON array). */
export const SQLITE_READ_TARGETS = 'SELECT message_id, seq, from_id FROM messages WHERE app_id = @app AND message_id IN (SELECT value FROM json_each(@ids)) AND conv_id = @conv AND event IS NULL';

export function toReadTarget(r: { message_id: string; seq: number | string; from_id: string }): ReadTarget {
  return { messageId: r.message_id, seq: Number(r.seq), from: r.from_id };
}
