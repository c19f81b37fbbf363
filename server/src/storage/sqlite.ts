import Database from 'better-sqlite3';
import { newMessageId } from './message-ids';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { GuardFailed, endsTransaction } from './errors';
import { GROUP_NOTICE_MSG_TYPE } from '../protocol/limits';
import { GROUP_SETTING_COLUMNS, MEMBER_COLUMNS, MEMBER_ORDER, MESSAGE_COLUMNS, guardHolds, toGroup, toMember, toMessage, type GroupRow, type MemberRow, type MessageRow } from './rows';
import type {
  AppRecord,
  ChangeGuard,
  ConversationCursor,
  ConversationRecord,
  GroupRecord,
  GroupSettingChange,
  GroupState,
  ListCursor,
  MemberRecord,
  MessageEventRequest,
  NewMessage,
  Outbox,
  SendOutcome,
  SendRequest,
  SendResult,
  Storage,
  StoredMessage,
  FileRecord,
  UserPatch,
  UserRecord,
} from './types';
import { EDIT_SQL, MENTIONED_SQL, REVOKE_SQL, eventRow, mentionPattern, toFile } from './rows';
import { groupConvId, privateConvId } from './types';
import { startCheckpointer, type Checkpointer } from './checkpointer';
import { storageFailureKind, type StorageMetrics } from '../observability/storage-errors';
import { SQLITE_CONVERSATIONS, TOTAL_UNREAD_CONVERSATIONS, afterCursor, headOrder, toConversation, unreadAfter, type ConversationHead } from './conversation-lists';
import { SQLITE_READ_STATS, SQLITE_READ_TARGETS, countReads, sqliteReadMembersSql, toReadTarget, type ReadStatRow } from './group-reads';
import type { AppListPage, OperatorTokenState, ReadCount, ReadTarget } from './types';
import { SQLITE_ADMIN } from './admin-queries';

/** A schema step: SQL, or a function for steps that move data. */
export type Migration = string | ((db: Database.Database) => void);

