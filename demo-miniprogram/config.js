/**
 * Demo configuration: where the IM server runs and which development app to sign in with.
 *
 * Start the reference server with matching credentials:
 *   IM_DEV_APP_ID=demo-app IM_DEV_APP_SECRET=demo-secret npm start
 *
 * appSecret is here ONLY because this demo uses the development sign-in path
 * (registerUser / getToken from the client). Never ship an app secret in a real mini-program:
 * in production your backend mints the token and the client calls connect({ token }).
 */
module.exports = {
  /**
   * UI language: 'zh-CN' (简体中文, the default) or 'en' (English). Every text the pages show comes
   * from the tables in utils/i18n.js.
   */
  lang: 'zh-CN',

  /** HTTP API of the IM server (registerUser, getToken, history, groups, conversations). */
  apiServer: 'http://127.0.0.1:8890',
  /** Socket.IO endpoint of the IM server (realtime messages and receipts). */
  socketServer: 'http://127.0.0.1:9998',

  /** Development app, as started with IM_DEV_APP_ID / IM_DEV_APP_SECRET. */
  appId: 'demo-app',
  appSecret: 'demo-secret',

  /**
   * People to pick on the sign-in page; they are registered on the server when anyone signs in.
   * `title` is one string, or one per language as here.
   */
  demoUsers: [
    { userId: 'alice', userName: 'Alice Chen', title: { 'zh-CN': '产品设计师', en: 'Product designer' } },
    { userId: 'bob', userName: 'Bob Li', title: { 'zh-CN': '后端工程师', en: 'Backend engineer' } },
    { userId: 'carol', userName: 'Carol Wang', title: { 'zh-CN': '测试负责人', en: 'QA lead' } },
    { userId: 'dave', userName: 'Dave Zhou', title: { 'zh-CN': '移动端工程师', en: 'Mobile engineer' } },
  ],

  /** Longest message the input accepts (characters). The protocol's hard limit is 32 KB of UTF-8. */
  maxMessageChars: 2000,
  /** Messages per history page (pull down in a chat to load older ones). */
  historyPageSize: 20,

  /** Extra ImClient options (see the SDK README); e.g. { logLevel: 'debug' } to see the adapter choice. */
  clientOptions: {},
};
