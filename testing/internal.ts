/**
 * Plumbing shared by the runtime's modules: a per-runtime scheduler (so `destroy()` can cancel
 * everything), WeChat's success/fail/complete calling convention, and listener lists.
 */
import type { WxCallbacks, WxError } from './types';

export type Cancel = () => void;

export class Scheduler {
  private readonly timeouts = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private stopped = false;

  constructor(private readonly onError: (error: unknown, api: string) => void) {}

  /**
   * WeChat never calls back synchronously from inside an API call; code that registers listeners
   * after calling an API relies on that, so every callback goes through here.
   */
  defer(fn: () => void): void {
    if (this.stopped) return;
    const handle = setImmediate(() => {
      this.immediates.delete(handle);
      fn();
    });
    this.immediates.add(handle);
  }

  later(ms: number, fn: () => void): Cancel {
    if (this.stopped) return () => undefined;
    const handle = setTimeout(() => {
      this.timeouts.delete(handle);
      fn();
    }, ms);
    this.timeouts.add(handle);
    return () => {
      clearTimeout(handle);
      this.timeouts.delete(handle);
    };
  }

  /** Runs user code the way WeChat does: an exception is reported, never propagated into the runtime. */
  guard(api: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.onError(error, api);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timeouts) clearTimeout(t);
    for (const i of this.immediates) clearImmediate(i);
    this.timeouts.clear();
    this.immediates.clear();
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

export function hasCallbacks(options: WxCallbacks<any> | undefined | null): boolean {
  return !!options && (typeof options.success === 'function' || typeof options.fail === 'function' || typeof options.complete === 'function');
}

/** Delivers one outcome to success|fail and then complete, as WeChat's base library does. */
export function settle<S>(scheduler: Scheduler, api: string, options: WxCallbacks<S> | undefined | null, outcome: Outcome<S>): void {
  if (!options) return;
  if (outcome.ok) {
    if (typeof options.success === 'function') scheduler.guard(api, () => options.success!(outcome.value));
    if (typeof options.complete === 'function') scheduler.guard(api, () => options.complete!(outcome.value));
  } else {
    if (typeof options.fail === 'function') scheduler.guard(api, () => options.fail!(outcome.error));
    if (typeof options.complete === 'function') scheduler.guard(api, () => options.complete!(outcome.error));
  }
}

export type Outcome<S> = { ok: true; value: S } | { ok: false; error: WxError };

export const ok = <S>(value: S): Outcome<S> => ({ ok: true, value });
export const failure = (errMsg: string, errno?: number): Outcome<never> => ({ ok: false, error: errno === undefined ? { errMsg } : { errMsg, errno } });

/**
 * WeChat's promisified form (base library 2.10.2+): without success/fail/complete an async API
 * returns a promise that resolves with the success result and rejects with the fail result.
 */
export function respond<S>(scheduler: Scheduler, api: string, options: WxCallbacks<S> | undefined | null, compute: () => Outcome<S>): void | Promise<S> {
  // The work itself is deferred too: WeChat's async storage writes land after the call returns.
  if (hasCallbacks(options)) {
    scheduler.defer(() => settle(scheduler, api, options, compute()));
    return undefined;
  }
  return new Promise<S>((resolve, reject) => {
    scheduler.defer(() => {
      const outcome = compute();
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  });
}

/** A listener list with WeChat's off() semantics: off(fn) removes fn, off() removes all. */
export class Listeners<T extends unknown[]> {
  private list: Array<(...args: T) => void> = [];

  constructor(private readonly scheduler: Scheduler, private readonly api: string) {}

  add(fn: unknown): void {
    if (typeof fn === 'function' && !this.list.includes(fn as (...args: T) => void)) this.list.push(fn as (...args: T) => void);
  }

  remove(fn?: unknown): void {
    this.list = fn === undefined ? [] : this.list.filter((f) => f !== fn);
  }

  emit(...args: T): void {
    for (const fn of [...this.list]) this.scheduler.guard(this.api, () => fn(...args));
  }

  get size(): number {
    return this.list.length;
  }

  clear(): void {
    this.list = [];
  }
}

/** WeChat's parameter-check wording, e.g. "parameter.url should be String instead of Undefined;". */
export function typeName(value: unknown): string {
  if (value === null) return 'Null';
  if (value === undefined) return 'Undefined';
  if (value instanceof ArrayBuffer) return 'ArrayBuffer';
  if (Array.isArray(value)) return 'Array';
  const t = typeof value;
  return t.charAt(0).toUpperCase() + t.slice(1);
}

export function parameterError(api: string, name: string, expected: string, value: unknown): string {
  return `${api}:fail parameter error: parameter.${name} should be ${expected} instead of ${typeName(value)};`;
}

/** Header names as the server sent them (Node lower-cases `res.headers`); repeats joined with ",". */
export function headersFromRaw(raw: string[]): { header: Record<string, string>; cookies: string[] } {
  const header: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name.toLowerCase() === 'set-cookie') cookies.push(value.trim());
    const existing = Object.keys(header).find((k) => k.toLowerCase() === name.toLowerCase());
    if (existing !== undefined) header[existing] = `${header[existing]},${value}`;
    else header[name] = value;
  }
  return { header, cookies };
}

/** Origin as the mini-program console's whitelist writes it: scheme://host[:port]. */
export function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

export function domainAllowed(list: string[] | undefined, url: URL): boolean {
  if (!list) return true;
  const origin = originOf(url).toLowerCase();
  return list.some((entry) => entry.replace(/\/+$/, '').toLowerCase() === origin);
}

export function toArrayBuffer(view: ArrayBufferView | ArrayBuffer): ArrayBuffer {
  if (view instanceof ArrayBuffer) return view.slice(0);
  const copy = new Uint8Array(view.byteLength);
  copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return copy.buffer;
}
