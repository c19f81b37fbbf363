/**
 * The SDK's media calls beyond the contract suite, on the web adapter in Node against the real
 * server: a video from a chooseMedia-shaped item (its size, length and thumbnail as the cover),
 * uploadFile + a message the app builds itself, and IM_PUBLIC_URL making URLs absolute on the
 * server side.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWebAdapter } from '../../adapters/web';
import { ImClient } from '../../src/client';
import { closeAll, startServer, type TestServer } from '../server/helpers';
import { mp4, png } from './fixtures';
import { download } from './upload';

let server: TestServer;
let dir: string;
const clients: ImClient[] = [];

beforeAll(async () => {
  server = await startServer();
  dir = mkdtempSync(path.join(tmpdir(), 'comind-im-sdk-media-'));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await closeAll();
  rmSync(dir, { recursive: true, force: true });
});

async function user(id: string, extra: Record<string, unknown> = {}): Promise<ImClient> {
  const c = new ImClient({ serverUrl: server.socketUrl, apiServer: server.apiUrl, adapter: createWebAdapter(), logLevel: 'silent', ...extra });
  clients.push(c);
  await c.getToken({ appId: server.appId, appSecret: server.appSecret, userId: id });
  const ready = new Promise((r) => c.once('ready', r));
  await c.connect();
  await ready;
  return c;
}

it('a video from a chooseMedia item: duration, size and the thumbnail as the cover', async () => {
  const a = await user('sm-a');
  await user('sm-b');
  const video = path.join(dir, 'clip.mp4');
  const thumb = path.join(dir, 'clip-thumb.png');
  writeFileSync(video, mp4(8192));
  writeFileSync(thumb, await png(320, 180));
  const m = await a.sendVideoMessage({ recipientId: 'sm-b', file: { tempFilePath: video, thumbTempFilePath: thumb, duration: 9.5, width: 1280, height: 720, size: 8192 } });
  expect(m).toMatchObject({ msgType: 4, data: { duration: 9.5, width: 1280, height: 720, mime: 'video/mp4', size: 8192 } });
  const data = m.data as { url: string; thumbnailUrl: string; coverFileId: string };
  expect(data.coverFileId).toMatch(/^f[0-9a-f]{32}$/);
  expect((await download(server, data.thumbnailUrl)).status).toBe(200);
  expect((await download(server, data.url, { range: 'bytes=0-7' })).bytes.length).toBe(8);
});

it('uploadFile, then a message the app builds with { fileId }: the server fills in the rest', async () => {
  const a = await user('sm-c');
  await user('sm-d');
  const percents: number[] = [];
  const up = await a.uploadFile({ file: await png(50, 40), name: '截图.png', onProgress: (p) => percents.push(p.percent) });
  expect(up).toMatchObject({ kind: 'image', width: 50, height: 40, name: '截图.png', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/files\//) });
  expect(percents[percents.length - 1]).toBe(100);
  const m = await a.sendPrivateMessage({ recipientId: 'sm-d', content: '', msgType: 1, data: { fileId: up.fileId } });
  expect(m.data).toMatchObject({ fileId: up.fileId, width: 50, height: 40, size: up.size, url: expect.stringMatching(/^http:/) });
});

it('with IM_PUBLIC_URL the server makes URLs absolute itself (a proxy in front)', async () => {
  const proxied = await startServer({ publicUrl: 'https://im.example.com/' });
  const c = new ImClient({ serverUrl: proxied.socketUrl, apiServer: proxied.apiUrl, adapter: createWebAdapter(), logLevel: 'silent' });
  clients.push(c);
  await c.getToken({ appId: proxied.appId, appSecret: proxied.appSecret, userId: 'sm-e' });
  const up = await c.uploadFile({ file: await png(20, 20) });
  expect(up.url).toMatch(/^https:\/\/im\.example\.com\/files\/.+\?e=\d+&s=/);
  // The path behind it is served by this server.
  expect((await download(proxied, new URL(up.url).pathname + new URL(up.url).search)).status).toBe(200);
});
