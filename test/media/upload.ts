/** Raw uploads to POST /api/files over real HTTP (global fetch and FormData), for the server tests. */
export async function upload(
  server: { apiUrl: string },
  token: string | undefined,
  bytes: Buffer,
  opts: { filename?: string; kind?: string; type?: string; field?: string } = {},
): Promise<{ status: number; body: any }> {
  const form = new FormData();
  if (opts.kind) form.append('kind', opts.kind);
  form.append(opts.field ?? 'file', new Blob([new Uint8Array(bytes)], { type: opts.type ?? 'application/octet-stream' }), opts.filename ?? 'upload.bin');
  const res = await fetch(`${server.apiUrl}/api/files`, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: await res.json() };
}

/** GETs a download URL (a path is resolved against the API server). */
export async function download(server: { apiUrl: string }, url: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(new URL(url, server.apiUrl), { headers });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}
