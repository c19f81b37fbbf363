// Where the reference server runs (`npm start` in the SDK repository prints these). On a phone,
// 127.0.0.1 is the phone: use your computer's LAN address or a real domain (whitelisted, wss/https).
// appId/appSecret sign users in through the development path (getToken); in production a backend
// mints tokens instead (see the SDK README, "Tokens in production").
export default {
  serverUrl: 'http://127.0.0.1:9998',
  apiServer: 'http://127.0.0.1:8890',
  appId: 'dev-app-id',
  appSecret: 'dev-app-secret',
};
