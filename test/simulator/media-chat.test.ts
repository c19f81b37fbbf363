/**
 * @jest-environment jsdom
 * @jest-environment-options {"customExportConditions": ["node", "node-addons"]}
 *
 * The demo's "+" panel on two simulated phones and the real server: a photo from the album, a file
 * from a chat, a hold-to-talk voice note; the peer sees the image, the file card and the voice
 * bubble, and opens each (previewImage, downloadFile + openDocument, InnerAudioContext). A failed
 * upload shows Retry and goes once the network is back.
 */
import { handmadePng as png, mp3 } from '../media/bytes';
import { launchPhone, openChatWith, signInWithForm, sleep, type PageHandle, type Phone } from './page-harness';
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

async function twoPhones() {
  run += 1;
  const aId = `mia${run}`;
  const bId = `max${run}`;
  const a = launchPhone({ server, label: aId });
  const b = launchPhone({ server, label: bId });
  phones.push(a, b);
  await signInWithForm(a, aId, `Mia Chen ${run}`);
  await signInWithForm(b, bId, `Max Li ${run}`);
  return { a, b, aId, bId };
}

const settled = (chat: PageHandle, n: number) => chat.data.messages.length === n && chat.data.messages.every((m: { state: string }) => m.state !== 'sending' && m.state !== 'failed');

test('a photo, a file and a voice note from the + panel reach the peer, who opens each', async () => {
  const { a, b, aId, bId } = await twoPhones();
  const chatA = await openChatWith(a, bId);
  await chatA.tap('.plus-btn');
  expect(chatA.texts('.panel-label')).toEqual(['chat.album', 'chat.camera', 'chat.file', 'chat.holdToTalk'].map((key) => t(key)));

  // Album: the user picks a photo.
  a.runtime.pickFiles({ bytes: png(1200, 900), name: 'IMG_2041.png' });
  await chatA.tap('.panel-item', 0);
  await a.waitFor(() => settled(chatA, 1), 'the photo stored');
  expect(chatA.exists('.panel')).toBe(false);

  // File: from a chat.
  await chatA.tap('.plus-btn');
  a.runtime.pickFiles({ bytes: Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), Buffer.alloc(3000, 0x41)]), name: 'Quarterly report.pdf' });
  await chatA.tap('.panel-item', 2);
  await a.waitFor(() => settled(chatA, 2), 'the file stored');

  // Voice: hold, speak, release.
  await chatA.tap('.plus-btn');
  a.runtime.pickFiles({ bytes: mp3(), name: 'rec.mp3', duration: 3 });
  chatA.$$('.panel-voice')[0].dispatchEvent('touchstart');
  await sleep(0);
  expect(chatA.text('.panel-voice .panel-label')).toBe(t('chat.releaseToSend'));
  chatA.$$('.panel-voice')[0].dispatchEvent('touchend');
  await a.waitFor(() => settled(chatA, 3), 'the voice note stored');

  // The peer: the three bubbles, with URLs it can load.
  await b.waitFor(() => b.page.texts('.conv-name').length === 1, 'the conversation on the peer’s list');
  expect(b.page.text('.conv-preview')).toBe(t('preview.voice'));
  await b.page.tap('.conversation', 0);
  const chatB = await b.waitForPage('pages/chat/chat');
  await b.waitFor(() => chatB.data.messages.length === 3, 'three media bubbles');
  const [image, file, voice] = chatB.data.messages as any[];
  expect(image).toMatchObject({ kind: 'image', mediaWidth: 200, mediaHeight: 150 });
  expect(image.thumb).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/.+\/thumb\?e=\d+&s=/);
  expect(file).toMatchObject({ kind: 'file', fileName: 'Quarterly report.pdf', fileSize: '2.9 KB' });
  expect(voice).toMatchObject({ kind: 'voice', seconds: '3″' });
  expect(chatB.$$('.media-image')).toHaveLength(1);

  // The thumbnail is a real image on the server: wx.downloadFile gets it.
  const got = await new Promise<any>((resolve, reject) => (b.runtime.wx as any).downloadFile({ url: image.thumb, success: resolve, fail: reject }));
  expect(got.statusCode).toBe(200);

  await chatB.tap('.media-image');
  await chatB.tap('.file-card');
  await chatB.tap('.bubble-voice');
  await b.waitFor(() => b.runtime.uiCalls.some((c) => c.api === 'openDocument'), 'the file opened');
  const apis = b.runtime.uiCalls.map((c) => c.api);
  expect(apis).toEqual(expect.arrayContaining(['previewImage', 'openDocument', 'InnerAudioContext.play']));
  const preview = b.runtime.uiCalls.find((c) => c.api === 'previewImage')!.options as { urls: string[]; current: string };
  expect(preview.current).toBe(image.url);
  const play = b.runtime.uiCalls.find((c) => c.api === 'InnerAudioContext.play')!.options as { src: string };
  expect(play.src).toBe(voice.url);
  expect(aId).not.toBe(bId);
});

test('an upload that fails offline shows Retry, with progress shown while it goes, and is sent once on Retry', async () => {
  const { a, bId } = await twoPhones();
  const chatA = await openChatWith(a, bId);
  a.runtime.setNetwork(false);
  await chatA.tap('.plus-btn');
  a.runtime.pickFiles({ bytes: png(400, 300), name: 'p.png' });
  await chatA.tap('.panel-item', 0);
  await a.waitFor(() => chatA.data.messages[0]?.failed, 'the failed upload');
  expect(chatA.text('.retry')).toBe(t('chat.retry'));
  a.runtime.setNetwork(true);
  await a.waitFor(() => a.im.getStatus() === 'connected', 'back online');
  const seen: string[] = [];
  const timer = setInterval(() => {
    const s = chatA.data.messages[0]?.statusText;
    if (s && !seen.includes(s)) seen.push(s);
  }, 1);
  await chatA.tap('.retry');
  await a.waitFor(() => settled(chatA, 1), 'the retried photo stored');
  clearInterval(timer);
  // "上传中 40%" (any percentage below 100) while the upload runs.
  const uploading = Array.from({ length: 100 }, (_, percent) => t('chat.uploading', { percent }));
  expect(seen.some((s) => uploading.includes(s))).toBe(true);
  const history = await a.im.getPrivateHistoryMessages({ peerId: bId, limitSize: 10 });
  expect(history.filter((m: { msgType: number }) => m.msgType === 1)).toHaveLength(1);
});
