/** Configuration (docs/protocol.md section 7): IM_* variables, createImServer options, the development app. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { configFromEnv, createImServer, DEFAULT_CONFIG } from '../../server/src';
import { closeAll, http, startServer } from './helpers';

afterAll(closeAll);

describe('configFromEnv', () => {
  it('defaults when nothing is set', () => {
    expect(configFromEnv({})).toEqual({
      apiPort: 8890,
      socketPort: 9998,
      host: '0.0.0.0',
      dataDir: './data',
      tokenTtl: 86400,
      sessionPolicy: 'multi',
      rateLimit: 50,
      rateBurst: 100,
      httpRequestTimeout: 15,
      maxConnectionsPerIp: 256,
      maxSocketsPerUser: 10,
      httpRateLimit: 1200,
      httpAuthRateLimit: 120,
      tokenMaxTtl: 2592000,
      groupMaxMembers: 10000,
      revokeWindow: 120,
      editWindow: 86400,
      presenceGrace: 5,
      replyMaxBytes: 1000000,
      durability: 'normal',
      dbPoolSize: 10,
      fileDriver: 'disk',
      uploadMaxBytes: 52428800,
      uploadMaxImageBytes: 20971520,
      uploadMaxAudioBytes: 10485760,
      uploadMaxVideoBytes: 52428800,
      uploadTimeout: 300,
      uploadRate: 1024,
      uploadBurst: 204800,
      uploadOrphanTtl: 86400,
      fileUrlTtl: 86400,
      s3Region: 'us-east-1',
      s3Prefix: '',
    });
    expect(configFromEnv({ IM_API_PORT: '', IM_HOST: '' })).toEqual(DEFAULT_CONFIG);
  });

  it('reads every IM_* variable', () => {
    expect(
      configFromEnv({
        IM_API_PORT: '8000',
        IM_SOCKET_PORT: '8000',
        IM_HOST: '127.0.0.1',
        IM_DATA_DIR: '/var/lib/im',
        IM_TOKEN_TTL: '3600',
        IM_DEV_APP_ID: 'my-app',
        IM_DEV_APP_SECRET: 'my-secret-123',
        IM_SESSION_POLICY: 'kick',
        IM_RATE_LIMIT: '10',
        IM_RATE_BURST: '20',
        IM_HTTP_REQUEST_TIMEOUT: '20',
        IM_MAX_CONNECTIONS_PER_IP: '0',
        IM_MAX_SOCKETS_PER_USER: '3',
        IM_HTTP_RATE_LIMIT: '600',
        IM_HTTP_AUTH_RATE_LIMIT: '30',
        IM_TOKEN_MAX_TTL: '7200',
        IM_GROUP_MAX_MEMBERS: '2000',
        IM_REVOKE_WINDOW: '300',
        IM_EDIT_WINDOW: '0',
        IM_PRESENCE_GRACE: '2',
        IM_REPLY_MAX_BYTES: '500000',
        IM_DURABILITY: 'full',
        IM_DATABASE_URL: 'postgres://im@db.internal:5432/im',
        IM_DB_POOL_SIZE: '20',
        IM_REDIS_URL: 'redis://cache.internal:6379',
        IM_FILE_DRIVER: 's3',
        IM_UPLOAD_MAX_BYTES: '1000000',
        IM_UPLOAD_MAX_IMAGE_BYTES: '500000',
        IM_UPLOAD_MAX_AUDIO_BYTES: '200000',
        IM_UPLOAD_MAX_VIDEO_BYTES: '900000',
        IM_UPLOAD_TIMEOUT: '60',
        IM_UPLOAD_RATE: '512',
        IM_UPLOAD_BURST: '10240',
        IM_UPLOAD_ORPHAN_TTL: '3600',
        IM_FILE_URL_TTL: '3600',
        IM_PUBLIC_URL: 'https://im.example.com',
        IM_S3_ENDPOINT: 'https://cos.ap-shanghai.myqcloud.com',
        IM_S3_REGION: 'ap-shanghai',
        IM_S3_BUCKET: 'media-1250000000',
        IM_S3_ACCESS_KEY_ID: 'AKID',
        IM_S3_SECRET_ACCESS_KEY: 'secret',
        IM_S3_PREFIX: 'prod/',
      }),
    ).toEqual({
      apiPort: 8000,
      socketPort: 8000,
      host: '127.0.0.1',
      dataDir: '/var/lib/im',
      tokenTtl: 3600,
      devAppId: 'my-app',
      devAppSecret: 'my-secret-123',
      sessionPolicy: 'kick',
      rateLimit: 10,
      rateBurst: 20,
      httpRequestTimeout: 20,
      maxConnectionsPerIp: 0,
      maxSocketsPerUser: 3,
      httpRateLimit: 600,
      httpAuthRateLimit: 30,
      tokenMaxTtl: 7200,
      groupMaxMembers: 2000,
      revokeWindow: 300,
      editWindow: 0,
      presenceGrace: 2,
      replyMaxBytes: 500000,
      durability: 'full',
      databaseUrl: 'postgres://im@db.internal:5432/im',
      dbPoolSize: 20,
      redisUrl: 'redis://cache.internal:6379',
      fileDriver: 's3',
      uploadMaxBytes: 1000000,
      uploadMaxImageBytes: 500000,
      uploadMaxAudioBytes: 200000,
      uploadMaxVideoBytes: 900000,
      uploadTimeout: 60,
      uploadRate: 512,
      uploadBurst: 10240,
      uploadOrphanTtl: 3600,
      fileUrlTtl: 3600,
      publicUrl: 'https://im.example.com',
      s3Endpoint: 'https://cos.ap-shanghai.myqcloud.com',
      s3Region: 'ap-shanghai',
      s3Bucket: 'media-1250000000',
      s3AccessKeyId: 'AKID',
      s3SecretAccessKey: 'secret',
      s3Prefix: 'prod/',
    });
  });

  it.each([
    ['IM_API_PORT', 'abc'],
    ['IM_API_PORT', '70000'],
    ['IM_API_PORT', '0x1F'],
    ['IM_API_PORT', '80.5'],
    ['IM_SOCKET_PORT', '-1'],
    ['IM_TOKEN_TTL', '0'],
    ['IM_TOKEN_TTL', '1e3'],
    ['IM_SESSION_POLICY', 'single'],
    ['IM_RATE_LIMIT', '0'],
    ['IM_RATE_BURST', 'lots'],
    ['IM_DEV_APP_ID', 'has space'],
    ['IM_DEV_APP_SECRET', 'short'],
    ['IM_HOST', 'not a host'],
    ['IM_FILE_DRIVER', 'ftp'],
    ['IM_UPLOAD_MAX_BYTES', '10'],
    ['IM_FILE_URL_TTL', '5'],
    ['IM_PUBLIC_URL', 'im.example.com'],
    ['IM_DURABILITY', 'paranoid'],
    ['IM_DURABILITY', 'FULL'],
  ])('%s=%s is a startup error naming the variable', (name, value) => {
    expect(() => configFromEnv({ [name]: value })).toThrow(new RegExp(`^${name} must`));
  });
});

describe('createImServer options', () => {
  it('refuses invalid options with a message naming the option', () => {
    expect(() => createImServer({ dataDir: ':memory:', sessionPolicy: 'sometimes' as 'kick' })).toThrow(/sessionPolicy must be "multi" or "kick"/);
    expect(() => createImServer({ dataDir: ':memory:', apiPort: 99999 })).toThrow(/apiPort must be an integer/);
    expect(() => createImServer({ dataDir: ':memory:', rateLimit: 0 })).toThrow(/rateLimit/);
    expect(() => createImServer({ dataDir: ':memory:', presenceGrace: 3601 })).toThrow(/presenceGrace must be an integer from 0 to 3600/);
    expect(() => createImServer({ dataDir: ':memory:', durability: 'off' as 'full' })).toThrow(/durability must be "normal" or "full"/);
    expect(() => createImServer({ dataDir: ':memory:', extraApps: [{ appId: 'bad id', appSecret: 'x' }] })).toThrow(/extraApps/);
  });

  it("dataDir ':memory:' runs without touching the disk", async () => {
    const s = await startServer({ dataDir: ':memory:' });
    expect((await http(s, 'GET', '/health')).status).toBe(200);
    await s.stop();
  });

  // PRAGMA synchronous reads 1 for NORMAL and 2 for FULL.
  it.each([
    [undefined, 1],
    ['normal', 1],
    ['full', 2],
  ] as const)('durability %s is in effect on the database file (PRAGMA synchronous = %i, WAL)', async (durability, synchronous) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-durability-'));
    try {
      const s = createImServer({ dataDir: dir, host: '127.0.0.1', apiPort: 0, socketPort: 0, ...(durability ? { durability } : {}) });
      await s.start();
      const db = (s.storage as unknown as { db: { pragma(q: string, o: { simple: true }): unknown } }).db;
      expect(db.pragma('synchronous', { simple: true })).toBe(synchronous);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      await s.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a start on a busy port fails, and stop() still cleans up', async () => {
    const first = await startServer({ dataDir: ':memory:' });
    const port = Number(new URL(first.apiUrl).port);
    const second = createImServer({ dataDir: ':memory:', host: '127.0.0.1', apiPort: port, socketPort: 0 });
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await second.stop();
    await first.stop();
  });
});

describe('the development app', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'comind-im-devapp-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated on first start and kept in the database', async () => {
    const first = await startServer({ dataDir: dir });
    expect(first.appId).toMatch(/^dev_[0-9a-f]{12}$/);
    expect(first.appSecret.length).toBeGreaterThanOrEqual(20);
    await first.stop();
    const again = await startServer({ dataDir: dir });
    expect([again.appId, again.appSecret]).toEqual([first.appId, first.appSecret]);
    await again.stop();
  });

  it('IM_DEV_APP_ID / IM_DEV_APP_SECRET create it, or update its secret', async () => {
    const fixed = await startServer({ dataDir: dir, devAppId: 'fixed-app', devAppSecret: 'fixed-secret-1' });
    expect([fixed.appId, fixed.appSecret]).toEqual(['fixed-app', 'fixed-secret-1']);
    await fixed.stop();
    const rotated = await startServer({ dataDir: dir, devAppId: 'fixed-app', devAppSecret: 'rotated-secret-2' });
    expect(rotated.appSecret).toBe('rotated-secret-2');
    const old = await http(rotated, 'POST', '/api/token', { appId: 'fixed-app', appSecret: 'fixed-secret-1', userId: 'u' });
    expect(old.body.code).toBe(40103);
    expect((await http(rotated, 'POST', '/api/token', { appId: 'fixed-app', appSecret: 'rotated-secret-2', userId: 'u' })).body.code).toBe(0);
    await rotated.stop();
    // Without the variables the stored app stays the development app.
    const plain = await startServer({ dataDir: dir });
    expect([plain.appId, plain.appSecret]).toEqual(['fixed-app', 'rotated-secret-2']);
    await plain.stop();
  });
});
