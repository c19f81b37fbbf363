import { Type, type Static } from '@sinclair/typebox';
import { CLIENT_MSG_ID_SOURCE, ID_SOURCE, LIMITS } from './protocol';

/** No U+0000: PostgreSQL text cannot hold it (the query would fail as a 500, not a 40000). */
const NO_NUL = '^[^\\u0000]*$';

/** Request schemas, shared by the HTTP routes (fastify) and the socket gateway (ajv). */

const Id = Type.String({ pattern: ID_SOURCE });
const ClientMsgId = Type.String({ pattern: CLIENT_MSG_ID_SOURCE });
const Secret = Type.String({ minLength: 1, maxLength: 200 });
const UserName = Type.String({ maxLength: 100 });
const IdList = Type.Array(Id, { maxItems: 500 });

export const TokenBody = Type.Object({ appId: Id, appSecret: Secret, userId: Id, userName: Type.Optional(UserName) });
export const RegisterBody = Type.Object({
  appId: Id,
  appSecret: Secret,
  userId: Id,
  userName: Type.Optional(UserName),
  userImg: Type.Optional(Type.String({ maxLength: 1000 })),
  companyName: Type.Optional(Type.String({ maxLength: 200 })),
  imRole: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin'), Type.Literal('guest')])),
  valid: Type.Optional(Type.Boolean()),
});
export const CreateGroupBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  userIdList: Type.Optional(IdList),
  groupId: Type.Optional(Id),
});
export const MembersBody = Type.Object({ userIdList: IdList });
export const MarkReadBody = Type.Object({
  chatType: Type.Union([Type.Literal(0), Type.Literal(1)]),
  targetId: Id,
  seq: Type.Optional(Type.Integer({ minimum: 0 })),
});
/** Conversation management: the conversation, and the setting. */
const ConversationTarget = { chatType: Type.Union([Type.Literal(0), Type.Literal(1)]), targetId: Id };
export const ConversationBody = Type.Object(ConversationTarget);
export const PinBody = Type.Object({ ...ConversationTarget, pinned: Type.Boolean() });
export const MuteBody = Type.Object({ ...ConversationTarget, muted: Type.Boolean() });
/** `<chatType>:<targetId>`, as conversations carry it. */
export const ConversationParams = Type.Object({ conversationId: Type.String({ pattern: `^[01]:${ID_SOURCE.slice(1)}` }) });
export const UserParams = Type.Object({ userId: Id });
export const GroupParams = Type.Object({ groupId: Id });
export const GroupMemberParams = Type.Object({ groupId: Id, userId: Id });
/** Group roles and settings (server/src/domain/group-admin.ts checks the rest: rights, text rules). */
export const GroupRoleBody = Type.Object({ role: Type.Union([Type.Literal('admin'), Type.Literal('member')]) });
export const GroupOwnerBody = Type.Object({ userId: Id });
export const GroupInfoBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    announcement: Type.Optional(Type.String({ maxLength: LIMITS.GROUP_ANNOUNCEMENT_CHARS })),
    avatar: Type.Optional(Type.String({ maxLength: LIMITS.GROUP_AVATAR_CHARS })),
  },
  { additionalProperties: false },
);
export const GroupMuteBody = Type.Object({ seconds: Type.Integer({ minimum: 0, maximum: LIMITS.GROUP_MUTE_MAX_SECONDS }) });
export const GroupMuteAllBody = Type.Object({ muted: Type.Boolean() });
export const PeerParams = Type.Object({ peerId: Id });
/** Query strings arrive as text; numbers are checked as digit strings and parsed by the route. */
export const HistoryQuery = Type.Object({
  limitSize: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  msgSeqId: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
  syncType: Type.Optional(Type.Union([Type.Literal('BACK'), Type.Literal('FORWARD')])),
  detailType: Type.Optional(Type.Literal('0')),
});

/** Paged lists: `limit` (1-500) and the `cursor` of the previous page, as text. */
export const ListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400, pattern: NO_NUL })),
});

export const SendPayload = Type.Object({
  clientMsgId: ClientMsgId,
  chatType: Type.Union([Type.Literal(0), Type.Literal(1)]),
  to: Id,
  // No length here: the service checks bytes (41300), and the packet is capped by maxHttpBufferSize.
  content: Type.String(),
  msgType: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  data: Type.Optional(Type.Unknown()),
  /** The messageId of a message of the same conversation. */
  replyTo: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  /** Group messages: members to mention, or 'all'. */
  mentions: Type.Optional(Type.Union([Type.Literal('all'), Type.Array(Id, { maxItems: 100 })])),
});
export const SyncPayload = Type.Object({
  afterInboxSeq: Type.Integer({ minimum: 0 }),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});
