// Verbatim from the seed document, lines 116-122. Do not edit: the test runs it unchanged.
const groupInfo = await imClient.createGroup({
apiServer: 'http://your-api-server:8890', // API服务器地址
name: 'My Group', // 群组名称
description: 'This is my group', // 群组描述
userIdList: ['user456', 'user789'] // 成员列表
});
console.log('群组创建成功', groupInfo.id);
