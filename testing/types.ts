/**
 * Public types of the WeChat `wx` runtime for Node. They follow the shapes in WeChat's API reference
 * (developers.weixin.qq.com/miniprogram/dev/api/) so mini-program code type-checks against them
 * without a `miniprogram-api-typings` dependency.
 */

/** What every `fail` callback (and every rejected promise) receives. */
export interface WxError {
  errMsg: string;
  /** WeChat's unified error number, where WeChat defines one for the failure (e.g. 600007). */
  errno?: number;
}

export interface WxResult {
  errMsg: string;
}

export interface WxCallbacks<S = WxResult> {
  success?: (res: S) => void;
  fail?: (err: WxError) => void;
  complete?: (res: S | WxError) => void;
}

export type WxHeader = Record<string, string>;

// ---------------------------------------------------------------------------------------------
// WebSocket

export interface ConnectSocketOptions extends WxCallbacks<WxResult & { socketTaskId: number }> {
  url: string;
  header?: Record<string, string | number | boolean>;
  protocols?: string[];
  /** Milliseconds until the handshake must finish; defaults to `networkTimeout.connectSocket`. */
  timeout?: number;
  tcpNoDelay?: boolean;
  perMessageDeflate?: boolean;
  forceCellularNetwork?: boolean;
}

export interface SocketOpenResult {
  /** Response headers of the WebSocket handshake, names as the server sent them. */
  header: Record<string, string>;
}

export interface SocketMessageResult {
  /** Text frames arrive as string, binary frames as ArrayBuffer (never a Node Buffer). */
  data: string | ArrayBuffer;
}

export interface SocketCloseResult {
  code: number;
  reason: string;
}

export interface SocketSendOptions extends WxCallbacks {
  data: string | ArrayBuffer;
}

export interface SocketCloseOptions extends WxCallbacks {
  code?: number;
  reason?: string;
}

export interface SocketTask {
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
  readonly readyState: 0 | 1 | 2 | 3;
  /** Numbering as WeChat's `connectSocket` success result (`socketTaskId`). */
  readonly socketTaskId: number;
  send(options: SocketSendOptions): void;
  close(options?: SocketCloseOptions): void;
  onOpen(listener: (res: SocketOpenResult) => void): void;
  onMessage(listener: (res: SocketMessageResult) => void): void;
  onClose(listener: (res: SocketCloseResult) => void): void;
  onError(listener: (res: WxError) => void): void;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export type RequestMethod = 'OPTIONS' | 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'TRACE' | 'CONNECT';

export interface RequestSuccessResult<T = unknown> extends WxResult {
  data: T;
  statusCode: number;
  header: Record<string, string>;
  cookies: string[];
}

export interface RequestOptions<T = unknown> extends WxCallbacks<RequestSuccessResult<T>> {
  url: string;
  // Parameter types are deliberately wide (WeChat checks at run time), so `runtime.wx` can be
  // passed wherever code declares its own narrower `wx` type.
  /** string | ArrayBuffer | object; see the docs for how each is sent. */
  data?: unknown;
  header?: Record<string, string | number | boolean>;
  /** One of RequestMethod (any case); anything else fails with "request:fail method is invalid". */
  method?: RequestMethod | Lowercase<RequestMethod> | (string & {});
  /** 'json' (default) parses the body with JSON.parse when it can; anything else leaves it alone. */
  dataType?: 'json' | (string & {});
  /** 'arraybuffer' gives an ArrayBuffer; anything else text. */
  responseType?: 'text' | 'arraybuffer' | (string & {});
  /** Milliseconds for the whole request; defaults to `networkTimeout.request` (60 s). */
  timeout?: number;
  enableHttp2?: boolean;
  enableQuic?: boolean;
  enableCache?: boolean;
  enableChunked?: boolean;
  forceCellularNetwork?: boolean;
}

export interface HeadersReceivedResult {
  header: Record<string, string>;
  cookies: string[];
}

export interface RequestTask {
  abort(): void;
  onHeadersReceived(listener: (res: HeadersReceivedResult) => void): void;
  offHeadersReceived(listener?: (res: HeadersReceivedResult) => void): void;
}

// ---------------------------------------------------------------------------------------------
// Storage

export interface StorageInfo {
  keys: string[];
  /** Kilobytes in use. */
  currentSize: number;
  /** Kilobytes allowed (10240 = 10 MB). */
  limitSize: number;
}

// ---------------------------------------------------------------------------------------------
// Network and app lifecycle

export type NetworkType = 'wifi' | '2g' | '3g' | '4g' | '5g' | 'unknown' | 'none';

export interface NetworkStatus {
  isConnected: boolean;
  networkType: NetworkType;
}

export interface NetworkTypeResult extends WxResult {
  networkType: NetworkType;
  signalStrength: number;
  hasSystemProxy: boolean;
  /** Base library 3.5.3+; the runtime is never on a weak network. */
  weakNet: boolean;
}

/** Same shape as `wx.getLaunchOptionsSync()`; what `wx.onAppShow` listeners receive. */
export interface LaunchOptions {
  path: string;
  scene: number;
  query: Record<string, string>;
  shareTicket?: string;
  referrerInfo: { appId?: string; extraData?: Record<string, unknown> };
  forwardMaterials?: unknown[];
  chatType?: number;
  apiCategory?: string;
}

// ---------------------------------------------------------------------------------------------
// The `wx` object

type MaybePromise<S> = void | Promise<S>;

/**
 * The slice of WeChat's `wx` that chat code touches. Asynchronous APIs that WeChat promisifies
 * (base library 2.10.2+) return a promise when called without success/fail/complete;
 * `request` and `connectSocket` never do, because they return their task (as in WeChat).
 */
export interface Wx {
  connectSocket(options: ConnectSocketOptions): SocketTask;
  onSocketOpen(listener: (res: SocketOpenResult) => void): void;
  onSocketMessage(listener: (res: SocketMessageResult) => void): void;
  onSocketClose(listener: (res: SocketCloseResult) => void): void;
  onSocketError(listener: (res: WxError) => void): void;
  sendSocketMessage(options: SocketSendOptions): void;
  closeSocket(options?: SocketCloseOptions): void;

