/**
 * The SQLite storage on its own: inbox fan-out and catch-up against a plain model of what every
 * user should have received, and the upgrade of a database written by the first schema.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIGRATIONS, migrate, SqliteDatabase } from '../../server/src/storage/sqlite';
import { groupConvId, privateConvId } from '../../server/src/storage/types';

const APP = 'app';

/** A small deterministic PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

describe('inbox fan-out and catch-up', () => {
  it('every user reads back exactly what was delivered to them, in order, over any window', () => {
    const s = new SqliteDatabase(':memory:');
    try {
      s.upsertApp(APP, 'secret');
      const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
      for (const u of users) s.upsertUser(APP, u, {});
      s.createGroup(APP, { groupId: 'g0', name: 'G0', description: '', ownerId: 'u0' }, ['u1', 'u2', 'u3']);
      s.createGroup(APP, { groupId: 'g1', name: 'G1', description: '', ownerId: 'u1' }, ['u2', 'u4', 'u5']);
      const model = new Map<string, string[]>(users.map((u) => [u, []]));
      const random = rng(7);
      const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;

      for (let i = 0; i < 600; i++) {
        const r = random();
        if (r < 0.05) {
          // Membership changes break runs: a user re-added must not receive what was sent meanwhile.
          const g = pick(['g0', 'g1']);
          const u = pick(users);
          if (s.isMember(APP, g, u)) s.removeMember(APP, g, u);
          else s.addMembers(APP, g, [u]);
          continue;
        }
        const from = pick(users);
        let result;
        if (r < 0.55) {
          const g = pick(['g0', 'g1']);
          if (!s.isMember(APP, g, from)) continue;
          result = s.sendMessage(APP, { clientMsgId: `c${i}`, from, fromName: from, to: g, chatType: 1, msgType: 0, content: `m${i}`, data: null }, s.memberIds(APP, g));
        } else {
          const to = pick(users); // sometimes oneself
          result = s.sendMessage(APP, { clientMsgId: `c${i}`, from, fromName: from, to, chatType: 0, msgType: 0, content: `m${i}`, data: { i } }, [from, to]);
        }
        for (const d of result.deliveries) {
          const inbox = model.get(d.userId)!;
          inbox.push(result.message.messageId);
          expect(d.inboxSeq).toBe(inbox.length);
        }
        expect(result.senderInboxSeq).toBe(model.get(from)!.length);
      }

      for (const u of users) {
        const expected = model.get(u)!;
        expect(expected.length).toBeGreaterThan(50);
        expect(s.latestInboxSeq(APP, u)).toBe(expected.length);
        const all = s.inboxAfter(APP, u, 0, 10_000);
        expect(all.map((m) => m.messageId)).toEqual(expected);
        expect(all.map((m) => m.inboxSeq)).toEqual(expected.map((_, i) => i + 1));
        for (let k = 0; k < 40; k++) {
          const after = Math.floor(random() * (expected.length + 3));
          const limit = 1 + Math.floor(random() * 30);
          const page = s.inboxAfter(APP, u, after, limit).map((m) => m.messageId);
          expect(page).toEqual(expected.slice(after, after + limit));
        }
      }
      // History agrees: a group's conversation has every message, gapless.
      const g0 = s.history(APP, groupConvId('g0'), 'FORWARD', 0, 1000);
      expect(g0.map((m) => m.seq)).toEqual(g0.map((_, i) => i + 1));
    } finally {
      s.close();
    }
  });

  it('a member who missed messages while out of a group does not get them after rejoining', () => {
    const s = new SqliteDatabase(':memory:');
    try {
      s.upsertApp(APP, 'secret');
      for (const u of ['o', 'm']) s.upsertUser(APP, u, {});
      s.createGroup(APP, { groupId: 'g', name: 'G', description: '', ownerId: 'o' }, ['m']);
      const send = (n: number) =>
        s.sendMessage(APP, { clientMsgId: `c${n}`, from: 'o', fromName: 'o', to: 'g', chatType: 1, msgType: 0, content: `m${n}`, data: null }, s.memberIds(APP, 'g'));
      send(1);
      send(2);
      s.removeMember(APP, 'g', 'm');
      send(3);
      send(4);
      s.addMembers(APP, 'g', ['m']);
      send(5);
      send(6);
      expect(s.inboxAfter(APP, 'm', 0, 10).map((m) => [m.content, m.inboxSeq, m.seq])).toEqual([
        ['m1', 1, 1],
        ['m2', 2, 2],
        ['m5', 3, 5],
        ['m6', 4, 6],
      ]);
      expect(s.inboxAfter(APP, 'm', 2, 1).map((m) => m.content)).toEqual(['m5']);
      expect(s.inboxAfter(APP, 'o', 0, 10).map((m) => m.inboxSeq)).toEqual([1, 2, 3, 4, 5, 6]);
    } finally {
      s.close();
    }
  });

  it('a send to ids that are not users delivers to nobody else', () => {
    const s = new SqliteDatabase(':memory:');
    try {
      s.upsertApp(APP, 'secret');
      s.upsertUser(APP, 'a', {});
      const r = s.sendMessage(APP, { clientMsgId: 'x', from: 'a', fromName: 'a', to: 'ghost', chatType: 0, msgType: 0, content: 'hi', data: null }, ['a', 'ghost']);
      expect(r.deliveries).toEqual([{ userId: 'a', inboxSeq: 1 }]);
      expect(s.latestInboxSeq(APP, 'ghost')).toBe(0);
    } finally {
      s.close();
    }
  });
});

describe('schema migrations', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'comind-im-migrate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a database written by schema 1 (one inbox row per delivery) upgrades without losing an inbox entry', () => {
    const file = path.join(dir, 'comind-im.sqlite');
    const db = new Database(file);
    migrate(db, 1);
    const now = Date.now();
    db.prepare("INSERT INTO apps (app_id, app_secret, is_dev, created_at) VALUES (?, 'secret', 1, ?)").run(APP, now);
    const users = ['a', 'b', 'c'];
    const counters: Record<string, number> = { a: 0, b: 0, c: 0 };
    const convSeq = new Map<string, number>();
    const expected: Record<string, string[]> = { a: [], b: [], c: [] };
    db.prepare("INSERT INTO groups (app_id, group_id, name, owner_id, created_at) VALUES (?, 'g', 'G', 'a', ?)").run(APP, now);
    const send = (from: string, to: string, chatType: 0 | 1, recipients: string[], n: number) => {
      const conv = chatType === 1 ? groupConvId(to) : privateConvId(from, to);
      const seq = (convSeq.get(conv) ?? 0) + 1;
      convSeq.set(conv, seq);
      const id = randomUUID();
      for (const u of recipients) {
        counters[u]! += 1;
        expected[u]!.push(id);
        db.prepare('INSERT INTO inbox (app_id, user_id, inbox_seq, message_id) VALUES (?, ?, ?, ?)').run(APP, u, counters[u], id);
      }
      db.prepare(
        `INSERT INTO messages (app_id, message_id, conv_id, seq, client_msg_id, from_id, from_name, to_id, chat_type, msg_type, content, data, sender_inbox_seq, timestamp)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, ?)`,
      ).run(APP, id, conv, seq, `old${n}`, from, from, to, chatType, `old ${n}`, counters[from], now);
    };
    const pattern: Array<[string, string, 0 | 1, string[]]> = [
      ['a', 'b', 0, ['a', 'b']],
      ['a', 'b', 0, ['a', 'b']],
      ['b', 'g', 1, ['a', 'b', 'c']],
      ['c', 'g', 1, ['a', 'b', 'c']],
      ['b', 'a', 0, ['b', 'a']],
      ['a', 'g', 1, ['a', 'b']], // c was not a member then
      ['a', 'g', 1, ['a', 'b', 'c']],
    ];
    pattern.forEach(([from, to, chatType, recipients], n) => send(from, to, chatType, recipients, n));
    for (const u of users) {
      db.prepare("INSERT INTO users (app_id, user_id, user_name, inbox_seq, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)").run(APP, u, u.toUpperCase(), counters[u], now, now);
    }
    db.close();

    const s = new SqliteDatabase(dir);
    try {
      for (const u of users) {
        expect(s.inboxAfter(APP, u, 0, 100).map((m) => m.messageId)).toEqual(expected[u]);
        expect(s.latestInboxSeq(APP, u)).toBe(counters[u]);
      }
      expect(s.getUser(APP, 'a')).toMatchObject({ userName: 'A' });
      expect(s.getDevApp()?.appId).toBe(APP);
      // New sends continue both sequences.
      const next = s.sendMessage(APP, { clientMsgId: 'new', from: 'c', fromName: 'C', to: 'a', chatType: 0, msgType: 0, content: 'new', data: null }, ['c', 'a']);
      expect(next.message.seq).toBe(1);
      expect(next.deliveries.find((d) => d.userId === 'a')?.inboxSeq).toBe(counters.a! + 1);
      expect(s.inboxAfter(APP, 'a', counters.a! - 1, 5).map((m) => m.messageId)).toEqual([expected.a!.at(-1), next.message.messageId]);
    } finally {
      s.close();
    }
  });

  it('schema 2 to 3 (read diffusion): existing members read each group after its present; new messages write no inbox row', () => {
    const db = new Database(path.join(dir, 'comind-im.sqlite'));
    migrate(db, 2);
    const now = Date.now();
    db.prepare("INSERT INTO apps (app_id, app_secret, is_dev, created_at) VALUES (?, 'secret', 1, ?)").run(APP, now);
    for (const u of ['a', 'b']) {
      db.prepare('INSERT INTO users (app_id, user_id, user_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(APP, u, u, now, now);
      db.prepare('INSERT INTO inbox_state (app_id, user_id, inbox_seq) VALUES (?, ?, 4)').run(APP, u);
    }
    db.prepare("INSERT INTO groups (app_id, group_id, name, owner_id, created_at) VALUES (?, 'g', 'G', 'a', ?)").run(APP, now);
    for (const u of ['a', 'b']) db.prepare("INSERT INTO group_members (app_id, group_id, user_id, role, joined_at) VALUES (?, 'g', ?, 'member', ?)").run(APP, u, now);
    db.prepare("INSERT INTO conversations (app_id, conv_id, last_seq, updated_at) VALUES (?, 'g:g', 4, ?)").run(APP, now);
    db.close();

    const s = new SqliteDatabase(dir);
    try {
      expect(s.joinedSeq(APP, 'g', 'b')).toBe(4);
      expect(s.groupStates(APP, 'b', '', 10)).toEqual([{ groupId: 'g', lastSeq: 4, joinedSeq: 4 }]);
      const sent = s.sendMessage(APP, { clientMsgId: 'n1', from: 'a', fromName: 'a', to: 'g', chatType: 1, msgType: 0, content: 'new', data: null }, []);
      expect(sent).toMatchObject({ senderInboxSeq: 0, deliveries: [] });
      expect(sent.message.seq).toBe(5);
      expect(s.latestInboxSeq(APP, 'b')).toBe(4); // no inbox row for it
      s.upsertUser(APP, 'c', {});
      s.addMembers(APP, 'g', ['c']);
      expect(s.joinedSeq(APP, 'g', 'c')).toBe(5);
    } finally {
      s.close();
    }
  });

  it('refuses a database from a newer server instead of guessing', () => {
    const file = path.join(dir, 'comind-im.sqlite');
    const db = new Database(file);
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    expect(() => new SqliteDatabase(dir)).toThrow(/newer than this server knows/);
  });
});

describe('batch: several sends, one commit', () => {
  const send = (s: SqliteDatabase, clientMsgId: string, to: string) =>
    s.sendMessage(APP, { clientMsgId, from: 'a', fromName: 'A', to, chatType: 0, msgType: 0, content: clientMsgId, data: null }, ['a', to]);

  it('a send that fails inside a batch is undone alone; the repeat of a clientMsgId in the batch is a duplicate', () => {
    const s = new SqliteDatabase(':memory:');
    try {
      s.upsertApp(APP, 'secret');
      for (const u of ['a', 'b']) s.upsertUser(APP, u, {});
      const results = s.batch(() => {
        const first = send(s, 'one', 'b');
        // A message row that cannot be stored: the savepoint of this send rolls back its inbox bumps too.
        expect(() => s.sendMessage(APP, { clientMsgId: 'bad', from: 'a', fromName: 'A', to: 'b', chatType: 0, msgType: 0, content: null as unknown as string, data: null }, ['a', 'b'])).toThrow();
        const again = send(s, 'one', 'b');
        const second = send(s, 'two', 'b');
        return { first, again, second };
      });
      expect(results.again).toMatchObject({ duplicate: true, message: { messageId: results.first.message.messageId } });
      expect(results.second.message.seq).toBe(2);
      expect(s.inboxAfter(APP, 'b', 0, 10).map((m) => m.content)).toEqual(['one', 'two']);
      expect(s.latestInboxSeq(APP, 'b')).toBe(2);
    } finally {
      s.close();
    }
  });

  // Time-ordered ids append to the right of the message-id index instead of dirtying a random
  // leaf page per send (server/src/storage/message-ids.ts).
  it('message ids are UUID v7, in the order the messages were stored', () => {
    const s = new SqliteDatabase(':memory:');
    try {
      s.upsertApp(APP, 'secret');
      for (const u of ['a', 'b']) s.upsertUser(APP, u, {});
      const ids = s.batch(() => Array.from({ length: 300 }, (_, i) => send(s, `o${i}`, 'b').message.messageId));
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect([...ids].sort()).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
    } finally {
      s.close();
    }
  });

  it('when the batch throws, none of its sends is stored', () => {
    const s = new SqliteDatabase(':memory:');
    try {
      s.upsertApp(APP, 'secret');
      for (const u of ['a', 'b']) s.upsertUser(APP, u, {});
      expect(() =>
        s.batch(() => {
          send(s, 'one', 'b');
          send(s, 'two', 'b');
          throw new Error('commit refused');
        }),
      ).toThrow('commit refused');
      expect(s.inboxAfter(APP, 'b', 0, 10)).toEqual([]);
      expect(s.latestInboxSeq(APP, 'b')).toBe(0);
      expect(send(s, 'one', 'b')).toMatchObject({ duplicate: false, message: { seq: 1 } });
    } finally {
      s.close();
    }
  });
});

describe('WAL checkpoints', () => {
  it('run in the background: the database file takes in what was written while the serving connection never checkpoints', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'comind-im-wal-'));
    const s = new SqliteDatabase(dataDir);
    try {
      const file = path.join(dataDir, 'comind-im.sqlite');
      s.upsertApp(APP, 'secret');
      for (const u of ['a', 'b']) s.upsertUser(APP, u, {});
      const before = statSync(file).size;
      const content = 'x'.repeat(2000);
      for (let i = 0; i < 500; i++) s.sendMessage(APP, { clientMsgId: `c${i}`, from: 'a', fromName: 'A', to: 'b', chatType: 0, msgType: 0, content, data: null }, ['a', 'b']);
      // About 1 MB of WAL: below SQLite's automatic threshold (1,000 pages, 4 MB) even if it were
      // on, so the database file grows only if the checkpoint worker copies the log into it.
      const deadline = Date.now() + 5000;
      while (statSync(file).size < before + 500 * 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(statSync(file).size).toBeGreaterThanOrEqual(before + 500 * 2000);
    } finally {
      s.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
