/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * Not a test: the data and pages behind docs/screenshots/ (`npm run screenshots` runs this file
 * with jest, then draws the HTML it writes in headless Chromium). Four demo users on four
 * simulated phones chat through a real reference server; every screen is a page as the demo
 * renders it on Alice's (or a newcomer's) phone, in the demo's default language (Chinese).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { handmadePng, mp3 } from '../media/bytes';
import path from 'node:path';
import { bubbles, launchPhone, openChatWith, sendFromChat, signInAsDemoUser, signInWithForm, sleep, ROOT, type PageHandle, type Phone } from './page-harness';
import { pageToHtml } from './render-html';
import { startServerProcess, type ServerProcess } from './server-process';
import { t } from './demo-strings';

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
  await sendFromChat(aliceDave, '午饭前能帮忙看一下 Android 的包吗？');
  await alice.waitFor(() => aliceDave.data.messages[0]?.state !== 'sending', 'sent');
  await say(dave, 0, 'alice', '好的，马上看', '412 号包在 Pixel 和小米 11 上都能正常安装');
  await alice.waitFor(() => bubbles(aliceDave).length === 3, 'Dave’s answers');
  alice.navigateBack();

  // Weekend hike: Alice's group.
  const hike = await alice.store.createGroup({ name: '周末徒步', description: '周六，香山', userIdList: ['bob', 'dave'] });
  await say(alice, 1, hike.id, '周六谁去？');
  await say(dave, 1, hike.id, '算我一个！');

  // Bob and Alice, a real exchange; Bob has it open, so he reads Alice's replies.
  await say(bob, 0, 'alice', 'Alice，现在方便吗？');
  await alice.waitFor(() => alice.page.texts('.conv-name').includes('Bob Li'), 'Bob on Alice’s list');
  const aliceBob = await openChatWith(alice, 'bob');
  await sendFromChat(aliceBob, '方便，什么事？');
  const bobChat = await openChatWith(bob, 'alice');
  await say(bob, 0, 'alice', '聊天演示可以评审了', '用两个账号登录，互相发几条消息试试');
  await sendFromChat(aliceBob, '太好了，我马上试试');
  await sendFromChat(aliceBob, '两台手机上消息都是秒到，还能看到你有没有读');
  await alice.waitFor(() => aliceBob.texts('.msg-status-text').includes(t('chat.read')), 'Read under Alice’s last message');
  await bob.waitFor(() => bubbles(bobChat).length === 6, 'all six on Bob’s phone');
  save('chat', alice, aliceBob);
  alice.navigateBack();

  // Design review: Bob's group, Alice has not opened it yet.
  const review = await bob.store.createGroup({ name: '设计评审', description: '新手引导 v2', userIdList: ['alice', 'carol'] });
  // Bob, the owner, writes the announcement and makes Alice an admin: both are notices in the chat.
  await bob.im.updateGroupInfo({ groupId: review.id, announcement: '明天 10:00 在 402 会议室评审，请带上你的笔记。' });
  await bob.im.setGroupMemberRole({ groupId: review.id, userId: 'alice', role: 'admin' });
  await say(bob, 1, review.id, '新版新手引导已经传到 Figma 了');
  await say(carol, 1, review.id, '很棒！空状态页清楚多了');
  await say(bob, 1, review.id, '明天 10 点一起过一遍？');

  // Carol to Alice, unread.
  await say(carol, 0, 'alice', '发布检查清单已经完成', '只差截图了');
  const list = alice.page;
  await alice.waitFor(() => list.texts('.conv-name').length === 5 && list.texts('.conv-name').includes('设计评审'), 'five conversations on Alice’s list');
  await alice.waitFor(() => list.texts('.unread-badge').join() === '2,3,1', 'unread counts');
  save('conversations', alice);

  // Design review opened: sender names on the bubbles; Alice answers.
  await list.tap('.conversation', list.texts('.conv-name').indexOf('设计评审'));
  const group = await alice.waitForPage('pages/chat/chat');
  await alice.waitFor(() => bubbles(group).length === 3 && group.data.memberCount === 3, 'the group chat');
  await sendFromChat(group, '10 点可以，我带上可用性测试的记录');
  await alice.waitFor(() => bubbles(group).length === 4 && group.data.messages[group.data.messages.length - 1].state === 'sent', 'sent to the group');
  await say(carol, 1, review.id, '到时见');
  await alice.waitFor(() => bubbles(group).length === 5, 'Carol’s reply');
  // Carol wrote after Alice's message, so she has read it; Bob has not opened the group yet.
  await alice.waitFor(() => group.texts('.read-count').includes(t('chat.readCount', { read: 1, unread: 1 })), 'read counts under Alice’s message');
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
  await create.input('.name-input', '发布庆功会');
  await create.input('.description-input', '周五晚 6 点，天台');
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
  await sendFromChat(carolChat, '今晚我补上');
  await alice.waitFor(() => carolChat.exists('.retry'), 'Retry', 5000);
  save('offline', alice, carolChat);
  alice.runtime.setNetwork(true);
  await alice.waitFor(() => alice.im.getStatus() === 'connected', 'back online');

  // Bad input on the page: too long.
  const sentence = '这是上次评审以来新手引导流程里改动的完整清单。';
  await carolChat.input('.composer-input', sentence.repeat(93));
  save('too-long', alice, carolChat);
  await carolChat.input('.composer-input', '');

  // Media: Bob sends a photo, a voice note and a file; Alice has the + panel open.
  const choose = (phone: Phone, api: 'chooseMedia' | 'chooseMessageFile', file: { bytes: Buffer; name: string; duration?: number }) => {
    phone.runtime.pickFiles(file);
    return new Promise<any>((resolve, reject) => (phone.wx as any)[api]({ count: 1, success: (r: any) => resolve(r.tempFiles[0]), fail: reject }));
  };
  await bob.store.sendMedia(0, 'alice', 'image', await choose(bob, 'chooseMedia', { bytes: handmadePng(960, 720, true), name: 'whiteboard.png' }), {}, () => undefined);
  await bob.store.sendMedia(0, 'alice', 'audio', (await choose(bob, 'chooseMessageFile', { bytes: mp3(40), name: 'voice.mp3' })).path, { duration: 7 }, () => undefined);
  await bob.store.sendMedia(0, 'alice', 'file', await choose(bob, 'chooseMessageFile', { bytes: Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), Buffer.alloc(183_000, 0x41)]), name: '新手引导评审.pdf' }), {}, () => undefined);
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
  const moved = await dave.store.send(0, 'alice', '演示改到下午 3 点，402 会议室');
  const typo = await dave.store.send(0, 'alice', '记得带上幻灯片和侧试手机');
  await sleep(40);
  await dave.store.edit(typo.messageId, '记得带上幻灯片和测试手机');
  const wrong = await dave.store.send(0, 'alice', '发错群了，不好意思');
  await sleep(40);
  await dave.store.revoke(wrong.messageId);
  await alice.store.send(0, 'dave', '收到，到时见', undefined, { replyTo: moved.messageId });
  await alice.waitFor(() => aliceDave2.texts('.revoked-line').length === 1 && aliceDave2.texts('.edited').length === 1 && aliceDave2.texts('.quote').length === 1, 'revoke, edit and reply on Alice’s phone');
  aliceDave2.call('startReply', aliceDave2.instance.byId[typo.messageId]);
  dave.store.im.sendTyping({ recipientId: 'alice' });
  await alice.waitFor(() => aliceDave2.title === t('chat.typing'), 'typing… in the title');
  await sleep(0);
  save('message-actions', alice, aliceDave2);
  await aliceDave2.input('.composer-input', '今晚我把记录发你');
  alice.navigateBack();

  // The list: Bob pinned, Design review muted, the draft to Dave, Carol's row swiped open.
  const actions = alice.page;
  await alice.im.pinConversation({ chatType: 0, targetId: 'bob', pinned: true });
  await alice.im.muteConversation({ chatType: 1, targetId: review.id, muted: true });
  await say(bob, 1, review.id, '评审改到 11:00，会议室不变');
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
