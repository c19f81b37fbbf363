import type { KeyValueStorage } from '../src/adapter';

/** Storage that lives as long as the process: for Node and for platforms without persistence. */
export function memoryStorage(): KeyValueStorage {
  const map = new Map<string, string>();
  return {
    getItem: async (key) => (map.has(key) ? (map.get(key) as string) : null),
    setItem: async (key, value) => {
      map.set(key, value);
    },
    removeItem: async (key) => {
      map.delete(key);
    },
  };
}

/** Lower-cased header names, so the core reads `content-type` whatever the platform returned. */
export function normaliseHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers || typeof headers !== 'object') return out;
  for (const key of Object.keys(headers as Record<string, unknown>)) {
    out[key.toLowerCase()] = String((headers as Record<string, unknown>)[key]);
  }
  return out;
}

/** Platforms hand back JSON already parsed, or as text; the core always wants the parsed form. */
export function parseBody(data: unknown): unknown {
  if (typeof data !== 'string') return data;
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

export function transportError(message: string, timeout: boolean, cause?: unknown): Error & { timeout: boolean } {
  const err = new Error(message) as Error & { timeout: boolean; cause?: unknown };
  err.timeout = timeout;
  if (cause !== undefined) err.cause = cause;
  return err;
}
