/**
 * Compile-time checks of the public typings (`npm run typecheck` fails if they regress), plus the
 * runtime facts they describe: `on` chains and the event map types each listener's arguments.
 */
import DefaultExport, { ImClient, type ImMessage, type ConnectionStatus } from '../../entries/web';
import { MemoryAdapter } from '../helpers/memory-adapter';

describe('public typings', () => {
  it('ImClient is both the named and the default export; on/off/once chain', () => {
    expect(DefaultExport).toBe(ImClient);
    const client = new ImClient({ adapter: new MemoryAdapter(), logLevel: 'silent' });
    const onMessage = (m: ImMessage) => {
      const id: string = m.messageId;
      const type: 0 | 1 = m.chatType;
      // @ts-expect-error content is a string, not a number
      const wrong: number = m.content;
      return [id, type, wrong];
    };
    const chained = client
      .on('imchat', onMessage)
      .on('status', (s) => {
        const status: ConnectionStatus = s;
        return status;
      })
      .on('reconnect', (n) => n.toFixed())
      .once('disconnect', (reason) => reason.toUpperCase())
      .off('imchat', onMessage);
    expect(chained).toBe(client);
    client.destroy();
  });
});