  request<T = unknown>(options: RequestOptions<T>): RequestTask;

  /** Multipart POST of a local file over real HTTP; the response body arrives as a string. */
  uploadFile(options: UploadFileOptions): UploadTask;
  /** GET to a temp file (`http://tmp/…`), or to `filePath` under USER_DATA_PATH. */
  downloadFile(options: DownloadFileOptions): DownloadTask;
  getImageInfo(options: { src: string } & WxCallbacks<WxResult & { width: number; height: number; type: string; path: string; orientation: string }>): MaybePromise<WxResult>;
  getFileSystemManager(): FileSystemManager;
  /** Returns what the test picked with `runtime.pickFiles()`; with nothing picked it fails "cancel", as when the user backs out. */
  chooseMedia(options: { count?: number; mediaType?: string[]; sourceType?: string[] } & WxCallbacks<WxResult & { tempFiles: ChosenMedia[]; type: string }>): MaybePromise<WxResult>;
  chooseMessageFile(options: { count?: number; type?: string } & WxCallbacks<WxResult & { tempFiles: ChosenFile[] }>): MaybePromise<WxResult>;
  readonly env: { USER_DATA_PATH: string };
  /** The phone's recorder: stop() "records" the next file picked with `runtime.pickFiles()`. */
  getRecorderManager(): RecorderManager;
  /** Playing is recorded in uiCalls (`InnerAudioContext.play`, with its src). */
  createInnerAudioContext(): { src: string; play(): void; stop(): void; destroy(): void; onEnded(fn: () => void): void; onError(fn: (e: unknown) => void): void };
  previewImage(options: { urls: string[]; current?: string } & WxCallbacks): MaybePromise<WxResult>;
  openDocument(options: { filePath: string; fileType?: string; showMenu?: boolean } & WxCallbacks): MaybePromise<WxResult>;

