/**
 * A loopback TCP proxy that breaks connections on purpose. Clients connect to the proxy, the proxy
 * forwards bytes to the target port; `cut*` ends connections the way real networks do: a reset, a
 * plain close, or a stall (bytes stop flowing, then the connection dies, losing what was sent
 * meanwhile). The target port stays fixed, so a server restarted on the same port is reached again.
 */
import net from 'node:net';
import type { Rng } from './prng';

export type CutKind = 'reset' | 'close' | 'stall';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  dead: boolean;
}

export interface ProxyStats {
  accepted: number;
  cuts: number;
  cutsByKind: Record<CutKind, number>;
  /** Connections the target refused or dropped by itself (e.g. during a server restart). */
  upstreamErrors: number;
}

export class ChaosProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<Pair>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly stallTimers = new Set<ReturnType<typeof setTimeout>>();
  readonly stats: ProxyStats = { accepted: 0, cuts: 0, cutsByKind: { reset: 0, close: 0, stall: 0 }, upstreamErrors: 0 };
  port = 0;

  constructor(private readonly targetPort: number, private readonly targetHost = '127.0.0.1') {
    this.server = net.createServer((client) => this.onClient(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return `http://127.0.0.1:${this.port}`;
  }

  get liveConnections(): number {
    return this.pairs.size;
  }

  private onClient(client: net.Socket): void {
    this.stats.accepted++;
    const upstream = net.connect(this.targetPort, this.targetHost);
    const pair: Pair = { client, upstream, dead: false };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const kill = (fromUpstream: boolean) => () => {
      if (pair.dead) return;
      if (fromUpstream) this.stats.upstreamErrors++;
      this.kill(pair, 'close');
    };
    client.on('error', kill(false));
    upstream.on('error', kill(true));
    client.on('close', kill(false));
    upstream.on('close', kill(false));
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private kill(pair: Pair, kind: CutKind): void {
    if (pair.dead) return;
    pair.dead = true;
    this.pairs.delete(pair);
    if (kind === 'reset') {
      pair.client.resetAndDestroy();
      pair.upstream.resetAndDestroy();
    } else {
      pair.client.destroy();
      pair.upstream.destroy();
    }
  }

  /** Cuts one connection. A stall stops forwarding at once and destroys the pair 50-300 ms later. */
  cut(pair: Pair, kind: CutKind, rng: Rng): void {
    if (pair.dead) return;
    this.stats.cuts++;
    this.stats.cutsByKind[kind]++;
    if (kind !== 'stall') {
      this.kill(pair, kind);
      return;
    }
    pair.client.unpipe(pair.upstream);
    pair.upstream.unpipe(pair.client);
    pair.client.pause();
    pair.upstream.pause();
    const t = setTimeout(() => {
      this.stallTimers.delete(t);
      this.kill(pair, 'close');
    }, rng.int(50, 300));
    this.stallTimers.add(t);
  }

  /** Cuts `count` random live connections. */
  cutRandom(rng: Rng, count = 1): number {
    const live = [...this.pairs].filter((p) => !p.dead);
    rng.shuffle(live);
    const victims = live.slice(0, count);
    for (const p of victims) this.cut(p, rng.pick(['reset', 'close', 'stall'] as const), rng);
    return victims.length;
  }

  cutAll(rng: Rng): number {
    return this.cutRandom(rng, this.pairs.size);
  }

  /**
   * Every `minMs`-`maxMs` (random) cuts 1 to `maxPerTick` random connections; with probability
   * `allChance` a tick cuts every connection at once (a network switch).
   */
  startChaos(rng: Rng, opts: { minMs: number; maxMs: number; maxPerTick: number; allChance: number }): void {
    this.stopChaos();
    const tick = () => {
      if (rng.chance(opts.allChance)) this.cutAll(rng);
      else this.cutRandom(rng, rng.int(1, opts.maxPerTick));
      this.timer = setTimeout(tick, rng.int(opts.minMs, opts.maxMs));
    };
    this.timer = setTimeout(tick, rng.int(opts.minMs, opts.maxMs));
  }

  stopChaos(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async close(): Promise<void> {
    this.stopChaos();
    for (const t of this.stallTimers) clearTimeout(t);
    this.stallTimers.clear();
    for (const p of [...this.pairs]) this.kill(p, 'close');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
