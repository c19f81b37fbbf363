/**
 * Public types of the other platforms' runtimes (createMiniProgramRuntime). Like types.ts they are
 * written by hand from each platform's API reference, so the published .d.ts depends on no typings
 * package; test/types/testing-typings.check.ts holds them against the official typings where those
 * exist (@mini-types/my for Alipay, @douyin-microapp/typings for Douyin).
 */
import type {
  LaunchOptions,
  ListenerCounts,
  PickedFile,
  SocketTask as WxSocketTaskShape,
  StorageInfo,
  SystemInfo,
  UiCall,
  Wx,
  WxRuntimeOptions,
  HideOptions,
  NetworkType,
} from './types';

export type MiniProgramPlatform = 'weapp' | 'alipay' | 'dingtalk' | 'douyin' | 'feishu' | 'baidu' | 'qq' | 'kuaishou' | 'jd';

// ---------------------------------------------------------------------------------------------
// Alipay `my` and DingTalk `dd`

/** Every Alipay/DingTalk failure: a number and a text, never `errMsg`. */
export interface AlipayError {
  error: number;
  errorMessage: string;
}

export interface AlipayCallbacks<S> {
  success?: (res: S) => void;
  fail?: (err: AlipayError) => void;
  complete?: (res: S | AlipayError) => void;
}

export interface AlipayConnectSocketOptions extends AlipayCallbacks<Record<string, never>> {
  url: string;
  /** Appended to the URL as a query string. */
  data?: Record<string, unknown>;
  header?: Record<string, string>;
  protocols?: string[];
  /** Handshake timeout (ms, default 30000). */
  timeout?: number;
  /** `true`: return a SocketTask. Without it the call returns nothing and the `my.onSocket*` API drives the one global socket. */
  multiple?: boolean;
}

/** The payload of every SocketTask event wraps the data in `data` with the task's id. */
export interface AlipaySocketTaskEvent<D = unknown> {
  data: { socketTaskID: string } & D;
}

export interface AlipaySocketMessage {
  /** Text, or a binary frame: an ArrayBuffer, or its base64 text on older clients (`isBuffer` true either way). */
  data: string | ArrayBuffer;
  isBuffer: boolean;
}

export interface AlipaySendOptions extends AlipayCallbacks<{ success: boolean }> {
  /** Text, or base64 of binary data with `isBuffer: true`. */
  data: string;
  isBuffer?: boolean;
}

export interface AlipayCloseOptions extends AlipayCallbacks<{ message: string }> {
  code?: number;
  reason?: string;
}

export interface AlipaySocketTask {
  send(options: AlipaySendOptions): void;
  close(options?: AlipayCloseOptions): void;
  onOpen(listener: (res: AlipaySocketTaskEvent) => void): void;
  offOpen(listener?: (res: AlipaySocketTaskEvent) => void): void;
  onMessage(listener: (res: AlipaySocketTaskEvent<AlipaySocketMessage>) => void): void;
  offMessage(listener?: (res: AlipaySocketTaskEvent<AlipaySocketMessage>) => void): void;
  /** No close code or reason: the event carries only the task's id. */
  onClose(listener: (res: AlipaySocketTaskEvent) => void): void;
  offClose(listener?: (res: AlipaySocketTaskEvent) => void): void;
  onError(listener: (res: AlipaySocketTaskEvent & { error: number }) => void): void;
  offError(listener?: (res: AlipaySocketTaskEvent & { error: number }) => void): void;
}

export type AlipayDataType = 'json' | 'text' | 'base64' | 'arraybuffer';

export interface AlipayRequestSuccess {
  data: unknown;
  status: number;
  headers: Record<string, string>;
  /** Only with `alipay.wxRequestFields` (newer base libraries answer both spellings). */
  statusCode?: number;
  header?: Record<string, string>;
}

/** A non-2xx answer (error 19) and a body that is not what `dataType` asked for (error 14) carry the response. */
export interface AlipayRequestError extends AlipayError {
  data?: unknown;
  status?: number;
  headers?: Record<string, string>;
}

export interface AlipayRequestOptions {
  url: string;
  method?: string;
  /** Request headers. `header` is read too only with `alipay.wxRequestFields`. */
  headers?: Record<string, string>;
  header?: Record<string, string>;
  data?: unknown;
  /** ms, default 30000. */
  timeout?: number;
  dataType?: AlipayDataType;
  success?: (res: AlipayRequestSuccess) => void;
  fail?: (err: AlipayRequestError) => void;
  complete?: (res: AlipayRequestSuccess | AlipayRequestError) => void;
}

export interface AlipayRequestTask {
  abort(): void;
}

