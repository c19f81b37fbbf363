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
