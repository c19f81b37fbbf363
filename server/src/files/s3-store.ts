import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { checkedKey, type ByteRange, type FileStore } from './file-store';

export interface S3Options {
  /** Unset for AWS itself; https://cos.<region>.myqcloud.com (Tencent COS), https://oss-<region>.aliyuncs.com (Aliyun OSS), http://minio:9000 … */
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  prefix: string;
}

/** Any S3-compatible service (AWS S3, Tencent COS, Aliyun OSS, MinIO) through @aws-sdk/client-s3. */
export class S3Store implements FileStore {
  readonly name = 's3' as const;
  private readonly client: S3Client;

  constructor(private readonly opts: S3Options) {
    // The SDK is pinned (package.json): its warning is about releases after this one needing
    // Node 22, which says nothing to the people running this server. Their own setting wins.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
      // Path-style works with every S3-compatible service; virtual-host style needs DNS per bucket.
      forcePathStyle: true,
      // With the defaults a streamed body is sent aws-chunked, which several S3-compatible servers
      // store with the chunk framing inside the object: checksums only where the API requires them.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private key(key: string): string {
    return `${this.opts.prefix}${checkedKey(key)}`;
  }

  async put(key: string, fromPath: string, mime: string, size: number): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), Body: createReadStream(fromPath), ContentLength: size, ContentType: mime }));
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      return res.Body as Readable;
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw Object.assign(new Error(`no object ${key}`), { code: 'ENOENT' });
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: this.key(key) }));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
