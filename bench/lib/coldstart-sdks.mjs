// The mini-program SDKs the coldstart suite loads, and how each one's client is constructed: the
// minimal options its documentation gives for a mini-program (placeholders for app ids and keys),
// nothing else. The files are the ones the size suite measures (COMPETITORS in
// bench/suites/size.mjs: the build a WeChat mini-program loads), so both suites speak of the
// same bytes.
export const APP_ID_PLACEHOLDER = 1400000000;

export const SDKS = [
  {
    id: 'ours',
    label: 'comind-im-client-sdk',
    // The adapter is detected from the global `wx`, as in a mini-program page.
    options: "new ImClient({ serverUrl, apiServer })",
    construct: (m, ctx) => new m.ImClient({ serverUrl: ctx.serverUrl ?? 'http://127.0.0.1:9998', apiServer: ctx.apiServer ?? 'http://127.0.0.1:8890', logLevel: 'silent' }),
  },
  {
    id: 'tim',
    package: 'tim-wx-sdk',
    label: 'Tencent Cloud Chat v2 (tim-wx-sdk)',
    options: 'TIM.create({ SDKAppID })',
    construct: (m) => m.create({ SDKAppID: APP_ID_PLACEHOLDER }),
  },
  {
    id: 'tencentChat',
    package: '@tencentcloud/chat',
    label: 'Tencent Cloud Chat v3 (@tencentcloud/chat)',
    options: 'TencentCloudChat.create({ SDKAppID })',
    construct: (m) => m.create({ SDKAppID: APP_ID_PLACEHOLDER }),
  },
  {
    id: 'nim',
    package: 'nim-web-sdk-ng',
    label: 'NetEase NIM (nim-web-sdk-ng, v2 API)',
    options: "NIM.getInstance({ appkey, apiVersion: 'v2', debugLevel: 'off' })",
    construct: (m) => (m.default ?? m).getInstance({ appkey: 'bench-app-key', apiVersion: 'v2', debugLevel: 'off' }),
  },
  {
    id: 'easemob',
    package: 'easemob-websdk',
    label: 'Easemob (easemob-websdk, miniProgram build)',
    options: "new websdk.connection({ appKey: 'org#app' })",
    construct: (m) => new (m.default ?? m).connection({ appKey: 'bench-org#bench-app' }),
  },
  {
    id: 'zim',
    package: 'zego-zim-miniprogram',
    label: 'ZEGO ZIM (zego-zim-miniprogram)',
    options: 'ZIM.create({ appID })',
    construct: (m) => m.ZIM.create({ appID: APP_ID_PLACEHOLDER }),
  },
  {
    id: 'leancloud',
    package: 'leancloud-realtime',
    label: 'LeanCloud (leancloud-realtime, weapp build)',
    options: 'new Realtime({ appId, appKey })',
    construct: (m) => new m.Realtime({ appId: 'bench-app-id', appKey: 'bench-app-key' }),
  },
];
