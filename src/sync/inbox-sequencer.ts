import type { ImMessage } from '../core/protocol';

/**
 * Delivers a user's inbox strictly in `inboxSeq` order, exactly once. The server numbers every
 * message a user receives 1, 2, 3 …; anything at or below the cursor is a duplicate, anything past
 * `cursor + 1` waits in a buffer until the gap is filled by a sync. Because every message passes
 * through here (live, synced, or the sender's own ack), order per conversation follows.
 */
export interface InboxEntry {
  inboxSeq: number;
  /** `null` for the sender's own acknowledged sends: they advance the cursor but are not emitted. */
  message: ImMessage | null;
}

export class InboxSequencer {
  private cursor = 0;
  private known = false;
  private readonly pending = new Map<number, InboxEntry>();

  constructor(private readonly deliver: (message: ImMessage) => void) {}

  /** The last delivered inboxSeq, or `undefined` before the first session. */
  get position(): number | undefined {
    return this.known ? this.cursor : undefined;
  }

  get hasGap(): boolean {
    return this.pending.size > 0;
  }

  /** Sets the starting point (from storage or the server) and drops buffered entries it covers. */
  reset(cursor: number): void {
    this.cursor = cursor;
    this.known = true;
    for (const seq of [...this.pending.keys()]) if (seq <= cursor) this.pending.delete(seq);
    this.drain();
  }

  clear(): void {
    this.cursor = 0;
    this.known = false;
    this.pending.clear();
  }

  /** Returns true when the entry left a gap behind it (a sync is needed to fill it). */
  accept(entry: InboxEntry): boolean {
    if (!this.known || !Number.isInteger(entry.inboxSeq) || entry.inboxSeq <= this.cursor) return false;
    if (entry.inboxSeq > this.cursor + 1) {
      // A cap keeps a client that is offline from the sync path from buffering without bound.
      if (this.pending.size < 10000) this.pending.set(entry.inboxSeq, entry);
      return true;
    }
    this.pending.set(entry.inboxSeq, entry);
    this.drain();
    return this.pending.size > 0;
  }

  /**
   * The highest buffered seq (0 with none). Taken just before a sync request: every entry at or
   * below it was committed before that request's read, and so was everything numbered below it.
   */
  get highestPending(): number {
    let max = 0;
    for (const seq of this.pending.keys()) if (seq > max) max = seq;
    return max;
  }

  /**
   * After a complete sync whose last request was sent with `barrier` = highestPending: a gap
   * before an entry that was already buffered then can never fill (numbering has no holes and
   * commit order is seq order), so the cursor moves past it. A gap before an entry that arrived
   * live while the request was out may still fill: the read may predate it. Returns false then,
   * and the caller syncs again.
   */
  skipGapBefore(barrier: number): boolean {
    if (!this.pending.size) return true;
    const oldest = Math.min(...this.pending.keys());
    if (oldest > barrier) return false;
    this.cursor = oldest - 1;
    this.drain();
    return !this.pending.size || this.skipGapBefore(barrier);
  }

  /** Moves the cursor to just before the oldest buffered entry and delivers from there. */
  skipGap(): void {
    if (!this.pending.size) return;
    this.cursor = Math.min(...this.pending.keys()) - 1;
    this.drain();
  }

  private drain(): void {
    let next = this.pending.get(this.cursor + 1);
    while (next) {
      this.pending.delete(next.inboxSeq);
      this.cursor = next.inboxSeq;
      if (next.message) this.deliver(next.message);
      next = this.pending.get(this.cursor + 1);
    }
  }
}
