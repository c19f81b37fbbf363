/**
 * Reads (does not verify) a token's claims, to key per-user caches before the socket is up.
 * Hand-written because `atob` and `Buffer` are missing in mini-programs and jwt-decode needs atob.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function base64UrlToUtf8(input: string): string {
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const ch of input.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')) {
    const idx = ALPHABET.indexOf(ch);
    if (idx < 0) throw new Error('not base64url');
    value = (value << 6) | idx;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >> bits) & 0xff);
    }
  }
  // Percent-encoding turns the bytes into a UTF-8 decode without TextDecoder.
  return decodeURIComponent(bytes.map((b) => `%${(b < 16 ? '0' : '') + b.toString(16)}`).join(''));
}

export interface TokenClaims {
  sub: string;
  app: string;
  exp?: number;
}

export function readClaims(token: string | undefined): TokenClaims | undefined {
  if (!token) return undefined;
  try {
    const payload = JSON.parse(base64UrlToUtf8(token.split('.')[1] ?? '')) as Partial<TokenClaims>;
    return typeof payload.sub === 'string' && typeof payload.app === 'string' ? (payload as TokenClaims) : undefined;
  } catch {
    return undefined;
  }
}
