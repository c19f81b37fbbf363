/** Replies: the server checks the original is in the same conversation and shows a current preview of it everywhere the reply appears. */
import { call, closeAll, collect, connect, http, startServer, tokenFor, until, type TestServer } from './helpers';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => closeAll());

it('a reply carries a preview of the original (live, ack, sync, history, conversation list); other conversations are refused', async () => {
  const ta = await tokenFor(server, 'rp-a', 'Ann');
  const tb = await tokenFor(server, 'rp-b', 'Bo');
  await tokenFor(server, 'rp-c');
  const a = await connect(server, ta);
  const b = await connect(server, tb);
  const live = collect<any>(a, 'imchat');
  const long = '长'.repeat(150);
  const original = (await call(a, 'chat:send', { clientMsgId: 'rp-1', chatType: 0, to: 'rp-b', content: long })).data;
  const reply = await call(b, 'chat:send', { clientMsgId: 'rp-2', chatType: 0, to: 'rp-a', content: 'yes', replyTo: original.messageId });
  expect(reply.code).toBe(0);
  const preview = { messageId: original.messageId, from: 'rp-a', fromName: 'Ann', msgType: 0, content: `${'长'.repeat(100)}…` };
  expect(reply.data.replyTo).toEqual(preview);
  expect(reply.data.replyToId).toBeUndefined();
  await until(() => live.length === 1);
  expect(live[0].replyTo).toEqual(preview);
  const synced = (await call(a, 'chat:sync', { afterInboxSeq: 0 })).data.messages.find((m: any) => m.clientMsgId === 'rp-2');
  expect(synced.replyTo).toEqual(preview);
  const history = (await http(server, 'GET', '/api/private/rp-b/messages?limitSize=10', undefined, ta)).body.data;
  expect(history.find((m: any) => m.clientMsgId === 'rp-2').replyTo).toEqual(preview);
  expect(history.find((m: any) => m.clientMsgId === 'rp-1').replyTo).toBeUndefined();
  const conv = (await http(server, 'GET', '/api/conversations', undefined, ta)).body.data.find((c: any) => c.targetId === 'rp-b');
  expect(conv.lastMessage.replyTo).toEqual(preview);
  // The original belongs to a-b: replying to it from a conversation with c is "not found".
  const elsewhere = await call(a, 'chat:send', { clientMsgId: 'rp-3', chatType: 0, to: 'rp-c', content: 'x', replyTo: original.messageId });
  expect(elsewhere.code).toBe(40400);
  expect((await call(a, 'chat:send', { clientMsgId: 'rp-4', chatType: 0, to: 'rp-b', content: 'x', replyTo: 'no-such-message' })).code).toBe(40400);
  // A group: members reply to group messages; a reply in the group to a private message is refused.
  const g = (await http(server, 'POST', '/api/groups', { name: 'R', userIdList: ['rp-b'] }, ta)).body.data;
  const gm = (await call(a, 'chat:send', { clientMsgId: 'rp-5', chatType: 1, to: g.id, content: 'group hello' })).data;
  expect((await call(b, 'chat:send', { clientMsgId: 'rp-6', chatType: 1, to: g.id, content: 'hi', replyTo: gm.messageId })).data.replyTo).toMatchObject({ messageId: gm.messageId, content: 'group hello' });
  expect((await call(b, 'chat:send', { clientMsgId: 'rp-7', chatType: 1, to: g.id, content: 'hi', replyTo: original.messageId })).code).toBe(40400);
});

it('mentions: group only, members only, "all" for the owner; mentionedMe until the conversation is read', async () => {
  const to = await tokenFor(server, 'mn-owner');
  const tm = await tokenFor(server, 'mn-member');
  await tokenFor(server, 'mn-out');
  const g = (await http(server, 'POST', '/api/groups', { name: 'Mentions', userIdList: ['mn-member'] }, to)).body.data;
  const o = await connect(server, to);
  const m = await connect(server, tm);
  const sent = await call(o, 'chat:send', { clientMsgId: 'mn-1', chatType: 1, to: g.id, content: '@member look', mentions: ['mn-member', 'mn-member'] });
  expect(sent.data.mentions).toEqual(['mn-member']);
  const conv = async () => (await http(server, 'GET', '/api/conversations', undefined, tm)).body.data.find((c: any) => c.targetId === g.id);
  expect((await conv()).mentionedMe).toBe(true);
  await http(server, 'POST', '/api/conversations/read', { chatType: 1, targetId: g.id }, tm);
  expect((await conv()).mentionedMe).toBe(false);
  expect((await call(o, 'chat:send', { clientMsgId: 'mn-2', chatType: 1, to: g.id, content: 'x', mentions: ['mn-out'] })).code).toBe(40000);
  expect((await call(m, 'chat:send', { clientMsgId: 'mn-3', chatType: 1, to: g.id, content: 'x', mentions: 'all' })).code).toBe(40300);
  expect((await call(o, 'chat:send', { clientMsgId: 'mn-4', chatType: 0, to: 'mn-member', content: 'x', mentions: ['mn-member'] })).code).toBe(40000);
  expect((await call(o, 'chat:send', { clientMsgId: 'mn-5', chatType: 1, to: g.id, content: 'all of you', mentions: 'all' })).data.mentions).toBe('all');
  expect((await conv()).mentionedMe).toBe(true);
});
