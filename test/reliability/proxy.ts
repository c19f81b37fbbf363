/**
 * A loopback TCP proxy that breaks connections on purpose. Clients connect to the proxy, the proxy
 * forwards bytes to the target port; `cut*` ends connections the way real networks do: a reset, a
 * plain close, or a stall (bytes stop flowing, then the connection dies, losing what was sent
 * meanwhile). The target port stays fixed, so a server restarted on the same port is reached again.
 */
import net from 'node:net';
import type { Rng } from './prng';

/**
 * reset: RST both ways. close: FIN both ways. stall: forwarding stops, the link dies 50-300 ms later.
 * late: the client's last bytes are held back, the client's side dies, and 100-1500 ms later the
 * held bytes reach the server on the old connection (as through a buffering load balancer), possibly
 * after the client has reconnected and resent them. blackhole: forwarding stops and the link stays
 * open (a half-open connection after a network switch) until 10 s pass; only heartbeats detect it.
 */
export type CutKind = 'reset' | 'close' | 'stall' | 'late' | 'blackhole';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  dead: boolean;
  stalled?: boolean;
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
  /** Server-side ends of 'late' cuts, still open after their pair left `pairs`. */
  private readonly orphans = new Set<net.Socket>();
  readonly stats: ProxyStats = { accepted: 0, cuts: 0, cutsByKind: { reset: 0, close: 0, stall: 0, late: 0, blackhole: 0 }, upstreamErrors: 0 };
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

  /** Cuts one connection (see CutKind). */
  cut(pair: Pair, kind: CutKind, rng: Rng): void {
    if (pair.dead) return;
    this.stats.cuts++;
    this.stats.cutsByKind[kind]++;
    if (kind === 'reset' || kind === 'close') {
      this.kill(pair, kind);
      return;
    }
    if (kind === 'late') {
      // Taken out of the pair bookkeeping: the two sides now end at different times.
      pair.dead = true;
      this.pairs.delete(pair);
      this.orphans.add(pair.upstream);
      pair.upstream.once('close', () => this.orphans.delete(pair.upstream));
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.upstream.pause();
      const held: Buffer[] = [];
      pair.client.on('data', (d: Buffer) => held.push(d));
      this.later(rng.int(50, 300), () => {
        pair.client.destroy();
        this.later(rng.int(100, 1500), () => {
          if (!pair.upstream.destroyed) for (const chunk of held) pair.upstream.write(chunk);
          pair.upstream.end();
          this.later(2000, () => pair.upstream.destroy());
        });
      });
      return;
    }
    pair.stalled = true;
    pair.client.unpipe(pair.upstream);
    pair.upstream.unpipe(pair.client);
    pair.client.pause();
    pair.upstream.pause();
    const t = setTimeout(() => {
      this.stallTimers.delete(t);
      this.kill(pair, 'close');
    }, kind === 'blackhole' ? 10_000 : rng.int(50, 300));
    this.stallTimers.add(t);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.stallTimers.delete(t);
      fn();
    }, ms);
    this.stallTimers.add(t);
  }

  /** Cuts `count` random live connections; a cut is a blackhole with probability `blackholeChance`. */
  cutRandom(rng: Rng, count = 1, blackholeChance = 0): number {
    const live = [...this.pairs].filter((p) => !p.dead && !p.stalled);
    rng.shuffle(live);
    const victims = live.slice(0, count);
    for (const p of victims) this.cut(p, rng.chance(blackholeChance) ? 'blackhole' : rng.pick(['reset', 'close', 'stall', 'late'] as const), rng);
    return victims.length;
  }

  cutAll(rng: Rng): number {
    return this.cutRandom(rng, this.pairs.size);
  }

  /**
   * Every `minMs`-`maxMs` (random) cuts 1 to `maxPerTick` random connections; with probability
   * `allChance` a tick cuts every connection at once (a network switch).
   */
  startChaos(rng: Rng, opts: { minMs: number; maxMs: number; maxPerTick: number; allChance: number; blackholeChance: number }): void {
    this.stopChaos();
    const tick = () => {
      if (rng.chance(opts.allChance)) this.cutAll(rng);
      else this.cutRandom(rng, rng.int(1, opts.maxPerTick), opts.blackholeChance);
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
    for (const socket of this.orphans) socket.destroy();
    this.orphans.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
