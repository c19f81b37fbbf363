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

/** The contract's HttpTransportError: no HTTP response arrived at all. */
export function transportError(message: string, timeout: boolean, cause?: unknown): Error & { timeout: boolean } {
  const err = new Error(message) as Error & { timeout: boolean; cause?: unknown };
  err.timeout = timeout;
  if (cause !== undefined) err.cause = cause;
  return err;
}

/** A fetch Response as the contract's HttpResponse (headers lower-cased, body parsed). */
export async function fromFetchResponse(res: Response): Promise<{ status: number; headers: Record<string, string>; data: unknown }> {
  const text = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k] = v;
  });
  return { status: res.status, headers: normaliseHeaders(headers), data: parseBody(text) };
}
