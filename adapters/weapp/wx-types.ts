/**
 * The slice of the WeChat `wx` API the weapp adapter uses; typed here so the published .d.ts needs
 * no typings package, and checked against miniprogram-api-typings by test/types/adapters-typings.check.ts.
 */
export interface WxCallbacks<T> {
  success?: (res: T) => void;
  fail?: (err: { errMsg: string }) => void;
  complete?: () => void;
}

export interface WxRequestSuccess {
  data: unknown;
  statusCode: number;
  header: Record<string, unknown>;
  errMsg?: string;
}

export interface WxRequestTask {
  abort(): void;
}

/** What wx.uploadFile returns (uni: with a callback; Taro: a promise with the same methods). */
export interface WxUploadTask {
  onProgressUpdate?(cb: (res: { progress: number; totalBytesSent: number; totalBytesExpectedToSend: number }) => void): void;
  /** Taro's older name for onProgressUpdate. */
  progress?(cb: (res: { progress: number; totalBytesSent: number; totalBytesExpectedToSend: number }) => void): void;
  abort?(): void;
}

export interface WxFileSystemManager {
  writeFile(opts: { filePath: string; data: ArrayBuffer | string } & WxCallbacks<unknown>): void;
  unlink(opts: { filePath: string } & WxCallbacks<unknown>): void;
}

export interface WxApi {
  request(opts: {
    url: string;
    method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
    /** The JSON body as an object: the platform serialises it (Alipay-shaped ones get a string, see platform-types.ts). */
    data?: Record<string, unknown>;
    header?: Record<string, string>;
    timeout?: number;
    dataType?: 'json' | 'text';
  } & WxCallbacks<WxRequestSuccess>): WxRequestTask | undefined;
  connectSocket(opts: { url: string; header?: Record<string, string>; protocols?: string[]; timeout?: number } & WxCallbacks<unknown>): unknown;
  getStorage(opts: { key: string } & WxCallbacks<{ data: unknown }>): void;
  setStorage(opts: { key: string; data: unknown } & WxCallbacks<unknown>): void;
  removeStorage(opts: { key: string } & WxCallbacks<unknown>): void;
  uploadFile?(opts: {
    url: string;
    filePath: string;
    name: string;
    header?: Record<string, string>;
    formData?: Record<string, string>;
    timeout?: number;
  } & WxCallbacks<{ data: unknown; statusCode: number; header?: Record<string, unknown> }>): WxUploadTask | undefined;
  getFileSystemManager?(): WxFileSystemManager;
  env?: { USER_DATA_PATH?: string };
  onNetworkStatusChange?(cb: (res: { isConnected: boolean; networkType?: string }) => void): void;
  /** Takes the listener given to onNetworkStatusChange (typed loosely: the official typings give it another type). */
  offNetworkStatusChange?(cb: (...args: any[]) => void): void;
  onAppShow?(cb: (res?: unknown) => void): void;
  offAppShow?(cb: (res?: unknown) => void): void;
  onAppHide?(cb: (res?: unknown) => void): void;
  offAppHide?(cb: (res?: unknown) => void): void;
}
