/** The s3 file driver against a real S3-protocol server (s3rver): what is uploaded is what is served, byte for byte, whole and by range. */
import { readdirSync } from 'node:fs';
import sharp from 'sharp';
import { call, closeAll, collect, connect, startServer, tokenFor, until, type TestServer } from '../server/helpers';
import { gpsJpeg, mp3, pdf } from './fixtures';
import { startS3, s3Options, type S3Server } from './s3';
import { download, upload } from './upload';

let s3: S3Server;
let server: TestServer;

beforeAll(async () => {
  s3 = await startS3();
  server = await startServer(s3Options(s3, 'chat/'));
});
afterAll(async () => {
  await closeAll();
  await s3?.stop();
});

it('an image and its thumbnail go to the bucket, stripped; downloads and ranges come back from it', async () => {
  const t = await tokenFor(server, 's3-alice');
  const r = await upload(server, t, await gpsJpeg(), { filename: 'p.jpg' });
  expect(r.body.data).toMatchObject({ kind: 'image', width: 100, height: 300 });
  const served = await download(server, r.body.data.url);
  expect(served.bytes.length).toBe(r.body.data.size);
  expect((await sharp(served.bytes).metadata()).exif).toBeUndefined();
  expect((await download(server, r.body.data.thumbnailUrl)).status).toBe(200);
  const doc = Buffer.concat([pdf(), Buffer.alloc(3000, 66)]);
  const d = await upload(server, t, doc, { filename: 'd.pdf' });
  expect((await download(server, d.body.data.url)).bytes.equals(doc)).toBe(true);
  const part = await download(server, d.body.data.url, { range: 'bytes=100-199' });
  expect(part.status).toBe(206);
  expect(part.bytes.equals(doc.subarray(100, 200))).toBe(true);
  // Stored under the prefix, nothing on the server's own disk.
  expect(JSON.stringify(readdirSync(s3.dir, { recursive: true }))).toContain('chat');
});

it('two users exchange a voice note through the s3 driver and each downloads it', async () => {
  const ta = await tokenFor(server, 's3-a');
  const tb = await tokenFor(server, 's3-b');
  const a = await connect(server, ta);
  const b = await connect(server, tb);
  const got = collect<any>(b, 'imchat');
  const voice = mp3(30);
  const up = (await upload(server, ta, voice, { filename: 'v.mp3' })).body.data;
  expect((await call(a, 'chat:send', { clientMsgId: 's3-v', chatType: 0, to: 's3-b', content: '', msgType: 3, data: { fileId: up.fileId, duration: 2 } })).code).toBe(0);
  await until(() => got.length === 1);
  expect((await download(server, got[0].data.url)).bytes.equals(voice)).toBe(true);
});
