/** Server configuration: environment variables (names fixed by docs/protocol.md section 7) or options. */
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

export const ID_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/;
const TEN_YEARS = 10 * 365 * 86400;

/** A configuration value that cannot work; the message names the setting and the rule. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function intRule(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

const ENV_NAMES: Record<keyof ServerConfig, string> = {
  apiPort: 'IM_API_PORT',
  socketPort: 'IM_SOCKET_PORT',
  host: 'IM_HOST',
  dataDir: 'IM_DATA_DIR',
  tokenTtl: 'IM_TOKEN_TTL',
  devAppId: 'IM_DEV_APP_ID',
  devAppSecret: 'IM_DEV_APP_SECRET',
  sessionPolicy: 'IM_SESSION_POLICY',
  rateLimit: 'IM_RATE_LIMIT',
  rateBurst: 'IM_RATE_BURST',
};

/**
 * Fills defaults and checks every setting, so a typo fails at startup with a message naming the
 * setting instead of surfacing later as a refused port or a silently ignored limit.
 * `names` maps fields to what the user typed (env variable or option name) for the messages.
 */
export function resolveConfig(partial: Partial<ServerConfig>, names: Partial<Record<keyof ServerConfig, string>> = {}): ServerConfig {
  const n = (k: keyof ServerConfig) => names[k] ?? k;
  const c: ServerConfig = { ...DEFAULT_CONFIG };
  for (const k of Object.keys(ENV_NAMES) as Array<keyof ServerConfig>) {
    const v = (partial as Record<string, unknown>)[k];
    if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  }
  intRule(n('apiPort'), c.apiPort, 0, 65535);
  intRule(n('socketPort'), c.socketPort, 0, 65535);
  if (typeof c.host !== 'string' || !/^[A-Za-z0-9.:_%-]{1,253}$/.test(c.host)) {
    throw new ConfigError(`${n('host')} must be a host name or IP address such as 0.0.0.0 or 127.0.0.1, got ${JSON.stringify(c.host)}`);
  }
  if (typeof c.dataDir !== 'string' || c.dataDir.length === 0) throw new ConfigError(`${n('dataDir')} must be a directory path (or ':memory:')`);
  intRule(n('tokenTtl'), c.tokenTtl, 1, TEN_YEARS);
  if (c.sessionPolicy !== 'multi' && c.sessionPolicy !== 'kick') {
    throw new ConfigError(`${n('sessionPolicy')} must be "multi" or "kick", got ${JSON.stringify(c.sessionPolicy)}`);
  }
  intRule(n('rateLimit'), c.rateLimit, 1, 1_000_000);
  intRule(n('rateBurst'), c.rateBurst, 1, 1_000_000);
  if (c.devAppId !== undefined && (typeof c.devAppId !== 'string' || !ID_PATTERN.test(c.devAppId))) {
    throw new ConfigError(`${n('devAppId')} must be 1-64 characters from A-Z a-z 0-9 _ - . @, got ${JSON.stringify(c.devAppId)}`);
  }
  if (c.devAppSecret !== undefined && (typeof c.devAppSecret !== 'string' || c.devAppSecret.length < 8 || c.devAppSecret.length > 200)) {
    throw new ConfigError(`${n('devAppSecret')} must be 8-200 characters`);
  }
  return c;
}

const NUMERIC: ReadonlySet<keyof ServerConfig> = new Set(['apiPort', 'socketPort', 'tokenTtl', 'rateLimit', 'rateBurst']);

/** Reads IM_* variables; unset or empty ones take the default. Throws ConfigError naming the variable. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const partial: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV_NAMES) as Array<[keyof ServerConfig, string]>) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    // Number('') is 0 and Number('0x10') is 16: only plain decimal digits count as numbers here.
    partial[key] = NUMERIC.has(key) ? (/^[0-9]{1,10}$/.test(raw) ? Number(raw) : raw) : raw;
  }
  return resolveConfig(partial as Partial<ServerConfig>, ENV_NAMES);
}
