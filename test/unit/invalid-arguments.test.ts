/**
 * Every public method, called with bad input, fails with an ImError carrying a stable code and a
 * message naming the problem; never a bare TypeError, never a request sent.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ImClient } from '../../src/client';
import { ImError } from '../../src/core/errors';
import { FAKE_TOKEN, MemoryAdapter, flush } from '../helpers/memory-adapter';

type Call = [name: string, run: (c: ImClient) => unknown, code: string];

const cases: Call[] = [
  ['getToken()', (c) => (c.getToken as any)(), 'E_INVALID_ARGUMENT'],
  ['getToken(string)', (c) => (c.getToken as any)('x'), 'E_INVALID_ARGUMENT'],
  ['getToken missing appSecret', (c) => (c.getToken as any)({ appId: 'a', userId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['getToken bad userId', (c) => c.getToken({ appId: 'a', appSecret: 's', userId: 'has space' }), 'E_INVALID_ARGUMENT'],
  ['getToken bad apiServer', (c) => c.getToken({ apiServer: 'ftp://x', appId: 'a', appSecret: 's', userId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['registerUser bad imRole', (c) => (c.registerUser as any)({ appId: 'a', appSecret: 's', userId: 'u', imRole: 'root' }), 'E_INVALID_ARGUMENT'],
  ['registerUser valid not boolean', (c) => (c.registerUser as any)({ appId: 'a', appSecret: 's', userId: 'u', valid: 'yes' }), 'E_INVALID_ARGUMENT'],
  ['getUserInfo no userId', (c) => (c.getUserInfo as any)({}), 'E_INVALID_ARGUMENT'],
  ['getUserInfo null', (c) => (c.getUserInfo as any)(null), 'E_INVALID_ARGUMENT'],
  ['connect(number)', (c) => (c.connect as any)(42), 'E_INVALID_ARGUMENT'],
  ['connect bad serverUrl', (c) => c.connect({ serverUrl: 'not a url' }), 'E_INVALID_ARGUMENT'],
  ['connect token not a JWT', (c) => c.connect({ token: 'abc' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage()', (c) => (c.sendPrivateMessage as any)(), 'E_INVALID_ARGUMENT'],
  ['uploadFile()', (c) => (c.uploadFile as any)(), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage mentions not a list', (c) => (c.sendGroupMessage as any)({ content: 'x', groupId: 'g', mentions: 'bob' }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage mentions bad id', (c) => (c.sendGroupMessage as any)({ content: 'x', groupId: 'g', mentions: ['has space'] }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage replyTo number', (c) => (c.sendPrivateMessage as any)({ content: 'x', recipientId: 'u', replyTo: 5 }), 'E_INVALID_ARGUMENT'],
  ['revokeMessage no params', (c) => (c.revokeMessage as any)(), 'E_INVALID_ARGUMENT'],
  ['revokeMessage messageId a number', (c) => (c.revokeMessage as any)({ messageId: 7 }), 'E_INVALID_ARGUMENT'],
  ['revokeMessage messageId empty', (c) => c.revokeMessage({ messageId: '' }), 'E_INVALID_ARGUMENT'],
  ['editMessage no content', (c) => (c.editMessage as any)({ messageId: 'm1' }), 'E_INVALID_ARGUMENT'],
  ['editMessage content with NUL', (c) => c.editMessage({ messageId: 'm1', content: 'a\u0000b' }), 'E_INVALID_ARGUMENT'],
  ['editMessage content too long', (c) => c.editMessage({ messageId: 'm1', content: 'x'.repeat(40_000) }), 'E_PAYLOAD_TOO_LARGE'],
  ['editMessage data a function', (c) => (c.editMessage as any)({ messageId: 'm1', content: 'x', data: () => 1 }), 'E_INVALID_ARGUMENT'],
  ['sendTyping no recipientId', (c) => (c.sendTyping as any)({}), 'E_INVALID_ARGUMENT'],
  ['sendTyping bad recipientId', (c) => c.sendTyping({ recipientId: 'has space' }), 'E_INVALID_ARGUMENT'],
  ['sendSignal no target', (c) => (c.sendSignal as any)({ data: 1 }), 'E_INVALID_ARGUMENT'],
  ['sendSignal both targets', (c) => (c.sendSignal as any)({ recipientId: 'u', groupId: 'g', data: 1 }), 'E_INVALID_ARGUMENT'],
  ['sendSignal data a function', (c) => (c.sendSignal as any)({ recipientId: 'u', data: () => 1 }), 'E_INVALID_ARGUMENT'],
  ['uploadFile file number', (c) => (c.uploadFile as any)({ file: 42 }), 'E_INVALID_ARGUMENT'],
  ['uploadFile onProgress not a function', (c) => (c.uploadFile as any)({ file: 'wxfile://tmp_1.png', onProgress: 'yes' }), 'E_INVALID_ARGUMENT'],
  ['sendImageMessage no target', (c) => (c.sendImageMessage as any)({ file: 'wxfile://tmp_1.png' }), 'E_INVALID_ARGUMENT'],
  ['sendImageMessage both targets', (c) => (c.sendImageMessage as any)({ recipientId: 'u', groupId: 'g', file: 'x.png' }), 'E_INVALID_ARGUMENT'],
  ['sendFileMessage file null', (c) => (c.sendFileMessage as any)({ recipientId: 'u', file: null }), 'E_INVALID_ARGUMENT'],
  ['sendAudioMessage no duration', (c) => (c.sendAudioMessage as any)({ recipientId: 'u', file: 'wxfile://tmp_1.mp3' }), 'E_INVALID_ARGUMENT'],
  ['sendAudioMessage negative duration', (c) => c.sendAudioMessage({ recipientId: 'u', file: 'wxfile://tmp_1.mp3', duration: -1 }), 'E_INVALID_ARGUMENT'],
  ['sendVideoMessage width text', (c) => (c.sendVideoMessage as any)({ groupId: 'g', file: 'wxfile://tmp_1.mp4', width: 'wide' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage empty content', (c) => c.sendPrivateMessage({ content: '   ', recipientId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage content number', (c) => (c.sendPrivateMessage as any)({ content: 5, recipientId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage oversized', (c) => c.sendPrivateMessage({ content: '好'.repeat(11000), recipientId: 'u' }), 'E_PAYLOAD_TOO_LARGE'],
  ['sendPrivateMessage unpaired surrogate', (c) => c.sendPrivateMessage({ content: 'half an emoji \ud83d', recipientId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage NUL in content', (c) => c.sendPrivateMessage({ content: 'a\u0000b', recipientId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage NUL in a data key', (c) => c.sendGroupMessage({ content: 'ok', groupId: 'g', data: { ['k\u0000']: 1 } }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage lone low surrogate', (c) => c.sendGroupMessage({ content: '\ude00', groupId: 'g' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage no recipient', (c) => (c.sendPrivateMessage as any)({ content: 'x' }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage bad msgType', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u', msgType: 1.5 }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage circular data', (c) => {
    const data: Record<string, unknown> = {};
    data.self = data;
    return c.sendPrivateMessage({ content: 'x', recipientId: 'u', data });
  }, 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage huge data', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u', data: { a: 'x'.repeat(40000) } }), 'E_PAYLOAD_TOO_LARGE'],
  ['sendGroupMessage no groupId', (c) => (c.sendGroupMessage as any)({ content: 'x' }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage groupId object', (c) => (c.sendGroupMessage as any)({ content: 'x', groupId: {} }), 'E_INVALID_ARGUMENT'],
  ['sendReadReceipt()', (c) => (c.sendReadReceipt as any)(), 'E_INVALID_ARGUMENT'],
  ['sendReadReceipt bad toUserId', (c) => c.sendReadReceipt('m1', 'bad id!'), 'E_INVALID_ARGUMENT'],
  ['createGroup no name', (c) => (c.createGroup as any)({ userIdList: [] }), 'E_INVALID_ARGUMENT'],
  ['createGroup userIdList not array', (c) => (c.createGroup as any)({ name: 'g', userIdList: 'u1,u2' }), 'E_INVALID_ARGUMENT'],
  ['createGroup bad member id', (c) => c.createGroup({ name: 'g', userIdList: ['ok', ''] }), 'E_INVALID_ARGUMENT'],
  ['getGroupList(string)', (c) => (c.getGroupList as any)('x'), 'E_INVALID_ARGUMENT'],
  ['getGroupInfo no groupId', (c) => (c.getGroupInfo as any)({}), 'E_INVALID_ARGUMENT'],
  ['getGroupMembers bad groupId', (c) => c.getGroupMembers({ groupId: '../etc' }), 'E_INVALID_ARGUMENT'],
  ['addGroupMembers empty list', (c) => c.addGroupMembers({ groupId: 'g', userIdList: [] }), 'E_INVALID_ARGUMENT'],
  ['removeGroupMember no userId', (c) => (c.removeGroupMember as any)({ groupId: 'g' }), 'E_INVALID_ARGUMENT'],
  ['leaveGroup()', (c) => (c.leaveGroup as any)(), 'E_INVALID_ARGUMENT'],
  ['dismissGroup bad id', (c) => c.dismissGroup({ groupId: 'x'.repeat(65) }), 'E_INVALID_ARGUMENT'],
  ['history bad syncType', (c) => (c.getGroupHistoryMessages as any)({ groupId: 'g', syncType: 'UP' }), 'E_INVALID_ARGUMENT'],
  ['history negative msgSeqId', (c) => c.getGroupHistoryMessages({ groupId: 'g', msgSeqId: -1 }), 'E_INVALID_ARGUMENT'],
  ['history limitSize 0', (c) => c.getGroupHistoryMessages({ groupId: 'g', limitSize: 0 }), 'E_INVALID_ARGUMENT'],
  ['private history no peer', (c) => (c.getPrivateHistoryMessages as any)({}), 'E_INVALID_ARGUMENT'],
  ['markConversationRead bad chatType', (c) => (c.markConversationRead as any)({ chatType: 2, targetId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['on no callback', (c) => (c.on as any)('imchat'), 'E_INVALID_ARGUMENT'],
  ['on bad event', (c) => (c.on as any)(42, () => undefined), 'E_INVALID_ARGUMENT'],
  ['once no callback', (c) => (c.once as any)('imchat', 'x'), 'E_INVALID_ARGUMENT'],
  ['off bad callback', (c) => (c.off as any)('imchat', 'x'), 'E_INVALID_ARGUMENT'],
  ['setLogLevel bad', (c) => (c.setLogLevel as any)('loud'), 'E_INVALID_ARGUMENT'],
  ['setLogger bad', (c) => (c.setLogger as any)({}), 'E_INVALID_ARGUMENT'],
  ['renewToken bad', (c) => (c.renewToken as any)(123), 'E_INVALID_ARGUMENT'],
  // Every public method with a parameter appears above or here (checked by the coverage test below).
  ['getToken userName too long', (c) => c.getToken({ appId: 'a', appSecret: 's', userId: 'u', userName: 'n'.repeat(101) }), 'E_INVALID_ARGUMENT'],
  ['getToken empty appSecret', (c) => c.getToken({ appId: 'a', appSecret: '', userId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['getToken appId with a space', (c) => c.getToken({ appId: 'a b', appSecret: 's', userId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['registerUser no userId', (c) => (c.registerUser as any)({ appId: 'a', appSecret: 's' }), 'E_INVALID_ARGUMENT'],
  ['registerUser userImg not a string', (c) => (c.registerUser as any)({ appId: 'a', appSecret: 's', userId: 'u', userImg: 42 }), 'E_INVALID_ARGUMENT'],
  ['registerUser companyName too long', (c) => c.registerUser({ appId: 'a', appSecret: 's', userId: 'u', companyName: 'c'.repeat(201) }), 'E_INVALID_ARGUMENT'],
  ['registerUser(array)', (c) => (c.registerUser as any)([]), 'E_INVALID_ARGUMENT'],
  ['renewToken not a JWT', (c) => c.renewToken('abc'), 'E_INVALID_ARGUMENT'],
  ['renewToken()', (c) => (c.renewToken as any)(), 'E_INVALID_ARGUMENT'],
  ['connect ftp serverUrl', (c) => c.connect({ serverUrl: 'ftp://127.0.0.1' }), 'E_INVALID_ARGUMENT'],
  ['connect token number', (c) => (c.connect as any)({ token: 42 }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage msgType 1001', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u', msgType: 1001 }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage recipientId too long', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u'.repeat(65) }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage data function', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u', data: (() => 1) as never }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage data number', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u', data: 42 as never }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage data boolean', (c) => c.sendGroupMessage({ content: 'x', groupId: 'g', data: true as never }), 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage data nested 17 levels', (c) => {
    let data: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 16; i++) data = { next: data };
    return c.sendPrivateMessage({ content: 'x', recipientId: 'u', data });
  }, 'E_INVALID_ARGUMENT'],
  ['sendPrivateMessage data bigint', (c) => c.sendPrivateMessage({ content: 'x', recipientId: 'u', data: { n: BigInt(1) } }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage msgType -1', (c) => c.sendGroupMessage({ content: 'x', groupId: 'g', msgType: -1 }), 'E_INVALID_ARGUMENT'],
  ['sendGroupMessage content object', (c) => (c.sendGroupMessage as any)({ content: { text: 'x' }, groupId: 'g' }), 'E_INVALID_ARGUMENT'],
  ['sendReadReceipt id too long', (c) => c.sendReadReceipt('m'.repeat(65)), 'E_INVALID_ARGUMENT'],
  ['sendReadReceipt id number', (c) => (c.sendReadReceipt as any)(42), 'E_INVALID_ARGUMENT'],
  ['getUserInfo bad userId', (c) => c.getUserInfo({ userId: 'a/b' }), 'E_INVALID_ARGUMENT'],
  ['getUserInfo apiServer number', (c) => (c.getUserInfo as any)({ userId: 'u', apiServer: 5 }), 'E_INVALID_ARGUMENT'],
  ['createGroup name too long', (c) => c.createGroup({ name: 'n'.repeat(101) }), 'E_INVALID_ARGUMENT'],
  ['createGroup name blank', (c) => c.createGroup({ name: '   ' }), 'E_INVALID_ARGUMENT'],
  ['createGroup description too long', (c) => c.createGroup({ name: 'g', description: 'd'.repeat(1001) }), 'E_INVALID_ARGUMENT'],
  ['createGroup bad groupId', (c) => c.createGroup({ name: 'g', groupId: 'has space' }), 'E_INVALID_ARGUMENT'],
  ['getGroupList apiServer not a URL', (c) => c.getGroupList({ apiServer: 'localhost' }), 'E_INVALID_ARGUMENT'],
  ['getGroupInfo(null)', (c) => (c.getGroupInfo as any)(null), 'E_INVALID_ARGUMENT'],
  ['getGroupMembers()', (c) => (c.getGroupMembers as any)(), 'E_INVALID_ARGUMENT'],
  ['addGroupMembers 501 ids', (c) => c.addGroupMembers({ groupId: 'g', userIdList: Array.from({ length: 501 }, (_, i) => `u${i}`) }), 'E_INVALID_ARGUMENT'],
  ['addGroupMembers list not array', (c) => (c.addGroupMembers as any)({ groupId: 'g', userIdList: 'u1' }), 'E_INVALID_ARGUMENT'],
  ['removeGroupMember bad groupId', (c) => c.removeGroupMember({ groupId: '', userId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['leaveGroup bad groupId', (c) => c.leaveGroup({ groupId: 'a b' }), 'E_INVALID_ARGUMENT'],
  ['dismissGroup()', (c) => (c.dismissGroup as any)(), 'E_INVALID_ARGUMENT'],
  ['history detailType 1', (c) => c.getGroupHistoryMessages({ groupId: 'g', detailType: 1 }), 'E_INVALID_ARGUMENT'],
  ['history limitSize 1.5', (c) => c.getGroupHistoryMessages({ groupId: 'g', limitSize: 1.5 }), 'E_INVALID_ARGUMENT'],
  ['history no groupId', (c) => (c.getGroupHistoryMessages as any)({ limitSize: 5 }), 'E_INVALID_ARGUMENT'],
  ['private history bad syncType', (c) => (c.getPrivateHistoryMessages as any)({ peerId: 'u', syncType: 'back' }), 'E_INVALID_ARGUMENT'],
  ['private history msgSeqId string', (c) => (c.getPrivateHistoryMessages as any)({ peerId: 'u', msgSeqId: '5' }), 'E_INVALID_ARGUMENT'],
  ['getGroupListPage limit 0', (c) => c.getGroupListPage({ limit: 0 }), 'E_INVALID_ARGUMENT'],
  ['getGroupListPage cursor number', (c) => (c.getGroupListPage as any)({ cursor: 5 }), 'E_INVALID_ARGUMENT'],
  ['getConversationListPage limit 501', (c) => c.getConversationListPage({ limit: 501 }), 'E_INVALID_ARGUMENT'],
  ['getConversationListPage(string)', (c) => (c.getConversationListPage as any)('x'), 'E_INVALID_ARGUMENT'],
  ['getConversationList(string)', (c) => (c.getConversationList as any)('x'), 'E_INVALID_ARGUMENT'],
  ['getConversationList bad apiServer', (c) => c.getConversationList({ apiServer: 'nope' }), 'E_INVALID_ARGUMENT'],
  ['markConversationRead no targetId', (c) => (c.markConversationRead as any)({ chatType: 0 }), 'E_INVALID_ARGUMENT'],
  ['markConversationRead seq -1', (c) => c.markConversationRead({ chatType: 1, targetId: 'g', seq: -1 }), 'E_INVALID_ARGUMENT'],
  ['markConversationRead seq 1.5', (c) => c.markConversationRead({ chatType: 1, targetId: 'g', seq: 1.5 }), 'E_INVALID_ARGUMENT'],
  ['pinConversation pinned a string', (c) => (c.pinConversation as any)({ chatType: 0, targetId: 'u', pinned: 'yes' }), 'E_INVALID_ARGUMENT'],
  ['pinConversation chatType 2', (c) => (c.pinConversation as any)({ chatType: 2, targetId: 'u', pinned: true }), 'E_INVALID_ARGUMENT'],
  ['pinConversation()', (c) => (c.pinConversation as any)(), 'E_INVALID_ARGUMENT'],
  ['muteConversation no muted', (c) => (c.muteConversation as any)({ chatType: 1, targetId: 'g' }), 'E_INVALID_ARGUMENT'],
  ['muteConversation bad targetId', (c) => c.muteConversation({ chatType: 1, targetId: 'a b', muted: true }), 'E_INVALID_ARGUMENT'],
  ['deleteConversation no targetId', (c) => (c.deleteConversation as any)({ chatType: 0 }), 'E_INVALID_ARGUMENT'],
  ['deleteConversation(string)', (c) => (c.deleteConversation as any)('0:u'), 'E_INVALID_ARGUMENT'],
  ['getTotalUnreadCount(string)', (c) => (c.getTotalUnreadCount as any)('x'), 'E_INVALID_ARGUMENT'],
  ['getTotalUnreadCount bad apiServer', (c) => c.getTotalUnreadCount({ apiServer: 'nope' }), 'E_INVALID_ARGUMENT'],
  ['setConversationDraft draft a number', (c) => (c.setConversationDraft as any)({ chatType: 0, targetId: 'u', draft: 5 }), 'E_INVALID_ARGUMENT'],
  ['setConversationDraft draft too long', (c) => c.setConversationDraft({ chatType: 0, targetId: 'u', draft: '好'.repeat(11000) }), 'E_INVALID_ARGUMENT'],
  ['setConversationDraft chatType missing', (c) => (c.setConversationDraft as any)({ targetId: 'u', draft: 'x' }), 'E_INVALID_ARGUMENT'],
  // presence
  ['subscribePresence(null)', (c) => (c.subscribePresence as any)(null), 'E_INVALID_ARGUMENT'],
  ['subscribePresence userIds a string', (c) => (c.subscribePresence as any)({ userIds: 'u1' }), 'E_INVALID_ARGUMENT'],
  ['subscribePresence 501 ids', (c) => c.subscribePresence({ userIds: Array.from({ length: 501 }, (_, i) => `u${i}`) }), 'E_INVALID_ARGUMENT'],
  ['subscribePresence a bad id', (c) => c.subscribePresence({ userIds: ['u1', 'a b'] }), 'E_INVALID_ARGUMENT'],
  ['unsubscribePresence()', (c) => (c.unsubscribePresence as any)(), 'E_INVALID_ARGUMENT'],
  ['unsubscribePresence an id too long', (c) => c.unsubscribePresence({ userIds: ['u'.repeat(65)] }), 'E_INVALID_ARGUMENT'],
  ['getPresence no userIds', (c) => (c.getPresence as any)({}), 'E_INVALID_ARGUMENT'],
  ['getPresence an id number', (c) => (c.getPresence as any)({ userIds: [42] }), 'E_INVALID_ARGUMENT'],
  ['getPresence 501 ids', (c) => c.getPresence({ userIds: Array.from({ length: 501 }, (_, i) => `u${i}`) }), 'E_INVALID_ARGUMENT'],
  // group read receipts
  ['getGroupMessageReadReceipts()', (c) => (c.getGroupMessageReadReceipts as any)(), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadReceipts no groupId', (c) => (c.getGroupMessageReadReceipts as any)({ messageIds: ['m1'] }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadReceipts messageIds empty', (c) => c.getGroupMessageReadReceipts({ groupId: 'g', messageIds: [] }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadReceipts 101 ids', (c) => c.getGroupMessageReadReceipts({ groupId: 'g', messageIds: Array.from({ length: 101 }, (_, i) => `m${i}`) }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadReceipts messageIds a string', (c) => (c.getGroupMessageReadReceipts as any)({ groupId: 'g', messageIds: 'm1' }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadReceipts an id too long', (c) => c.getGroupMessageReadReceipts({ groupId: 'g', messageIds: ['m'.repeat(65)] }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadMembers no filter', (c) => (c.getGroupMessageReadMembers as any)({ groupId: 'g', messageId: 'm1' }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadMembers bad filter', (c) => (c.getGroupMessageReadMembers as any)({ groupId: 'g', messageId: 'm1', filter: 'all' }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadMembers no messageId', (c) => (c.getGroupMessageReadMembers as any)({ groupId: 'g', filter: 'read' }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadMembers bad groupId', (c) => c.getGroupMessageReadMembers({ groupId: 'a b', messageId: 'm1', filter: 'read' }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadMembers limit 501', (c) => c.getGroupMessageReadMembers({ groupId: 'g', messageId: 'm1', filter: 'unread', limit: 501 }), 'E_INVALID_ARGUMENT'],
  ['getGroupMessageReadMembers cursor number', (c) => (c.getGroupMessageReadMembers as any)({ groupId: 'g', messageId: 'm1', filter: 'read', cursor: 5 }), 'E_INVALID_ARGUMENT'],
  // group roles and settings
  ['setGroupMemberRole()', (c) => (c.setGroupMemberRole as any)(), 'E_INVALID_ARGUMENT'],
  ['setGroupMemberRole role owner', (c) => (c.setGroupMemberRole as any)({ groupId: 'g', userId: 'u', role: 'owner' }), 'E_INVALID_ARGUMENT'],
  ['setGroupMemberRole no userId', (c) => (c.setGroupMemberRole as any)({ groupId: 'g', role: 'admin' }), 'E_INVALID_ARGUMENT'],
  ['setGroupMemberRole bad groupId', (c) => c.setGroupMemberRole({ groupId: 'a/b', userId: 'u', role: 'admin' }), 'E_INVALID_ARGUMENT'],
  ['transferGroupOwner no userId', (c) => (c.transferGroupOwner as any)({ groupId: 'g' }), 'E_INVALID_ARGUMENT'],
  ['transferGroupOwner bad userId', (c) => c.transferGroupOwner({ groupId: 'g', userId: 'a b' }), 'E_INVALID_ARGUMENT'],
  ['updateGroupInfo nothing to change', (c) => c.updateGroupInfo({ groupId: 'g' }), 'E_INVALID_ARGUMENT'],
  ['updateGroupInfo blank name', (c) => c.updateGroupInfo({ groupId: 'g', name: '  ' }), 'E_INVALID_ARGUMENT'],
  ['updateGroupInfo announcement too long', (c) => c.updateGroupInfo({ groupId: 'g', announcement: 'a'.repeat(2001) }), 'E_INVALID_ARGUMENT'],
  ['updateGroupInfo avatar a number', (c) => (c.updateGroupInfo as any)({ groupId: 'g', avatar: 5 }), 'E_INVALID_ARGUMENT'],
  ['updateGroupInfo no groupId', (c) => (c.updateGroupInfo as any)({ name: 'x' }), 'E_INVALID_ARGUMENT'],
  ['muteGroupMember no seconds', (c) => (c.muteGroupMember as any)({ groupId: 'g', userId: 'u' }), 'E_INVALID_ARGUMENT'],
  ['muteGroupMember negative', (c) => c.muteGroupMember({ groupId: 'g', userId: 'u', seconds: -1 }), 'E_INVALID_ARGUMENT'],
  ['muteGroupMember over 30 days', (c) => c.muteGroupMember({ groupId: 'g', userId: 'u', seconds: 2_592_001 }), 'E_INVALID_ARGUMENT'],
  ['muteGroupMember 1.5 s', (c) => c.muteGroupMember({ groupId: 'g', userId: 'u', seconds: 1.5 }), 'E_INVALID_ARGUMENT'],
  ['muteAllMembers muted a string', (c) => (c.muteAllMembers as any)({ groupId: 'g', muted: 'yes' }), 'E_INVALID_ARGUMENT'],
  ['muteAllMembers(null)', (c) => (c.muteAllMembers as any)(null), 'E_INVALID_ARGUMENT'],
  ['on empty event', (c) => c.on('' as never, () => undefined), 'E_INVALID_ARGUMENT'],
  ['once no event', (c) => (c.once as any)(undefined, () => undefined), 'E_INVALID_ARGUMENT'],
  ['off event number', (c) => (c.off as any)(42), 'E_INVALID_ARGUMENT'],
  ['setLogLevel()', (c) => (c.setLogLevel as any)(), 'E_INVALID_ARGUMENT'],
  ['setLogger(null)', (c) => (c.setLogger as any)(null), 'E_INVALID_ARGUMENT'],
  ['setLogger partial', (c) => (c.setLogger as any)({ debug() {}, info() {} }), 'E_INVALID_ARGUMENT'],
];

/** Public methods that take no parameters: checked separately (stray arguments are ignored). */
const NO_PARAMETERS = ['disconnect', 'destroy', 'sendHeartbeat', 'getHeartbeatStatus', 'getStatus', 'getCurrentUser', 'getCachedConversationList'];

