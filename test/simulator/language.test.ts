/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * The demo's UI language: Chinese by default, English with `lang: 'en'` in config.js. The two
 * tables of demo-miniprogram/utils/i18n.js hold the same texts; a phone in each language signs in
 * and chats with the other through the real reference server.
 */
import path from 'node:path';
import { DEMO_ROOT, launchPhone, openChatWith, sendFromChat, signInWithForm, type Phone } from './page-harness';
import { startServerProcess, type ServerProcess } from './server-process';
import { DEMO_LANG, TABLES, en, translate } from './demo-strings';

jest.setTimeout(30000);

type Table = { [key: string]: string | Table };

/** key -> text, for every text of a table ('chat.send' -> '发送'). */
function flatten(table: Table, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(table)) {
    if (typeof value === 'string') out[prefix + key] = value;
    else Object.assign(out, flatten(value, `${prefix}${key}.`));
  }
  return out;
}

const placeholders = (text: string) => (text.match(/\{\w+\}/g) ?? []).sort();
const zh = (key: string, vars?: Record<string, string | number>) => translate('zh-CN', key, vars);

describe('the string tables', () => {
  const zhTexts = flatten(TABLES['zh-CN']!);
  const enTexts = flatten(TABLES.en!);

  test('Chinese is the default language', () => {
    expect(DEMO_LANG).toBe('zh-CN');
    expect(Object.keys(TABLES).sort()).toEqual(['en', 'zh-CN']);
  });

  test('both languages have every text, with the same placeholders, none empty', () => {
    expect(Object.keys(zhTexts).sort()).toEqual(Object.keys(enTexts).sort());
    for (const key of Object.keys(zhTexts)) {
      expect([key, placeholders(zhTexts[key]!)]).toEqual([key, placeholders(enTexts[key]!)]);
      expect([key, zhTexts[key]!.trim().length > 0, enTexts[key]!.trim().length > 0]).toEqual([key, true, true]);
    }
    expect(zh('time.weekdays').split(',')).toHaveLength(7);
    expect(en('time.weekdays').split(',')).toHaveLength(7);
  });

  test('the Chinese table is Chinese: no text is left in English', () => {
    // Texts that are only placeholders, punctuation, names or code are the same in both.
    const latinWords = /[A-Za-z]{3,}/g;
    const allowed = new Set(['comind', 'config', 'appId', 'appSecret', 'registerUser', 'getToken', 'connect', 'token', 'npm', 'start', 'erin', 'sdk', 'client', 'IM_DEV_APP_ID', 'IM_DEV_APP_SECRET']);
    for (const [key, text] of Object.entries(zhTexts)) {
      const words = (text.replace(/\{\w+\}/g, '').match(latinWords) ?? []).filter((w) => !allowed.has(w) && !/^[A-Z_]+$/.test(w));
      expect([key, words]).toEqual([key, []]);
    }
  });

  test('times, previews and notices follow the language', () => {
    // The demo's modules as Node loads them, language switched through the same config object.
    const config = require(path.join(DEMO_ROOT, 'config.js')) as { lang: string };
    const format = require(path.join(DEMO_ROOT, 'utils/format.js'));
    const now = new Date(2024, 2, 20, 12, 0).getTime(); // a Wednesday
    const at = (days: number, h = 9) => new Date(2024, 2, 20 - days, h, 5).getTime();
    const notice = { msgType: format.GROUP_NOTICE, data: { action: 'members_added', by: 'me', userIds: ['bob', 'carol'], names: { bob: 'Bob Li', carol: 'Carol Wang' } } };
    const sample = () => [
      format.listTime(at(1), now),
      format.listTime(at(2), now),
      format.listTime(at(30), now),
      format.listTime(new Date(2023, 2, 18).getTime(), now),
      format.chatTime(at(1), now),
      format.preview({ chatType: 0, lastMessage: { msgType: 3, from: 'bob' } }, 'me'),
      format.preview({ chatType: 0, draft: 'see you' }, 'me'),
      format.noticeText(notice, 'me'),
      format.presenceText({ online: false, lastSeenAt: at(0) }, now),
      // A send the app's backend refused (beforeSend webhook): its reason, without the SDK's wrapping.
      format.describeError({ code: 'E_REFUSED', message: "sendPrivateMessage: refused by the app's backend: 含有违规内容 (server code 40302)" }, 'send'),
      format.describeError({ code: 'E_REFUSED', message: 'sendPrivateMessage: refused (server code 40302)' }, 'send'),
    ];
    const before = config.lang;
    try {
      expect(sample()).toEqual(['昨天', '星期一', '2月19日', '2023年3月18日', '昨天 09:05', '[语音]', '[草稿] see you', '你邀请Bob、Carol加入了群聊', '最后在线 09:05', '消息未通过审核：含有违规内容', '消息未通过审核，未发送。']);
      config.lang = 'en';
      expect(sample()).toEqual(['Yesterday', 'Mon', '2/19', '2023/3/18', 'Yesterday 09:05', '[Voice]', '[Draft] see you', 'You added Bob, Carol', 'Last seen 09:05', 'Not sent: 含有违规内容', 'Not sent: the app refused this message.']);
    } finally {
      config.lang = before;
    }
  });
});