/** Ordered migrations; `PRAGMA user_version` records how many ran. Never edit one that shipped. */
export const MIGRATIONS: Migration[] = [
  `
  CREATE TABLE apps (
    app_id TEXT PRIMARY KEY,
    app_secret TEXT NOT NULL,
    is_dev INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE users (
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    user_img TEXT NOT NULL DEFAULT '',
    company_name TEXT NOT NULL DEFAULT '',
    im_role TEXT NOT NULL DEFAULT 'user',
    valid INTEGER NOT NULL DEFAULT 1,
    inbox_seq INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id)
  ) WITHOUT ROWID;
  CREATE TABLE groups (
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    dismissed_at INTEGER,
    PRIMARY KEY (app_id, group_id)
  ) WITHOUT ROWID;
  CREATE TABLE group_members (
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, group_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX group_members_by_user ON group_members (app_id, user_id);
  CREATE TABLE conversations (
    app_id TEXT NOT NULL,
    conv_id TEXT NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    last_message_id TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, conv_id)
  ) WITHOUT ROWID;
  CREATE TABLE user_conversations (
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    conv_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id, conv_id)
  ) WITHOUT ROWID;
  CREATE TABLE messages (
    app_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    conv_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    client_msg_id TEXT NOT NULL,
    from_id TEXT NOT NULL,
    from_name TEXT NOT NULL,
    to_id TEXT NOT NULL,
    chat_type INTEGER NOT NULL,
    msg_type INTEGER NOT NULL,
    content TEXT NOT NULL,
    data TEXT,
    sender_inbox_seq INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (app_id, message_id),
    UNIQUE (app_id, conv_id, seq),
    UNIQUE (app_id, from_id, client_msg_id)
  );
  CREATE TABLE inbox (
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    inbox_seq INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (app_id, user_id, inbox_seq)
  ) WITHOUT ROWID;
  CREATE TABLE read_state (
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    conv_id TEXT NOT NULL,
    read_seq INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id, conv_id)
  ) WITHOUT ROWID;
  `,
  // 2: inboxes as runs. One row per (recipient, message) made a 1,000-member group send dirty a
  // page per member (each user's inbox lives in its own part of the B-tree). A user's inbox is
  // instead a list of runs: inbox seqs start..end are seqs conv_seq.. of one conversation. A steady
  // conversation extends the open run kept next to the user's counter, so a send updates one small
  // row per member; a run is written out only when the user's next message is from elsewhere.
  (db) => {
    db.exec(`
      CREATE TABLE inbox_state (
        app_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        inbox_seq INTEGER NOT NULL DEFAULT 0,
        run_start INTEGER NOT NULL DEFAULT 0,
        run_conv TEXT,
        run_conv_seq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (app_id, user_id)
      ) WITHOUT ROWID;
      CREATE TABLE inbox_runs (
        app_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        start_seq INTEGER NOT NULL,
        end_seq INTEGER NOT NULL,
        conv_id TEXT NOT NULL,
        conv_seq INTEGER NOT NULL,
        PRIMARY KEY (app_id, user_id, start_seq)
      ) WITHOUT ROWID;
      INSERT INTO inbox_state (app_id, user_id, inbox_seq) SELECT app_id, user_id, inbox_seq FROM users;
    `);
    const users = db.prepare('SELECT DISTINCT app_id, user_id FROM inbox').all() as Array<{ app_id: string; user_id: string }>;
    const entries = db.prepare(
      `SELECT i.inbox_seq, m.conv_id, m.seq FROM inbox i JOIN messages m ON m.app_id = i.app_id AND m.message_id = i.message_id
       WHERE i.app_id = ? AND i.user_id = ? ORDER BY i.inbox_seq`,
    );
    const closeRun = db.prepare('INSERT INTO inbox_runs (app_id, user_id, start_seq, end_seq, conv_id, conv_seq) VALUES (?, ?, ?, ?, ?, ?)');
    const openRun = db.prepare('UPDATE inbox_state SET run_start = ?, run_conv = ?, run_conv_seq = ? WHERE app_id = ? AND user_id = ?');
    for (const u of users) {
      let run: { start: number; end: number; conv: string; convSeq: number } | undefined;
      for (const e of entries.all(u.app_id, u.user_id) as Array<{ inbox_seq: number; conv_id: string; seq: number }>) {
        if (run && run.conv === e.conv_id && run.end + 1 === e.inbox_seq && run.convSeq + (run.end - run.start) + 1 === e.seq) {
          run.end = e.inbox_seq;
          continue;
        }
        if (run) closeRun.run(u.app_id, u.user_id, run.start, run.end, run.conv, run.convSeq);
        run = { start: e.inbox_seq, end: e.inbox_seq, conv: e.conv_id, convSeq: e.seq };
      }
      if (run) openRun.run(run.start, run.conv, run.convSeq, u.app_id, u.user_id);
    }
    db.exec('DROP TABLE inbox; ALTER TABLE users DROP COLUMN inbox_seq;');
  },
  // 3: read diffusion for groups. A group message is no longer written into every member's inbox
  // (O(members) rows per message); members read the group's own sequence after the position they
  // joined at. Messages up to now stay reachable through the inboxes that hold them, so members
  // start reading the group's sequence after its present last_seq.
  `
  ALTER TABLE group_members ADD COLUMN joined_seq INTEGER NOT NULL DEFAULT 0;
  UPDATE group_members SET joined_seq = COALESCE(
    (SELECT c.last_seq FROM conversations c WHERE c.app_id = group_members.app_id AND c.conv_id = 'g:' || group_members.group_id), 0);
  `,
  // 4: uploaded files (images, voice, video, files); their bytes are in the file store. And the
  // message a message replies to.
  `
  ALTER TABLE messages ADD COLUMN reply_to TEXT;
  ALTER TABLE messages ADD COLUMN mentions TEXT;
  CREATE INDEX messages_mentions ON messages (app_id, conv_id, seq) WHERE mentions IS NOT NULL;
  CREATE TABLE files (
    app_id TEXT NOT NULL,
    file_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    name TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    thumb_mime TEXT,
    created_at INTEGER NOT NULL,
    attached_at INTEGER,
    PRIMARY KEY (app_id, file_id)
  );
  CREATE INDEX files_unattached ON files (created_at) WHERE attached_at IS NULL;
  `,
  // 5: revokes and edits. The message row holds the outcome (a revoke wipes content and data);
  // an event row (event, event_of) takes the conversation's next seq and inbox positions, so
  // devices that were offline learn of it in order through catch-up.
  `
  ALTER TABLE messages ADD COLUMN event TEXT;
  ALTER TABLE messages ADD COLUMN event_of TEXT;
  ALTER TABLE messages ADD COLUMN revoked_by TEXT;
  ALTER TABLE messages ADD COLUMN revoked_at INTEGER;
  ALTER TABLE messages ADD COLUMN edited_at INTEGER;
  `,
  // 6: presence, group roles and settings, per-user conversation settings, group read receipts.
  // A member's mute and the group's mute-all are checked on send; hidden_seq is where a deleted
  // conversation was cleared (it comes back with the next message, unread counted after it). The
  // read_state index lets a group message's read count be one range scan of its readers.
  `
  ALTER TABLE users ADD COLUMN last_seen_at INTEGER;
  ALTER TABLE groups ADD COLUMN announcement TEXT NOT NULL DEFAULT '';
  ALTER TABLE groups ADD COLUMN avatar TEXT NOT NULL DEFAULT '';
  ALTER TABLE groups ADD COLUMN mute_all INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE group_members ADD COLUMN muted_until INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE conversation_settings (
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    conv_id TEXT NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0,
    muted INTEGER NOT NULL DEFAULT 0,
    hidden_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, user_id, conv_id)
  ) WITHOUT ROWID;
  CREATE INDEX read_state_by_conv ON read_state (app_id, conv_id, read_seq);
  `,
  // 7: a mute outlives leaving and removal. A member who goes while muted leaves the mute here
  // until they are added back (who then has it again) or the group goes; else leaving and being
  // added back by any member would lift it.
  `
  CREATE TABLE group_mutes (
    app_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    muted_until INTEGER NOT NULL,
    PRIMARY KEY (app_id, group_id, user_id)
  ) WITHOUT ROWID;
  `,
  // 8: webhooks (docs/webhooks.md): each app's configuration, the durable queue of events for its
  // backend (next_at is also the claim's lease), and the digests of what clients sent when a
  // beforeSend replaced it, so a retried send is still recognised as the same message.
  `
  CREATE TABLE webhooks (
    app_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    before_timeout_ms INTEGER NOT NULL,
    before_on_timeout TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    app_id TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_error TEXT
  );
  CREATE INDEX webhook_events_due ON webhook_events (next_at);
  CREATE INDEX webhook_events_app ON webhook_events (app_id);
  CREATE TABLE webhook_replacements (
    app_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    client_msg_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, user_id, client_msg_id)
  ) WITHOUT ROWID;
  CREATE INDEX webhook_replacements_age ON webhook_replacements (created_at);
  `,
  // 9: operator tokens' sign-out (docs/protocol.md section 8.1): each signed-out token until it
  // would have expired anyway (so the table stays small), and per app the generation every
  // operator token must carry, moved on to cut all of them at once.
  `
  CREATE TABLE operator_revocations (
    app_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (app_id, jti)
  ) WITHOUT ROWID;
  CREATE INDEX operator_revocations_expiry ON operator_revocations (expires_at);
  CREATE TABLE operator_generations (
    app_id TEXT PRIMARY KEY,
    generation INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
];

/** Brings a database to `target` (default: the newest schema), one transaction per step. */
export function migrate(db: Database.Database, target = MIGRATIONS.length): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`the database has schema version ${version}, newer than this server knows (${MIGRATIONS.length}); upgrade comind-im-server`);
  }
  for (let i = version; i < target; i++) {
    db.transaction(() => {
      const step = MIGRATIONS[i]!;
      if (typeof step === 'string') db.exec(step);
      else step(db);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}

interface UserRow {
  user_id: string;
  user_name: string;
  user_img: string;
  company_name: string;
  im_role: string;
  valid: number;
  created_at: number;
  updated_at: number;
}

const USER_CACHE_MAX = 50_000;
/** Groups whose member lists are kept (a 10,000-member list is ~0.5 MB). */
const MEMBER_CACHE_MAX = 1_000;
/** A second of writes is a few MB of WAL at most, which a PASSIVE checkpoint copies in milliseconds. */
export const CHECKPOINT_INTERVAL_MS = 1000;

function toUser(r: UserRow): UserRecord {
  return {
    userId: r.user_id,
    userName: r.user_name,
    userImg: r.user_img,
    companyName: r.company_name,
    imRole: r.im_role as UserRecord['imRole'],
    valid: r.valid === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** IM_DURABILITY: what an acknowledged commit survives (docs/reliability.md). */
export type Durability = 'normal' | 'full';

export interface SqliteOptions {
  durability?: Durability;
  /** Counts the database failures that reach callers (im_storage_errors_total). */
  metrics?: StorageMetrics;
  /** Where the WAL checkpointer's warnings go (default: the console). */
  warn?: (message: string) => void;
}

/**
 * The journal and sync settings of the server's database file, exported so the benchmarks' durable
 * relay floor writes its file exactly as the server does (with the same checkpointer beside it).
 */
export function applyFileSettings(db: Database.Database, durability: Durability, onDisk: boolean): void {
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives a process crash; an OS crash or power loss can lose the
  // last ones (the WAL is fsynced only at checkpoints). FULL fsyncs the WAL on every commit, so an
  // acknowledged message survives those too, at the price of one fsync per group commit.
  db.pragma(durability === 'full' ? 'synchronous = FULL' : 'synchronous = NORMAL');
  if (onDisk) {
    // Not 0: a safety net. Under sustained writes a PASSIVE checkpoint from another connection
    // may never find the log fully copied at the moment a write begins, so the log would not
    // restart and would grow; past ~40 MB the serving connection checkpoints as SQLite would.
    db.pragma('wal_autocheckpoint = 10000');
    // After a checkpoint has reset the log, SQLite truncates the file back to this size.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
  }
}

/**
 * The SQLite database itself, synchronous (better-sqlite3): one file in `dataDir` (or ':memory:'),
 * WAL mode, prepared statements throughout. `SqliteStorage` below is the server's asynchronous
 * Storage over it; storage tests use this directly.
 */
export class SqliteDatabase {
  readonly db: Database.Database;
  private readonly stmt: Record<string, Database.Statement>;
  private readonly users = new Map<string, UserRecord>();
  private readonly memberCache = new Map<string, string[]>();
  private readonly checkpointer?: Checkpointer;
  private readonly sendTransaction: (appId: string, convId: string, msg: NewMessage, recipients: string[]) => SendResult;
  private readonly inTransaction: (work: () => unknown) => unknown;

  constructor(dataDir: string, options: SqliteOptions = {}) {
    let file = ':memory:';
    if (dataDir !== ':memory:') {
      mkdirSync(dataDir, { recursive: true });
      file = path.join(dataDir, 'comind-im.sqlite');
    }
    this.db = new Database(file);
    applyFileSettings(this.db, options.durability ?? 'normal', file !== ':memory:');
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
    if (file !== ':memory:') {
      const warn = options.warn ?? ((message: string) => console.warn(`[comind-im-server] ${message}`));
      this.checkpointer = startCheckpointer(file, CHECKPOINT_INTERVAL_MS, (message) => warn(`WAL checkpoint: ${message}`));
    }
    const p = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      getApp: p('SELECT app_id, app_secret, created_at FROM apps WHERE app_id = ?'),
      outboxInsert: p('INSERT OR IGNORE INTO webhook_events (id, app_id, event, body, attempts, next_at, created_at) VALUES (?, ?, ?, ?, 0, ?, ?)'),
      upsertApp: p(
        'INSERT INTO apps (app_id, app_secret, created_at) VALUES (?, ?, ?) ON CONFLICT(app_id) DO UPDATE SET app_secret = excluded.app_secret',
      ),
      getDevApp: p('SELECT app_id, app_secret, created_at FROM apps WHERE is_dev = 1 LIMIT 1'),
      clearDev: p('UPDATE apps SET is_dev = 0'),
      setDev: p('UPDATE apps SET is_dev = 1 WHERE app_id = ?'),
      getUser: p('SELECT * FROM users WHERE app_id = ? AND user_id = ?'),
      insertUser: p(
        `INSERT INTO users (app_id, user_id, user_name, user_img, company_name, im_role, valid, created_at, updated_at)
         VALUES (@app, @user, @userName, @userImg, @companyName, @imRole, @valid, @now, @now)`,
      ),
      updateUser: p(
        `UPDATE users SET user_name = @userName, user_img = @userImg, company_name = @companyName, im_role = @imRole,
         valid = @valid, updated_at = @now WHERE app_id = @app AND user_id = @user`,
      ),
      userExists: p('SELECT 1 FROM users WHERE app_id = ? AND user_id = ?'),
      lastSeen: p('SELECT last_seen_at FROM users WHERE app_id = ? AND user_id = ?'),
      recordLastSeen: p('UPDATE users SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE app_id = ? AND user_id = ?'),
      insertInboxState: p('INSERT OR IGNORE INTO inbox_state (app_id, user_id) VALUES (?, ?)'),
      inboxSeq: p('SELECT inbox_seq FROM inbox_state WHERE app_id = ? AND user_id = ?'),
      // A recipient's inbox position, read and written by primary key inside the send's
      // transaction. A set-based form (json_each, RETURNING) cost twice as much per private send,
      // for ephemeral tables that one or two recipients do not need (findings.md, 9).
      inboxHead: p('SELECT inbox_seq, run_start, run_conv, run_conv_seq FROM inbox_state WHERE app_id = ? AND user_id = ?'),
      closeRun: p('INSERT INTO inbox_runs (app_id, user_id, start_seq, end_seq, conv_id, conv_seq) VALUES (?, ?, ?, ?, ?, ?)'),
      extendRun: p('UPDATE inbox_state SET inbox_seq = ? WHERE app_id = ? AND user_id = ?'),
      openRun: p('UPDATE inbox_state SET inbox_seq = ?, run_start = ?, run_conv = ?, run_conv_seq = ? WHERE app_id = ? AND user_id = ?'),
      insertGroup: p('INSERT INTO groups (app_id, group_id, name, description, owner_id, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      groupExists: p('SELECT 1 FROM groups WHERE app_id = ? AND group_id = ?'),
      getGroup: p(
        `SELECT g.group_id, g.name, g.description, g.owner_id, g.created_at, ${GROUP_SETTING_COLUMNS},
          (SELECT COUNT(*) FROM group_members gm WHERE gm.app_id = g.app_id AND gm.group_id = g.group_id) AS member_count
         FROM groups g WHERE g.app_id = ? AND g.group_id = ? AND g.dismissed_at IS NULL`,
      ),
      groupsOf: p(
        `SELECT g.group_id, g.name, g.description, g.owner_id, g.created_at, ${GROUP_SETTING_COLUMNS},
          (SELECT COUNT(*) FROM group_members x WHERE x.app_id = g.app_id AND x.group_id = g.group_id) AS member_count
         FROM group_members gm JOIN groups g ON g.app_id = gm.app_id AND g.group_id = gm.group_id
         WHERE gm.app_id = @app AND gm.user_id = @user AND g.dismissed_at IS NULL
           AND (g.created_at < @at OR (g.created_at = @at AND g.group_id > @id))
         ORDER BY g.created_at DESC, g.group_id LIMIT @limit`,
      ),
      isMember: p('SELECT 1 FROM group_members WHERE app_id = ? AND group_id = ? AND user_id = ?'),
      joinedSeq: p('SELECT joined_seq FROM group_members WHERE app_id = ? AND group_id = ? AND user_id = ?'),
      // Each group of a user with how far it has got and where the user came in, by group id.
      groupStates: p(
        `SELECT gm.group_id, gm.joined_seq, COALESCE(c.last_seq, 0) AS last_seq
         FROM group_members gm JOIN groups g ON g.app_id = gm.app_id AND g.group_id = gm.group_id AND g.dismissed_at IS NULL
         LEFT JOIN conversations c ON c.app_id = gm.app_id AND c.conv_id = 'g:' || gm.group_id
         WHERE gm.app_id = ? AND gm.user_id = ? AND gm.group_id > ? ORDER BY gm.group_id LIMIT ?`,
      ),
      members: p(
        `SELECT ${MEMBER_COLUMNS} FROM group_members gm LEFT JOIN users u ON u.app_id = gm.app_id AND u.user_id = gm.user_id
         WHERE gm.app_id = ? AND gm.group_id = ? ORDER BY ${MEMBER_ORDER}`,
      ),
      member: p(
        `SELECT ${MEMBER_COLUMNS} FROM group_members gm LEFT JOIN users u ON u.app_id = gm.app_id AND u.user_id = gm.user_id
         WHERE gm.app_id = ? AND gm.group_id = ? AND gm.user_id = ?`,
      ),
      // Group settings (changeGroup): each changes a row only when it changes something.
      setRole: p("UPDATE group_members SET role = @role WHERE app_id = @app AND group_id = @group AND user_id = @user AND role <> 'owner' AND role <> @role"),
      setOwner: p('UPDATE groups SET owner_id = @to WHERE app_id = @app AND group_id = @group AND owner_id = @from AND dismissed_at IS NULL'),
      // The new owner cannot be muted; the old one becomes a member.
      promoteOwner: p("UPDATE group_members SET role = 'owner', muted_until = 0 WHERE app_id = @app AND group_id = @group AND user_id = @to"),
      demoteOwner: p("UPDATE group_members SET role = 'member' WHERE app_id = @app AND group_id = @group AND user_id = @from"),
      setInfo: p(
        `UPDATE groups SET name = COALESCE(@name, name), description = COALESCE(@description, description),
         announcement = COALESCE(@announcement, announcement), avatar = COALESCE(@avatar, avatar)
         WHERE app_id = @app AND group_id = @group AND dismissed_at IS NULL`,
      ),
      setMute: p("UPDATE group_members SET muted_until = @until WHERE app_id = @app AND group_id = @group AND user_id = @user AND role <> 'owner' AND muted_until <> @until"),
      setMuteAll: p('UPDATE groups SET mute_all = @muted WHERE app_id = @app AND group_id = @group AND mute_all <> @muted AND dismissed_at IS NULL'),
      memberIds: p('SELECT user_id FROM group_members WHERE app_id = ? AND group_id = ?'),
      // A member reads the group's messages after the seq it had when they joined, and is still
      // muted if a mute from before they went runs on.
      addMember: p(
        `INSERT OR IGNORE INTO group_members (app_id, group_id, user_id, role, joined_at, joined_seq, muted_until)
         VALUES (@app, @group, @user, @role, @now, COALESCE((SELECT last_seq FROM conversations WHERE app_id = @app AND conv_id = 'g:' || @group), 0),
           COALESCE((SELECT muted_until FROM group_mutes WHERE app_id = @app AND group_id = @group AND user_id = @user AND muted_until > @now), 0))`,
      ),
      takeMute: p('DELETE FROM group_mutes WHERE app_id = ? AND group_id = ? AND user_id = ?'),
      keepMute: p(
        `INSERT INTO group_mutes (app_id, group_id, user_id, muted_until)
         SELECT app_id, group_id, user_id, muted_until FROM group_members
         WHERE app_id = @app AND group_id = @group AND user_id = @user AND role <> 'owner' AND muted_until > @now
         ON CONFLICT (app_id, group_id, user_id) DO UPDATE SET muted_until = excluded.muted_until`,
      ),
      // Ended mutes go whenever someone leaves the group: the table holds running ones only.
      dropEndedMutes: p('DELETE FROM group_mutes WHERE app_id = ? AND group_id = ? AND muted_until <= ?'),
      memberRole: p('SELECT role FROM group_members WHERE app_id = ? AND group_id = ? AND user_id = ?'),
      removeMember: p("DELETE FROM group_members WHERE app_id = ? AND group_id = ? AND user_id = ? AND role <> 'owner'"),
      dismiss: p('UPDATE groups SET dismissed_at = ? WHERE app_id = ? AND group_id = ?'),
      deleteMembers: p('DELETE FROM group_members WHERE app_id = ? AND group_id = ?'),
      deleteMutes: p('DELETE FROM group_mutes WHERE app_id = ? AND group_id = ?'),
      byClientId: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = ? AND m.from_id = ? AND m.client_msg_id = ?`),
      byId: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = ? AND m.message_id = ?`),
      bumpConv: p(
        // An event row (no message id given) takes a seq but leaves the last message and the order.
        `INSERT INTO conversations (app_id, conv_id, last_seq, last_message_id, updated_at) VALUES (?, ?, 1, ?, ?)
         ON CONFLICT(app_id, conv_id) DO UPDATE SET last_seq = last_seq + 1,
         last_message_id = COALESCE(excluded.last_message_id, last_message_id),
         updated_at = CASE WHEN excluded.last_message_id IS NULL THEN updated_at ELSE excluded.updated_at END RETURNING last_seq`,
      ),
      lastSeq: p('SELECT last_seq FROM conversations WHERE app_id = ? AND conv_id = ?'),
      mentioned: p(MENTIONED_SQL.replace(/\$\d/g, '?')),
      insertMessage: p(
        `INSERT INTO messages (app_id, message_id, conv_id, seq, client_msg_id, from_id, from_name, to_id, chat_type, msg_type,
          content, data, sender_inbox_seq, timestamp, reply_to, mentions, event, event_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      revoke: p(REVOKE_SQL.replace(/\$\d/g, '?')),
      edit: p(EDIT_SQL.replace(/\$\d/g, '?')),
      linkConv: p('INSERT OR IGNORE INTO user_conversations (app_id, user_id, conv_id, target_id) VALUES (?, ?, ?, ?)'),
      // Inbox seqs are gapless, so the answer is exactly the window @lo..@hi: the runs overlapping
      // it (closed ones, then the open one), each clipped to the window and expanded to messages.
      inboxWindow: p(
        `WITH r AS (
           SELECT start_seq, end_seq, conv_id, conv_seq FROM inbox_runs
           WHERE app_id = @app AND user_id = @user AND start_seq <= @hi AND end_seq >= @lo
             AND start_seq >= COALESCE((SELECT MAX(start_seq) FROM inbox_runs WHERE app_id = @app AND user_id = @user AND start_seq <= @lo), 0)
           UNION ALL
           SELECT run_start, inbox_seq, run_conv, run_conv_seq FROM inbox_state
           WHERE app_id = @app AND user_id = @user AND run_conv IS NOT NULL AND run_start <= @hi AND inbox_seq >= @lo
         )
         SELECT ${MESSAGE_COLUMNS}, r.start_seq + (m.seq - r.conv_seq) AS inbox_seq
         FROM r JOIN messages m ON m.app_id = @app AND m.conv_id = r.conv_id
           AND m.seq BETWEEN r.conv_seq + MAX(@lo - r.start_seq, 0) AND r.conv_seq + (MIN(r.end_seq, @hi) - r.start_seq)
         ORDER BY inbox_seq`,
      ),
      historyBack: p(
        `SELECT * FROM (SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = ? AND m.conv_id = ? AND m.seq < ? AND m.event IS NULL
         ORDER BY m.seq DESC LIMIT ?) ORDER BY seq`,
      ),
      historyForward: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = ? AND m.conv_id = ? AND m.seq > ? AND m.event IS NULL ORDER BY m.seq LIMIT ?`),
      // Catch-up: messages and event rows.
      sequenceForward: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = ? AND m.conv_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?`),
      readSeq: p('SELECT read_seq FROM read_state WHERE app_id = ? AND user_id = ? AND conv_id = ?'),
      setRead: p(
        `INSERT INTO read_state (app_id, user_id, conv_id, read_seq) VALUES (?, ?, ?, ?)
         ON CONFLICT(app_id, user_id, conv_id) DO UPDATE SET read_seq = MAX(read_seq, excluded.read_seq)`,
      ),
    };
    // Made once: better-sqlite3's transaction() builds four wrappers and their properties on
    // every call, about 8 µs, which a lone send paid on each commit (findings.md, 9).
    this.inTransaction = this.db.transaction((work: () => unknown) => work());
    this.sendTransaction = this.db.transaction((appId: string, convId: string, msg: NewMessage, recipients: string[]) =>
      this.sendTx(appId, convId, msg, recipients),
    );
  }

  getApp(appId: string): AppRecord | undefined {
    const r = this.stmt.getApp!.get(appId) as { app_id: string; app_secret: string; created_at: number } | undefined;
    return r && { appId: r.app_id, appSecret: r.app_secret, createdAt: r.created_at };
  }

  upsertApp(appId: string, appSecret: string): AppRecord {
    this.stmt.upsertApp!.run(appId, appSecret, Date.now());
    return this.getApp(appId)!;
  }

  getDevApp(): AppRecord | undefined {
    const r = this.stmt.getDevApp!.get() as { app_id: string; app_secret: string; created_at: number } | undefined;
    return r && { appId: r.app_id, appSecret: r.app_secret, createdAt: r.created_at };
  }

  setDevApp(appId: string): void {
    this.db.transaction(() => {
      this.stmt.clearDev!.run();
      this.stmt.setDev!.run(appId);
    })();
  }

  getUser(appId: string, userId: string): UserRecord | undefined {
    // Every send reads its sender and (private) its peer; this storage is the only writer of
    // users, so a cache invalidated by upsertUser stays exact (benchmarks.md, finding 4).
    const key = `${appId}\u0000${userId}`;
    const cached = this.users.get(key);
    if (cached) return cached;
    const r = this.stmt.getUser!.get(appId, userId) as UserRow | undefined;
    if (!r) return undefined;
    if (this.users.size >= USER_CACHE_MAX) this.users.clear();
    const user = Object.freeze(toUser(r));
    this.users.set(key, user);
    return user;
  }

  upsertUser(appId: string, userId: string, patch: UserPatch): UserRecord {
    const existing = this.getUser(appId, userId);
    this.users.delete(`${appId}\u0000${userId}`);
    const row = {
      app: appId,
      user: userId,
      userName: patch.userName ?? existing?.userName ?? userId,
      userImg: patch.userImg ?? existing?.userImg ?? '',
      companyName: patch.companyName ?? existing?.companyName ?? '',
      imRole: patch.imRole ?? existing?.imRole ?? 'user',
      valid: (patch.valid ?? existing?.valid ?? true) ? 1 : 0,
      now: Date.now(),
    };
    if (existing) this.stmt.updateUser!.run(row);
    else {
      this.db.transaction(() => {
        this.stmt.insertUser!.run(row);
        this.stmt.insertInboxState!.run(appId, userId);
      })();
    }
    return this.getUser(appId, userId)!;
  }

  missingUsers(appId: string, userIds: string[]): string[] {
    return userIds.filter((id) => !this.stmt.userExists!.get(appId, id));
  }

  latestInboxSeq(appId: string, userId: string): number {
    const r = this.stmt.inboxSeq!.get(appId, userId) as { inbox_seq: number } | undefined;
    return r?.inbox_seq ?? 0;
  }

  lastSeen(appId: string, userIds: string[]): Map<string, number> {
    const seen = new Map<string, number>();
    for (const id of userIds) {
      const at = (this.stmt.lastSeen!.get(appId, id) as { last_seen_at: number | null } | undefined)?.last_seen_at;
      if (typeof at === 'number') seen.set(id, at);
    }
    return seen;
  }

  recordLastSeen(items: Array<{ appId: string; userId: string; at: number }>): void {
    this.db.transaction(() => {
      for (const i of items) this.stmt.recordLastSeen!.run(i.at, i.appId, i.userId);
    })();
  }

  createGroup(appId: string, group: { groupId: string; name: string; description: string; ownerId: string }, memberIds: string[]): GroupRecord {
    const now = Date.now();
    this.db.transaction(() => {
      this.stmt.insertGroup!.run(appId, group.groupId, group.name, group.description, group.ownerId, now);
      this.stmt.addMember!.run({ app: appId, group: group.groupId, user: group.ownerId, role: 'owner', now });
      for (const id of memberIds) if (id !== group.ownerId) this.stmt.addMember!.run({ app: appId, group: group.groupId, user: id, role: 'member', now });
    })();
    this.memberCache.delete(`${appId}\u0000${group.groupId}`);
    return this.getGroup(appId, group.groupId)!;
  }

  groupIdTaken(appId: string, groupId: string): boolean {
    return !!this.stmt.groupExists!.get(appId, groupId);
  }

  getGroup(appId: string, groupId: string): GroupRecord | undefined {
    const r = this.stmt.getGroup!.get(appId, groupId) as GroupRow | undefined;
    return r && toGroup(r);
  }

  listGroupsOf(appId: string, userId: string, page: { after?: ListCursor; limit: number }): { items: GroupRecord[]; hasMore: boolean } {
    const after = page.after ?? { at: Number.MAX_SAFE_INTEGER, id: '' };
    const rows = (this.stmt.groupsOf!.all({ app: appId, user: userId, at: after.at, id: after.id, limit: page.limit + 1 }) as GroupRow[]).map(toGroup);
    return { items: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
  }

  isMember(appId: string, groupId: string, userId: string): boolean {
    return !!this.stmt.isMember!.get(appId, groupId, userId);
  }

  members(appId: string, groupId: string): MemberRecord[] {
    const now = Date.now();
    return (this.stmt.members!.all(appId, groupId) as MemberRow[]).map((r) => toMember(r, now));
  }

  member(appId: string, groupId: string, userId: string): (MemberRecord & { joinedSeq: number }) | undefined {
    const r = this.stmt.member!.get(appId, groupId, userId) as MemberRow | undefined;
    return r && { ...toMember(r), joinedSeq: r.joined_seq };
  }

  /** Throws GuardFailed when the guard no longer holds; inside the transaction of the change it guards. */
  private checkGuard(appId: string, groupId: string, guard: ChangeGuard | undefined): void {
    if (!guard) return;
    const role = (userId: string) => (this.stmt.memberRole!.get(appId, groupId, userId) as { role: string } | undefined)?.role;
    if (!guardHolds(guard, role(guard.actor), guard.target && role(guard.target.userId))) throw new GuardFailed(`the roles in group ${groupId} changed meanwhile`);
  }

  /** A role or setting change and its notice, one transaction; null (nothing written) when it changed nothing. */
  changeGroup(appId: string, groupId: string, change: GroupSettingChange, notice: SendRequest, guard?: ChangeGuard): SendResult | null {
    const at = { app: appId, group: groupId };
    const unchanged = new Error('unchanged');
    try {
      return this.batch(() => {
        this.checkGuard(appId, groupId, guard);
        let n = 0;
        if (change.kind === 'role') n = this.stmt.setRole!.run({ ...at, user: change.userId, role: change.role }).changes;
        else if (change.kind === 'mute') n = this.stmt.setMute!.run({ ...at, user: change.userId, until: change.mutedUntil }).changes;
        else if (change.kind === 'muteAll') n = this.stmt.setMuteAll!.run({ ...at, muted: change.muted ? 1 : 0 }).changes;
        else if (change.kind === 'info') {
          const { name = null, description = null, announcement = null, avatar = null } = change;
          n = this.stmt.setInfo!.run({ ...at, name, description, announcement, avatar }).changes;
        } else {
          const who = { ...at, from: change.from, to: change.to };
          n = this.stmt.setOwner!.run(who).changes && this.stmt.promoteOwner!.run(who).changes && this.stmt.demoteOwner!.run(who).changes;
        }
        // A transfer half done (the new owner no longer a member) is undone with the rest.
        if (!n) throw unchanged;
        return this.sendTx(appId, groupConvId(groupId), notice.msg, []);
      });
    } catch (err) {
      if (err === unchanged) return null;
      throw err;
    }
  }

  memberIds(appId: string, groupId: string): string[] {
    // Every group message fans out to its members; the list changes only through this storage.
    const key = `${appId}\u0000${groupId}`;
    let ids = this.memberCache.get(key);
    if (!ids) {
      ids = Object.freeze((this.stmt.memberIds!.all(appId, groupId) as Array<{ user_id: string }>).map((r) => r.user_id)) as string[];
      if (this.memberCache.size >= MEMBER_CACHE_MAX) this.memberCache.clear();
      this.memberCache.set(key, ids);
    }
    return ids;
  }

  addMembers(appId: string, groupId: string, userIds: string[]): string[] {
    const now = Date.now();
    const added: string[] = [];
    this.db.transaction(() => {
      for (const id of userIds) {
        if (this.stmt.addMember!.run({ app: appId, group: groupId, user: id, role: 'member', now }).changes === 0) continue;
        this.stmt.takeMute!.run(appId, groupId, id);
        added.push(id);
      }
    })();
    this.memberCache.delete(`${appId}\u0000${groupId}`);
    return added;
  }

  removeMember(appId: string, groupId: string, userId: string, guard?: ChangeGuard): boolean {
    this.memberCache.delete(`${appId}\u0000${groupId}`);
    return this.batch(() => {
      this.checkGuard(appId, groupId, guard);
      const now = Date.now();
      this.stmt.dropEndedMutes!.run(appId, groupId, now);
      this.stmt.keepMute!.run({ app: appId, group: groupId, user: userId, now });
      return this.stmt.removeMember!.run(appId, groupId, userId).changes > 0;
    });
  }

  dismissGroup(appId: string, groupId: string): void {
    this.memberCache.delete(`${appId}\u0000${groupId}`);
    this.db.transaction(() => {
      this.stmt.dismiss!.run(Date.now(), appId, groupId);
      this.stmt.deleteMembers!.run(appId, groupId);
      this.stmt.deleteMutes!.run(appId, groupId);
    })();
  }

  joinedSeq(appId: string, groupId: string, userId: string): number | undefined {
    return (this.stmt.joinedSeq!.get(appId, groupId, userId) as { joined_seq: number } | undefined)?.joined_seq;
  }

  groupStates(appId: string, userId: string, afterGroupId: string, limit: number): GroupState[] {
    return (this.stmt.groupStates!.all(appId, userId, afterGroupId, limit) as Array<{ group_id: string; joined_seq: number; last_seq: number }>).map((r) => ({
      groupId: r.group_id,
      joinedSeq: r.joined_seq,
      lastSeq: r.last_seq,
    }));
  }

  private readonly sendTx = (appId: string, convId: string, msg: NewMessage, recipients: string[]): SendResult => {
    const now = Date.now();
    const messageId = newMessageId();
    const seq = (this.stmt.bumpConv!.get(appId, convId, msg.event ? null : messageId, now) as { last_seq: number }).last_seq;
    // Group messages have no inbox rows (read diffusion): members read the group's sequence.
    const deliveries: Array<{ userId: string; inboxSeq: number }> = [];
    let senderInboxSeq = 0;
    for (const userId of recipients) {
      const inboxSeq = this.bumpInbox(appId, userId, convId, seq);
      // Ids that are not users of this app have no inbox_state row and get nothing.
      if (inboxSeq === 0) continue;
      deliveries.push({ userId, inboxSeq });
      if (userId === msg.from) senderInboxSeq = inboxSeq;
    }
    const data = msg.data === null || msg.data === undefined ? null : JSON.stringify(msg.data);
    this.stmt.insertMessage!.run(appId, messageId, convId, seq, msg.clientMsgId, msg.from, msg.fromName, msg.to, msg.chatType, msg.msgType, msg.content, data, senderInboxSeq, now, msg.replyTo ?? null, msg.mentions === undefined ? null : JSON.stringify(msg.mentions), msg.event ?? null, msg.eventOf ?? null);
    // A private conversation is created by its first message, in this same transaction, so later
    // messages find both links in place and skip two writes each.
    if (msg.chatType === 0 && seq === 1) {
      this.stmt.linkConv!.run(appId, msg.from, convId, msg.to);
      this.stmt.linkConv!.run(appId, msg.to, convId, msg.from);
    }
    // Sending marks the conversation read up to one's own message. A revoke or edit reads
    // nothing, and neither does a group notice: an admin's action is not them reading the group.
    if (!msg.event && msg.msgType !== GROUP_NOTICE_MSG_TYPE) this.stmt.setRead!.run(appId, msg.from, convId, seq);
    const message: StoredMessage = {
      messageId,
      clientMsgId: msg.clientMsgId,
      from: msg.from,
      fromName: msg.fromName,
      to: msg.to,
      content: msg.content,
      chatType: msg.chatType,
      msgType: msg.msgType,
      timestamp: now,
      data: msg.data ?? null,
      seq,
    };
    if (msg.replyTo) message.replyToId = msg.replyTo;
    if (msg.mentions !== undefined) message.mentions = msg.mentions;
    if (msg.event) Object.assign(message, { event: msg.event, eventOf: msg.eventOf });
    return { message, senderInboxSeq, deliveries, duplicate: false };
  };

  /**
   * The recipient's next inbox seq for message `seq` of `convId` (0: no such user). A message that
   * directly follows the open run extends it; any other closes it into inbox_runs and opens a new
   * one. Seqs stay gapless: each call takes exactly inbox_seq + 1.
   */
  private bumpInbox(appId: string, userId: string, convId: string, seq: number): number {
    const head = this.stmt.inboxHead!.get(appId, userId) as { inbox_seq: number; run_start: number; run_conv: string | null; run_conv_seq: number } | undefined;
    if (!head) return 0;
    const next = head.inbox_seq + 1;
    if (head.run_conv === convId && head.run_conv_seq + (head.inbox_seq - head.run_start) === seq - 1) {
      this.stmt.extendRun!.run(next, appId, userId);
    } else {
      if (head.run_conv !== null) this.stmt.closeRun!.run(appId, userId, head.run_start, head.inbox_seq, head.run_conv, head.run_conv_seq);
      this.stmt.openRun!.run(next, next, convId, seq, appId, userId);
    }
    return next;
  }

  applyMessageEvent(appId: string, req: MessageEventRequest): SendResult | null {
    const { target } = req;
    const convId = target.chatType === 1 ? groupConvId(target.to) : privateConvId(target.from, target.to);
    return this.batch(() => {
      const now = Date.now();
      const changed =
        req.kind === 'revoke'
          ? this.stmt.revoke!.run(req.by, now, appId, target.messageId).changes
          : this.stmt.edit!.run(req.content ?? '', req.data === null || req.data === undefined ? null : JSON.stringify(req.data), now, appId, target.messageId).changes;
      if (!changed) return null;
      return this.sendTx(appId, convId, eventRow(req), [...new Set(req.recipients)]);
    });
  }


  sendMessage(appId: string, msg: NewMessage, recipients: string[]): SendResult {
    const convId = msg.chatType === 1 ? groupConvId(msg.to) : privateConvId(msg.from, msg.to);
    const unique = [...new Set(recipients)];
    try {
      return this.sendTransaction(appId, convId, msg, unique);
    } catch (err) {
      // The service looks the clientMsgId up before calling, so a repeat lands here only if the
      // caller skipped that; the UNIQUE constraint makes the answer exact without a second lookup
      // on every send (the transaction, or its savepoint inside a batch, is rolled back).
      const existing = isClientIdConflict(err) ? this.findByClientId(appId, msg.from, msg.clientMsgId) : undefined;
      if (!existing) throw err;
      const { senderInboxSeq, ...message } = existing;
      return { message, senderInboxSeq, deliveries: [], duplicate: true };
    }
  }

  /** Runs `work` as one transaction; a nested call is a savepoint. */
  batch<T>(work: () => T): T {
    return this.inTransaction(work) as T;
  }



  /**
   * Group commit: every send in one transaction, each in a savepoint of its own, so a refused one
   * (a constraint) fails alone. A failure that may have ended the transaction (I/O, full disk,
   * busy) aborts the whole batch: nothing of it is stored, and the call throws.
   */
  sendMessages(items: SendRequest[], outbox?: Outbox): SendOutcome[] {
    return this.batch(() =>
      items.map((item): SendOutcome => {
        try {
          return { result: outbox ? this.batch(() => this.sendWithOutbox(item, outbox)) : this.sendMessage(item.appId, item.msg, item.recipients) };
        } catch (error) {
          if (endsTransaction(error)) throw error;
          return { error };
        }
      }),
    );
  }

  /** A send and its queue row in one savepoint: the row exists exactly when the message does. */
  private sendWithOutbox(item: SendRequest, outbox: Outbox): SendResult {
    const result = this.sendMessage(item.appId, item.msg, item.recipients);
    const row = result.duplicate ? undefined : outbox(item, result);
    if (row) this.stmt.outboxInsert!.run(row.id, row.appId, row.event, row.body, row.nextAt, row.createdAt);
    return result;
  }

  /** Several read positions of one user, one commit. */
  markReadMany(appId: string, userId: string, marks: Array<{ convId: string; seq: number }>): void {
    this.batch(() => {
      for (const m of marks) this.markRead(appId, userId, m.convId, m.seq);
    });
  }

  findByClientId(appId: string, from: string, clientMsgId: string): (StoredMessage & { senderInboxSeq: number }) | undefined {
    const r = this.stmt.byClientId!.get(appId, from, clientMsgId) as MessageRow | undefined;
    return r && { ...toMessage(r), senderInboxSeq: r.sender_inbox_seq };
  }

  getMessage(appId: string, messageId: string): StoredMessage | undefined {
    const r = this.stmt.byId!.get(appId, messageId) as MessageRow | undefined;
    return r && toMessage(r);
  }

  inboxAfter(appId: string, userId: string, afterInboxSeq: number, limit: number): StoredMessage[] {
    if (limit < 1) return [];
    const window = { app: appId, user: userId, lo: afterInboxSeq + 1, hi: afterInboxSeq + limit };
    return (this.stmt.inboxWindow!.all(window) as MessageRow[]).map(toMessage);
  }

  history(appId: string, convId: string, direction: 'BACK' | 'FORWARD', fromSeq: number, limit: number, withEvents = false): StoredMessage[] {
    const rows =
      direction === 'BACK'
        ? this.stmt.historyBack!.all(appId, convId, fromSeq === 0 ? Number.MAX_SAFE_INTEGER : fromSeq, limit)
        : (withEvents ? this.stmt.sequenceForward! : this.stmt.historyForward!).all(appId, convId, fromSeq, limit);
    return (rows as MessageRow[]).map(toMessage);
  }

  // ------------------------------------------------------------- conversations (storage/conversation-lists.ts)

  private convStmts?: { [K in keyof typeof SQLITE_CONVERSATIONS]: Database.Statement };

  private convs() {
    return (this.convStmts ??= Object.fromEntries(Object.entries(SQLITE_CONVERSATIONS).map(([k, sql]) => [k, this.db.prepare(sql)])) as { [K in keyof typeof SQLITE_CONVERSATIONS]: Database.Statement });
  }

  /** One head by conversation id ('p:…' or 'g:<groupId>'), listed or not. */
  private head(appId: string, userId: string, convId: string): ConversationHead | undefined {
    const group = convId.startsWith('g:');
    const q = group ? this.convs().groupHead : this.convs().privateHead;
    return q.get({ app: appId, user: userId, conv: convId, group: convId.slice(2) }) as ConversationHead | undefined;
  }

  private unreadOf(appId: string, userId: string, h: ConversationHead): number {
    return (this.convs().unread.get({ app: appId, conv: h.conv_id, after: unreadAfter(h), user: userId }) as { n: number }).n;
  }

  /** A head with its counts and last message. */
  private withCounts(appId: string, userId: string, h: ConversationHead): ConversationRecord {
    const after = unreadAfter(h);
    return toConversation(h, {
      unreadCount: this.unreadOf(appId, userId, h),
      mentionedMe: !!this.stmt.mentioned!.get(appId, h.conv_id, after, userId, mentionPattern(userId)),
      // How far the other side has read: lets a client show "read" without having seen the receipt.
      peerReadSeq: h.chat_type === 0 ? ((this.stmt.readSeq!.get(appId, h.target_id, h.conv_id) as { read_seq: number } | undefined)?.read_seq ?? 0) : null,
      lastMessage: h.last_message_id ? (this.getMessage(appId, h.last_message_id) ?? null) : null,
    });
  }

  /** Every head of the user, in list order (two queries whatever the count; counts only for one page). */
  private heads(appId: string, userId: string): ConversationHead[] {
    const at = { app: appId, user: userId };
    return [...(this.convs().privateHeads.all(at) as ConversationHead[]), ...(this.convs().groupHeads.all(at) as ConversationHead[])].sort(headOrder);
  }

  conversations(appId: string, userId: string, page: { after?: ConversationCursor; limit: number }): { items: ConversationRecord[]; hasMore: boolean } {
    const rest = this.heads(appId, userId).filter((h) => h.listed === 1 && afterCursor(h, page.after));
    return { items: rest.slice(0, page.limit).map((h) => this.withCounts(appId, userId, h)), hasMore: rest.length > page.limit };
  }

  conversation(appId: string, userId: string, chatType: 0 | 1, targetId: string): (ConversationRecord & { listed: boolean }) | undefined {
    const h = this.head(appId, userId, chatType === 1 ? groupConvId(targetId) : privateConvId(userId, targetId));
    return h && { ...this.withCounts(appId, userId, h), listed: h.listed === 1 };
  }

  conversationSettings(appId: string, userId: string, convId: string): { pinned: boolean; muted: boolean } {
    const r = this.convs().settings.get({ app: appId, user: userId, conv: convId }) as { pinned: number; muted: number } | undefined;
    return { pinned: r?.pinned === 1, muted: r?.muted === 1 };
  }

  setConversationSetting(appId: string, userId: string, convId: string, setting: 'pinned' | 'muted', on: boolean): void {
    this.convs()[setting === 'pinned' ? 'setPinned' : 'setMuted'].run({ app: appId, user: userId, conv: convId, on: on ? 1 : 0 });
  }

  hideConversation(appId: string, userId: string, convId: string): void {
    this.convs().hide.run({ app: appId, user: userId, conv: convId });
  }

  totalUnread(appId: string, userId: string): number {
    const hasUnread = (h: ConversationHead) =>
      (this.convs().hasUnread.get({ app: appId, conv: h.conv_id, last: h.last_message_id, after: unreadAfter(h), user: userId }) as { hit: number }).hit === 1;
    const due = this.heads(appId, userId)
      .filter((h) => h.listed === 1 && h.muted === 0 && h.last_seq > unreadAfter(h) && hasUnread(h))
      .sort((a, b) => b.updated_at - a.updated_at)
      .slice(0, TOTAL_UNREAD_CONVERSATIONS);
    return due.reduce((n, h) => n + this.unreadOf(appId, userId, h), 0);
  }

  markRead(appId: string, userId: string, convId: string, seq: number | undefined): { readSeq: number; unreadCount: number } {
    const last = this.lastSeq(appId, convId);
    const target = Math.min(seq ?? last, last);
    this.stmt.setRead!.run(appId, userId, convId, target);
    const readSeq = (this.stmt.readSeq!.get(appId, userId, convId) as { read_seq: number }).read_seq;
    const h = this.head(appId, userId, convId);
    return { readSeq, unreadCount: h ? this.unreadOf(appId, userId, h) : 0 };
  }

  lastSeq(appId: string, convId: string): number {
    return (this.stmt.lastSeq!.get(appId, convId) as { last_seq: number } | undefined)?.last_seq ?? 0;
  }

  createFile(appId: string, f: FileRecord): void {
    this.db
      .prepare('INSERT INTO files (app_id, file_id, owner_id, kind, mime, size, name, width, height, thumb_mime, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(appId, f.fileId, f.ownerId, f.kind, f.mime, f.size, f.name, f.width ?? null, f.height ?? null, f.thumbMime ?? null, f.createdAt);
  }

  markFileAttached(appId: string, fileId: string): void {
    this.db.prepare('UPDATE files SET attached_at = ? WHERE app_id = ? AND file_id = ? AND attached_at IS NULL').run(Date.now(), appId, fileId);
  }

  unattachedFiles(before: number, limit: number): Array<{ appId: string; file: FileRecord }> {
    const rows = this.db.prepare('SELECT * FROM files WHERE attached_at IS NULL AND created_at < ? ORDER BY created_at LIMIT ?').all(before, limit) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ appId: r.app_id as string, file: toFile(r) }));
  }

  deleteUnattachedFile(appId: string, fileId: string): boolean {
    return this.db.prepare('DELETE FROM files WHERE app_id = ? AND file_id = ? AND attached_at IS NULL').run(appId, fileId).changes > 0;
  }

  getFile(appId: string, fileId: string): FileRecord | undefined {
    const r = this.db.prepare('SELECT * FROM files WHERE app_id = ? AND file_id = ?').get(appId, fileId) as Record<string, unknown> | undefined;
    return r && toFile(r);
  }

  // ------------------------------------------------------------- group read receipts (storage/group-reads.ts)

  private readStmts?: { targets: Database.Statement; stats: Database.Statement; read: Database.Statement; unread: Database.Statement };

  private reads() {
    const p = (sql: string) => this.db.prepare(sql);
    return (this.readStmts ??= {
      targets: p(SQLITE_READ_TARGETS),
      stats: p(SQLITE_READ_STATS),
      read: p(sqliteReadMembersSql('read', MEMBER_COLUMNS)),
      unread: p(sqliteReadMembersSql('unread', MEMBER_COLUMNS)),
    });
  }

  groupReadTargets(appId: string, groupId: string, messageIds: string[]): ReadTarget[] {
    const rows = this.reads().targets.all({ app: appId, conv: groupConvId(groupId), ids: JSON.stringify(messageIds) }) as Array<{ message_id: string; seq: number; from_id: string }>;
    return rows.map(toReadTarget);
  }

  groupReadCounts(appId: string, groupId: string, targets: ReadTarget[]): ReadCount[] {
    if (!targets.length) return [];
    const min = Math.min(...targets.map((t) => t.seq));
    const senders = JSON.stringify([...new Set(targets.map((t) => t.from))]);
    return countReads(targets, this.reads().stats.all({ app: appId, group: groupId, conv: groupConvId(groupId), min, senders }) as ReadStatRow[]);
  }

  groupReadMembers(appId: string, groupId: string, target: ReadTarget, filter: 'read' | 'unread', page: { after?: string; limit: number }): { items: MemberRecord[]; hasMore: boolean } {
    const at = { app: appId, group: groupId, conv: groupConvId(groupId), seq: target.seq, from: target.from, after: page.after ?? '', limit: page.limit + 1 };
    const rows = this.reads()[filter].all(at) as MemberRow[];
    const now = Date.now();
    return { items: rows.slice(0, page.limit).map((r) => toMember(r, now)), hasMore: rows.length > page.limit };
  }

  // ------------------------------------------------------------- the server REST API's lists (storage/admin-queries.ts)

  private adminStmts?: { [K in keyof typeof SQLITE_ADMIN]: Database.Statement };

  private admin() {
    const p = (sql: string) => this.db.prepare(sql);
    return (this.adminStmts ??= { users: p(SQLITE_ADMIN.users), groups: p(SQLITE_ADMIN.groups), members: p(SQLITE_ADMIN.members) });
  }

  searchUsers(appId: string, page: AppListPage): { items: UserRecord[]; hasMore: boolean } {
    const rows = this.admin().users.all({ app: appId, after: page.after ?? '', q: page.query ?? null, limit: page.limit + 1 }) as UserRow[];
    return { items: rows.slice(0, page.limit).map(toUser), hasMore: rows.length > page.limit };
  }

  upsertUsers(appId: string, users: Array<{ userId: string; patch: UserPatch }>): void {
    try {
      this.inTransaction(() => {
        for (const u of users) this.upsertUser(appId, u.userId, u.patch);
      });
    } catch (err) {
      // upsertUser caches each row it wrote; rolled back, those are not the database's any more.
      for (const u of users) this.users.delete(`${appId}\u0000${u.userId}`);
      throw err;
    }
  }

  listGroupsOfApp(appId: string, page: AppListPage): { items: GroupRecord[]; hasMore: boolean } {
    const rows = this.admin().groups.all({ app: appId, after: page.after ?? '', q: page.query ?? null, limit: page.limit + 1 }) as GroupRow[];
    return { items: rows.slice(0, page.limit).map(toGroup), hasMore: rows.length > page.limit };
  }

  membersPage(appId: string, groupId: string, page: { after?: string; limit: number }): { items: MemberRecord[]; hasMore: boolean } {
    const rows = this.admin().members.all({ app: appId, group: groupId, after: page.after ?? '', limit: page.limit + 1 }) as MemberRow[];
    const now = Date.now();
    return { items: rows.slice(0, page.limit).map((r) => toMember(r, now)), hasMore: rows.length > page.limit };
  }

  private operatorStmts?: { revoke: Database.Statement; prune: Database.Statement; bump: Database.Statement; state: Database.Statement };

  private operators() {
    const p = (sql: string) => this.db.prepare(sql);
    return (this.operatorStmts ??= {
      revoke: p('INSERT INTO operator_revocations (app_id, jti, expires_at) VALUES (?, ?, ?) ON CONFLICT (app_id, jti) DO NOTHING'),
      prune: p('DELETE FROM operator_revocations WHERE expires_at < ?'),
      bump: p(
        `INSERT INTO operator_generations (app_id, generation, updated_at) VALUES (?, 1, ?)
         ON CONFLICT (app_id) DO UPDATE SET generation = generation + 1, updated_at = excluded.updated_at
         RETURNING generation`,
      ),
      state: p(
        `SELECT EXISTS (SELECT 1 FROM operator_revocations WHERE app_id = @app AND jti = @jti) AS revoked,
           COALESCE((SELECT generation FROM operator_generations WHERE app_id = @app), 0) AS generation`,
      ),
    });
  }

  revokeOperatorToken(appId: string, jti: string, expiresAt: number): void {
    const s = this.operators();
    this.batch(() => {
      s.prune.run(Date.now());
      s.revoke.run(appId, jti, expiresAt);
    });
  }

  revokeOperatorTokens(appId: string): number {
    return (this.operators().bump.get(appId, Date.now()) as { generation: number }).generation;
  }

  operatorTokenState(appId: string, jti: string | null): OperatorTokenState {
    const r = this.operators().state.get({ app: appId, jti }) as { revoked: number; generation: number };
    return { revoked: r.revoked === 1, generation: r.generation };
  }

  close(): void {
    if (this.db.open) {
      this.checkpointer?.stop();
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      this.db.close();
    }
  }
}

