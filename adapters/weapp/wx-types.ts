/** The slice of the WeChat `wx` API the weapp adapter uses; typed here to avoid a typings dependency. */
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

export interface WxApi {
  request(opts: {
    url: string;
    method?: string;
    data?: unknown;
    header?: Record<string, string>;
    timeout?: number;
    dataType?: string;
    responseType?: string;
  } & WxCallbacks<WxRequestSuccess>): WxRequestTask | undefined;
  connectSocket(opts: { url: string; header?: Record<string, string>; protocols?: string[]; timeout?: number } & WxCallbacks<unknown>): unknown;
  getStorage(opts: { key: string } & WxCallbacks<{ data: unknown }>): void;
  setStorage(opts: { key: string; data: unknown } & WxCallbacks<unknown>): void;
  removeStorage(opts: { key: string } & WxCallbacks<unknown>): void;
  onNetworkStatusChange?(cb: (res: { isConnected: boolean; networkType?: string }) => void): void;
  offNetworkStatusChange?(cb: (res: { isConnected: boolean; networkType?: string }) => void): void;
  onAppShow?(cb: (res?: unknown) => void): void;
  offAppShow?(cb: (res?: unknown) => void): void;
  onAppHide?(cb: (res?: unknown) => void): void;
  offAppHide?(cb: (res?: unknown) => void): void;
}
