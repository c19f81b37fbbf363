/**
 * The file side of one simulated phone: temp files on the real disk behind WeChat's virtual paths
 * (`http://tmp/…` from chooseMedia and downloads, `wxfile://usr/…` under USER_DATA_PATH),
 * wx.uploadFile and wx.downloadFile over real HTTP with progress, getImageInfo, a file system
 * manager, and `pick()` for a test to choose what the next chooseMedia / chooseMessageFile returns.
 */
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { failure, headersFromRaw, ok, respond, settle, type Outcome, type Scheduler } from './internal';
import type { PickedFile, WxCallbacks } from './types';

export const USER_DATA_PATH = 'wxfile://usr';
const TMP = 'http://tmp/';


export interface FilesContext {
  scheduler: Scheduler;
  agents: { http: http.Agent; https: https.Agent };
  userAgent: string;
  referer: string;
  defaultTimeout: number;
  networkBlocked(): { reason: string; errno?: number } | null;
}

type Progress = { progress: number; totalBytesSent: number; totalBytesExpectedToSend: number };
type DownloadProgress = { progress: number; totalBytesWritten: number; totalBytesExpectedToWrite: number };

/** PNG, GIF, JPEG and WebP sizes from their headers (what getImageInfo needs, nothing more). */
export function imageSize(b: Buffer): { width: number; height: number; type: string } | undefined {
  if (b.length > 24 && b.readUInt32BE(0) === 0x89504e47) return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), type: 'png' };
  if (b.length > 10 && b.toString('latin1', 0, 3) === 'GIF') return { width: b.readUInt16LE(6), height: b.readUInt16LE(8), type: 'gif' };
  if (b.length > 30 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') {
    const kind = b.toString('latin1', 12, 16);
    if (kind === 'VP8X') return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3), type: 'webp' };
    if (kind === 'VP8L') {
      const bits = b.readUInt32LE(21);
      return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff), type: 'webp' };
    }
    return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff, type: 'webp' };
  }
  if (b.length > 4 && b[0] === 0xff && b[1] === 0xd8) {
    for (let i = 2; i + 9 < b.length; ) {
      if (b[i] !== 0xff) return undefined;
      const marker = b[i + 1]!;
      const len = b.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return { width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5), type: 'jpeg' };
      i += 2 + len;
    }
  }
  return undefined;
}

export class WxFiles {
  private dir: string | undefined;
  private picks: PickedFile[] = [];
  private seq = 0;
  private readonly requests = new Set<http.ClientRequest>();
  private recorder: Record<string, (...a: any[]) => void> | undefined;

  constructor(private readonly ctx: FilesContext) {}

  /** The real path behind a virtual one, or undefined for a path this phone never made. */
  real(virtual: unknown): string | undefined {
    if (typeof virtual !== 'string') return undefined;
    const root = this.root();
    if (virtual.startsWith(TMP)) return path.join(root, 'tmp', path.basename(virtual.slice(TMP.length)));
    if (virtual.startsWith(`${USER_DATA_PATH}/`)) return path.join(root, 'usr', path.normalize(virtual.slice(USER_DATA_PATH.length + 1)).replace(/^(\.\.[/\\])+/, ''));
    return undefined;
  }

  pick(files: PickedFile[]): void {
    this.picks.push(...files);
  }

  /** A temp file with these bytes, as a platform's chooser leaves one (for platforms whose chooser is not emulated). */
  tempFile(file: Exclude<PickedFile, string>): string {
    this.picks.unshift(file);
    const taken = this.take('tempFile', 1);
    if (!taken.ok) throw new Error(taken.error.errMsg);
    return taken.value[0]!.path;
  }

  chooseMedia(o: { count?: number; mediaType?: string[] } & WxCallbacks<unknown>): void | Promise<unknown> {
    return respond(this.ctx.scheduler, 'chooseMedia', o, () => {
      const chosen = this.take('chooseMedia', o?.count ?? 9);
      if (!chosen.ok) return chosen;
      const tempFiles = chosen.value.map((f) => {
        const image = imageSize(readFileSync(this.real(f.path)!));
        if (image) return { tempFilePath: f.path, size: f.size, fileType: 'image', width: image.width, height: image.height };
        return { tempFilePath: f.path, size: f.size, fileType: 'video', duration: f.meta.duration ?? 0, width: f.meta.width ?? 0, height: f.meta.height ?? 0 };
      });
      return ok({ tempFiles, type: tempFiles.every((t) => t.fileType === 'image') ? 'image' : tempFiles.length > 1 ? 'mix' : 'video', errMsg: 'chooseMedia:ok' });
    });
  }

