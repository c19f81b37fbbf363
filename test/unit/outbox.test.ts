import { ImError } from '../../src/core/errors';
import { Outbox, type SendPayload } from '../../src/messaging/outbox';
import type { ImMessage } from '../../src/core/protocol';

const payload = (id: string): SendPayload => ({ clientMsgId: id, chatType: 0, to: 'b', content: 'hi', msgType: 0, data: null });
const stored = (id: string) => ({ messageId: `s-${id}`, clientMsgId: id } as ImMessage);

describe('Outbox', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects a never-emitted message with E_TIMEOUT and never emits it afterwards', async () => {
    const box = new Outbox(() => 1000);
    const p = box.enqueue(payload('a'));
    jest.advanceTimersByTime(1001);
    await expect(p).rejects.toMatchObject({ code: 'E_TIMEOUT' });
    const emitted: string[] = [];
    box.flush((pl) => emitted.push(pl.clientMsgId));
    expect(emitted).toEqual([]);
  });

  it('every rejection names the clientMsgId, so an uncertain send can be looked up in history', async () => {
    const box = new Outbox(() => 1000);
    const timedOut = box.enqueue(payload('t'));
    jest.advanceTimersByTime(1001);
    await expect(timedOut).rejects.toMatchObject({ code: 'E_TIMEOUT', clientMsgId: 't' });
    const refused = box.enqueue(payload('r'));
    const uncertain = box.enqueue(payload('u'));
    const acks: Array<(e: ImError | null, m?: ImMessage) => void> = [];
    box.flush((_pl, onAck) => acks.push(onAck));
    acks[0]!(new ImError('E_FORBIDDEN', 'not a member', { serverCode: 40300 }));
    await expect(refused).rejects.toMatchObject({ code: 'E_FORBIDDEN', serverCode: 40300, clientMsgId: 'r' });
    const queued = box.enqueue(payload('q'));
    box.failAll('E_NOT_CONNECTED', 'disconnect() was called');
    await expect(uncertain).rejects.toMatchObject({ code: 'E_SEND_UNCERTAIN', clientMsgId: 'u' });
    await expect(queued).rejects.toMatchObject({ code: 'E_NOT_CONNECTED', clientMsgId: 'q' });
  });

  it('does not time out a message once emitted: only the server answer settles it', async () => {
    const box = new Outbox(() => 1000);
    const p = box.enqueue(payload('a'));
    let ack: ((e: ImError | null, m?: ImMessage) => void) | undefined;
    box.flush((_pl, onAck) => (ack = onAck));
    jest.advanceTimersByTime(5000);
    ack!(null, stored('a'));
    await expect(p).resolves.toMatchObject({ messageId: 's-a' });
  });

  it('re-emits unacknowledged messages in order with the same id after the connection is lost', () => {
    const box = new Outbox(() => 1000);
    void box.enqueue(payload('a'));
    void box.enqueue(payload('b'));
    const first: string[] = [];
    box.flush((pl) => first.push(pl.clientMsgId));
    const again: string[] = [];
    box.flush((pl) => again.push(pl.clientMsgId));
    expect(first).toEqual(['a', 'b']);
    expect(again).toEqual([]); // still in flight on this connection
    box.connectionLost();
    box.flush((pl) => again.push(pl.clientMsgId));
    expect(again).toEqual(['a', 'b']);
  });

  it('failAll reports emitted messages as uncertain and unsent ones with the given code', async () => {
    const box = new Outbox(() => 10000);
    const a = box.enqueue(payload('a'));
    box.flush(() => undefined);
    const b = box.enqueue(payload('b'));
    box.failAll('E_NETWORK', 'gave up');
    await expect(a).rejects.toMatchObject({ code: 'E_SEND_UNCERTAIN' });
    await expect(b).rejects.toMatchObject({ code: 'E_NETWORK' });
    expect(box.size).toBe(0);
  });

  it('keeps a message the server refused while shutting down (50300) for the next connection', async () => {
    const box = new Outbox(() => 10000);
    const p = box.enqueue(payload('a'));
    box.flush((_pl, onAck) => onAck(new ImError('E_SERVER', 'shutting down', { serverCode: 50300 })));
    expect(box.has('a')).toBe(true);
    box.flush((_pl, onAck) => onAck(null, stored('a')));
    await expect(p).resolves.toMatchObject({ clientMsgId: 'a' });
  });

  it('rejects with the server error for a definitive refusal', async () => {
    const box = new Outbox(() => 10000);
    const p = box.enqueue(payload('a'));
    box.flush((_pl, onAck) => onAck(new ImError('E_FORBIDDEN', 'not a member', { serverCode: 40300 })));
    await expect(p).rejects.toMatchObject({ code: 'E_FORBIDDEN' });
  });
});
