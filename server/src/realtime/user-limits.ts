import { TokenBucket } from './rate-limit';

/** How long a user's bucket outlives their last socket: reconnecting must not refill the burst. */
const KEEP_IDLE_MS = 60_000;

interface UserEntry {
  bucket: TokenBucket;
  sockets: number;
  idleSince: number;
}

/**
 * Limits per user, across all of that user's sockets on this node: one token bucket for the
 * events they send, and a cap on how many sockets they hold. (Across nodes this moves to Redis.)
 */
export class UserLimits {
  private readonly users = new Map<string, UserEntry>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxSockets: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(), KEEP_IDLE_MS / 2);
    this.sweeper.unref();
  }

  /** Counts a new socket of `user` in; false (nothing counted) when the user is at the cap. */
  admit(user: string): boolean {
    const entry = this.entry(user);
    if (entry.sockets >= this.maxSockets) return false;
    entry.sockets++;
    return true;
  }

  release(user: string): void {
    const entry = this.users.get(user);
    if (!entry) return;
    entry.sockets = Math.max(0, entry.sockets - 1);
    if (entry.sockets === 0) entry.idleSince = Date.now();
  }

  /** The user's shared bucket. */
  bucket(user: string): TokenBucket {
    return this.entry(user).bucket;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private entry(user: string): UserEntry {
    let entry = this.users.get(user);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.rate, this.burst), sockets: 0, idleSince: Date.now() };
      this.users.set(user, entry);
    }
    return entry;
  }

  private sweep(): void {
    const cutoff = Date.now() - KEEP_IDLE_MS;
    for (const [user, e] of this.users) if (e.sockets === 0 && e.idleSince < cutoff) this.users.delete(user);
  }
}
