import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, Code, fail, ok } from '../errors';
import { RangeNotSatisfiable, type FileService } from '../files/file-service';

const ID = /^[A-Za-z0-9_.@-]{1,64}$/;
const FILE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * POST /api/files (multipart, one file; `kind` and `name` as query or fields before the file) and
 * the signed downloads GET /files/:appId/:fileId[/thumb] (docs/media.md). Registered inside the
 * per-user rate-limited scope; `authenticate` is that scope's token check.
 */
export async function uploadRoutes(scope: FastifyInstance, files: FileService, authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<void>): Promise<void> {
  await scope.register(multipart, {
    // One file per request. With `files: 1` the parser drops a second one silently, so it may
    // see two and the route refuses the request when a second comes.
    limits: { fileSize: files.maxUploadBytes, files: 2, fields: 4, fieldSize: 1024, parts: 6, headerPairs: 100 },
  });
  scope.post<{ Querystring: { kind?: string; name?: string } }>('/api/files', { onRequest: authenticate }, async (req) => {
    if (!req.isMultipart()) throw new ApiError(Code.INVALID_ARGUMENT, 'POST /api/files takes multipart/form-data with the file in a part named "file"');
    const caller = req.caller!;
    await files.admit(caller.appId, caller.userId);
    const fields: Record<string, string> = {};
    const tmpPath = files.tempPath();
    let got: { size: number; filename: string } | undefined;
    let received = 0;
    try {
      for await (const part of req.parts()) {
        if (part.type === 'field') {
          if (typeof part.value === 'string') fields[part.fieldname] = part.value;
          continue;
        }
        // A second file is refused, never silently dropped or merged.
        if (got) {
          part.file.resume();
          throw new ApiError(Code.INVALID_ARGUMENT, 'one file per request');
        }
        if (part.fieldname !== 'file') {
          part.file.resume();
          throw new ApiError(Code.INVALID_ARGUMENT, `the file must be in a part named "file", got "${part.fieldname}"`);
        }
        let size = 0;
        part.file.on('data', (chunk: Buffer) => {
          size += chunk.length;
          received += chunk.length;
        });
        await pipeline(part.file, createWriteStream(tmpPath));
        // Over the limit the stream just ends, marked truncated: the upload is refused, not kept short.
        if (part.file.truncated) throw new ApiError(Code.PAYLOAD_TOO_LARGE, `the file is over ${files.maxUploadBytes} bytes (IM_UPLOAD_MAX_BYTES)`);
        got = { size, filename: part.filename };
      }
      if (!got) throw new ApiError(Code.INVALID_ARGUMENT, 'no file in the request: send it in a multipart part named "file"');
    } catch (err) {
      files.charge(caller.appId, caller.userId, received);
      await rm(tmpPath, { force: true }).catch(() => undefined);
      throw err instanceof ApiError ? err : multipartError(err);
    }
    files.charge(caller.appId, caller.userId, received);
    return ok(await files.accept(caller.appId, caller.userId, { tmpPath, size: got.size, filename: got.filename, kind: req.query.kind ?? fields.kind, name: req.query.name ?? fields.name }));
  });
}

/** Downloads carry no token (an `<image src>` cannot send one): the signature in the URL is the access. */
export function downloadRoutes(app: FastifyInstance, files: FileService): void {
  const serve = (variant: 'original' | 'thumb') => async (req: FastifyRequest<{ Params: { appId: string; fileId: string }; Querystring: { e?: string; s?: string } }>, reply: FastifyReply) => {
    const { appId, fileId } = req.params;
    if (!ID.test(appId) || !FILE_ID.test(fileId)) throw new ApiError(Code.NOT_FOUND, 'file not found');
    try {
      const d = await files.download(appId, fileId, variant, req.query.e, req.query.s, typeof req.headers.range === 'string' ? req.headers.range : undefined);
      void reply.status(d.status).headers(d.headers);
      return reply.send(d.body);
    } catch (err) {
      if (err instanceof RangeNotSatisfiable) return reply.status(416).header('content-range', `bytes */${err.size}`).send(fail(err));
      if ((err as { code?: unknown }).code === 'ENOENT') throw new ApiError(Code.NOT_FOUND, `file ${fileId} not found`);
      throw err;
    }
  };
  app.get('/files/:appId/:fileId', serve('original'));
  app.get('/files/:appId/:fileId/thumb', serve('thumb'));
}

/** @fastify/multipart's errors as envelopes: a client's broken body is a 400, not a 500. */
function multipartError(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  const message = (err as Error).message ?? String(err);
  if (code === 'FST_REQ_FILE_TOO_LARGE') return new ApiError(Code.PAYLOAD_TOO_LARGE, 'the file is over the upload limit (IM_UPLOAD_MAX_BYTES)');
  if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') return new ApiError(Code.INVALID_ARGUMENT, `multipart: ${message} (one file and at most the fields kind and name)`);
  if (code.startsWith('FST_') || /multipart|boundary|terminated|Unexpected end|aborted/i.test(message)) return new ApiError(Code.INVALID_ARGUMENT, `malformed multipart body: ${message}`);
  return err; // the server's own failure (a full disk, the store): a logged 50000
}
