import type { BlobLike, HttpResponse, UploadRequest } from '../../src/adapter';
import { fromFetchResponse, transportError } from '../shared/http';
import { unsupportedSource } from '../shared/upload';

/** Node's fs, without a static import (this file is in the browser bundles too). */
function nodeFs(): { openAsBlob(path: string): Promise<BlobLike> } | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof p?.getBuiltinModule === 'function' ? (p.getBuiltinModule('node:fs') as { openAsBlob(path: string): Promise<BlobLike> }) : undefined;
}

/** A path in Node: the file on disk as a Blob (read as it is sent). */
export async function blobFromPath(path: string): Promise<BlobLike> {
  const fs = nodeFs();
  if (!fs || typeof fs.openAsBlob !== 'function') throw unsupportedSource(`a file path (${path}) can only be uploaded in Node 20 or later; in a browser pass a File or Blob`);
  try {
    return await fs.openAsBlob(path);
  } catch (err) {
    throw unsupportedSource(`cannot read ${path}: ${(err as Error).message}`);
  }
}

const quote = (s: string) => s.replace(/["\r\n\\]/g, '_').replace(/[^\x20-\x7e]/g, '_');

/**
 * fetch with a multipart body streamed by hand, so the bytes fetch pulls are the progress (fetch
 * itself reports none). Sent chunked: the server reads the parts as they come.
 */
export async function fetchUpload(fetchImpl: typeof fetch, req: UploadRequest, blob: BlobLike): Promise<HttpResponse> {
  const boundary = `----comind-im-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const enc = new TextEncoder();
  let head = '';
  for (const [k, v] of Object.entries(req.fields)) head += `--${boundary}\r\nContent-Disposition: form-data; name="${quote(k)}"\r\n\r\n${v}\r\n`;
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(req.fileName)}"\r\nContent-Type: ${blob.type || 'application/octet-stream'}\r\n\r\n`;
  const parts: Uint8Array[] = [enc.encode(head)];
  const tail = enc.encode(`\r\n--${boundary}--\r\n`);
  const total = blob.size;
  let sent = 0;
  const reader = (blob as Blob).stream().getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const first = parts.shift();
      if (first) return controller.enqueue(first);
      const { done, value } = await reader.read();
      if (done) {
        controller.enqueue(tail);
        controller.close();
        return;
      }
      sent += value.byteLength;
      req.onProgress?.(sent, total);
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, req.timeout);
  try {
    const res = await fetchImpl(req.url, {
      method: 'POST',
      headers: { ...req.headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      signal: controller.signal,
      duplex: 'half',
    } as RequestInit);
    return await fromFetchResponse(res);
  } catch (err) {
    throw transportError(timedOut ? `upload timed out after ${req.timeout} ms` : `upload failed: ${String((err as Error)?.message ?? err)}`, timedOut, err);
  } finally {
    clearTimeout(timer);
  }
}
