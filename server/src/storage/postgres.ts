import { createHash } from 'node:crypto';
import { countPgErrors, type StorageMetrics } from '../observability/storage-errors';
import { newMessageId } from './message-ids';
import { Pool, types, type PoolClient, type PoolConfig, type QueryConfig } from 'pg';
import { GuardFailed, endsTransaction } from './errors';
import { GROUP_NOTICE_MSG_TYPE } from '../protocol/limits';
import { EDIT_SQL, GROUP_SETTING_COLUMNS, MEMBER_COLUMNS, MEMBER_ORDER, MENTIONED_SQL, MESSAGE_COLUMNS, REVOKE_SQL, eventRow, guardHolds, mentionPattern, toFile, toGroup, toMember, toMessage, type GroupRow, type MemberRow, type MessageRow } from './rows';
import type {
  AppRecord,
  ChangeGuard,
  ConversationCursor,
  ConversationRecord,
  FileRecord,
  GroupRecord,
  GroupSettingChange,
  GroupState,
  ListCursor,
  MemberRecord,
  MessageEventRequest,
  NewMessage,
  OperatorTokenState,
  Outbox,
  OutboxRow,
  SendOutcome,
  SendRequest,
  SendResult,
  Storage,
  StoredMessage,
  UserPatch,
  UserRecord,
} from './types';
import { groupConvId, privateConvId } from './types';
import { PG_CONVERSATIONS, toConversation, unreadAfter, type ConversationHead } from './conversation-lists';
import { PG_READ_STATS, PG_READ_TARGETS, countReads, pgReadMembersSql, toReadTarget, type ReadStatRow } from './group-reads';
import type { AppListPage, ReadCount, ReadTarget } from './types';
import { PG_ADMIN } from './admin-queries';

/**
 * Ordered migrations, recorded in schema_migrations; never edit one that shipped. The model is the
 * SQLite one's: a conversation's seq comes from its counter row in the message's own transaction,
 * group messages have no inbox rows (read diffusion). Private inboxes are a row per message here
 * (two per message), which PostgreSQL handles without SQLite's run compaction.
 */
