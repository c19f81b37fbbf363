import { randomBytes } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ApiError } from '../errors';
import { Code } from '../protocol';
import type { FileRecord, Storage, StoredMessage } from '../storage/types';
import type { RateBucket } from '../realtime/user-limits';
import type { FileStore } from './file-store';
import { processImage } from './images';
import { FILE_KINDS, KIND_OF_MSG_TYPE, acceptedTypes, isMedia, mediaKindOf, type FileKind } from './kinds';
import { SNIFF_BYTES, sniff } from './sniff';
import { checkSignature, expiryFor, signedPath, type Variant } from './signing';

export interface FileLimits {
  maxBytes: number;
  image: number;
  audio: number;
  video: number;
}

export interface FileServiceOptions {
  store: FileStore;
  /** Finished uploads wait here until stored (on the data disk, so the disk store renames them). */
  tmpDir: string;
  limits: FileLimits;
  urlTtlSeconds: number;
  /** Prefix for download URLs (IM_PUBLIC_URL); '' gives paths the SDK resolves against apiServer. */
  publicUrl: string;
  /** Each user's upload budget in kilobytes (IM_UPLOAD_RATE, IM_UPLOAD_BURST); none: unlimited. */
  budget?: (user: string) => RateBucket;
}

/** What an upload answers, and what a media message's `data` carries (with fresh URLs). */
export interface UploadedFile {
  fileId: string;
  kind: FileKind;
  url: string;
  size: number;
  mime: string;
  name: string;
  width?: number;
  height?: number;
  thumbnailUrl?: string;
}

/** A download: the bytes and the headers they go out with. */
export interface Download {
  status: 200 | 206;
  body: Readable;
  headers: Record<string, string>;
}

const SECRET_CACHE_MS = 60_000;

/** A Range past the end: HTTP 416 with `Content-Range: bytes *\/size`, the envelope's code 40000. */
export class RangeNotSatisfiable extends ApiError {
  constructor(readonly size: number) {
    super(Code.INVALID_ARGUMENT, `range not satisfiable: the file is ${size} bytes`);
  }

  override get httpStatus(): number {
    return 416;
  }
}

/** The name a file is shown with: its last path segment, no control characters, at most 200. */
export function cleanName(raw: unknown, fallback: string): string {
  if (typeof raw !== 'string') return fallback;
  const base = raw.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/g, '').trim().slice(0, 200);
  return clean === '' || clean === '.' || clean === '..' ? fallback : clean;
}

/**
 * Uploads, their records, the media fields of messages, and signed downloads. Only the uploader
 * may put a fileId into a message; only those a message reaches get URLs for it, because URLs are
 * only made when a message is delivered or read (and each is signed for a limited time).
 */
export class FileService {
  private readonly secrets = new Map<string, { secret: string; at: number }>();

  constructor(
    private readonly storage: Storage,
    private readonly opts: FileServiceOptions,
  ) {}

  get store(): FileStore {
    return this.opts.store;
  }

  get maxUploadBytes(): number {
    return this.opts.limits.maxBytes;
  }

  /**
   * Before an upload's bytes are read: refused while the user's upload budget is spent. The bytes
   * are charged once they have arrived (`charge`), refused uploads too: they cost the same.
   */
  async admit(appId: string, userId: string): Promise<void> {
    const wait = this.opts.budget ? await this.opts.budget(`${appId}:${userId}`).take(0) : 0;
    if (wait > 0) throw new ApiError(Code.RATE_LIMITED, `rate limited: upload budget used up (IM_UPLOAD_RATE); retry in ${Math.ceil(wait / 1000)} s`);
  }

  charge(appId: string, userId: string, bytes: number): void {
    if (bytes > 0) this.opts.budget?.(`${appId}:${userId}`).charge(Math.ceil(bytes / 1024));
  }

  /** A temp path for an upload in progress; the caller removes it if the upload fails. */
  tempPath(): string {
    return path.join(this.opts.tmpDir, `upload-${randomBytes(12).toString('hex')}`);
  }

