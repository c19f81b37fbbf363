import type { TokenManager } from '../auth/token-manager';
import type { ImUser } from '../core/protocol';
import { describe, invalid, optionalString, requireId, requireObject } from '../core/validate';
import type { Feature, FeatureContext } from './feature';

function requireSecret(method: string, value: unknown): string {
  if (typeof value !== 'string' || !value || value.length > 200) {
    throw invalid(method, `"appSecret" must be the app's secret string, got ${describe(value)}.`);
  }
  return value;
}

/** Users: profiles, and the two app-secret calls meant for development and backends. */
export class Users implements Feature {
  readonly name = 'users';
  constructor(
    private readonly fc: FeatureContext,
    private readonly auth: TokenManager,
  ) {}

  /** Gets a token with the app secret and keeps it (and the API server) for later calls. */
  async getToken(params: unknown): Promise<string> {
    const m = 'getToken';
    const p = requireObject(m, params, '{ apiServer, appId, appSecret, userId, userName }');
    const apiServer = this.fc.api.serverFor(m, p.apiServer);
    const body = {
      appId: requireId(m, 'appId', p.appId),
      appSecret: requireSecret(m, p.appSecret),
      userId: requireId(m, 'userId', p.userId),
      userName: optionalString(m, 'userName', p.userName, 100),
    };
    const data = await this.fc.api.call<{ token: string; userId: string; expiresAt: number }>(apiServer, { method: 'POST', path: '/api/token', body, context: m });
    this.auth.set(data.token);
    this.fc.api.remember(apiServer);
    return data.token;
  }

  async register(params: unknown): Promise<ImUser> {
    const m = 'registerUser';
    const p = requireObject(m, params, '{ apiServer, appId, appSecret, userId, userName, ... }');
    const apiServer = this.fc.api.serverFor(m, p.apiServer);
    if (p.imRole !== undefined && !['user', 'admin', 'guest'].includes(p.imRole as string)) {
      throw invalid(m, `"imRole" must be 'user', 'admin' or 'guest', got ${describe(p.imRole)}.`);
    }
    if (p.valid !== undefined && typeof p.valid !== 'boolean') throw invalid(m, `"valid" must be true or false, got ${describe(p.valid)}.`);
    const body: Record<string, unknown> = {
      appId: requireId(m, 'appId', p.appId),
      appSecret: requireSecret(m, p.appSecret),
      userId: requireId(m, 'userId', p.userId),
    };
    const name = optionalString(m, 'userName', p.userName, 100);
    const img = optionalString(m, 'userImg', p.userImg, 1000);
    const company = optionalString(m, 'companyName', p.companyName, 200);
    if (name !== undefined) body.userName = name;
    if (img !== undefined) body.userImg = img;
    if (company !== undefined) body.companyName = company;
    if (p.imRole !== undefined) body.imRole = p.imRole;
    if (p.valid !== undefined) body.valid = p.valid;
    return this.fc.api.call<ImUser>(apiServer, { method: 'POST', path: '/api/users', body, context: m });
  }

  info(params: unknown): Promise<ImUser> {
    const p = requireObject('getUserInfo', params, '{ apiServer, userId }');
    const userId = requireId('getUserInfo', 'userId', p.userId);
    return this.fc.api.authed('getUserInfo', p.apiServer, { method: 'GET', path: `/api/users/${encodeURIComponent(userId)}` });
  }
}