async function outcome(run: () => unknown): Promise<unknown> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('invalid arguments across the public API', () => {
  it.each(cases)('%s', async (_name, run, code) => {
    const adapter = new MemoryAdapter();
    const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', apiServer: 'http://127.0.0.1:2', adapter, logLevel: 'silent' });
    try {
      await client.connect({ token: FAKE_TOKEN }).catch(() => undefined);
      await flush();
      const sentBefore = adapter.socket.emitted.length;
      const err = await outcome(() => run(client));
      expect(err).toBeInstanceOf(ImError);
      expect((err as ImError).code).toBe(code);
      expect((err as ImError).message.length).toBeGreaterThan(10);
      expect(adapter.requests).toHaveLength(0);
      expect(adapter.socket.emitted.length).toBe(sentBefore);
    } finally {
      client.destroy();
    }
  });

  it('bad constructor options throw ImError', () => {
    for (const opts of [5, { reconnection: 'yes' }, { reconnectionDelay: -1 }, { timeout: NaN }, { serverUrl: 42 }, { logLevel: 'x' }, { tokenProvider: 'x' }, { adapter: {} }]) {
      expect(() => new ImClient(opts as never)).toThrow(ImError);
    }
  });

  it('calls that need a connection, a token or an apiServer say so', async () => {
    const adapter = new MemoryAdapter();
    const bare = new ImClient({ adapter, logLevel: 'silent' });
    await expect(bare.connect()).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' }); // no serverUrl
    await expect(bare.getGroupList()).rejects.toMatchObject({ code: 'E_NO_API_SERVER' });
    const withApi = new ImClient({ adapter, apiServer: 'http://127.0.0.1:2', serverUrl: 'http://127.0.0.1:1', logLevel: 'silent' });
    await expect(withApi.getGroupList()).rejects.toMatchObject({ code: 'E_NO_TOKEN' });
    await expect(withApi.connect()).rejects.toMatchObject({ code: 'E_NO_TOKEN' });
    await expect(withApi.sendGroupMessage({ content: 'x', groupId: 'g' })).rejects.toMatchObject({ code: 'E_NOT_CONNECTED' });
    expect(withApi.sendReadReceipt('m1', 'u1')).toBe(false);
    expect(withApi.sendHeartbeat()).toBe(false);
    bare.destroy();
    withApi.destroy();
  });

  it('platform failures become ImError, never a bare TypeError', async () => {
    const adapter = new MemoryAdapter();
    adapter.respond = () => {
      throw new TypeError('fetch failed');
    };
    const client = new ImClient({ adapter, apiServer: 'http://127.0.0.1:2', logLevel: 'silent' });
    await expect(client.getToken({ appId: 'a', appSecret: 's', userId: 'u' })).rejects.toMatchObject({ code: 'E_NETWORK' });
    adapter.respond = () => ({ status: 502, headers: {}, data: '<html>bad gateway</html>' });
    await expect(client.getToken({ appId: 'a', appSecret: 's', userId: 'u' })).rejects.toMatchObject({ code: 'E_SERVER' });
    client.destroy();
  });
});

