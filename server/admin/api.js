// The server REST API (/api/server/*) on this origin, as the signed-in app.
//
// The operator token lives in sessionStorage only: it goes when the tab closes, it is never in a
// cookie (so no other site can make the browser send it: no CSRF) and never in a URL (so no log,
// history entry or Referer holds it). The app secret is sent once, to POST /api/server/session,
// and kept nowhere.

const SESSION_KEY = 'comind-im-admin.session';
const TIMEOUT_MS = 15_000;

/** A refused call: `code` from the envelope (0 when the reply was not one), `status` the HTTP status. */
export class ApiFailure extends Error {
  constructor(code, message, status) {
    super(message);
    this.name = 'ApiFailure';
    this.code = code;
    this.status = status;
  }

  /** 401: the token is missing, invalid or expired; the console signs out. */
  get unauthorized() {
    return this.status === 401;
  }
}

/** `{ token, appId, expiresAt }`, or null when signed out. */
export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    if (s && typeof s.token === 'string' && typeof s.appId === 'string') return s;
  } catch {
    // A value that is not ours: treated as signed out.
  }
  return null;
}

export function forgetSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

/**
 * Signs out: the token is forgotten here at once and, best-effort, revoked on the server, so a
 * copy of it stops working too. A failed call (offline, a token already refused) changes nothing
 * for the page: it is signed out either way.
 */
export async function signOutSession() {
  const s = session();
  forgetSession();
  if (!s) return;
  await request('POST', '/api/server/session/revoke', { token: s.token }).catch(() => {});
}

let unauthorized = () => {};
/** Called with the server's reason whenever a call is answered 401. */
export function onUnauthorized(handler) {
  unauthorized = handler;
}

async function request(method, path, { body, token } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new ApiFailure(0, err?.name === 'TimeoutError' ? 'timeout' : 'network', 0);
  }
  let envelope;
  try {
    envelope = await res.json();
  } catch {
    throw new ApiFailure(0, `HTTP ${res.status}`, res.status);
  }
  if (!envelope || typeof envelope.code !== 'number') throw new ApiFailure(0, `HTTP ${res.status}`, res.status);
  if (envelope.code !== 0) throw new ApiFailure(envelope.code, String(envelope.message ?? ''), res.status);
  return envelope.data;
}

/** A call as the signed-in app; a 401 signs out (with the reason) before it rejects. */
export async function api(method, path, body) {
  const s = session();
  if (!s) {
    const err = new ApiFailure(40100, 'not signed in', 401);
    unauthorized(err);
    throw err;
  }
  try {
    return await request(method, path, { body, token: s.token });
  } catch (err) {
    if (err instanceof ApiFailure && err.unauthorized) unauthorized(err);
    throw err;
  }
}

/** `/api/server/users?query=…`: parameters with no value are left out. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function seg(value) {
  return encodeURIComponent(value);
}

/** The `exp` claim of a JWT, in ms (only to sign out on time: the server is what checks it). */
function tokenExpiry(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return typeof payload.exp === 'number' ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}

function remember(token, appId, expiresAt) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token, appId, expiresAt: expiresAt ?? tokenExpiry(token) }));
}

/** Trades the app secret for an operator token; the secret is not kept. */
export async function signIn(appId, appSecret) {
  const data = await request('POST', '/api/server/session', { body: { appId, appSecret } });
  remember(data.token, data.appId, data.expiresAt);
  return data;
}

/** Signs in with an operator token minted elsewhere, once the server has accepted it. */
export async function signInWithToken(token) {
  const data = await request('GET', '/api/server/app', { token });
  remember(token, data.appId);
  return data;
}
