import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { ApiError, Code } from './errors';
import { ID_PATTERN } from './protocol';
import { isSystemAccount } from './domain/system-accounts';
import type { AppRecord, OperatorTokenState, Storage } from './storage/types';

/** The lifetime cap when the caller names none (IM_TOKEN_MAX_TTL's default). */
const DEFAULT_MAX_TTL = 30 * 86400;

/** Token claims (docs/protocol.md section 4). */
export interface TokenClaims {
  sub: string;
  app: string;
  name?: string;
  iat: number;
  exp: number;
}

export interface MintTokenOptions {
  appId: string;
  appSecret: string;
  userId: string;
  userName?: string;
  /** Lifetime in seconds (default 24 h). */
  ttlSeconds?: number;
}

// jsonwebtoken first tries to parse a string secret as a PEM public key and only falls back to a
// secret key after that throws; the failed parse costs ~0.5 ms per sign or verify (benchmarks.md,
// finding 3), paid on every handshake and authenticated request. A KeyObject skips the attempt.
// Keyed by the secret itself, so a rotated secret gets a new key; bounded because secrets are few.
const secretKeys = new Map<string, KeyObject>();
function secretKey(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) {
    if (secretKeys.size >= 256) secretKeys.clear();
    key = createSecretKey(Buffer.from(secret, 'utf8'));
    secretKeys.set(secret, key);
  }
  return key;
}

/**
 * Mints a token the server accepts. Call it from your own backend: the token is signed with the
 * app secret (HS256), so no request to the IM server is needed and the secret never reaches clients.
 */
export function mintToken(opts: MintTokenOptions): string {
  const payload: Record<string, unknown> = { sub: opts.userId, app: opts.appId };
  if (opts.userName) payload.name = opts.userName;
  return jwt.sign(payload, secretKey(opts.appSecret), { algorithm: 'HS256', expiresIn: opts.ttlSeconds ?? 86400 });
}

/**
 * Verifies a token against the secret of the app it names. Throws ApiError with the precise reason.
 * `maxTtlSeconds` caps the lifetime a token may claim: a leaked token with `exp` far in the future
 * would otherwise never stop working.
 */
export async function verifyToken(
  apps: Pick<Storage, 'getApp'> | ((appId: string) => Promise<AppRecord | undefined> | AppRecord | undefined),
  token: unknown,
  maxTtlSeconds = DEFAULT_MAX_TTL,
): Promise<TokenClaims> {
  const lookup = typeof apps === 'function' ? apps : (appId: string) => apps.getApp(appId);
  if (typeof token !== 'string' || token.length === 0) {
    throw new ApiError(Code.NO_TOKEN, 'no token: send Authorization: Bearer <token> (HTTP) or auth.token (socket)');
  }
  if (token.length > 4096) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: too long');
  const complete = jwt.decode(token, { complete: true, json: true });
  // RFC 7515 4.1.11: a header extension the recipient does not understand must make it refuse.
  if (complete && typeof complete.header === 'object' && 'crit' in complete.header) {
    throw new ApiError(Code.TOKEN_INVALID, 'token invalid: critical header extensions ("crit") are not supported');
  }
  const decoded = complete && typeof complete.payload === 'object' ? (complete.payload as jwt.JwtPayload) : null;
  const appId = decoded && typeof decoded.app === 'string' ? decoded.app : undefined;
  const app = appId ? await lookup(appId) : undefined;
  if (!app) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: not a token of a known app');
  try {
    const claims = jwt.verify(token, secretKey(app.appSecret), { algorithms: ['HS256'] }) as jwt.JwtPayload;
    // An operator token (scope "server", below) is signed with the same secret but is not a user.
    if ('scope' in claims) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: an operator token is not a user token');
    if (typeof claims.sub !== 'string' || !ID_PATTERN.test(claims.sub) || typeof claims.exp !== 'number') {
      throw new ApiError(Code.TOKEN_INVALID, 'token invalid: missing or malformed sub/exp claims');
    }
    // Even one a backend minted itself: a system account never connects as a user.
    if (isSystemAccount(claims.sub)) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: user ids starting with "@" are reserved for system accounts');
    const now = Math.floor(Date.now() / 1000);
    const issued = typeof claims.iat === 'number' ? Math.min(claims.iat, now) : now;
    if (claims.exp - issued > maxTtlSeconds || claims.exp - now > maxTtlSeconds) {
      throw new ApiError(Code.TOKEN_INVALID, `token invalid: it claims a lifetime over ${maxTtlSeconds} s (IM_TOKEN_MAX_TTL); mint tokens that expire sooner`);
    }
    return { sub: claims.sub, app: app.appId, name: typeof claims.name === 'string' ? claims.name : undefined, iat: claims.iat ?? 0, exp: claims.exp };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof jwt.TokenExpiredError) throw new ApiError(Code.TOKEN_EXPIRED, 'token expired: get a new token');
    throw new ApiError(Code.TOKEN_INVALID, `token invalid: ${(err as Error).message}`);
  }
}