  /** Checks a finished upload (type from its bytes, limit by kind), stores it and records it. The temp file is gone afterwards either way. */
  async accept(appId: string, ownerId: string, upload: { tmpPath: string; size: number; filename?: string; kind?: string; name?: string }): Promise<UploadedFile> {
    const keys: string[] = [];
    const extra: string[] = [];
    try {
      if (upload.kind !== undefined && !FILE_KINDS.includes(upload.kind as FileKind)) {
        throw new ApiError(Code.INVALID_ARGUMENT, `kind must be one of ${FILE_KINDS.join(', ')}, got ${JSON.stringify(upload.kind)}`);
      }
      if (upload.size === 0) throw new ApiError(Code.INVALID_ARGUMENT, 'the file is empty');
      const head = await readHead(upload.tmpPath);
      const type = await sniff(head);
      const sniffedKind = mediaKindOf(type?.mime);
      const kind = (upload.kind as FileKind | undefined) ?? sniffedKind;
      if (kind !== 'file' && sniffedKind !== kind) {
        throw new ApiError(Code.INVALID_ARGUMENT, `not an accepted ${kind}: its bytes are ${type ? type.mime : 'not a known media type'}; accepted: ${acceptedTypes(kind)}`);
      }
      const limit = kind === 'file' ? this.opts.limits.maxBytes : Math.min(this.opts.limits.maxBytes, this.opts.limits[kind]);
      if (upload.size > limit) throw new ApiError(Code.PAYLOAD_TOO_LARGE, `the ${kind} is ${upload.size} bytes; the limit for ${kind}s is ${limit} (IM_UPLOAD_MAX_${kind === 'file' ? '' : `${kind.toUpperCase()}_`}BYTES)`);
      const fileId = `f${randomBytes(16).toString('hex')}`;
      const mime = type?.mime ?? 'application/octet-stream';
      const record: FileRecord = {
        fileId,
        ownerId,
        kind,
        mime,
        size: upload.size,
        name: cleanName(upload.name ?? upload.filename, `${fileId}.${type?.ext ?? 'bin'}`),
        createdAt: Date.now(),
      };
      let source = upload.tmpPath;
      if (kind === 'image') {
        const served = `${upload.tmpPath}.served`;
        const thumb = `${upload.tmpPath}.thumb`;
        extra.push(served, thumb);
        const image = await processImage(upload.tmpPath, mime, served, thumb).catch((err: unknown) => {
          throw new ApiError(Code.INVALID_ARGUMENT, `the image could not be read: ${(err as Error).message}`);
        });
        Object.assign(record, { width: image.width, height: image.height, size: image.size, thumbMime: image.thumbMime });
        keys.push(`${appId}/${fileId}.thumb`);
        await this.opts.store.put(`${appId}/${fileId}.thumb`, thumb, image.thumbMime, (await stat(thumb)).size);
        source = served;
      }
      keys.push(`${appId}/${fileId}`);
      await this.opts.store.put(`${appId}/${fileId}`, source, mime, record.size);
      await this.storage.createFile(appId, record);
      keys.length = 0; // recorded: nothing to undo
      return this.describe(appId, record, await this.secret(appId));
    } finally {
      // A refused or failed upload leaves nothing: not the temp files, not half of what was stored.
      for (const key of keys) await this.opts.store.delete(key).catch(() => undefined);
      for (const f of [upload.tmpPath, ...extra]) await rm(f, { force: true }).catch(() => undefined);
    }
  }

