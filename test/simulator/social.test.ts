/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * The demo's conversation actions (swipe for Pin / Mute / Delete, badges without muted ones,
 * drafts), online dots, group read receipts ("1人已读 · 1人未读", tap for who) and the group
 * info page of an owner (make admin, announcement, mute, mute everyone) with the notifications
 * they leave in the chat, on simulated phones through the real reference server.
 */
import { bubbles, launchPhone, openChatWith, sendFromChat, signInAsDemoUser, type PageHandle, type Phone } from './page-harness';
import { startServerProcess, type ServerProcess } from './server-process';
import { t } from './demo-strings';

jest.setTimeout(45000);

let server: ServerProcess;
let phones: Phone[] = [];

/** What the user picks in the next action sheet (by label) and types into the next edit box. */
const choice: { item?: string; edit?: string; sheets: string[][]; modals: Array<{ title?: string; content?: string }> } = { sheets: [], modals: [] };
const runtime = {
  actionSheetResponse: ({ itemList }: { itemList: string[] }) => {
    choice.sheets.push(itemList);
    return { tapIndex: choice.item ? itemList.indexOf(choice.item) : -1 };
  },
  modalResponse: (o: { title?: string; content?: string }) => {
    choice.modals.push(o);
    return { confirm: true, content: choice.edit };
  },
};

beforeAll(async () => {
  // A short presence grace, so "went offline" shows within the test.
  server = await startServerProcess({ env: { IM_PRESENCE_GRACE: '1' } });
});
afterEach(() => {
  for (const phone of phones) phone.destroy();
  phones = [];
});
afterAll(async () => {
  await server?.stop();
});

async function signIn(userId: string): Promise<Phone> {
  const phone = launchPhone({ server, label: userId, runtime });
  phones.push(phone);
  await signInAsDemoUser(phone, userId);
  return phone;
}

function rowOf(list: PageHandle, name: string): number {
  return list.texts('.conv-name').indexOf(name);
}

test('conversation list: swipe to pin, mute and delete; badges leave muted ones out; drafts; online dots', async () => {
  const alice = await signIn('alice');
  const bob = await signIn('bob');
  const carol = await signIn('carol');

  // Bob and Carol write to Alice: Carol's is the newest, so first.
  await sendFromChat(await openChatWith(bob, 'alice'), 'Lunch?');
  await sendFromChat(await openChatWith(carol, 'alice'), 'Standup moved to 10');
  const list = alice.page;
  await alice.waitFor(() => list.texts('.conv-name').join() === 'Carol Wang,Bob Li', 'both conversations, newest first');
  expect(alice.tabBadges[0]).toBe('2');
  // Both senders are online: green dots on their avatars.
  await alice.waitFor(() => list.$$('.online-dot').length === 2, 'two online dots');

  // Swipe Bob's row to the left: Pin. It moves to the top with a "Pinned" tag, on the server too.
  await list.swipe('.conversation', rowOf(list, 'Bob Li'), -120);
  expect(list.texts('.swipe-btn')).toEqual([t('conversations.pin'), t('conversations.mute'), t('conversations.delete')]);
  await list.tap('.swipe-pin');
  await alice.waitFor(() => list.texts('.conv-name')[0] === 'Bob Li' && list.exists('.pinned-tag'), 'Bob pinned first');
  const fromServer = await alice.im.getConversationList();
  expect(fromServer.map((c: any) => [c.targetId, !!c.pinned])).toEqual([['bob', true], ['carol', false]]);

  // Mute Carol's: a dot instead of the number, and the tab badge counts Bob's only.
  await list.swipe('.conversation', rowOf(list, 'Carol Wang'), -120);
  await list.tap('.swipe-mute');
  await alice.waitFor(() => list.exists('.muted-icon') && list.exists('.muted-dot'), 'Carol muted');
  expect(list.texts('.unread-badge')).toEqual(['1']);
  expect(alice.tabBadges[0]).toBe('1');
  expect(await alice.im.getTotalUnreadCount()).toBe(1);

  // A draft typed in Bob's chat shows in the list, and comes back when the chat is opened again.
  await list.tap('.conversation', rowOf(list, 'Bob Li'));
  const chat = await alice.waitForPage('pages/chat/chat');
  await alice.waitFor(() => bubbles(chat).length === 1, 'Bob’s message in the chat');
  await chat.input('.composer-input', 'See you at noon');
  alice.navigateBack();
  await alice.waitFor(() => list.text('.conv-flag') === t('preview.draft'), 'the draft flag');
  expect(list.texts('.conv-preview')[rowOf(list, 'Bob Li')]).toBe(`${t('preview.draft')}See you at noon`);
  await list.tap('.conversation', rowOf(list, 'Bob Li'));
  const again = await alice.waitForPage('pages/chat/chat');
  expect(again.data.draft).toBe('See you at noon');
  await sendFromChat(again, 'See you at noon');
  alice.navigateBack();
  await alice.waitFor(() => !list.exists('.conv-flag'), 'the draft gone once sent');

  // Long-press Carol's row: Delete. It leaves the list; her next message brings it back, 1 unread.
  choice.item = t('conversations.delete');
  await list.longPress('.conversation', rowOf(list, 'Carol Wang'));
  expect(choice.sheets.pop()).toEqual([t('conversations.pin'), t('conversations.unmute'), t('conversations.delete')]);
  await alice.waitFor(() => rowOf(list, 'Carol Wang') < 0, 'Carol’s row deleted');
  await sendFromChat(carol.page.route === 'pages/chat/chat' ? carol.page : await openChatWith(carol, 'alice'), 'Did you see it?');
  await alice.waitFor(() => rowOf(list, 'Carol Wang') >= 0, 'Carol’s row back');
  // Still muted, so a dot, not a number; Bob's stays first (pinned).
  expect(list.texts('.conv-name')[0]).toBe('Bob Li');
  const carolRow = (await alice.im.getConversationList()).find((c: any) => c.targetId === 'carol');
  expect(carolRow).toMatchObject({ unreadCount: 1, muted: true });

  // Carol closes the app: her dot goes out after the grace period.
  phones.splice(phones.indexOf(carol), 1);
  carol.destroy();
  await alice.waitFor(() => list.$$('.online-dot').length === 1, 'Carol offline', 10000);
});

