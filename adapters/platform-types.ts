/**
 * The slices of the platforms' API objects the adapters use, typed by hand so that the published
 * `.d.ts` depends on no platform typings package. test/types/adapters-typings.check.ts asserts at
 * compile time that the official objects (miniprogram-api-typings' `wx`, @mini-types/alipay's `my`,
 * @douyin-microapp/typings' `tt`) are assignable to them, so a drift of either side fails
 * `npm run typecheck`. QQ, Kuaishou, JD (wx-shaped) and Baidu have no maintained typings package.
 */
import type { WxApi } from './weapp/wx-types';

export type { WxApi } from './weapp/wx-types';

type AliFail = { error?: number; errorMessage?: string };
type AliCallbacks<T> = { success?(res: T): void; fail?(err: AliFail): void };

/** What the adapter reads of Alipay's SocketTask: onMessage nests the frame under `data`. */
export interface AlipaySocketTask {
  send(opts: { data: string } & AliCallbacks<unknown>): unknown;
  close(opts?: { code?: number; reason?: string }): unknown;
  onMessage(cb: (res: { data: { data: string | ArrayBuffer; isBuffer: boolean } }) => void): void;
  onError(cb: (res: { error: number }) => void): void;
  onClose(cb: (res: unknown) => void): void;
}

type AliRequest = (
  opts: {
    url: string;
    method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
    headers?: Record<string, string>;
    data?: string;
    dataType?: 'json' | 'text';
    timeout?: number;
  } & AliCallbacks<{ status: number; headers: Record<string, string>; data: unknown }>,
) => unknown;

/** Alipay `my` and DingTalk `dd` (whose HTTP function is `httpRequest`). */
export interface AlipayApi {
  request?: AliRequest;
  /** No task back (DingTalk, older clients): the adapter uses the app-wide onSocketMessage/sendSocketMessage/closeSocket. */
  connectSocket(opts: { url: string; multiple: true }): AlipaySocketTask | undefined;
  getStorage(opts: { key: string } & AliCallbacks<{ data: unknown }>): unknown;
  setStorage(opts: { key: string; data: unknown } & AliCallbacks<unknown>): unknown;
  removeStorage(opts: { key: string } & AliCallbacks<unknown>): unknown;
  uploadFile?(
    opts: { url: string; filePath: string; name: string; fileName?: string; fileType: string; header?: Record<string, string>; formData?: Record<string, string>; timeout?: number } & AliCallbacks<{
      data: string;
      statusCode: number;
      header: Record<string, unknown>;
    }>,
  ): unknown;
  getFileSystemManager?(): {
    writeFile(opts: { filePath: string; data: string | ArrayBuffer } & AliCallbacks<unknown>): unknown;
    unlink(opts: { filePath: string } & AliCallbacks<unknown>): unknown;
  };
  env?: { USER_DATA_PATH: string };
  onNetworkStatusChange?(cb: (res: { isConnected: boolean; networkType: string }) => void): void;
  offNetworkStatusChange?(cb?: (res: { isConnected: boolean; networkType: string }) => void): void;
  onAppShow?(cb: () => void): void;
  offAppShow?(cb?: () => void): void;
  onAppHide?(cb: () => void): void;
  offAppHide?(cb?: () => void): void;
}

/** DingTalk `dd`: Alipay's shapes, HTTP through `httpRequest`. */
export type DingTalkApi = AlipayApi & { httpRequest?: AliRequest };

/**
 * Douyin / Feishu `tt`: wx's shapes; SocketTask's onClose `code` may be a string. Without
 * getFileSystemManager: @douyin-microapp/typings declares `writeFile({ data: string, encoding })`
 * only, so writing bytes (an upload from a Uint8Array) is not confirmed there; temp paths are.
 */
export type DouyinApi = Pick<WxApi, 'request' | 'connectSocket' | 'getStorage' | 'setStorage' | 'removeStorage' | 'uploadFile' | 'onNetworkStatusChange' | 'offNetworkStatusChange'> &
  Partial<Pick<WxApi, 'onAppShow' | 'offAppShow' | 'onAppHide' | 'offAppHide' | 'env'>>;

/** Baidu `swan`: wx's shapes; `offAppShow()`/`offAppHide()` may take no listener. */
export type BaiduApi = Omit<WxApi, 'offAppShow' | 'offAppHide'> & { offAppShow?(): void; offAppHide?(): void };

/** Any platform object `createMiniProgramAdapter({ api })` takes. */
export type MiniProgramApi = WxApi | AlipayApi | DingTalkApi | DouyinApi | BaiduApi;
