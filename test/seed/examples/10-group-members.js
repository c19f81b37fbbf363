// Verbatim from the seed document, lines 132-136. Do not edit: the test runs it unchanged.
const members = await imClient.getGroupMembers({
apiServer: 'http://your-api-server:8890', // API服务器地址
groupId: 'group123' // 群组ID
});
console.log('群组成员', members);
