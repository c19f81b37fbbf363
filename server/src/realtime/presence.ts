import type { ValidateFunction } from 'ajv';
import type { Redis } from 'ioredis';
import type { Server, Socket } from 'socket.io';
import { ApiError, Code } from '../errors';
import { LIMITS } from '../protocol';
import type { Caller } from '../service';
import type { Storage } from '../storage/types';
import { socketsKey } from './redis-user-limits';
import type { RateBucket } from './user-limits';

/** What `presence`, `presence:get` and `presence:subscribe` tell of a user. */
export interface PresenceInfo {
  userId: string;
  online: boolean;
  /** When the user's last device went (ms); null while online and for users never seen. */
  lastSeenAt: number | null;
}

/**
 * A node vouches for the users it has sockets of (or holds in their grace period) every RENEW_MS;
 * a user no node vouched for in PRESENCE_TTL_MS is taken offline by whichever node sweeps first.
 * That is how a killed node's users go offline: 15-20 s after it died.
 */
const PRESENCE_TTL_MS = 15_000;
const RENEW_MS = 5_000;
const SWEEP_MS = 5_000;
const CHUNK = 200;
/** A presence call costs one more event per this many ids (500 ids: 50 tokens, within the burst). */
const IDS_PER_TOKEN = 10;
/** Announced-online users of every app, `appId:userId` → until when a node vouched for them. */
const PRESENCE_KEY = 'im:presence';

/*
 * Every script reads Redis's clock, so nodes whose clocks differ still agree on what is stale.
 */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
/** 1 when the user was not online: the caller announces them. */
const ONLINE = `${NOW}return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])`;
/** Vouches for users; returns those that were missing (swept, or Redis lost them): online again. */
const RENEW = `${NOW}local ttl, added = tonumber(ARGV[1]), {}
for i = 2, #ARGV do
  if redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) == 1 then added[#added + 1] = ARGV[i] end
end
return added`;
/** 1 when this call took the user offline: no live socket of theirs on any node, and still online. */
const OFFLINE = `${NOW}if redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf') > 0 then return 0 end
return redis.call('ZREM', KEYS[1], ARGV[1])`;
/** Takes the users nobody vouched for offline; returns them with the time they were last vouched for. */
const SWEEP = `${NOW}local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
for i = 1, #stale, 2 do redis.call('ZREM', KEYS[1], stale[i]) end
return stale`;
const GET = `${NOW}local out = {}
for i = 1, #ARGV do
  local s = redis.call('ZSCORE', KEYS[1], ARGV[i])
  out[i] = (s and tonumber(s) >= now) and 1 or 0
end
return out`;

interface PresenceCommands {
  imPresenceOnline(key: string, member: string, ttl: number): Promise<number>;
  imPresenceRenew(key: string, ttl: number, ...members: string[]): Promise<string[]>;
  imPresenceOffline(key: string, sockets: string, member: string): Promise<number>;
  imPresenceSweep(key: string, limit: number): Promise<string[]>;
  imPresenceGet(key: string, ...members: string[]): Promise<number[]>;
}

export interface PresenceOptions {
  /** ms a user stays online after their last device went, so a reconnect does not flap. */
  graceMs: number;
  /** The limits client (IM_REDIS_URL): presence across nodes. Without it, this node's sockets decide. */
  redis?: Redis;
  store: Pick<Storage, 'lastSeen' | 'recordLastSeen'>;
  /** A user's room of sockets (the key of their socket set in Redis). */
  userRoom(appId: string, userId: string): string;
  emit(appId: string, info: PresenceInfo): void;
  log: (level: 'warn' | 'error', msg: string, err?: unknown) => void;
}

/** A user this node has sockets of, or holds in their grace period (sockets 0, timer set). */
interface LocalUser {
  appId: string;
  userId: string;
  sockets: number;
  leftAt: number;
  timer?: ReturnType<typeof setTimeout>;
}

const memberOf = (appId: string, userId: string) => `${appId}:${userId}`;

/**
 * Who is online. A user is online from their first socket on any node until their last one has
 * been gone for the grace period; `presence` goes out on those two transitions only. With Redis
 * the transitions are decided there atomically (one node announces each); without it, by this
 * node's sockets. Offline writes users.last_seen_at, so offline users keep their time across
 * restarts. Redis unreachable: each node judges by its own sockets until it is back.
 */
