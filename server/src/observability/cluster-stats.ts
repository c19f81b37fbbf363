import type { Redis } from 'ioredis';
import type { ServerLog } from './logger';

/** One node's live figures, as GET /api/server/stats lists them. */
export interface NodeFigures {
  nodeId: string;
  connections: number;
  messagesPerSec: number;
  startedAt: number;
  lastSeenAt: number;
}

export interface StatsReply {
  connections: number;
  messagesPerSec: number;
  nodes: NodeFigures[];
}

export interface LocalFigures {
  nodeId: string;
  startedAt: number;
  connections(): number;
  messagesPerSec(): number;
}

/** Each node's hash lives this long unless refreshed: a node gone for 3 refreshes drops out. */
const NODE_TTL_MS = 6000;
const PUBLISH_EVERY_MS = 2000;
/** Nodes listed at most (a cluster is a handful; this bounds a read whatever the set holds). */
const NODES_MAX = 1000;
const NODES_KEY = 'im:stats:nodes';
const nodeKey = (id: string) => `im:stats:node:${id}`;

function figuresOf(h: Record<string, string>): NodeFigures | undefined {
  const n = (k: string) => Number(h[k]);
  if (typeof h.nodeId !== 'string' || ![n('connections'), n('messagesPerSec'), n('startedAt'), n('lastSeenAt')].every(Number.isFinite)) return undefined;
  return { nodeId: h.nodeId, connections: n('connections'), messagesPerSec: n('messagesPerSec'), startedAt: n('startedAt'), lastSeenAt: n('lastSeenAt') };
}

/**
 * The figures of every node. With Redis (IM_REDIS_URL) each node writes its own to a hash that
 * expires unless refreshed, and lists itself in a set; a reader takes the hashes still there, so
 * liveness rests on Redis's TTLs, not on the nodes' clocks agreeing. Without Redis, the one node.
 * If Redis fails a read answers this node alone rather than failing.
 */
export class ClusterStats {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly local: LocalFigures,
    private readonly redis: Redis | undefined,
    private readonly log: ServerLog,
  ) {}

  start(): void {
    if (!this.redis || this.timer) return;
    void this.publish();
    this.timer = setInterval(() => void this.publish(), PUBLISH_EVERY_MS);
    this.timer.unref();
  }

  private mine(): NodeFigures {
    return { nodeId: this.local.nodeId, connections: this.local.connections(), messagesPerSec: this.local.messagesPerSec(), startedAt: this.local.startedAt, lastSeenAt: Date.now() };
  }

  private async publish(): Promise<void> {
    const redis = this.redis!;
    if (redis.status !== 'ready') return;
    const f = this.mine();
    try {
      await redis
        .multi()
        .hset(nodeKey(f.nodeId), { nodeId: f.nodeId, connections: f.connections, messagesPerSec: f.messagesPerSec, startedAt: f.startedAt, lastSeenAt: f.lastSeenAt })
        .pexpire(nodeKey(f.nodeId), NODE_TTL_MS)
        .zadd(NODES_KEY, f.lastSeenAt, f.nodeId)
        .exec();
    } catch (err) {
      this.log('warn', 'publishing node figures to redis failed', err);
    }
  }

  async read(): Promise<StatsReply> {
    const me = this.mine();
    let nodes = [me];
    if (this.redis && this.redis.status === 'ready') {
      try {
        nodes = [me, ...(await this.others())];
      } catch (err) {
        this.log('warn', 'reading the other nodes figures from redis failed; answering this node alone', err);
      }
    }
    nodes.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
    const sum = (k: 'connections' | 'messagesPerSec') => nodes.reduce((t, n) => t + n[k], 0);
    return { connections: sum('connections'), messagesPerSec: Math.round(sum('messagesPerSec') * 100) / 100, nodes };
  }

  private async others(): Promise<NodeFigures[]> {
    const redis = this.redis!;
    const ids = (await redis.zrevrange(NODES_KEY, 0, NODES_MAX - 1)).filter((id) => id !== this.local.nodeId);
    if (!ids.length) return [];
    const pipeline = redis.pipeline();
    for (const id of ids) pipeline.hgetall(nodeKey(id));
    const rows = (await pipeline.exec()) ?? [];
    const found: NodeFigures[] = [];
    const gone: string[] = [];
    rows.forEach(([err, h], i) => {
      const f = err ? undefined : figuresOf(h as Record<string, string>);
      if (f) found.push(f);
      else if (!err) gone.push(ids[i]!);
    });
    // Expired nodes leave the set here, so it stays the size of the cluster.
    if (gone.length) await redis.zrem(NODES_KEY, ...gone).catch(() => undefined);
    return found;
  }

  /** Stops publishing and takes this node out at once (a graceful stop), before Redis closes. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const redis = this.redis;
    if (!redis || redis.status !== 'ready') return;
    await redis
      .multi()
      .del(nodeKey(this.local.nodeId))
      .zrem(NODES_KEY, this.local.nodeId)
      .exec()
      .catch(() => undefined);
  }
}
