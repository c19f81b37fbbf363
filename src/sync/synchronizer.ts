import type { Connection } from '../connection/connection';
import type { ClientContext } from '../core/context';
import { SocketEvent, isEventRow, type ImMessage, type MessageEventRow, type SessionInfo, type SyncResult } from '../core/protocol';
import { CursorStore } from './cursor-store';
import { GroupCatchUp } from './group-catch-up';
import { InboxSequencer } from './inbox-sequencer';

const SYNC_PAGE = 200;
/** Syncs in a row that may end with a gap before one is skipped as unfillable. */
const MAX_GAP_ROUNDS = 5;

/** What catch-up needs from the modules around it. */
export interface SyncHooks {
  /** Before the first sync of a session: sends an earlier run of the app left join the outbox. */
  restore(): Promise<void>;
  /** True when `m` is a pending send of this device (its ack was lost); it is settled by this. */
  claim(m: ImMessage): boolean;
  /** Everything missed has been delivered. */
  caughtUp(session: SessionInfo): void;
  /** A message was handed to the app. */
  delivered(m: ImMessage): void;
  /** A message as the app gets it (media URLs made absolute). */
  present?(m: ImMessage): ImMessage;
  /** A revoke or edit reached its turn: an event for the app, not an `imchat`. */
  event?(row: MessageEventRow): void;
}

/**
 * Catch-up: after every session it pulls what was missed since the stored position, private
 * messages from the user's inbox and group messages from each group's sequence, feeds live and
 * synced messages through the sequencers (exactly once, in order), and reports `ready`.
 */
export class Synchronizer {
  private readonly inbox: InboxSequencer;
  private readonly cursor: CursorStore;
  private readonly groups: GroupCatchUp;
  private running: Promise<boolean> | undefined;
  private syncAgain = false;
  private isReady = false;
  /** Whose inbox the sequencer's position belongs to (`app:user`). */
  private owner: string | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly conn: Connection,
    private readonly hooks: SyncHooks,
  ) {
    this.inbox = new InboxSequencer((m) => this.deliver(m));
    this.cursor = new CursorStore(ctx, () => this.inbox.position, () => conn.session);
    this.groups = new GroupCatchUp(ctx, conn, { claim: (m) => hooks.claim(m), deliver: (m) => this.emit(m) });
  }

  /** Caught up on the current connection: new sends go out at once. */
  get ready(): boolean {
    return this.isReady;
  }

  /** The connection dropped: not in sync any more until the next catch-up. */
  lost(): void {
    this.isReady = false;
    this.groups.lost();
  }

  /** After every (re)connect: restore the cursor, sync what was missed, then `caughtUp`. */
  async start(session: SessionInfo): Promise<void> {
    const owner = `${session.appId}:${session.userId}`;
    if (this.owner !== owner) {
      // Another user on this client: their inbox has its own numbering.
      this.inbox.clear();
      this.groups.clear();
      this.owner = owner;
    }
    const current = () => this.conn.session === session;
    if (this.inbox.position === undefined) {
      const stored = await this.cursor.read(session);
      if (!current()) return;
      // A device without a stored cursor starts at the present; older messages are in history.
      this.inbox.reset(stored ?? session.latestInboxSeq);
    }
    await this.hooks.restore();
    if (!current()) return;
    // Groups only where the server has them apart from the inbox (read diffusion, schema 3).
    const synced = (await this.sync()) && current() && (session.groupSync !== true || (await this.groups.catchUp(session, current)));
    if (!current() || !this.conn.connected) return;
    if (!synced) {
      // Connected but the sync failed (timed out): a fresh connection is the reliable retry.
      this.conn.reconnectNow(true);
      return;
    }
    this.isReady = true;
    this.hooks.caughtUp(session);
  }

  /** An `imchat` pushed by the server. */
  onLive(m: ImMessage): void {
    if (!m || typeof m !== 'object') return;
    if (m.chatType === 1 && typeof m.inboxSeq !== 'number') {
      this.groups.onLive(m);
      return;
    }
    const gap = this.accept(m);
    if (gap && this.isReady && !this.running) void this.sync();
  }

  /** The ack of this device's own send: its inbox (or group) position is passed, without an `imchat`. */
  acceptOwn(message: ImMessage): void {
    if (typeof message.inboxSeq === 'number') {
      this.inbox.accept({ inboxSeq: message.inboxSeq, message: null });
      this.cursor.save();
    } else if (message.chatType === 1) {
      this.groups.acceptOwn(message);
    }
  }

  /**
   * Pulls inbox pages until the server has nothing newer. Returns false if the connection dropped.
   * A call while one runs waits for it: if that one fails (its connection went) this one runs
   * again, on the connection there is now.
   */
  private sync(): Promise<boolean> {
    if (this.running) {
      this.syncAgain = true;
      return this.running.then((ok) => (ok ? true : this.sync()));
    }
    const run = this.pull().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }

  private async pull(): Promise<boolean> {
    try {
      let rounds = 0;
      do {
        this.syncAgain = false;
        let barrier = 0;
        for (;;) {
          const after = this.inbox.position ?? 0;
          barrier = this.inbox.highestPending;
          const page = await this.conn.rpc.patiently<SyncResult>(SocketEvent.SYNC, { afterInboxSeq: after, limit: SYNC_PAGE }, 'sync');
          for (const m of page.messages) this.accept(m);
          if (!page.hasMore || !page.messages.length) break;
        }
        // The server numbers inboxes without gaps, so a gap a complete sync cannot fill is skipped
        // (delivery stays live), but only one that was there before the sync's read: a message
        // that arrived live meanwhile may be newer than that read (skipGapBefore).
        if (this.inbox.hasGap && !this.inbox.skipGapBefore(barrier)) {
          if (++rounds < MAX_GAP_ROUNDS) this.syncAgain = true;
          else {
            this.ctx.log.warn('inbox gap not filled by complete syncs; skipping ahead');
            this.inbox.skipGap();
          }
        }
      } while (this.syncAgain);
      return true;
    } catch (err) {
      this.ctx.log.warn('catch-up sync failed; it will run again on the next connection', err);
      return false;
    }
  }

  /** One inbox message: a pending send of ours is settled by it, the rest go to the sequencer. */
  private accept(m: ImMessage): boolean {
    if (typeof m.inboxSeq !== 'number') return false;
    // Our own send seen in a sync: its ack was lost with the connection, this is the answer.
    if (this.hooks.claim(m)) return this.inbox.accept({ inboxSeq: m.inboxSeq, message: null });
    return this.inbox.accept({ inboxSeq: m.inboxSeq, message: m });
  }

  private deliver(m: ImMessage): void {
    this.cursor.save();
    this.emit(m);
  }

  private emit(message: ImMessage): void {
    if (isEventRow(message)) {
      this.hooks.event?.(message);
      return;
    }
    const m = this.hooks.present ? this.hooks.present(message) : message;
    this.ctx.events.emit('imchat', m);
    this.ctx.events.emit('message', m);
    this.hooks.delivered(m);
  }
}