describe('coverage of the public API', () => {
  /** The public methods of ImClient as declared in src/client.ts (everything not marked private). */
  const publicMethods = [...readFileSync(path.join(__dirname, '../../src/client.ts'), 'utf8').matchAll(/^ {2}(?:async )?([a-zA-Z]+)(?:<[^>]*>)?\(/gm)]
    .map((m) => m[1]!)
    .filter((name) => name !== 'constructor');

  it('every public method with parameters has bad-input cases in the table above', async () => {
    // Run each case against a client that records which public method it calls.
    const called = new Set<string>();
    for (const [, run] of cases) {
      const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', apiServer: 'http://127.0.0.1:2', adapter: new MemoryAdapter(), logLevel: 'silent' });
      const spy = new Proxy(client, {
        get(target, key, receiver) {
          if (typeof key === 'string' && publicMethods.includes(key)) called.add(key);
          return Reflect.get(target, key, receiver);
        },
      });
      await outcome(() => run(spy));
      client.destroy();
    }
    const withParameters = publicMethods.filter((m) => !NO_PARAMETERS.includes(m));
    expect(withParameters.filter((m) => !called.has(m))).toEqual([]);
    expect(publicMethods.length).toBeGreaterThan(30);
  });

  it('methods without parameters ignore stray arguments, before connect and after destroy', async () => {
    const client = new ImClient({ serverUrl: 'http://127.0.0.1:1', apiServer: 'http://127.0.0.1:2', adapter: new MemoryAdapter(), logLevel: 'silent' });
    const junk = [42, 'x', { apiServer: 5 }, null];
    const any = client as any;
    expect(any.sendHeartbeat(...junk)).toBe(false);
    expect(any.getHeartbeatStatus(...junk)).toBe('inactive');
    expect(any.getStatus(...junk)).toBe('disconnected');
    expect(any.getCurrentUser(...junk)).toBeUndefined();
    await expect(any.getCachedConversationList(...junk)).resolves.toEqual([]);
    expect(() => any.disconnect(...junk)).not.toThrow();
    expect(() => any.destroy(...junk)).not.toThrow();
    expect(() => any.destroy(...junk)).not.toThrow(); // twice is fine
    expect(() => any.disconnect(...junk)).not.toThrow();
    expect(any.sendHeartbeat(...junk)).toBe(false);
    expect(any.getStatus(...junk)).toBe('disconnected');
    await expect(any.getCachedConversationList()).rejects.toMatchObject({ code: 'E_DESTROYED' });
    for (const m of publicMethods.filter((name) => !NO_PARAMETERS.includes(name) && !['off', 'setLogLevel', 'setLogger', 'sendReadReceipt'].includes(name))) {
      // After destroy() everything else says E_DESTROYED (or, for bad input, E_INVALID_ARGUMENT) — never a TypeError.
      const err = await outcome(() => any[m]({}));
      expect({ m, err: err instanceof ImError ? ['E_DESTROYED', 'E_INVALID_ARGUMENT'].includes(err.code) : err }).toEqual({ m, err: true });
    }
  });
});
