import { CoalescedWriter } from '../core/coalesced-writer';
import type { ClientContext } from '../core/context';
import type { SessionInfo } from '../core/protocol';
import { keyFor } from '../core/storage-keys';

/** The inbox position on the device, so a restarted app asks only for what it has not seen. */
export class CursorStore {
  private readonly writer: CoalescedWriter;

  constructor(
    private readonly ctx: ClientContext,
    private readonly position: () => number | undefined,
    private readonly session: () => SessionInfo | undefined,
  ) {
    this.writer = new CoalescedWriter(
      () => this.write(),
      (err) => ctx.log.debug('could not store the inbox position', err),
    );
  }

  /** The stored position, if it is still meaningful for this session. */
  async read(s: SessionInfo): Promise<number | undefined> {
    try {
      const raw = await this.ctx.adapter.storage.getItem(keyFor(s.appId, s.userId, 'inboxSeq'));
      const n = raw === null ? NaN : Number(raw);
      // A stored cursor past the server's newest means the server was reset: start over.
      return Number.isInteger(n) && n >= 0 && n <= s.latestInboxSeq ? n : undefined;
    } catch (err) {
      this.ctx.log.warn('could not read the stored inbox position', err);
      return undefined;
    }
  }

  /** Stores the current position soon; positions reached meanwhile collapse into one write. */
  save(): void {
    this.writer.schedule();
  }

  private async write(): Promise<void> {
    const s = this.session();
    const pos = this.position();
    if (s && pos !== undefined) await this.ctx.adapter.storage.setItem(keyFor(s.appId, s.userId, 'inboxSeq'), String(pos));
  }
}
