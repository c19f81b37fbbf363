/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * The demo's long-press menu, replies, revoke, edit, "@" and "对方正在输入…", on two simulated phones
 * through the real reference server. The user's choices in the action sheet and the edit box are
 * the wx runtime's answers (actionSheetResponse, modalResponse).
 */
import { bubbles, launchPhone, openChatWith, sendFromChat, signInWithForm, type Phone } from './page-harness';
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

/** What the user picks in the next action sheet (by label) and types into the next edit box. */
const choice: { item?: string; edit?: string; sheets: string[][] } = { sheets: [] };
const runtime = {
  actionSheetResponse: ({ itemList }: { itemList: string[] }) => {
    choice.sheets.push(itemList);
    return { tapIndex: choice.item ? itemList.indexOf(choice.item) : -1 };
  },
  modalResponse: () => ({ confirm: choice.edit !== undefined, content: choice.edit }),
};

async function twoPhones(): Promise<{ a: Phone; b: Phone; aId: string; bId: string }> {
  run += 1;
  const aId = `ada${run}`;
  const bId = `bao${run}`;
  const a = launchPhone({ server, label: aId, runtime });
  const b = launchPhone({ server, label: bId, runtime });
  phones.push(a, b);
  await signInWithForm(a, aId, `Ada Xu ${run}`);
  await signInWithForm(b, bId, `Bao Li ${run}`);
  return { a, b, aId, bId };
}

test('long-press: Reply quotes, Edit marks it edited on both phones, Revoke leaves "Ada撤回了一条消息"; Copy copies', async () => {
  const { a, b, aId, bId } = await twoPhones();
  const chatA = await openChatWith(a, bId);
  await sendFromChat(chatA, 'Meet at 3?');
  await sendFromChat(chatA, 'Bring teh slides');
  await a.waitFor(() => chatA.data.messages.length === 2 && chatA.data.messages.every((m: any) => m.state === 'sent' || m.state === 'delivered' || m.state === 'read'), 'both stored');
  const chatB = await openChatWith(b, aId);
  await b.waitFor(() => bubbles(chatB).length === 2, 'both on B');

  // B: long-press the first message, Reply; the reply shows the quote on both phones.
  const [reply, copy, edit, revoke] = ['chat.reply', 'chat.copy', 'chat.edit', 'chat.revoke'].map((key) => t(key));
  choice.item = reply;
  await chatB.longPress('.bubble-row', 0);
  expect(choice.sheets.pop()).toEqual([reply, copy]); // not B's message: no Edit, no Revoke
  await b.waitFor(() => chatB.exists('.reply-bar'), 'the reply bar');
  expect(chatB.text('.reply-text')).toBe(t('chat.replyingTo', { name: `Ada Xu ${run}`, text: 'Meet at 3?' }));
  await sendFromChat(chatB, 'Yes, 3 works');
  await a.waitFor(() => chatA.texts('.quote').length === 1, 'the quote on A');
  expect(chatA.texts('.quote')).toEqual([t('chat.quote', { name: `Ada Xu ${run}`, text: 'Meet at 3?' })]);
  expect(chatB.exists('.reply-bar')).toBe(false);

  // A: Edit the typo; both phones show the new text marked "（已编辑）".
  choice.item = edit;
  choice.edit = 'Bring the slides';
  await chatA.longPress('.bubble-row', 1);
  expect(choice.sheets.pop()).toEqual([reply, copy, edit, revoke]);
  await b.waitFor(() => chatB.texts('.edited').length === 1, 'the edited mark on B');
  expect(chatB.text('.edited')).toBe(t('chat.edited').trim());
  expect(bubbles(chatB)).toContain('Bring the slides');
  await a.waitFor(() => chatA.texts('.edited').length === 1, 'the edited mark on A');

  // A: Copy, then Revoke the first message; both phones show the notice instead of the bubble.
  choice.item = copy;
  await chatA.longPress('.bubble-row', 0);
  await a.waitFor(() => a.runtime.uiCalls.some((c) => c.api === 'setClipboardData'), 'the copy');
  expect(a.runtime.uiCalls.filter((c) => c.api === 'setClipboardData').pop()!.options).toEqual({ data: 'Meet at 3?' });
  choice.item = revoke;
  await chatA.longPress('.bubble-row', 0);
  await b.waitFor(() => chatB.texts('.revoked-line').length === 1, 'the revoke on B');
  expect(chatB.texts('.revoked-line')).toEqual([t('revoked.bySender', { name: 'Ada' })]);
  expect(bubbles(chatB)).not.toContain('Meet at 3?');
  await a.waitFor(() => chatA.texts('.revoked-line').length === 1, 'the revoke on A');
  expect(chatA.texts('.revoked-line')).toEqual([t('revoked.byMe')]);
  // The reply that quoted it now says so, on both phones.
  await a.waitFor(() => chatA.texts('.quote')[0] === t('chat.quoteRevoked'), 'the quote on A updated');
  await b.waitFor(() => chatB.texts('.quote')[0] === t('chat.quoteRevoked'), 'the quote on B updated');
  choice.item = undefined;
});

test('groups: "@" opens the member list, a pick goes into the text and the message mentions that member', async () => {
  const { a, b, bId } = await twoPhones();
  const im = a.app!.globalData.store.im;
  const group = await im.createGroup({ name: `Team ${run}`, userIdList: [bId] });
  const got: any[] = [];
  b.app!.globalData.store.im.on('imchat', (m: any) => got.push(m));
  a.navigateTo(`/pages/chat/chat?type=group&id=${group.id}&name=Team`);
  const chat = await a.waitForPage('pages/chat/chat');
  await a.waitFor(() => chat.data.loaded, 'the group chat');
  await chat.input('.composer-input', 'Hi @');
  await a.waitFor(() => chat.exists('.mention-item'), 'the member list');
  expect(chat.texts('.mention-item')).toEqual([t('chat.everyone'), `Bao Li ${run}`]);
  await chat.tap('.mention-item', 1);
  expect(chat.data.draft).toBe(`Hi @Bao Li ${run} `);
  await chat.tap('.send-btn');
  await b.waitFor(() => got.length === 1, 'the mention on B');
  expect(got[0]).toMatchObject({ content: `Hi @Bao Li ${run} `, mentions: [bId] });
});

test('“对方正在输入…” shows in the peer’s title while they type, and goes back to the name', async () => {
  const { a, b, aId, bId } = await twoPhones();
  const chatA = await openChatWith(a, bId);
  const chatB = await openChatWith(b, aId);
  const name = chatB.title;
  await chatA.input('.composer-input', 'h');
  await b.waitFor(() => chatB.title === t('chat.typing'), 'the typing title on B');
  await b.waitFor(() => chatB.title === name, 'the name again', 6000);
});