/** Claims of an operator token: the app's server REST API and admin console (docs/protocol.md section 8). */
export interface OperatorClaims {
  app: string;
  scope: 'server';
  /** The token's own id: what a sign-out names. */
  jti: string;
  /** The app's generation when it was minted; a revoke of all moves the app's on. */
  gen: number;
  iat: number;
  exp: number;
}

/** The lifetime of an operator token (a console sign-in). */
export const OPERATOR_TOKEN_TTL = 3600;

/** Mints an operator token: proof of the app secret that is not the secret, short-lived. */
export function mintOperatorToken(appId: string, appSecret: string, generation: number, ttlSeconds = OPERATOR_TOKEN_TTL): string {
  return jwt.sign({ app: appId, scope: 'server', gen: generation }, secretKey(appSecret), { algorithm: 'HS256', expiresIn: ttlSeconds, jwtid: randomUUID() });
}

/** Where a verified operator token is checked against sign-outs (the storage, shared by every node). */
export type OperatorTokenLookup = (appId: string, jti: string) => Promise<OperatorTokenState>;

/**
 * Verifies an operator token against the secret of the app it names, and then against the
 * sign-outs: one that was revoked, or minted before the app's tokens were all revoked, is refused
 * like an invalid one. User tokens are refused.
 */
export async function verifyOperatorToken(
  lookup: (appId: string) => Promise<AppRecord | undefined> | AppRecord | undefined,
  revocations: OperatorTokenLookup,
  token: string,
): Promise<OperatorClaims> {
  if (token.length > 4096) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: too long');
  const decoded = jwt.decode(token, { json: true });
  const appId = decoded && typeof decoded.app === 'string' ? decoded.app : undefined;
  const app = appId ? await lookup(appId) : undefined;
  if (!app) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: not a token of a known app');
  let claims: OperatorClaims;
  try {
    const c = jwt.verify(token, secretKey(app.appSecret), { algorithms: ['HS256'] }) as jwt.JwtPayload;
    if (c.scope !== 'server' || typeof c.exp !== 'number') throw new ApiError(Code.TOKEN_INVALID, 'token invalid: not an operator token (sign in with the app secret)');
    if (c.exp - Math.floor(Date.now() / 1000) > OPERATOR_TOKEN_TTL * 24) throw new ApiError(Code.TOKEN_INVALID, 'token invalid: lifetime too long for an operator token');
    // Without an id it could not be signed out, so it is not accepted at all.
    if (typeof c.jti !== 'string' || c.jti.length === 0 || c.jti.length > 64 || !Number.isSafeInteger(c.gen) || (c.gen as number) < 0) {
      throw new ApiError(Code.TOKEN_INVALID, 'token invalid: an operator token needs its id (jti) and generation (gen) claims; sign in again');
    }
    claims = { app: app.appId, scope: 'server', jti: c.jti, gen: c.gen as number, iat: c.iat ?? 0, exp: c.exp };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof jwt.TokenExpiredError) throw new ApiError(Code.TOKEN_EXPIRED, 'token expired: sign in again');
    throw new ApiError(Code.TOKEN_INVALID, `token invalid: ${(err as Error).message}`);
  }
  // Outside the try: a storage failure is the server's (500), not a bad token.
  const state = await revocations(claims.app, claims.jti);
  if (state.revoked) throw new ApiError(Code.TOKEN_INVALID, 'token revoked: this operator token was signed out; sign in again');
  if (claims.gen !== state.generation) throw new ApiError(Code.TOKEN_INVALID, "token revoked: the app's operator tokens were all revoked after this one was minted; sign in again");
  return claims;
}
