// Verbatim from the seed document, lines 81-86. Do not edit: the test runs it unchanged.
// 发送群聊消息
const result = await imClient.sendGroupMessage({
content: 'Hello group!', // 消息内容
groupId: 'group123' // 群组ID
});
console.log('群聊消息发送成功', result.messageId);
