import { CoalescedWriter } from '../core/coalesced-writer';
import type { ClientContext } from '../core/context';
import type { StorageKeys } from '../core/storage-keys';
import type { Outbox, StoredSend } from './outbox';

/** Sends persisted by an app run that was killed are resent only within this age. */
const OUTBOX_MAX_AGE_MS = 24 * 60 * 60 * 1000;
/**
 * How long outbox changes wait before they are persisted. Every write serialises the whole
 * outbox, and acks usually arrive within milliseconds, so a burst of sends and their acks costs one
 * write (or none) instead of one per send and per ack. What the delay risks is a send made in the
 * last 100 ms before the process dies without warning; app hide and stop persist at once.
 */
const OUTBOX_WRITE_DELAY_MS = 100;

/**
 * Persists the outbox to the adapter's storage, per user, and takes in once what an earlier run of
 * the app left there ("persist" is storage; "emit" is the socket, in messenger.ts).
 */
export class OutboxStore {
  private readonly writer: CoalescedWriter;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The key this client last removed, so an outbox emptied again costs no write. */
  private clearedFor: string | undefined;
  private restoredFor: string | undefined;
  private leftovers: { key: string; read: Promise<StoredSend[]> } | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly keys: StorageKeys,
    private readonly outbox: Outbox,
    private readonly isActive: () => boolean,
  ) {
    this.writer = new CoalescedWriter(
      () => this.write(),
      (err) => ctx.log.debug('could not store the outbox', err),
    );
  }

  /** Persists within OUTBOX_WRITE_DELAY_MS; later changes in that window ride along. */
  persistSoon(): void {
    // Once stopped nothing else would flush it (and destroy() must leave no timer), so write now.
    if (!this.isActive()) {
      this.persistNow();
      return;
    }
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writer.schedule();
    }, OUTBOX_WRITE_DELAY_MS);
  }

  /** Persists at once (after a write in progress); a change waiting for its delay goes with it. */
  persistNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.writer.schedule();
  }

  /** Persists now what is waiting for the delay, if anything: without a timer, storage is current or being written. */
  flush(): void {
    if (this.timer !== undefined) this.persistNow();
  }

  /** Once per user and client: picks up sends an earlier run of the app left unconfirmed. */
  async restore(): Promise<void> {
    const key = this.keys.current('outbox');
    if (!key || this.restoredFor === key) return;
    const left = await this.leftoversOf(key);
    if (this.keys.current('outbox') === key && this.isActive()) this.take(key, left);
  }

  private async write(): Promise<void> {
    const key = this.keys.current('outbox');
    if (!key) return;
    // Until what an earlier run left under this key has been taken in, a write would replace it
    // unread (a send made before the session is ready does that). While active it joins the
    // outbox (and goes out first); otherwise it only stays in the stored copy, so it can never be
    // sent on a connection of whichever user connects next.
    let kept: StoredSend[] = [];
    if (this.restoredFor !== key) {
      const left = await this.leftoversOf(key);
      if (this.keys.current('outbox') !== key) return; // another user now; their own write follows
      if (this.isActive()) this.take(key, left);
      else kept = left;
    }
    const current = this.outbox.snapshot();
    const items = kept.length ? [...kept.filter((k) => !current.some((c) => c.payload.clientMsgId === k.payload.clientMsgId)), ...current] : current;
    const storage = this.ctx.adapter.storage;
    if (items.length) {
      this.clearedFor = undefined;
      await storage.setItem(key, JSON.stringify(items));
    } else if (this.clearedFor !== key) {
      await storage.removeItem(key);
      this.clearedFor = key;
    }
  }

  private take(key: string, items: StoredSend[]): void {
    if (this.restoredFor === key) return;
    this.restoredFor = key;
    if (items.length) {
      this.ctx.log.info(`resending ${items.length} message(s) left unconfirmed by an earlier run`);
      this.outbox.restore(items);
    }
  }

  /** What an earlier run left under `key`, read once; concurrent callers share the read. */
  private leftoversOf(key: string): Promise<StoredSend[]> {
    if (this.leftovers?.key !== key) {
      const read = (async (): Promise<StoredSend[]> => {
        try {
          const raw = await this.ctx.adapter.storage.getItem(key);
          if (!raw) return [];
          return (JSON.parse(raw) as StoredSend[]).filter(
            (i) => i && i.payload && typeof i.payload.clientMsgId === 'string' && typeof i.createdAt === 'number' && Date.now() - i.createdAt < OUTBOX_MAX_AGE_MS,
          );
        } catch (err) {
          this.ctx.log.warn('could not read the stored outbox', err);
          return [];
        }
      })();
      this.leftovers = { key, read };
    }
    return this.leftovers.read;
  }
}
