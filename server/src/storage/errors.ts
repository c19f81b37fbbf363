/**
 * A database failure as the layers above storage see it: whether trying again may help, and
 * whether it was a conflict (a constraint: that one write is refused, the transaction is fine).
 * The realtime and HTTP layers decide on these flags, never on a driver's codes.
 */
export class StorageError extends Error {
  override name = 'StorageError';
  /** Trying again later may succeed (busy, locked, I/O, a full disk being freed). */
  readonly retryable: boolean;
  /** A constraint refused this write; the rest of the transaction is intact. */
  readonly conflict: boolean;
  /** The whole transaction may be lost (not just the failed statement's savepoint). */
  readonly endsTransaction: boolean;
  /** The driver's own error. */
  readonly driverError: unknown;

  constructor(message: string, flags: { retryable: boolean; conflict: boolean; endsTransaction?: boolean; cause?: unknown }) {
    super(message);
    this.retryable = flags.retryable;
    this.conflict = flags.conflict;
    this.endsTransaction = flags.endsTransaction ?? !flags.conflict;
    this.driverError = flags.cause;
  }
}

/** A change's ChangeGuard no longer held inside its transaction: nothing was written. */
export class GuardFailed extends Error {
  override name = 'GuardFailed';
}

/**
 * The StorageError of a driver's error, or undefined for anything that is not a database error
 * (a bug, an ApiError). SQLite's extended codes here; other drivers add theirs.
 */
export function storageErrorOf(err: unknown): StorageError | undefined {
  if (err instanceof StorageError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code.startsWith('SQLITE_')) {
    const conflict = code.startsWith('SQLITE_CONSTRAINT');
    const retryable = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|PROTOCOL)/.test(code);
    return new StorageError(`storage: ${(err as Error).message}`, { retryable, conflict, cause: err });
  }
  // PostgreSQL's SQLSTATE (five characters, set by pg on its DatabaseError).
  if (/^[0-9A-Z]{5}$/.test(code) && (err as { severity?: unknown }).severity !== undefined) {
    const conflict = code.startsWith('23');
    // Serialization failure, deadlock, lack of resources, shutdown, lost connection.
    const retryable = code === '40001' || code === '40P01' || code.startsWith('53') || code.startsWith('57P') || code.startsWith('08');
    // After ROLLBACK TO SAVEPOINT a failed statement (bad data, a constraint) leaves the
    // transaction usable; only these, and internal errors, lose it.
    const endsTransaction = retryable || code.startsWith('XX');
    return new StorageError(`storage: ${(err as Error).message}`, { retryable, conflict, endsTransaction, cause: err });
  }
  return undefined;
}

/** True for a failure that may have ended the whole transaction (not just one write's savepoint). */
export function endsTransaction(err: unknown): boolean {
  const e = storageErrorOf(err);
  return !!e && e.endsTransaction;
}