export interface AlipayUploadFileOptions extends AlipayCallbacks<{ data: string; statusCode: number; header: Record<string, string> }> {
  url: string;
  filePath: string;
  /** The form field of the file. Older clients read only `fileName`; `name` works with `alipay.wxRequestFields`. */
  fileName?: string;
  name?: string;
  /** Required: 'image' | 'video' | 'audio'. */
  fileType: string;
  header?: Record<string, string>;
  formData?: Record<string, unknown>;
}

export interface AlipayUploadTask {
  onProgressUpdate(listener: (res: { progress: number; totalBytesWritten: number; totalBytesExpectedToWrite: number }) => void): void;
  abort(): void;
}

export type AlipayNetworkType = 'UNKNOWN' | 'NOTREACHABLE' | 'WIFI' | '2G' | '3G' | '4G' | 'WWAN';

export interface AlipayNetworkStatus {
  isConnected: boolean;
  networkType: AlipayNetworkType;
}

/** A file system manager's asynchronous calls, the platform's failures in `fail`; the rest as wx's. */
export interface PlatformFileSystemManager<E> {
  writeFile(options: { filePath: string; data: string | ArrayBuffer; encoding?: string; success?: (res: unknown) => void; fail?: (err: E) => void; complete?: (res: unknown) => void }): unknown;
  unlink(options: { filePath: string; success?: (res: unknown) => void; fail?: (err: E) => void; complete?: (res: unknown) => void }): unknown;
  readFile(options: { filePath: string; encoding?: string; success?: (res: { data: string | ArrayBuffer }) => void; fail?: (err: E) => void; complete?: (res: unknown) => void }): unknown;
  [api: string]: (...args: any[]) => unknown;
}

type AlipayAsync<O, S> = (options: O & AlipayCallbacks<S>) => void | Promise<S>;

/** The slice of Alipay's `my` (and DingTalk's `dd`) that chat code touches. */
export interface AlipayApi {
  connectSocket(options: AlipayConnectSocketOptions): AlipaySocketTask | undefined;
  onSocketOpen(listener: () => void): void;
  offSocketOpen(listener?: () => void): void;
  onSocketMessage(listener: (res: AlipaySocketMessage) => void): void;
  offSocketMessage(listener?: (res: AlipaySocketMessage) => void): void;
  onSocketClose(listener: (res: { reason: string }) => void): void;
  offSocketClose(listener?: (res: { reason: string }) => void): void;
  onSocketError(listener: (res: AlipayError) => void): void;
  offSocketError(listener?: (res: AlipayError) => void): void;
  sendSocketMessage(options: AlipaySendOptions): void;
  closeSocket(options?: AlipayCloseOptions): void;

  /** Alipay only (DingTalk has only httpRequest unless `dingtalk.request`). */
  request?(options: AlipayRequestOptions): AlipayRequestTask | (Promise<AlipayRequestSuccess> & AlipayRequestTask);
  /** The older API: `content-type` defaults to application/x-www-form-urlencoded, GET and POST only. */
  httpRequest(options: AlipayRequestOptions): AlipayRequestTask | (Promise<AlipayRequestSuccess> & AlipayRequestTask);
  uploadFile(options: AlipayUploadFileOptions): AlipayUploadTask;
  downloadFile(
    options: { url: string; header?: Record<string, string> } & AlipayCallbacks<{ tempFilePath: string; apFilePath: string; header: Record<string, string>; headers: Record<string, string> }>,
  ): void;
  getFileSystemManager(): PlatformFileSystemManager<AlipayError>;
  readonly env: { USER_DATA_PATH: string; clientName: string; clientVersion: string };

  setStorageSync(options: { key: string; data: unknown }): { success: boolean; error?: number; errorMessage?: string };
  /** A missing key reads `{ data: null }`. */
  getStorageSync(options: { key: string }): { data: unknown };
  removeStorageSync(options: { key: string }): { success: true };
  clearStorageSync(): { success: boolean };
  getStorageInfoSync(): StorageInfo;
  setStorage: AlipayAsync<{ key: string; data: unknown }, Record<string, never>>;
  getStorage: AlipayAsync<{ key: string }, { data: unknown }>;
  removeStorage: AlipayAsync<{ key: string }, { success: true }>;
  clearStorage: AlipayAsync<Record<string, never>, { success: boolean }>;
  getStorageInfo: AlipayAsync<Record<string, never>, StorageInfo>;

