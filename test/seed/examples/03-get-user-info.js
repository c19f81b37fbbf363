// Verbatim from the seed document, lines 70-74. Do not edit: the test runs it unchanged.
const userInfo = await imClient.getUserInfo({
apiServer: 'http://your-api-server:8890', // API服务器地址
userId: 'user456' // 用户ID
});
console.log('用户信息', userInfo);
