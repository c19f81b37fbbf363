/**
 * Compile-time check (npm run typecheck, test/types/tsconfig.typings.json): the hand-written types
 * of the testing runtimes (testing/types.ts, testing/platform-types.ts) against the platforms'
 * official typings. Each line holds one shape both ways where it can: what a runtime hands to app
 * code must satisfy the official type (so code written against the official typings runs on it),
 * and, for payloads, the official shape must fit ours (so ours claims nothing the platform lacks).
 * A drift in either shows here, while the published .d.ts of `comind-im-client-sdk/testing`
 * depends on no typings package.
 */
/// <reference types="miniprogram-api-typings" />
/// <reference types="@mini-types/alipay" />
import type * as Tt from '@douyin-microapp/typings/types/api';
import type {
  AlipayApi,
  AlipayNetworkStatus,
  AlipayRequestSuccess,
  AlipaySocketMessage,
  AlipaySocketTaskEvent,
  LaunchOptions,
  NetworkStatus,
  NetworkTypeResult,
  RequestSuccessResult,
  SocketCloseResult,
  SocketMessageResult,
  SocketOpenResult,
  StorageInfo,
  TtApi,
  TtSocketTask,
  Wx,
} from '../../testing';

/** `fits<Target>()(value)` compiles only when the value's type is assignable to Target. */
const fits =
  <Target>() =>
  <T extends Target>(_value: T): void =>
    undefined;
declare function value<T>(): T;

type Listener<F> = F extends (cb: (res: infer R) => void) => void ? R : never;
type Success<F> = F extends (o: infer O) => unknown ? (O extends { success?: (res: infer R) => void } ? R : never) : never;
type Fail<F> = F extends (o: infer O) => unknown ? (O extends { fail?: (err: infer E) => void } ? E : never) : never;

// ---- WeChat: testing/types.ts against miniprogram-api-typings

// Payloads the wx runtime delivers satisfy the official ones, and the official ones fit ours.
// `profile` (timing details) is not emulated: the one field left out on purpose.
fits<Omit<WechatMiniprogram.OnOpenListenerResult, 'profile'>>()(value<SocketOpenResult>());
fits<WechatMiniprogram.SocketTaskOnMessageListenerResult>()(value<SocketMessageResult>());
fits<SocketMessageResult>()(value<WechatMiniprogram.SocketTaskOnMessageListenerResult>());
fits<WechatMiniprogram.SocketTaskOnCloseListenerResult>()(value<SocketCloseResult>());
fits<SocketCloseResult>()(value<WechatMiniprogram.SocketTaskOnCloseListenerResult>());
// Not emulated (docs/testing.md "What is not emulated"): `profile`, `exception`, `useHttpDNS`.
fits<Omit<WechatMiniprogram.RequestSuccessCallbackResult, 'profile' | 'exception' | 'useHttpDNS'>>()(value<RequestSuccessResult<string | ArrayBuffer | WechatMiniprogram.IAnyObject>>());
fits<WechatMiniprogram.OnNetworkStatusChangeListenerResult>()(value<NetworkStatus>());
fits<NetworkStatus>()(value<WechatMiniprogram.OnNetworkStatusChangeListenerResult>());
fits<WechatMiniprogram.GetNetworkTypeSuccessCallbackResult>()(value<NetworkTypeResult>());
fits<WechatMiniprogram.GetStorageInfoSyncOption>()(value<StorageInfo>());
fits<LaunchOptions>()(value<Pick<WechatMiniprogram.LaunchOptionsApp, 'path' | 'scene' | 'query' | 'referrerInfo' | 'shareTicket'>>());
// The calls code makes: each is callable on our `wx` the way the official typings allow.
fits<Pick<Wx, 'onNetworkStatusChange' | 'onAppHide' | 'setStorageSync' | 'getStorageSync' | 'removeStorageSync'>>()(
  value<Pick<WechatMiniprogram.Wx, 'onNetworkStatusChange' | 'onAppHide' | 'setStorageSync' | 'getStorageSync' | 'removeStorageSync'>>(),
);
fits<Listener<WechatMiniprogram.Wx['onNetworkStatusChange']>>()(value<NetworkStatus>());

// ---- Alipay: testing/platform-types.ts against @mini-types/my

