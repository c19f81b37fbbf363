/** Server configuration from environment variables (names fixed by docs/protocol.md section 7). */
export interface ServerConfig {
  apiPort: number;
  socketPort: number;
  host: string;
  dataDir: string;
  tokenTtl: number;
  devAppId?: string;
  devAppSecret?: string;
  sessionPolicy: 'multi' | 'kick';
  rateLimit: number;
  rateBurst: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  apiPort: 8890,
  socketPort: 9998,
  host: '0.0.0.0',
  dataDir: './data',
  tokenTtl: 86400,
  sessionPolicy: 'multi',
  rateLimit: 50,
  rateBurst: 100,
};

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const policy = env.IM_SESSION_POLICY ?? DEFAULT_CONFIG.sessionPolicy;
  if (policy !== 'multi' && policy !== 'kick') throw new Error(`IM_SESSION_POLICY must be "multi" or "kick", got "${policy}"`);
  const devAppId = env.IM_DEV_APP_ID || undefined;
  const devAppSecret = env.IM_DEV_APP_SECRET || undefined;
  if (devAppId !== undefined && !/^[A-Za-z0-9_.@-]{1,64}$/.test(devAppId)) {
    throw new Error('IM_DEV_APP_ID must be 1-64 characters from A-Z a-z 0-9 _ - . @');
  }
  if (devAppSecret !== undefined && devAppSecret.length < 8) throw new Error('IM_DEV_APP_SECRET must be at least 8 characters');
  return {
    apiPort: int(env, 'IM_API_PORT', DEFAULT_CONFIG.apiPort, 0, 65535),
    socketPort: int(env, 'IM_SOCKET_PORT', DEFAULT_CONFIG.socketPort, 0, 65535),
    host: env.IM_HOST || DEFAULT_CONFIG.host,
    dataDir: env.IM_DATA_DIR || DEFAULT_CONFIG.dataDir,
    tokenTtl: int(env, 'IM_TOKEN_TTL', DEFAULT_CONFIG.tokenTtl, 1, 10 * 365 * 86400),
    devAppId,
    devAppSecret,
    sessionPolicy: policy,
    rateLimit: int(env, 'IM_RATE_LIMIT', DEFAULT_CONFIG.rateLimit, 1, 1_000_000),
    rateBurst: int(env, 'IM_RATE_BURST', DEFAULT_CONFIG.rateBurst, 1, 1_000_000),
  };
}
