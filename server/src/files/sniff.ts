interface FileTypeModule {
  fileTypeFromBuffer(bytes: Uint8Array): Promise<{ ext: string; mime: string } | undefined>;
}

let loaded: FileTypeModule | undefined;

/**
 * file-type is an ES module only. Node's own require loads ES modules (Node 20.19 and later), so
 * the CommonJS server takes it with that; test runners that replace `require` with their own
 * cannot, which is why this asks the process for Node's module loader rather than using the one
 * in scope.
 */
function fileType(): FileTypeModule {
  if (!loaded) {
    const nodeModule = (process as unknown as { getBuiltinModule(id: string): typeof import('node:module') }).getBuiltinModule('node:module');
    loaded = nodeModule.createRequire(__filename)('file-type') as FileTypeModule;
  }
  return loaded;
}

/** Bytes file-type needs at most to decide. */
export const SNIFF_BYTES = 4100;

/** The type the bytes say, or undefined for text and anything unrecognised. */
export async function sniff(head: Uint8Array): Promise<{ ext: string; mime: string } | undefined> {
  return fileType().fileTypeFromBuffer(head);
}
