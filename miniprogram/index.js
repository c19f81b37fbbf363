// `require('comind-im-client-sdk/miniprogram')` for resolvers that ignore package.json "exports"
// (mini-program tools that read node_modules directly, as Alipay's and DingTalk's do): the
// mini-program build, the same file WeChat's "build npm" copies from miniprogram_dist/.
module.exports = require('../miniprogram_dist/index.js');
