/**
 * POST /api/files and the signed downloads against the real server (disk driver here; the s3
 * driver in s3.test.ts): types sniffed from the bytes, limits by kind, privacy of images
 * (orientation applied, EXIF and GPS gone), thumbnails, signatures, ranges, and who may attach a
 * fileId to a message.
 */
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import sharp from 'sharp';
import { call, closeAll, collect, connect, http, startServer, tokenFor, until, type TestServer } from '../server/helpers';
import { gpsJpeg, mp3, mp4, pdf, png } from './fixtures';
import { download, upload } from './upload';

let server: TestServer;
let small: TestServer;
let alice: string;
let bob: string;
let eve: string;

beforeAll(async () => {
  server = await startServer();
  small = await startServer({ uploadMaxImageBytes: 2048, uploadMaxBytes: 8192 });
  alice = await tokenFor(server, 'fa-alice');
  bob = await tokenFor(server, 'fa-bob');
  eve = await tokenFor(server, 'fa-eve');
});
afterAll(() => closeAll());

const leftovers = (s: TestServer) => readdirSync(path.join(s.dataDir, 'tmp'));

describe('uploads', () => {
  it('an image: orientation applied, EXIF and GPS gone from the served copy, a thumbnail', async () => {
    const original = await gpsJpeg();
    expect(await sharp(original).metadata()).toMatchObject({ orientation: 6, width: 300, height: 100, exif: expect.any(Buffer) });
    expect(original.includes(Buffer.from('secret-owner'))).toBe(true);
    const r = await upload(server, alice, original, { filename: 'IMG_0001.jpg', type: 'image/jpeg' });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ kind: 'image', mime: 'image/jpeg', name: 'IMG_0001.jpg', width: 100, height: 300 });
    const served = await download(server, r.body.data.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(served.bytes).metadata();
    expect({ width: meta.width, height: meta.height, exif: meta.exif, xmp: meta.xmp, orientation: meta.orientation }).toEqual({ width: 100, height: 300, exif: undefined, xmp: undefined, orientation: undefined });
    expect(served.bytes.includes(Buffer.from('secret-owner'))).toBe(false);
    expect(served.bytes.length).toBe(r.body.data.size);
    const thumb = await download(server, r.body.data.thumbnailUrl);
    expect(thumb.status).toBe(200);
    expect(await sharp(thumb.bytes).metadata()).toMatchObject({ width: 100, height: 300 }); // never enlarged
  });

  it('a large image gets a thumbnail whose longer edge is 400 px; a PNG with alpha keeps PNG', async () => {
    const r = await upload(server, alice, await png(1600, 800, true), { filename: 'wide.png' });
    expect(r.body.data).toMatchObject({ mime: 'image/png', width: 1600, height: 800 });
    const thumb = await download(server, r.body.data.thumbnailUrl);
    expect(thumb.headers.get('content-type')).toBe('image/png');
    expect(await sharp(thumb.bytes).metadata()).toMatchObject({ width: 400, height: 200 });
  });

  it('the type comes from the bytes: text named .png is no image; audio, video and files are sniffed', async () => {
    const fake = await upload(server, alice, Buffer.from('just text, not a picture'), { filename: 'cat.png', type: 'image/png', kind: 'image' });
    expect(fake.status).toBe(400);
    expect(fake.body).toMatchObject({ code: 40000, message: expect.stringContaining('not an accepted image') });
    const asAudio = await upload(server, alice, await png(10, 10), { kind: 'audio' });
    expect(asAudio.body.code).toBe(40000);
    expect((await upload(server, alice, mp3(), { filename: 'voice.mp3' })).body.data).toMatchObject({ kind: 'audio', mime: 'audio/mpeg' });
    expect((await upload(server, alice, mp4(), { filename: 'clip.mp4' })).body.data).toMatchObject({ kind: 'video', mime: 'video/mp4' });
    const doc = await upload(server, alice, pdf(), { filename: '../../etc/report.pdf' });
    expect(doc.body.data).toMatchObject({ kind: 'file', mime: 'application/pdf', name: 'report.pdf' });
    expect(leftovers(server)).toEqual([]);
  });

  it('HTML is only ever a download: octet-stream, attachment, nosniff', async () => {
    const r = await upload(server, alice, Buffer.from('<html><script>alert(1)</script></html>'), { filename: 'x.html', type: 'text/html' });
    expect(r.body.data).toMatchObject({ kind: 'file', mime: 'application/octet-stream' });
    const d = await download(server, r.body.data.url);
    expect(d.headers.get('content-type')).toBe('application/octet-stream');
    expect(d.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(d.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('over a limit: 41300 and nothing left behind, per kind and overall', async () => {
    const t = await tokenFor(small, 'fa-small');
    const image = await upload(small, t, await png(400, 400), { filename: 'big.png' });
    expect(image.status).toBe(413);
    expect(image.body).toMatchObject({ code: 41300, message: expect.stringContaining('IMAGE') });
    const file = await upload(small, t, Buffer.alloc(20_000, 7), { filename: 'big.bin' });
    expect(file.body.code).toBe(41300);
    expect(leftovers(small)).toEqual([]);
    const stored = path.join(small.dataDir, 'files');
    expect(existsSync(stored) ? readdirSync(stored, { recursive: true }).filter((f) => /f[0-9a-f]{32}/.test(String(f))) : []).toEqual([]);
  });

  it('refuses what is not one whole file: no token, no multipart, two files, a body cut off', async () => {
    expect((await upload(server, undefined, pdf())).body.code).toBe(40100);
    expect((await http(server, 'POST', '/api/files', { a: 1 }, alice)).body.code).toBe(40000);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(pdf())]), 'a.pdf');
    form.append('file', new Blob([new Uint8Array(pdf())]), 'b.pdf');
    const two = await fetch(`${server.apiUrl}/api/files`, { method: 'POST', body: form, headers: { authorization: `Bearer ${alice}` } });
    expect(((await two.json()) as { code: number }).code).toBe(40000);
    // A multipart body without its closing boundary, then the client goes.
    const url = new URL(server.apiUrl);
    const cut = await new Promise<string>((resolve) => {
      const s = net.connect(Number(url.port), url.hostname, () => {
        const head = '--XB\r\nContent-Disposition: form-data; name="file"; filename="c.bin"\r\nContent-Type: application/octet-stream\r\n\r\n' + 'x'.repeat(5000);
        s.write(`POST /api/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${alice}\r\nContent-Type: multipart/form-data; boundary=XB\r\nContent-Length: ${head.length + 100}\r\n\r\n${head}`);
        setTimeout(() => s.end(), 100);
      });
      let text = '';
      s.on('data', (d) => (text += d));
      s.on('close', () => resolve(text));
    });
    expect(cut === '' || /^HTTP\/1\.1 4\d\d/.test(cut)).toBe(true);
    await until(() => leftovers(server).length === 0, 3000, 'the cut upload to be removed');
  });
});