function isClientIdConflict(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string' && e.message.includes('client_msg_id');
}

/**
 * The server's Storage on SQLite: the synchronous database behind the asynchronous interface
 * that PostgreSQL implements too. Each call runs to completion before it resolves, so a group
 * commit is still one uninterrupted transaction.
 */
export class SqliteStorage implements Storage {
  readonly sqlite: SqliteDatabase;

  private readonly metrics?: StorageMetrics;

  constructor(dataDir: string, options: SqliteOptions = {}) {
    this.sqlite = new SqliteDatabase(dataDir, options);
    this.metrics = options.metrics;
  }

  /** The better-sqlite3 handle, for checks in tests and benchmarks. */
  get db(): Database.Database {
    return this.sqlite.db;
  }

  getApp = this.wrap((d, appId: string) => d.getApp(appId));
  upsertApp = this.wrap((d, appId: string, appSecret: string) => d.upsertApp(appId, appSecret));
  getDevApp = this.wrap((d) => d.getDevApp());
  setDevApp = this.wrap((d, appId: string) => d.setDevApp(appId));
  getUser = this.wrap((d, appId: string, userId: string) => d.getUser(appId, userId));
  upsertUser = this.wrap((d, appId: string, userId: string, patch: UserPatch) => d.upsertUser(appId, userId, patch));
  missingUsers = this.wrap((d, appId: string, userIds: string[]) => d.missingUsers(appId, userIds));
  latestInboxSeq = this.wrap((d, appId: string, userId: string) => d.latestInboxSeq(appId, userId));
  lastSeen = this.wrap((d, appId: string, userIds: string[]) => d.lastSeen(appId, userIds));
  recordLastSeen = this.wrap((d, items: Array<{ appId: string; userId: string; at: number }>) => d.recordLastSeen(items));
  createGroup = this.wrap((d, appId: string, group: { groupId: string; name: string; description: string; ownerId: string }, memberIds: string[]) => d.createGroup(appId, group, memberIds));
  getGroup = this.wrap((d, appId: string, groupId: string) => d.getGroup(appId, groupId));
  groupIdTaken = this.wrap((d, appId: string, groupId: string) => d.groupIdTaken(appId, groupId));
  listGroupsOf = this.wrap((d, appId: string, userId: string, page: { after?: ListCursor; limit: number }) => d.listGroupsOf(appId, userId, page));
  isMember = this.wrap((d, appId: string, groupId: string, userId: string) => d.isMember(appId, groupId, userId));
  members = this.wrap((d, appId: string, groupId: string) => d.members(appId, groupId));
  // A copy: the database's list is its cache, and callers own what they get.
  memberIds = this.wrap((d, appId: string, groupId: string) => [...d.memberIds(appId, groupId)]);
  joinedSeq = this.wrap((d, appId: string, groupId: string, userId: string) => d.joinedSeq(appId, groupId, userId));
  groupStates = this.wrap((d, appId: string, userId: string, after: string, limit: number) => d.groupStates(appId, userId, after, limit));
  addMembers = this.wrap((d, appId: string, groupId: string, userIds: string[]) => d.addMembers(appId, groupId, userIds));
  removeMember = this.wrap((d, appId: string, groupId: string, userId: string, guard?: ChangeGuard) => d.removeMember(appId, groupId, userId, guard));
  dismissGroup = this.wrap((d, appId: string, groupId: string) => d.dismissGroup(appId, groupId));
  member = this.wrap((d, appId: string, groupId: string, userId: string) => d.member(appId, groupId, userId));
  changeGroup = this.wrap((d, appId: string, groupId: string, change: GroupSettingChange, notice: SendRequest, guard?: ChangeGuard) => d.changeGroup(appId, groupId, change, notice, guard));
  sendMessages = this.wrap((d, items: SendRequest[], outbox?: Outbox) => d.sendMessages(items, outbox));
  findByClientId = this.wrap((d, appId: string, from: string, clientMsgId: string) => d.findByClientId(appId, from, clientMsgId));
  getMessage = this.wrap((d, appId: string, messageId: string) => d.getMessage(appId, messageId));
  inboxAfter = this.wrap((d, appId: string, userId: string, after: number, limit: number) => d.inboxAfter(appId, userId, after, limit));
  history = this.wrap((d, appId: string, convId: string, direction: 'BACK' | 'FORWARD', fromSeq: number, limit: number, withEvents?: boolean) => d.history(appId, convId, direction, fromSeq, limit, withEvents));
  applyMessageEvent = this.wrap((d, appId: string, req: MessageEventRequest) => d.applyMessageEvent(appId, req));
  conversations = this.wrap((d, appId: string, userId: string, page: { after?: ConversationCursor; limit: number }) => d.conversations(appId, userId, page));
  conversation = this.wrap((d, appId: string, userId: string, chatType: 0 | 1, targetId: string) => d.conversation(appId, userId, chatType, targetId));
  conversationSettings = this.wrap((d, appId: string, userId: string, convId: string) => d.conversationSettings(appId, userId, convId));
  setConversationSetting = this.wrap((d, appId: string, userId: string, convId: string, setting: 'pinned' | 'muted', on: boolean) => d.setConversationSetting(appId, userId, convId, setting, on));
  hideConversation = this.wrap((d, appId: string, userId: string, convId: string) => d.hideConversation(appId, userId, convId));
  totalUnread = this.wrap((d, appId: string, userId: string) => d.totalUnread(appId, userId));
  markRead = this.wrap((d, appId: string, userId: string, convId: string, seq: number | undefined) => d.markRead(appId, userId, convId, seq));
  markReadMany = this.wrap((d, appId: string, userId: string, marks: Array<{ convId: string; seq: number }>) => d.markReadMany(appId, userId, marks));
  lastSeq = this.wrap((d, appId: string, convId: string) => d.lastSeq(appId, convId));
  createFile = this.wrap((d, appId: string, file: FileRecord) => d.createFile(appId, file));
  getFile = this.wrap((d, appId: string, fileId: string) => d.getFile(appId, fileId));
  markFileAttached = this.wrap((d, appId: string, fileId: string) => d.markFileAttached(appId, fileId));
  unattachedFiles = this.wrap((d, before: number, limit: number) => d.unattachedFiles(before, limit));
  deleteUnattachedFile = this.wrap((d, appId: string, fileId: string) => d.deleteUnattachedFile(appId, fileId));