type MySocketTask = my.SocketTask;
fits<Listener<MySocketTask['onMessage']>>()(value<AlipaySocketTaskEvent<AlipaySocketMessage>>());
fits<AlipaySocketTaskEvent<AlipaySocketMessage>>()(value<Listener<MySocketTask['onMessage']>>());
fits<Listener<MySocketTask['onOpen']>>()(value<AlipaySocketTaskEvent>());
fits<Listener<MySocketTask['onClose']>>()(value<AlipaySocketTaskEvent>());
fits<AlipaySocketTaskEvent>()(value<Listener<MySocketTask['onClose']>>());
fits<Listener<MySocketTask['onError']>>()(value<AlipaySocketTaskEvent & { error: number }>());
fits<Listener<typeof my.onSocketMessage>>()(value<AlipaySocketMessage>());
fits<AlipaySocketMessage>()(value<Listener<typeof my.onSocketMessage>>());
fits<Listener<typeof my.onSocketError>>()(value<Parameters<Parameters<AlipayApi['onSocketError']>[0]>[0]>());
fits<Listener<typeof my.onNetworkStatusChange>>()(value<AlipayNetworkStatus>());
fits<AlipayNetworkStatus>()(value<Listener<typeof my.onNetworkStatusChange>>());
// request: our answer has Alipay's fields; with `wxRequestFields` also wx's (then it is the official one).
fits<Pick<Success<typeof my.request>, 'status' | 'headers'>>()(value<AlipayRequestSuccess>());
fits<Success<typeof my.request>>()(value<Required<AlipayRequestSuccess> & { data: string }>());
fits<{ error?: number; errorMessage?: string }>()(value<Fail<AlipayApi['httpRequest']>>());
// storage and network results.
fits<ReturnType<typeof my.getStorageSync>>()(value<ReturnType<AlipayApi['getStorageSync']>>());
fits<ReturnType<typeof my.setStorageSync>>()(value<ReturnType<AlipayApi['setStorageSync']>>());
fits<ReturnType<typeof my.getStorageInfoSync>>()(value<ReturnType<AlipayApi['getStorageInfoSync']>>());
fits<Success<typeof my.getNetworkType>>()(value<Success<AlipayApi['getNetworkType']>>());
fits<Success<typeof my.getStorage>>()(value<Success<AlipayApi['getStorage']>>());
fits<Success<typeof my.uploadFile>>()(value<Success<AlipayApi['uploadFile']>>());
// Options official code passes are accepted by ours.
fits<Parameters<AlipayApi['setStorageSync']>[0]>()(value<Parameters<typeof my.setStorageSync>[0]>());
fits<Parameters<AlipayApi['getStorageSync']>[0]>()(value<Parameters<typeof my.getStorageSync>[0]>());
fits<Pick<Parameters<AlipayApi['connectSocket']>[0], 'url' | 'multiple' | 'header' | 'protocols'>>()(value<Parameters<typeof my.connectSocket>[0]>());

// ---- Douyin: testing/platform-types.ts against @douyin-microapp/typings

type TtOfficialTask = ReturnType<typeof Tt.connectSocket>;
fits<{ errMsg: string; socketTaskId: number }>()(value<Success<typeof Tt.connectSocket>>());
fits<Listener<TtApi['onNetworkStatusChange']>>()(value<Listener<typeof Tt.onNetworkStatusChange>>());
fits<Listener<typeof Tt.onNetworkStatusChange>>()(value<Listener<TtApi['onNetworkStatusChange']>>());
fits<Listener<typeof Tt.onAppShow>>()(value<Listener<TtApi['onAppShow']>>());
fits<Success<typeof Tt.request>>()(value<Success<TtApi['request']> & { data: object | string | ArrayBuffer }>());
fits<Success<typeof Tt.uploadFile>>()(value<Success<TtApi['uploadFile']>>());
fits<Success<typeof Tt.getStorage>>()(value<Success<TtApi['getStorage']>>());
fits<Fail<TtApi['request']>>()(value<Fail<typeof Tt.request>>());
// The SocketTask: constants and readyState, and each event's payload both ways.
fits<Pick<TtOfficialTask, 'readyState' | 'CONNECTING' | 'OPEN' | 'CLOSING' | 'CLOSED'>>()(value<TtSocketTask>());
fits<Listener<TtOfficialTask['onOpen']>>()(value<Listener<TtSocketTask['onOpen']>>());
fits<Listener<TtSocketTask['onOpen']>>()(value<Listener<TtOfficialTask['onOpen']>>());
fits<Listener<TtOfficialTask['onClose']>>()(value<Listener<TtSocketTask['onClose']>>());
fits<Listener<TtSocketTask['onClose']>>()(value<Listener<TtOfficialTask['onClose']>>());
fits<Listener<TtOfficialTask['onMessage']>>()(value<Listener<TtSocketTask['onMessage']>>());
fits<Listener<TtSocketTask['onMessage']>>()(value<Listener<TtOfficialTask['onMessage']>>());
fits<Listener<TtOfficialTask['onError']>>()(value<Listener<TtSocketTask['onError']>>());
