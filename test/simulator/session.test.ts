/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * Signing in, the connection bar, relaunching with the saved session (cached conversations first,
 * even offline) and signing out, in the demo mini-program on simulated phones. Real reference
 * server in its own process.
 */
import { launchPhone, openChatWith, sendFromChat, signInAsDemoUser, signInWithForm, sleep, type Phone } from './page-harness';
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

function launch(label: string, options: Partial<Parameters<typeof launchPhone>[0]> = {}): Phone {
  const phone = launchPhone({ server, label, ...options });
  phones.push(phone);
  return phone;
}

test('the sign-in page says it is the development path, and explains bad input and server problems', async () => {
  const phone = launch('visitor', { config: { appSecret: 'not-the-secret' } });
  const login = await phone.waitForPage('pages/login/login');
  expect(login.text('.notice-title')).toBe(t('login.noticeTitle'));
  expect(login.text('.notice-text')).toBe(t('login.noticeText'));
  expect(login.text('.notice-server')).toBe(t('login.noticeServer', { apiServer: server.apiUrl, appId: 'demo-app' }));
  expect(login.texts('.demo-user .cell-title')).toEqual(['Alice Chen', 'Bob Li', 'Carol Wang', 'Dave Zhou']);

  const register = jest.spyOn(phone.im, 'registerUser');
  await login.tap('.sign-in');
  expect(login.text('.login-error')).toBe(t('input.userIdMissing'));
  await login.input('.user-id-input', 'not valid!');
  await login.tap('.sign-in');
  expect(login.text('.login-error')).toBe(t('input.userIdInvalid'));
  expect(register).not.toHaveBeenCalled();

  // Wrong app secret: the server refuses (E_AUTH) and the page says what to fix.
  await login.input('.user-id-input', 'erin');
  await login.tap('.sign-in');
  await phone.waitFor(() => login.text('.login-error'), 'the E_AUTH explanation');
  expect(login.text('.login-error')).toBe(t('login.auth', { apiServer: server.apiUrl, appId: 'demo-app' }));
  expect(phone.page.route).toBe('pages/login/login');

  // No server there: E_NETWORK, with how to start it.
  const offline = launch('no-server', { config: { apiServer: 'http://127.0.0.1:9' } });
  const login2 = await offline.waitForPage('pages/login/login');
  await login2.tap('.demo-user', 0);
  await offline.waitFor(() => login2.text('.login-error'), 'the E_NETWORK explanation');
  expect(login2.text('.login-error')).toBe(t('login.network', { apiServer: 'http://127.0.0.1:9', appId: 'demo-app' }));
  expect(login2.exists('.cell-busy')).toBe(false);
});

test('the connection bar follows the status event: reconnecting after the platform cuts the socket, gone when back', async () => {
  const phone = launch('dave');
  const list = await signInAsDemoUser(phone, 'dave');
  expect(list.exists('.status-bar')).toBe(false);
  expect(list.text('.me-name')).toBe('Dave Zhou');

  // In the background WeChat cuts the network after a few seconds; the SDK starts reconnecting.
  phone.runtime.hide({ cutNetworkAfterMs: 20 });
  await phone.waitFor(() => list.text('.status-bar') === t('status.reconnecting'), 'the reconnecting bar');
  expect(list.$('.status-reconnecting')).toBeTruthy();
  phone.runtime.show();
  await phone.waitFor(() => phone.im.getStatus() === 'connected' && !list.exists('.status-bar'), 'the bar to go away after show');

  phone.runtime.setNetwork(false);
  await phone.waitFor(() => list.text('.status-bar') === t('status.offline'), 'the offline bar');
  expect(list.$('.status-offline')).toBeTruthy();
  phone.runtime.setNetwork(true);
  await phone.waitFor(() => phone.im.getStatus() === 'connected' && !list.exists('.status-bar'), 'the bar to go away online');
});

