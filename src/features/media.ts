import type { BlobLike, UploadSource } from '../adapter';
import { ChatType, MsgType, type ChatTypeValue, type ImMessage } from '../core/protocol';
import { describe, invalid, requireId, requireObject } from '../core/validate';
import type { Feature, FeatureContext } from './feature';

export type FileKind = 'image' | 'audio' | 'video' | 'file';

/** What uploadFile resolves with; a media message's `data` has these fields too. */
export interface UploadedFile {
  fileId: string;
  kind: FileKind;
  /** Signed, expiring; works as it is in an image or video tag and in the platform's downloadFile. */
  url: string;
  size: number;
  mime: string;
  name: string;
  width?: number;
  height?: number;
  thumbnailUrl?: string;
}

export interface UploadProgress {
  loaded: number;
  total: number;
  /** 0-100; the last call has 100. */
  percent: number;
}

export interface UploadParams {
  /** A mini-program temp path or a chooseMedia / chooseMessageFile item; a browser File or Blob; in Node a path, Buffer or Uint8Array. */
  file: unknown;
  /** The name others see (default: the file's own name). */
  name?: string;
  onProgress?: (progress: UploadProgress) => void;
  apiServer?: string;
}

interface Picked {
  source: UploadSource;
  name: string;
  /** What a chooseMedia item says of itself. */
  width?: number;
  height?: number;
  duration?: number;
  thumbPath?: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const lastSegment = (p: string) => p.split(/[\\/]/).pop() || 'file';

/** What the app handed over, as an UploadSource: checked by shape, since the core knows no platform. */
export function pickFile(method: string, file: unknown, name: unknown): Picked {
  const named = (fallback: string) => (typeof name === 'string' && name.trim() !== '' ? name : fallback);
  if (typeof file === 'string' && file !== '') return { source: { kind: 'path', path: file }, name: named(lastSegment(file)) };
  if (file instanceof Uint8Array) return { source: { kind: 'bytes', bytes: file }, name: named('file') };
  if (file instanceof ArrayBuffer) return { source: { kind: 'bytes', bytes: new Uint8Array(file) }, name: named('file') };
  if (file && typeof file === 'object') {
    const f = file as Record<string, unknown>;
    // wx.chooseMedia: { tempFilePath, size, width, height, duration, thumbTempFilePath }.
    if (typeof f.tempFilePath === 'string') {
      return { source: { kind: 'path', path: f.tempFilePath }, name: named(lastSegment(f.tempFilePath)), width: num(f.width), height: num(f.height), duration: num(f.duration), thumbPath: typeof f.thumbTempFilePath === 'string' ? f.thumbTempFilePath : undefined };
    }
    // wx.chooseMessageFile: { path, size, name, type }.
    if (typeof f.path === 'string') return { source: { kind: 'path', path: f.path }, name: named(typeof f.name === 'string' ? f.name : lastSegment(f.path)) };
    if (typeof f.size === 'number' && typeof f.slice === 'function') return { source: { kind: 'blob', blob: file as BlobLike }, name: named(typeof f.name === 'string' ? f.name : 'file') };
  }
  throw invalid(method, `"file" must be a temp file path, a chooseMedia or chooseMessageFile item, a File/Blob, or bytes; got ${describe(file)}.`);
}

type Send = (method: string, chatType: ChatTypeValue, params: unknown, targetField: string) => Promise<ImMessage>;

/** Uploads, and the image/file/voice/video messages built on them: upload first, then the normal idempotent send. */
export class Media implements Feature {
  readonly name = 'media';

  constructor(
    private readonly fc: FeatureContext,
    private readonly send: Send,
    /** Throws E_NOT_CONNECTED (as a send would) before anything is uploaded. */
    private readonly assertCanSend: (method: string) => void,
  ) {}

  upload(params: unknown, method = 'uploadFile', kind?: FileKind): Promise<UploadedFile> {
    const p = requireObject(method, params, '{ file, onProgress }');
    return this.uploadPicked(method, pickFile(method, p.file, p.name), p, kind);
  }

  image(params: unknown, chatType: ChatTypeValue): Promise<ImMessage> {
    return this.sendMedia('sendImageMessage', chatType, params, MsgType.IMAGE, 'image', () => ({}));
  }

  file(params: unknown, chatType: ChatTypeValue): Promise<ImMessage> {
    return this.sendMedia('sendFileMessage', chatType, params, MsgType.FILE, 'file', () => ({}));
  }

  audio(params: unknown, chatType: ChatTypeValue): Promise<ImMessage> {
    return this.sendMedia('sendAudioMessage', chatType, params, MsgType.AUDIO, 'audio', (p, m) => {
      const duration = p.duration;
      if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0 || duration > 86400) throw invalid(m.method, `"duration" must be the voice note's length in seconds (0-86400), got ${describe(p.duration)}.`);
      return { duration };
    });
  }

