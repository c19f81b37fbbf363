// Verbatim from the seed document, lines 75-80. Do not edit: the test runs it unchanged.
// 发送私聊消息
const result = await imClient.sendPrivateMessage({
content: 'Hello!', // 消息内容
recipientId: 'user456' // 接收者ID
});
console.log('消息发送成功', result.messageId);
