import { createReadStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** Inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Where the bytes of uploads live. Keys are `<appId>/<fileId>` and `<appId>/<fileId>.thumb`. */
export interface FileStore {
  readonly name: 'disk' | 's3';
  /** Stores the file at `fromPath` (a finished temp file) under `key`. */
  put(key: string, fromPath: string, mime: string, size: number): Promise<void>;
  /** The bytes of `key` (a range of them). Rejects with `code: 'ENOENT'` for a missing key. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Keys are made by the server from checked ids: this only keeps a bug from escaping the root. */
function checkedKey(key: string): string {
  if (!/^[A-Za-z0-9_.@-]{1,64}\/[A-Za-z0-9_-]{1,64}(\.thumb)?$/.test(key)) throw new Error(`bad file key ${JSON.stringify(key)}`);
  return key;
}

/** Files under a directory (by default `<IM_DATA_DIR>/files`). */
export class DiskStore implements FileStore {
  readonly name = 'disk' as const;

  constructor(private readonly root: string) {}

  async put(key: string, fromPath: string): Promise<void> {
    const target = path.join(this.root, checkedKey(key));
    await mkdir(path.dirname(target), { recursive: true });
    // The temp file is on the same disk as a rule (dataDir/tmp): a rename; else a copy.
    await rename(fromPath, target).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EXDEV') throw err;
      await copyFile(fromPath, target);
    });
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const file = path.join(this.root, checkedKey(key));
    await stat(file); // ENOENT now, not as a stream error after the headers went out
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await rm(path.join(this.root, checkedKey(key)), { force: true });
  }

  async close(): Promise<void> {}
}

export { checkedKey };