test('relaunch: the saved session opens the chats, cached conversations render offline, then catch up online', async () => {
  const a = launch('carol');
  await signInAsDemoUser(a, 'carol');
  const b = launch('bob');
  await signInAsDemoUser(b, 'bob');
  const chatB = await openChatWith(b, 'carol');
  await sendFromChat(chatB, 'Are the test results in?');
  await a.waitFor(() => a.page.text('.conv-preview') === 'Are the test results in?', 'the message on Carol’s list');

  // The conversation list the SDK caches on the phone now has it (the store refreshed the list
  // from the server when a conversation it did not know about appeared).
  await a.waitFor(() => JSON.stringify(a.runtime.exportStorage()).includes('Are the test results in?'), 'the list cached in storage');

  // Carol closes the app; later she opens it without network.
  const storage = a.runtime.exportStorage();
  a.destroy();
  await sendFromChat(chatB, 'Ping me when you are back');
  const relaunched = launch('carol again', { runtime: { storage, network: { online: false } } });
  const list = await relaunched.waitForPage('pages/conversations/conversations');
  await relaunched.waitFor(() => list.texts('.conv-name').length === 1, 'the cached conversation');
  expect(list.text('.conv-name')).toBe('Bob Li');
  expect(list.text('.conv-preview')).toBe('Are the test results in?');
  expect(list.text('.me-name')).toBe('Carol Wang');
  expect(list.text('.status-bar')).toBe(t('status.offline'));
  expect(list.exists('.list-error')).toBe(false);

  // Network back: connected with the saved token, the missed message arrives, unread 2.
  relaunched.runtime.setNetwork(true);
  await relaunched.waitFor(() => list.text('.conv-preview') === 'Ping me when you are back', 'the message sent while Carol was away');
  await relaunched.waitFor(() => !list.exists('.status-bar'), 'the status bar to go away');
  expect(list.text('.unread-badge')).toBe('2');
  await sleep(300);
  expect(list.texts('.conversation')).toHaveLength(1);
});

test('sign out returns to the sign-in page; the next user sees only their own chats', async () => {
  const phone = launch('shared phone');
  const list = await signInAsDemoUser(phone, 'alice');
  const peer = launch('peer');
  await signInWithForm(peer, 'frank', 'Frank Xu');
  const chat = await openChatWith(peer, 'alice');
  await sendFromChat(chat, 'Hi Alice, Frank here');
  await phone.waitFor(() => list.texts('.conv-name').includes('Frank Xu'), 'Frank on Alice’s list');

  await list.tap('.sign-out');
  const login = await phone.waitForPage('pages/login/login');
  expect(phone.runtime.wx.getStorageSync('demo:session')).toBe('');
  expect(phone.im.getStatus()).toBe('disconnected');

  await login.tap('.demo-user', 3); // Dave
  const daveList = await phone.waitForPage('pages/conversations/conversations');
  await phone.waitFor(() => phone.im.getStatus() === 'connected' && daveList.data.loaded, 'Dave signed in');
  expect(daveList.text('.me-name')).toBe('Dave Zhou');
  expect(daveList.texts('.conv-name')).not.toContain('Frank Xu');
});

test('short-lived tokens: renewed through tokenProvider while connected, and on a relaunch after expiry', async () => {
  const shortLived = await startServerProcess({ env: { IM_TOKEN_TTL: '3' } });
  try {
    const a = launch('alice short', { server: shortLived });
    const b = launch('bob short', { server: shortLived });
    await signInAsDemoUser(a, 'alice');
    await signInAsDemoUser(b, 'bob');
    const renew = jest.spyOn(a.store, 'freshToken');
    const statuses: string[] = [];
    a.im.on('status', (s: string) => statuses.push(s));

    // Past the 3 s lifetime: renewed before expiry (at 90 %), the connection never dropped.
    await sleep(3600);
    expect(renew).toHaveBeenCalled();
    expect(statuses).toEqual([]);
    expect(a.im.getStatus()).toBe('connected');
    await b.store.send(0, 'alice', 'still here?');
    await a.waitFor(() => a.page.text('.conv-preview') === 'still here?', 'a message after the first token expired');

    // Closed, and opened again once the saved token has expired: signed in again on its own.
    const storage = a.runtime.exportStorage();
    a.destroy();
    await sleep(3500);
    const again = launch('alice again', { server: shortLived, runtime: { storage } });
    const list = await again.waitForPage('pages/conversations/conversations');
    await again.waitFor(() => again.im.getStatus() === 'connected', 'connected with a fresh token');
    await again.waitFor(() => list.text('.conv-preview') === 'still here?', 'the list after the relaunch');
    expect(list.exists('.status-bar')).toBe(false);
    // The expired token was replaced (tokenProvider → getToken) and saved for the next launch.
    const saved = (storage['demo:session'] as { token: string }).token;
    expect(again.runtime.wx.getStorageSync('demo:session').token).not.toBe(saved);
  } finally {
    for (const phone of phones.splice(0)) phone.destroy();
    await shortLived.stop();
  }
});