  /**
   * The media fields of a message's `data`, checked: the fileId must be the sender's own upload of
   * the message's kind (a file message may carry any kind). Size, type, name and image dimensions
   * come from the record, not from the client; URLs are never stored (they are made on the way out).
   */
  async attach(appId: string, senderId: string, msgType: number, data: unknown): Promise<unknown> {
    const kind = KIND_OF_MSG_TYPE[msgType];
    if (!kind || data === null || typeof data !== 'object' || Array.isArray(data)) return data;
    const d = data as Record<string, unknown>;
    if (d.fileId === undefined) return data;
    const file = await this.own(appId, senderId, d.fileId, 'data.fileId');
    await this.storage.markFileAttached(appId, file.fileId);
    if (kind !== 'file' && file.kind !== kind) throw new ApiError(Code.INVALID_ARGUMENT, `data.fileId: msgType ${msgType} needs an uploaded ${kind}, and ${file.fileId} is a ${file.kind}`);
    const out: Record<string, unknown> = { ...d, fileId: file.fileId, size: file.size, mime: file.mime, name: file.name };
    delete out.url;
    delete out.thumbnailUrl;
    if (file.width !== undefined) Object.assign(out, { width: file.width, height: file.height });
    if (kind === 'audio' || kind === 'video') {
      if (d.duration !== undefined && (typeof d.duration !== 'number' || !Number.isFinite(d.duration) || d.duration < 0 || d.duration > 86_400)) {
        throw new ApiError(Code.INVALID_ARGUMENT, 'data.duration: seconds, a number from 0 to 86400');
      }
      out.duration = d.duration ?? 0;
    }
    if (kind === 'video') {
      for (const k of ['width', 'height'] as const) {
        if (d[k] !== undefined && (typeof d[k] !== 'number' || !Number.isInteger(d[k]) || (d[k] as number) < 0 || (d[k] as number) > 100_000)) {
          throw new ApiError(Code.INVALID_ARGUMENT, `data.${k}: pixels, an integer from 0 to 100000`);
        }
        out[k] = d[k] ?? 0;
      }
      if (d.coverFileId !== undefined) {
        const cover = await this.own(appId, senderId, d.coverFileId, 'data.coverFileId');
        if (cover.kind !== 'image') throw new ApiError(Code.INVALID_ARGUMENT, 'data.coverFileId: the cover must be an uploaded image');
        await this.storage.markFileAttached(appId, cover.fileId);
        out.coverFileId = cover.fileId;
      }
    }
    return out;
  }

  /** The messages with fresh signed URLs in their media fields (a copy; the stored ones never hold URLs). */
  async present<M extends Pick<StoredMessage, 'msgType' | 'data'>>(appId: string, messages: M[]): Promise<M[]> {
    if (!messages.some(isMedia)) return messages;
    const secret = await this.secret(appId);
    const expires = expiryFor(Date.now(), this.opts.urlTtlSeconds);
    return messages.map((m) => {
      if (!isMedia(m)) return m;
      const d = m.data as Record<string, unknown>;
      const data: Record<string, unknown> = { ...d, url: this.url(secret, appId, d.fileId as string, 'original', expires) };
      if (m.msgType === 1) data.thumbnailUrl = this.url(secret, appId, d.fileId as string, 'thumb', expires);
      if (m.msgType === 4 && typeof d.coverFileId === 'string') data.thumbnailUrl = this.url(secret, appId, d.coverFileId, 'thumb', expires);
      return { ...m, data };
    });
  }

