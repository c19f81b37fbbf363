/** True for anything with a `then` method: what frameworks return next to (or instead of) a task. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return !!value && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}
