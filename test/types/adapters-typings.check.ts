/**
 * Compile-time check (npm run typecheck, test/types/tsconfig.typings.json): the platforms' official
 * typings fit the slices the adapters type by hand (adapters/platform-types.ts,
 * adapters/weapp/wx-types.ts). An assignment below fails when an official API drifts away from
 * what an adapter relies on, or a slice asks for something the platform does not have.
 */
/// <reference types="miniprogram-api-typings" />
/// <reference types="@mini-types/alipay" />
/// <reference types="@douyin-microapp/typings" />
import type { AlipayApi, AlipaySocketTask, DouyinApi, WxApi } from '../../adapters/platform-types';

export const weapp: WxApi = wx;
export const alipay: AlipayApi = my;
export const alipaySocketTask: AlipaySocketTask = my.connectSocket({ url: 'wss://example.com', multiple: true });
export const douyin: DouyinApi = tt;
