/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * Groups in the demo mini-program: create one with members from the groups tab, chat in it on
 * three phones (sender names on the bubbles), group info and members. Real reference server in
 * its own process; demo users alice, bob and carol.
 */
import { bubbles, launchPhone, sendFromChat, signInAsDemoUser, sleep, type PageHandle, type Phone } from './page-harness';
import { startServerProcess, type ServerProcess } from './server-process';
import { t } from './demo-strings';

jest.setTimeout(30000);

let server: ServerProcess;
let phones: Phone[] = [];

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

async function signIn(userId: string): Promise<Phone> {
  const phone = launchPhone({ server, label: userId });
  phones.push(phone);
  await signInAsDemoUser(phone, userId);
  return phone;
}

function senders(chat: PageHandle): string[] {
  return chat.texts('.msg-sender');
}

test('create a group with members, chat in it with sender names, see its info', async () => {
  const alice = await signIn('alice');
  const bob = await signIn('bob');
  const carol = await signIn('carol');

  // Alice: Groups tab, empty, New group.
  alice.switchTab('/pages/groups/groups');
  const groupsA = await alice.waitForPage('pages/groups/groups');
  await alice.waitFor(() => groupsA.exists('.empty'), 'the empty state on the groups tab');
  expect(groupsA.text('.empty-title')).toBe(t('groups.emptyTitle'));
  await groupsA.tap('.new-group');
  const create = await alice.waitForPage('pages/group-create/group-create');
  const names = create.texts('.candidate .cell-title');
  expect(names).toEqual(['Bob Li', 'Carol Wang', 'Dave Zhou']);

  // Invalid forms are explained, nothing is created.
  const createGroup = jest.spyOn(alice.im, 'createGroup');
  await create.tap('.create-btn');
  expect(create.text('.create-error')).toBe(t('groupCreate.nameMissing'));
  await create.input('.name-input', 'x'.repeat(101));
  await create.tap('.create-btn');
  expect(create.text('.create-error')).toBe(t('groupCreate.nameTooLong', { count: 101, max: 100 }));
  await create.input('.name-input', 'Weekend hike');
  await create.tap('.create-btn');
  expect(create.text('.create-error')).toBe(t('groupCreate.noMembers'));
  expect(createGroup).not.toHaveBeenCalled();

  await create.input('.description-input', 'Saturday, Xiangshan');
  await create.tap('.candidate', names.indexOf('Bob Li'));
  await create.tap('.candidate', names.indexOf('Carol Wang'));
  expect(create.data.selectedCount).toBe(2);
  expect(create.texts('.section-title')[1]).toBe(t('groupCreate.members', { count: 2 }));
  await create.tap('.create-btn');

  // Straight into the group chat.
  const chatA = await alice.waitForPage('pages/chat/chat');
  expect(createGroup).toHaveBeenCalledWith({ name: 'Weekend hike', description: 'Saturday, Xiangshan', userIdList: ['bob', 'carol'] });
  await alice.waitFor(() => chatA.text('.group-bar-text') === t('chat.members', { count: 3 }), 'the member count on the group bar');
  expect(chatA.title).toBe('Weekend hike');
  expect(chatA.exists('.chat-empty')).toBe(true);

  // Bob's groups tab lists it.
  bob.switchTab('/pages/groups/groups');
  const groupsB = await bob.waitForPage('pages/groups/groups');
  await bob.waitFor(() => groupsB.texts('.group .cell-title').includes('Weekend hike'), 'the group on Bob’s groups tab');
  expect(groupsB.text('.group .cell-sub')).toBe(t('groups.subWithDescription', { count: 3, owner: 'Alice', description: 'Saturday, Xiangshan' }));

  // Alice writes; Bob's chat list shows the group conversation with the sender in the preview.
  await sendFromChat(chatA, 'Who is in for Saturday?');
  bob.switchTab('/pages/conversations/conversations');
  const listB = await bob.waitForPage('pages/conversations/conversations');
  await bob.waitFor(() => listB.text('.conv-preview') === t('preview.sender', { name: 'Alice', text: 'Who is in for Saturday?' }), 'the group preview on Bob’s list');
  expect(listB.text('.conv-name')).toBe('Weekend hike');
  expect(listB.text('.conv-tag')).toBe(t('conversations.group'));
  expect(listB.text('.unread-badge')).toBe('1');

  // Bob opens it: Alice's name on her bubble; Bob answers.
  await listB.tap('.conversation', 0);
  const chatB = await bob.waitForPage('pages/chat/chat');
  await bob.waitFor(() => bubbles(chatB).length === 1, 'the message in Bob’s group chat');
  expect(senders(chatB)).toEqual(['Alice Chen']);
  expect(chatB.$$('.msg-theirs')).toHaveLength(1);
  await sendFromChat(chatB, 'Me! I will bring snacks');

  // Alice sees Bob's name on his bubble, live; hers have no name.
  await alice.waitFor(() => bubbles(chatA).includes('Me! I will bring snacks'), 'Bob’s answer at Alice');
  expect(bubbles(chatA)).toEqual(['Who is in for Saturday?', 'Me! I will bring snacks']);
  expect(senders(chatA)).toEqual(['Bob Li']);

  // Carol, who had nothing open, has both unread.
  const listC = carol.page;
  await carol.waitFor(() => listC.text('.unread-badge') === '2', 'two unread at Carol');
  expect(listC.text('.conv-preview')).toBe(t('preview.sender', { name: 'Bob', text: 'Me! I will bring snacks' }));
  await sleep(100);
  // Bob read everything on the open page.
  bob.navigateBack();
  await bob.waitFor(() => !bob.page.exists('.unread-badge'), 'Bob’s unread to clear');

  // Group info from the chat: members with the owner first, and the owner's action.
  await chatA.tap('.group-bar');
  const info = await alice.waitForPage('pages/group-info/group-info');
  await alice.waitFor(() => info.data.loaded, 'group info');
  expect(info.text('.group-name')).toBe('Weekend hike');
  expect(info.text('.group-description')).toBe('Saturday, Xiangshan');
  expect(info.texts('.member .cell-title')).toEqual(['Alice Chen', 'Bob Li', 'Carol Wang']);
  expect(info.texts('.member')[0]).toContain(t('groupInfo.owner'));
  expect(info.texts('.member')[0]).toContain(t('groupInfo.me'));
  expect(info.exists('.dismiss')).toBe(true);
  expect(info.exists('.leave')).toBe(false);
  await info.tap('.open-chat');
  await alice.waitForPage('pages/chat/chat');
  expect(alice.page).toBe(chatA);

  // A member sees Leave instead of Dismiss (from the Info link on the groups tab).
  bob.switchTab('/pages/groups/groups');
  await bob.waitForPage('pages/groups/groups');
  await bob.page.tap('.info-link', 0);
  const infoB = await bob.waitForPage('pages/group-info/group-info');
  await bob.waitFor(() => infoB.data.loaded, 'group info at Bob');
  expect(infoB.exists('.leave')).toBe(true);
  expect(infoB.exists('.dismiss')).toBe(false);
  expect(infoB.texts('.member')[1]).toContain(t('groupInfo.me'));
});