export const PG_MIGRATIONS: string[] = [
  `
  CREATE TABLE apps (
    app_id text PRIMARY KEY,
    app_secret text NOT NULL,
    is_dev boolean NOT NULL DEFAULT false,
    created_at bigint NOT NULL
  );
  CREATE TABLE users (
    app_id text NOT NULL,
    user_id text NOT NULL,
    user_name text NOT NULL,
    user_img text NOT NULL DEFAULT '',
    company_name text NOT NULL DEFAULT '',
    im_role text NOT NULL DEFAULT 'user',
    valid boolean NOT NULL DEFAULT true,
    inbox_seq bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL,
    PRIMARY KEY (app_id, user_id)
  );
  CREATE TABLE groups (
    app_id text NOT NULL,
    group_id text NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    owner_id text NOT NULL,
    created_at bigint NOT NULL,
    dismissed_at bigint,
    PRIMARY KEY (app_id, group_id)
  );
  CREATE TABLE group_members (
    app_id text NOT NULL,
    group_id text NOT NULL,
    user_id text NOT NULL,
    role text NOT NULL,
    joined_at bigint NOT NULL,
    joined_seq bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, group_id, user_id)
  );
  CREATE INDEX group_members_by_user ON group_members (app_id, user_id);
  CREATE TABLE conversations (
    app_id text NOT NULL,
    conv_id text NOT NULL,
    last_seq bigint NOT NULL DEFAULT 0,
    last_message_id text,
    updated_at bigint NOT NULL,
    PRIMARY KEY (app_id, conv_id)
  );
  CREATE TABLE user_conversations (
    app_id text NOT NULL,
    user_id text NOT NULL,
    conv_id text NOT NULL,
    target_id text NOT NULL,
    PRIMARY KEY (app_id, user_id, conv_id)
  );
  CREATE TABLE messages (
    app_id text NOT NULL,
    message_id text NOT NULL,
    conv_id text NOT NULL,
    seq bigint NOT NULL,
    client_msg_id text NOT NULL,
    from_id text NOT NULL,
    from_name text NOT NULL,
    to_id text NOT NULL,
    chat_type smallint NOT NULL,
    msg_type integer NOT NULL,
    content text NOT NULL,
    data text,
    sender_inbox_seq bigint NOT NULL,
    timestamp bigint NOT NULL,
    PRIMARY KEY (app_id, message_id),
    CONSTRAINT messages_conv_seq UNIQUE (app_id, conv_id, seq),
    CONSTRAINT messages_client_msg_id UNIQUE (app_id, from_id, client_msg_id)
  );
  CREATE TABLE inbox (
    app_id text NOT NULL,
    user_id text NOT NULL,
    inbox_seq bigint NOT NULL,
    message_id text NOT NULL,
    PRIMARY KEY (app_id, user_id, inbox_seq)
  );
  CREATE TABLE read_state (
    app_id text NOT NULL,
    user_id text NOT NULL,
    conv_id text NOT NULL,
    read_seq bigint NOT NULL,
    PRIMARY KEY (app_id, user_id, conv_id)
  );
  `,
  // A group commit in one round trip: each send of the batch in its own subtransaction (the
  // EXCEPTION block), so a refused one fails alone, as a savepoint per send did with five to seven
  // round trips each. Deadlocks and cancellations are raised, so the whole batch is tried again.
  `
  ALTER TABLE messages ADD COLUMN reply_to text;
  ALTER TABLE messages ADD COLUMN mentions text;
  CREATE INDEX messages_mentions ON messages (app_id, conv_id, seq) WHERE mentions IS NOT NULL;
  CREATE FUNCTION im_send_batch(p_now bigint, p_batch jsonb)
  RETURNS TABLE (o_outcome text, o_seq bigint, o_sender_inbox_seq bigint, o_deliveries jsonb, o_code text, o_message text)
  LANGUAGE plpgsql AS $fn$
  DECLARE
    item jsonb;
    v_seq bigint;
    v_sender bigint;
    v_deliveries jsonb;
    v_constraint text;
  BEGIN
    FOR item IN SELECT value FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS t(value, n) ORDER BY n LOOP
      BEGIN
        -- The counter row: its lock orders this conversation's sends, and a rollback burns no seq.
        INSERT INTO conversations AS c (app_id, conv_id, last_seq, last_message_id, updated_at)
          VALUES (item->>'app', item->>'conv', 1, item->>'id', p_now)
          ON CONFLICT (app_id, conv_id) DO UPDATE
            SET last_seq = c.last_seq + 1, last_message_id = excluded.last_message_id, updated_at = excluded.updated_at
          RETURNING c.last_seq INTO v_seq;
        v_sender := 0;
        v_deliveries := '[]'::jsonb;
        IF jsonb_array_length(item->'recipients') > 0 THEN
          -- Inbox counters locked in id order: two sends to overlapping inboxes cannot deadlock here.
          PERFORM 1 FROM users u
            WHERE u.app_id = item->>'app' AND u.user_id IN (SELECT jsonb_array_elements_text(item->'recipients'))
            ORDER BY u.user_id FOR UPDATE;
          WITH bumped AS (
            UPDATE users u SET inbox_seq = u.inbox_seq + 1
            WHERE u.app_id = item->>'app' AND u.user_id IN (SELECT jsonb_array_elements_text(item->'recipients'))
            RETURNING u.user_id, u.inbox_seq
          ), stored AS (
            INSERT INTO inbox (app_id, user_id, inbox_seq, message_id)
            SELECT item->>'app', b.user_id, b.inbox_seq, item->>'id' FROM bumped b
          )
          SELECT COALESCE(jsonb_agg(jsonb_build_object('userId', b.user_id, 'inboxSeq', b.inbox_seq)), '[]'::jsonb),
                 COALESCE(MAX(b.inbox_seq) FILTER (WHERE b.user_id = item->>'from'), 0)
            INTO v_deliveries, v_sender
            FROM bumped b;
        END IF;
        INSERT INTO messages (app_id, message_id, conv_id, seq, client_msg_id, from_id, from_name, to_id, chat_type, msg_type, content, data, sender_inbox_seq, timestamp, reply_to, mentions)
          VALUES (item->>'app', item->>'id', item->>'conv', v_seq, item->>'client', item->>'from', item->>'fromName', item->>'to',
                  (item->>'chat')::smallint, (item->>'type')::integer, item->>'content', item->>'data', v_sender, p_now, item->>'replyTo', item->>'mentions');
        IF (item->>'chat')::integer = 0 AND v_seq = 1 THEN
          INSERT INTO user_conversations (app_id, user_id, conv_id, target_id)
            VALUES (item->>'app', item->>'from', item->>'conv', item->>'to'), (item->>'app', item->>'to', item->>'conv', item->>'from')
            ON CONFLICT DO NOTHING;
        END IF;
        INSERT INTO read_state AS r (app_id, user_id, conv_id, read_seq) VALUES (item->>'app', item->>'from', item->>'conv', v_seq)
          ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET read_seq = GREATEST(r.read_seq, excluded.read_seq);
        o_outcome := 'stored'; o_seq := v_seq; o_sender_inbox_seq := v_sender; o_deliveries := v_deliveries; o_code := NULL; o_message := NULL;
        RETURN NEXT;
      EXCEPTION
        WHEN deadlock_detected OR serialization_failure OR query_canceled OR admin_shutdown THEN RAISE;
        WHEN unique_violation THEN
          GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
          o_outcome := CASE WHEN v_constraint = 'messages_client_msg_id' THEN 'duplicate' ELSE 'error' END;
          o_seq := NULL; o_sender_inbox_seq := NULL; o_deliveries := NULL; o_code := SQLSTATE; o_message := SQLERRM;
          RETURN NEXT;
        WHEN OTHERS THEN
          o_outcome := 'error'; o_seq := NULL; o_sender_inbox_seq := NULL; o_deliveries := NULL; o_code := SQLSTATE; o_message := SQLERRM;
          RETURN NEXT;
      END;
    END LOOP;
  END
  $fn$;
  `,
  `
  CREATE TABLE files (
    app_id text NOT NULL,
    file_id text NOT NULL,
    owner_id text NOT NULL,
    kind text NOT NULL,
    mime text NOT NULL,
    size bigint NOT NULL,
    name text NOT NULL,
    width integer,
    height integer,
    thumb_mime text,
    created_at bigint NOT NULL,
    attached_at bigint,
    PRIMARY KEY (app_id, file_id)
  );
  CREATE INDEX files_unattached ON files (created_at) WHERE attached_at IS NULL;
  `,
  // Revokes and edits: the message row holds the outcome, an event row takes the conversation's
  // next seq and inbox positions (so catch-up delivers it in order) without becoming its last
  // message or counting as unread. im_send_batch learns to store event rows.
  `
  ALTER TABLE messages ADD COLUMN event text, ADD COLUMN event_of text, ADD COLUMN revoked_by text,
    ADD COLUMN revoked_at bigint, ADD COLUMN edited_at bigint;
  CREATE OR REPLACE FUNCTION im_send_batch(p_now bigint, p_batch jsonb)
  RETURNS TABLE (o_outcome text, o_seq bigint, o_sender_inbox_seq bigint, o_deliveries jsonb, o_code text, o_message text)
  LANGUAGE plpgsql AS $fn$
  DECLARE
    item jsonb;
    v_seq bigint;
    v_sender bigint;
    v_deliveries jsonb;
    v_constraint text;
  BEGIN
    FOR item IN SELECT value FROM jsonb_array_elements(p_batch) WITH ORDINALITY AS t(value, n) ORDER BY n LOOP
      BEGIN
        -- The counter row: its lock orders this conversation's sends, and a rollback burns no seq.
        -- An event row (revoke, edit) takes a seq but leaves the last message and the order.
        INSERT INTO conversations AS c (app_id, conv_id, last_seq, last_message_id, updated_at)
          VALUES (item->>'app', item->>'conv', 1, CASE WHEN item->>'event' IS NULL THEN item->>'id' END, p_now)
          ON CONFLICT (app_id, conv_id) DO UPDATE
            SET last_seq = c.last_seq + 1, last_message_id = COALESCE(excluded.last_message_id, c.last_message_id),
                updated_at = CASE WHEN excluded.last_message_id IS NULL THEN c.updated_at ELSE excluded.updated_at END
          RETURNING c.last_seq INTO v_seq;
        v_sender := 0;
        v_deliveries := '[]'::jsonb;
        IF jsonb_array_length(item->'recipients') > 0 THEN
          -- Inbox counters locked in id order: two sends to overlapping inboxes cannot deadlock here.
          PERFORM 1 FROM users u
            WHERE u.app_id = item->>'app' AND u.user_id IN (SELECT jsonb_array_elements_text(item->'recipients'))
            ORDER BY u.user_id FOR UPDATE;
          WITH bumped AS (
            UPDATE users u SET inbox_seq = u.inbox_seq + 1
            WHERE u.app_id = item->>'app' AND u.user_id IN (SELECT jsonb_array_elements_text(item->'recipients'))
            RETURNING u.user_id, u.inbox_seq
          ), stored AS (
            INSERT INTO inbox (app_id, user_id, inbox_seq, message_id)
            SELECT item->>'app', b.user_id, b.inbox_seq, item->>'id' FROM bumped b
          )
          SELECT COALESCE(jsonb_agg(jsonb_build_object('userId', b.user_id, 'inboxSeq', b.inbox_seq)), '[]'::jsonb),
                 COALESCE(MAX(b.inbox_seq) FILTER (WHERE b.user_id = item->>'from'), 0)
            INTO v_deliveries, v_sender
            FROM bumped b;
        END IF;
        INSERT INTO messages (app_id, message_id, conv_id, seq, client_msg_id, from_id, from_name, to_id, chat_type, msg_type, content, data, sender_inbox_seq, timestamp, reply_to, mentions, event, event_of)
          VALUES (item->>'app', item->>'id', item->>'conv', v_seq, item->>'client', item->>'from', item->>'fromName', item->>'to',
                  (item->>'chat')::smallint, (item->>'type')::integer, item->>'content', item->>'data', v_sender, p_now, item->>'replyTo', item->>'mentions',
                  item->>'event', item->>'eventOf');
        IF (item->>'chat')::integer = 0 AND v_seq = 1 THEN
          INSERT INTO user_conversations (app_id, user_id, conv_id, target_id)
            VALUES (item->>'app', item->>'from', item->>'conv', item->>'to'), (item->>'app', item->>'to', item->>'conv', item->>'from')
            ON CONFLICT DO NOTHING;
        END IF;
        IF item->>'event' IS NULL THEN
          INSERT INTO read_state AS r (app_id, user_id, conv_id, read_seq) VALUES (item->>'app', item->>'from', item->>'conv', v_seq)
            ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET read_seq = GREATEST(r.read_seq, excluded.read_seq);
        END IF;
        o_outcome := 'stored'; o_seq := v_seq; o_sender_inbox_seq := v_sender; o_deliveries := v_deliveries; o_code := NULL; o_message := NULL;
        RETURN NEXT;
      EXCEPTION
        WHEN deadlock_detected OR serialization_failure OR query_canceled OR admin_shutdown THEN RAISE;
        WHEN unique_violation THEN
          GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
          o_outcome := CASE WHEN v_constraint = 'messages_client_msg_id' THEN 'duplicate' ELSE 'error' END;
          o_seq := NULL; o_sender_inbox_seq := NULL; o_deliveries := NULL; o_code := SQLSTATE; o_message := SQLERRM;
          RETURN NEXT;
        WHEN OTHERS THEN
          o_outcome := 'error'; o_seq := NULL; o_sender_inbox_seq := NULL; o_deliveries := NULL; o_code := SQLSTATE; o_message := SQLERRM;
          RETURN NEXT;
      END;
    END LOOP;
  END
  $fn$;
  `,
  // Presence, group roles and settings, per-user conversation settings, group read receipts (see
  // the SQLite migration 6 for what each is for).
  `
  ALTER TABLE users ADD COLUMN last_seen_at bigint;
  ALTER TABLE groups ADD COLUMN announcement text NOT NULL DEFAULT '', ADD COLUMN avatar text NOT NULL DEFAULT '',
    ADD COLUMN mute_all boolean NOT NULL DEFAULT false;
  ALTER TABLE group_members ADD COLUMN muted_until bigint NOT NULL DEFAULT 0;
  CREATE TABLE conversation_settings (
    app_id text NOT NULL,
    user_id text NOT NULL,
    conv_id text NOT NULL,
    pinned boolean NOT NULL DEFAULT false,
    muted boolean NOT NULL DEFAULT false,
    hidden_seq bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, user_id, conv_id)
  );
  CREATE INDEX read_state_by_conv ON read_state (app_id, conv_id, read_seq);
  `,
];

