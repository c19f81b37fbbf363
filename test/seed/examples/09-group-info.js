// Verbatim from the seed document, lines 127-131. Do not edit: the test runs it unchanged.
const groupInfo = await imClient.getGroupInfo({
apiServer: 'http://your-api-server:8890', // API服务器地址
groupId: 'group123' // 群组ID
});
console.log('群组信息', groupInfo);