  getNetworkType: AlipayAsync<Record<string, never>, { networkAvailable: boolean; networkType: AlipayNetworkType }>;
  onNetworkStatusChange(listener: (res: AlipayNetworkStatus) => void): void;
  offNetworkStatusChange(listener?: (res: AlipayNetworkStatus) => void): void;
  onAppShow(listener: (res: Partial<LaunchOptions>) => void): void;
  offAppShow(listener?: (res: Partial<LaunchOptions>) => void): void;
  onAppHide(listener: () => void): void;
  offAppHide(listener?: () => void): void;
  getSystemInfoSync(): SystemInfo & { app: string };
  getSystemInfo: AlipayAsync<Record<string, never>, SystemInfo & { app: string }>;
  getLaunchOptionsSync(): LaunchOptions;
  getEnterOptionsSync(): LaunchOptions;
  /** True when the API (the schema's first segment) exists on this object. */
  canIUse(schema: string): boolean;
}

// ---------------------------------------------------------------------------------------------
// Douyin / Feishu `tt`

export interface TtError {
  errMsg: string;
  errNo?: number;
}

export interface TtCallbacks<S> {
  success?: (res: S) => void;
  fail?: (err: TtError) => void;
  complete?: (res: S | TtError) => void;
}

export interface TtSocketTask {
  /** `undefined` when the call was refused for a bad argument. */
  readonly readyState: 0 | 1 | 2 | 3 | undefined;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
  send(options: { data: string | ArrayBuffer } & TtCallbacks<{ errMsg: string }>): void;
  close(options?: { code?: number; reason?: string } & TtCallbacks<{ errMsg: string }>): void;
  onOpen(listener: (res: { header: Record<string, unknown>; protocolType: string; socketType: 'ttnet' | 'tradition' }) => void): void;
  /** `code` is a string (base library 1.81.0+), or a number with `tt.closeCodeAsString: false`. */
  onClose(listener: (res: { code: string | number; reason: string; errMsg: string; protocolType: string; socketType: string }) => void): void;
  onMessage(listener: (res: { data: string | ArrayBuffer; protocolType: string; socketType: 'ttnet' | 'tradition' }) => void): void;
  onError(listener: (res: { errMsg: string }) => void): void;
}

type TtAsync<O, S> = (options: O & TtCallbacks<S & { errMsg: string }>) => void;

/** The slice of `tt` (Douyin, Toutiao, Feishu) that chat code touches. */
export interface TtApi {
  connectSocket(options: { url: string; header?: Record<string, string>; protocols?: string[] } & TtCallbacks<{ errMsg: string; socketTaskId: number }>): TtSocketTask;
  request(
    options: { url: string; header?: Record<string, string>; method?: string; data?: unknown; dataType?: string; responseType?: string; timeout?: number } & TtCallbacks<{
      errMsg: string;
      statusCode: number;
      header: Record<string, string>;
      data: unknown;
    }>,
  ): { abort(): void };
  uploadFile(
    options: { url: string; filePath: string; name: string; header?: Record<string, string>; formData?: Record<string, string> } & TtCallbacks<{ errMsg: string; data: string; statusCode: number }>,
  ): { onProgressUpdate(listener: (res: { progress: number; totalBytesSent: number; totalBytesExpectedToSend: number }) => void): void; abort(): void };
  downloadFile(options: { url: string; header?: Record<string, string> } & TtCallbacks<{ errMsg: string; tempFilePath: string; statusCode: number }>): void;
  getFileSystemManager(): PlatformFileSystemManager<TtError>;
  readonly env: { USER_DATA_PATH: string };
  setStorageSync(key: string, data: unknown): void;
  /** A missing key reads ''. */
  getStorageSync(key: string): any;
  removeStorageSync(key: string): void;
  clearStorageSync(): void;
  getStorageInfoSync(): StorageInfo;
  setStorage: TtAsync<{ key: string; data: unknown }, object>;
  /** A missing key is a success with `data: ''`. */
  getStorage: TtAsync<{ key: string }, { data: any }>;
  removeStorage: TtAsync<{ key: string }, object>;
  clearStorage: TtAsync<object, object>;
  getNetworkType: TtAsync<object, { networkType: string }>;
  onNetworkStatusChange(listener: (res: { isConnected: boolean; networkType: 'wifi' | '2g' | '3g' | '4g' | 'unknown' | 'none' }) => void): void;
  offNetworkStatusChange(listener: (res: { isConnected: boolean; networkType: 'wifi' | '2g' | '3g' | '4g' | 'unknown' | 'none' }) => void): void;
  onAppShow(listener: (res: { path: string; scene: number; query: object; referrerInfo: { appId: string; extraData: object } }) => void): void;
  offAppShow(listener: (...args: any[]) => unknown): void;
  onAppHide(listener: (...args: any[]) => unknown): void;
  offAppHide(listener: (...args: any[]) => unknown): void;
  getSystemInfoSync(): SystemInfo & { appName: string };
  getSystemInfo: TtAsync<object, SystemInfo & { appName: string }>;
  getLaunchOptionsSync(): LaunchOptions;
  canIUse(schema: string): boolean;
}

