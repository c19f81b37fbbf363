import type { BlobLike, HttpResponse, UploadRequest } from '../../src/adapter';
import { normaliseHeaders, parseBody, transportError } from './http';

/** The contract's "this platform cannot read that source" rejection. */
export function unsupportedSource(message: string): Error & { unsupported: true } {
  return Object.assign(new Error(message), { unsupported: true as const });
}

/** Browsers: XMLHttpRequest, because fetch reports no upload progress. */
export function xhrUpload(req: UploadRequest, blob: BlobLike): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', req.url);
    for (const [k, v] of Object.entries(req.headers)) xhr.setRequestHeader(k, v);
    xhr.timeout = req.timeout;
    if (req.onProgress) xhr.upload.onprogress = (e) => req.onProgress!(e.loaded, e.lengthComputable ? e.total : blob.size);
    xhr.onload = () => {
      const headers: Record<string, string> = {};
      for (const line of xhr.getAllResponseHeaders().split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim()] = line.slice(i + 1).trim();
      }
      resolve({ status: xhr.status, headers: normaliseHeaders(headers), data: parseBody(xhr.responseText) });
    };
    xhr.onerror = () => reject(transportError('upload failed: no response', false));
    xhr.ontimeout = () => reject(transportError(`upload timed out after ${req.timeout} ms`, true));
    const form = new FormData();
    for (const [k, v] of Object.entries(req.fields)) form.append(k, v);
    form.append('file', blob as Blob, req.fileName);
    xhr.send(form);
  });
}
