// Verbatim from the seed document, lines 167-170. Do not edit: the test runs it unchanged.
// 发送手动心跳
imClient.sendHeartbeat();
// 获取心跳状态
const status = imClient.getHeartbeatStatus(); // 'active' 或 'inactive'
