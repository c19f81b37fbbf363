// Verbatim from the seed document, lines 279-316. Do not edit: the test runs it unchanged.
// 初始化SDK
const imClient = new ImClient({
serverUrl: 'http://your-socket-server:9998',
apiServer: 'http://your-api-server:8890'
});
// 注册事件
imClient.on('imchat', (message) => {
if (message.chatType === 1) {
// 显示群聊消息在UI上
addGroupMessageToUI(message);
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
// 获取群组列表
const groups = await imClient.getGroupList({
apiServer: 'http://your-api-server:8890'
});
displayGroups(groups);
}
// 发送群聊消息
async function sendGroupMessage(content, groupId) {
const result = await imClient.sendGroupMessage({
content: content,
groupId: groupId
});
console.log('群聊消息已发送', result.messageId);
}
