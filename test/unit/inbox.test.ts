import { InboxSequencer } from '../../src/sync/inbox-sequencer';
import type { ImMessage } from '../../src/core/protocol';

const msg = (inboxSeq: number): ImMessage => ({
  messageId: `m${inboxSeq}`, clientMsgId: `c${inboxSeq}`, from: 'a', fromName: 'A', to: 'b', content: String(inboxSeq),
  chatType: 0, msgType: 0, timestamp: inboxSeq, data: null, seq: inboxSeq, inboxSeq,
});

describe('InboxSequencer', () => {
  it('delivers in inboxSeq order, buffering messages that arrive early', () => {
    const out: number[] = [];
    const s = new InboxSequencer((m) => out.push(m.inboxSeq!));
    s.reset(0);
    expect(s.accept({ inboxSeq: 2, message: msg(2) })).toBe(true);
    expect(s.accept({ inboxSeq: 3, message: msg(3) })).toBe(true);
    expect(out).toEqual([]);
    expect(s.accept({ inboxSeq: 1, message: msg(1) })).toBe(false);
    expect(out).toEqual([1, 2, 3]);
    expect(s.position).toBe(3);
  });

  it('skips a gap only before an entry that was buffered when the sync was sent (skipGapBefore)', () => {
    const out: number[] = [];
    const s = new InboxSequencer((m) => out.push(m.inboxSeq!));
    s.reset(8);
    // A sync is sent with nothing buffered; while it is out, 10 arrives live. The sync's read may
    // predate 9's commit, so the gap before 10 may still fill: not skipped.
    const barrier = s.highestPending;
    expect(barrier).toBe(0);
    s.accept({ inboxSeq: 10, message: msg(10) });
    expect(s.skipGapBefore(barrier)).toBe(false);
    expect(out).toEqual([]);
    // The next sync is sent with 10 buffered: if 9 is still missing after it, 9 does not exist.
    const second = s.highestPending;
    expect(second).toBe(10);
    s.accept({ inboxSeq: 12, message: msg(12) }); // live again, during the second sync
    expect(s.skipGapBefore(second)).toBe(false); // 10 delivered, the gap before 12 may still fill
    expect(out).toEqual([10]);
    s.accept({ inboxSeq: 11, message: msg(11) });
    expect(out).toEqual([10, 11, 12]);
    expect(s.skipGapBefore(0)).toBe(true);
  });

  it('drops duplicates at or below the cursor', () => {
    const out: number[] = [];
    const s = new InboxSequencer((m) => out.push(m.inboxSeq!));
    s.reset(5);
    s.accept({ inboxSeq: 5, message: msg(5) });
    s.accept({ inboxSeq: 6, message: msg(6) });
    s.accept({ inboxSeq: 6, message: msg(6) });
    expect(out).toEqual([6]);
  });

  it('advances over own acknowledged sends without emitting them', () => {
    const out: number[] = [];
    const s = new InboxSequencer((m) => out.push(m.inboxSeq!));
    s.reset(0);
    s.accept({ inboxSeq: 1, message: null });
    s.accept({ inboxSeq: 2, message: msg(2) });
    expect(out).toEqual([2]);
    expect(s.position).toBe(2);
  });

  it('ignores everything until a starting point is known', () => {
    const out: number[] = [];
    const s = new InboxSequencer((m) => out.push(m.inboxSeq!));
    s.accept({ inboxSeq: 1, message: msg(1) });
    expect(out).toEqual([]);
    expect(s.position).toBeUndefined();
  });

  it('reset past buffered entries drops them and drains what follows', () => {
    const out: number[] = [];
    const s = new InboxSequencer((m) => out.push(m.inboxSeq!));
    s.reset(0);
    s.accept({ inboxSeq: 3, message: msg(3) });
    s.accept({ inboxSeq: 5, message: msg(5) });
    s.reset(4);
    expect(out).toEqual([5]);
    expect(s.hasGap).toBe(false);
  });
});