describe('on the phones', () => {
  let server: ServerProcess;
  const phones: Phone[] = [];

  beforeAll(async () => {
    server = await startServerProcess();
  });

  afterAll(async () => {
    for (const phone of phones) phone.destroy();
    await server?.stop();
  });

  function launch(label: string, config: Record<string, unknown> = {}): Phone {
    const phone = launchPhone({ server, label, config });
    phones.push(phone);
    return phone;
  }

  test('Chinese by default, English with lang "en": titles, tab bar, pages, receipts and errors', async () => {
    const zhPhone = launch('zh');
    const enPhone = launch('en', { lang: 'en' });

    // Sign-in pages: the navigation bar titles come from the tables, like the page texts.
    const zhLogin = await zhPhone.waitForPage('pages/login/login');
    const enLogin = await enPhone.waitForPage('pages/login/login');
    expect(zhLogin.title).toBe('登录');
    expect(zhLogin.text('.notice-title')).toBe('开发环境登录');
    expect(zhLogin.texts('.demo-user .cell-sub')[0]).toBe('@alice · 产品设计师');
    expect(enLogin.title).toBe('Sign in');
    expect(enLogin.text('.notice-title')).toBe('Development sign-in');
    expect(enLogin.texts('.demo-user .cell-sub')[0]).toBe('@alice · Product designer');
    await enLogin.tap('.sign-in');
    expect(enLogin.text('.login-error')).toBe('Enter a user id.');

    const zhList = await signInWithForm(zhPhone, 'lin', '林晓');
    const enList = await signInWithForm(enPhone, 'emma', 'Emma Stone');
    expect(zhList.title).toBe('消息');
    expect(zhPhone.tabTexts).toEqual({ 0: '消息', 1: '群聊' });
    expect(zhList.text('.empty-title')).toBe('暂无会话');
    expect(enList.title).toBe('Chats');
    expect(enPhone.tabTexts).toEqual({ 0: 'Chats', 1: 'Groups' });
    expect(enList.text('.empty-title')).toBe('No conversations yet');
    expect(enList.text('.new-chat')).toBe('New chat');

    // The English phone writes first: "Delivered", then "Read" once the Chinese phone has it open.
    const enChat = await openChatWith(enPhone, 'lin');
    expect(enChat.text('.send-btn')).toBe('Send');
    await sendFromChat(enChat, 'Hello from Emma');
    await enPhone.waitFor(() => enChat.texts('.msg-status-text').includes('Delivered'), '“Delivered” on the English phone');
    await zhPhone.waitFor(() => zhList.text('.conv-preview') === 'Hello from Emma', 'the message on the Chinese list');
    await zhList.tap('.conversation', 0);
    const zhChat = await zhPhone.waitForPage('pages/chat/chat');
    expect(zhChat.text('.send-btn')).toBe('发送');
    await enPhone.waitFor(() => enChat.texts('.msg-status-text').includes('Read'), '“Read” on the English phone');

    // The answer: "未读" → "已读" on the Chinese phone (the English chat is open, so read at once).
    await sendFromChat(zhChat, '你好，Emma');
    await zhPhone.waitFor(() => zhChat.texts('.msg-status-text').includes('已读'), '“已读” on the Chinese phone');
    expect(enChat.texts('.bubble-text')).toEqual(['Hello from Emma', '你好，Emma']);

    // Bad input, in each language.
    await zhChat.tap('.send-btn');
    expect(zhChat.text('.input-error')).toBe('不能发送空白消息。');
    await enChat.tap('.send-btn');
    expect(enChat.text('.input-error')).toBe('Type a message first.');
  });
});