it('each user has an upload budget in bytes (IM_UPLOAD_RATE, IM_UPLOAD_BURST): past it 42900, others unaffected', async () => {
  const tight = await startServer({ uploadRate: 1, uploadBurst: 10 });
  const t1 = await tokenFor(tight, 'fa-budget-1');
  const t2 = await tokenFor(tight, 'fa-budget-2');
  const eightKb = Buffer.concat([pdf(), Buffer.alloc(8 * 1024, 1)]);
  expect((await upload(tight, t1, eightKb, { filename: 'a.pdf' })).status).toBe(200);
  // 10 KB burst: the second starts with 1-2 KB left and is let in, then charged below zero.
  expect((await upload(tight, t1, eightKb, { filename: 'b.pdf' })).status).toBe(200);
  const third = await upload(tight, t1, eightKb, { filename: 'c.pdf' });
  expect(third.status).toBe(429);
  expect(third.body).toMatchObject({ code: 42900, message: expect.stringContaining('upload budget') });
  expect((await upload(tight, t2, eightKb, { filename: 'd.pdf' })).status).toBe(200);
});

it('uploads no message took within IM_UPLOAD_ORPHAN_TTL are deleted, bytes and all; sent ones stay', async () => {
  const t = await tokenFor(server, 'fa-orphans');
  const kept = (await upload(server, t, await png(30, 30), { filename: 'kept.png' })).body.data;
  const orphan = (await upload(server, t, await png(30, 30), { filename: 'orphan.png' })).body.data;
  const s = await connect(server, t);
  expect((await call(s, 'chat:send', { clientMsgId: 'orphan-test', chatType: 0, to: 'fa-bob', content: '', msgType: 1, data: { fileId: kept.fileId } })).code).toBe(0);
  const removed = await server.im.files.sweepUnattached(0, Date.now() + 1000);
  expect(removed).toBeGreaterThanOrEqual(1);
  expect((await download(server, orphan.url)).status).toBe(404);
  const stored = readdirSync(path.join(server.dataDir, 'files'), { recursive: true }).map(String);
  expect(stored.some((f) => f.includes(orphan.fileId))).toBe(false);
  expect((await download(server, kept.url)).status).toBe(200);
  expect((await download(server, kept.thumbnailUrl)).status).toBe(200);
});

