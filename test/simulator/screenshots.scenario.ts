/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * Not a test: the data and pages behind docs/screenshots/ (`npm run screenshots` runs this file
 * with jest, then draws the HTML it writes in headless Chromium). Four demo users on four
 * simulated phones chat through a real reference server; every screen is a page as the demo
 * renders it on Alice's (or a newcomer's) phone.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { handmadePng, mp3 } from '../media/bytes';
import path from 'node:path';
import { bubbles, launchPhone, openChatWith, sendFromChat, signInAsDemoUser, signInWithForm, sleep, ROOT, type PageHandle, type Phone } from './page-harness';
import { pageToHtml } from './render-html';
import { startServerProcess, type ServerProcess } from './server-process';

const OUT = process.env.SCREENSHOT_HTML_DIR ?? path.join(ROOT, '.tmp/screenshots');

let server: ServerProcess;
const phones: Phone[] = [];

beforeAll(async () => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  server = await startServerProcess();
});

afterAll(async () => {
  for (const phone of phones) phone.destroy();
  await server?.stop();
});

function save(name: string, phone: Phone, page: PageHandle = phone.page): void {
  writeFileSync(path.join(OUT, `${name}.html`), pageToHtml(phone, page));
}

async function phoneFor(userId: string, config: Record<string, unknown> = {}): Promise<Phone> {
  const phone = launchPhone({ server, label: userId, config });
  phones.push(phone);
  await signInAsDemoUser(phone, userId);
  return phone;
}

async function say(phone: Phone, chatType: 0 | 1, to: string, ...lines: string[]): Promise<void> {
  for (const line of lines) {
    await phone.store.send(chatType, to, line);
    await sleep(40);
  }
}

