/** A token bucket: `rate` events per second on average, bursts up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Takes `n` tokens (one event, or one per item of a batch); returns 0 when allowed, else the ms until they are available. */
  take(n = 1): number {
    this.refill();
    if (this.tokens >= n) {
      this.tokens -= n;
      return 0;
    }
    return Math.ceil(((n - this.tokens) / this.rate) * 1000);
  }

  /**
   * Charges `n` tokens for work already done whose cost was known only afterwards (the bytes of a
   * reply): the bucket may go below zero, and the user's next events wait until it refills.
   */
  charge(n: number): void {
    this.refill();
    this.tokens -= n;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }
}
