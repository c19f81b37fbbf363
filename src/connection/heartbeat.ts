/**
 * The application heartbeat from the seed's `pingInterval` / `pingTimeout`. Socket.IO's own engine
 * ping keeps the transport alive; this one tells the app whether round trips are actually working,
 * and declares the connection dead when pongs stop (a half-open socket after a network switch).
 */
export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastPongAt = 0;
  private startedAt = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly ping: (onPong: () => void) => boolean,
    private readonly onDead: () => void,
  ) {}

  start(): void {
    this.stop();
    this.startedAt = Date.now();
    this.beat();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Forgets the last pong: a new connection must earn 'active' again. */
  reset(): void {
    this.lastPongAt = 0;
  }

  beat(): boolean {
    const sentAt = Date.now();
    return this.ping(() => {
      this.lastPongAt = Math.max(this.lastPongAt, sentAt);
    });
  }

  isActive(): boolean {
    return this.lastPongAt > 0 && Date.now() - this.lastPongAt <= this.timeoutMs;
  }

  private tick(): void {
    if (Date.now() - Math.max(this.lastPongAt, this.startedAt) > this.timeoutMs) {
      this.lastPongAt = 0;
      this.startedAt = Date.now();
      this.onDead();
      return;
    }
    this.beat();
  }
}