export class PresenceTracker {
  private readonly users = new Map<string, LocalUser>();
  /** One user's transitions on this node run in order: an offline is written before the next online. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly redis: (Redis & PresenceCommands) | undefined;
  private readonly loops: Array<ReturnType<typeof setInterval>> = [];

  constructor(private readonly opts: PresenceOptions) {
    if (opts.redis) {
      const r = opts.redis as Redis & PresenceCommands;
      r.defineCommand('imPresenceOnline', { numberOfKeys: 1, lua: ONLINE });
      r.defineCommand('imPresenceRenew', { numberOfKeys: 1, lua: RENEW });
      r.defineCommand('imPresenceOffline', { numberOfKeys: 2, lua: OFFLINE });
      r.defineCommand('imPresenceSweep', { numberOfKeys: 1, lua: SWEEP });
      r.defineCommand('imPresenceGet', { numberOfKeys: 1, lua: GET });
      this.redis = r;
      this.loops.push(setInterval(() => void this.renew(), RENEW_MS), setInterval(() => void this.sweep(), SWEEP_MS));
      for (const l of this.loops) l.unref();
    }
  }

  connected(appId: string, userId: string): void {
    const key = memberOf(appId, userId);
    const u = this.users.get(key);
    if (u) {
      u.sockets++;
      // Back within the grace period: no transition at all.
      clearTimeout(u.timer);
      u.timer = undefined;
      return;
    }
    this.users.set(key, { appId, userId, sockets: 1, leftAt: 0 });
    this.queue(key, async () => {
      if (await this.claimOnline(key)) this.opts.emit(appId, { userId, online: true, lastSeenAt: null });
    });
  }

  disconnected(appId: string, userId: string): void {
    const key = memberOf(appId, userId);
    const u = this.users.get(key);
    if (!u || --u.sockets > 0) return;
    u.leftAt = Date.now();
    u.timer = setTimeout(() => {
      if (this.users.get(key) !== u || u.sockets > 0) return;
      this.users.delete(key);
      this.queue(key, () => this.goOffline(u));
    }, this.opts.graceMs);
    u.timer.unref();
  }

  /** Presence of `userIds` (of `appId`) now, in their order. */
  async get(appId: string, userIds: string[]): Promise<PresenceInfo[]> {
    const keys = userIds.map((id) => memberOf(appId, id));
    // A transition under way on this node is finished first (its last-seen time written).
    await Promise.all(keys.map((k) => this.chains.get(k)));
    let online: boolean[] | undefined;
    if (this.ready() && keys.length) {
      try {
        online = (await this.redis!.imPresenceGet(PRESENCE_KEY, ...keys)).map((v) => v === 1);
      } catch (err) {
        this.opts.log('warn', 'redis presence unavailable, answering from this node', err);
      }
    }
    online ??= keys.map((k) => this.users.has(k));
    const offline = userIds.filter((_, i) => !online[i]);
    const seen = offline.length ? await this.opts.store.lastSeen(appId, offline) : new Map<string, number>();
    return userIds.map((userId, i) => ({ userId, online: online[i]!, lastSeenAt: online[i] ? null : (seen.get(userId) ?? null) }));
  }

  /**
   * After the sockets closed: their users' last-seen times are written now. With Redis they stay
   * online there until another node's sweep (or this one's after a restart) finds nobody vouching,
   * so users whose devices reconnect to another node in time never flap.
   */
  async close(): Promise<void> {
    for (const l of this.loops.splice(0)) clearInterval(l);
    const now = Date.now();
    const items = [...this.users.values()].map((u) => {
      clearTimeout(u.timer);
      return { appId: u.appId, userId: u.userId, at: u.sockets > 0 ? now : u.leftAt };
    });
    this.users.clear();
    await Promise.all(this.chains.values());
    if (items.length) await this.opts.store.recordLastSeen(items).catch((err: unknown) => this.opts.log('warn', 'recording last-seen times at shutdown failed', err));
  }

  private queue(key: string, job: () => Promise<void>): void {
    const next = (this.chains.get(key) ?? Promise.resolve())
      .then(job)
      .catch((err: unknown) => this.opts.log('error', 'a presence change failed', err))
      .finally(() => {
        if (this.chains.get(key) === next) this.chains.delete(key);
      });
    this.chains.set(key, next);
  }

  private async claimOnline(key: string): Promise<boolean> {
    if (!this.ready()) return true;
    try {
      return (await this.redis!.imPresenceOnline(PRESENCE_KEY, key, PRESENCE_TTL_MS)) === 1;
    } catch (err) {
      this.opts.log('warn', 'redis presence unavailable, announcing from this node', err);
      return true;
    }
  }

  private async goOffline(u: LocalUser): Promise<void> {
    if (this.ready()) {
      try {
        const sockets = socketsKey(this.opts.userRoom(u.appId, u.userId));
        // 0: a device of theirs is still on another node (that node announces it), or already swept.
        if ((await this.redis!.imPresenceOffline(PRESENCE_KEY, sockets, memberOf(u.appId, u.userId))) !== 1) return;
      } catch (err) {
        this.opts.log('warn', 'redis presence unavailable, deciding on this node', err);
      }
    }
    await this.announceOffline(u.appId, u.userId, u.leftAt);
  }

  private async announceOffline(appId: string, userId: string, at: number): Promise<void> {
    await this.opts.store.recordLastSeen([{ appId, userId, at }]).catch((err: unknown) => this.opts.log('warn', 'recording a last-seen time failed', err));
    this.opts.emit(appId, { userId, online: false, lastSeenAt: at });
  }

  private ready(): boolean {
    return this.redis?.status === 'ready';
  }