  video(params: unknown, chatType: ChatTypeValue): Promise<ImMessage> {
    return this.sendMedia('sendVideoMessage', chatType, params, MsgType.VIDEO, 'video', (p, m) => {
      const out: Record<string, unknown> = {};
      for (const k of ['duration', 'width', 'height'] as const) {
        const v = p[k] ?? m[k];
        if (v === undefined) continue;
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalid(m.method, `"${k}" must be a number >= 0, got ${describe(v)}.`);
        out[k] = k === 'duration' ? v : Math.round(v);
      }
      return out;
    });
  }

  private async sendMedia(
    method: string,
    chatType: ChatTypeValue,
    params: unknown,
    msgType: number,
    kind: FileKind,
    extra: (p: Record<string, unknown>, picked: Picked & { method: string }) => Record<string, unknown>,
  ): Promise<ImMessage> {
    const target = chatType === ChatType.GROUP ? 'groupId' : 'recipientId';
    const p = requireObject(method, params, `{ ${target}, file }`);
    const picked = pickFile(method, p.file, p.name);
    const fields = extra(p, { ...picked, method });
    requireId(method, target, p[target]);
    // Checked before any byte is sent: a send that cannot go out never uploads.
    this.assertCanSend(method);
    const uploaded = await this.uploadPicked(method, picked, p, kind);
    const data: Record<string, unknown> = { fileId: uploaded.fileId, ...fields };
    // A video's cover: chooseMedia's thumbnail, uploaded as an image (a failed cover does not stop the video).
    if (kind === 'video' && picked.thumbPath) {
      const cover = await this.uploadPicked(method, { source: { kind: 'path', path: picked.thumbPath }, name: 'cover.jpg' }, {}, 'image').catch(() => undefined);
      if (cover) data.coverFileId = cover.fileId;
    }
    const sendParams: Record<string, unknown> = { [target]: p[target], content: typeof p.content === 'string' ? p.content : '', msgType, data };
    if (p.clientMsgId !== undefined) sendParams.clientMsgId = p.clientMsgId;
    if (p.replyTo !== undefined) sendParams.replyTo = p.replyTo;
    if (p.mentions !== undefined) sendParams.mentions = p.mentions;
    return this.send(method, chatType, sendParams, target);
  }

  private async uploadPicked(method: string, picked: Picked, p: Record<string, unknown>, kind?: FileKind): Promise<UploadedFile> {
    const onProgress = p.onProgress;
    if (onProgress !== undefined && typeof onProgress !== 'function') throw invalid(method, `"onProgress" must be a function, got ${describe(onProgress)}.`);
    const report = (loaded: number, total: number) => {
      if (!onProgress) return;
      const percent = total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
      try {
        // 100 only once the server has answered.
        (onProgress as (x: UploadProgress) => void)({ loaded, total, percent: percent === 100 ? 99 : percent });
      } catch (err) {
        this.fc.ctx.log.warn(`${method}: onProgress threw`, err);
      }
    };
    const fields: Record<string, string> = { name: picked.name };
    if (kind) fields.kind = kind;
    const query = kind ? `?kind=${kind}` : '';
    const uploaded = await this.fc.api.upload<UploadedFile>(method, p.apiServer, `/api/files${query}`, { source: picked.source, fileName: picked.name, fields, onProgress: report });
    if (onProgress) {
      try {
        (onProgress as (x: UploadProgress) => void)({ loaded: uploaded.size, total: uploaded.size, percent: 100 });
      } catch (err) {
        this.fc.ctx.log.warn(`${method}: onProgress threw`, err);
      }
    }
    return withAbsoluteUrls(uploaded, this.fc.api.base());
  }
}

/** Download URLs come as paths on the API server unless it is configured with IM_PUBLIC_URL: made absolute here. */
export function withAbsoluteUrls<T extends { url?: unknown; thumbnailUrl?: unknown }>(data: T, base: string | undefined): T {
  if (!base) return data;
  for (const k of ['url', 'thumbnailUrl'] as const) {
    const v = data[k];
    if (typeof v === 'string' && v.startsWith('/')) (data as Record<string, unknown>)[k] = base + v;
  }
  return data;
}

/** The same for a message's media fields (in place: messages are the SDK's own copies). */
export function resolveMessageUrls(m: ImMessage, base: string | undefined): ImMessage {
  if (m && m.msgType >= 1 && m.msgType <= 4 && m.data && typeof m.data === 'object' && !Array.isArray(m.data)) withAbsoluteUrls(m.data as Record<string, unknown>, base);
  return m;
}
