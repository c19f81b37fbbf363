import type { Pool, PoolClient } from 'pg';
import { storageErrorOf } from '../storage/errors';
import type { Metrics } from './metrics';

export type StorageMetrics = Pick<Metrics, 'storageError'>;

/**
 * How a failure counts in im_storage_errors_total: undefined for what is no database failure (a
 * bug, a guard that no longer held) and for a constraint conflict (the storage's answer to a race,
 * handled where it happens). `fromDriver`: the error came out of the driver itself, so one without
 * a SQL code is a connection failure (refused, reset, timed out), which trying again may cure.
 */
export function storageFailureKind(err: unknown, fromDriver = false): 'retryable' | 'fatal' | undefined {
  const e = storageErrorOf(err);
  if (!e) return fromDriver && err instanceof Error ? 'retryable' : undefined;
  if (e.conflict) return undefined;
  return e.retryable ? 'retryable' : 'fatal';
}

type Callback = (err: unknown, ...rest: unknown[]) => void;

/**
 * Counts the failures of every statement and every connection attempt of a PostgreSQL pool, the
 * pool's own queries and those of checked-out clients alike, without touching the call sites: the
 * pool's connect and each new client's query report failures on their way back.
 */
export function countPgErrors(pool: Pool, metrics: StorageMetrics): void {
  const failed = (err: unknown) => {
    const kind = storageFailureKind(err, true);
    if (kind) metrics.storageError(kind);
  };
  const connect = pool.connect.bind(pool) as (cb?: Callback) => unknown;
  (pool as unknown as { connect: (cb?: Callback) => unknown }).connect = (cb?: Callback) => {
    if (cb) {
      return connect((err, ...rest) => {
        if (err) failed(err);
        cb(err, ...rest);
      });
    }
    const p = connect() as Promise<PoolClient>;
    p.then(undefined, failed);
    return p;
  };
  pool.on('connect', (client: PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        args[args.length - 1] = (err: unknown, ...rest: unknown[]) => {
          if (err) failed(err);
          (last as Callback)(err, ...rest);
        };
        return query(...args);
      }
      const r = query(...args);
      // A promise here (a submittable such as a cursor reports on its own).
      if (r instanceof Promise) r.then(undefined, failed);
      return r;
    };
  });
}
