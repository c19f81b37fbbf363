/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * The demo mini-program's private chat, on two simulated phones talking through the real reference
 * server (in its own process). Every interaction goes through the pages: taps, input, pull-down.
 * (customExportConditions: under jsdom, `ws` would otherwise resolve to its browser stub, and the
 * wx runtime's sockets are built on it.)
 */
import { bubbles, launchPhone, openChatWith, sendFromChat, signInWithForm, sleep, type PageHandle, type Phone } from './page-harness';
import { startServerProcess, type ServerProcess } from './server-process';
import { t } from './demo-strings';

jest.setTimeout(30000);

let server: ServerProcess;
let phones: Phone[] = [];
let run = 0;

beforeAll(async () => {
  server = await startServerProcess();
});

afterEach(() => {
  for (const phone of phones) phone.destroy();
  phones = [];
});

afterAll(async () => {
  await server?.stop();
});

/** Two fresh users per test, so no test sees another's conversations. */
async function twoPhones(configA: Record<string, unknown> = {}): Promise<{ a: Phone; b: Phone; aId: string; bId: string }> {
  run += 1;
  const aId = `amy${run}`;
  const bId = `ben${run}`;
  const a = launchPhone({ server, label: aId, config: configA });
  const b = launchPhone({ server, label: bId });
  phones.push(a, b);
  await signInWithForm(a, aId, `Amy Lin ${run}`);
  await signInWithForm(b, bId, `Ben Wu ${run}`);
  return { a, b, aId, bId };
}

function count(list: string[], text: string): number {
  return list.filter((t) => t === text).length;
}

function statusOf(chat: PageHandle): string[] {
  return chat.texts('.msg-status-text');
}

test('a message sent on the chat page appears live on the peer’s list and chat page; unread rises and clears', async () => {
  const { a, b, aId, bId } = await twoPhones();
  // The SDK on each phone runs its weapp adapter over that phone's wx runtime: one SocketTask each.
  expect(a.runtime.openSockets()).toBe(1);
  expect(b.runtime.openSockets()).toBe(1);

  const bList = b.page;
  expect(bList.exists('.empty')).toBe(true);

  const chatA = await openChatWith(a, bId);
  expect(chatA.title).toBe(`Ben Wu ${run}`);
  await sendFromChat(chatA, 'Hi Ben');
  await sendFromChat(chatA, 'Lunch at noon?');
  await sendFromChat(chatA, 'The usual place');
  await a.waitFor(() => chatA.data.messages.length === 3 && chatA.data.messages.every((m: any) => m.state !== 'sending'), 'three messages stored');
  expect(bubbles(chatA)).toEqual(['Hi Ben', 'Lunch at noon?', 'The usual place']);
  expect(chatA.data.draft).toBe('');

  // B's conversation list: the new conversation at the top, preview, unread badge 3, tab badge 3.
  await b.waitFor(() => bList.text('.unread-badge') === '3', 'unread badge 3 on B’s list');
  expect(bList.texts('.conv-name')).toEqual([`Amy Lin ${run}`]);
  expect(bList.text('.conv-preview')).toBe('The usual place');
  expect(bList.exists('.empty')).toBe(false);
  expect(b.tabBadges[0]).toBe('3');

  // B opens it: the three messages, oldest first; then a live one arrives on the open page, once.
  await bList.tap('.conversation', 0);
  const chatB = await b.waitForPage('pages/chat/chat');
  await b.waitFor(() => bubbles(chatB).length === 3, 'three bubbles on B’s chat page');
  expect(bubbles(chatB)).toEqual(['Hi Ben', 'Lunch at noon?', 'The usual place']);
  expect(chatB.$$('.msg-theirs')).toHaveLength(3);

  await sendFromChat(chatA, 'See you there');
  await b.waitFor(() => bubbles(chatB).includes('See you there'), 'the live message on B’s open chat');
  await sleep(200);
  expect(count(bubbles(chatB), 'See you there')).toBe(1);

  // Back on the list: nothing unread (the chat was open), here and on the server.
  b.navigateBack();
  await b.waitFor(() => !bList.exists('.unread-badge'), 'the unread badge to clear');
  expect(bList.text('.conv-preview')).toBe('See you there');
  expect(b.tabBadges[0]).toBeUndefined();
  await b.waitFor(() => b.store.findConversation(0, aId)?.unreadCount === 0, 'unread 0 in B’s store');
  const onServer = await b.im.getConversationList();
  expect(onServer.find((c: any) => c.targetId === aId).unreadCount).toBe(0);
});

test('read state: the sender sees delivered (未读), then read (已读) once the peer opens the chat', async () => {
  const { a, b, aId, bId } = await twoPhones();
  const chatA = await openChatWith(a, bId);
  await sendFromChat(chatA, 'Did you get the doc?');

  // B is online on the list: the SDK acknowledges delivery, nobody has read it yet.
  await a.waitFor(() => statusOf(chatA).includes(t('chat.delivered')), 'delivered under A’s message');
  expect(statusOf(chatA)).not.toContain(t('chat.read'));

  await b.waitFor(() => b.page.text('.unread-badge') === '1', 'B’s unread badge');
  await b.page.tap('.conversation', 0);
  const chatB = await b.waitForPage('pages/chat/chat');
  await b.waitFor(() => bubbles(chatB).includes('Did you get the doc?'), 'the message on B’s chat page');

  await a.waitFor(() => statusOf(chatA).includes(t('chat.read')), 'read under A’s message');
  expect(chatA.$('.msg-status-read')).toBeTruthy();

  // A later message is not read until B sees it: B's chat is open, so it is read at once.
  await sendFromChat(chatA, 'Page 3 especially');
  await a.waitFor(() => chatA.data.messages.length === 2 && chatA.data.messages[1].state === 'read', 'the second message read');
  // Only the newest of my messages carries the status line.
  expect(statusOf(chatA)).toEqual([t('chat.read')]);
  expect(aId).toBeTruthy();
});

test('pull down loads older history page by page (msgSeqId = oldest seq, BACK, 20)', async () => {
  const { a, b, aId, bId } = await twoPhones();
  for (let i = 1; i <= 45; i++) await a.im.sendPrivateMessage({ recipientId: bId, content: `history ${i}` });

  await b.waitFor(() => b.page.text('.unread-badge') === '45', 'B’s unread badge 45');
  await b.page.tap('.conversation', 0);
  const chatB = await b.waitForPage('pages/chat/chat');
  await b.waitFor(() => bubbles(chatB).length === 20, 'the newest 20');
  expect(bubbles(chatB)[0]).toBe('history 26');
  expect(bubbles(chatB)[19]).toBe('history 45');
  expect(chatB.text('.history-hint')).toBe(t('chat.pullOlder'));
  // The newest message is scrolled into view.
  expect(chatB.data.scrollInto).toBe(chatB.data.messages[19].anchor);

  const history = jest.spyOn(b.store, 'history');
  await chatB.pullDown('.messages');
  await b.waitFor(() => bubbles(chatB).length === 40, '40 after one pull');
  expect(history).toHaveBeenLastCalledWith(0, aId, 26);
  expect(bubbles(chatB)[0]).toBe('history 6');
  expect(chatB.data.refreshing).toBe(false);
  // The message that was on top stays in view.
  expect(chatB.data.scrollInto).toBe(chatB.data.messages[20].anchor);

  await chatB.pullDown('.messages');
  await b.waitFor(() => bubbles(chatB).length === 45, 'all 45 after two pulls');
  expect(history).toHaveBeenLastCalledWith(0, aId, 6);
  expect(bubbles(chatB)).toEqual(Array.from({ length: 45 }, (_, i) => `history ${i + 1}`));
  expect(chatB.text('.history-hint')).toBe(t('chat.noMore'));

  // Nothing further: no request, no duplicates, the refresher stops.
  history.mockClear();
  await chatB.pullDown('.messages');
  await sleep(100);
  expect(history).not.toHaveBeenCalled();
  expect(bubbles(chatB)).toHaveLength(45);
  expect(chatB.data.refreshing).toBe(false);
});

test('the peer goes offline, messages sent meanwhile arrive once when it is back', async () => {
  const { a, b, bId } = await twoPhones();
  const chatA = await openChatWith(a, bId);
  await sendFromChat(chatA, 'before');
  await b.waitFor(() => b.page.text('.unread-badge') === '1', 'B’s unread badge');
  await b.page.tap('.conversation', 0);
  const chatB = await b.waitForPage('pages/chat/chat');
  await b.waitFor(() => bubbles(chatB).includes('before'), 'the first message on B');

  b.runtime.setNetwork(false);
  await b.waitFor(() => chatB.text('.status-bar') === t('status.offline'), 'the offline bar on B’s chat page');

  await sendFromChat(chatA, 'while you were away 1');
  await sendFromChat(chatA, 'while you were away 2');
  await a.waitFor(() => chatA.data.messages.filter((m: any) => m.state !== 'sending').length === 3, 'A’s two sends stored');
  await sleep(300);
  expect(bubbles(chatB)).toEqual(['before']);

  b.runtime.setNetwork(true);
  await b.waitFor(() => bubbles(chatB).length === 3, 'the missed messages on B after reconnecting');
  await b.waitFor(() => !chatB.exists('.status-bar'), 'the status bar to go away');
  await sleep(500);
  expect(bubbles(chatB)).toEqual(['before', 'while you were away 1', 'while you were away 2']);

  // B read them on the open page, so A sees Read; B's list shows the last one, nothing unread.
  await a.waitFor(() => statusOf(chatA).includes(t('chat.read')), 'read on A after B caught up');
  b.navigateBack();
  const bList = b.page;
  await b.waitFor(() => bList.text('.conv-preview') === 'while you were away 2', 'B’s list preview');
  expect(bList.exists('.unread-badge')).toBe(false);
});

test('a send that times out offline is marked failed, and Retry sends it exactly once, with the same clientMsgId', async () => {
  const { a, b, bId } = await twoPhones({ clientOptions: { sendTimeout: 1200 } });
  const received: string[] = [];
  b.im.on('imchat', (m: any) => received.push(m.content));
  const send = jest.spyOn(a.im, 'sendPrivateMessage');

  const chatA = await openChatWith(a, bId);
  a.runtime.setNetwork(false);
  await a.waitFor(() => chatA.text('.status-bar') === t('status.offline'), 'A’s offline bar');
  await sendFromChat(chatA, 'are you there?');
  expect(statusOf(chatA)).toEqual([t('chat.sending')]);
  await a.waitFor(() => chatA.exists('.retry'), 'the Retry button', 5000);
  expect(statusOf(chatA)[0]).toBe(t('error.notSentOffline'));
  expect(chatA.$('.bubble-failed')).toBeTruthy();

  a.runtime.setNetwork(true);
  await a.waitFor(() => a.im.getStatus() === 'connected' && !chatA.exists('.status-bar'), 'A back online');
  await chatA.tap('.retry');
  await a.waitFor(() => chatA.data.messages.length === 1 && ['sent', 'delivered', 'read'].includes(chatA.data.messages[0].state), 'the retried message stored');
  expect(chatA.exists('.retry')).toBe(false);
  expect(bubbles(chatA)).toEqual(['are you there?']);

  await b.waitFor(() => received.length === 1, 'B to receive it');
  await sleep(300);
  expect(received).toEqual(['are you there?']);
  // Retry resends the failed message under its own id, so a first attempt the server did store
  // (E_SEND_UNCERTAIN) would come back as that message instead of a second copy.
  expect(send).toHaveBeenCalledTimes(2);
  const firstError = await (send.mock.results[0]!.value as Promise<unknown>).catch((e: { clientMsgId?: string }) => e);
  expect(firstError).toMatchObject({ code: 'E_TIMEOUT', clientMsgId: expect.any(String) });
  expect(send.mock.calls[1]![0]).toMatchObject({ clientMsgId: (firstError as { clientMsgId: string }).clientMsgId, content: 'are you there?' });
});

test('bad input is explained on the page and never sent', async () => {
  const { a, b, aId, bId } = await twoPhones();
  const received: string[] = [];
  b.im.on('imchat', (m: any) => received.push(m.content));
  const chatA = await openChatWith(a, bId);
  const send = jest.spyOn(a.im, 'sendPrivateMessage');

  // Empty and blank.
  await chatA.tap('.send-btn');
  expect(chatA.text('.input-error')).toBe(t('input.empty'));
  await sendFromChat(chatA, '   \n ');
  expect(chatA.text('.input-error')).toBe(t('input.empty'));

  // Over the page's limit (2,000 characters): explained while typing, refused on send, draft kept.
  const long = 'x'.repeat(2001);
  await chatA.input('.composer-input', long);
  expect(chatA.text('.counter')).toBe('2,001 / 2,000');
  expect(chatA.text('.input-error')).toBe(t('input.tooManyChars', { chars: '2,001', max: '2,000' }));
  await chatA.tap('.send-btn');
  expect(chatA.data.draft).toBe(long);
  expect(chatA.exists('.msg')).toBe(false);

  // Back under the limit: the error goes away and the message is sent.
  await chatA.input('.composer-input', 'x'.repeat(2000));
  expect(chatA.exists('.input-error')).toBe(false);
  await chatA.tap('.send-btn');
  await b.waitFor(() => received.length === 1, 'the valid message at B');
  expect(send).toHaveBeenCalledTimes(1);
  expect(received[0]).toHaveLength(2000);
  expect(aId).toBeTruthy();
});

test('over 32 KB of UTF-8 is refused on the page even when the character limit allows it', async () => {
  run += 1;
  const phone = launchPhone({ server, label: 'wide', config: { maxMessageChars: 100000 } });
  phones.push(phone);
  await signInWithForm(phone, `wide${run}`, 'Wide Text');
  const peer = launchPhone({ server, label: 'peer' });
  phones.push(peer);
  await signInWithForm(peer, `peer${run}`, 'Peer');
  const chat = await openChatWith(phone, `peer${run}`);
  const send = jest.spyOn(phone.im, 'sendPrivateMessage');

  // 9,000 characters of 4 bytes each: 36,000 bytes, over the protocol's 32,768.
  await sendFromChat(chat, '😀'.repeat(9000));
  expect(chat.text('.input-error')).toBe(t('input.tooManyBytes', { kb: 36 }));
  expect(send).not.toHaveBeenCalled();
  expect(chat.exists('.msg')).toBe(false);
});
