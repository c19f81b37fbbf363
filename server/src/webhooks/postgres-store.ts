import type { Pool } from 'pg';
import { clip, toConfig, toEvent, type ConfigRow, type EventRow, type NewQueuedEvent, type WebhookStore } from './store';
import type { QueuedEvent, WebhookConfig } from './types';

/**
 * The webhook tables on PostgreSQL, shared by every node: a claim locks its rows with
 * FOR UPDATE SKIP LOCKED and moves them out of sight for the lease, so nodes claiming at the same
 * moment take different events and never wait for each other.
 */
export class PostgresWebhookStore implements WebhookStore {
  constructor(private readonly pool: Pool) {}

  async getConfig(appId: string): Promise<WebhookConfig | undefined> {
    const { rows } = await this.pool.query<ConfigRow>('SELECT * FROM webhooks WHERE app_id = $1', [appId]);
    return rows[0] ? toConfig(rows[0]) : undefined;
  }

  async putConfig(c: WebhookConfig): Promise<void> {
    await this.pool.query(
      `INSERT INTO webhooks (app_id, url, secret, events, before_timeout_ms, before_on_timeout, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (app_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events,
         before_timeout_ms = excluded.before_timeout_ms, before_on_timeout = excluded.before_on_timeout, updated_at = excluded.updated_at`,
      [c.appId, c.url, c.secret, JSON.stringify(c.events), c.beforeSend.timeoutMs, c.beforeSend.onTimeout, c.updatedAt],
    );
  }

  async deleteConfig(appId: string): Promise<boolean> {
    // One statement, so the events go with the configuration or not at all.
    const { rows } = await this.pool.query<{ n: string }>(
      `WITH gone AS (DELETE FROM webhook_events WHERE app_id = $1), cfg AS (DELETE FROM webhooks WHERE app_id = $1 RETURNING 1)
       SELECT COUNT(*) AS n FROM cfg`,
      [appId],
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  async enqueue(events: NewQueuedEvent[]): Promise<void> {
    if (!events.length) return;
    await this.pool.query(
      `INSERT INTO webhook_events (id, app_id, event, body, attempts, next_at, created_at)
       SELECT id, app_id, event, body, 0, created_at, created_at FROM jsonb_to_recordset($1::jsonb)
         AS x(id text, app_id text, event text, body text, created_at bigint)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(events.map((e) => ({ id: e.id, app_id: e.appId, event: e.event, body: e.body, created_at: e.createdAt })))],
    );
  }

  async claim(now: number, limit: number, leaseUntil: number, skipApps: readonly string[] = []): Promise<QueuedEvent[]> {
    const { rows } = await this.pool.query<EventRow>(
      `UPDATE webhook_events e SET next_at = $2
       FROM (SELECT id FROM webhook_events WHERE next_at <= $1 AND NOT (app_id = ANY($4::text[])) ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
       WHERE e.id = due.id
       RETURNING e.id, e.app_id, e.event, e.body, e.attempts, e.created_at`,
      [now, leaseUntil, limit, skipApps],
    );
    return rows.map(toEvent);
  }

  async release(id: string, body: string, heldUntil: number, nextAt: number): Promise<void> {
    await this.pool.query('UPDATE webhook_events SET body = $2, next_at = $4 WHERE id = $1 AND next_at = $3 AND attempts = 0', [id, body, heldUntil, nextAt]);
  }

  async remove(id: string): Promise<void> {
    await this.pool.query('DELETE FROM webhook_events WHERE id = $1', [id]);
  }

  async retryAt(id: string, attempts: number, nextAt: number, lastError: string): Promise<void> {
    await this.pool.query('UPDATE webhook_events SET attempts = $2, next_at = $3, last_error = $4 WHERE id = $1', [id, attempts, nextAt, clip(lastError)]);
  }

  async pendingCount(appId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM webhook_events WHERE app_id = $1', [appId]);
    return Number(rows[0]?.n ?? 0);
  }

  async recordReplacement(appId: string, userId: string, clientMsgId: string, digest: string, at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO webhook_replacements (app_id, user_id, client_msg_id, digest, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (app_id, user_id, client_msg_id) DO UPDATE SET digest = excluded.digest, created_at = excluded.created_at`,
      [appId, userId, clientMsgId, digest, at],
    );
  }

  async replacementDigest(appId: string, userId: string, clientMsgId: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ digest: string }>('SELECT digest FROM webhook_replacements WHERE app_id = $1 AND user_id = $2 AND client_msg_id = $3', [appId, userId, clientMsgId]);
    return rows[0]?.digest;
  }

  async pruneReplacements(before: number): Promise<void> {
    await this.pool.query('DELETE FROM webhook_replacements WHERE created_at < $1', [before]);
  }
}
