import type { Connection } from '../connection/connection';
import { CoalescedWriter } from '../core/coalesced-writer';
import type { ClientContext } from '../core/context';
import type { ImError } from '../core/errors';
import { SocketEvent, type ImMessage, type SessionInfo } from '../core/protocol';
import { keyFor } from '../core/storage-keys';
import { InboxSequencer } from './inbox-sequencer';

interface GroupState {
  groupId: string;
  lastSeq: number;
  joinedSeq: number;
}

interface GroupPage {
  messages: ImMessage[];
  hasMore: boolean;
  lastSeq: number;
  joinedSeq: number;
}

/** Groups caught up at once after a reconnect: a few round trips in flight, not thousands. */
const PARALLEL_GROUP_SYNCS = 4;
const PAGE = 200;
/** Pulls in a row that may end with a gap before one is skipped as unfillable. */
const MAX_GAP_ROUNDS = 5;

export interface GroupHooks {
  /** True when `m` is a pending send of this device (its ack was lost); it is settled by this. */
  claim(m: ImMessage): boolean;
  /** Hands a message to the app. */
  deliver(m: ImMessage): void;
}

/**
 * Group messages are not in the user's inbox (the server writes a group message once, whatever
 * the group's size): each group is read from its own sequence. Per group this keeps a sequencer
 * (exactly once, in `seq` order) and a cursor on the device; after every session it lists the
 * user's groups and pulls what each is missing.
 */
