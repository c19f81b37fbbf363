/**
 * wx storage: one in-memory store per runtime (one per simulated phone), with WeChat's copy
 * semantics and size limits.
 */
import { failure, ok, type Outcome, parameterError } from './internal';
import type { StorageInfo } from './types';

/** WeChat documents 1 MB per key and 10 MB per mini-program (and user). */
export const MAX_ITEM_BYTES = 1024 * 1024;
export const MAX_TOTAL_BYTES = 10 * 1024 * 1024;

/**
 * WeChat stores "native types, Date, and whatever JSON.stringify can serialise", and hands back a
 * fresh copy on every read: a top-level Date stays a Date, anything else goes through JSON.
 */
interface Entry {
  type: 'Date' | 'Undefined' | 'Json';
  text: string;
  bytes: number;
}

/** Per-platform limits and the texts a write beyond them fails with. */
export interface StorageLimits {
  /** Bytes of one value (its JSON text); Infinity where the platform sets none. */
  maxItemBytes: number;
  /** Bytes of every key and value together. */
  maxTotalBytes: number;
  itemTooBig: string;
  full: string;
}

export const WX_STORAGE_LIMITS: StorageLimits = {
  maxItemBytes: MAX_ITEM_BYTES,
  maxTotalBytes: MAX_TOTAL_BYTES,
  itemTooBig: 'exceed storage item max length',
  full: 'exceed storage max size 10Mb',
};

export class WxStorage {
  private readonly entries = new Map<string, Entry>();
  private used = 0;

  constructor(initial?: Record<string, unknown>, readonly limits: StorageLimits = WX_STORAGE_LIMITS) {
    if (initial) {
      for (const [k, v] of Object.entries(initial)) {
        const res = this.set('setStorageSync', k, v);
        if (!res.ok) throw new Error(res.error.errMsg);
      }
    }
  }

  set(api: string, key: unknown, data: unknown): Outcome<{ errMsg: string }> {
    if (typeof key !== 'string') return failure(parameterError(api, 'key', 'String', key));
    let entry: Entry;
    if (data instanceof Date) entry = { type: 'Date', text: String(data.getTime()), bytes: 0 };
    else if (data === undefined) entry = { type: 'Undefined', text: '', bytes: 0 };
    else {
      let text: string | undefined;
      try {
        text = JSON.stringify(data);
      } catch (err) {
        return failure(`${api}:fail ${(err as Error).message}`);
      }
      // Functions and symbols serialise to undefined; WeChat stores nothing useful for them either.
      entry = text === undefined ? { type: 'Undefined', text: '', bytes: 0 } : { type: 'Json', text, bytes: 0 };
    }
    entry.bytes = Buffer.byteLength(key) + Buffer.byteLength(entry.text);
    if (Buffer.byteLength(entry.text) > this.limits.maxItemBytes) return failure(`${api}:fail ${this.limits.itemTooBig}`);
    const previous = this.entries.get(key)?.bytes ?? 0;
    if (this.used - previous + entry.bytes > this.limits.maxTotalBytes) return failure(`${api}:fail ${this.limits.full}`);
    this.entries.set(key, entry);
    this.used += entry.bytes - previous;
    return ok({ errMsg: `${api}:ok` });
  }

  get(api: string, key: unknown): Outcome<{ errMsg: string; data: unknown }> {
    if (typeof key !== 'string') return failure(parameterError(api, 'key', 'String', key));
    const entry = this.entries.get(key);
    if (!entry) return failure(`${api}:fail data not found`);
    return ok({ errMsg: `${api}:ok`, data: revive(entry) });
  }

  /** getStorageSync: a missing key reads as '' rather than failing. */
  getSync(key: unknown): unknown {
    if (typeof key !== 'string') throw new Error(parameterError('getStorageSync', 'key', 'String', key));
    const entry = this.entries.get(key);
    return entry ? revive(entry) : '';
  }

  remove(api: string, key: unknown): Outcome<{ errMsg: string }> {
    if (typeof key !== 'string') return failure(parameterError(api, 'key', 'String', key));
    const entry = this.entries.get(key);
    if (entry) {
      this.used -= entry.bytes;
      this.entries.delete(key);
    }
    return ok({ errMsg: `${api}:ok` });
  }

  clear(api: string): Outcome<{ errMsg: string }> {
    this.entries.clear();
    this.used = 0;
    return ok({ errMsg: `${api}:ok` });
  }

  info(): StorageInfo {
    return { keys: [...this.entries.keys()], currentSize: Math.ceil(this.used / 1024), limitSize: this.limits.maxTotalBytes / 1024 };
  }

  /** The stored value, or `undefined` for a key never set (platforms differ in how they report that). */
  peek(key: string): { found: boolean; value: unknown } {
    const entry = this.entries.get(key);
    return entry ? { found: true, value: revive(entry) } : { found: false, value: undefined };
  }

  export(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, e] of this.entries) out[k] = revive(e);
    return out;
  }
}

function revive(entry: Entry): unknown {
  if (entry.type === 'Date') return new Date(Number(entry.text));
  if (entry.type === 'Undefined') return undefined;
  return JSON.parse(entry.text);
}
