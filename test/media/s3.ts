/**
 * An S3-protocol server for the s3 driver's tests: s3rver in this process on a free loopback port,
 * its objects in a temp dir. It checks no signatures, so access control is tested on our own
 * signed URLs, never on it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** s3rver's fixed credentials. */
  accessKeyId: string;
  secretAccessKey: string;
  dir: string;
  stop(): Promise<void>;
}

export async function startS3(bucket = 'im-media'): Promise<S3Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'comind-im-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    dir,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The server options for the s3 driver on `s3`. */
export function s3Options(s3: S3Server, prefix = '') {
  return { fileDriver: 's3' as const, s3Endpoint: s3.endpoint, s3Bucket: s3.bucket, s3AccessKeyId: s3.accessKeyId, s3SecretAccessKey: s3.secretAccessKey, s3Prefix: prefix };
}