export class GroupCatchUp {
  private readonly groups = new Map<string, InboxSequencer>();
  /** Seqs of our own acked sends in groups whose starting point is not known yet. */
  private readonly ownEarly = new Map<string, number[]>();
  private readonly syncing = new Map<string, Promise<boolean>>();
  /** Groups unknown to this device whose live messages arrived during a catch-up. */
  private readonly seenDuringCatchUp = new Set<string>();
  private readonly writer: CoalescedWriter;
  private ready = false;
  /**
   * Whether this device has caught groups up before (for this user): then a group new to it
   * starts where the user joined, else at its present. Known from the stored positions (written,
   * `{}` included, by the first catch-up that listed the groups), not from the inbox cursor.
   */
  private known = false;
  /** Positions read from storage, kept until a successful listing has applied them. */
  private stored: Record<string, unknown> | undefined;
  /** The session whose storage the positions are written under. */
  private owner: SessionInfo | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly conn: Connection,
    private readonly hooks: GroupHooks,
  ) {
    this.writer = new CoalescedWriter(
      () => this.writeCursors(),
      (err) => ctx.log.debug('could not store the group positions', err),
    );
  }

  /** Another user on this client: their groups are their own. */
  clear(): void {
    this.groups.clear();
    this.ownEarly.clear();
    this.seenDuringCatchUp.clear();
    this.known = false;
    this.stored = undefined;
  }

  lost(): void {
    this.ready = false;
  }

  /**
   * Lists the user's groups and catches each one up. A group new to this device starts where the
   * user joined it, or at its present on a device that has never caught groups up (older messages
   * are in history), as the inbox does. False when the connection failed meanwhile.
   */
  async catchUp(session: SessionInfo, isCurrent: () => boolean): Promise<boolean> {
    try {
      this.owner = session;
      if (!this.known && this.stored === undefined) {
        const read = await this.readCursors(session);
        if (!isCurrent()) return false;
        if (read) this.stored = read;
      }
      const stored = this.stored ?? {};
      const deviceKnown = this.known || this.stored !== undefined;
      const states = await this.listGroups();
      if (!isCurrent()) return false;
      const listed = new Set(states.map((g) => g.groupId));
      for (const id of [...this.groups.keys()]) if (!listed.has(id)) this.groups.delete(id);
      const behind: string[] = [];
      for (const g of states) {
        let seq = this.groups.get(g.groupId);
        // Below the join (left and added again): what was sent in between is not this user's.
        if (seq && (seq.position ?? 0) < g.joinedSeq) seq = undefined;
        if (!seq) {
          const saved = stored[g.groupId];
          const start = typeof saved === 'number' && saved >= g.joinedSeq && saved <= g.lastSeq ? saved : deviceKnown ? g.joinedSeq : g.lastSeq;
          seq = this.track(g.groupId, start);
        }
        if ((seq.position ?? 0) < g.lastSeq) behind.push(g.groupId);
      }
      // Applied: from now on the positions in memory are the ones that count.
      this.known = true;
      this.stored = undefined;
      this.save();
      for (let i = 0; i < behind.length; i += PARALLEL_GROUP_SYNCS) {
        const results = await Promise.all(behind.slice(i, i + PARALLEL_GROUP_SYNCS).map((id) => this.syncGroup(id)));
        if (results.includes(false) || !isCurrent()) return false;
      }
      this.ready = true;
      // Groups that appeared while the list was being worked through.
      for (const id of this.seenDuringCatchUp) if (!this.groups.has(id)) void this.syncGroup(id);
      this.seenDuringCatchUp.clear();
      return true;
    } catch (err) {
      this.ctx.log.warn('group catch-up failed; it runs again on the next connection', err);
      return false;
    }
  }

  /** A live group message (no inboxSeq: groups are read diffusion). */
  onLive(m: ImMessage): void {
    const seq = this.groups.get(m.to);
    if (!seq) {
      // A group this device does not know yet (just joined or created): its messages since the
      // join come from the group's sequence, this one included.
      if (this.ready) void this.syncGroup(m.to);
      else this.seenDuringCatchUp.add(m.to);
      return;
    }
    const gap = seq.accept({ inboxSeq: m.seq, message: this.hooks.claim(m) ? null : m });
    if (gap && this.ready) void this.syncGroup(m.to);
  }

  /** The ack of our own group send: its seq is passed without an `imchat`. */
  acceptOwn(m: ImMessage): void {
    const seq = this.groups.get(m.to);
    if (seq) {
      seq.accept({ inboxSeq: m.seq, message: null });
      this.save();
      return;
    }
    this.ownEarly.set(m.to, [...(this.ownEarly.get(m.to) ?? []), m.seq]);
    if (this.ready) void this.syncGroup(m.to);
  }

  /** Pulls one group's messages after its position (after the join for a new group), once at a time. */
  private syncGroup(groupId: string): Promise<boolean> {
    const running = this.syncing.get(groupId);
    if (running) return running;
    const run = this.pull(groupId).finally(() => this.syncing.delete(groupId));
    this.syncing.set(groupId, run);
    return run;
  }

  private async pull(groupId: string): Promise<boolean> {
    try {
      for (let round = 1; ; round++) {
        let barrier = 0;
        for (;;) {
          const seq = this.groups.get(groupId);
          const payload = seq?.position === undefined ? { groupId, limit: PAGE } : { groupId, afterSeq: seq.position, limit: PAGE };
          barrier = seq?.highestPending ?? 0;
          const page = await this.conn.rpc.patiently<GroupPage>(SocketEvent.GROUP_SYNC, payload, 'group sync');
          // Below the join (left and added again): start again from the join.
          const target = seq && (seq.position ?? 0) >= page.joinedSeq ? seq : this.track(groupId, page.joinedSeq);
          for (const m of page.messages) target.accept({ inboxSeq: m.seq, message: this.hooks.claim(m) ? null : m });
          if (!page.hasMore || !page.messages.length) break;
        }
        // Group seqs have no holes: a gap a complete pull cannot fill is skipped, but only one that
        // was there before the pull's read; a live message that came meanwhile may be newer than it.
        const seq = this.groups.get(groupId);
        if (!seq?.hasGap || seq.skipGapBefore(barrier)) break;
        if (round >= MAX_GAP_ROUNDS) {
          this.ctx.log.warn(`group ${groupId}: gap not filled by complete pulls; skipping ahead`);
          seq.skipGap();
          break;
        }
      }
      this.save();
      return true;
    } catch (err) {
      const code = (err as ImError | undefined)?.code;
      if (code === 'E_FORBIDDEN' || code === 'E_NOT_FOUND') {
        // Left, removed or dismissed: nothing more to read there.
        this.groups.delete(groupId);
        this.save();
        return true;
      }
      // A connection that went is the usual reason, and the next one catches up again.
      if (code === 'E_NOT_CONNECTED') this.ctx.log.debug(`catch-up of group ${groupId} stopped: the connection went`);
      else this.ctx.log.warn(`catch-up of group ${groupId} failed`, err);
      return false;
    }
  }

  private track(groupId: string, start: number): InboxSequencer {
    const seq = new InboxSequencer((m) => {
      this.save();
      this.hooks.deliver(m);
    });
    this.groups.set(groupId, seq);
    seq.reset(start);
    for (const own of this.ownEarly.get(groupId) ?? []) seq.accept({ inboxSeq: own, message: null });
    this.ownEarly.delete(groupId);
    return seq;
  }

  private async listGroups(): Promise<GroupState[]> {
    const all: GroupState[] = [];
    let after = '';
    for (;;) {
      const page = await this.conn.rpc.patiently<{ groups: GroupState[]; hasMore: boolean }>(SocketEvent.GROUPS, { after, limit: 500 }, 'group list');
      all.push(...page.groups);
      if (!page.hasMore || !page.groups.length) return all;
      after = page.groups[page.groups.length - 1]!.groupId;
    }
  }

  private save(): void {
    this.writer.schedule();
  }

  /** The stored positions; undefined when this device never stored any for the user. */
  private async readCursors(s: SessionInfo): Promise<Record<string, unknown> | undefined> {
    try {
      const raw = await this.ctx.adapter.storage.getItem(keyFor(s.appId, s.userId, 'groupSeqs'));
      if (!raw) return undefined;
      const parsed = JSON.parse(raw) as unknown;
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    } catch (err) {
      this.ctx.log.warn('could not read the stored group positions', err);
      return undefined;
    }
  }

  private async writeCursors(): Promise<void> {
    // The user the positions belong to, even while the socket is down.
    const s = this.owner;
    if (!s || !this.known) return;
    const out: Record<string, number> = {};
    for (const [id, seq] of this.groups) if (seq.position !== undefined) out[id] = seq.position;
    await this.ctx.adapter.storage.setItem(keyFor(s.appId, s.userId, 'groupSeqs'), JSON.stringify(out));
  }
}
