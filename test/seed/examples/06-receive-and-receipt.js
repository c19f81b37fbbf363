// Verbatim from the seed document, lines 88-115. Do not edit: the test runs it unchanged.
// 监听所有聊天消息(私聊和群聊)
imClient.on('imchat', (message) => {
// 判断消息类型
if (message.chatType === 0) {
console.log('收到私聊消息:', message);
} else if (message.chatType === 1) {
console.log('收到群聊消息:', message);
}
// 消息内容格式示例:
// {
// messageId: 'xxx-xxx-xxx',
// from: 'user123',
// fromName: 'Alice',
// to: 'user456' 或 'group789',
// content: '消息内容',
// chatType: 0或1, // 0=私聊, 1=群聊
// timestamp: 1631234567890,
// msgType: 0, // 0=文本消息
// data: {...} // 额外数据
// }
});
// 监听消息回执
imClient.on('receipt', (receipt) => {
console.log('消息回执:', receipt);
// receipt = { messageId: 'xxx', status: 2, timestamp: 1631234567890 }
});
// 发送已读回执
imClient.sendReadReceipt('message-123', 'sender-456');
