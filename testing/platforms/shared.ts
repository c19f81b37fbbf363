/**
 * Plumbing of the platform layers: each platform's API object is a translation of the wx runtime's
 * (same sockets, HTTP, storage and switches underneath), so these helpers call a wx API with the
 * layer's own callbacks and hand the translated outcome to the caller's.
 */
import type { Scheduler } from '../internal';
import type { WxError } from '../types';

export type Out<S, E> = { ok: true; value: S } | { ok: false; error: E };

export interface Callbacks<S, E> {
  success?: (res: S) => void;
  fail?: (err: E) => void;
  complete?: (res: S | E) => void;
}

export function hasCallbacks(o: unknown): boolean {
  const c = o as Callbacks<unknown, unknown> | undefined | null;
  return !!c && (typeof c.success === 'function' || typeof c.fail === 'function' || typeof c.complete === 'function');
}

/** success|fail then complete, each guarded as the platforms do (a throwing callback is reported, never propagated). */
export function deliver<S, E>(scheduler: Scheduler, api: string, o: Callbacks<S, E> | undefined | null, out: Out<S, E>): void {
  if (!o) return;
  if (out.ok) {
    if (typeof o.success === 'function') scheduler.guard(api, () => o.success!(out.value));
  } else if (typeof o.fail === 'function') scheduler.guard(api, () => o.fail!(out.error));
  if (typeof o.complete === 'function') scheduler.guard(api, () => o.complete!(out.ok ? out.value : out.error));
}

/**
 * Runs `start`, which reports once through `done`. With callbacks the outcome goes to them; without,
 * a promise is returned when the platform promisifies the API (`promisify`), else it is dropped.
 */
export function call<S, E>(
  scheduler: Scheduler,
  api: string,
  o: Callbacks<S, E> | undefined | null,
  promisify: boolean,
  start: (done: (out: Out<S, E>) => void) => void,
): void | Promise<S> {
  if (hasCallbacks(o) || !promisify) {
    start((out) => deliver(scheduler, api, o, out));
    return undefined;
  }
  return new Promise<S>((resolve, reject) => start((out) => (out.ok ? resolve(out.value) : reject(out.error))));
}

/** Calls a wx-runtime API with its own success/fail and resolves to the outcome (WeChat shapes). */
export function viaWx<S>(invoke: (cb: { success: (r: S) => void; fail: (e: WxError) => void }) => unknown): Promise<Out<S, WxError>> {
  return new Promise((resolve) => {
    invoke({ success: (value) => resolve({ ok: true, value }), fail: (error) => resolve({ ok: false, error }) });
  });
}

/** Callbacks without the caller's success/fail/complete, for passing the rest of the options through. */
export function rest<T extends object>(o: T | undefined | null): Omit<T, 'success' | 'fail' | 'complete'> {
  const { success: _s, fail: _f, complete: _c, ...others } = (o ?? {}) as T & Callbacks<unknown, unknown>;
  return others as Omit<T, 'success' | 'fail' | 'complete'>;
}

/** A listener list whose off() semantics are the platform's. */
export class ListenerList<A extends unknown[]> {
  private list: Array<(...args: A) => void> = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly api: string,
  ) {}

  add(fn: unknown): void {
    if (typeof fn === 'function' && !this.list.includes(fn as (...args: A) => void)) this.list.push(fn as (...args: A) => void);
  }

  /** off(fn) removes fn; off() removes every listener. */
  remove(fn?: unknown): void {
    this.list = fn === undefined ? [] : this.list.filter((f) => f !== fn);
  }

  clear(): void {
    this.list = [];
  }

  emit(...args: A): void {
    for (const fn of [...this.list]) this.scheduler.guard(this.api, () => fn(...args));
  }

  get size(): number {
    return this.list.length;
  }
}

export function base64ToArrayBuffer(text: string): ArrayBuffer {
  const b = Buffer.from(text, 'base64');
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export function arrayBufferToBase64(data: ArrayBuffer): string {
  return Buffer.from(data).toString('base64');
}

/** The platforms' `data` option of connectSocket and GET requests: encodeURIComponent(k)=encodeURIComponent(v)&… */
export function withQuery(url: string, data: unknown): string {
  if (!data || typeof data !== 'object') return url;
  const query = Object.entries(data as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))}`)
    .join('&');
  if (!query) return url;
  const [base, hash] = url.split('#', 2);
  return `${base}${base!.includes('?') ? '&' : '?'}${query}${hash === undefined ? '' : `#${hash}`}`;
}