  groupReadTargets = this.wrap((d, appId: string, groupId: string, messageIds: string[]) => d.groupReadTargets(appId, groupId, messageIds));
  groupReadCounts = this.wrap((d, appId: string, groupId: string, targets: ReadTarget[]) => d.groupReadCounts(appId, groupId, targets));
  groupReadMembers = this.wrap((d, appId: string, groupId: string, target: ReadTarget, filter: 'read' | 'unread', page: { after?: string; limit: number }) => d.groupReadMembers(appId, groupId, target, filter, page));

  searchUsers = this.wrap((d, appId: string, page: AppListPage) => d.searchUsers(appId, page));
  upsertUsers = this.wrap((d, appId: string, users: Array<{ userId: string; patch: UserPatch }>) => d.upsertUsers(appId, users));
  listGroupsOfApp = this.wrap((d, appId: string, page: AppListPage) => d.listGroupsOfApp(appId, page));
  membersPage = this.wrap((d, appId: string, groupId: string, page: { after?: string; limit: number }) => d.membersPage(appId, groupId, page));
  revokeOperatorToken = this.wrap((d, appId: string, jti: string, expiresAt: number) => d.revokeOperatorToken(appId, jti, expiresAt));
  revokeOperatorTokens = this.wrap((d, appId: string) => d.revokeOperatorTokens(appId));
  operatorTokenState = this.wrap((d, appId: string, jti: string | null) => d.operatorTokenState(appId, jti));

  async close(): Promise<void> {
    this.sqlite.close();
  }

  /** A synchronous call as a promise: it has run when this returns; a throw becomes a rejection. */
  private wrap<A extends unknown[], R>(call: (d: SqliteDatabase, ...args: A) => R): (...args: A) => Promise<R> {
    return (...args: A) => {
      try {
        return Promise.resolve(call(this.sqlite, ...args));
      } catch (err) {
        // The one place every failure of this storage passes: counted here, at no cost to success.
        const kind = this.metrics && storageFailureKind(err);
        if (kind) this.metrics!.storageError(kind);
        return Promise.reject(err);
      }
    };
  }
}
