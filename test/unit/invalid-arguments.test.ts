/**
 * Every public method, called with bad input, fails with an ImError carrying a stable code and a
 * message naming the problem; never a bare TypeError, never a request sent.
 */
import { ImClient } from '../../src/client';
import { ImError } from '../../src/errors';
import { FAKE_TOKEN, MemoryAdapter, flush } from '../helpers/memory-adapter';

type Call = [name: string, run: (c: ImClient) => unknown, code: string];

const cases: Call[] = [
  ['getToken()', (c) => (c.getToken as any)(), 'E_INVALID_ARGUMENT'],
  ['getToken(string)', (c) => (c.getToken as any)('x'), 'E_INVALID_ARGUMENT'],
  ['getToken missing appSecret', (c) => (c.getToken as any)({ appId: 'a', userId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['getToken bad userId', (c) => c.getToken({ appId: 'a', appSecret: 's', userId: 'has space' }), 'E_INVALID_ARGUMENT'],
  ['getToken bad apiServer', (c) => c.getToken({ apiServer: 'ftp://x', appId: 'a', appSecret: 's', userId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['registerUser bad imRole', (c) => (c.registerUser as any)({ appId: 'a', appSecret: 's', userId: 'u', imRole: 'root' }), 'E_INVALID_ARGUMENT'],
  ['registerUser valid not boolean', (c) => (c.registerUser as any)({ appId: 'a', appSecret: 's', userId: 'u', valid: 'yes' }), 'E_INVALID_ARGUMENT'],
  ['getUserInfo no userId', (c) => (c.getUserInfo as any)({}), 'E_INVALID_ARGUMENT'],
  ['getUserInfo null', (c) => (c.getUserInfo as any)(null), 'E_INVALID_ARGUMENT'],
  ['connect(number)', (c) => (c.connect as any)(42), 'E_INVALID_ARGUMENT'],
  ['connect bad serverUrl', (c) => c.connect({ serverUrl: 'not a url' }), 'E_INVALID_ARGUMENT'],
  ['connect token not a JWT', (c) => c.connect({ token: 'abc' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage()', (c) => (c.sendPrivateMessage as any)(), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage empty content', (c) => c.sendPrivateMessage({ content: '   ', recipientId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage content number', (c) => (c.sendPrivateMessage as any)({ content: 5, recipientId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage oversized', (c) => c.sendPrivateMessage({ content: '好'.repeat(11000), recipientId: 'u' }), 'E_PAYLOAD_TOO_LARGE'],
  ['sendPrivateMessage unpaired surrogate', (c) => c.sendPrivateMessage({ content: 'half an emoji \ud83d', recipientId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage lone low surrogate', (c) => c.sendGroupMessage({ content: '\ude00', groupId: 'g' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage no recipient', (c) => (c.sendPrivateMessage as any)({ content: 'x' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage bad msgType', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u', msgType: 1.5 }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage circular data', (c) => {
    const data: Record<string, unknown> = {};
    data.self = data;
    return c.sendPrivateMessage({ content: 'x', recipientId: 'u', data });
  }, 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage huge data', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u', data: { a: 'x'.repeat(40000) } }), 'E_PAYLOAD_TOO_LARGE'],
  ['sendGroupMessage no groupId', (c) => (c.sendGroupMessage as any)({ content: 'x' }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage groupId object', (c) => (c.sendGroupMessage as any)({ content: 'x', groupId: {} }), 'E_INVALID_ARGUMENT'],
  ['sendReadReceipt()', (c) => (c.sendReadReceipt as any)(), 'E_INVALID_ARGUMENT'],
  ['sendReadReceipt bad toUserId', (c) => c.sendReadReceipt('m1', 'bad id!'), 'E_INVALID_ARGUMENT'],
  ['createGroup no name', (c) => (c.createGroup as any)({ userIdList: [] }), 'E_INVALID_ARGUMENT'],
  ['createGroup userIdList not array', (c) => (c.createGroup as any)({ name: 'g', userIdList: 'u1,u2' }), 'E_INVALID_ARGUMENT'],
  ['createGroup bad member id', (c) => c.createGroup({ name: 'g', userIdList: ['ok', ''] }), 'E_INVALID_ARGUMENT'],
  ['getGroupList(string)', (c) => (c.getGroupList as any)('x'), 'E_INVALID_ARGUMENT'],
  ['getGroupInfo no groupId', (c) => (c.getGroupInfo as any)({}), 'E_INVALID_ARGUMENT'],
  ['getGroupMembers bad groupId', (c) => c.getGroupMembers({ groupId: '../etc' }), 'E_INVALID_ARGUMENT'],
  ['addGroupMembers empty list', (c) => c.addGroupMembers({ groupId: 'g', userIdList: [] }), 'E_INVALID_ARGUMENT'],
  ['removeGroupMember no userId', (c) => (c.removeGroupMember as any)({ groupId: 'g' }), 'E_INVALID_ARGUMENT'],
  ['leaveGroup()', (c) => (c.leaveGroup as any)(), 'E_INVALID_ARGUMENT'],
  ['dismissGroup bad id', (c) => c.dismissGroup({ groupId: 'x'.repeat(65) }), 'E_INVALID_ARGUMENT'],
  ['history bad syncType', (c) => (c.getGroupHistoryMessages as any)({ groupId: 'g', syncType: 'UP' }), 'E_INVALID_ARGUMENT'],
  ['history negative msgSeqId', (c) => c.getGroupHistoryMessages({ groupId: 'g', msgSeqId: -1 }), 'E_INVALID_ARGUMENT'],
  ['history limitSize 0', (c) => c.getGroupHistoryMessages({ groupId: 'g', limitSize: 0 }), 'E_INVALID_ARGUMENT'],
  ['private history no peer', (c) => (c.getPrivateHistoryMessages as any)({}), 'E_INVALID_ARGUMENT'],
  ['markConversationRead bad chatType', (c) => (c.markConversationRead as any)({ chatType: 2, targetId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['on no callback', (c) => (c.on as any)('imchat'), 'E_INVALID_ARGUMENT'],
  ['on bad event', (c) => (c.on as any)(42, () => undefined), 'E_INVALID_ARGUMENT'],
  ['once no callback', (c) => (c.once as any)('imchat', 'x'), 'E_INVALID_ARGUMENT'],
  ['off bad callback', (c) => (c.off as any)('imchat', 'x'), 'E_INVALID_ARGUMENT'],
  ['setLogLevel bad', (c) => (c.setLogLevel as any)('loud'), 'E_INVALID_ARGUMENT'],
  ['setLogger bad', (c) => (c.setLogger as any)({}), 'E_INVALID_ARGUMENT'],
  ['renewToken bad', (c) => (c.renewToken as any)(123), 'E_INVALID_ARGUMENT'],
];

async function outcome(run: () => unknown): Promise<unknown> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('invalid arguments across the public API', () => {
  it.each(cases)('%s', async (_name, run, code) => {
    const adapter = new MemoryAdapter();
    const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', apiServer: 'http://127.0.0.1:2', adapter, logLevel: 'silent' });
    try {
      await client.connect({ token: FAKE_TOKEN }).catch(() => undefined);
      await flush();
      const sentBefore = adapter.socket.emitted.length;
      const err = await outcome(() => run(client));
      expect(err).toBeInstanceOf(ImError);
      expect((err as ImError).code).toBe(code);
      expect((err as ImError).message.length).toBeGreaterThan(10);
      expect(adapter.requests).toHaveLength(0);
      expect(adapter.socket.emitted.length).toBe(sentBefore);
    } finally {
      client.destroy();
    }
  });

  it('bad constructor options throw ImError', () => {
    for (const opts of [5, { reconnection: 'yes' }, { reconnectionDelay: -1 }, { timeout: NaN }, { serverUrl: 42 }, { logLevel: 'x' }, { tokenProvider: 'x' }, { adapter: {} }]) {
      expect(() => new ImClient(opts as never)).toThrow(ImError);
    }
  });

  it('calls that need a connection, a token or an apiServer say so', async () => {
    const adapter = new MemoryAdapter();
    const bare = new ImClient({ adapter, logLevel: 'silent' });
    await expect(bare.connect()).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' }); // no serverUrl
    await expect(bare.getGroupList()).rejects.toMatchObject({ code: 'E_NO_API_SERVER' });
    const withApi = new ImClient({ adapter, apiServer: 'http://127.0.0.1:2', serverUrl: 'http://127.0.0.1:1', logLevel: 'silent' });
    await expect(withApi.getGroupList()).rejects.toMatchObject({ code: 'E_NO_TOKEN' });
    await expect(withApi.connect()).rejects.toMatchObject({ code: 'E_NO_TOKEN' });
    await expect(withApi.sendGroupMessage({ content: 'x', groupId: 'g' })).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
    expect(withApi.sendReadReceipt('m1', 'u1')).toBe(false);
    expect(withApi.sendHeartbeat()).toBe(false);
    bare.destroy();
    withApi.destroy();
  });

  it('platform failures become ImError, never a bare TypeError', async () => {
    const adapter = new MemoryAdapter();
    adapter.respond = () => {
      throw new TypeError('fetch failed');
    };
    const client = new ImClient({ adapter, apiServer: 'http://127.0.0.1:2', logLevel: 'silent' });
    await expect(client.getToken({ appId: 'a', appSecret: 's', userId: 'u' })).rejects.toMatchObject({ code: 'E_NETWORK' });
    adapter.respond = () => ({ status: 502, headers: {}, data: '<html>bad gateway</html>' });
    await expect(client.getToken({ appId: 'a', appSecret: 's', userId: 'u' })).rejects.toMatchObject({ code: 'E_SERVER' });
    client.destroy();
  });
});
