// Verbatim from the seed document, lines 49-69. Do not edit: the test runs it unchanged.
// 注册或更新用户
const userInfo = {
apiServer: 'http://your-api-server:8890', // API服务器地址(必填参数)
appId: "app123456", // 应用ID(必填参数)
appSecret: "sec123456", // 应用密钥(必填参数)
userId: "user123", // 用户ID(必填参数)
userName: "张三", // 用户名称
userImg: "https://example.com/avatar.jpg", // 用户头像URL
companyName: "某某科技有限公司", // 公司名称
imRole: "user", // IM角色,可选值:user,admin,guest
valid: true // 用户有效性
};
// 重要提示:apiServer 是必填参数,不能为空
// 正确示例:apiServer: "http://192.168.11.92:8890"
imClient.registerUser(userInfo)
.then(response => {
console.log('用户注册/更新成功:', response);
})
.catch(error => {
console.error('用户注册/更新失败:', error);
});
