import Redis from 'ioredis';
import { LocalUserLimits, type RateBucket, type UserLimits } from './user-limits';

/**
 * A socket's entry in its user's Redis set lives this long unless its node renews it: a node killed
 * with its sockets open frees their places within this time.
 */
const SOCKET_TTL_MS = 60_000;
const RENEW_MS = SOCKET_TTL_MS / 3;
const RENEW_CHUNK = 200;
/** A limit check that waits longer than this is answered locally: Redis must never stall chat. */
const COMMAND_TIMEOUT_MS = 1_000;

/*
 * The scripts run atomically in Redis and read its clock (TIME), so nodes whose clocks differ
 * still share one bucket. A bucket is a hash {t: tokens, ts: last refill in ms}; a user's sockets a
 * sorted set of socket id → expiry.
 */
const TAKE = `
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local rate, burst, n, force = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == '1'
local v = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(v[1]) or burst
local last = tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) / 1000 * rate)
local wait = 0
if force or tokens >= n then tokens = tokens - n else wait = math.ceil((n - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return wait`;

const ADMIT = `
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local max, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= max then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1`;

const RENEW = `
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + ttl, ARGV[i + 1])
  redis.call('PEXPIRE', key, ttl)
end
return #KEYS`;

/**
 * The client for limits (sockets and HTTP): no offline queue, so while Redis is away a check fails
 * at once and is answered locally instead of waiting for Redis to return.
 */
export function limitsRedisClient(url: string, log: (level: 'warn', msg: string, err?: unknown) => void): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    connectTimeout: COMMAND_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (n) => Math.min(50 * n, 1000),
  });
  redis.on('error', (err) => log('warn', 'redis (limits)', err));
  return redis;
}

interface LimitCommands {
  imTake(key: string, rate: number, burst: number, n: number, force: '0' | '1'): Promise<number>;
  imAdmit(key: string, socketId: string, max: number, ttl: number): Promise<number>;
  imRenew(...keysAndArgs: Array<string | number>): Promise<number>;
}

/**
 * Per-user limits shared by every node through Redis: one bucket and one socket cap per user
 * however many nodes their devices are on. While Redis is unreachable each node falls back to its
 * own limits (fail open to per-node limits, never closed: a Redis outage must not stop chat).
 */
export class RedisUserLimits implements UserLimits {
  private readonly redis: Redis & LimitCommands;
  private readonly local: LocalUserLimits;
  /** Sockets this node admitted through Redis, to renew: socket id → user. */
  private readonly mine = new Map<string, string>();
  private readonly buckets = new Map<string, { bucket: RateBucket; used: number }>();
  private readonly renewer: ReturnType<typeof setInterval>;

  constructor(
    redis: Redis,
    private readonly rate: number,
    private readonly burst: number,
    private readonly maxSockets: number,
    private readonly log: (level: 'warn', msg: string, err?: unknown) => void,
    /** What the bucket counts, in its key (`rate`: events; `upload`: kilobytes uploaded). */
    private readonly what = 'rate',
  ) {
    this.local = new LocalUserLimits(rate, burst, maxSockets);
    this.redis = redis as Redis & LimitCommands;
    this.redis.defineCommand('imTake', { numberOfKeys: 1, lua: TAKE });
    this.redis.defineCommand('imAdmit', { numberOfKeys: 1, lua: ADMIT });
    this.redis.defineCommand('imRenew', { lua: RENEW });
    this.renewer = setInterval(() => void this.renew(), RENEW_MS);
    this.renewer.unref();
  }

  async admit(user: string, socketId: string): Promise<boolean> {
    if (this.ready()) {
      try {
        const ok = (await this.redis.imAdmit(socketsKey(user), socketId, this.maxSockets, SOCKET_TTL_MS)) === 1;
        if (ok) this.mine.set(socketId, user);
        return ok;
      } catch (err) {
        this.log('warn', 'redis socket cap unavailable, counting on this node', err);
      }
    }
    // Counted here; the next renewal adds it to Redis once Redis is back.
    const ok = this.local.admitNow(user, socketId);
    if (ok) this.mine.set(socketId, user);
    return ok;
  }

  release(user: string, socketId: string): void {
    this.mine.delete(socketId);
    this.local.release(user, socketId);
    // Lost while Redis is away: the entry then expires by itself (SOCKET_TTL_MS).
    if (this.ready()) this.redis.zrem(socketsKey(user), socketId).catch(() => undefined);
  }

  bucket(user: string): RateBucket {
    let entry = this.buckets.get(user);
    if (!entry) {
      // No chaining: one connection answers in order, so checks resolve in the order they were
      // made, and the checks of one turn leave in one write (auto-pipelining).
      const e = { used: Date.now() } as { bucket: RateBucket; used: number };
      e.bucket = {
        take: (n = 1) => ((e.used = Date.now()), this.take(user, n, false)),
        charge: (n) => void (n > 0 ? this.take(user, n, true) : undefined),
      };
      entry = e;
      this.buckets.set(user, entry);
      if (this.buckets.size > 10_000) this.sweepBuckets();
    }
    return entry.bucket;
  }

  close(): void {
    clearInterval(this.renewer);
    this.local.close();
  }

  private async take(user: string, n: number, force: boolean): Promise<number> {
    if (this.ready()) {
      try {
        return await this.redis.imTake(`im:${this.what}:${user}`, this.rate, this.burst, n, force ? '1' : '0');
      } catch (err) {
        this.log('warn', 'redis rate limit unavailable, limiting on this node', err);
      }
    }
    const local = this.local.tokenBucket(user);
    if (force) {
      local.charge(n);
      return 0;
    }
    return local.take(n);
  }

  private ready(): boolean {
    return this.redis.status === 'ready';
  }

  private async renew(): Promise<void> {
    if (!this.ready() || this.mine.size === 0) return;
    const entries = [...this.mine];
    for (let i = 0; i < entries.length; i += RENEW_CHUNK) {
      const chunk = entries.slice(i, i + RENEW_CHUNK);
      try {
        await this.redis.imRenew(chunk.length, ...chunk.map(([, user]) => socketsKey(user)), SOCKET_TTL_MS, ...chunk.map(([id]) => id));
      } catch (err) {
        this.log('warn', 'renewing socket entries in redis failed', err);
        return;
      }
    }
  }

  private sweepBuckets(): void {
    const cutoff = Date.now() - 60_000;
    for (const [user, e] of this.buckets) if (e.used < cutoff) this.buckets.delete(user);
  }
}

/** A user's sockets on every node (socket id → expiry); presence reads it too. */
export const socketsKey = (user: string) => `im:sockets:${user}`;
