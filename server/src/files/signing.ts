import { createHmac, timingSafeEqual } from 'node:crypto';

export type Variant = 'original' | 'thumb';

/**
 * Download URLs are signed with the app's secret (every node of a cluster reads it from the shared
 * database, so any node verifies what another signed) over app, file, variant and expiry. No header
 * is needed, so `<image src>`, `<video src>` and `wx.downloadFile` work with the bare URL.
 */
function signature(secret: string, appId: string, fileId: string, variant: Variant, expires: number): string {
  return createHmac('sha256', secret).update(`${appId}\n${fileId}\n${variant}\n${expires}`).digest('base64url');
}

export function filePath(appId: string, fileId: string, variant: Variant): string {
  return `/files/${encodeURIComponent(appId)}/${encodeURIComponent(fileId)}${variant === 'thumb' ? '/thumb' : ''}`;
}

/**
 * Expiry rounded up to the hour: a message read twice within an hour gets the same URL, so the
 * phone's image cache keeps working; the URL lives between `ttl` and `ttl` + 1 h.
 */
export function expiryFor(nowMs: number, ttlSeconds: number): number {
  return Math.ceil((Math.floor(nowMs / 1000) + ttlSeconds) / 3600) * 3600;
}

export function signedPath(secret: string, appId: string, fileId: string, variant: Variant, expires: number): string {
  return `${filePath(appId, fileId, variant)}?e=${expires}&s=${signature(secret, appId, fileId, variant, expires)}`;
}

/** 'ok', or why the URL is refused. */
export function checkSignature(secret: string, appId: string, fileId: string, variant: Variant, e: unknown, s: unknown, nowMs: number): 'ok' | 'missing' | 'expired' | 'invalid' {
  if (typeof e !== 'string' || typeof s !== 'string' || e === '' || s === '') return 'missing';
  if (!/^[0-9]{1,12}$/.test(e)) return 'invalid';
  const expected = Buffer.from(signature(secret, appId, fileId, variant, Number(e)));
  const given = Buffer.from(s);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  if (Number(e) * 1000 < nowMs) return 'expired';
  return 'ok';
}
