// Verbatim from the seed document, lines 123-126. Do not edit: the test runs it unchanged.
const groups = await imClient.getGroupList({
apiServer: 'http://your-api-server:8890' // API服务器地址
});
console.log('群组列表', groups);
