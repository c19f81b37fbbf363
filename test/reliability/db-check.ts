/**
 * Checks the server's database for broken invariants and lists them (empty list = consistent):
 * conversation seqs 1..last_seq without gaps, every user's inbox numbered 1..latest without gaps
 * and without a message twice, every private message in its sender's inbox at its
 * sender_inbox_seq and in the recipient's inbox, and no group message in any inbox (groups are
 * read from their own sequence: read diffusion). Inboxes are read through the storage interface
 * (`inboxAfter`, the query `chat:sync` uses), so the check does not depend on how they are laid out.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import { SqliteDatabase, SqliteStorage } from '../../server/src/storage/sqlite';
import type { Storage } from '../../server/src/storage/types';

export interface DbSummary {
  problems: string[];
  messages: number;
  inboxEntries: number;
  users: number;
  conversations: number;
}

/** `storage`: the running server's storage; when omitted the data dir is opened (server stopped). */
export function checkDatabase(dataDir: string, storage?: Storage): DbSummary {
  const raw = new Database(path.join(dataDir, 'comind-im.sqlite'), { readonly: true, fileMustExist: true });
  // The running server's SQLite database when there is one (its synchronous side), else our own.
  const running = storage instanceof SqliteStorage ? storage.sqlite : undefined;
  const own = running ? undefined : new SqliteDatabase(dataDir);
  const store = (running ?? own)!;
  const problems: string[] = [];
  const note = (p: string) => {
    if (problems.length < 200) problems.push(p);
  };
  try {
    const all = <T>(sql: string) => raw.prepare(sql).all() as T[];
    const users = all<{ app_id: string; user_id: string }>('SELECT app_id, user_id FROM users');
    const convs = all<{ app_id: string; conv_id: string; last_seq: number }>('SELECT app_id, conv_id, last_seq FROM conversations');
    const messages = all<{ app_id: string; message_id: string; conv_id: string; seq: number; from_id: string; to_id: string; chat_type: number; sender_inbox_seq: number }>(
      'SELECT app_id, message_id, conv_id, seq, from_id, to_id, chat_type, sender_inbox_seq FROM messages',
    );

    const seqsByConv = new Map<string, number[]>();
    for (const m of messages) {
      const key = `${m.app_id}\u0000${m.conv_id}`;
      const list = seqsByConv.get(key) ?? [];
      list.push(m.seq);
      seqsByConv.set(key, list);
    }
    for (const c of convs) {
      const seqs = (seqsByConv.get(`${c.app_id}\u0000${c.conv_id}`) ?? []).sort((a, b) => a - b);
      seqsByConv.delete(`${c.app_id}\u0000${c.conv_id}`);
      if (seqs.length !== c.last_seq || seqs.some((s, i) => s !== i + 1)) {
        note(`conversation ${c.app_id}/${c.conv_id}: last_seq ${c.last_seq}, ${seqs.length} messages with seqs ${seqs.slice(0, 5).join(',')}…`);
      }
    }
    for (const key of seqsByConv.keys()) note(`messages of conversation ${key.replace('\u0000', '/')} without a conversation row`);

    // inbox entries by user: messageId -> inboxSeq
    const inboxOf = new Map<string, Map<string, number>>();
    let inboxEntries = 0;
    for (const u of users) {
      const latest = store.latestInboxSeq(u.app_id, u.user_id);
      const seen = new Map<string, number>();
      let expected = 1;
      for (let after = 0; after < latest; ) {
        const page = store.inboxAfter(u.app_id, u.user_id, after, 500);
        if (!page.length) {
          note(`inbox of ${u.app_id}/${u.user_id}: nothing after ${after} but latest is ${latest}`);
          break;
        }
        for (const m of page) {
          if (m.inboxSeq !== expected) note(`inbox of ${u.app_id}/${u.user_id}: expected inboxSeq ${expected}, got ${m.inboxSeq}`);
          if (seen.has(m.messageId)) note(`inbox of ${u.app_id}/${u.user_id}: message ${m.messageId} at ${seen.get(m.messageId)} and ${m.inboxSeq}`);
          seen.set(m.messageId, m.inboxSeq ?? -1);
          expected = (m.inboxSeq ?? expected) + 1;
        }
        after = page[page.length - 1]!.inboxSeq ?? latest;
      }
      if (expected - 1 !== latest) note(`inbox of ${u.app_id}/${u.user_id}: latest ${latest}, entries up to ${expected - 1}`);
      if (store.inboxAfter(u.app_id, u.user_id, latest, 10).length) note(`inbox of ${u.app_id}/${u.user_id}: entries past latest ${latest}`);
      inboxEntries += seen.size;
      inboxOf.set(`${u.app_id}\u0000${u.user_id}`, seen);
    }
    for (const m of messages) {
      const sender = inboxOf.get(`${m.app_id}\u0000${m.from_id}`);
      if (m.chat_type === 1) {
        if (m.sender_inbox_seq !== 0 || sender?.has(m.message_id)) note(`group message ${m.message_id} is in an inbox (sender_inbox_seq ${m.sender_inbox_seq})`);
        continue;
      }
      if (sender?.get(m.message_id) !== m.sender_inbox_seq) {
        note(`message ${m.message_id}: sender ${m.from_id} has it at ${sender?.get(m.message_id)}, sender_inbox_seq says ${m.sender_inbox_seq}`);
      }
      if (m.chat_type === 0 && !inboxOf.get(`${m.app_id}\u0000${m.to_id}`)?.has(m.message_id)) {
        note(`private message ${m.message_id} missing from the inbox of ${m.to_id}`);
      }
    }
    return { problems, messages: messages.length, inboxEntries, users: users.length, conversations: convs.length };
  } finally {
    raw.close();
    own?.close();
  }
}
