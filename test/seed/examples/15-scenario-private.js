// Verbatim from the seed document, lines 244-277. Do not edit: the test runs it unchanged.
// 初始化SDK
const imClient = new ImClient({
serverUrl: 'http://your-socket-server:9998',
apiServer: 'http://your-api-server:8890'
});
// 注册事件
imClient.on('imchat', (message) => {
if (message.chatType === 0) {
// 显示私聊消息在UI上
addMessageToUI(message);
}
});
// 获取令牌并连接
async function connect() {
const token = await imClient.getToken({
apiServer: 'http://your-api-server:8890',
appId: 'your-app-id',
appSecret: 'your-app-secret',
userId: 'current-user-id',
userName: 'Current User'
});
await imClient.connect({
serverUrl: 'http://your-socket-server:9998'
});
console.log('连接成功');
}
// 发送消息
async function sendMessage(content, recipientId) {
const result = await imClient.sendPrivateMessage({
content: content,
recipientId: recipientId
});
console.log('消息已发送', result.messageId);
}
