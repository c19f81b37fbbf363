// Verbatim from the seed document, lines 165-166. Do not edit: the test runs it unchanged.
// 主动断开连接
imClient.disconnect();