// ---------------------------------------------------------------------------------------------
// Baidu `swan`

/** Baidu's failures: a numeric `errCode` next to `errMsg`. */
export interface SwanError {
  errCode: number;
  errMsg: string;
}

/**
 * `swan`: wx-shaped calls whose failures carry `errCode`, whose `offAppShow()`/`offAppHide()` take
 * no argument and remove every listener, and whose getStorage answers a missing key with ''.
 */
export type SwanApi = Omit<Wx, 'offAppShow' | 'offAppHide' | 'offNetworkStatusChange'> & {
  offAppShow(): void;
  offAppHide(): void;
  /** Present unless `swan.offNetworkStatusChange: false`. */
  offNetworkStatusChange?: Wx['offNetworkStatusChange'];
};

// ---------------------------------------------------------------------------------------------
// The runtime

export interface MiniProgramRuntimeOptions extends WxRuntimeOptions {
  platform: MiniProgramPlatform;
  /** Alipay and DingTalk behaviours that depend on the client or base library version. */
  alipay?: {
    /** Older clients deliver binary frames as base64 text (`isBuffer: true`); newer ones as ArrayBuffer. Default false. */
    binaryAsBase64?: boolean;
    /**
     * Newer base libraries (the 3.x typings list both) also read `header` in request/uploadFile,
     * `name` in uploadFile, and answer `statusCode`/`header` next to `status`/`headers`. Default
     * false: only the documented Alipay spellings work, as on older clients.
     */
    wxRequestFields?: boolean;
    /** connectSocket({ multiple: true }) returns a SocketTask. Default true on Alipay, false on DingTalk (one global socket). */
    multipleSockets?: boolean;
  };
  dingtalk?: {
    /** DingTalk has `dd.httpRequest` only; true adds an Alipay-shaped `dd.request`. Default false. */
    request?: boolean;
    /** Methods `httpRequest` accepts; default GET and POST. */
    methods?: string[];
  };
  /** Douyin and Feishu behaviours that depend on the base library version. */
  tt?: {
    /** `tt.request` honours `timeout` from base library 2.31.0; false ignores it (older libraries). Default true. */
    requestTimeout?: boolean;
    /** onClose's `code` is a string (1.81.0+). Default true. */
    closeCodeAsString?: boolean;
    /**
     * What a SocketTask does when used before connectSocket's `success` ran (the documentation
     * says only that it "may fail"): 'lost' (default) drops listeners registered then and fails
     * send/close; 'work' lets them work.
     */
    earlyTaskCalls?: 'lost' | 'work';
  };
  swan?: {
    /** `swan.offNetworkStatusChange` exists (per listener). Default true. */
    offNetworkStatusChange?: boolean;
  };
  /** Global names `installPlatform` defines; defaults per platform (see `globals`). */
  globals?: string[];
}

/** One simulated phone on one platform: the same controls as `WxRuntime`, the platform's API object as `api`. */
export interface MiniProgramRuntime<Api = unknown> {
  readonly platform: MiniProgramPlatform;
  /** The platform object: `wx`, `my`, `dd`, `tt`, `swan`, `qq`, `ks` or `jd`. */
  readonly api: Api;
  /** The global names this platform defines, in the order `installPlatform` sets them (e.g. ['dd', 'my']). */
  readonly globals: readonly string[];
  setNetwork(online: boolean, networkType?: Exclude<NetworkType, 'none'>): void;
  readonly network: Readonly<{ isConnected: boolean; networkType: NetworkType }>;
  hide(options?: HideOptions): void;
  show(options?: Partial<LaunchOptions>): void;
  readonly appState: 'foreground' | 'background';
  openSockets(): number;
  /** The phone's connections (wx-shaped: readyState, socketTaskId), oldest first. */
  sockets(): readonly WxSocketTaskShape[];
  pendingRequests(): number;
  closeAllSockets(options?: { code?: number; reason?: string; timeoutMs?: number }): Promise<void>;
  exportStorage(): Record<string, unknown>;
  pickFiles(...files: PickedFile[]): void;
  /** Writes a file to the phone's temp dir and returns its path, as a chooser would. */
  tempFile(file: Exclude<PickedFile, string>): string;
  realPath(virtualPath: string): string | undefined;
  readonly uiCalls: readonly UiCall[];
  /** Listeners registered through `api` and not removed (see WxRuntime.listenerCounts). */
  listenerCounts(): ListenerCounts;
  destroy(): void;
  readonly destroyed: boolean;
}

export type PlatformApi<P extends MiniProgramPlatform> = P extends 'alipay' | 'dingtalk'
  ? AlipayApi
  : P extends 'douyin' | 'feishu'
    ? TtApi
    : P extends 'baidu'
      ? SwanApi
      : Wx;
