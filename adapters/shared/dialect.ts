/**
 * How one mini-program platform's API object differs from WeChat's `wx`, for the shared adapter
 * (adapters/shared-miniprogram.ts). Only the differences are listed; everything else is wx-shaped.
 * Which platform has which, and the documentation behind each, is in adapters/platforms.ts and
 * docs/platforms.md.
 */
export interface Dialect {
  /**
   * Alipay-shaped (Alipay `my`, DingTalk `dd`): `request` takes `headers` and answers
   * `status`/`headers`, and an HTTP error status arrives in `fail` (error 19) with its body; the body
   * is sent as a JSON string and read as text (a non-JSON answer to `dataType: 'json'` would fail
   * with error 14); `uploadFile` wants `fileType`; `connectSocket` returns a SocketTask only with
   * `multiple: true`, and its `onMessage` nests the frame (`{ data: { data, isBuffer } }`).
   */
  ali?: boolean;
  /** The HTTP function when it is not `request` (DingTalk: `httpRequest`; `request` is the fallback). */
  request?: 'httpRequest';
  /** A SocketTask's methods work only after connectSocket's `success` (Douyin, Feishu). */
  lateTask?: boolean;
  /**
   * `offAppShow()`/`offAppHide()` take no listener and remove every one, the app's own too (Baidu):
   * one listener per API object is registered once, never removed, and fans out to the clients.
   */
  offAll?: boolean;
  /** Requests the platform runs at once when it is not WeChat's 10 (Baidu: 5 per domain on Android); more wait in the adapter's queue. */
  requests?: number;
}
