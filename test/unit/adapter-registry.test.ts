import { ImClient } from '../../src/client';
import { detectAdapter, registerAdapter } from '../../src/core/adapter-registry';
import { MemoryAdapter } from '../helpers/memory-adapter';

describe('adapter selection', () => {
  it('with nothing usable, E_NO_ADAPTER names every candidate and why it was unusable', () => {
    registerAdapter({ name: 'alpha', isSupported: () => 'no alpha global', create: () => new MemoryAdapter() });
    registerAdapter({
      name: 'beta',
      isSupported: () => {
        throw new Error('probe crashed');
      },
      create: () => new MemoryAdapter(),
    });
    expect(() => detectAdapter()).toThrow(expect.objectContaining({ code: 'E_NO_ADAPTER', message: expect.stringMatching(/alpha: no alpha global; beta: probe crashed/) }));
  });

  it('the first supported candidate wins, and the choice is logged at debug level', async () => {
    const chosen = new MemoryAdapter();
    registerAdapter({ name: 'gamma', isSupported: () => true, create: () => chosen });
    const lines: string[] = [];
    const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', logLevel: 'debug', logger: { debug: (...a) => lines.push(a.join(' ')), info: () => undefined, warn: () => undefined, error: () => undefined } });
    await client.connect({ token: 'a.b.c' });
    expect(chosen.sockets).toHaveLength(1);
    expect(lines.some((l) => l.includes('detected adapter "memory"'))).toBe(true);
    client.destroy();
  });

  it('an injected adapter always wins over detection', async () => {
    registerAdapter({ name: 'delta', isSupported: () => true, create: () => { throw new Error('detection must not run'); } });
    const injected = new MemoryAdapter();
    const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', adapter: injected, logLevel: 'silent' });
    await client.connect({ token: 'a.b.c' });
    expect(injected.sockets).toHaveLength(1);
    client.destroy();
  });
});