  private async renew(): Promise<void> {
    if (!this.ready() || !this.users.size) return;
    const keys = [...this.users.keys()];
    for (let i = 0; i < keys.length; i += CHUNK) {
      let added: string[];
      try {
        added = await this.redis!.imPresenceRenew(PRESENCE_KEY, PRESENCE_TTL_MS, ...keys.slice(i, i + CHUNK));
      } catch (err) {
        this.opts.log('warn', 'renewing presence in redis failed', err);
        return;
      }
      for (const key of added) {
        const u = this.users.get(key);
        if (u) this.queue(key, async () => this.opts.emit(u.appId, { userId: u.userId, online: true, lastSeenAt: null }));
      }
    }
  }

  private async sweep(): Promise<void> {
    // Chunk after chunk: a dead node's users all go in this round, however many.
    for (let round = 0; round < 100 && this.ready(); round++) {
      let stale: string[];
      try {
        stale = await this.redis!.imPresenceSweep(PRESENCE_KEY, CHUNK);
      } catch (err) {
        this.opts.log('warn', 'sweeping presence in redis failed', err);
        return;
      }
      const gone: Array<{ appId: string; userId: string; at: number }> = [];
      const mine: string[] = [];
      for (let i = 0; i + 1 < stale.length; i += 2) {
        const key = stale[i]!;
        // Ours, so online: this node's renewals did not get through. Vouched for again, no event.
        if (this.users.has(key)) mine.push(key);
        // Last seen when a node last vouched for them.
        else gone.push({ appId: key.slice(0, key.indexOf(':')), userId: key.slice(key.indexOf(':') + 1), at: Number(stale[i + 1]) - PRESENCE_TTL_MS });
      }
      if (mine.length) await this.redis!.imPresenceRenew(PRESENCE_KEY, PRESENCE_TTL_MS, ...mine).catch(() => undefined);
      if (gone.length) {
        const written = this.opts.store.recordLastSeen(gone).catch((err: unknown) => this.opts.log('warn', 'recording last-seen times failed', err));
        for (const g of gone) {
          this.queue(memberOf(g.appId, g.userId), async () => {
            await written;
            this.opts.emit(g.appId, { userId: g.userId, online: false, lastSeenAt: g.at });
          });
        }
      }
      if (stale.length < CHUNK * 2) return;
    }
  }
}

type Handle = <T>(socket: Socket, event: string, validate: ValidateFunction<T>, work: (payload: T) => unknown) => void;

export interface PresenceContext {
  tracker: PresenceTracker;
  handle: Handle;
  state(socket: Socket): Caller & { bucket: RateBucket };
  validate: ValidateFunction<{ userIds: string[] }>;
}

/** The room of a user's presence subscribers; an emit to it reaches every node through the adapter. */
export const presenceRoom = (appId: string, userId: string) => `p:${appId}:${userId}`;

/**
 * Counts the socket in and out, and takes presence:subscribe / unsubscribe / get. Subscriptions
 * are rooms of this socket, so they end with it (the SDK subscribes again after a reconnect).
 */
export function handlePresence(ctx: PresenceContext, socket: Socket): void {
  const s = ctx.state(socket);
  ctx.tracker.connected(s.appId, s.userId);
  socket.on('disconnect', () => ctx.tracker.disconnected(s.appId, s.userId));
  const subscribed = new Set<string>();

  /** The distinct ids, charged like that many events (a tenth each). */
  const idsOf = async (event: string, userIds: string[]): Promise<string[]> => {
    const ids = [...new Set(userIds)];
    const extra = Math.ceil(ids.length / IDS_PER_TOKEN) - 1;
    const wait = extra > 0 ? await s.bucket.take(extra) : 0;
    if (wait > 0) throw new ApiError(Code.RATE_LIMITED, `rate limited: ${event} of ${ids.length} users counts as ${extra + 1} events; retry after ${wait} ms`);
    return ids;
  };

  ctx.handle(socket, 'presence:subscribe', ctx.validate, async (p) => {
    const ids = await idsOf('presence:subscribe', p.userIds);
    const fresh = ids.filter((id) => !subscribed.has(id));
    if (subscribed.size + fresh.length > LIMITS.PRESENCE_SUBSCRIPTIONS) {
      throw new ApiError(
        Code.FORBIDDEN,
        `presence:subscribe: at most ${LIMITS.PRESENCE_SUBSCRIPTIONS} subscriptions per connection; this one has ${subscribed.size} and the call adds ${fresh.length}. Unsubscribe some first`,
      );
    }
    for (const id of fresh) subscribed.add(id);
    // Joined before reading, so no change is missed: one made between the two arrives as an event
    // just before this answer (the SDK lets such an event win over the answer).
    if (fresh.length) await socket.join(fresh.map((id) => presenceRoom(s.appId, id)));
    return { presence: await ctx.tracker.get(s.appId, ids), subscriptions: subscribed.size };
  });
  ctx.handle(socket, 'presence:unsubscribe', ctx.validate, async (p) => {
    for (const id of await idsOf('presence:unsubscribe', p.userIds)) {
      if (subscribed.delete(id)) await socket.leave(presenceRoom(s.appId, id));
    }
    return { subscriptions: subscribed.size };
  });
  ctx.handle(socket, 'presence:get', ctx.validate, async (p) => ({ presence: await ctx.tracker.get(s.appId, await idsOf('presence:get', p.userIds)) }));
}