test('groups: roles, announcement, mutes and read receipts, with their notifications in the chat', async () => {
  const alice = await signIn('alice');
  const bob = await signIn('bob');
  const carol = await signIn('carol');
  const group = await alice.im.createGroup({ name: 'Launch crew', userIdList: ['bob', 'carol'] });

  // Alice writes; nobody has read it yet.
  const chatA = await openGroup(alice, group.id);
  await sendFromChat(chatA, 'Release at 6pm');
  await alice.waitFor(() => chatA.text('.read-count') === t('chat.readCount', { read: 0, unread: 2 }), 'no reader yet');

  // Bob opens the chat: "1人已读 · 1人未读"; a tap says who.
  const chatB = await openGroup(bob, group.id);
  await bob.waitFor(() => bubbles(chatB).includes('Release at 6pm'), 'the message at Bob');
  await alice.waitFor(() => chatA.text('.read-count') === t('chat.readCount', { read: 1, unread: 1 }), 'Bob’s read counted', 10000);
  await chatA.tap('.read-count');
  await alice.waitFor(() => choice.modals.some((m) => m.title === t('chat.readReceipts')), 'the read receipts modal');
  expect(choice.modals.pop()!.content).toBe(t('chat.readMembers', { read: 'Bob Li', unread: 'Carol Wang' }));

  // Group info: Alice makes Bob an admin from his row.
  await chatA.tap('.group-bar');
  const info = await alice.waitForPage('pages/group-info/group-info');
  await alice.waitFor(() => info.data.loaded, 'group info');
  choice.item = t('groupInfo.makeAdmin');
  await info.tap('.member', memberIndex(info, 'Bob Li'));
  expect(choice.sheets.pop()).toEqual([t('groupInfo.makeAdmin'), t('groupInfo.mute10'), t('groupInfo.makeOwner'), t('groupInfo.remove')]);
  await alice.waitFor(() => info.exists('.admin-tag'), 'the Admin tag');
  expect(info.text('.admin-tag')).toBe(t('groupInfo.admin'));
  await bob.waitFor(() => chatB.texts('.notice-line').includes(t('notice.madeAdmin', { by: 'Alice', them: t('common.you') })), 'the notice at Bob');

  // Bob, now an admin, writes the announcement: Carol's chat shows it on top.
  await chatB.tap('.group-bar');
  const infoB = await bob.waitForPage('pages/group-info/group-info');
  await bob.waitFor(() => infoB.data.loaded && infoB.data.isStaff, 'Bob’s group info as an admin');
  choice.edit = 'Ship it!';
  await infoB.tap('.announcement');
  const chatC = await openGroup(carol, group.id);
  await carol.waitFor(() => chatC.text('.announcement-text') === 'Ship it!', 'the announcement at Carol');

  // Bob mutes Carol: her composer says until when, and the notice is in everyone's chat.
  choice.item = t('groupInfo.mute10');
  await infoB.tap('.member', memberIndex(infoB, 'Carol Wang'));
  const mutedUntil = (time: string) => t('chat.mutedUntil', { time });
  await carol.waitFor(() => !chatC.data.canSend && chatC.data.mutedText === mutedUntil(/\d\d:\d\d/.exec(chatC.data.mutedText)?.[0] ?? '?'), 'Carol muted');
  await carol.waitFor(() => chatC.texts('.notice-line').includes(t('notice.muted', { by: 'Bob', them: t('common.you') })), 'the mute notice at Carol');
  await expect(carol.im.sendGroupMessage({ groupId: group.id, content: 'hello?' })).rejects.toMatchObject({ code: 'E_FORBIDDEN' });

  // Alice mutes everyone: Bob (an admin) may still write.
  await info.tap('.mute-all');
  await alice.waitFor(() => info.exists('.switch-on'), 'mute everyone on');
  await expect(bob.im.sendGroupMessage({ groupId: group.id, content: 'admins can still talk' })).resolves.toMatchObject({ content: 'admins can still talk' });
  const you = t('common.You');
  expect(chatA.texts('.notice-line')).toEqual(
    expect.arrayContaining([
      t('notice.madeAdmin', { by: you, them: 'Bob' }),
      t('notice.announcement', { by: 'Bob' }),
      t('notice.muted', { by: 'Bob', them: 'Carol' }),
      t('notice.mutedAll', { by: you }),
    ]),
  );
});

async function openGroup(phone: Phone, groupId: string): Promise<PageHandle> {
  phone.navigateTo(`/pages/chat/chat?type=group&id=${encodeURIComponent(groupId)}`);
  const chat = await phone.waitForPage('pages/chat/chat');
  await phone.waitFor(() => chat.data.loaded, 'the group chat to load');
  return chat;
}

function memberIndex(info: PageHandle, name: string): number {
  const i = info.texts('.member .cell-title').indexOf(name);
  if (i < 0) throw new Error(`${name} is not on the members list: ${info.texts('.member .cell-title').join(', ')}`);
  return i;
}
