/**
 * The adapter contract: everything the core touches of a platform, and nothing else.
 * Types only. Each adapter in `adapters/` implements `ImAdapter`; the core never reads a platform
 * global. Callback-style platform APIs (success/fail/complete, errMsg) are turned into promises and
 * the shapes below by the adapter, never by the core.
 */

/** Options the core passes when it creates a socket. Mirrors socket.io-client's manager options. */
export interface SocketOptions {
  /**
   * Called on every (re)connection attempt, so a renewed token is always the one sent. The token
   * travels in the handshake body, never in the URL, where proxies and access logs would keep it.
   * `platform` (the adapter's name) is what the server's session lists show.
   */
  auth: (cb: (data: { token: string; platform?: string }) => void) => void;
  reconnection: boolean;
  reconnectionAttempts: number;
  reconnectionDelay: number;
  reconnectionDelayMax: number;
  /** Connection timeout per attempt, ms. */
  timeout: number;
  transports: string[];
  /** The core decides when to open, after listeners are attached. */
  autoConnect: false;
}

export type SocketListener = (...args: any[]) => void;

/** The reconnecting manager behind a socket (socket.io-client's `Manager`). */
export interface SocketManagerLike {
  on(event: 'reconnect_attempt' | 'reconnect' | 'reconnect_error' | 'reconnect_failed', fn: SocketListener): unknown;
  off(event?: string, fn?: SocketListener): unknown;
}

/**
 * A socket.io-client compatible socket. socket.io-client 3/4 (and weapp.socket.io 3, which wraps
 * socket.io-client 3) satisfy it as they are.
 */
export interface SocketLike {
  readonly connected: boolean;
  readonly io: SocketManagerLike;
  connect(): unknown;
  disconnect(): unknown;
  emit(event: string, ...args: any[]): unknown;
  on(event: string, fn: SocketListener): unknown;
  off(event?: string, fn?: SocketListener): unknown;
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  /** JSON-serialisable body; the adapter serialises it. Never set for GET. */
  body?: unknown;
  /** ms; the adapter rejects with a timeout error after it. */
  timeout: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** Parsed JSON when the response is JSON, else the raw text. */
  data: unknown;
}

/** Thrown (rejected) by `request` when no HTTP response arrived at all. */
export interface HttpTransportError extends Error {
  /** True when the request timed out rather than failing to connect. */
  timeout?: boolean;
}

/** A browser `File`/`Blob`, typed by what the adapters use of it (no DOM types in the contract). */
export interface BlobLike {
  readonly size: number;
  readonly type?: string;
  slice(start?: number, end?: number, contentType?: string): unknown;
}

/**
 * The file of an upload, as the core hands it over after normalising what the app passed:
 * a path (a mini-program temp path such as `wxfile://…` or `http://tmp/…`, or a file path in
 * Node), a browser File/Blob, or bytes.
 */
export type UploadSource = { kind: 'path'; path: string } | { kind: 'blob'; blob: BlobLike } | { kind: 'bytes'; bytes: Uint8Array };

export interface UploadRequest {
  url: string;
  source: UploadSource;
  /** The multipart part's name is always "file"; this is its filename. */
  fileName: string;
  /** Further multipart fields. */
  fields: Record<string, string>;
  headers: Record<string, string>;
  /** ms; the adapter rejects with a timeout error after it. */
  timeout: number;
  /** Bytes sent so far and in all (`total` 0 when the platform does not say). */
  onProgress?: (loaded: number, total: number) => void;
}

/** String key-value storage that persists across app launches where the platform allows. */
export interface KeyValueStorage {
  getItem(key: string): Promise<string | null>;
  setItem(key: string, value: string): Promise<void>;
  removeItem(key: string): Promise<void>;
}

export type AppState = 'foreground' | 'background';
export type Unsubscribe = () => void;

export interface ImAdapter {
  /** Short name for logs: 'web', 'weapp', 'uniapp', 'taro', 'memory'. */
  readonly name: string;
  createSocket(url: string, options: SocketOptions): SocketLike;
  request(req: HttpRequest): Promise<HttpResponse>;
  /**
   * A multipart upload (`wx.uploadFile` and its kin, XMLHttpRequest or fetch with FormData). The
   * response is parsed like `request`'s. Rejects with an HttpTransportError when no response came,
   * and with `unsupported: true` for a source this platform cannot read.
   */
  uploadFile?(req: UploadRequest): Promise<HttpResponse>;
  storage: KeyValueStorage;
  /** Calls back with `true` when the device comes back online, `false` when it goes offline. */
  onNetworkChange?(listener: (online: boolean) => void): Unsubscribe;
  /** Calls back when the app is shown or hidden (mini-programs cut sockets in the background). */
  onAppStateChange?(listener: (state: AppState) => void): Unsubscribe;
  /** Extra guidance to log when a socket fails, e.g. the mini-program domain whitelist. */
  socketErrorHint?(url: string): string | undefined;
  /** Releases everything the adapter holds for this client. */
  destroy?(): void;
}

/** Registered by each entry point so `new ImClient()` can pick an adapter when none is injected. */
export interface AdapterCandidate {
  name: string;
  /** `true` when usable here, else a reason shown in the E_NO_ADAPTER error. */
  isSupported(): true | string;
  create(): ImAdapter;
}