export const GroupStatesPayload = Type.Object({
  /** Page on from the last groupId of the previous page. */
  after: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});
export const GroupSyncPayload = Type.Object({
  groupId: Id,
  /** Omitted: from where the caller joined. */
  afterSeq: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
});
export const ReceiptPayload = Type.Object({
  messageId: Type.String({ minLength: 1, maxLength: 64 }),
  status: Type.Union([Type.Literal(1), Type.Literal(2)]),
  to: Type.Optional(Id),
});
export const ReceiptsPayload = Type.Object({
  messageIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 100 }),
  status: Type.Union([Type.Literal(1), Type.Literal(2)]),
});
export const TypingPayload = Type.Object({ to: Id });
const MessageId = Type.String({ minLength: 1, maxLength: 64, pattern: NO_NUL });
export const RevokePayload = Type.Object({ messageId: MessageId });
export const EditPayload = Type.Object({
  messageId: MessageId,
  // Bytes are checked by the service (41300), like a send's.
  content: Type.String(),
  data: Type.Optional(Type.Unknown()),
});
export const SignalPayload = Type.Object({
  chatType: Type.Union([Type.Literal(0), Type.Literal(1)]),
  to: Id,
  // Checked by the service like a message's data (bytes, depth, binary, NUL).
  data: Type.Unknown(),
});
export const RenewPayload = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) });
/** presence:subscribe, presence:unsubscribe and presence:get: the users, of the caller's app. */
export const PresencePayload = Type.Object({ userIds: Type.Array(Id, { maxItems: LIMITS.PRESENCE_IDS }) });

/** Group read receipts: up to 100 messages per call; a page of the members who have read one (or not). */
export const ReadReceiptsBody = Type.Object({ messageIds: Type.Array(MessageId, { minItems: 1, maxItems: LIMITS.READ_RECEIPT_IDS_MAX }) });
export const GroupMessageParams = Type.Object({ groupId: Id, messageId: MessageId });
export const ReadMembersQuery = Type.Object({
  filter: Type.Union([Type.Literal('read'), Type.Literal('unread')]),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400, pattern: NO_NUL })),
});

export type TokenBody = Static<typeof TokenBody>;
export type RegisterBody = Static<typeof RegisterBody>;
export type CreateGroupBody = Static<typeof CreateGroupBody>;
export type MembersBody = Static<typeof MembersBody>;
export type MarkReadBody = Static<typeof MarkReadBody>;
export type ConversationBody = Static<typeof ConversationBody>;
export type PinBody = Static<typeof PinBody>;
export type MuteBody = Static<typeof MuteBody>;
export type ConversationParams = Static<typeof ConversationParams>;
export type GroupRoleBody = Static<typeof GroupRoleBody>;
export type GroupOwnerBody = Static<typeof GroupOwnerBody>;
export type GroupInfoBody = Static<typeof GroupInfoBody>;
export type GroupMuteBody = Static<typeof GroupMuteBody>;
export type GroupMuteAllBody = Static<typeof GroupMuteAllBody>;
export type HistoryQuery = Static<typeof HistoryQuery>;
export type ListQuery = Static<typeof ListQuery>;
export type SendPayload = Static<typeof SendPayload>;
export type SyncPayload = Static<typeof SyncPayload>;
export type ReceiptPayload = Static<typeof ReceiptPayload>;
export type GroupStatesPayload = Static<typeof GroupStatesPayload>;
export type GroupSyncPayload = Static<typeof GroupSyncPayload>;
export type ReceiptsPayload = Static<typeof ReceiptsPayload>;
export type TypingPayload = Static<typeof TypingPayload>;
export type RevokePayload = Static<typeof RevokePayload>;
export type EditPayload = Static<typeof EditPayload>;
export type SignalPayload = Static<typeof SignalPayload>;
export type RenewPayload = Static<typeof RenewPayload>;
export type PresencePayload = Static<typeof PresencePayload>;
export type ReadReceiptsBody = Static<typeof ReadReceiptsBody>;
export type GroupMessageParams = Static<typeof GroupMessageParams>;
export type ReadMembersQuery = Static<typeof ReadMembersQuery>;
