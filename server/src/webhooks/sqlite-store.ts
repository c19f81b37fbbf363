import type Database from 'better-sqlite3';
import { clip, toConfig, toEvent, type ConfigRow, type EventRow, type NewQueuedEvent, type WebhookStore } from './store';
import type { QueuedEvent, WebhookConfig } from './types';

/** The webhook tables on the server's SQLite database (one node: it alone claims events). */
export class SqliteWebhookStore implements WebhookStore {
  private readonly s: Record<string, Database.Statement>;
  private readonly insertMany: (events: NewQueuedEvent[]) => void;
  private readonly dropApp: (appId: string) => boolean;

  constructor(private readonly db: Database.Database) {
    this.s = {
      get: db.prepare('SELECT * FROM webhooks WHERE app_id = ?'),
      put: db.prepare(`INSERT INTO webhooks (app_id, url, secret, events, before_timeout_ms, before_on_timeout, updated_at)
        VALUES (@appId, @url, @secret, @events, @timeoutMs, @onTimeout, @updatedAt)
        ON CONFLICT (app_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events,
          before_timeout_ms = excluded.before_timeout_ms, before_on_timeout = excluded.before_on_timeout, updated_at = excluded.updated_at`),
      delete: db.prepare('DELETE FROM webhooks WHERE app_id = ?'),
      deleteEvents: db.prepare('DELETE FROM webhook_events WHERE app_id = ?'),
      insert: db.prepare('INSERT OR IGNORE INTO webhook_events (id, app_id, event, body, attempts, next_at, created_at) VALUES (?, ?, ?, ?, 0, ?, ?)'),
      claim: db.prepare(`UPDATE webhook_events SET next_at = @lease
        WHERE id IN (SELECT id FROM webhook_events WHERE next_at <= @now AND app_id NOT IN (SELECT value FROM json_each(@skip)) ORDER BY next_at LIMIT @limit)
        RETURNING id, app_id, event, body, attempts, created_at`),
      remove: db.prepare('DELETE FROM webhook_events WHERE id = ?'),
      release: db.prepare('UPDATE webhook_events SET body = ?, next_at = ? WHERE id = ? AND next_at = ? AND attempts = 0'),
      retry: db.prepare('UPDATE webhook_events SET attempts = ?, next_at = ?, last_error = ? WHERE id = ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM webhook_events WHERE app_id = ?'),
      replace: db.prepare('INSERT OR REPLACE INTO webhook_replacements (app_id, user_id, client_msg_id, digest, created_at) VALUES (?, ?, ?, ?, ?)'),
      digest: db.prepare('SELECT digest FROM webhook_replacements WHERE app_id = ? AND user_id = ? AND client_msg_id = ?'),
      prune: db.prepare('DELETE FROM webhook_replacements WHERE created_at < ?'),
    };
    this.insertMany = db.transaction((events: NewQueuedEvent[]) => {
      for (const e of events) this.s.insert!.run(e.id, e.appId, e.event, e.body, e.createdAt, e.createdAt);
    });
    this.dropApp = db.transaction((appId: string) => {
      this.s.deleteEvents!.run(appId);
      return this.s.delete!.run(appId).changes > 0;
    });
  }

  async getConfig(appId: string): Promise<WebhookConfig | undefined> {
    const row = this.s.get!.get(appId) as ConfigRow | undefined;
    return row ? toConfig(row) : undefined;
  }

  async putConfig(c: WebhookConfig): Promise<void> {
    this.s.put!.run({ appId: c.appId, url: c.url, secret: c.secret, events: JSON.stringify(c.events), timeoutMs: c.beforeSend.timeoutMs, onTimeout: c.beforeSend.onTimeout, updatedAt: c.updatedAt });
  }

  async deleteConfig(appId: string): Promise<boolean> {
    return this.dropApp(appId);
  }

  async enqueue(events: NewQueuedEvent[]): Promise<void> {
    if (events.length) this.insertMany(events);
  }

  async claim(now: number, limit: number, leaseUntil: number, skipApps: readonly string[] = []): Promise<QueuedEvent[]> {
    return (this.s.claim!.all({ now, limit, lease: leaseUntil, skip: JSON.stringify(skipApps) }) as EventRow[]).map(toEvent);
  }

  async release(id: string, body: string, heldUntil: number, nextAt: number): Promise<void> {
    this.s.release!.run(body, nextAt, id, heldUntil);
  }

  async remove(id: string): Promise<void> {
    this.s.remove!.run(id);
  }

  async retryAt(id: string, attempts: number, nextAt: number, lastError: string): Promise<void> {
    this.s.retry!.run(attempts, nextAt, clip(lastError), id);
  }

  async pendingCount(appId: string): Promise<number> {
    return (this.s.count!.get(appId) as { n: number }).n;
  }

  async recordReplacement(appId: string, userId: string, clientMsgId: string, digest: string, at: number): Promise<void> {
    this.s.replace!.run(appId, userId, clientMsgId, digest, at);
  }

  async replacementDigest(appId: string, userId: string, clientMsgId: string): Promise<string | undefined> {
    return (this.s.digest!.get(appId, userId, clientMsgId) as { digest: string } | undefined)?.digest;
  }

  async pruneReplacements(before: number): Promise<void> {
    this.s.prune!.run(before);
  }
}