  setStorageSync(key: string, data: unknown): void;
  getStorageSync<T = any>(key: string): T;
  removeStorageSync(key: string): void;
  clearStorageSync(): void;
  getStorageInfoSync(): StorageInfo;
  setStorage(options: { key: string; data: unknown } & WxCallbacks): MaybePromise<WxResult>;
  getStorage<T = any>(options: { key: string } & WxCallbacks<WxResult & { data: T }>): MaybePromise<WxResult & { data: T }>;
  removeStorage(options: { key: string } & WxCallbacks): MaybePromise<WxResult>;
  clearStorage(options?: WxCallbacks): MaybePromise<WxResult>;
  getStorageInfo(options?: WxCallbacks<WxResult & StorageInfo>): MaybePromise<WxResult & StorageInfo>;

  getNetworkType(options?: WxCallbacks<NetworkTypeResult>): MaybePromise<NetworkTypeResult>;
  onNetworkStatusChange(listener: (res: NetworkStatus) => void): void;
  offNetworkStatusChange(listener?: (res: NetworkStatus) => void): void;

  onAppShow(listener: (res: LaunchOptions) => void): void;
  offAppShow(listener?: (res: LaunchOptions) => void): void;
  onAppHide(listener: () => void): void;
  offAppHide(listener?: () => void): void;
  getLaunchOptionsSync(): LaunchOptions;
  getEnterOptionsSync(): LaunchOptions;

  getSystemInfoSync(): SystemInfo;
  getSystemInfo(options?: WxCallbacks<WxResult & SystemInfo>): MaybePromise<WxResult & SystemInfo>;
  getWindowInfo(): Pick<SystemInfo, 'pixelRatio' | 'screenWidth' | 'screenHeight' | 'windowWidth' | 'windowHeight' | 'statusBarHeight' | 'safeArea'>;
  getDeviceInfo(): Pick<SystemInfo, 'brand' | 'model' | 'system' | 'platform' | 'benchmarkLevel'>;
  getAppBaseInfo(): Pick<SystemInfo, 'SDKVersion' | 'language' | 'version' | 'theme' | 'fontSizeSetting'> & { enableDebug: boolean };
  getAccountInfoSync(): AccountInfo;

