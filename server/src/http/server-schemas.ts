import { Type, type Static } from '@sinclair/typebox';
import { ApiError, Code } from '../errors';
import { CLIENT_MSG_ID_SOURCE, ID_SOURCE, LIMITS } from '../protocol';
import { ADMIN_LIST, IMPORT_MAX, type AdminListQuery } from '../domain/admin';

/** No U+0000: PostgreSQL text cannot hold it (the query would fail as a 500, not a 40000). */
const NO_NUL = '^[^\\u0000]*$';

/** Request schemas of the server REST API (docs/protocol.md section 8); the domain checks the rest. */

const Id = Type.String({ pattern: ID_SOURCE });
const MessageId = Type.String({ minLength: 1, maxLength: 64, pattern: NO_NUL });
const Role = Type.Union([Type.Literal('user'), Type.Literal('admin'), Type.Literal('guest')]);
/** Query strings arrive as text: numbers as digit strings, parsed by the route. */
const Digits = (max: number) => Type.Optional(Type.String({ pattern: `^[0-9]{1,${max}}$` }));

export const ServerListQuery = Type.Object({
  limit: Digits(4),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 400, pattern: NO_NUL })),
});
export const ServerSearchQuery = Type.Object({
  ...ServerListQuery.properties,
  /** A case-insensitive substring of the id or the name; empty: everyone. */
  query: Type.Optional(Type.String({ maxLength: 100, pattern: NO_NUL })),
});
export const ServerHistoryQuery = Type.Object({ beforeSeq: Digits(15), limit: Digits(6) });

export const ServerUserParams = Type.Object({ userId: Id });
export const ServerGroupParams = Type.Object({ groupId: Id });
export const ServerPairParams = Type.Object({ userA: Id, userB: Id });
export const ServerMessageParams = Type.Object({ messageId: MessageId });

export const ImportBody = Type.Object(
  {
    users: Type.Array(
      Type.Object(
        {
          userId: Id,
          userName: Type.Optional(Type.String({ maxLength: 100 })),
          userImg: Type.Optional(Type.String({ maxLength: 1000 })),
          companyName: Type.Optional(Type.String({ maxLength: 200 })),
          imRole: Type.Optional(Role),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: IMPORT_MAX },
    ),
  },
  { additionalProperties: false },
);
/** Room for IMPORT_MAX users with every field at its longest (fastify's default is 256 KB). */
export const IMPORT_BODY_LIMIT = 2 * 1024 * 1024;

export const AdminSendBody = Type.Object(
  {
    from: Type.Optional(Id),
    chatType: Type.Union([Type.Literal(0), Type.Literal(1)]),
    to: Id,
    msgType: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    // Bytes and text rules are the send's own (41300, 40000), checked by the service.
    content: Type.String(),
    data: Type.Optional(Type.Unknown()),
    clientMsgId: Type.Optional(Type.String({ pattern: CLIENT_MSG_ID_SOURCE })),
  },
  { additionalProperties: false },
);

export type ServerListQuery = Static<typeof ServerListQuery>;
export type ServerSearchQuery = Static<typeof ServerSearchQuery>;
export type ServerHistoryQuery = Static<typeof ServerHistoryQuery>;
export type ImportBody = Static<typeof ImportBody>;
export type AdminSendBody = Static<typeof AdminSendBody>;

/** `limit` (1-200, default 50), `cursor` and, for searches, `query` (empty: no filter). */
export function listQuery(q: ServerListQuery & { query?: string }): AdminListQuery {
  const limit = q.limit === undefined ? ADMIN_LIST.DEFAULT : Number(q.limit);
  if (limit < 1 || limit > ADMIN_LIST.MAX) throw new ApiError(Code.INVALID_ARGUMENT, `limit must be an integer from 1 to ${ADMIN_LIST.MAX}`);
  return { limit, cursor: q.cursor, query: q.query === undefined || q.query === '' ? undefined : q.query };
}

/** `beforeSeq` (default: the newest) and `limit` (1-100, default 20; larger values are capped). */
export function historyQuery(q: ServerHistoryQuery): { beforeSeq?: number; limit?: number } {
  const limit = q.limit === undefined ? undefined : Number(q.limit);
  if (limit !== undefined && limit < 1) throw new ApiError(Code.INVALID_ARGUMENT, `limit must be an integer from 1 to ${LIMITS.HISTORY_MAX} (larger values are capped at ${LIMITS.HISTORY_MAX})`);
  return { beforeSeq: q.beforeSeq === undefined ? undefined : Number(q.beforeSeq), limit };
}
