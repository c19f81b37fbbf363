// Every string the console shows, in Chinese (the default) and English, in this one table.
// The choice of language is kept in localStorage: it is a preference, not a credential.

const STRINGS = {
  zh: {
    'app.name': 'Comind IM 管理控制台',
    'shell.lang': 'English',
    'shell.signOut': '退出登录',
    'shell.app': '应用 {id}',
    'shell.expired': '登录已过期，请重新登录。',
    'shell.refused': '登录已失效：{detail}',
    'shell.notFound': '没有这个页面。',
    'nav.users': '用户',
    'nav.groups': '群组',
    'nav.live': '实时数据',

    'common.empty': '暂无数据',
    'common.cancel': '取消',
    'common.prev': '上一页',
    'common.next': '下一页',
    'common.page': '第 {n} 页',
    'common.search': '搜索',

    'signin.appId': '应用 ID（App ID）',
    'signin.appSecret': '应用密钥（App Secret）',
    'signin.submit': '登录',
    'signin.token': '运营令牌（operator token）',
    'signin.useToken': '使用令牌登录',
    'signin.hint': '使用应用 ID 和应用密钥登录。密钥只用于换取 1 小时有效的运营令牌，不会被保存；令牌只保存在本标签页中，关闭即失效。',
    'signin.orToken': '或粘贴运营令牌',
    'signin.tokenHint': '由后端通过 POST /api/server/session 获取的令牌。',

    'users.title': '用户',
    'users.search': '按用户 ID 或昵称搜索',
    'users.userId': '用户 ID',
    'users.userName': '昵称',
    'users.role': '角色',
    'users.valid': '状态',
    'users.online': '在线',
    'users.sessions': '连接数',
    'users.noMatch': '没有匹配“{q}”的用户',
    'users.none': '还没有用户',
    'users.enabled': '正常',
    'users.disabled': '已停用',
    'users.isOnline': '在线',
    'users.offline': '离线',
    'users.enable': '启用',
    'users.disable': '停用',
    'users.company': '公司',
    'users.role.user': '普通用户',
    'users.role.admin': '管理员',
    'users.role.guest': '访客',
    'users.createdAt': '创建时间',
    'users.conversations': '会话',
    'users.sessionList': '在线连接（{n}）',
    'users.platform': '平台',
    'users.node': '节点',
    'users.connectedAt': '连接时间',
    'users.sessionId': '连接 ID',
    'users.noSessions': '当前没有在线连接',
    'users.confirmDisable': '停用用户 {id}？其所有在线连接会被立即断开，令牌将被拒绝，直到重新启用。',
    'users.confirmEnable': '重新启用用户 {id}？',
    'users.disabledDone': '已停用，断开了 {n} 个连接。',
    'users.enabledDone': '已启用。',

    'conv.title': '{id} 的会话',
    'conv.type': '类型',
    'conv.group': '群聊',
    'conv.private': '单聊',
    'conv.name': '名称',
    'conv.target': '对方 / 群 ID',
    'conv.last': '最后一条消息',
    'conv.unread': '未读',
    'conv.updatedAt': '最后活跃',
    'conv.none': '没有会话',

    'msg.title': '消息',
    'msg.groupTitle': '群 {id} 的消息',
    'msg.privateTitle': '{a} 与 {b} 的消息',
    'msg.older': '加载更早的消息',
    'msg.none': '没有消息',
    'msg.revoke': '撤回',
    'msg.revoked': '已撤回',
    'msg.revokedBy': '已由 {who} 于 {at} 撤回',
    'msg.revokedByAdmin': '已由管理员于 {at} 撤回',
    'msg.edited': '已编辑',
    'msg.confirmRevoke': '以管理员身份撤回 #{seq}（{from}）？会话双方的所有设备都会收到撤回通知，内容将从服务器删除。',
    'msg.type.1': '图片',
    'msg.type.2': '文件',
    'msg.type.3': '语音',
    'msg.type.4': '视频',
    'msg.type.5': '位置',
    'msg.type.1001': '群通知',
    'msg.type.custom': '类型 {n}',

    'groups.title': '群组',
    'groups.search': '按群 ID 或群名搜索',
    'groups.groupId': '群 ID',
    'groups.name': '群名',
    'groups.owner': '群主',
    'groups.members': '成员数',
    'groups.createdAt': '创建时间',
    'groups.noMatch': '没有匹配“{q}”的群组',
    'groups.none': '还没有群组',
    'groups.dismiss': '解散群组',
    'groups.messages': '消息',
    'groups.memberList': '成员',
    'groups.confirmDismiss': '解散群组“{name}”（{id}）？所有成员都会被移出，此操作无法撤销。',
    'groups.dismissed': '群组已解散',
    'groups.role': '角色',
    'groups.role.owner': '群主',
    'groups.role.admin': '管理员',
    'groups.role.member': '成员',
    'groups.joinedAt': '加入时间',
    'groups.noMembers': '没有成员',

    'live.title': '实时数据',
    'live.connections': '连接数',
    'live.rate': '消息/秒',
    'live.nodeCount': '节点数',
    'live.nodes': '集群节点',
    'live.nodeId': '节点 ID',
    'live.startedAt': '启动时间',
    'live.lastSeenAt': '最近上报',
    'live.updated': '更新于 {at}，每 2 秒刷新',

    'err.timeout': '请求超时，请稍后重试',
    'err.network': '无法连接服务器',
    'err.http': '服务器返回了无法识别的响应（{detail}）',
    'err.other': '操作失败',
    'err.40000': '参数错误',
    'err.40100': '未登录',
    'err.40101': '令牌无效',
    'err.40102': '令牌已过期',
    'err.40103': '应用 ID 或应用密钥错误',
    'err.40300': '没有权限',
    'err.40400': '不存在',
    'err.40900': '冲突',
    'err.42900': '请求过于频繁',
    'err.50000': '服务器内部错误',
    'err.50300': '服务器正在关闭',
  },
  en: {
    'app.name': 'Comind IM admin console',
    'shell.lang': '中文',
    'shell.signOut': 'Sign out',
    'shell.app': 'App {id}',
    'shell.expired': 'Your sign-in expired: please sign in again.',
    'shell.refused': 'Signed out: {detail}',
    'shell.notFound': 'No such page.',
    'nav.users': 'Users',
    'nav.groups': 'Groups',
    'nav.live': 'Live',

    'common.empty': 'Nothing here',
    'common.cancel': 'Cancel',
    'common.prev': 'Previous',
    'common.next': 'Next',
    'common.page': 'Page {n}',
    'common.search': 'Search',

    'signin.appId': 'App ID',
    'signin.appSecret': 'App secret',
    'signin.submit': 'Sign in',
    'signin.token': 'Operator token',
    'signin.useToken': 'Sign in with the token',
    'signin.hint': 'Sign in with the app ID and app secret. The secret is only traded for an operator token valid for 1 hour and is not kept; the token stays in this tab only and is gone when it closes.',
    'signin.orToken': 'Or paste an operator token',
    'signin.tokenHint': 'A token your backend got from POST /api/server/session.',

    'users.title': 'Users',
    'users.search': 'Search by user ID or name',
    'users.userId': 'User ID',
    'users.userName': 'Name',
    'users.role': 'Role',
    'users.valid': 'Status',
    'users.online': 'Online',
    'users.sessions': 'Sessions',
    'users.noMatch': 'No user matches "{q}"',
    'users.none': 'No users yet',
    'users.enabled': 'Active',
    'users.disabled': 'Disabled',
    'users.isOnline': 'Online',
    'users.offline': 'Offline',
    'users.enable': 'Enable',
    'users.disable': 'Disable',
    'users.company': 'Company',
    'users.role.user': 'User',
    'users.role.admin': 'Admin',
    'users.role.guest': 'Guest',
    'users.createdAt': 'Created',
    'users.conversations': 'Conversations',
    'users.sessionList': 'Online sessions ({n})',
    'users.platform': 'Platform',
    'users.node': 'Node',
    'users.connectedAt': 'Connected since',
    'users.sessionId': 'Session ID',
    'users.noSessions': 'No session online',
    'users.confirmDisable': 'Disable user {id}? Every session is disconnected at once and their tokens are refused until the user is enabled again.',
    'users.confirmEnable': 'Enable user {id} again?',
    'users.disabledDone': 'Disabled; {n} sessions were disconnected.',
    'users.enabledDone': 'Enabled.',

    'conv.title': 'Conversations of {id}',
    'conv.type': 'Type',
    'conv.group': 'Group',
    'conv.private': 'Private',
    'conv.name': 'Name',
    'conv.target': 'Peer / group ID',
    'conv.last': 'Last message',
    'conv.unread': 'Unread',
    'conv.updatedAt': 'Last active',
    'conv.none': 'No conversations',

    'msg.title': 'Messages',
    'msg.groupTitle': 'Messages of group {id}',
    'msg.privateTitle': 'Messages between {a} and {b}',
    'msg.older': 'Load older messages',
    'msg.none': 'No messages',
    'msg.revoke': 'Revoke',
    'msg.revoked': 'Revoked',
    'msg.revokedBy': 'Revoked by {who} at {at}',
    'msg.revokedByAdmin': 'Revoked by an admin at {at}',
    'msg.edited': 'Edited',
    'msg.confirmRevoke': 'Revoke #{seq} ({from}) as admin? Every device of the conversation is told, and the content is deleted on the server.',
    'msg.type.1': 'Image',
    'msg.type.2': 'File',
    'msg.type.3': 'Audio',
    'msg.type.4': 'Video',
    'msg.type.5': 'Location',
    'msg.type.1001': 'Group notice',
    'msg.type.custom': 'Type {n}',

    'groups.title': 'Groups',
    'groups.search': 'Search by group ID or name',
    'groups.groupId': 'Group ID',
    'groups.name': 'Name',
    'groups.owner': 'Owner',
    'groups.members': 'Members',
    'groups.createdAt': 'Created',
    'groups.noMatch': 'No group matches "{q}"',
    'groups.none': 'No groups yet',
    'groups.dismiss': 'Dismiss group',
    'groups.messages': 'Messages',
    'groups.memberList': 'Members',
    'groups.confirmDismiss': 'Dismiss the group "{name}" ({id})? Every member is removed; this cannot be undone.',
    'groups.dismissed': 'Group dismissed',
    'groups.role': 'Role',
    'groups.role.owner': 'Owner',
    'groups.role.admin': 'Admin',
    'groups.role.member': 'Member',
    'groups.joinedAt': 'Joined',
    'groups.noMembers': 'No members',

    'live.title': 'Live figures',
    'live.connections': 'Connections',
    'live.rate': 'Messages/s',
    'live.nodeCount': 'Nodes',
    'live.nodes': 'Cluster nodes',
    'live.nodeId': 'Node ID',
    'live.startedAt': 'Started',
    'live.lastSeenAt': 'Last report',
    'live.updated': 'Updated {at}, every 2 s',

    'err.timeout': 'The request timed out: try again shortly',
    'err.network': 'The server cannot be reached',
    'err.http': 'The server sent a reply the console does not understand ({detail})',
    'err.other': 'That did not work',
    'err.40000': 'Invalid argument',
    'err.40100': 'Not signed in',
    'err.40101': 'Token invalid',
    'err.40102': 'Token expired',
    'err.40103': 'Wrong app ID or app secret',
    'err.40300': 'Forbidden',
    'err.40400': 'Not found',
    'err.40900': 'Conflict',
    'err.42900': 'Too many requests',
    'err.50000': 'Internal server error',
    'err.50300': 'The server is shutting down',
  },
};

const LANG_KEY = 'comind-im-admin.lang';

function stored() {
  try {
    const v = localStorage.getItem(LANG_KEY);
    return v === 'en' || v === 'zh' ? v : 'zh';
  } catch {
    return 'zh';
  }
}

let current = stored();

export function lang() {
  return current;
}

export function setLang(next) {
  current = next === 'en' ? 'en' : 'zh';
  try {
    localStorage.setItem(LANG_KEY, current);
  } catch {
    // Storage refused (private mode): the choice lasts until reload.
  }
  applyLang();
}

export function applyLang() {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.name');
}

/** The string `key` with `{name}` replaced from `vars`; `fallback` when no language has the key. */
export function t(key, vars = {}, fallback = key) {
  const s = STRINGS[current][key] ?? STRINGS.zh[key];
  if (s === undefined) return fallback;
  return s.replace(/\{(\w+)\}/g, (whole, name) => (vars[name] === undefined ? whole : String(vars[name])));
}

/** For a check that both languages have the same keys. */
export const KEYS = { zh: Object.keys(STRINGS.zh), en: Object.keys(STRINGS.en) };
