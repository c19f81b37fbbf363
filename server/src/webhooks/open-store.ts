import { PostgresStorage } from '../storage/postgres';
import { SqliteStorage } from '../storage/sqlite';
import type { Storage } from '../storage/types';
import { PostgresWebhookStore } from './postgres-store';
import { SqliteWebhookStore } from './sqlite-store';
import type { WebhookStore } from './store';

/** The webhook tables of the server's own database; undefined for a storage of another kind. */
export function webhookStoreFor(storage: Storage): WebhookStore | undefined {
  if (storage instanceof SqliteStorage) return new SqliteWebhookStore(storage.db);
  if (storage instanceof PostgresStorage) return new PostgresWebhookStore(storage.pool);
  return undefined;
}