describe('downloads', () => {
  let fileUrl: string;
  let bytes: Buffer;
  beforeAll(async () => {
    bytes = Buffer.concat([pdf(), Buffer.alloc(1000, 65)]);
    fileUrl = (await upload(server, alice, bytes, { filename: 'r.pdf' })).body.data.url;
  });

  it('a URL without its signature, with a changed one or for another file is refused 40300', async () => {
    const u = new URL(fileUrl, server.apiUrl);
    const bare = `${u.pathname}`;
    expect((await download(server, bare)).status).toBe(403);
    const tampered = `${u.pathname}?e=${u.searchParams.get('e')}&s=${u.searchParams.get('s')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`;
    expect((await download(server, tampered)).status).toBe(403);
    const later = `${u.pathname}?e=${Number(u.searchParams.get('e')) + 3600}&s=${u.searchParams.get('s')}`;
    expect((await download(server, later)).status).toBe(403);
    const other = `${u.pathname.replace(/f[0-9a-f]{32}/, 'f' + '0'.repeat(32))}${u.search}`;
    expect((await download(server, other)).status).toBe(403);
    const ok = await download(server, fileUrl);
    expect(ok.bytes.equals(bytes)).toBe(true);
  });

  it('serves ranges (audio and video players ask for them): 206 with the bytes, 416 past the end', async () => {
    const part = await download(server, fileUrl, { range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${bytes.length}`);
    expect(part.bytes.equals(bytes.subarray(10, 20))).toBe(true);
    const tail = await download(server, fileUrl, { range: 'bytes=-5' });
    expect(tail.bytes.equals(bytes.subarray(bytes.length - 5))).toBe(true);
    const past = await download(server, fileUrl, { range: `bytes=${bytes.length + 10}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
  });
});

describe('media messages', () => {
  it('only the uploader may attach a fileId; the recipient gets signed URLs live, in sync and in history', async () => {
    const up = (await upload(server, alice, await png(800, 600), { filename: 'photo.png' })).body.data;
    const a = await connect(server, alice);
    const b = await connect(server, bob);
    const live = collect<any>(b, 'imchat');
    const e = await connect(server, eve);
    // Eve read the fileId somewhere: she still cannot send it as hers.
    expect((await call(e, 'chat:send', { clientMsgId: 'eve-steal', chatType: 0, to: 'fa-bob', content: '', msgType: 1, data: { fileId: up.fileId } })).code).toBe(40300);
    expect((await call(a, 'chat:send', { clientMsgId: 'a-missing', chatType: 0, to: 'fa-bob', content: '', msgType: 1, data: { fileId: 'f' + '1'.repeat(32) } })).code).toBe(40400);
    expect((await call(a, 'chat:send', { clientMsgId: 'a-kind', chatType: 0, to: 'fa-bob', content: '', msgType: 3, data: { fileId: up.fileId, duration: 3 } })).code).toBe(40000);
    // Sizes and names come from the record; a forged url is dropped.
    const ack = await call(a, 'chat:send', { clientMsgId: 'a-img', chatType: 0, to: 'fa-bob', content: '[image]', msgType: 1, data: { fileId: up.fileId, size: 1, width: 1, url: 'https://evil.example/x.png' } });
    expect(ack.code).toBe(0);
    expect(ack.data.data).toMatchObject({ fileId: up.fileId, size: up.size, width: 800, height: 600, mime: 'image/png', name: 'photo.png' });
    expect(ack.data.data.url).toMatch(/^\/files\//);
    await until(() => live.length === 1);
    const got = live[0].data;
    expect((await download(server, got.url)).status).toBe(200);
    expect((await download(server, got.thumbnailUrl)).status).toBe(200);
    const synced = (await call(b, 'chat:sync', { afterInboxSeq: 0 })).data.messages.find((m: any) => m.clientMsgId === 'a-img');
    expect((await download(server, synced.data.url)).status).toBe(200);
    const history = (await http(server, 'GET', '/api/private/fa-alice/messages?limitSize=10', undefined, bob)).body.data.find((m: any) => m.clientMsgId === 'a-img');
    expect((await download(server, history.data.url)).bytes.length).toBe(up.size);
    const conv = (await http(server, 'GET', '/api/conversations', undefined, bob)).body.data.find((c: any) => c.targetId === 'fa-alice');
    expect(conv.lastMessage.data.url).toMatch(/^\/files\/.+\?e=\d+&s=/);
    // What the database holds has no URL: it is made on the way out.
    const row = server.im.storage as unknown as { db: { prepare(s: string): { get(...a: unknown[]): { data: string } } } };
    expect(JSON.parse(row.db.prepare("SELECT data FROM messages WHERE client_msg_id = 'a-img'").get().data).url).toBeUndefined();
  });

  it('voice and video keep the duration and size given; a video cover is the sender\'s image', async () => {
    const a = await connect(server, alice);
    const voice = (await upload(server, alice, mp3(), { filename: 'v.mp3' })).body.data;
    const ack = await call(a, 'chat:send', { clientMsgId: 'a-voice', chatType: 0, to: 'fa-bob', content: '', msgType: 3, data: { fileId: voice.fileId, duration: 4.5 } });
    expect(ack.data.data).toMatchObject({ fileId: voice.fileId, duration: 4.5, mime: 'audio/mpeg' });
    expect((await call(a, 'chat:send', { clientMsgId: 'a-voice-bad', chatType: 0, to: 'fa-bob', content: '', msgType: 3, data: { fileId: voice.fileId, duration: -1 } })).code).toBe(40000);
    const video = (await upload(server, alice, mp4(), { filename: 'v.mp4' })).body.data;
    const cover = (await upload(server, alice, await png(640, 360), { filename: 'c.png' })).body.data;
    const v = await call(a, 'chat:send', { clientMsgId: 'a-video', chatType: 0, to: 'fa-bob', content: '', msgType: 4, data: { fileId: video.fileId, duration: 12, width: 640, height: 360, coverFileId: cover.fileId } });
    expect(v.data.data).toMatchObject({ duration: 12, width: 640, height: 360, mime: 'video/mp4' });
    expect((await download(server, v.data.data.thumbnailUrl)).status).toBe(200);
  });
});