  showToast(options: { title: string; icon?: string; duration?: number; mask?: boolean } & WxCallbacks): MaybePromise<WxResult>;
  hideToast(options?: WxCallbacks): MaybePromise<WxResult>;
  showLoading(options: { title: string; mask?: boolean } & WxCallbacks): MaybePromise<WxResult>;
  hideLoading(options?: WxCallbacks): MaybePromise<WxResult>;
  showModal(
    options: { title?: string; content?: string; showCancel?: boolean; confirmText?: string; cancelText?: string; editable?: boolean } & WxCallbacks<ModalResult>,
  ): MaybePromise<ModalResult>;
  showActionSheet(options: { itemList: string[]; itemColor?: string; alertText?: string } & WxCallbacks<ActionSheetResult>): MaybePromise<ActionSheetResult>;
  setClipboardData(options: { data: string } & WxCallbacks): MaybePromise<WxResult>;
  getClipboardData(options?: WxCallbacks<WxResult & { data: string }>): MaybePromise<WxResult & { data: string }>;
  nextTick(callback: () => void): void;
  /** True when the API (the schema's first segment) exists on this object; parameters are not checked. */
  canIUse(schema: string): boolean;
}

export interface ActionSheetResult extends WxResult {
  tapIndex: number;
}

export interface UploadFileOptions extends WxCallbacks<WxResult & { data: string; statusCode: number; header: Record<string, string> }> {
  url: string;
  filePath: string;
  name: string;
  header?: Record<string, string>;
  formData?: Record<string, unknown>;
  timeout?: number;
}

export interface UploadTask {
  onProgressUpdate(listener: (res: { progress: number; totalBytesSent: number; totalBytesExpectedToSend: number }) => void): void;
  offProgressUpdate(listener?: (res: { progress: number; totalBytesSent: number; totalBytesExpectedToSend: number }) => void): void;
  abort(): void;
}

export interface DownloadFileOptions extends WxCallbacks<WxResult & { tempFilePath: string; filePath?: string; statusCode: number }> {
  url: string;
  header?: Record<string, string>;
  timeout?: number;
  filePath?: string;
}

export interface DownloadTask {
  onProgressUpdate(listener: (res: { progress: number; totalBytesWritten: number; totalBytesExpectedToWrite: number }) => void): void;
  offProgressUpdate(listener?: (res: { progress: number; totalBytesWritten: number; totalBytesExpectedToWrite: number }) => void): void;
  abort(): void;
}

export interface RecorderManager {
  start(options?: { duration?: number; format?: string }): void;
  stop(): void;
  onStart(listener: () => void): void;
  onStop(listener: (res: { tempFilePath: string; duration: number; fileSize: number }) => void): void;
  onError(listener: (res: { errMsg: string }) => void): void;
}

export interface ChosenMedia {
  tempFilePath: string;
  size: number;
  fileType: 'image' | 'video';
  width?: number;
  height?: number;
  duration?: number;
}

export interface ChosenFile {
  path: string;
  size: number;
  name: string;
  type: string;
  time: number;
}

/** The calls of wx.getFileSystemManager() the runtime implements, over the real files behind the paths. */
export interface FileSystemManager {
  readFile(options: { filePath: string; encoding?: string } & WxCallbacks<WxResult & { data: string | ArrayBuffer }>): MaybePromise<WxResult>;
  readFileSync(filePath: string, encoding?: string): string | ArrayBuffer;
  writeFile(options: { filePath: string; data: string | ArrayBuffer; encoding?: string } & WxCallbacks): MaybePromise<WxResult>;
  writeFileSync(filePath: string, data: string | ArrayBuffer, encoding?: string): void;
  unlink(options: { filePath: string } & WxCallbacks): MaybePromise<WxResult>;
  unlinkSync(filePath: string): void;
  access(options: { path: string } & WxCallbacks): MaybePromise<WxResult>;
  accessSync(path: string): void;
  getFileInfo(options: { filePath: string } & WxCallbacks<WxResult & { size: number }>): MaybePromise<WxResult>;
}

/** A file for the next chooseMedia / chooseMessageFile: a path on disk, or bytes with a name (and what chooseMedia would say of a video). */
export type PickedFile = string | { bytes: Uint8Array; name: string; duration?: number; width?: number; height?: number };

export interface ModalResult extends WxResult {
  confirm: boolean;
  cancel: boolean;
  content?: string;
}

export interface SystemInfo {
  brand: string;
  model: string;
  pixelRatio: number;
  screenWidth: number;
  screenHeight: number;
  windowWidth: number;
  windowHeight: number;
  statusBarHeight: number;
  language: string;
  version: string;
  system: string;
  platform: string;
  fontSizeSetting: number;
  SDKVersion: string;
  benchmarkLevel: number;
  theme: 'light' | 'dark';
  safeArea: { left: number; right: number; top: number; bottom: number; width: number; height: number };
  [extra: string]: unknown;
}

export interface AccountInfo {
  miniProgram: { appId: string; envVersion: 'develop' | 'trial' | 'release'; version: string };
  plugin: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------
// The runtime (test-side control)

export interface WxRuntimeOptions {
  /** App id used in `getAccountInfoSync` and the Referer header WeChat adds to requests. */
  appId?: string;
  /** As app.json `networkTimeout` (milliseconds). WeChat's default for both is 60000. */
  networkTimeout?: { request?: number; connectSocket?: number };
  /** Concurrency limits. Defaults are WeChat's documented ones. */
  limits?: {
    /** Open SocketTasks at once (WeChat: 5). */
    sockets?: number;
    /**
     * Open SocketTasks to one host. Unlimited by default; some base library versions on real
     * phones allow only 2, so set 2 to test for that.
     */
    socketsPerHost?: number;
    /** Concurrent wx.request calls (WeChat: 10). */
    requests?: number;
    /**
     * What the request beyond the limit does. 'fail' (default) is what WeChat DevTools and the
     * Android client do ("request:fail exceed max task count"); 'queue' waits for a free slot.
     */
    requestOverflow?: 'fail' | 'queue';
  };
  /**
   * Emulates the mini-program console's domain whitelist: URLs whose origin (scheme://host[:port])
   * is not listed fail with "url not in domain list". Omitted = DevTools' "do not verify domains".
   */
  domains?: { request?: string[]; socket?: string[] };
  /** Starting network state; default online over wifi. */
  network?: { online?: boolean; networkType?: Exclude<NetworkType, 'none'> };
  /** Storage contents at launch, e.g. `other.exportStorage()` to simulate a relaunch. */
  storage?: Record<string, unknown>;
  /** Overrides merged into `wx.getSystemInfoSync()`. */
  systemInfo?: Partial<SystemInfo>;
  /** Launch options passed to `wx.onAppShow` listeners and returned by `getLaunchOptionsSync`. */
  launchOptions?: Partial<LaunchOptions>;
  /** Which item of `wx.showActionSheet` the user taps (a negative index: taps outside, a cancel); default the first. */
  actionSheetResponse?: (options: { itemList: string[] }) => { tapIndex: number };
  /** Answer for `wx.showModal`; default: the user taps confirm. */
  modalResponse?: (options: { title?: string; content?: string }) => { confirm: boolean; content?: string };
  /**
   * Called when a success/fail/complete callback or an event listener throws. WeChat logs such an
   * error and carries on; the default here re-throws it on the next tick so that a failing
   * `expect()` inside a callback fails the test instead of being swallowed.
   */
  onCallbackError?: (error: unknown, api: string) => void;
}

export interface HideOptions {
  /**
   * Simulate the platform cutting the network this many milliseconds after the app went to the
   * background (WeChat does so after about 5 s): open sockets error and close with 1006, pending
   * requests fail with "request:fail interrupted", and network calls fail until `show()`.
   */
  cutNetworkAfterMs?: number;
}

export interface UiCall {
  api: 'showToast' | 'hideToast' | 'showLoading' | 'hideLoading' | 'showModal' | 'showActionSheet' | 'setClipboardData' | 'previewImage' | 'openDocument' | 'InnerAudioContext.play';
  options: Record<string, unknown>;
}

export interface ListenerCounts {
  networkStatus: number;
  appShow: number;
  appHide: number;
  socket: number;
  total: number;
}

export interface WxRuntime {
  /** The `wx` object; pass it to code under test or install it with `installWx(runtime)`. */
  readonly wx: Wx;
  /**
   * Change connectivity. Fires `wx.onNetworkStatusChange` listeners if anything changed. Going
   * offline also drops this runtime's sockets (onError, then onClose with 1006) and fails its
   * pending requests; new connectSocket/request calls fail until back online.
   */
  setNetwork(online: boolean, networkType?: Exclude<NetworkType, 'none'>): void;
  readonly network: Readonly<NetworkStatus>;
  /** Send the app to the background: fires `wx.onAppHide` listeners. */
  hide(options?: HideOptions): void;
  /** Bring the app back: fires `wx.onAppShow` listeners and restores network access cut by `hide()`. */
  show(options?: Partial<LaunchOptions>): void;
  readonly appState: 'foreground' | 'background';
  /** SocketTasks that hold a slot (connecting, open or closing). */
  openSockets(): number;
  /** Every SocketTask this runtime created, oldest first. */
  sockets(): readonly SocketTask[];
  /** Requests in flight (not counting queued ones). */
  pendingRequests(): number;
  /** Close every socket with 1000 and resolve when all have reported onClose (or after `timeoutMs`). */
  closeAllSockets(options?: { code?: number; reason?: string; timeoutMs?: number }): Promise<void>;
  /** A copy of storage, suitable for `createWxRuntime({ storage })` to simulate a relaunch. */
  exportStorage(): Record<string, unknown>;
  /**
   * Listeners the app has registered and not removed: network status, app show/hide, and socket
   * callbacks (the global onSocket* ones plus those on sockets that are still connecting or open).
   * After `ImClient.destroy()` code that cleans up after itself leaves `total` where it was before.
   */
  listenerCounts(): ListenerCounts;
  /** Queue what the user "chooses" in the next chooseMedia / chooseMessageFile calls (copied to temp paths then). */
  pickFiles(...files: PickedFile[]): void;
  /** The file on disk behind a virtual path (`http://tmp/…`, `wxfile://usr/…`) of this phone. */
  realPath(virtualPath: string): string | undefined;
  /** showToast/showLoading/showModal calls, oldest first. */
  readonly uiCalls: readonly UiCall[];
  /**
   * Terminate sockets and requests without firing callbacks, clear every timer, drop listeners.
   * Afterwards nothing of this runtime keeps the Node event loop alive, and wx calls fail.
   */
  destroy(): void;
  readonly destroyed: boolean;
}
