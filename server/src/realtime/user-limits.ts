import { TokenBucket } from './rate-limit';

/** How long a user's bucket outlives their last socket: reconnecting must not refill the burst. */
const KEEP_IDLE_MS = 60_000;

/** A user's event budget, shared by all of their sockets. */
export interface RateBucket {
  /** Takes `n` tokens; resolves 0 when allowed, else the ms until they are available (nothing taken). */
  take(n?: number): Promise<number>;
  /** Charges `n` tokens for work already done (see TokenBucket.charge). */
  charge(n: number): void;
}

/** Per-user limits: a socket cap and one rate bucket, over all of the user's sockets. */
export interface UserLimits {
  /** Counts socket `socketId` of `user` in; false (nothing counted) when the user is at the cap. */
  admit(user: string, socketId: string): Promise<boolean>;
  release(user: string, socketId: string): void;
  bucket(user: string): RateBucket;
  close(): void;
}

interface UserEntry {
  bucket: TokenBucket;
  rateBucket: RateBucket;
  sockets: Set<string>;
  idleSince: number;
}

/** The limits of one node, in memory: what a single process (or a node whose Redis is down) enforces. */
export class LocalUserLimits implements UserLimits {
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

  admit(user: string, socketId: string): Promise<boolean> {
    return Promise.resolve(this.admitNow(user, socketId));
  }

  admitNow(user: string, socketId: string): boolean {
    const entry = this.entry(user);
    if (entry.sockets.has(socketId)) return true;
    if (entry.sockets.size >= this.maxSockets) return false;
    entry.sockets.add(socketId);
    return true;
  }

  release(user: string, socketId: string): void {
    const entry = this.users.get(user);
    if (!entry?.sockets.delete(socketId)) return;
    if (entry.sockets.size === 0) entry.idleSince = Date.now();
  }

  bucket(user: string): RateBucket {
    return this.entry(user).rateBucket;
  }

  /** The bucket itself, for callers that need an answer in the same tick. */
  tokenBucket(user: string): TokenBucket {
    return this.entry(user).bucket;
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  private entry(user: string): UserEntry {
    let entry = this.users.get(user);
    if (!entry) {
      const bucket = new TokenBucket(this.rate, this.burst);
      const rateBucket: RateBucket = { take: (n = 1) => Promise.resolve(bucket.take(n)), charge: (n) => bucket.charge(n) };
      entry = { bucket, rateBucket, sockets: new Set(), idleSince: Date.now() };
      this.users.set(user, entry);
    }
    return entry;
  }

  private sweep(): void {
    const cutoff = Date.now() - KEEP_IDLE_MS;
    for (const [user, e] of this.users) if (e.sockets.size === 0 && e.idleSince < cutoff) this.users.delete(user);
  }
}
