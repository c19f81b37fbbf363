import { createHmac, timingSafeEqual } from 'node:crypto';

/** How old (or how far ahead) a signed timestamp may be before a backend should refuse the call. */
export const SIGNATURE_TOLERANCE_MS = 5 * 60_000;

/** `sha256=<hex>`: HMAC-SHA256 keyed by the webhook secret over `timestamp + "." + rawBody`. */
export function signWebhook(secret: string, timestamp: string | number, rawBody: string | Uint8Array): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`, 'utf8');
  mac.update(rawBody);
  return `sha256=${mac.digest('hex')}`;
}

/**
 * For the app's backend: true when `signatureHeader` (X-Comind-Signature) is the signature of
 * `rawBody` (the body bytes exactly as received, before any JSON parsing) made with `secret` at
 * `timestamp` (X-Comind-Timestamp, ms), and that timestamp is within 5 minutes of `now`, so a
 * recorded call cannot be replayed later. The comparison takes the same time wherever the strings
 * differ.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | undefined,
  rawBody: string | Uint8Array,
  signatureHeader: string | undefined,
  now: number = Date.now(),
): boolean {
  if (typeof secret !== 'string' || secret === '' || typeof signatureHeader !== 'string') return false;
  const ts = typeof timestamp === 'number' ? timestamp : typeof timestamp === 'string' && /^[0-9]{1,16}$/.test(timestamp) ? Number(timestamp) : NaN;
  if (!Number.isSafeInteger(ts) || Math.abs(now - ts) > SIGNATURE_TOLERANCE_MS) return false;
  const expected = Buffer.from(signWebhook(secret, String(timestamp), rawBody), 'utf8');
  const given = Buffer.from(signatureHeader.trim(), 'utf8');
  // timingSafeEqual needs equal lengths; a length mismatch says nothing about the secret.
  return given.length === expected.length && timingSafeEqual(given, expected);
}