/**
 * im_send_batch as migration 4 made it, with one change: the sender's read position moves for a
 * message only, not for an event row and not for a group notice (an admin's action is not them
 * reading the group). Derived from 4's text, so the two differ in that condition alone.
 */
function sendBatchWithoutNoticeReads(shipped: string): string {
  const start = shipped.indexOf('CREATE OR REPLACE FUNCTION im_send_batch');
  const end = shipped.indexOf('$fn$;', start);
  if (start < 0 || end < 0) throw new Error('PostgreSQL migration 4 no longer has im_send_batch');
  const fn = shipped.slice(start, end + '$fn$;'.length);
  const from = "IF item->>'event' IS NULL THEN";
  if (fn.split(from).length !== 2) throw new Error(`PostgreSQL migration 4's im_send_batch no longer has one "${from}"`);
  return fn.replace(from, `IF item->>'event' IS NULL AND (item->>'type')::integer <> ${GROUP_NOTICE_MSG_TYPE} THEN`);
}

// 6 (pushed after the list, since it is derived from 4's text): a mute outlives leaving and
// removal (group_mutes, see the SQLite migration 7), and a group notice moves no read position.
PG_MIGRATIONS.push(`
  CREATE TABLE group_mutes (
    app_id text NOT NULL,
    group_id text NOT NULL,
    user_id text NOT NULL,
    muted_until bigint NOT NULL,
    PRIMARY KEY (app_id, group_id, user_id)
  );
  ${sendBatchWithoutNoticeReads(PG_MIGRATIONS[3]!)}
`);

// 7: webhooks (docs/webhooks.md), as the SQLite migration 8: configurations, the delivery queue
// (nodes claim due rows with FOR UPDATE SKIP LOCKED; next_at is also the claim's lease) and the
// digests of what clients sent when a beforeSend replaced it.
PG_MIGRATIONS.push(`
  CREATE TABLE webhooks (
    app_id text PRIMARY KEY,
    url text NOT NULL,
    secret text NOT NULL,
    events text NOT NULL,
    before_timeout_ms integer NOT NULL,
    before_on_timeout text NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE TABLE webhook_events (
    id text PRIMARY KEY,
    app_id text NOT NULL,
    event text NOT NULL,
    body text NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_at bigint NOT NULL,
    created_at bigint NOT NULL,
    last_error text
  );
  CREATE INDEX webhook_events_due ON webhook_events (next_at);
  CREATE INDEX webhook_events_app ON webhook_events (app_id);
  CREATE TABLE webhook_replacements (
    app_id text NOT NULL,
    user_id text NOT NULL,
    client_msg_id text NOT NULL,
    digest text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (app_id, user_id, client_msg_id)
  );
  CREATE INDEX webhook_replacements_age ON webhook_replacements (created_at);
`);

// 8: operator tokens' sign-out (docs/protocol.md section 8.1), as the SQLite migration 9: each
// signed-out token until it would have expired anyway, and per app the generation every operator
// token must carry. In the database every node reads, so a sign-out holds on all of them at once.
PG_MIGRATIONS.push(`
  CREATE TABLE operator_revocations (
    app_id text NOT NULL,
    jti text NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (app_id, jti)
  );
  CREATE INDEX operator_revocations_expiry ON operator_revocations (expires_at);
  CREATE TABLE operator_generations (
    app_id text PRIMARY KEY,
    generation integer NOT NULL,
    updated_at bigint NOT NULL
  );
`);

/** bigint columns as numbers: seqs and times stay far below 2^53. */
const parseTypes = {
  getTypeParser: ((oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : types.getTypeParser(oid, format as never))) as typeof types.getTypeParser,
};

function toUser(r: Record<string, unknown>): UserRecord {
  return {
    userId: r.user_id as string,
    userName: r.user_name as string,
    userImg: r.user_img as string,
    companyName: r.company_name as string,
    imRole: r.im_role as UserRecord['imRole'],
    valid: r.valid as boolean,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

const GROUP_COLUMNS = `g.group_id, g.name, g.description, g.owner_id, g.created_at, ${GROUP_SETTING_COLUMNS},
  (SELECT COUNT(*) FROM group_members x WHERE x.app_id = g.app_id AND x.group_id = g.group_id) AS member_count`;

type Db = Pick<PoolClient, 'query'>;

const statementNames = new Map<string, string>();

/**
 * A named (prepared) statement: each connection parses and plans it once, then only binds and
 * runs it, which the per-message reads and the send batch do thousands of times a second. The
 * name is derived from the text, so one text always has one name.
 */
/**
 * Runs a transaction again when PostgreSQL aborted it for a deadlock or a serialization failure
 * (nothing of it was stored), a few times with a short random pause.
 */
async function retryConflicts<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if ((code !== '40P01' && code !== '40001') || attempt >= 8) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
    }
  }
}

