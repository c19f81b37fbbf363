// Verbatim from the seed document, lines 8-47. Do not edit: the test runs it unchanged.
// 1. 创建SDK实例
const imClient = new ImClient({
serverUrl: 'http://your-socket-server:9998', // Socket.IO服务器地址
apiServer: 'http://your-api-server:8890', // API服务器地址(重要:必须设置)
reconnection: true, // 是否自动重连
reconnectionAttempts: 5, // 重连尝试次数
reconnectionDelay: 3000, // 重连延迟(毫秒)
timeout: 30000, // 连接超时时间(毫秒)
pingInterval: 25000, // 心跳间隔(毫秒)
pingTimeout: 60000 // 心跳超时(毫秒)
});
// 2. 注册事件回调
imClient.on('connect', () => {
console.log('连接成功');
});
imClient.on('disconnect', (reason) => {
console.log('连接断开', reason);
});
imClient.on('error', (error) => {
console.error('发生错误', error);
});
imClient.on('status', (status) => {
console.log('连接状态', status);
});
imClient.on('imchat', (message) => {
console.log('收到消息', message);
});
// 3. 获取认证令牌
const token = await imClient.getToken({
apiServer: 'http://your-api-server:8890', // API服务器地址
appId: 'your-app-id', // 应用ID
appSecret: 'your-app-secret', // 应用密钥
userId: 'user123', // 用户ID
userName: 'Alice' // 用户名
});
// 4. 连接到服务器
await imClient.connect({
serverUrl: 'http://your-socket-server:9998'
});
console.log('初始化完成');
