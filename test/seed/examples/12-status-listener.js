// Verbatim from the seed document, lines 149-152. Do not edit: the test runs it unchanged.
// 示例:监听连接状态
imClient.on('status', (status) => {
console.log('连接状态变化:', status);
});