  /** A signed download; `range` is the request's Range header. */
  async download(appId: string, fileId: string, variant: Variant, e: unknown, s: unknown, range: string | undefined): Promise<Download> {
    const secret = await this.secret(appId).catch(() => undefined);
    const verdict = secret === undefined ? 'invalid' : checkSignature(secret, appId, fileId, variant, e, s, Date.now());
    if (verdict !== 'ok') {
      throw new ApiError(Code.FORBIDDEN, verdict === 'expired' ? 'this download URL has expired: read the message again for a fresh one' : `forbidden: a download URL needs its signature (${verdict})`);
    }
    const file = await this.storage.getFile(appId, fileId);
    if (!file || (variant === 'thumb' && !file.thumbMime)) throw new ApiError(Code.NOT_FOUND, `file ${fileId} not found`);
    const key = variant === 'thumb' ? `${appId}/${fileId}.thumb` : `${appId}/${fileId}`;
    const mime = variant === 'thumb' ? file.thumbMime! : file.mime;
    const headers: Record<string, string> = {
      'content-type': mime,
      'accept-ranges': 'bytes',
      'cache-control': `private, max-age=${Math.max(0, Number(e) - Math.floor(Date.now() / 1000))}`,
      'x-content-type-options': 'nosniff',
      // Only media shows inline; anything else is a download, so an uploaded HTML page never runs.
      'content-disposition': `${file.kind === 'file' ? 'attachment' : 'inline'}; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    };
    if (variant === 'thumb') {
      return { status: 200, body: await this.opts.store.get(key), headers };
    }
    const r = parseRange(range, file.size);
    if (r === 'unsatisfiable') throw new RangeNotSatisfiable(file.size);
    if (r) {
      headers['content-range'] = `bytes ${r.start}-${r.end}/${file.size}`;
      headers['content-length'] = String(r.end - r.start + 1);
      return { status: 206, body: await this.opts.store.get(key, r), headers };
    }
    headers['content-length'] = String(file.size);
    return { status: 200, body: await this.opts.store.get(key), headers };
  }

  /**
   * Deletes uploads no message took within `maxAgeMs` (a user cannot fill the disk with files
   * nobody will see). Several nodes may sweep at once: the record goes first, under the condition
   * that it is still unattached, so only one of them deletes the bytes. Returns how many went.
   */
  async sweepUnattached(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (;;) {
      const batch = await this.storage.unattachedFiles(now - maxAgeMs, 100);
      for (const { appId, file } of batch) {
        if (!(await this.storage.deleteUnattachedFile(appId, file.fileId))) continue;
        await this.opts.store.delete(`${appId}/${file.fileId}`).catch(() => undefined);
        if (file.thumbMime) await this.opts.store.delete(`${appId}/${file.fileId}.thumb`).catch(() => undefined);
        removed++;
      }
      if (batch.length < 100) return removed;
    }
  }

  close(): Promise<void> {
    return this.opts.store.close();
  }

  private describe(appId: string, f: FileRecord, secret: string): UploadedFile {
    const expires = expiryFor(Date.now(), this.opts.urlTtlSeconds);
    const out: UploadedFile = { fileId: f.fileId, kind: f.kind, url: this.url(secret, appId, f.fileId, 'original', expires), size: f.size, mime: f.mime, name: f.name };
    if (f.width !== undefined) Object.assign(out, { width: f.width, height: f.height });
    if (f.thumbMime) out.thumbnailUrl = this.url(secret, appId, f.fileId, 'thumb', expires);
    return out;
  }

  private url(secret: string, appId: string, fileId: string, variant: Variant, expires: number): string {
    return `${this.opts.publicUrl}${signedPath(secret, appId, fileId, variant, expires)}`;
  }

  private async own(appId: string, senderId: string, fileId: unknown, field: string): Promise<FileRecord> {
    if (typeof fileId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(fileId)) throw new ApiError(Code.INVALID_ARGUMENT, `${field}: must be the fileId an upload answered`);
    const file = await this.storage.getFile(appId, fileId);
    if (!file) throw new ApiError(Code.NOT_FOUND, `${field}: file ${fileId} not found`);
    if (file.ownerId !== senderId) throw new ApiError(Code.FORBIDDEN, `${field}: only the user who uploaded ${fileId} may send it`);
    return file;
  }

  private async secret(appId: string): Promise<string> {
    const hit = this.secrets.get(appId);
    if (hit && Date.now() - hit.at < SECRET_CACHE_MS) return hit.secret;
    const app = await this.storage.getApp(appId);
    if (!app) throw new ApiError(Code.NOT_FOUND, `app ${appId} not found`);
    this.secrets.set(appId, { secret: app.appSecret, at: Date.now() });
    return app.appSecret;
  }
}

async function readHead(file: string): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fh.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** One `bytes=a-b` range (the only form players and downloaders send), undefined for the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | 'unsatisfiable' {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // several ranges or junk: the whole file, as RFC 9110 allows
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