  chooseMessageFile(o: { count?: number } & WxCallbacks<unknown>): void | Promise<unknown> {
    return respond(this.ctx.scheduler, 'chooseMessageFile', o, () => {
      const chosen = this.take('chooseMessageFile', o?.count ?? 1);
      if (!chosen.ok) return chosen;
      return ok({ tempFiles: chosen.value.map((f) => ({ path: f.path, size: f.size, name: f.name, type: 'file', time: Math.floor(Date.now() / 1000) })), errMsg: 'chooseMessageFile:ok' });
    });
  }

  getImageInfo(o: { src: string } & WxCallbacks<unknown>): void | Promise<unknown> {
    return respond(this.ctx.scheduler, 'getImageInfo', o, () => {
      const file = this.real(o?.src);
      if (!file || !existsSync(file)) return failure(`getImageInfo:fail file not found: ${String(o?.src)}`);
      const size = imageSize(readFileSync(file));
      if (!size) return failure('getImageInfo:fail image type not supported');
      return ok({ ...size, path: o.src, orientation: 'up', errMsg: 'getImageInfo:ok' });
    });
  }

  uploadFile(o: { url: string; filePath: string; name: string; header?: Record<string, string>; formData?: Record<string, unknown>; timeout?: number } & WxCallbacks<unknown>) {
    const progress = new Set<(p: Progress) => void>();
    let abort = () => undefined as void;
    const done = (outcome: Outcome<unknown>) => {
      abort = () => undefined;
      this.ctx.scheduler.defer(() => settle(this.ctx.scheduler, 'uploadFile', o, outcome));
    };
    const task = {
      onProgressUpdate: (fn: (p: Progress) => void) => void progress.add(fn),
      offProgressUpdate: (fn?: (p: Progress) => void) => void (fn ? progress.delete(fn) : progress.clear()),
      abort: () => abort(),
    };
    this.ctx.scheduler.defer(() => {
      const blocked = this.ctx.networkBlocked();
      if (blocked) return done(failure(`uploadFile:fail ${blocked.reason}`, blocked.errno));
      const file = this.real(o?.filePath);
      if (!file || !existsSync(file)) return done(failure(`uploadFile:fail file not found: ${String(o?.filePath)}`));
      let url: URL;
      try {
        url = new URL(o.url);
      } catch {
        return done(failure(`uploadFile:fail invalid url "${String(o?.url)}"`));
      }
      const boundary = `----WeChatFormBoundary${Math.random().toString(36).slice(2)}`;
      let head = '';
      for (const [k, v] of Object.entries(o.formData ?? {})) head += `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`;
      head += `--${boundary}\r\nContent-Disposition: form-data; name="${o.name}"; filename="${path.basename(o.filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`;
      const body = readFileSync(file);
      const tail = `\r\n--${boundary}--\r\n`;
      const total = Buffer.byteLength(head) + body.length + Buffer.byteLength(tail);
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.request(url, {
        method: 'POST',
        agent: url.protocol === 'https:' ? this.ctx.agents.https : this.ctx.agents.http,
        headers: { ...o.header, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': total, 'user-agent': this.ctx.userAgent, ...(this.ctx.referer ? { referer: this.ctx.referer } : {}) },
      });
      this.requests.add(req);
      const timer = this.ctx.scheduler.later(o.timeout ?? this.ctx.defaultTimeout, () => {
        req.destroy();
        done(failure('uploadFile:fail timeout'));
      });
      abort = () => {
        timer();
        req.destroy();
        done(failure('uploadFile:fail abort'));
      };
      req.on('error', (err) => {
        timer();
        this.requests.delete(req);
        done(failure(`uploadFile:fail ${err.message}`));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          timer();
          this.requests.delete(req);
          // As in WeChat, the body is handed over as a string, never parsed.
          done(ok({ data: Buffer.concat(chunks).toString('utf8'), statusCode: res.statusCode ?? 0, header: headersFromRaw(res.rawHeaders).header, errMsg: 'uploadFile:ok' }));
        });
      });
      // Written in slices, each acknowledged by the socket, so progress follows the bytes sent.
      let sent = 0;
      const slices: Buffer[] = [Buffer.from(head)];
      for (let i = 0; i < body.length; i += 16 * 1024) slices.push(body.subarray(i, i + 16 * 1024));
      slices.push(Buffer.from(tail));
      const next = () => {
        const slice = slices.shift();
        if (!slice) return void req.end();
        req.write(slice, () => {
          sent += slice.length;
          const p = { progress: Math.floor((sent / total) * 100), totalBytesSent: sent, totalBytesExpectedToSend: total };
          for (const fn of progress) this.ctx.scheduler.guard('uploadFile.onProgressUpdate', () => fn(p));
          next();
        });
      };
      next();
    });
    return task;
  }

  downloadFile(o: { url: string; header?: Record<string, string>; timeout?: number; filePath?: string } & WxCallbacks<unknown>) {
    const progress = new Set<(p: DownloadProgress) => void>();
    let abort = () => undefined as void;
    const done = (outcome: Outcome<unknown>) => {
      abort = () => undefined;
      this.ctx.scheduler.defer(() => settle(this.ctx.scheduler, 'downloadFile', o, outcome));
    };
    this.ctx.scheduler.defer(() => {
      const blocked = this.ctx.networkBlocked();
      if (blocked) return done(failure(`downloadFile:fail ${blocked.reason}`, blocked.errno));
      let url: URL;
      try {
        url = new URL(o.url);
      } catch {
        return done(failure(`downloadFile:fail invalid url "${String(o?.url)}"`));
      }
      const virtual = o.filePath ?? `${TMP}download-${++this.seq}${path.extname(url.pathname)}`;
      const target = this.real(virtual);
      if (!target) return done(failure(`downloadFile:fail invalid filePath ${virtual}`));
      mkdirSync(path.dirname(target), { recursive: true });
      const transport = url.protocol === 'https:' ? https : http;
      const req = transport.get(url, { agent: url.protocol === 'https:' ? this.ctx.agents.https : this.ctx.agents.http, headers: { ...o.header, 'user-agent': this.ctx.userAgent, ...(this.ctx.referer ? { referer: this.ctx.referer } : {}) } });
      this.requests.add(req);
      const timer = this.ctx.scheduler.later(o.timeout ?? this.ctx.defaultTimeout, () => {
        req.destroy();
        done(failure('downloadFile:fail timeout'));
      });
      abort = () => {
        timer();
        req.destroy();
        done(failure('downloadFile:fail abort'));
      };
      req.on('error', (err) => {
        timer();
        this.requests.delete(req);
        done(failure(`downloadFile:fail ${err.message}`));
      });
      req.on('response', (res) => {
        const total = Number(res.headers['content-length'] ?? 0);
        let written = 0;
        const out = createWriteStream(target);
        res.on('data', (c: Buffer) => {
          written += c.length;
          const p = { progress: total ? Math.floor((written / total) * 100) : 0, totalBytesWritten: written, totalBytesExpectedToWrite: total };
          for (const fn of progress) this.ctx.scheduler.guard('downloadFile.onProgressUpdate', () => fn(p));
        });
        res.pipe(out);
        out.on('finish', () => {
          timer();
          this.requests.delete(req);
          done(ok({ tempFilePath: virtual, ...(o.filePath ? { filePath: o.filePath } : {}), statusCode: res.statusCode ?? 0, errMsg: 'downloadFile:ok' }));
        });
      });
    });
    return {
      onProgressUpdate: (fn: (p: DownloadProgress) => void) => void progress.add(fn),
      offProgressUpdate: (fn?: (p: DownloadProgress) => void) => void (fn ? progress.delete(fn) : progress.clear()),
      abort: () => abort(),
    };
  }

  /** wx.getFileSystemManager(): the calls apps and the SDK make, over the real files behind the paths. */
  fileSystemManager() {
    const sch = this.ctx.scheduler;
    const at = (api: string, p: unknown): Outcome<string> => {
      const file = this.real(p);
      return file ? ok(file) : failure(`${api}:fail permission denied, open ${String(p)}`);
    };
    const io = <T>(api: string, p: unknown, fn: (file: string) => T): Outcome<T & { errMsg: string }> => {
      const f = at(api, p);
      if (!f.ok) return f;
      try {
        return ok({ ...(fn(f.value) as object), errMsg: `${api}:ok` } as T & { errMsg: string });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return failure(`${api}:fail ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message} ${String(p)}`);
      }
    };
    const sync = <T>(outcome: Outcome<T>): T => {
      if (!outcome.ok) throw new Error(outcome.error.errMsg);
      return outcome.value;
    };
    const read = (file: string, encoding?: string) => {
      const b = readFileSync(file);
      return encoding ? b.toString(encoding as BufferEncoding) : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
    };
    const write = (file: string, data: unknown, encoding?: string) => {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, typeof data === 'string' ? Buffer.from(data, (encoding ?? 'utf8') as BufferEncoding) : Buffer.from(data as ArrayBuffer));
    };
    return {
      readFile: (o: { filePath: string; encoding?: string } & WxCallbacks<unknown>) => respond(sch, 'readFile', o, () => io('readFile', o?.filePath, (f) => ({ data: read(f, o.encoding) }))),
      readFileSync: (p: string, encoding?: string) => sync(io('readFileSync', p, (f) => ({ data: read(f, encoding) }))).data,
      writeFile: (o: { filePath: string; data: unknown; encoding?: string } & WxCallbacks<unknown>) => respond(sch, 'writeFile', o, () => io('writeFile', o?.filePath, (f) => (write(f, o.data, o.encoding), {}))),
      writeFileSync: (p: string, data: unknown, encoding?: string) => void sync(io('writeFileSync', p, (f) => (write(f, data, encoding), {}))),
      unlink: (o: { filePath: string } & WxCallbacks<unknown>) => respond(sch, 'unlink', o, () => io('unlink', o?.filePath, (f) => (unlinkSync(f), {}))),
      unlinkSync: (p: string) => void sync(io('unlinkSync', p, (f) => (unlinkSync(f), {}))),
      access: (o: { path: string } & WxCallbacks<unknown>) => respond(sch, 'access', o, () => io('access', o?.path, (f) => (statSync(f), {}))),
      accessSync: (p: string) => void sync(io('accessSync', p, (f) => (statSync(f), {}))),
      getFileInfo: (o: { filePath: string } & WxCallbacks<unknown>) => respond(sch, 'getFileInfo', o, () => io('getFileInfo', o?.filePath, (f) => ({ size: statSync(f).size }))),
    };
  }

  /**
   * wx.getRecorderManager(): start() begins a "recording"; stop() ends it with the next picked file
   * as what was recorded (its `duration`, in seconds, becomes onStop's milliseconds; default 1 s).
   */
  recorderManager() {
    if (this.recorder) return this.recorder;
    const on = { start: new Set<(r?: unknown) => void>(), stop: new Set<(r: unknown) => void>(), error: new Set<(r: unknown) => void>() };
    let recording = false;
    const emit = <T>(set: Set<(r: T) => void>, value: T, api: string) => {
      for (const fn of set) this.ctx.scheduler.defer(() => this.ctx.scheduler.guard(api, () => fn(value)));
    };
    this.recorder = {
      start: () => {
        recording = true;
        emit(on.start, undefined, 'RecorderManager.onStart');
      },
      stop: () => {
        if (!recording) return;
        recording = false;
        const chosen = this.take('RecorderManager', 1);
        if (!chosen.ok) return emit(on.error, { errMsg: 'operateRecorder:fail nothing recorded' }, 'RecorderManager.onError');
        const f = chosen.value[0]!;
        emit(on.stop, { tempFilePath: f.path, duration: Math.round(((f.meta as { duration?: number }).duration ?? 1) * 1000), fileSize: f.size }, 'RecorderManager.onStop');
      },
      onStart: (fn: (r?: unknown) => void) => void on.start.add(fn),
      onStop: (fn: (r: unknown) => void) => void on.stop.add(fn),
      onError: (fn: (r: unknown) => void) => void on.error.add(fn),
    };
    return this.recorder;
  }

  destroy(): void {
    for (const req of this.requests) req.destroy();
    this.requests.clear();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private root(): string {
    if (!this.dir) {
      this.dir = mkdtempSync(path.join(tmpdir(), 'comind-im-wx-'));
      mkdirSync(path.join(this.dir, 'tmp'));
      mkdirSync(path.join(this.dir, 'usr'));
    }
    return this.dir;
  }

  /** The next picked files, copied to temp paths as WeChat does. */
  private take(api: string, count: number): Outcome<Array<{ path: string; size: number; name: string; meta: Exclude<PickedFile, string> | Record<string, never> }>> {
    if (!this.picks.length) return failure(`${api}:fail cancel`);
    const chosen = this.picks.splice(0, Math.max(1, count));
    return ok(
      chosen.map((f) => {
        const name = typeof f === 'string' ? path.basename(f) : f.name;
        const virtual = `${TMP}${++this.seq}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`;
        const real = this.real(virtual)!;
        if (typeof f === 'string') copyFileSync(f, real);
        else writeFileSync(real, f.bytes);
        return { path: virtual, size: statSync(real).size, name, meta: typeof f === 'string' ? {} : f };
      }),
    );
  }
}