test('screens', async () => {
  const visitor = launchPhone({ server, label: 'visitor' });
  phones.push(visitor);
  await visitor.waitForPage('pages/login/login');
  save('login', visitor);

  const alice = await phoneFor('alice', { clientOptions: { sendTimeout: 1500 } });
  const bob = await phoneFor('bob');
  const carol = await phoneFor('carol');
  const dave = await phoneFor('dave');

  // Alice and Dave: read.
  const aliceDave = await openChatWith(alice, 'dave');
  await sendFromChat(aliceDave, 'Can you check the Android build before lunch?');
  await alice.waitFor(() => aliceDave.data.messages[0]?.state !== 'sending', 'sent');
  await say(dave, 0, 'alice', 'On it', 'Build 412 installs fine on the Pixel and the Mi 11');
  await alice.waitFor(() => bubbles(aliceDave).length === 3, 'Dave’s answers');
  alice.navigateBack();

  // Weekend hike: Alice's group.
  const hike = await alice.store.createGroup({ name: 'Weekend hike', description: 'Saturday, Xiangshan', userIdList: ['bob', 'dave'] });
  await say(alice, 1, hike.id, 'Who is in for Saturday?');
  await say(dave, 1, hike.id, 'Count me in!');

  // Bob and Alice, a real exchange; Bob has it open, so he reads Alice's replies.
  await say(bob, 0, 'alice', 'Hey Alice, do you have a minute?');
  await alice.waitFor(() => alice.page.texts('.conv-name').includes('Bob Li'), 'Bob on Alice’s list');
  const aliceBob = await openChatWith(alice, 'bob');
  await sendFromChat(aliceBob, 'Sure, what’s up?');
  const bobChat = await openChatWith(bob, 'alice');
  await say(bob, 0, 'alice', 'The chat demo is ready for review', 'Sign in as two users and send a few messages');
  await sendFromChat(aliceBob, 'Nice! Trying it now');
  await sendFromChat(aliceBob, 'Messages arrive instantly on both phones, and I can see when you have read them');
  await alice.waitFor(() => aliceBob.texts('.msg-status-text').includes('Read'), 'Read under Alice’s last message');
  await bob.waitFor(() => bubbles(bobChat).length === 6, 'all six on Bob’s phone');
  save('chat', alice, aliceBob);
  alice.navigateBack();

  // Design review: Bob's group, Alice has not opened it yet.
  const review = await bob.store.createGroup({ name: 'Design review', description: 'Onboarding flow v2', userIdList: ['alice', 'carol'] });
  // Bob, the owner, writes the announcement and makes Alice an admin: both are notices in the chat.
  await bob.im.updateGroupInfo({ groupId: review.id, announcement: 'Review tomorrow 10:00, room 402. Bring your notes.' });
  await bob.im.setGroupMemberRole({ groupId: review.id, userId: 'alice', role: 'admin' });
  await say(bob, 1, review.id, 'Uploaded the new onboarding flow to Figma');
  await say(carol, 1, review.id, 'Looks great! The empty states are much clearer now');
  await say(bob, 1, review.id, 'Can we go through it tomorrow at 10?');

  // Carol to Alice, unread.
  await say(carol, 0, 'alice', 'The release checklist is done', 'Only the screenshots are missing');
  const list = alice.page;
  await alice.waitFor(() => list.texts('.conv-name').length === 5 && list.texts('.conv-name').includes('Design review'), 'five conversations on Alice’s list');
  await alice.waitFor(() => list.texts('.unread-badge').join() === '2,3,1', 'unread counts');
  save('conversations', alice);

  // Design review opened: sender names on the bubbles; Alice answers.
  await list.tap('.conversation', list.texts('.conv-name').indexOf('Design review'));
  const group = await alice.waitForPage('pages/chat/chat');
  await alice.waitFor(() => bubbles(group).length === 3 && group.data.memberCount === 3, 'the group chat');
  await sendFromChat(group, '10 works. I will bring the usability notes');
  await alice.waitFor(() => bubbles(group).length === 4 && group.data.messages[group.data.messages.length - 1].state === 'sent', 'sent to the group');
  await say(carol, 1, review.id, 'See you both there');
  await alice.waitFor(() => bubbles(group).length === 5, 'Carol’s reply');
  // Carol wrote after Alice's message, so she has read it; Bob has not opened the group yet.
  await alice.waitFor(() => group.texts('.read-count').includes('Read by 1 · Unread 1'), 'read counts under Alice’s message');
  save('group-chat', alice, group);

  await group.tap('.group-bar');
  const info = await alice.waitForPage('pages/group-info/group-info');
  await alice.waitFor(() => info.data.loaded && info.exists('.admin-tag') && info.$$('.online-dot').length === 3, 'group info with roles and online dots');
  save('group-info', alice, info);
  alice.navigateBack();
  alice.navigateBack();

  alice.switchTab('/pages/groups/groups');
  const groups = await alice.waitForPage('pages/groups/groups');
  await alice.waitFor(() => groups.$$('.group').length === 2, 'two groups');
  save('groups', alice);

  await groups.tap('.new-group');
  const create = await alice.waitForPage('pages/group-create/group-create');
  await create.input('.name-input', 'Release party');
  await create.input('.description-input', 'Friday 6 pm, rooftop');
  const names = create.texts('.candidate .cell-title');
  await create.tap('.candidate', names.indexOf('Bob Li'));
  await create.tap('.candidate', names.indexOf('Carol Wang'));
  save('group-create', alice);
  alice.navigateBack();

  // Offline: the bar, and a message that could not go out, with Retry.
  alice.switchTab('/pages/conversations/conversations');
  const aliceList = await alice.waitForPage('pages/conversations/conversations');
  await aliceList.tap('.conversation', aliceList.texts('.conv-name').indexOf('Carol Wang'));
  const carolChat = await alice.waitForPage('pages/chat/chat');
  await alice.waitFor(() => bubbles(carolChat).length === 2, 'Carol’s messages');
  alice.runtime.setNetwork(false);
  await alice.waitFor(() => carolChat.exists('.status-bar'), 'the offline bar');
  await sendFromChat(carolChat, 'I will add them tonight');
  await alice.waitFor(() => carolChat.exists('.retry'), 'Retry', 5000);
  save('offline', alice, carolChat);
  alice.runtime.setNetwork(true);
  await alice.waitFor(() => alice.im.getStatus() === 'connected', 'back online');

  // Bad input on the page: too long.
  const sentence = 'Here is the full list of everything we changed in the onboarding flow since the last review. ';
  await carolChat.input('.composer-input', sentence.repeat(23));
  save('too-long', alice, carolChat);
  await carolChat.input('.composer-input', '');

  // Media: Bob sends a photo, a voice note and a file; Alice has the + panel open.
  const choose = (phone: Phone, api: 'chooseMedia' | 'chooseMessageFile', file: { bytes: Buffer; name: string; duration?: number }) => {
    phone.runtime.pickFiles(file);
    return new Promise<any>((resolve, reject) => (phone.wx as any)[api]({ count: 1, success: (r: any) => resolve(r.tempFiles[0]), fail: reject }));
  };
  await bob.store.sendMedia(0, 'alice', 'image', await choose(bob, 'chooseMedia', { bytes: handmadePng(960, 720, true), name: 'whiteboard.png' }), {}, () => undefined);
  await bob.store.sendMedia(0, 'alice', 'audio', (await choose(bob, 'chooseMessageFile', { bytes: mp3(40), name: 'voice.mp3' })).path, { duration: 7 }, () => undefined);
  await bob.store.sendMedia(0, 'alice', 'file', await choose(bob, 'chooseMessageFile', { bytes: Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), Buffer.alloc(183_000, 0x41)]), name: 'Onboarding review.pdf' }), {}, () => undefined);
  alice.switchTab('/pages/conversations/conversations');
  const listAgain = await alice.waitForPage('pages/conversations/conversations');
  await alice.waitFor(() => listAgain.texts('.conv-name').includes('Bob Li'), 'Bob in the list');
  await listAgain.tap('.conversation', listAgain.texts('.conv-name').indexOf('Bob Li'));
  const mediaChat = await alice.waitForPage('pages/chat/chat');
  await alice.waitFor(() => mediaChat.data.messages.some((m: any) => m.kind === 'file'), 'the media bubbles');
  await mediaChat.tap('.plus-btn');
  // Chromium draws after the server has stopped: the thumbnails go into the page as data URLs.
  const inlined = await Promise.all(
    mediaChat.data.messages.map(async (m: any) => {
      if (m.kind !== 'image') return m;
      const got = await new Promise<any>((resolve, reject) => (alice.wx as any).downloadFile({ url: m.thumb, success: resolve, fail: reject }));
      return { ...m, thumb: `data:image/jpeg;base64,${readFileSync(alice.runtime.realPath(got.tempFilePath)!).toString('base64')}` };
    }),
  );
  mediaChat.instance.setData({ messages: inlined });
  await sleep(0);
  save('media', alice, mediaChat);
  alice.navigateBack();

  // Revoke, edit, reply and typing: Dave fixes a typo, takes a message back; Alice quotes him.
  const aliceDave2 = await openChatWith(alice, 'dave');
  const moved = await dave.store.send(0, 'alice', 'The demo moved to 3 pm, room 402');
  const typo = await dave.store.send(0, 'alice', 'Bring teh slides and the test phones');
  await sleep(40);
  await dave.store.edit(typo.messageId, 'Bring the slides and the test phones');
  const wrong = await dave.store.send(0, 'alice', 'Wrong chat, sorry');
  await sleep(40);
  await dave.store.revoke(wrong.messageId);
  await alice.store.send(0, 'dave', 'Got it, see you there', undefined, { replyTo: moved.messageId });
  await alice.waitFor(() => aliceDave2.texts('.revoked-line').length === 1 && aliceDave2.texts('.edited').length === 1 && aliceDave2.texts('.quote').length === 1, 'revoke, edit and reply on Alice’s phone');
  aliceDave2.call('startReply', aliceDave2.instance.byId[typo.messageId]);
  dave.store.im.sendTyping({ recipientId: 'alice' });
  await alice.waitFor(() => aliceDave2.title === 'typing…', 'typing… in the title');
  await sleep(0);
  save('message-actions', alice, aliceDave2);
  await aliceDave2.input('.composer-input', 'I will send the notes tonight');
  alice.navigateBack();

  // The list: Bob pinned, Design review muted, the draft to Dave, Carol's row swiped open.
  const actions = alice.page;
  await alice.im.pinConversation({ chatType: 0, targetId: 'bob', pinned: true });
  await alice.im.muteConversation({ chatType: 1, targetId: review.id, muted: true });
  await say(bob, 1, review.id, 'Moved the review to 11:00, same room');
  await alice.waitFor(() => actions.texts('.conv-name')[0] === 'Bob Li' && actions.exists('.muted-dot') && actions.exists('.conv-flag'), 'pinned, muted and the draft on Alice’s list');
  await actions.swipe('.conversation', actions.texts('.conv-name').indexOf('Carol Wang'), -120);
  await alice.waitFor(() => actions.exists('.swipe-actions'), 'Carol’s row open');
  save('conversation-actions', alice);

  // A newcomer: the empty states.
  const erin = launchPhone({ server, label: 'erin' });
  phones.push(erin);
  await signInWithForm(erin, 'erin', 'Erin Zhao');
  await erin.waitFor(() => erin.page.exists('.empty'), 'the empty chats list');
  save('empty', erin);
  await erin.page.tap('.new-chat');
  await erin.waitForPage('pages/contacts/contacts');
  save('new-chat', erin);
}, 120000);