function prepared(text: string, values: unknown[]): QueryConfig {
  let name = statementNames.get(text);
  if (!name) {
    name = `im_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

export interface PostgresOptions {
  /** postgres://user@host:port/db */
  url: string;
  /** Connections in this node's pool (all nodes together must stay under max_connections). */
  poolSize?: number;
  /** ms to wait for a connection from the pool. */
  connectTimeoutMs?: number;
  /** ms a statement may run. */
  statementTimeoutMs?: number;
  /** Counts failed statements and connection attempts (im_storage_errors_total). */
  metrics?: StorageMetrics;
}

/** Storage on PostgreSQL (`IM_DATABASE_URL`), shared by every node of a cluster. */
export class PostgresStorage implements Storage {
  readonly pool: Pool;

  private constructor(pool: Pool) {
    this.pool = pool;
  }

  /** Connects and brings the schema up to date (one transaction per migration, under a lock). */
  static async open(opts: PostgresOptions): Promise<PostgresStorage> {
    const config: PoolConfig = {
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      statement_timeout: opts.statementTimeoutMs ?? 10_000,
      types: parseTypes,
    };
    const pool = new Pool(config);
    // An idle client that loses its connection must not take the process down.
    pool.on('error', () => undefined);
    if (opts.metrics) countPgErrors(pool, opts.metrics);
    const storage = new PostgresStorage(pool);
    await storage.migrate();
    return storage;
  }

  private async migrate(): Promise<void> {
    await this.tx(async (db) => {
      // Nodes starting together migrate one at a time.
      await db.query('SELECT pg_advisory_xact_lock(424242)');
      await db.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
      const { rows } = await db.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations');
      const version = Number(rows[0].v);
      if (version > PG_MIGRATIONS.length) {
        throw new Error(`the database has schema version ${version}, newer than this server knows (${PG_MIGRATIONS.length}); upgrade comind-im-server`);
      }
      for (let i = version; i < PG_MIGRATIONS.length; i++) {
        await db.query(PG_MIGRATIONS[i]!);
        await db.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [i + 1, Date.now()]);
      }
    });
  }

  /** Runs `work` in one transaction on one connection; rolls back if it throws. */
  private async tx<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async one<T = Record<string, unknown>>(sql: string, params: unknown[] = [], db: Db = this.pool): Promise<T | undefined> {
    return (await db.query(prepared(sql, params))).rows[0] as T | undefined;
  }

  private async all<T = Record<string, unknown>>(sql: string, params: unknown[] = [], db: Db = this.pool): Promise<T[]> {
    return (await db.query(prepared(sql, params))).rows as T[];
  }

  // ------------------------------------------------------------- apps

  async getApp(appId: string): Promise<AppRecord | undefined> {
    const r = await this.one('SELECT app_id, app_secret, created_at FROM apps WHERE app_id = $1', [appId]);
    return r && { appId: r.app_id as string, appSecret: r.app_secret as string, createdAt: r.created_at as number };
  }

  async upsertApp(appId: string, appSecret: string): Promise<AppRecord> {
    await this.pool.query('INSERT INTO apps (app_id, app_secret, created_at) VALUES ($1, $2, $3) ON CONFLICT (app_id) DO UPDATE SET app_secret = excluded.app_secret', [appId, appSecret, Date.now()]);
    return (await this.getApp(appId))!;
  }

  async getDevApp(): Promise<AppRecord | undefined> {
    const r = await this.one('SELECT app_id, app_secret, created_at FROM apps WHERE is_dev LIMIT 1');
    return r && { appId: r.app_id as string, appSecret: r.app_secret as string, createdAt: r.created_at as number };
  }

  async setDevApp(appId: string): Promise<void> {
    await this.tx(async (db) => {
      await db.query('UPDATE apps SET is_dev = false WHERE is_dev');
      await db.query('UPDATE apps SET is_dev = true WHERE app_id = $1', [appId]);
    });
  }

  // ------------------------------------------------------------- users

  async getUser(appId: string, userId: string): Promise<UserRecord | undefined> {
    const r = await this.one('SELECT * FROM users WHERE app_id = $1 AND user_id = $2', [appId, userId]);
    return r && toUser(r);
  }

  async upsertUser(appId: string, userId: string, patch: UserPatch): Promise<UserRecord> {
    const now = Date.now();
    // Only what the patch names changes; a new user gets the defaults.
    const r = await this.one(
      `INSERT INTO users (app_id, user_id, user_name, user_img, company_name, im_role, valid, created_at, updated_at)
       VALUES ($1, $2, COALESCE($3, $2), COALESCE($4, ''), COALESCE($5, ''), COALESCE($6, 'user'), COALESCE($7, true), $8, $8)
       ON CONFLICT (app_id, user_id) DO UPDATE SET
         user_name = COALESCE($3, users.user_name), user_img = COALESCE($4, users.user_img),
         company_name = COALESCE($5, users.company_name), im_role = COALESCE($6, users.im_role),
         valid = COALESCE($7, users.valid), updated_at = $8
       RETURNING *`,
      [appId, userId, patch.userName ?? null, patch.userImg ?? null, patch.companyName ?? null, patch.imRole ?? null, patch.valid ?? null, now],
    );
    return toUser(r!);
  }

  async missingUsers(appId: string, userIds: string[]): Promise<string[]> {
    if (!userIds.length) return [];
    const found = new Set((await this.all<{ user_id: string }>('SELECT user_id FROM users WHERE app_id = $1 AND user_id = ANY($2)', [appId, userIds])).map((r) => r.user_id));
    return userIds.filter((id) => !found.has(id));
  }

  async latestInboxSeq(appId: string, userId: string): Promise<number> {
    return (await this.one<{ inbox_seq: number }>('SELECT inbox_seq FROM users WHERE app_id = $1 AND user_id = $2', [appId, userId]))?.inbox_seq ?? 0;
  }

  async lastSeen(appId: string, userIds: string[]): Promise<Map<string, number>> {
    if (!userIds.length) return new Map();
    const rows = await this.all<{ user_id: string; last_seen_at: number }>('SELECT user_id, last_seen_at FROM users WHERE app_id = $1 AND user_id = ANY($2) AND last_seen_at IS NOT NULL', [appId, userIds]);
    return new Map(rows.map((r) => [r.user_id, r.last_seen_at]));
  }

  async recordLastSeen(items: Array<{ appId: string; userId: string; at: number }>): Promise<void> {
    if (!items.length) return;
    // One statement for the batch. Two nodes closing at once may share a user with devices on
    // both: the rare deadlock is retried.
    await retryConflicts(() => this.pool.query(
      `UPDATE users u SET last_seen_at = GREATEST(COALESCE(u.last_seen_at, 0), v.at)
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(app_id, user_id, at)
       WHERE u.app_id = v.app_id AND u.user_id = v.user_id`,
      [items.map((i) => i.appId), items.map((i) => i.userId), items.map((i) => i.at)],
    ));
  }

  // ------------------------------------------------------------- groups

  async createGroup(appId: string, group: { groupId: string; name: string; description: string; ownerId: string }, memberIds: string[]): Promise<GroupRecord> {
    const now = Date.now();
    await this.tx(async (db) => {
      await db.query('INSERT INTO groups (app_id, group_id, name, description, owner_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [appId, group.groupId, group.name, group.description, group.ownerId, now]);
      const ids = [group.ownerId, ...memberIds.filter((id) => id !== group.ownerId)];
      const roles = ids.map((id) => (id === group.ownerId ? 'owner' : 'member'));
      await db.query(
        `INSERT INTO group_members (app_id, group_id, user_id, role, joined_at, joined_seq)
         SELECT $1, $2, u, r, $5, 0 FROM unnest($3::text[], $4::text[]) AS t(u, r) ON CONFLICT DO NOTHING`,
        [appId, group.groupId, ids, roles, now],
      );
    });
    return (await this.getGroup(appId, group.groupId))!;
  }

  async getGroup(appId: string, groupId: string): Promise<GroupRecord | undefined> {
    const r = await this.one<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM groups g WHERE g.app_id = $1 AND g.group_id = $2 AND g.dismissed_at IS NULL`, [appId, groupId]);
    return r && toGroup(r);
  }

  async groupIdTaken(appId: string, groupId: string): Promise<boolean> {
    return !!(await this.one('SELECT 1 FROM groups WHERE app_id = $1 AND group_id = $2', [appId, groupId]));
  }

  async listGroupsOf(appId: string, userId: string, page: { after?: ListCursor; limit: number }): Promise<{ items: GroupRecord[]; hasMore: boolean }> {
    const after = page.after ?? { at: Number.MAX_SAFE_INTEGER, id: '' };
    const rows = await this.all<GroupRow>(
      `SELECT ${GROUP_COLUMNS} FROM group_members gm JOIN groups g ON g.app_id = gm.app_id AND g.group_id = gm.group_id
       WHERE gm.app_id = $1 AND gm.user_id = $2 AND g.dismissed_at IS NULL AND (g.created_at < $3 OR (g.created_at = $3 AND g.group_id > $4))
       ORDER BY g.created_at DESC, g.group_id LIMIT $5`,
      [appId, userId, after.at, after.id, page.limit + 1],
    );
    return { items: rows.slice(0, page.limit).map(toGroup), hasMore: rows.length > page.limit };
  }

  async isMember(appId: string, groupId: string, userId: string): Promise<boolean> {
    return !!(await this.one('SELECT 1 FROM group_members WHERE app_id = $1 AND group_id = $2 AND user_id = $3', [appId, groupId, userId]));
  }

  async members(appId: string, groupId: string): Promise<MemberRecord[]> {
    const rows = await this.all<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM group_members gm LEFT JOIN users u ON u.app_id = gm.app_id AND u.user_id = gm.user_id
       WHERE gm.app_id = $1 AND gm.group_id = $2 ORDER BY ${MEMBER_ORDER}`,
      [appId, groupId],
    );
    const now = Date.now();
    return rows.map((r) => toMember(r, now));
  }

  async member(appId: string, groupId: string, userId: string): Promise<(MemberRecord & { joinedSeq: number }) | undefined> {
    const r = await this.one<MemberRow>(
      `SELECT ${MEMBER_COLUMNS} FROM group_members gm LEFT JOIN users u ON u.app_id = gm.app_id AND u.user_id = gm.user_id
       WHERE gm.app_id = $1 AND gm.group_id = $2 AND gm.user_id = $3`,
      [appId, groupId, userId],
    );
    return r && { ...toMember(r), joinedSeq: Number(r.joined_seq) };
  }

  /**
   * Throws GuardFailed when the guard no longer holds, in the transaction of the change it guards.
   * The actor's row is locked FOR SHARE, so a demotion waits for this transaction (or this one
   * reads the demotion once it committed); the target's FOR UPDATE, as the change writes it.
   */
  private async checkGuard(db: Db, appId: string, groupId: string, guard: ChangeGuard | undefined): Promise<void> {
    if (!guard) return;
    const role = async (userId: string, lock: 'SHARE' | 'UPDATE') =>
      (await this.one<{ role: string }>(`SELECT role FROM group_members WHERE app_id = $1 AND group_id = $2 AND user_id = $3 FOR ${lock}`, [appId, groupId, userId], db))?.role;
    const actor = await role(guard.actor, 'SHARE');
    const target = !guard.target ? undefined : guard.target.userId === guard.actor ? actor : await role(guard.target.userId, 'UPDATE');
    if (!guardHolds(guard, actor, target)) throw new GuardFailed(`the roles in group ${groupId} changed meanwhile`);
  }

  /** A role or setting change and its notice, one transaction; null (nothing written) when it changed nothing. */
  async changeGroup(appId: string, groupId: string, change: GroupSettingChange, notice: SendRequest, guard?: ChangeGuard): Promise<SendResult | null> {
    const unchanged = new Error('unchanged');
    try {
      return await retryConflicts(() =>
        this.tx(async (db) => {
          await this.checkGuard(db, appId, groupId, guard);
          const run = async (sql: string, params: unknown[]) => (await db.query(prepared(sql, [appId, groupId, ...params]))).rowCount ?? 0;
          let n: number;
          if (change.kind === 'role') {
            n = await run("UPDATE group_members SET role = $3 WHERE app_id = $1 AND group_id = $2 AND user_id = $4 AND role <> 'owner' AND role <> $3", [change.role, change.userId]);
          } else if (change.kind === 'mute') {
            n = await run("UPDATE group_members SET muted_until = $3 WHERE app_id = $1 AND group_id = $2 AND user_id = $4 AND role <> 'owner' AND muted_until <> $3", [change.mutedUntil, change.userId]);
          } else if (change.kind === 'muteAll') {
            n = await run('UPDATE groups SET mute_all = $3 WHERE app_id = $1 AND group_id = $2 AND mute_all <> $3 AND dismissed_at IS NULL', [change.muted]);
          } else if (change.kind === 'info') {
            n = await run(
              `UPDATE groups SET name = COALESCE($3, name), description = COALESCE($4, description), announcement = COALESCE($5, announcement), avatar = COALESCE($6, avatar)
               WHERE app_id = $1 AND group_id = $2 AND dismissed_at IS NULL`,
              [change.name ?? null, change.description ?? null, change.announcement ?? null, change.avatar ?? null],
            );
          } else {
            // The groups row first: its lock orders concurrent transfers. The new owner cannot be
            // muted; the old one becomes a member. Half done (the new owner gone) is undone whole.
            n =
              (await run('UPDATE groups SET owner_id = $4 WHERE app_id = $1 AND group_id = $2 AND owner_id = $3 AND dismissed_at IS NULL', [change.from, change.to])) &&
              (await run("UPDATE group_members SET role = 'owner', muted_until = 0 WHERE app_id = $1 AND group_id = $2 AND user_id = $3", [change.to])) &&
              (await run("UPDATE group_members SET role = 'member' WHERE app_id = $1 AND group_id = $2 AND user_id = $3", [change.from]));
          }
          if (!n) throw unchanged;
          const [outcome] = await this.storeBatch(db, [notice]);
          if (!outcome?.result) throw outcome?.error ?? new Error('storing the group notice failed');
          return outcome.result;
        }),
      );
    } catch (err) {
      if (err === unchanged) return null;
      throw err;
    }
  }

  async memberIds(appId: string, groupId: string): Promise<string[]> {
    return (await this.all<{ user_id: string }>('SELECT user_id FROM group_members WHERE app_id = $1 AND group_id = $2', [appId, groupId])).map((r) => r.user_id);
  }

  async joinedSeq(appId: string, groupId: string, userId: string): Promise<number | undefined> {
    return (await this.one<{ joined_seq: number }>('SELECT joined_seq FROM group_members WHERE app_id = $1 AND group_id = $2 AND user_id = $3', [appId, groupId, userId]))?.joined_seq;
  }

  async groupStates(appId: string, userId: string, afterGroupId: string, limit: number): Promise<GroupState[]> {
    const rows = await this.all<{ group_id: string; joined_seq: number; last_seq: number }>(
      `SELECT gm.group_id, gm.joined_seq, COALESCE(c.last_seq, 0) AS last_seq
       FROM group_members gm JOIN groups g ON g.app_id = gm.app_id AND g.group_id = gm.group_id AND g.dismissed_at IS NULL
       LEFT JOIN conversations c ON c.app_id = gm.app_id AND c.conv_id = 'g:' || gm.group_id
       WHERE gm.app_id = $1 AND gm.user_id = $2 AND gm.group_id > $3 ORDER BY gm.group_id LIMIT $4`,
      [appId, userId, afterGroupId, limit],
    );
    return rows.map((r) => ({ groupId: r.group_id, joinedSeq: r.joined_seq, lastSeq: r.last_seq }));
  }

  async addMembers(appId: string, groupId: string, userIds: string[]): Promise<string[]> {
    if (!userIds.length) return [];
    // A member reads the group's messages after the seq it had when they joined, and is still
    // muted if a mute from before they went runs on (taken out of group_mutes as they come back;
    // nobody who is a member has a row there, so a skipped one loses nothing).
    const rows = await this.all<{ user_id: string }>(
      `WITH held AS (
         DELETE FROM group_mutes WHERE app_id = $1 AND group_id = $2 AND user_id = ANY($3::text[]) RETURNING user_id, muted_until
       )
       INSERT INTO group_members (app_id, group_id, user_id, role, joined_at, joined_seq, muted_until)
       SELECT $1, $2, u, 'member', $4::bigint, COALESCE((SELECT last_seq FROM conversations WHERE app_id = $1 AND conv_id = 'g:' || $2), 0),
         COALESCE((SELECT h.muted_until FROM held h WHERE h.user_id = u AND h.muted_until > $4::bigint), 0)
       FROM unnest($3::text[]) AS u ON CONFLICT DO NOTHING RETURNING user_id`,
      [appId, groupId, userIds, Date.now()],
    );
    const added = new Set(rows.map((r) => r.user_id));
    return userIds.filter((id) => added.has(id));
  }

  async removeMember(appId: string, groupId: string, userId: string, guard?: ChangeGuard): Promise<boolean> {
    return retryConflicts(() =>
      this.tx(async (db) => {
        await this.checkGuard(db, appId, groupId, guard);
        const now = Date.now();
        // Ended mutes go whenever someone leaves the group: the table holds running ones only.
        await db.query(prepared('DELETE FROM group_mutes WHERE app_id = $1 AND group_id = $2 AND muted_until <= $3', [appId, groupId, now]));
        const r = await this.one<{ n: number | string }>(
          `WITH gone AS (
             DELETE FROM group_members WHERE app_id = $1 AND group_id = $2 AND user_id = $3 AND role <> 'owner' RETURNING app_id, group_id, user_id, muted_until
           ), kept AS (
             INSERT INTO group_mutes (app_id, group_id, user_id, muted_until) SELECT app_id, group_id, user_id, muted_until FROM gone WHERE muted_until > $4
             ON CONFLICT (app_id, group_id, user_id) DO UPDATE SET muted_until = excluded.muted_until
           )
           SELECT COUNT(*) AS n FROM gone`,
          [appId, groupId, userId, now],
          db,
        );
        return Number(r!.n) > 0;
      }),
    );
  }

  async dismissGroup(appId: string, groupId: string): Promise<void> {
    await this.tx(async (db) => {
      await db.query('UPDATE groups SET dismissed_at = $1 WHERE app_id = $2 AND group_id = $3', [Date.now(), appId, groupId]);
      await db.query('DELETE FROM group_members WHERE app_id = $1 AND group_id = $2', [appId, groupId]);
      await db.query('DELETE FROM group_mutes WHERE app_id = $1 AND group_id = $2', [appId, groupId]);
    });
  }

  // ------------------------------------------------------------- messages

  /**
   * The group commit. Batches of different nodes lock conversation counters and inbox counters
   * in their own order, so two can deadlock: PostgreSQL then aborts one, nothing of it is stored,
   * and it is run again (its order within itself unchanged).
   */
  async sendMessages(items: SendRequest[], outbox?: Outbox): Promise<SendOutcome[]> {
    return retryConflicts(() => this.sendBatch(items, outbox));
  }

  private async sendBatch(items: SendRequest[], outbox?: Outbox): Promise<SendOutcome[]> {
    if (!items.length) return [];
    return this.tx(async (db) => {
      const out = await this.storeBatch(db, items);
      if (outbox) await this.writeOutbox(db, items, out, outbox);
      return out;
    });
  }

  /** The queue rows of the newly stored sends, in the batch's transaction (a retried batch makes new ones). */
  private async writeOutbox(db: Db, items: SendRequest[], out: SendOutcome[], outbox: Outbox): Promise<void> {
    const rows: OutboxRow[] = [];
    out.forEach((o, i) => {
      const row = o.result && !o.result.duplicate ? outbox(items[i]!, o.result) : undefined;
      if (row) rows.push(row);
    });
    if (!rows.length) return;
    await db.query(
      `INSERT INTO webhook_events (id, app_id, event, body, attempts, next_at, created_at)
       SELECT id, app_id, event, body, 0, next_at, created_at FROM jsonb_to_recordset($1::jsonb)
         AS x(id text, app_id text, event text, body text, next_at bigint, created_at bigint)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(rows.map((r) => ({ id: r.id, app_id: r.appId, event: r.event, body: r.body, next_at: r.nextAt, created_at: r.createdAt })))],
    );
  }

  /** Stores the sends (messages or event rows) through im_send_batch on `db`, in its transaction. */
  private async storeBatch(db: Db, items: SendRequest[]): Promise<SendOutcome[]> {
    const now = Date.now();
    const batch = items.map(({ appId, msg, recipients }) => ({
      app: appId,
      id: newMessageId(),
      conv: msg.chatType === 1 ? groupConvId(msg.to) : privateConvId(msg.from, msg.to),
      client: msg.clientMsgId,
      from: msg.from,
      fromName: msg.fromName,
      to: msg.to,
      chat: msg.chatType,
      type: msg.msgType,
      content: msg.content,
      data: msg.data === null || msg.data === undefined ? null : JSON.stringify(msg.data),
      recipients: [...new Set(recipients)].sort(),
      replyTo: msg.replyTo ?? null,
      mentions: msg.mentions === undefined ? null : JSON.stringify(msg.mentions),
      event: msg.event ?? null,
      eventOf: msg.eventOf ?? null,
    }));
    {
      const rows = await this.all<{ o_outcome: string; o_seq: number; o_sender_inbox_seq: number; o_deliveries: Array<{ userId: string; inboxSeq: number }>; o_code: string; o_message: string }>(
        'SELECT * FROM im_send_batch($1, $2::jsonb)',
        [now, JSON.stringify(batch)],
        db,
      );
      const out: SendOutcome[] = [];
      for (let i = 0; i < items.length; i++) {
        const row = rows[i];
        const { msg, appId } = items[i]!;
        const b = batch[i]!;
        if (row?.o_outcome === 'stored') {
          const message: StoredMessage = { messageId: b.id, clientMsgId: msg.clientMsgId, from: msg.from, fromName: msg.fromName, to: msg.to, content: msg.content, chatType: msg.chatType, msgType: msg.msgType, timestamp: now, data: msg.data ?? null, seq: row.o_seq };
          if (msg.replyTo) message.replyToId = msg.replyTo;
          if (msg.mentions !== undefined) message.mentions = msg.mentions;
          if (msg.event) Object.assign(message, { event: msg.event, eventOf: msg.eventOf });
          out.push({ result: { message, senderInboxSeq: row.o_sender_inbox_seq, deliveries: row.o_deliveries, duplicate: false } });
          continue;
        }
        if (row?.o_outcome === 'duplicate') {
          // A repeat of a stored clientMsgId (a concurrent retry): the answer is the stored message.
          const existing = await this.findByClientIdIn(db, appId, msg.from, msg.clientMsgId);
          if (existing) {
            const { senderInboxSeq, ...message } = existing;
            out.push({ result: { message, senderInboxSeq, deliveries: [], duplicate: true } });
            continue;
          }
        }
        const error = Object.assign(new Error(row ? `storing the message failed: ${row.o_message}` : 'storing the message failed: no outcome'), { code: row?.o_code, severity: 'ERROR' });
        out.push({ error });
      }
      return out;
    }
  }

  async applyMessageEvent(appId: string, req: MessageEventRequest): Promise<SendResult | null> {
    return retryConflicts(() =>
      this.tx(async (db) => {
        const now = Date.now();
        const t = req.target;
        const data = req.data === null || req.data === undefined ? null : JSON.stringify(req.data);
        const changed = req.kind === 'revoke' ? await db.query(prepared(REVOKE_SQL, [req.by, now, appId, t.messageId])) : await db.query(prepared(EDIT_SQL, [req.content ?? '', data, now, appId, t.messageId]));
        if (!changed.rowCount) return null;
        const [outcome] = await this.storeBatch(db, [{ appId, msg: eventRow(req), recipients: req.recipients }]);
        if (!outcome?.result) throw outcome?.error ?? new Error('storing the event failed');
        return outcome.result;
      }),
    );
  }

  async findByClientId(appId: string, from: string, clientMsgId: string): Promise<(StoredMessage & { senderInboxSeq: number }) | undefined> {
    return this.findByClientIdIn(this.pool, appId, from, clientMsgId);
  }

  private async findByClientIdIn(db: Db, appId: string, from: string, clientMsgId: string): Promise<(StoredMessage & { senderInboxSeq: number }) | undefined> {
    const r = await this.one<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = $1 AND m.from_id = $2 AND m.client_msg_id = $3`, [appId, from, clientMsgId], db);
    return r && { ...toMessage(r), senderInboxSeq: r.sender_inbox_seq };
  }

  async getMessage(appId: string, messageId: string): Promise<StoredMessage | undefined> {
    const r = await this.one<MessageRow>(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = $1 AND m.message_id = $2`, [appId, messageId]);
    return r && toMessage(r);
  }

  async inboxAfter(appId: string, userId: string, afterInboxSeq: number, limit: number): Promise<StoredMessage[]> {
    if (limit < 1) return [];
    const rows = await this.all<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS}, i.inbox_seq FROM inbox i JOIN messages m ON m.app_id = i.app_id AND m.message_id = i.message_id
       WHERE i.app_id = $1 AND i.user_id = $2 AND i.inbox_seq > $3 ORDER BY i.inbox_seq LIMIT $4`,
      [appId, userId, afterInboxSeq, limit],
    );
    return rows.map(toMessage);
  }

  async history(appId: string, convId: string, direction: 'BACK' | 'FORWARD', fromSeq: number, limit: number, withEvents = false): Promise<StoredMessage[]> {
    const rows =
      direction === 'BACK'
        ? await this.all<MessageRow>(
            `SELECT * FROM (SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = $1 AND m.conv_id = $2 AND m.seq < $3 AND m.event IS NULL ORDER BY m.seq DESC LIMIT $4) t ORDER BY seq`,
            [appId, convId, fromSeq === 0 ? Number.MAX_SAFE_INTEGER : fromSeq, limit],
          )
        : await this.all<MessageRow>(
            `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.app_id = $1 AND m.conv_id = $2 AND m.seq > $3${withEvents ? '' : ' AND m.event IS NULL'} ORDER BY m.seq LIMIT $4`,
            [appId, convId, fromSeq, limit],
          );
    return rows.map(toMessage);
  }

  // ------------------------------------------------------------- conversations

  async conversations(appId: string, userId: string, page: { after?: ConversationCursor; limit: number }): Promise<{ items: ConversationRecord[]; hasMore: boolean }> {
    const after = page.after ? { pinned: page.after.pinned ? 1 : 0, at: page.after.at, id: page.after.id } : { pinned: 2, at: Number.MAX_SAFE_INTEGER, id: '' };
    // Paged in SQL (storage/conversation-lists.ts); the counts for the page's conversations only.
    const heads = await this.all<ConversationHead>(PG_CONVERSATIONS.page, [appId, userId, after.pinned, after.at, after.id, page.limit + 1]);
    const items: ConversationRecord[] = [];
    for (const h of heads.slice(0, page.limit)) items.push(await this.withCounts(appId, userId, h));
    return { items, hasMore: heads.length > page.limit };
  }

  private async withCounts(appId: string, userId: string, h: ConversationHead): Promise<ConversationRecord> {
    const [counts, lastMessage] = await Promise.all([
      this.one<{ n: number; hit: boolean; peer: number | null }>(PG_CONVERSATIONS.counts, [appId, h.conv_id, unreadAfter(h), userId, mentionPattern(userId), h.chat_type === 0 ? h.target_id : null]),
      h.last_message_id ? this.getMessage(appId, h.last_message_id) : undefined,
    ]);
    return toConversation(h, {
      unreadCount: Number(counts!.n),
      mentionedMe: counts!.hit,
      // How far the other side has read: lets a client show "read" without having seen the receipt.
      peerReadSeq: h.chat_type === 0 ? Number(counts!.peer ?? 0) : null,
      lastMessage: lastMessage ?? null,
    });
  }

  /** One head by conversation id ('p:…' or 'g:<groupId>'), listed or not. */
  private head(appId: string, userId: string, convId: string): Promise<ConversationHead | undefined> {
    const group = convId.startsWith('g:');
    return this.one<ConversationHead>(group ? PG_CONVERSATIONS.groupHead : PG_CONVERSATIONS.privateHead, [appId, userId, group ? convId.slice(2) : convId]);
  }

  async conversation(appId: string, userId: string, chatType: 0 | 1, targetId: string): Promise<(ConversationRecord & { listed: boolean }) | undefined> {
    const h = await this.head(appId, userId, chatType === 1 ? groupConvId(targetId) : privateConvId(userId, targetId));
    return h && { ...(await this.withCounts(appId, userId, h)), listed: h.listed === 1 };
  }

  async conversationSettings(appId: string, userId: string, convId: string): Promise<{ pinned: boolean; muted: boolean }> {
    const r = await this.one<{ pinned: boolean; muted: boolean }>(PG_CONVERSATIONS.settings, [appId, userId, convId]);
    return { pinned: r?.pinned === true, muted: r?.muted === true };
  }

  async setConversationSetting(appId: string, userId: string, convId: string, setting: 'pinned' | 'muted', on: boolean): Promise<void> {
    await this.pool.query(prepared(setting === 'pinned' ? PG_CONVERSATIONS.setPinned : PG_CONVERSATIONS.setMuted, [appId, userId, convId, on]));
  }

  async hideConversation(appId: string, userId: string, convId: string): Promise<void> {
    await this.pool.query(prepared(PG_CONVERSATIONS.hide, [appId, userId, convId]));
  }

  async totalUnread(appId: string, userId: string): Promise<number> {
    return Number((await this.one<{ total: number | string }>(PG_CONVERSATIONS.total, [appId, userId]))!.total);
  }

  private async unreadOf(appId: string, userId: string, convId: string): Promise<number> {
    const h = await this.head(appId, userId, convId);
    return h ? Number((await this.one<{ n: number }>(PG_CONVERSATIONS.unread, [appId, convId, unreadAfter(h), userId]))!.n) : 0;
  }

  private async setRead(db: Db, appId: string, userId: string, convId: string, seq: number): Promise<void> {
    await db.query(
      `INSERT INTO read_state (app_id, user_id, conv_id, read_seq) VALUES ($1, $2, $3, $4)
       ON CONFLICT (app_id, user_id, conv_id) DO UPDATE SET read_seq = GREATEST(read_state.read_seq, excluded.read_seq)`,
      [appId, userId, convId, seq],
    );
  }

  async markRead(appId: string, userId: string, convId: string, seq: number | undefined): Promise<{ readSeq: number; unreadCount: number }> {
    const last = await this.lastSeq(appId, convId);
    await this.setRead(this.pool, appId, userId, convId, Math.min(seq ?? last, last));
    const readSeq = (await this.one<{ read_seq: number }>('SELECT read_seq FROM read_state WHERE app_id = $1 AND user_id = $2 AND conv_id = $3', [appId, userId, convId]))!.read_seq;
    return { readSeq, unreadCount: await this.unreadOf(appId, userId, convId) };
  }

  async markReadMany(appId: string, userId: string, marks: Array<{ convId: string; seq: number }>): Promise<void> {
    if (!marks.length) return;
    await this.tx(async (db) => {
      for (const m of marks) await this.setRead(db, appId, userId, m.convId, m.seq);
    });
  }

  async createFile(appId: string, f: FileRecord): Promise<void> {
    await this.pool.query(
      prepared('INSERT INTO files (app_id, file_id, owner_id, kind, mime, size, name, width, height, thumb_mime, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', [
        appId, f.fileId, f.ownerId, f.kind, f.mime, f.size, f.name, f.width ?? null, f.height ?? null, f.thumbMime ?? null, f.createdAt,
      ]),
    );
  }

  async markFileAttached(appId: string, fileId: string): Promise<void> {
    await this.pool.query(prepared('UPDATE files SET attached_at = $1 WHERE app_id = $2 AND file_id = $3 AND attached_at IS NULL', [Date.now(), appId, fileId]));
  }

  async unattachedFiles(before: number, limit: number): Promise<Array<{ appId: string; file: FileRecord }>> {
    const rows = await this.all('SELECT * FROM files WHERE attached_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2', [before, limit]);
    return rows.map((r) => ({ appId: r.app_id as string, file: toFile(r) }));
  }

  async deleteUnattachedFile(appId: string, fileId: string): Promise<boolean> {
    const r = await this.pool.query(prepared('DELETE FROM files WHERE app_id = $1 AND file_id = $2 AND attached_at IS NULL', [appId, fileId]));
    return (r.rowCount ?? 0) > 0;
  }

  async getFile(appId: string, fileId: string): Promise<FileRecord | undefined> {
    const r = await this.one('SELECT * FROM files WHERE app_id = $1 AND file_id = $2', [appId, fileId]);
    return r && toFile(r);
  }

  async lastSeq(appId: string, convId: string): Promise<number> {
    return (await this.one<{ last_seq: number }>('SELECT last_seq FROM conversations WHERE app_id = $1 AND conv_id = $2', [appId, convId]))?.last_seq ?? 0;
  }

  // ------------------------------------------------------------- group read receipts (storage/group-reads.ts)

  async groupReadTargets(appId: string, groupId: string, messageIds: string[]): Promise<ReadTarget[]> {
    return (await this.all<{ message_id: string; seq: number; from_id: string }>(PG_READ_TARGETS, [appId, groupConvId(groupId), messageIds])).map(toReadTarget);
  }

  async groupReadCounts(appId: string, groupId: string, targets: ReadTarget[]): Promise<ReadCount[]> {
    if (!targets.length) return [];
    const min = Math.min(...targets.map((t) => t.seq));
    const rows = await this.all<ReadStatRow>(PG_READ_STATS, [appId, groupId, groupConvId(groupId), min, [...new Set(targets.map((t) => t.from))]]);
    return countReads(targets, rows);
  }

  async groupReadMembers(appId: string, groupId: string, target: ReadTarget, filter: 'read' | 'unread', page: { after?: string; limit: number }): Promise<{ items: MemberRecord[]; hasMore: boolean }> {
    const rows = await this.all<MemberRow>(pgReadMembersSql(filter, MEMBER_COLUMNS), [appId, groupId, groupConvId(groupId), target.seq, target.from, page.after ?? '', page.limit + 1]);
    const now = Date.now();
    return { items: rows.slice(0, page.limit).map((r) => toMember(r, now)), hasMore: rows.length > page.limit };
  }

  // ------------------------------------------------------------- the server REST API's lists (storage/admin-queries.ts)

  async searchUsers(appId: string, page: AppListPage): Promise<{ items: UserRecord[]; hasMore: boolean }> {
    const rows = await this.all(PG_ADMIN.users, [appId, page.after ?? '', page.query ?? null, page.limit + 1]);
    return { items: rows.slice(0, page.limit).map(toUser), hasMore: rows.length > page.limit };
  }

  async upsertUsers(appId: string, users: Array<{ userId: string; patch: UserPatch }>): Promise<void> {
    if (!users.length) return;
    const column = <T>(pick: (p: UserPatch) => T | undefined) => users.map((u) => pick(u.patch) ?? null);
    const params = [appId, users.map((u) => u.userId), column((p) => p.userName), column((p) => p.userImg), column((p) => p.companyName), column((p) => p.imRole), column((p) => p.valid), Date.now()];
    // Two imports sharing users lock their rows in their own orders: a deadlock is retried.
    await retryConflicts(() =>
      this.tx(async (db) => {
        await db.query(prepared(PG_ADMIN.usersInsert, params));
        await db.query(prepared(PG_ADMIN.usersPatch, params));
      }),
    );
  }

  async listGroupsOfApp(appId: string, page: AppListPage): Promise<{ items: GroupRecord[]; hasMore: boolean }> {
    const rows = await this.all<GroupRow>(PG_ADMIN.groups, [appId, page.after ?? '', page.query ?? null, page.limit + 1]);
    return { items: rows.slice(0, page.limit).map(toGroup), hasMore: rows.length > page.limit };
  }

  async membersPage(appId: string, groupId: string, page: { after?: string; limit: number }): Promise<{ items: MemberRecord[]; hasMore: boolean }> {
    const rows = await this.all<MemberRow>(PG_ADMIN.members, [appId, groupId, page.after ?? '', page.limit + 1]);
    const now = Date.now();
    return { items: rows.slice(0, page.limit).map((r) => toMember(r, now)), hasMore: rows.length > page.limit };
  }

  // ------------------------------------------------------------- operator tokens

  async revokeOperatorToken(appId: string, jti: string, expiresAt: number): Promise<void> {
    // One statement: the prune rides along with the rare sign-out, and needs no timer of its own.
    await this.pool.query(
      prepared(
        `WITH pruned AS (DELETE FROM operator_revocations WHERE expires_at < $4)
         INSERT INTO operator_revocations (app_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT (app_id, jti) DO NOTHING`,
        [appId, jti, expiresAt, Date.now()],
      ),
    );
  }

  async revokeOperatorTokens(appId: string): Promise<number> {
    const r = await this.one<{ generation: number }>(
      `INSERT INTO operator_generations (app_id, generation, updated_at) VALUES ($1, 1, $2)
       ON CONFLICT (app_id) DO UPDATE SET generation = operator_generations.generation + 1, updated_at = excluded.updated_at
       RETURNING generation`,
      [appId, Date.now()],
    );
    return r!.generation;
  }

  async operatorTokenState(appId: string, jti: string | null): Promise<OperatorTokenState> {
    const r = await this.one<{ revoked: boolean; generation: number }>(
      `SELECT EXISTS (SELECT 1 FROM operator_revocations WHERE app_id = $1 AND jti = $2) AS revoked,
         COALESCE((SELECT generation FROM operator_generations WHERE app_id = $1), 0) AS generation`,
      [appId, jti],
    );
    return { revoked: r!.revoked, generation: r!.generation };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A unique-constraint violation (23505) of the named constraint. */
function isConstraint(err: unknown, name: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown };
  return e?.code === '23505' && e.constraint === name;
}
