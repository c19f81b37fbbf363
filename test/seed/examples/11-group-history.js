// Verbatim from the seed document, lines 137-145. Do not edit: the test runs it unchanged.
const historyMessages = await imClient.getGroupHistoryMessages({
apiServer: 'http://your-api-server:8890', // API服务器地址
groupId: 'group123', // 群组ID
limitSize: 20, // 获取消息数量
msgSeqId: 0, // 开始的消息序列ID
syncType: 'BACK', // 同步方向
detailType: 0 // 详情类型
});
console.log('群组历史消息', historyMessages);
